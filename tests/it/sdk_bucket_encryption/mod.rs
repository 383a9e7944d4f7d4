//! aws-sdk-s3 against bucket default encryption (issue 6): PutBucketEncryption,
//! GetBucketEncryption and DeleteBucketEncryption, the rule applied to PutObject and CopyObject
//! (`server_side_encryption`, `ssekms_key_id`, `bucket_key_enabled` in the responses), SSE-C
//! blocked on new buckets (403 AccessDenied) and unblocked with `BlockedEncryptionTypes` `NONE`,
//! and the refused configurations (MalformedXML, InvalidArgument, NoSuchBucket, AccessDenied).
//!
//! aws-sdk-s3 1.96 has no `BlockedEncryptionTypes` member yet, so those documents go through the
//! SDK with their XML extended just before signing (see [`rewrite_body`]); the SDK's own CRC32
//! header is recomputed for the new body. boto3, raw HTTP and the aws CLI are in
//! tests/clients/test_bucket_encryption.py.

mod blocked_ssec;
mod refused;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpRequest;
use aws_sdk_s3::operation::get_bucket_encryption::GetBucketEncryptionOutput;
use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use base64::Engine;
use md5::{Digest, Md5};

use crate::common::*;

const KMS_ID: &str = "sdk-bucket-enc-key";

fn kms_arn(id: &str) -> String {
    format!("arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/{id}")
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A memory server with [`KMS_ID`] declared and the account alice.
fn server(extra: &[&str]) -> Server {
    Server::start_with(
        Options::default()
            .memory()
            .args(&["--kms-key", KMS_ID, "--user", ALICE_USER_ARG])
            .args(extra),
    )
}

fn configuration(
    alg: ServerSideEncryption,
    key: Option<&str>,
    bucket_key: Option<bool>,
) -> ServerSideEncryptionConfiguration {
    let apply = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(alg)
        .set_kms_master_key_id(key.map(str::to_string))
        .build()
        .expect("SSEAlgorithm is set");
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(apply)
        .set_bucket_key_enabled(bucket_key)
        .build();
    ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .expect("one rule")
}

/// The one rule of a GetBucketEncryption answer: (algorithm, key id, BucketKeyEnabled).
fn rule_of(out: &GetBucketEncryptionOutput) -> (String, Option<String>, Option<bool>) {
    let conf = out
        .server_side_encryption_configuration()
        .expect("a configuration");
    assert_eq!(conf.rules().len(), 1, "{conf:?}");
    let rule = &conf.rules()[0];
    let apply = rule
        .apply_server_side_encryption_by_default()
        .expect("ApplyServerSideEncryptionByDefault");
    (
        apply.sse_algorithm().as_str().to_string(),
        apply.kms_master_key_id().map(str::to_string),
        rule.bucket_key_enabled(),
    )
}

async fn get_rule(c: &Client, bucket: &str) -> (String, Option<String>, Option<bool>) {
    let out = c
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get bucket encryption {bucket}: {e:?}"));
    rule_of(&out)
}

fn default_rule() -> (String, Option<String>, Option<bool>) {
    ("AES256".to_string(), None, Some(false))
}

/// A request mutation for `customize().mutate_request(..)`: replaces `from` by `to` in the XML
/// body, then recomputes what the SDK derived from the old body (x-amz-checksum-crc32,
/// Content-MD5, Content-Length). Runs before signing, so the signature covers the new body.
fn rewrite_body(from: &str, to: &str) -> impl Fn(&mut HttpRequest) + Send + Sync + 'static {
    let (from, to) = (from.to_string(), to.to_string());
    move |req: &mut HttpRequest| {
        let old = std::str::from_utf8(req.body().bytes().expect("an in-memory body"))
            .expect("UTF-8 XML")
            .to_string();
        assert!(old.contains(&from), "{from:?} not in {old}");
        let new = old.replacen(&from, &to, 1).into_bytes();
        let headers = req.headers_mut();
        if headers.contains_key("x-amz-checksum-crc32") {
            headers.insert(
                "x-amz-checksum-crc32",
                b64(&crc32fast::hash(&new).to_be_bytes()),
            );
        }
        if headers.contains_key("content-md5") {
            headers.insert("content-md5", b64(&Md5::digest(&new)));
        }
        if headers.contains_key("content-length") {
            headers.insert("content-length", new.len().to_string());
        }
        *req.body_mut() = SdkBody::from(new);
    }
}

const BLOCK_NONE: &str =
    "<BlockedEncryptionTypes><EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes></Rule>";
const BLOCK_SSEC: &str = "<BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule>";

/// PutBucketEncryption of an AES256 rule with `blocked` appended inside the Rule.
async fn put_blocked(c: &Client, bucket: &str, blocked: &str) {
    let out = c
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::Aes256,
            None,
            None,
        ))
        .customize()
        .mutate_request(rewrite_body("</Rule>", blocked))
        .send()
        .await;
    out.unwrap_or_else(|e| panic!("put blocked types {bucket}: {e:?}"));
}

/// An SSE-C key: (base64 key, base64 MD5 of the key).
fn customer_key(seed: u8) -> (String, String) {
    let raw: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(13) ^ seed).collect();
    (b64(&raw), b64(&Md5::digest(&raw)))
}

async fn put_ssec(
    c: &Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    k: &(String, String),
) -> Result<
    aws_sdk_s3::operation::put_object::PutObjectOutput,
    aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError, HttpResponse>,
> {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.0)
        .sse_customer_key_md5(&k.1)
        .send()
        .await
}

#[tokio::test]
async fn put_get_delete_round_trip() {
    let srv = server(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-rt").await;
    assert_eq!(get_rule(&c, &b).await, default_rule());
    let cases: [(ServerSideEncryption, Option<&str>, Option<bool>); 5] = [
        (ServerSideEncryption::AwsKms, Some(KMS_ID), Some(true)),
        (ServerSideEncryption::AwsKms, None, None),
        (
            ServerSideEncryption::AwsKms,
            Some("arn:aws:kms:us-east-1:123456789012:alias/not-checked"),
            Some(false),
        ),
        (
            ServerSideEncryption::AwsKmsDsse,
            Some("1234abcd-12ab"),
            None,
        ),
        (ServerSideEncryption::Aes256, None, Some(true)),
    ];
    for (alg, key, bk) in cases {
        let out = c
            .put_bucket_encryption()
            .bucket(&b)
            .server_side_encryption_configuration(configuration(alg.clone(), key, bk))
            .expected_bucket_owner(DEFAULT_ACCOUNT)
            .send()
            .await;
        out.unwrap_or_else(|e| panic!("put {alg:?} {key:?}: {e:?}"));
        // The key exactly as given; BucketKeyEnabled always present (false when not set).
        assert_eq!(
            get_rule(&c, &b).await,
            (
                alg.as_str().to_string(),
                key.map(str::to_string),
                Some(bk.unwrap_or(false))
            )
        );
    }
    for _ in 0..2 {
        c.delete_bucket_encryption()
            .bucket(&b)
            .send()
            .await
            .expect("delete bucket encryption");
        assert_eq!(get_rule(&c, &b).await, default_rule());
    }
}

#[tokio::test]
async fn kms_rule_applies_to_put_and_copy() {
    let srv = server(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-kms").await;
    let before = pattern(1000, 1);
    let p = c
        .put_object()
        .bucket(&b)
        .key("before")
        .body(ByteStream::from(before.clone()))
        .send()
        .await
        .expect("put before the rule");
    assert_eq!(
        p.server_side_encryption(),
        Some(&ServerSideEncryption::Aes256)
    );
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            Some(KMS_ID),
            Some(true),
        ))
        .send()
        .await
        .expect("put kms rule");
    let body = pattern(70_000, 2);
    let p = c
        .put_object()
        .bucket(&b)
        .key("ruled")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .expect("put under the rule");
    let arn = kms_arn(KMS_ID);
    assert_eq!(
        (
            p.server_side_encryption(),
            p.ssekms_key_id(),
            p.bucket_key_enabled()
        ),
        (
            Some(&ServerSideEncryption::AwsKms),
            Some(arn.as_str()),
            Some(true)
        )
    );
    let cp = c
        .copy_object()
        .bucket(&b)
        .key("copied")
        .copy_source(format!("{b}/before"))
        .send()
        .await
        .expect("copy under the rule");
    assert_eq!(
        (
            cp.server_side_encryption(),
            cp.ssekms_key_id(),
            cp.bucket_key_enabled()
        ),
        (
            Some(&ServerSideEncryption::AwsKms),
            Some(arn.as_str()),
            Some(true)
        )
    );
    for (key, data) in [("ruled", &body), ("copied", &before)] {
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
                h.bucket_key_enabled()
            ),
            (
                Some(&ServerSideEncryption::AwsKms),
                Some(arn.as_str()),
                Some(true)
            ),
            "{key}"
        );
        assert_eq!(&get_bytes(&c, &b, key).await, data, "{key}");
    }
    // The object written before the rule keeps SSE-S3.
    let h = c
        .head_object()
        .bucket(&b)
        .key("before")
        .send()
        .await
        .expect("head before");
    assert_eq!(
        (h.server_side_encryption(), h.ssekms_key_id()),
        (Some(&ServerSideEncryption::Aes256), None)
    );
    // A request naming its own SSE overrides the rule.
    let p = c
        .put_object()
        .bucket(&b)
        .key("explicit")
        .body(ByteStream::from_static(b"explicit"))
        .server_side_encryption(ServerSideEncryption::Aes256)
        .send()
        .await
        .expect("explicit AES256");
    assert_eq!(
        (p.server_side_encryption(), p.ssekms_key_id()),
        (Some(&ServerSideEncryption::Aes256), None)
    );
    // DSSE rule without a key: the account's aws/s3 key.
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKmsDsse,
            None,
            None,
        ))
        .send()
        .await
        .expect("put dsse rule");
    let p = c
        .put_object()
        .bucket(&b)
        .key("dsse")
        .body(ByteStream::from_static(b"dsse"))
        .send()
        .await
        .expect("put under the dsse rule");
    assert_eq!(
        p.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKmsDsse)
    );
    let managed = p.ssekms_key_id().expect("a key ARN");
    assert!(
        managed.starts_with(&format!("arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/"))
            && managed != arn,
        "{managed}"
    );
    assert_eq!(p.bucket_key_enabled(), None);
}

#[tokio::test]
async fn rule_with_unknown_kms_key_fails_at_write_time() {
    let srv = server(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-nokey").await;
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            Some("fake-key-id"),
            None,
        ))
        .send()
        .await
        .expect("the key is not checked at PutBucketEncryption");
    assert_eq!(
        get_rule(&c, &b).await,
        ("aws:kms".into(), Some("fake-key-id".into()), Some(false))
    );
    let res = c
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    assert_err(res, "KMS.NotFoundException", 400);
    assert_status(c.head_object().bucket(&b).key("k").send().await, 404);
}
