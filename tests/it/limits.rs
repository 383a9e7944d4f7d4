//! S3's size limits (keys, metadata, bodies, XML documents, header sections, bucket count) and
//! clients that are slow, stall or give up: each limit is refused with S3's code and status before
//! anything is stored, and a misbehaving client never leaves an object or a blob file behind.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

const GIB: u64 = 1024 * 1024 * 1024;

/// SigV2's header signature (raw requests the SDK cannot presign).
fn sigv2(secret: &str, string_to_sign: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The path and query of a presigned request (the SDK signs it; any body may follow).
fn path_of(uri: &str) -> String {
    let after_scheme = uri.split_once("://").unwrap().1;
    after_scheme[after_scheme.find('/').unwrap()..].to_string()
}

fn presign_cfg() -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(300)).unwrap()
}

async fn presigned_put(s3: &aws_sdk_s3::Client, b: &str, key: &str) -> String {
    let req = s3
        .put_object()
        .bucket(b)
        .key(key)
        .presigned(presign_cfg())
        .await
        .unwrap();
    path_of(req.uri())
}

async fn presigned_get(s3: &aws_sdk_s3::Client, b: &str, key: &str) -> String {
    let req = s3
        .get_object()
        .bucket(b)
        .key(key)
        .presigned(presign_cfg())
        .await
        .unwrap();
    path_of(req.uri())
}

/// Reads whatever the server sends until it closes the connection (or `limit` passes: then
/// the test fails, the server kept a connection it should have closed).
async fn read_to_close(sock: &mut TcpStream, limit: Duration) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    let done = tokio::time::timeout(limit, async {
        loop {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        done.is_ok(),
        "connection still open after {limit:?}; got so far: {}",
        String::from_utf8_lossy(&out)
    );
    String::from_utf8_lossy(&out).into_owned()
}

/// Asserts a raw response is `status` with the S3 error `code`.
#[track_caller]
fn assert_raw_error(resp: &str, status: u16, code: &str) {
    let status_line = resp.lines().next().unwrap_or("");
    assert!(
        status_line.starts_with(&format!("HTTP/1.1 {status} ")),
        "expected {status}, got: {resp}"
    );
    let body = &resp[resp.find("\r\n\r\n").map_or(0, |i| i + 4)..];
    assert_eq!(
        xml_field(body, "Code").as_deref(),
        Some(code),
        "response: {resp}"
    );
}

/// Blob files under a data dir (everything but the metadata database).
fn blob_files(data_dir: &Path) -> usize {
    let blobs = data_dir.join("blobs");
    if !blobs.exists() {
        return 0;
    }
    files_under(&blobs).len()
}

/// Waits (up to 10 s) for the blob count to come back to `want`: a failed upload's file is
/// removed when its request ends, which may be just after the response.
async fn assert_blob_count(data_dir: &Path, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n = blob_files(data_dir);
        if n == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} blob files, expected {want}: {:?}",
            files_under(&data_dir.join("blobs"))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_over_1024_bytes_are_refused_by_every_key_operation() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "keylen").await;
    put(&s3, &b, "src", "source").await;
    // 1024 bytes of UTF-8 (512 two-byte characters) is the longest key; one more byte is too long.
    let longest = "é".repeat(512);
    let too_long = format!("{longest}x");
    put(&s3, &b, &longest, "fits").await;
    assert_eq!(get_bytes(&s3, &b, &longest).await, b"fits");

    assert_err(
        s3.put_object()
            .bucket(&b)
            .key(&too_long)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key(&too_long)
            .copy_source(format!("{b}/src"))
            .send()
            .await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.create_multipart_upload()
            .bucket(&b)
            .key(&too_long)
            .send()
            .await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.upload_part()
            .bucket(&b)
            .key(&too_long)
            .upload_id("whatever")
            .part_number(1)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.complete_multipart_upload()
            .bucket(&b)
            .key(&too_long)
            .upload_id("whatever")
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(
                        CompletedPart::builder()
                            .part_number(1)
                            .e_tag("\"e\"")
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.get_object().bucket(&b).key(&too_long).send().await,
        "KeyTooLongError",
        400,
    );
    assert_err(
        s3.delete_object().bucket(&b).key(&too_long).send().await,
        "KeyTooLongError",
        400,
    );
    let listed = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(
        listed.key_count(),
        Some(2),
        "only src and the 1024-byte key"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn user_metadata_over_2_kib_is_refused() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "metalen").await;
    put(&s3, &b, "src", "source").await;
    // Name "k" (without x-amz-meta-) plus its value: 2048 bytes fit, 2049 do not.
    let fits = meta(&[("k", &"v".repeat(2047))]);
    let over = meta(&[("k", &"v".repeat(1000)), ("other", &"w".repeat(1044))]);

    s3.put_object()
        .bucket(&b)
        .key("fits")
        .set_metadata(Some(fits.clone()))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    assert_err(
        s3.put_object()
            .bucket(&b)
            .key("over")
            .set_metadata(Some(over.clone()))
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        "MetadataTooLarge",
        400,
    );
    assert_status(s3.head_object().bucket(&b).key("over").send().await, 404);

    // CopyObject: REPLACE sets the request's metadata (checked); COPY keeps the source's.
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("copy")
            .copy_source(format!("{b}/src"))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .set_metadata(Some(over.clone()))
            .send()
            .await,
        "MetadataTooLarge",
        400,
    );
    assert_status(s3.head_object().bucket(&b).key("copy").send().await, 404);
    s3.copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/fits"))
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("copy")
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata(), Some(&fits));

    assert_err(
        s3.create_multipart_upload()
            .bucket(&b)
            .key("mpu")
            .set_metadata(Some(over))
            .send()
            .await,
        "MetadataTooLarge",
        400,
    );
    let uploads = s3.list_multipart_uploads().bucket(&b).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "no upload was created");
    s3.create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .set_metadata(Some(fits))
        .send()
        .await
        .unwrap();
}

/// Sends only a head with `Expect: 100-continue` and reads the answer: a body over 5 GiB is
/// refused from its headers, without a `100 Continue` and without reading a byte of it.
async fn refused_from_headers(addr: &str, path: &str, extra: &str, length: u64) -> String {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {length}\r\n{extra}Expect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    read_to_close(&mut sock, Duration::from_secs(20)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_5_gib_are_refused_before_reading() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "toolarge").await;
    let data_dir = server.data_dir().unwrap().to_path_buf();
    let blobs_before = blob_files(&data_dir);

    let path = presigned_put(&s3, &b, "big").await;
    let resp = refused_from_headers(server.addr(), &path, "", 5 * GIB + 1).await;
    assert_raw_error(&resp, 400, "EntityTooLarge");
    assert!(!resp.contains("100 Continue"), "{resp}");
    assert_eq!(
        xml_field(&resp, "ProposedSize").as_deref(),
        Some("5368709121")
    );
    // aws-chunked: the payload length is x-amz-decoded-content-length, not the framed length.
    // Like every x-amz-* header it must be signed (issue 18), so this URL signs it.
    let decoded = (6 * GIB).to_string();
    let target = format!("{}/{b}/big", server.endpoint());
    let mut hand = crate::raw_auth::hand::Hand::new("PUT", &target);
    hand.signed = vec!["host", "x-amz-decoded-content-length"];
    hand.extra = vec![("x-amz-decoded-content-length", &decoded)];
    let signed_path = hand.presign(300)[server.endpoint().len()..].to_string();
    let resp = refused_from_headers(
        server.addr(),
        &signed_path,
        &format!("x-amz-decoded-content-length: {decoded}\r\n"),
        1024,
    )
    .await;
    assert_raw_error(&resp, 400, "EntityTooLarge");
    assert_status(s3.head_object().bucket(&b).key("big").send().await, 404);

    let upload = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .send()
        .await
        .unwrap();
    let req = s3
        .upload_part()
        .bucket(&b)
        .key("mpu")
        .upload_id(upload.upload_id().unwrap())
        .part_number(1)
        .presigned(presign_cfg())
        .await
        .unwrap();
    let resp = refused_from_headers(server.addr(), &path_of(req.uri()), "", 5 * GIB + 1).await;
    assert_raw_error(&resp, 400, "EntityTooLarge");
    let parts = s3
        .list_parts()
        .bucket(&b)
        .key("mpu")
        .upload_id(upload.upload_id().unwrap())
        .send()
        .await
        .unwrap();
    assert!(parts.parts().is_empty());
    assert_blob_count(&data_dir, blobs_before).await;
}

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

#[tokio::test(flavor = "multi_thread")]
async fn bucket_count_is_limited_per_account() {
    let server = Server::start_with(Options::default().memory().args(&[
        "--max-buckets",
        "2",
        "--user",
        ALICE_USER_ARG,
    ]));
    let s3 = server.client();
    let one = new_bucket(&s3, "quota1").await;
    new_bucket(&s3, "quota2").await;
    let third = bucket_name("quota3");
    assert_err(
        s3.create_bucket().bucket(&third).send().await,
        "TooManyBuckets",
        400,
    );
    assert_eq!(s3.list_buckets().send().await.unwrap().buckets().len(), 2);
    // Re-creating an owned bucket is not a new bucket: us-east-1's legacy 200 still applies.
    s3.create_bucket().bucket(&one).send().await.unwrap();
    // The quota is per account.
    new_bucket(&server.alice(), "quota-alice").await;
    // A deleted bucket frees its place.
    s3.delete_bucket().bucket(&one).send().await.unwrap();
    s3.create_bucket().bucket(&third).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_header_sections_are_cut_off() {
    let server = Server::start_memory(&["--header-timeout", "1"]);
    let mut sock = TcpStream::connect(server.addr()).await.unwrap();
    sock.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // No more headers: hyper closes the connection after --header-timeout, without an answer.
    let resp = read_to_close(&mut sock, Duration::from_secs(15)).await;
    assert!(
        resp.is_empty() || resp.starts_with("HTTP/1.1 408"),
        "{resp}"
    );
    let s3 = server.client();
    s3.list_buckets().send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn stalled_and_truncated_bodies_store_nothing() {
    let server = Server::start(&["--body-timeout", "1"]);
    let s3 = server.client();
    let b = new_bucket(&s3, "stall").await;
    let data_dir = server.data_dir().unwrap().to_path_buf();
    let before = blob_files(&data_dir);
    let total = 4 * 1024 * 1024;

    // Half the body, then nothing: RequestTimeout after the idle timeout, connection closed.
    let path = presigned_put(&s3, &b, "stalled").await;
    let mut sock = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {total}\r\n\r\n",
        server.addr()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&pattern(total / 2, 1)).await.unwrap();
    let resp = read_to_close(&mut sock, Duration::from_secs(20)).await;
    assert_raw_error(&resp, 400, "RequestTimeout");
    assert!(
        resp.to_ascii_lowercase().contains("connection: close"),
        "{resp}"
    );
    assert_status(s3.head_object().bucket(&b).key("stalled").send().await, 404);
    assert_blob_count(&data_dir, before).await;

    // Half the body, then the client goes away: no object, no file.
    let path = presigned_put(&s3, &b, "truncated").await;
    let mut sock = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {total}\r\n\r\n",
        server.addr()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&pattern(total / 2, 2)).await.unwrap();
    drop(sock);
    assert_blob_count(&data_dir, before).await;
    assert_status(
        s3.head_object().bucket(&b).key("truncated").send().await,
        404,
    );

    // An upload part stalled the same way leaves no part.
    let upload = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap();
    let req = s3
        .upload_part()
        .bucket(&b)
        .key("mpu")
        .upload_id(id)
        .part_number(1)
        .presigned(presign_cfg())
        .await
        .unwrap();
    let mut sock = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "PUT {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {total}\r\n\r\n",
        path_of(req.uri()),
        server.addr()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&pattern(1024, 3)).await.unwrap();
    let resp = read_to_close(&mut sock, Duration::from_secs(20)).await;
    assert_raw_error(&resp, 400, "RequestTimeout");
    let parts = s3
        .list_parts()
        .bucket(&b)
        .key("mpu")
        .upload_id(id)
        .send()
        .await
        .unwrap();
    assert!(parts.parts().is_empty());
    assert_blob_count(&data_dir, before).await;

    // The server still stores whole bodies.
    put(&s3, &b, "whole", pattern(1024, 4)).await;
    assert_eq!(get_bytes(&s3, &b, "whole").await, pattern(1024, 4));
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/PID/status")
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_idle_connections_do_not_starve_the_server() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "idle").await;
    put(&s3, &b, "k", "still here").await;
    let rss_before = vm_rss_kib(server.pid());

    let mut idle = Vec::with_capacity(1000);
    for i in 0..1000 {
        let mut sock = TcpStream::connect(server.addr()).await.unwrap();
        if i % 2 == 1 {
            // Half a header section, never finished.
            sock.write_all(b"PUT /idle/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
                .await
                .unwrap();
        }
        idle.push(sock);
    }
    // Every connection was accepted (the server holds a descriptor for each).
    let deadline = Instant::now() + Duration::from_secs(20);
    while open_fds(server.pid()) < 1000 {
        assert!(
            Instant::now() < deadline,
            "the server did not accept them all"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get_bytes(&s3, &b, "k").await, b"still here");
    put(&s3, &b, "k2", pattern(256 * 1024, 5)).await;
    let rss_during = vm_rss_kib(server.pid());
    assert!(
        rss_during < rss_before + 64 * 1024,
        "RSS grew from {rss_before} KiB to {rss_during} KiB with 1000 idle connections"
    );

    drop(idle);
    let deadline = Instant::now() + Duration::from_secs(20);
    while open_fds(server.pid()) > 200 {
        assert!(
            Instant::now() < deadline,
            "closed connections were not released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(get_bytes(&s3, &b, "k2").await, pattern(256 * 1024, 5));
}
