//! GetObjectAttributes with aws-sdk-s3 on single-PUT objects: every attribute and only those
//! asked for, the unquoted ETag, the FULL_OBJECT checksum (the client's, else the CRC64NVME S3
//! adds), no ObjectParts, Last-Modified; SSE-C objects need their key as on GET; and every error
//! with its exact code and status, after which the object is unchanged. Multipart objects:
//! `sdk_multipart/attributes.rs`.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::get_object_attributes::builders::GetObjectAttributesFluentBuilder;
use aws_sdk_s3::operation::get_object_attributes::{
    GetObjectAttributesError, GetObjectAttributesOutput,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumType, ObjectAttributes, StorageClass};
use base64::Engine;
use md5::{Digest as _, Md5};

use crate::common::*;

const ALL: [ObjectAttributes; 5] = [
    ObjectAttributes::Etag,
    ObjectAttributes::Checksum,
    ObjectAttributes::ObjectParts,
    ObjectAttributes::StorageClass,
    ObjectAttributes::ObjectSize,
];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A GetObjectAttributes request for every attribute.
fn attrs_all(c: &Client, b: &str, k: &str) -> GetObjectAttributesFluentBuilder {
    c.get_object_attributes()
        .bucket(b)
        .key(k)
        .set_object_attributes(Some(ALL.to_vec()))
}

fn crc64nvme(d: &[u8]) -> String {
    let mut h = crc64fast_nvme::Digest::new();
    h.write(d);
    b64(&h.sum64().to_be_bytes())
}

fn unquoted_md5(d: &[u8]) -> String {
    hex::encode(Md5::digest(d))
}

/// SSE-C headers: (base64 key, base64 MD5 of the key).
fn customer_key(seed: u8) -> (String, String) {
    let raw: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(7).wrapping_add(seed))
        .collect();
    (b64(&raw), b64(&Md5::digest(&raw)))
}

fn ssec_server() -> Server {
    Server::start_with(Options::default().env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"))
}

#[tokio::test]
async fn single_put_objects() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "attrs-single").await;

    // A PUT with a SHA256 checksum: every attribute, the ETag without quotes.
    let body = pattern(70_000, 1);
    let sha = {
        use sha2::Digest as _;
        b64(&sha2::Sha256::digest(&body))
    };
    c.put_object()
        .bucket(&b)
        .key("sha")
        .body(ByteStream::from(body.clone()))
        .checksum_sha256(&sha)
        .send()
        .await
        .expect("put sha");
    let out = attrs_all(&c, &b, "sha").send().await.expect("attributes");
    assert_eq!(out.e_tag(), Some(unquoted_md5(&body).as_str()));
    let sum = out.checksum().expect("a checksum");
    assert_eq!(sum.checksum_sha256(), Some(sha.as_str()));
    assert_eq!(sum.checksum_crc64_nvme(), None);
    assert_eq!(sum.checksum_type(), Some(&ChecksumType::FullObject));
    assert!(out.object_parts().is_none(), "a single PUT has no parts");
    assert_eq!(out.storage_class(), Some(&StorageClass::Standard));
    assert_eq!(out.object_size(), Some(body.len() as i64));
    let head = c
        .head_object()
        .bucket(&b)
        .key("sha")
        .send()
        .await
        .expect("head");
    assert_eq!(out.last_modified(), head.last_modified());
    assert_eq!(
        out.version_id(),
        None,
        "an unversioned bucket names no version"
    );
    assert_eq!(out.delete_marker(), None);

    // No checksum sent (the SDK's default CRC32 turned off): the CRC64NVME S3 adds; an empty
    // object too.
    for (key, data) in [("plain", b"hello world".to_vec()), ("empty", Vec::new())] {
        c.put_object()
            .bucket(&b)
            .key(key)
            .body(ByteStream::from(data.clone()))
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::default()
                    .request_checksum_calculation(RequestChecksumCalculation::WhenRequired),
            )
            .send()
            .await
            .expect("put without checksum");
        let out = attrs_all(&c, &b, key).send().await.expect("attributes");
        assert_eq!(out.e_tag(), Some(unquoted_md5(&data).as_str()), "{key}");
        let sum = out.checksum().expect("the default checksum");
        assert_eq!(sum.checksum_crc64_nvme(), Some(crc64nvme(&data).as_str()));
        assert_eq!(sum.checksum_type(), Some(&ChecksumType::FullObject));
        assert_eq!(out.object_size(), Some(data.len() as i64), "{key}");
    }

    // Only what was asked for (the SDK joins the list with commas).
    let out = c
        .get_object_attributes()
        .bucket(&b)
        .key("plain")
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::ObjectParts)
        .send()
        .await
        .expect("size only");
    assert_eq!(out.object_size(), Some(11));
    assert!(out.e_tag().is_none() && out.checksum().is_none());
    assert!(out.storage_class().is_none() && out.object_parts().is_none());
    assert!(
        out.last_modified().is_some(),
        "Last-Modified is always sent"
    );

    // versionId=null names the one version of an unversioned bucket.
    let out = attrs_all(&c, &b, "plain")
        .version_id("null")
        .send()
        .await
        .expect("versionId=null");
    assert_eq!(out.object_size(), Some(11));
}

#[tokio::test]
async fn sse_c_objects_need_their_key() {
    let server = ssec_server();
    let c = server.client();
    let b = new_bucket(&c, "attrs-ssec").await;
    let (key, md5) = customer_key(3);
    let body = pattern(1000, 2);
    c.put_object()
        .bucket(&b)
        .key("secret")
        .body(ByteStream::from(body.clone()))
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("put ssec");
    // Without the key: GetObject's 400; another key: 403.
    assert_err(
        attrs_all(&c, &b, "secret").send().await,
        "InvalidRequest",
        400,
    );
    let (other, other_md5) = customer_key(4);
    assert_err(
        attrs_all(&c, &b, "secret")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other)
            .sse_customer_key_md5(&other_md5)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    // With it: the checksum sealed under the key opens.
    let out = attrs_all(&c, &b, "secret")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .send()
        .await
        .expect("attributes with the key");
    let want = b64(&crc32fast::hash(&body).to_be_bytes());
    let sum = out.checksum().expect("checksum");
    assert_eq!(sum.checksum_crc32(), Some(want.as_str()));
    assert_eq!(out.object_size(), Some(1000));
    assert!(out.e_tag().is_some_and(|e| !e.starts_with('"')));
    // A key for an object that is not SSE-C: GetObject's 400.
    put(&c, &b, "plain", b"x".to_vec()).await;
    assert_err(
        attrs_all(&c, &b, "plain")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&key)
            .sse_customer_key_md5(&md5)
            .send()
            .await,
        "InvalidRequest",
        400,
    );
}

type AttrsResult =
    Result<GetObjectAttributesOutput, SdkError<GetObjectAttributesError, HttpResponse>>;

/// Replaces (or with `None` removes) a request header before signing.
async fn with_header(
    req: GetObjectAttributesFluentBuilder,
    name: &'static str,
    value: Option<&'static str>,
) -> AttrsResult {
    req.customize()
        .mutate_request(move |r| {
            r.headers_mut().remove(name);
            if let Some(v) = value {
                r.headers_mut().insert(name, v);
            }
        })
        .send()
        .await
}

#[tokio::test]
async fn errors_change_nothing() {
    let server = Server::start_with_alice();
    let c = server.client();
    let b = new_bucket(&c, "attrs-errors").await;
    let etag = put(&c, &b, "k", b"payload".to_vec()).await;
    let req = || attrs_all(&c, &b, "k");
    const OBJECT_ATTRIBUTES: &str = "x-amz-object-attributes";

    let cases = vec![
        // The attribute list: missing or empty is InvalidRequest, an unknown name InvalidArgument.
        (
            with_header(req(), OBJECT_ATTRIBUTES, None).await,
            "InvalidRequest",
            400,
        ),
        (
            with_header(req(), OBJECT_ATTRIBUTES, Some("")).await,
            "InvalidRequest",
            400,
        ),
        (
            with_header(req(), OBJECT_ATTRIBUTES, Some(" , ")).await,
            "InvalidRequest",
            400,
        ),
        (
            with_header(req(), OBJECT_ATTRIBUTES, Some("ETag,Owner")).await,
            "InvalidArgument",
            400,
        ),
        (
            with_header(req(), OBJECT_ATTRIBUTES, Some("etag")).await,
            "InvalidArgument",
            400,
        ),
        // The page of parts.
        (req().max_parts(-1).send().await, "InvalidArgument", 400),
        (
            req().part_number_marker("one").send().await,
            "InvalidArgument",
            400,
        ),
        (
            req().part_number_marker("-1").send().await,
            "InvalidArgument",
            400,
        ),
        // Not a version id sealstore could have issued.
        (
            req().version_id("3HL4kqtJlcpXroDTDmJ").send().await,
            "InvalidArgument",
            400,
        ),
        // The object, the bucket, the owner.
        (attrs_all(&c, &b, "missing").send().await, "NoSuchKey", 404),
        (
            attrs_all(&c, "it-no-such-bucket-attrs", "k").send().await,
            "NoSuchBucket",
            404,
        ),
        (
            attrs_all(&server.alice(), &b, "k").send().await,
            "AccessDenied",
            403,
        ),
        (
            req().expected_bucket_owner("999999999999").send().await,
            "AccessDenied",
            403,
        ),
    ];
    for (i, (res, code, status)) in cases.into_iter().enumerate() {
        let (got, got_status) = err_of(res);
        assert_eq!(
            (got.as_deref(), got_status),
            (Some(code), status),
            "case {i}"
        );
    }
    // The bucket answers before a malformed input (S3's order), and nothing changed.
    let (got, _) = err_of(
        attrs_all(&server.alice(), &b, "k")
            .max_parts(-1)
            .send()
            .await,
    );
    assert_eq!(got.as_deref(), Some("AccessDenied"));
    let head = c
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("head");
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    assert_eq!(get_bytes(&c, &b, "k").await, b"payload");
}
