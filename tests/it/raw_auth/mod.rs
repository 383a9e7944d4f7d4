//! SigV4 edge cases signed by hand with aws-sigv4 (the SDK cannot be made to produce them):
//! payload hash mismatch, clock skew, UNSIGNED-PAYLOAD, malformed Authorization headers and
//! presigned URLs with missing parameters.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sigv4::http_request::{
    PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};

use crate::common::*;
use crate::sdk_errors::assert_xml_error;

pub(crate) mod hand;
mod scope;

use hand::{Hand, message, send_hand, sigv2_url, unix_now};

/// Signs `method url` (header auth) and returns the headers to send.
fn sign_v4(
    method: &str,
    url: &str,
    body: SignableBody<'_>,
    time: SystemTime,
    region: &str,
) -> Vec<(String, String)> {
    let identity = Credentials::new("test", "test", None, None, "raw").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let host = url.split("://").nth(1).unwrap().split('/').next().unwrap();
    let headers = [("host", host)];
    let req = SignableRequest::new(method, url, headers.into_iter(), body).unwrap();
    let (instructions, _sig) = sign(req, &params).unwrap().into_parts();
    instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(crate) async fn send(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut rb = http().request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    for (k, v) in headers {
        rb = rb.header(k, v);
    }
    rb.body(body.to_vec()).send().await.unwrap()
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

#[tokio::test(flavor = "multi_thread")]
async fn hand_signed_requests_work() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "rawsig").await;
    let url = format!("{}/{b}/signed.txt", server.endpoint());
    let body = b"signed by hand";

    let h = sign_v4(
        "PUT",
        &url,
        SignableBody::Bytes(body),
        SystemTime::now(),
        "us-east-1",
    );
    let resp = send("PUT", &url, &h, body).await;
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    assert_eq!(get_bytes(&s3, &b, "signed.txt").await, body);

    // UNSIGNED-PAYLOAD in x-amz-content-sha256 is accepted.
    let url2 = format!("{}/{b}/unsigned.txt", server.endpoint());
    let h = sign_v4(
        "PUT",
        &url2,
        SignableBody::UnsignedPayload,
        SystemTime::now(),
        "us-east-1",
    );
    assert!(
        h.iter()
            .any(|(k, v)| k == "x-amz-content-sha256" && v == "UNSIGNED-PAYLOAD")
    );
    let resp = send("PUT", &url2, &h, b"not hashed").await;
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    assert_eq!(get_bytes(&s3, &b, "unsigned.txt").await, b"not hashed");

    // Another region than the bucket's is refused, as S3 does (issue 18; it was accepted before).
    let url3 = format!("{}/{b}/other-region.txt", server.endpoint());
    let h = sign_v4(
        "PUT",
        &url3,
        SignableBody::Bytes(b"r"),
        SystemTime::now(),
        "ap-southeast-2",
    );
    let resp = send("PUT", &url3, &h, b"r").await;
    assert_xml_error(resp, 400, "AuthorizationHeaderMalformed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn payload_hash_mismatch_is_rejected_and_nothing_stored() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "sha-mismatch").await;
    put(&s3, &b, "k", "original").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let promised = sha256_hex(b"what was signed");
    let h = sign_v4(
        "PUT",
        &url,
        SignableBody::Precomputed(promised),
        SystemTime::now(),
        "us-east-1",
    );
    let resp = send("PUT", &url, &h, b"what was sent instead").await;
    assert_xml_error(resp, 400, "XAmzContentSHA256Mismatch").await;
    assert_eq!(
        get_bytes(&s3, &b, "k").await,
        b"original",
        "old object kept"
    );

    // A large body, so the mismatch is found only after streaming it.
    let big = pattern(2 * 1024 * 1024, 8);
    let mut signed = big.clone();
    signed[1_500_000] ^= 1;
    let h = sign_v4(
        "PUT",
        &url,
        SignableBody::Precomputed(sha256_hex(&signed)),
        SystemTime::now(),
        "us-east-1",
    );
    let resp = send("PUT", &url, &h, &big).await;
    assert_xml_error(resp, 400, "XAmzContentSHA256Mismatch").await;
    assert_eq!(
        get_bytes(&s3, &b, "k").await,
        b"original",
        "old object kept"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn clock_skew_over_15_minutes_is_request_time_too_skewed() {
    let server = Server::start(&[]);
    let url = format!("{}/", server.endpoint());
    let old = SystemTime::now() - Duration::from_secs(20 * 60);
    let h = sign_v4("GET", &url, SignableBody::Bytes(b""), old, "us-east-1");
    assert_xml_error(
        send("GET", &url, &h, b"").await,
        403,
        "RequestTimeTooSkewed",
    )
    .await;
    let future = SystemTime::now() + Duration::from_secs(20 * 60);
    let h = sign_v4("GET", &url, SignableBody::Bytes(b""), future, "us-east-1");
    assert_xml_error(
        send("GET", &url, &h, b"").await,
        403,
        "RequestTimeTooSkewed",
    )
    .await;
    // Within 15 minutes is fine.
    let near = SystemTime::now() - Duration::from_secs(10 * 60);
    let h = sign_v4("GET", &url, SignableBody::Bytes(b""), near, "us-east-1");
    assert_eq!(send("GET", &url, &h, b"").await.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_authorization_header() {
    let server = Server::start(&[]);
    let url = format!("{}/", server.endpoint());
    let h = sign_v4(
        "GET",
        &url,
        SignableBody::Bytes(b""),
        SystemTime::now(),
        "us-east-1",
    );
    let date = h.iter().find(|(k, _)| k == "x-amz-date").unwrap().1.clone();
    let day = &date[..8];
    let mut headers: Vec<(String, String)> = h
        .into_iter()
        .filter(|(k, _)| k != "authorization")
        .collect();
    headers.push((
        "authorization".into(),
        format!("AWS4-HMAC-SHA256 Credential=test/{day}/us-east-1/s3/aws4_request"),
    ));
    assert_xml_error(
        send("GET", &url, &headers, b"").await,
        400,
        "AuthorizationHeaderMalformed",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn presigned_url_missing_a_parameter() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "presign-params").await;
    put(&s3, &b, "k", "v").await;
    let req = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri = req.uri().to_string();
    let (base, query) = uri.split_once('?').unwrap();
    for drop in [
        "X-Amz-Signature",
        "X-Amz-Date",
        "X-Amz-Credential",
        "X-Amz-Expires",
    ] {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.starts_with(&format!("{drop}=")))
            .collect();
        let url = format!("{base}?{}", kept.join("&"));
        assert_ne!(url, uri);
        let resp = http().get(&url).send().await.unwrap();
        let (status, body) = (resp.status().as_u16(), resp.text().await.unwrap());
        assert_eq!(
            (status, xml_field(&body, "Code").as_deref()),
            (400, Some("AuthorizationQueryParametersError")),
            "without {drop}: {body}"
        );
    }
}

// ---- issue 18: what a signature must cover ----

/// issue 18 item 1: a presigned URL dated ahead of the server clock by more than 15 minutes is
/// not valid yet (SigV4); a SigV2 URL may not expire more than 7 days from now.
#[tokio::test(flavor = "multi_thread")]
async fn presigned_url_from_the_future_is_not_yet_valid() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "future").await;
    put(&s3, &b, "k", "v").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let mut h = Hand::new("GET", &url);
    h.signed = vec!["host"];
    h.time = SystemTime::now() + Duration::from_secs(365 * 24 * 3600);
    let resp = http().get(h.presign(3600)).send().await.unwrap();
    let body = assert_xml_error(resp, 403, "AccessDenied").await;
    assert_eq!(message(&body).as_deref(), Some("Request is not yet valid"));
    assert!(xml_field(&body, "ServerTime").is_some(), "{body}");
    // Within the 15-minute skew it is valid.
    h.time = SystemTime::now() + Duration::from_secs(10 * 60);
    let resp = http().get(h.presign(3600)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"v");

    // SigV2: at most 7 days ahead.
    let too_far = sigv2_url(server.endpoint(), &b, "k", unix_now() + 8 * 24 * 3600);
    let resp = http().get(&too_far).send().await.unwrap();
    assert_xml_error(resp, 400, "AuthorizationQueryParametersError").await;
    let fine = sigv2_url(server.endpoint(), &b, "k", unix_now() + 6 * 24 * 3600);
    assert_eq!(
        http().get(&fine).send().await.unwrap().status().as_u16(),
        200
    );
}

/// issue 18 item 2: an `x-amz-*` header that is not signed is refused (403 AccessDenied with
/// `<HeadersNotSigned>`), with a presigned URL and with header auth; nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn unsigned_amz_headers_are_refused() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "unsigned").await;
    put(&s3, &b, "secret", "the signer's secret").await;
    let target = format!("{}/{b}/upload", server.endpoint());
    let mut p = Hand::new("PUT", &target);
    p.signed = vec!["host"];
    let url = p.presign(300);
    // A presigned PUT turned into a copy of another object, with metadata on top.
    let resp = http()
        .put(&url)
        .header("x-amz-copy-source", format!("{b}/secret"))
        .header("x-amz-meta-note", "mine")
        .body("")
        .send()
        .await
        .unwrap();
    let body = assert_xml_error(resp, 403, "AccessDenied").await;
    assert_eq!(
        message(&body).as_deref(),
        Some("There were headers present in the request which were not signed")
    );
    assert_eq!(
        xml_field(&body, "HeadersNotSigned").as_deref(),
        Some("x-amz-copy-source, x-amz-meta-note")
    );
    let head = s3.head_object().bucket(&b).key("upload").send().await;
    assert_err(head, "NotFound", 404);
    // x-amz-content-sha256 is the one header a presigned URL may carry unsigned.
    let resp = http()
        .put(&url)
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .body("uploaded")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
    assert_eq!(get_bytes(&s3, &b, "upload").await, b"uploaded");

    // Header auth: a signed PUT with an unsigned SSE header added.
    let url = format!("{}/{b}/upload", server.endpoint());
    let mut h = sign_v4(
        "PUT",
        &url,
        SignableBody::Bytes(b"x"),
        SystemTime::now(),
        "us-east-1",
    );
    h.push(("x-amz-server-side-encryption".into(), "aws:kms".into()));
    let body = assert_xml_error(send("PUT", &url, &h, b"x").await, 403, "AccessDenied").await;
    assert_eq!(
        xml_field(&body, "HeadersNotSigned").as_deref(),
        Some("x-amz-server-side-encryption")
    );
    assert_eq!(get_bytes(&s3, &b, "upload").await, b"uploaded");
}

/// issue 18 item 3: `host` must be signed, or a signature could be replayed against another
/// virtual host. S3 lists it as a header not signed.
#[tokio::test(flavor = "multi_thread")]
async fn host_must_be_signed() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "nohost").await;
    put(&s3, &b, "k", "v").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let mut h = Hand::new("GET", &url);
    h.signed = vec!["x-amz-content-sha256", "x-amz-date"];
    let body = assert_xml_error(send_hand("GET", &url, &h, b"").await, 403, "AccessDenied").await;
    assert_eq!(
        xml_field(&body, "HeadersNotSigned").as_deref(),
        Some("host")
    );
    h.signed = vec![];
    let resp = http().get(h.presign(300)).send().await.unwrap();
    let body = assert_xml_error(resp, 403, "AccessDenied").await;
    assert_eq!(
        xml_field(&body, "HeadersNotSigned").as_deref(),
        Some("host")
    );
    // The same requests with host signed pass.
    h.signed = vec!["host", "x-amz-content-sha256", "x-amz-date"];
    assert_eq!(send_hand("GET", &url, &h, b"").await.status().as_u16(), 200);
    h.signed = vec!["host"];
    assert_eq!(
        http()
            .get(h.presign(300))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

/// issue 18 item 5: a bodiless request signed with the hash of some body is refused with
/// XAmzContentSHA256Mismatch, and does nothing.
#[tokio::test(flavor = "multi_thread")]
async fn bodiless_request_with_a_body_hash_is_a_mismatch() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "bodiless").await;
    put(&s3, &b, "k", "kept").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let other = sha256_hex(b"not empty");
    for method in ["GET", "DELETE"] {
        let mut h = Hand::new(method, &url);
        h.payload = other.clone();
        let body = assert_xml_error(
            send_hand(method, &url, &h, b"").await,
            400,
            "XAmzContentSHA256Mismatch",
        )
        .await;
        assert_eq!(
            xml_field(&body, "ClientComputedContentSHA256"),
            Some(other.clone())
        );
        assert_eq!(
            xml_field(&body, "S3ComputedContentSHA256"),
            Some(sha256_hex(b""))
        );
    }
    assert_eq!(get_bytes(&s3, &b, "k").await, b"kept");
    // The empty payload's hash, or UNSIGNED-PAYLOAD, is what a bodiless request declares.
    let h = Hand::new("GET", &url);
    assert_eq!(send_hand("GET", &url, &h, b"").await.status().as_u16(), 200);
}
