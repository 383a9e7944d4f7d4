//! SSE request headers on GetObject and HeadObject (aws-sdk-s3, the headers added before
//! signing, since GetObject's model has no such fields): S3 answers them 400 InvalidArgument for
//! an object under SSE-S3, SSE-KMS, DSSE-KMS and SSE-C alike, and the object is untouched.

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpRequest;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::ServerSideEncryption;
use base64::Engine;
use md5::{Digest, Md5};

use crate::common::*;

const KMS_ID: &str = "testkey-1";
const NOT_SUPPORTED: &str =
    "x-amz-server-side-encryption header is not supported for this operation.";
const KEY_NEEDS_KMS: &str = "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms";
const CONTEXT_NEEDS_KMS: &str = "Server Side Encryption with an encryption context requires HTTP header x-amz-server-side-encryption : aws:kms";

fn server() -> Server {
    Server::start_with(
        Options::default()
            .memory()
            .args(&["--kms-key", KMS_ID])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    )
}

/// Adds `headers` to the request before it is signed.
fn with_headers(headers: &[(&str, &str)]) -> impl Fn(&mut HttpRequest) + Send + Sync + 'static {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |req: &mut HttpRequest| {
        for (k, v) in &headers {
            req.headers_mut().insert(k.clone(), v.clone());
        }
    }
}

fn context() -> String {
    base64::engine::general_purpose::STANDARD.encode(br#"{"app":"x"}"#)
}

/// A refused combination: the headers, then S3's message, ArgumentName and ArgumentValue.
type Case = (
    Vec<(&'static str, String)>,
    &'static str,
    &'static str,
    Option<String>,
);

const SSE: &str = "x-amz-server-side-encryption";
const KEY_ID: &str = "x-amz-server-side-encryption-aws-kms-key-id";
const CTX: &str = "x-amz-server-side-encryption-context";
const BUCKET_KEY: &str = "x-amz-server-side-encryption-bucket-key-enabled";

/// The combinations without `x-amz-server-side-encryption` itself, on an object under SSE-S3 or
/// SSE-KMS: a write's checks answer the first two.
fn companion_cases() -> Vec<Case> {
    vec![
        (vec![(KEY_ID, KMS_ID.into())], KEY_NEEDS_KMS, SSE, None),
        (
            vec![(CTX, context())],
            CONTEXT_NEEDS_KMS,
            CTX,
            Some(String::new()),
        ),
        (
            vec![(BUCKET_KEY, "true".into())],
            "x-amz-server-side-encryption-bucket-key-enabled header is not supported for this operation.",
            BUCKET_KEY,
            Some("true".into()),
        ),
    ]
}

fn all_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = vec![
        (
            vec![(SSE, "AES256".into())],
            NOT_SUPPORTED,
            SSE,
            Some("AES256".into()),
        ),
        (
            vec![(SSE, "aws:kms".into())],
            NOT_SUPPORTED,
            SSE,
            Some("aws:kms".into()),
        ),
        (
            vec![(SSE, "aws:kms:dsse".into()), (KEY_ID, KMS_ID.into())],
            NOT_SUPPORTED,
            SSE,
            Some("aws:kms:dsse".into()),
        ),
        (
            vec![
                (SSE, "aws:kms".into()),
                (CTX, context()),
                (BUCKET_KEY, "true".into()),
            ],
            NOT_SUPPORTED,
            SSE,
            Some("aws:kms".into()),
        ),
    ];
    cases.extend(companion_cases());
    cases
}

/// Every case on GET (code, message, argument) and HEAD (400, no body) of `key`, with `extra`
/// headers (an SSE-C key) on each; then the object still reads as `body` (when given).
async fn assert_refused(
    s3: &Client,
    b: &str,
    key: &str,
    cases: Vec<Case>,
    extra: &[(&str, String)],
    body: Option<&[u8]>,
) {
    for (headers, message, name, value) in cases {
        let all: Vec<(&str, &str)> = headers
            .iter()
            .chain(extra)
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        let err = s3
            .get_object()
            .bucket(b)
            .key(key)
            .customize()
            .mutate_request(with_headers(&all))
            .send()
            .await
            .expect_err(name);
        let raw = err.raw_response().expect("a response");
        assert_eq!(raw.status().as_u16(), 400, "{key} {headers:?}");
        let text = String::from_utf8_lossy(raw.body().bytes().unwrap_or_default()).to_string();
        assert_eq!(err.code(), Some("InvalidArgument"), "{key} {headers:?}");
        let message = match message {
            "" => format!("{name} header is not supported for this operation."),
            m => m.to_string(),
        };
        assert_eq!(err.message(), Some(message.as_str()), "{key} {headers:?}");
        assert_eq!(xml_field(&text, "ArgumentName").as_deref(), Some(name));
        assert_eq!(xml_field(&text, "ArgumentValue"), value);

        let err = s3
            .head_object()
            .bucket(b)
            .key(key)
            .customize()
            .mutate_request(with_headers(&all))
            .send()
            .await
            .expect_err(name);
        let raw = err.raw_response().expect("a response");
        assert_eq!(raw.status().as_u16(), 400, "HEAD {key} {headers:?}");
        assert_eq!(
            raw.body().bytes().map(<[u8]>::len),
            Some(0),
            "HEAD has no body"
        );
    }
    // Nothing changed: the object reads as it was written.
    let Some(body) = body else { return };
    let pairs: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let got = s3
        .get_object()
        .bucket(b)
        .key(key)
        .customize()
        .mutate_request(with_headers(&pairs))
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_headers_on_reads_of_managed_encryption_are_invalid_argument() {
    let server = server();
    let s3 = server.client();
    let b = new_bucket(&s3, "read-sse").await;
    let modes = [
        ("s3", ServerSideEncryption::Aes256),
        ("kms", ServerSideEncryption::AwsKms),
        ("dsse", ServerSideEncryption::AwsKmsDsse),
    ];
    for (key, mode) in modes {
        let body = format!("body of {key}").into_bytes();
        let mut put = s3
            .put_object()
            .bucket(&b)
            .key(key)
            .server_side_encryption(mode.clone())
            .body(body.clone().into());
        if mode != ServerSideEncryption::Aes256 {
            put = put.ssekms_key_id(KMS_ID);
        }
        put.send().await.unwrap();
        assert_refused(&s3, &b, key, all_cases(), &[], Some(&body)).await;
    }
    // A missing key gets the same answer: the headers are refused before the object is read.
    let err = s3
        .get_object()
        .bucket(&b)
        .key("missing")
        .customize()
        .mutate_request(with_headers(&[(SSE, "AES256")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidArgument"));
    // GetObjectAttributes reads like GetObject: the same refusal.
    let err = s3
        .get_object_attributes()
        .bucket(&b)
        .key("s3")
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::ObjectSize)
        .customize()
        .mutate_request(with_headers(&[(SSE, "AES256")]))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert_eq!(err.message(), Some(NOT_SUPPORTED));
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_headers_on_reads_of_ssec_objects_are_invalid_argument() {
    let server = server();
    let s3 = server.client();
    let b = new_bucket(&s3, "read-ssec").await;
    let raw_key = [7u8; 32];
    let b64 = base64::engine::general_purpose::STANDARD;
    let (key, md5) = (b64.encode(raw_key), b64.encode(Md5::digest(raw_key)));
    let body = b"customer keyed".to_vec();
    s3.put_object()
        .bucket(&b)
        .key("c")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .body(body.clone().into())
        .send()
        .await
        .unwrap();
    let ssec = [
        (
            "x-amz-server-side-encryption-customer-algorithm",
            "AES256".to_string(),
        ),
        ("x-amz-server-side-encryption-customer-key", key),
        ("x-amz-server-side-encryption-customer-key-MD5", md5),
    ];
    // With the customer key, `x-amz-server-side-encryption` is the combination S3 refuses on a
    // write as incompatible; each of the others is refused naming itself.
    let not_supported = |name: &'static str, value: &str| -> Case {
        (
            vec![(name, value.to_string())],
            "",
            name,
            Some(value.to_string()),
        )
    };
    let mut cases = vec![
        not_supported(KEY_ID, KMS_ID),
        not_supported(CTX, &context()),
        not_supported(BUCKET_KEY, "true"),
    ];
    cases.push((
        vec![(SSE, "AES256".into())],
        "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
        SSE,
        Some("AES256".into()),
    ));
    assert_refused(&s3, &b, "c", cases, &ssec, Some(&body)).await;
    // Without the customer key, the SSE headers are refused before the key is asked for.
    assert_refused(&s3, &b, "c", all_cases(), &[], None).await;
}
