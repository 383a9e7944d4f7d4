//! Requests the SDK does not make on its own: SigV2 (header form), virtual-hosted-style addressing,
//! `PUT /bucket/` (s3cmd) and `?x-id=` (JS SDK v3). The SigV2 query form, bodies sent with
//! `Transfer-Encoding: chunked` or `Expect: 100-continue`, and `--domain` are tested with the
//! Python clients (tests/clients/test_auth.py).

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;
use crate::sdk_errors::assert_xml_error;

fn sigv2(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn sigv2_authorization_header() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "sigv2h").await;
    let ep = server.endpoint();
    let date = httpdate::fmt_http_date(SystemTime::now());

    // PUT with Content-Type and an x-amz-meta header (canonicalized amz headers).
    let path = format!("/{b}/hdr.txt");
    let sts = format!("PUT\n\ntext/plain\n{date}\nx-amz-meta-origin:sigv2\n{path}");
    let resp = http()
        .put(format!("{ep}{path}"))
        .header("Date", &date)
        .header("Content-Type", "text/plain")
        .header("x-amz-meta-origin", "sigv2")
        .header("Authorization", format!("AWS test:{}", sigv2("test", &sts)))
        .body("v2 header body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    let head = s3
        .head_object()
        .bucket(&b)
        .key("hdr.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(head.metadata(), Some(&meta(&[("origin", "sigv2")])));

    // ListBuckets.
    let sts = format!("GET\n\n\n{date}\n/");
    let resp = http()
        .get(format!("{ep}/"))
        .header("Date", &date)
        .header("Authorization", format!("AWS test:{}", sigv2("test", &sts)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains(&format!("<Name>{b}</Name>"))
    );

    // Wrong secret.
    let resp = http()
        .get(format!("{ep}/"))
        .header("Date", &date)
        .header("Authorization", format!("AWS test:{}", sigv2("nope", &sts)))
        .send()
        .await
        .unwrap();
    assert_xml_error(resp, 403, "SignatureDoesNotMatch").await;

    // s3cmd creates buckets with a trailing slash; the JS SDK adds ?x-id=... (not a
    // sub-resource, so not part of the SigV2 string to sign).
    let nb = bucket_name("s3cmd-style");
    let sts = format!("PUT\n\n\n{date}\n/{nb}/");
    let resp = http()
        .put(format!("{ep}/{nb}/"))
        .header("Date", &date)
        .header("Authorization", format!("AWS test:{}", sigv2("test", &sts)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    s3.head_bucket().bucket(&nb).send().await.unwrap();

    let path = format!("/{nb}/js-sdk.txt");
    let sts = format!("PUT\n\n\n{date}\n{path}");
    let resp = http()
        .put(format!("{ep}{path}?x-id=PutObject"))
        .header("Date", &date)
        .header("Authorization", format!("AWS test:{}", sigv2("test", &sts)))
        .body("from js")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    assert_eq!(get_bytes(&s3, &nb, "js-sdk.txt").await, b"from js");
}

/// Sends raw bytes to the server and returns (status line, headers+body text) of the final
/// response. The request must carry `Connection: close`.
async fn raw_exchange(addr: &str, head: &str, body_parts: &[&[u8]], expect_100: bool) -> String {
    let mut sock = TcpStream::connect(addr).await.unwrap();
    sock.write_all(head.as_bytes()).await.unwrap();
    if expect_100 {
        // Wait for the interim response before sending the body, as curl and botocore do.
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        let interim = tokio::time::timeout(Duration::from_secs(20), async {
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed before 100 Continue");
                buf.extend_from_slice(&chunk[..n]);
            }
        })
        .await;
        assert!(interim.is_ok(), "no 100 Continue within 20 s");
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.starts_with("HTTP/1.1 100"),
            "expected 100 Continue, got {text:?}"
        );
    }
    for part in body_parts {
        sock.write_all(part).await.unwrap();
    }
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), sock.read_to_end(&mut out))
        .await
        .expect("response within 60 s")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(resp: &str) -> u16 {
    resp.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

async fn presigned_put_path(s3: &aws_sdk_s3::Client, b: &str, key: &str) -> String {
    let req = s3
        .put_object()
        .bucket(b)
        .key(key)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri = req.uri();
    let after_scheme = uri.split_once("://").unwrap().1;
    after_scheme[after_scheme.find('/').unwrap()..].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn virtual_hosted_style_addressing() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "vhost").await;
    put(&s3, &b, "dir/obj.txt", "virtual").await;

    // Sign for http://BUCKET.localhost:PORT/..., then connect to 127.0.0.1 with that Host header
    // (so the test needs no resolver support for *.localhost).
    let port = server.port();
    let vh = client_with(
        &format!("http://localhost:{port}"),
        "test",
        "test",
        "us-east-1",
        false,
    );
    let host = format!("{b}.localhost:{port}");
    let cfg = || PresigningConfig::expires_in(Duration::from_secs(300)).unwrap();

    let req = vh
        .get_object()
        .bucket(&b)
        .key("dir/obj.txt")
        .presigned(cfg())
        .await
        .unwrap();
    assert!(
        req.uri()
            .starts_with(&format!("http://{host}/dir/obj.txt?")),
        "{}",
        req.uri()
    );
    let url = req.uri().replacen(&host, server.addr(), 1);
    let resp = http().get(&url).header("Host", &host).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.unwrap(), "virtual");

    let req = vh
        .put_object()
        .bucket(&b)
        .key("vh-put.txt")
        .presigned(cfg())
        .await
        .unwrap();
    let url = req.uri().replacen(&host, server.addr(), 1);
    let resp = http()
        .put(&url)
        .header("Host", &host)
        .body("put via vhost")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(get_bytes(&s3, &b, "vh-put.txt").await, b"put via vhost");

    // A bucket-level operation (ListObjects at "/") in virtual-hosted style, SigV2-signed: the
    // resource is "/BUCKET/".
    let date = httpdate::fmt_http_date(SystemTime::now());
    let sig = sigv2("test", &format!("GET\n\n\n{date}\n/{b}/"));
    let resp = http()
        .get(format!("{}/", server.endpoint()))
        .header("Host", &host)
        .header("Date", &date)
        .header("Authorization", format!("AWS test:{sig}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("<Key>dir/obj.txt</Key>"), "{text}");
    assert!(text.contains("<Key>vh-put.txt</Key>"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_during_upload_keeps_old_object_and_leaves_no_orphans() {
    let mut server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "crash").await;
    let old = pattern(256 * 1024, 1);
    put(&s3, &b, "k", old.clone()).await;
    let data_dir = server.data_dir().unwrap().to_path_buf();
    let before = files_under(&data_dir);

    // Start replacing it with 8 MiB, send 4 MiB, then SIGKILL the server mid-body.
    let path = presigned_put_path(&s3, &b, "k").await;
    let total = 8 * 1024 * 1024;
    let mut sock = TcpStream::connect(server.addr()).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {total}\r\n\r\n",
        server.addr()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    // write_all returns once the kernel took the bytes: most of them are already read by the
    // server (socket buffers are far smaller than 4 MiB).
    sock.write_all(&pattern(total / 2, 2)).await.unwrap();
    server.crash_and_restart();
    drop(sock);

    let s3 = server.client();
    let got = s3.get_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(got.content_length(), Some(old.len() as i64));
    assert!(
        got.body.collect().await.unwrap().into_bytes() == old,
        "old object intact"
    );
    let after = files_under(&data_dir);
    let new: Vec<_> = after.difference(&before).collect();
    assert!(
        new.is_empty(),
        "files left behind by the interrupted upload: {new:?}"
    );
}

/// RFC 9112 §6.1/§6.3: a request with both `Content-Length` and `Transfer-Encoding` may be a
/// smuggling attempt (a proxy and the server disagreeing on where the body ends); a server that
/// may sit behind a proxy treats it as an error and closes the connection. hyper used to hand it
/// over as a plain chunked request (stripping `Content-Length`), so a validly signed PUT stored an
/// object. Now: S3's 400 `BadRequest`, `Connection: close`, the connection closed by the server
/// (a request smuggled behind the body gets no answer), and nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn content_length_with_transfer_encoding_is_refused() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "smuggle").await;
    let host = server.addr();
    for (i, fields) in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n",
    ]
    .iter()
    .enumerate()
    {
        let key = format!("k{i}");
        let path = presigned_put_path(&s3, &b, &key).await;
        let head = format!("PUT {path} HTTP/1.1\r\nHost: {host}\r\n{fields}\r\n");
        let smuggled =
            format!("5\r\nhello\r\n0\r\n\r\nGET /{b}/{key} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        // No `Connection: close` from the client: the server must close by itself.
        let resp = raw_exchange(host, &head, &[smuggled.as_bytes()], false).await;
        assert_eq!(status_of(&resp), 400, "{resp}");
        assert!(resp.contains("<Code>BadRequest</Code>"), "{resp}");
        assert!(
            resp.contains("<Message>An error occurred when parsing the HTTP request.</Message>"),
            "{resp}"
        );
        assert!(
            resp.to_ascii_lowercase()
                .contains("\r\nconnection: close\r\n"),
            "{resp}"
        );
        assert_eq!(
            resp.matches("HTTP/1.1 ").count(),
            1,
            "one answer only: {resp}"
        );
        let err = s3
            .head_object()
            .bucket(&b)
            .key(&key)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    }
    let listed = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "nothing stored");
}
