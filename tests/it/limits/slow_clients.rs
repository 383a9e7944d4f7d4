//! Clients that are slow, stall or give up, and a thousand idle connections.

use super::*;

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
