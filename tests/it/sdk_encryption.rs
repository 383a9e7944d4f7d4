//! aws-sdk-s3 against encryption at rest (issue 5): the response fields of every SSE mode on
//! PutObject, GetObject and HeadObject (`server_side_encryption`, `ssekms_key_id`,
//! `bucket_key_enabled`, `sse_customer_algorithm`, `sse_customer_key_md5`), SSE-C error codes,
//! KMS.NotFoundException, and a copy that turns an SSE-C object into an SSE-KMS one.
//! (boto3 and the aws CLI cover the rest: tests/clients/test_encryption*.py.)

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use base64::Engine;
use md5::{Digest, Md5};

use crate::common::*;

const KMS_ID: &str = "testkey-1";
const SEG: usize = 64 * 1024;

fn kms_arn(id: &str) -> String {
    format!("arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/{id}")
}

/// A memory server with `testkey-1` declared. New buckets allow SSE-C (S3 blocks it on new
/// buckets since April 2026; an older binary ignores the variable).
fn server() -> Server {
    Server::start_with(
        Options::default()
            .memory()
            .args(&["--kms-key", KMS_ID])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    )
}

/// An SSE-C key: (base64 key, base64 MD5 of the raw key).
fn customer_key(seed: u8) -> (String, String) {
    let raw: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(seed))
        .collect();
    customer_key_of(&raw)
}

fn customer_key_of(raw: &[u8]) -> (String, String) {
    let b64 = base64::engine::general_purpose::STANDARD;
    (b64.encode(raw), b64.encode(Md5::digest(raw)))
}

/// An opaque ETag: 32 hex digits in quotes, not the plaintext MD5.
#[track_caller]
fn assert_opaque_etag(etag: Option<&str>, body: &[u8]) {
    let etag = etag.expect("an ETag");
    let hex = etag
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .unwrap_or_else(|| panic!("unquoted ETag {etag}"));
    assert!(
        hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()),
        "{etag}"
    );
    assert_ne!(etag, etag_of(body), "not the plaintext MD5");
}

/// `arn:aws:kms:us-east-1:000000000000:key/<uuid>`.
#[track_caller]
fn assert_uuid_key_arn(arn: &str) {
    let id = arn
        .strip_prefix(&format!("arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/"))
        .unwrap_or_else(|| panic!("not a key ARN of the account: {arn}"));
    let parts: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "{arn}");
    assert!(
        id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()),
        "{arn}"
    );
}

/// Code, message and status of a failed call.
fn error_of<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    res: Result<T, SdkError<E, HttpResponse>>,
) -> (String, String, u16) {
    let err = res.expect_err("expected an error");
    let status = err
        .raw_response()
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|| panic!("no response: {err:?}"));
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
        status,
    )
}

async fn get_body(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body
        .collect()
        .await
        .expect("read body")
        .into_bytes()
        .to_vec()
}

#[tokio::test]
async fn sse_s3_by_default_and_on_request() {
    let srv = server();
    let c = srv.client();
    let b = new_bucket(&c, "sse-s3").await;
    let body = pattern(3 * SEG + 5, 1);
    for (key, explicit) in [("default", false), ("aes256", true)] {
        let mut put = c
            .put_object()
            .bucket(&b)
            .key(key)
            .body(ByteStream::from(body.clone()));
        if explicit {
            put = put.server_side_encryption(ServerSideEncryption::Aes256);
        }
        let p = put.send().await.expect("put");
        assert_eq!(
            p.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        assert_eq!(p.e_tag(), Some(etag_of(&body).as_str()));
        assert_eq!((p.ssekms_key_id(), p.bucket_key_enabled()), (None, None));
        let h = c
            .head_object()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect("head");
        assert_eq!(
            h.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        assert_eq!(h.e_tag(), Some(etag_of(&body).as_str()));
        let g = c
            .get_object()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect("get");
        assert_eq!(
            g.server_side_encryption(),
            Some(&ServerSideEncryption::Aes256)
        );
        assert_eq!(g.sse_customer_algorithm(), None);
        assert_eq!(get_body(g).await, body);
    }
}

#[tokio::test]
async fn kms_dsse_and_bucket_key_fields() {
    let srv = server();
    let c = srv.client();
    let b = new_bucket(&c, "sse-kms").await;
    let body = pattern(2 * SEG + 17, 2);
    let arn = kms_arn(KMS_ID);

    // (key, algorithm, key id sent, bucket key sent)
    let cases: [(&str, ServerSideEncryption, Option<&str>, Option<bool>); 5] = [
        ("kms-id", ServerSideEncryption::AwsKms, Some(KMS_ID), None),
        (
            "kms-arn",
            ServerSideEncryption::AwsKms,
            Some(&arn),
            Some(false),
        ),
        (
            "kms-bk",
            ServerSideEncryption::AwsKms,
            Some(KMS_ID),
            Some(true),
        ),
        ("kms-managed", ServerSideEncryption::AwsKms, None, None),
        ("dsse", ServerSideEncryption::AwsKmsDsse, Some(KMS_ID), None),
    ];
    let mut managed = None;
    for (key, alg, key_id, bucket_key) in cases {
        let mut put = c
            .put_object()
            .bucket(&b)
            .key(key)
            .server_side_encryption(alg.clone())
            .body(ByteStream::from(body.clone()));
        if let Some(id) = key_id {
            put = put.ssekms_key_id(id);
        }
        if let Some(flag) = bucket_key {
            put = put.bucket_key_enabled(flag);
        }
        let p = put
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
        let reported = p.ssekms_key_id().expect("a key ARN").to_string();
        if key_id.is_some() {
            assert_eq!(reported, arn, "{key}: the full ARN, even for a bare id");
        } else {
            assert_uuid_key_arn(&reported);
            managed = Some(reported.clone());
        }
        let want_bk = (bucket_key == Some(true)).then_some(true);
        assert_eq!(p.server_side_encryption(), Some(&alg), "{key}");
        assert_eq!(p.bucket_key_enabled(), want_bk, "{key}");
        assert_eq!(p.sse_customer_algorithm(), None, "{key}");
        assert_opaque_etag(p.e_tag(), &body);

        let h = c
            .head_object()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect("head");
        assert_eq!(
            (
                h.server_side_encryption(),
                h.ssekms_key_id(),
                h.bucket_key_enabled(),
                h.e_tag()
            ),
            (Some(&alg), Some(reported.as_str()), want_bk, p.e_tag()),
            "{key}"
        );
        let g = c
            .get_object()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .expect("get");
        assert_eq!(
            (
                g.server_side_encryption(),
                g.ssekms_key_id(),
                g.bucket_key_enabled()
            ),
            (Some(&alg), Some(reported.as_str()), want_bk),
            "{key}"
        );
        assert_eq!(get_body(g).await, body, "{key}");
        let r = c
            .get_object()
            .bucket(&b)
            .key(key)
            .range("bytes=65530-65545")
            .send()
            .await
            .expect("range get");
        assert_eq!(get_body(r).await, &body[65530..65546], "{key}");
    }
    // The account's aws/s3 key is one key: a second object without a key id gets the same ARN.
    let p = c
        .put_object()
        .bucket(&b)
        .key("kms-managed-2")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .body(ByteStream::from_static(b"again"))
        .send()
        .await
        .expect("put");
    assert_eq!(p.ssekms_key_id().map(str::to_string), managed);
}

#[tokio::test]
async fn ssec_round_trip_and_error_codes() {
    let srv = server();
    let c = srv.client();
    let b = new_bucket(&c, "sse-c").await;
    let body = pattern(2 * SEG + 3, 3);
    let (key, md5) = customer_key(1);
    let (other, other_md5) = customer_key(2);
    let p = c
        .put_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put SSE-C");
    assert_eq!(p.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(p.sse_customer_key_md5(), Some(md5.as_str()));
    assert_eq!(
        (p.server_side_encryption(), p.ssekms_key_id()),
        (None, None)
    );
    assert_opaque_etag(p.e_tag(), &body);

    let g = c
        .get_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("get with the key");
    assert_eq!(g.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(g.sse_customer_key_md5(), Some(md5.as_str()));
    assert_eq!(g.server_side_encryption(), None);
    assert_eq!(g.e_tag(), p.e_tag());
    assert_eq!(get_body(g).await, body);
    let h = c
        .head_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("head with the key");
    assert_eq!(
        (
            h.sse_customer_algorithm(),
            h.sse_customer_key_md5(),
            h.content_length()
        ),
        (Some("AES256"), Some(md5.as_str()), Some(body.len() as i64))
    );
    let r = c
        .get_object()
        .bucket(&b)
        .key("c")
        .range("bytes=-70000")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("range with the key");
    assert_eq!(get_body(r).await, &body[body.len() - 70000..]);

    // No key.
    assert_err(
        c.get_object().bucket(&b).key("c").send().await,
        "InvalidRequest",
        400,
    );
    assert_status(c.head_object().bucket(&b).key("c").send().await, 400);
    // Wrong key.
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("c")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other)
            .sse_customer_key_md5(&other_md5)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_status(
        c.head_object()
            .bucket(&b)
            .key("c")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other)
            .sse_customer_key_md5(&other_md5)
            .send()
            .await,
        403,
    );
    // A 16-byte key, and an algorithm other than AES256.
    let (short, short_md5) = customer_key_of(&[7u8; 16]);
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("c")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&short)
            .sse_customer_key_md5(&short_md5)
            .send()
            .await,
        "InvalidArgument",
        400,
    );
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("c")
            .sse_customer_algorithm("AES128")
            .sse_customer_key(&key)
            .sse_customer_key_md5(&md5)
            .send()
            .await,
        "InvalidEncryptionAlgorithmError",
        400,
    );
    // SSE-C headers on an object that is not SSE-C.
    put(&c, &b, "plain", b"plain".to_vec()).await;
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("plain")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&key)
            .sse_customer_key_md5(&md5)
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    // SSE-C together with x-amz-server-side-encryption on a write.
    assert_err(
        c.put_object()
            .bucket(&b)
            .key("both")
            .server_side_encryption(ServerSideEncryption::Aes256)
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&key)
            .sse_customer_key_md5(&md5)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await,
        "InvalidArgument",
        400,
    );
    assert_status(c.head_object().bucket(&b).key("both").send().await, 404);
}

async fn put_kms(
    c: &Client,
    b: &str,
    key: &str,
    key_id: &str,
    body: &'static [u8],
) -> Result<(), (String, String, u16)> {
    let res = c
        .put_object()
        .bucket(b)
        .key(key)
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(key_id)
        .body(ByteStream::from_static(body))
        .send()
        .await;
    match res {
        Ok(_) => Ok(()),
        Err(_) => Err(error_of(res)),
    }
}

#[tokio::test]
async fn unknown_kms_keys_are_not_found_and_store_nothing() {
    let srv = server();
    let c = srv.client();
    let b = new_bucket(&c, "kms-nf").await;
    put(&c, &b, "existing", b"original".to_vec()).await;
    let uuid = "1234abcd-12ab-34cd-56ef-1234567890ab";
    let cases = [
        (
            "fake-key-id".to_string(),
            "Invalid keyId 'fake-key-id'".to_string(),
        ),
        (
            uuid.to_string(),
            format!("Key '{}' does not exist", kms_arn(uuid)),
        ),
        (
            kms_arn(uuid),
            format!("Key '{}' does not exist", kms_arn(uuid)),
        ),
        (
            format!("arn:aws:kms:eu-west-1:{DEFAULT_ACCOUNT}:key/{uuid}"),
            "Invalid arn eu-west-1".to_string(),
        ),
    ];
    for (key_id, message) in cases {
        for target in ["existing", "fresh"] {
            let got = put_kms(&c, &b, target, &key_id, b"must not be stored").await;
            assert_eq!(
                got,
                Err(("KMS.NotFoundException".to_string(), message.clone(), 400)),
                "{key_id}"
            );
        }
        assert_eq!(get_bytes(&c, &b, "existing").await, b"original");
        assert_status(c.head_object().bucket(&b).key("fresh").send().await, 404);
    }
    assert_eq!(put_kms(&c, &b, "known", KMS_ID, b"ok").await, Ok(()));
}

#[tokio::test]
async fn copy_turns_ssec_into_sse_kms() {
    let srv = server();
    let c = srv.client();
    let b = new_bucket(&c, "copy-enc").await;
    let body = pattern(3 * SEG + 9, 4);
    let (key, md5) = customer_key(5);
    let (other, other_md5) = customer_key(6);
    c.put_object()
        .bucket(&b)
        .key("src")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put SSE-C");
    let source = format!("{b}/src");
    let copy = || {
        c.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(&source)
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(KMS_ID)
    };
    assert_err(copy().send().await, "InvalidRequest", 400);
    assert_err(
        copy()
            .copy_source_sse_customer_algorithm("AES256")
            .copy_source_sse_customer_key(&other)
            .copy_source_sse_customer_key_md5(&other_md5)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_status(c.head_object().bucket(&b).key("dst").send().await, 404);
    let out = copy()
        .copy_source_sse_customer_algorithm("AES256")
        .copy_source_sse_customer_key(&key)
        .copy_source_sse_customer_key_md5(&md5)
        .bucket_key_enabled(true)
        .send()
        .await
        .expect("copy SSE-C -> SSE-KMS");
    assert_eq!(
        out.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(out.ssekms_key_id(), Some(kms_arn(KMS_ID).as_str()));
    assert_eq!(out.bucket_key_enabled(), Some(true));
    assert_eq!(
        (out.sse_customer_algorithm(), out.sse_customer_key_md5()),
        (None, None)
    );
    let etag = out
        .copy_object_result()
        .and_then(|r| r.e_tag())
        .map(str::to_string);
    assert_opaque_etag(etag.as_deref(), &body);

    // The copy reads without any customer key; the source still needs its key.
    let g = c
        .get_object()
        .bucket(&b)
        .key("dst")
        .send()
        .await
        .expect("get copy");
    assert_eq!(
        (
            g.server_side_encryption(),
            g.ssekms_key_id(),
            g.bucket_key_enabled(),
            g.e_tag().map(str::to_string)
        ),
        (
            Some(&ServerSideEncryption::AwsKms),
            Some(kms_arn(KMS_ID).as_str()),
            Some(true),
            etag
        )
    );
    assert_eq!(get_body(g).await, body);
    assert_err(
        c.get_object().bucket(&b).key("src").send().await,
        "InvalidRequest",
        400,
    );
}
