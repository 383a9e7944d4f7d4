//! XML bodies over their cap and header sections over 8 KiB.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn xml_bodies_are_capped() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let addr = server.addr().to_string();

    // CreateBucket's configuration: over 1 MiB announced is refused before it is read. (The SDK
    // cannot presign CreateBucket: the raw requests are signed with SigV2's header form.)
    let cb_path = "/xmlcap".to_string();
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let auth = format!(
        "Authorization: AWS test:{}\r\nDate: {date}\r\n",
        sigv2("test", &format!("PUT\n\n\n{date}\n{cb_path}"))
    );
    let mut sock = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT {cb_path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        2 * 1024 * 1024
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let resp = read_to_close(&mut sock, Duration::from_secs(20)).await;
    assert_raw_error(&resp, 400, "MaxMessageLengthExceeded");
    assert!(!resp.contains("100 Continue"), "{resp}");

    // Without a length (Transfer-Encoding: chunked) it is cut off once past the cap.
    let mut sock = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "PUT {cb_path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    let piece = vec![b' '; 64 * 1024];
    let mut sent = 0usize;
    // Up to 4 MiB; the server answers (and stops reading) once past 1 MiB.
    while sent < 4 * 1024 * 1024 {
        let frame = [format!("{:x}\r\n", piece.len()).as_bytes(), &piece, b"\r\n"].concat();
        if sock.write_all(&frame).await.is_err() {
            break;
        }
        sent += piece.len();
    }
    let _ = sock.write_all(b"0\r\n\r\n").await;
    let resp = read_to_close(&mut sock, Duration::from_secs(20)).await;
    assert_raw_error(&resp, 400, "MaxMessageLengthExceeded");
    assert_status(s3.head_bucket().bucket("xmlcap").send().await, 404);

    // CompleteMultipartUpload naming 10,000 parts (with checksums) still fits: the parts are
    // unknown, so S3's answer is InvalidPart, not a size error.
    let b = new_bucket(&s3, "xmlcap-mpu").await;
    let upload = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap();
    let parts: Vec<CompletedPart> = (1..=10_000)
        .map(|n| {
            CompletedPart::builder()
                .part_number(n)
                .e_tag(format!("\"{:032x}\"", n))
                .build()
        })
        .collect();
    assert_err(
        s3.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(upload.upload_id().unwrap())
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await,
        "InvalidPart",
        400,
    );

    // DeleteObjects: 1,000 keys of 1,005 bytes, each escaped to about 5 KB of XML (over the
    // 1 MiB of other documents), are fine; 1,001 keys are MalformedXML.
    let ids = |n: usize| -> Delete {
        let objects = (0..n)
            .map(|i| {
                ObjectIdentifier::builder()
                    .key(format!("{i:04}-{}", "&".repeat(1000)))
                    .build()
                    .unwrap()
            })
            .collect();
        Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .unwrap()
    };
    s3.delete_objects()
        .bucket(&b)
        .delete(ids(1000))
        .send()
        .await
        .unwrap();
    assert_err(
        s3.delete_objects()
            .bucket(&b)
            .delete(ids(1001))
            .send()
            .await,
        "MalformedXML",
        400,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn header_sections_over_8_kib_are_refused() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "headers").await;
    put(&s3, &b, "k", "body").await;
    let path = presigned_get(&s3, &b, "k").await;
    let addr = server.addr().to_string();
    let get_with = |filler: usize| {
        let path = path.clone();
        let addr = addr.clone();
        async move {
            let mut sock = TcpStream::connect(&addr).await.unwrap();
            let head = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Filler: {}\r\nConnection: close\r\n\r\n",
                "f".repeat(filler)
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            read_to_close(&mut sock, Duration::from_secs(20)).await
        }
    };
    // Well under 8 KiB in all: served.
    let ok = get_with(4096).await;
    assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
    assert!(ok.ends_with("body"), "{ok}");
    // Over 8 KiB: S3's error, from sealstore.
    let resp = get_with(8192).await;
    assert_raw_error(&resp, 400, "RequestHeaderSectionTooLarge");
    // More than 100 header lines (hyper's limit), though under 8 KiB: hyper answers a bare 431.
    let mut sock = TcpStream::connect(&addr).await.unwrap();
    let many: String = (0..120).map(|i| format!("X-H{i}: v\r\n")).collect();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{many}Connection: close\r\n\r\n");
    sock.write_all(head.as_bytes()).await.unwrap();
    let resp = read_to_close(&mut sock, Duration::from_secs(20)).await;
    assert!(resp.starts_with("HTTP/1.1 431 "), "{resp}");
    // The server is fine afterwards.
    assert_eq!(get_bytes(&s3, &b, "k").await, b"body");
}
