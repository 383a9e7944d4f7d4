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

async fn send(
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

fn sha256_hex(b: &[u8]) -> String {
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

    // Any region in the credential scope is accepted.
    let url3 = format!("{}/{b}/other-region.txt", server.endpoint());
    let h = sign_v4(
        "PUT",
        &url3,
        SignableBody::Bytes(b"r"),
        SystemTime::now(),
        "ap-southeast-2",
    );
    let resp = send("PUT", &url3, &h, b"r").await;
    assert_eq!(resp.status().as_u16(), 200, "{:?}", resp.text().await);
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
