//! Authentication and the error model through aws-sdk-s3 and presigned URLs (SDK `presigned()` +
//! reqwest): wrong secret, unknown key, expiry, tampering, anonymous access, request ids, the
//! XML error shape.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};

use crate::common::*;

fn presign_for(secs: u64) -> PresigningConfig {
    PresigningConfig::expires_in(Duration::from_secs(secs)).unwrap()
}

async fn send_presigned(req: &PresignedRequest, body: Option<Vec<u8>>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(req.method().as_bytes()).unwrap();
    let mut rb = http().request(method, req.uri());
    for (k, v) in req.headers() {
        rb = rb.header(k, v);
    }
    if let Some(b) = body {
        rb = rb.body(b);
    }
    rb.send().await.expect("send presigned request")
}

/// Asserts an S3 XML error response: status, code, and that the body's RequestId equals the
/// `x-amz-request-id` header. Returns the body.
pub async fn assert_xml_error(resp: reqwest::Response, status: u16, code: &str) -> String {
    let got_status = resp.status().as_u16();
    let req_id = resp
        .headers()
        .get("x-amz-request-id")
        .map(|v| v.to_str().unwrap().to_string());
    let id2 = resp.headers().get("x-amz-id-2").is_some();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.text().await.unwrap();
    assert_eq!(
        (got_status, xml_field(&body, "Code").as_deref()),
        (status, Some(code)),
        "body: {body}"
    );
    assert!(
        body.contains("<Error>"),
        "root <Error> without namespace: {body}"
    );
    assert!(xml_field(&body, "Message").is_some(), "Message: {body}");
    let req_id = req_id.expect("x-amz-request-id on an error response");
    assert!(id2, "x-amz-id-2 on an error response");
    assert_eq!(xml_field(&body, "RequestId"), Some(req_id), "body: {body}");
    assert!(
        ctype.as_deref().is_some_and(|c| c.contains("xml")),
        "content-type {ctype:?}"
    );
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secret_is_signature_does_not_match() {
    let server = Server::start(&[]);
    let bad = server.client_for("test", "not-the-secret");
    assert_err(
        bad.list_buckets().send().await,
        "SignatureDoesNotMatch",
        403,
    );
    let b = new_bucket(&server.client(), "sigs").await;
    assert_err(
        bad.put_object()
            .bucket(&b)
            .key("k")
            .body(b"x".to_vec().into())
            .send()
            .await,
        "SignatureDoesNotMatch",
        403,
    );
    assert_err(
        bad.get_object().bucket(&b).key("k").send().await,
        "SignatureDoesNotMatch",
        403,
    );
    assert_status(bad.head_bucket().bucket(&b).send().await, 403);
    // Nothing was written.
    assert_status(
        server
            .client()
            .head_object()
            .bucket(&b)
            .key("k")
            .send()
            .await,
        404,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_access_key_is_invalid_access_key_id() {
    let server = Server::start(&[]);
    let unknown = server.client_for("NOSUCHKEY", "whatever");
    assert_err(
        unknown.list_buckets().send().await,
        "InvalidAccessKeyId",
        403,
    );
    assert_err(
        unknown.create_bucket().bucket("by-nobody").send().await,
        "InvalidAccessKeyId",
        403,
    );
    let listed = server.client().list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_credentials_and_extra_users() {
    let server = Server::start(&[
        "--access-key",
        "ADMINKEY",
        "--secret-key",
        "adminsecret",
        "--user",
        "bob:bobsecret",
    ]);
    // The default test/test is replaced.
    assert_err(
        server.client().list_buckets().send().await,
        "InvalidAccessKeyId",
        403,
    );
    let admin = server.client_for("ADMINKEY", "adminsecret");
    let b = new_bucket(&admin, "admin").await;
    put(&admin, &b, "k", "admin's").await;
    let bob = server.client_for("bob", "bobsecret");
    let hb = new_bucket(&bob, "bob").await;
    put(&bob, &hb, "k", "bob's").await;
    assert_eq!(get_bytes(&bob, &hb, "k").await, b"bob's");
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_from_environment() {
    let server = Server::start_with(
        Options::default()
            .memory()
            .env("SEALSTORE_ACCESS_KEY", "ENVKEY")
            .env("SEALSTORE_SECRET_KEY", "envsecret"),
    );
    let s3 = server.client_for("ENVKEY", "envsecret");
    let b = new_bucket(&s3, "env").await;
    put(&s3, &b, "k", "v").await;
    assert_err(
        server.client().list_buckets().send().await,
        "InvalidAccessKeyId",
        403,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_get_and_put() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "presign").await;
    let key = "pre signed/ü+%.txt";
    put(&s3, &b, key, "presigned body").await;

    let req = s3
        .get_object()
        .bucket(&b)
        .key(key)
        .presigned(presign_for(300))
        .await
        .unwrap();
    assert!(req.uri().contains("X-Amz-Signature="));
    let resp = send_presigned(&req, None).await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers().get("x-amz-request-id").is_some());
    assert!(resp.headers().get("x-amz-id-2").is_some());
    assert_eq!(resp.text().await.unwrap(), "presigned body");

    // A presigned ranged GET carries the range as a signed header.
    let req = s3
        .get_object()
        .bucket(&b)
        .key(key)
        .range("bytes=4-9")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let resp = send_presigned(&req, None).await;
    assert_eq!(resp.status().as_u16(), 206);
    assert_eq!(
        resp.headers()
            .get("content-range")
            .unwrap()
            .to_str()
            .unwrap(),
        "bytes 4-9/14"
    );
    assert_eq!(resp.text().await.unwrap(), "igned ");

    // Presigned PUT.
    let put_req = s3
        .put_object()
        .bucket(&b)
        .key("uploaded via url")
        .content_type("text/x-presigned")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let resp = send_presigned(&put_req, Some(b"put through a URL".to_vec())).await;
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    let got = s3
        .get_object()
        .bucket(&b)
        .key("uploaded via url")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/x-presigned"));
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"put through a URL"
    );

    // Presigned HEAD of a missing key: 404, no body.
    let req = s3
        .head_object()
        .bucket(&b)
        .key("missing")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let resp = send_presigned(&req, None).await;
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.bytes().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_errors() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "presign-err").await;
    put(&s3, &b, "k", "v").await;

    // Expired.
    let cfg = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(3600))
        .expires_in(Duration::from_secs(60))
        .build()
        .unwrap();
    let req = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(cfg)
        .await
        .unwrap();
    let body = assert_xml_error(send_presigned(&req, None).await, 403, "AccessDenied").await;
    assert_eq!(
        xml_field(&body, "Message").as_deref(),
        Some("Request has expired")
    );

    // Tampered signature.
    let req = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let uri = req.uri().to_string();
    let sig_at = uri.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let mut tampered = uri.clone();
    let first = &uri[sig_at..sig_at + 1];
    let repl = if first == "0" { "1" } else { "0" };
    tampered.replace_range(sig_at..sig_at + 1, repl);
    let resp = http().get(&tampered).send().await.unwrap();
    assert_xml_error(resp, 403, "SignatureDoesNotMatch").await;

    // Signed for one key, used for another.
    let other = uri.replacen("/k?", "/other?", 1);
    assert_ne!(other, uri);
    let resp = http().get(&other).send().await.unwrap();
    assert_xml_error(resp, 403, "SignatureDoesNotMatch").await;

    // Unknown access key in a presigned URL.
    let stranger = server.client_for("NOSUCHKEY", "x");
    let req = stranger
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(presign_for(300))
        .await
        .unwrap();
    assert_xml_error(send_presigned(&req, None).await, 403, "InvalidAccessKeyId").await;

    // Expires beyond a week.
    let long = uri.replacen("X-Amz-Expires=300", "X-Amz-Expires=604801", 1);
    assert_ne!(long, uri);
    let resp = http().get(&long).send().await.unwrap();
    assert_xml_error(resp, 400, "AuthorizationQueryParametersError").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_requests_are_access_denied() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "anon").await;
    put(&s3, &b, "k", "v").await;
    let base = server.endpoint();
    let resp = http().get(format!("{base}/{b}/k")).send().await.unwrap();
    assert_xml_error(resp, 403, "AccessDenied").await;
    let resp = http().get(format!("{base}/")).send().await.unwrap();
    assert_xml_error(resp, 403, "AccessDenied").await;
    let resp = http()
        .put(format!("{base}/{b}/anon-write"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_xml_error(resp, 403, "AccessDenied").await;
    assert_status(
        s3.head_object().bucket(&b).key("anon-write").send().await,
        404,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn error_body_has_s3_shape_with_bucket_and_key() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "shape").await;
    let req = s3
        .get_object()
        .bucket(&b)
        .key("no/such key")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let body = assert_xml_error(send_presigned(&req, None).await, 404, "NoSuchKey").await;
    assert_eq!(xml_field(&body, "Key").as_deref(), Some("no/such key"));
    assert_eq!(
        xml_field(&body, "Message").as_deref(),
        Some("The specified key does not exist.")
    );

    let req = s3
        .get_object()
        .bucket("no-such-bucket-here")
        .key("k")
        .presigned(presign_for(300))
        .await
        .unwrap();
    let body = assert_xml_error(send_presigned(&req, None).await, 404, "NoSuchBucket").await;
    assert_eq!(
        xml_field(&body, "BucketName").as_deref(),
        Some("no-such-bucket-here")
    );
    assert_eq!(
        xml_field(&body, "Message").as_deref(),
        Some("The specified bucket does not exist")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn request_ids_on_every_response() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "reqid").await;
    put(&s3, &b, "k", "v").await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..3 {
        let req = s3
            .get_object()
            .bucket(&b)
            .key("k")
            .presigned(presign_for(60))
            .await
            .unwrap();
        let resp = send_presigned(&req, None).await;
        assert_eq!(resp.status().as_u16(), 200);
        let id = resp.headers().get("x-amz-request-id").expect("request id");
        assert!(!id.is_empty());
        assert!(resp.headers().get("x-amz-id-2").is_some());
        ids.insert(id.to_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 3, "request ids are unique");
    // The SDK sees them too, on success and on error.
    let out = s3.head_bucket().bucket(&b).send().await.unwrap();
    use aws_sdk_s3::operation::RequestId;
    assert!(out.request_id().is_some_and(|s| !s.is_empty()));
    let err = s3
        .get_object()
        .bucket(&b)
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.request_id().is_some_and(|s| !s.is_empty()));
}
