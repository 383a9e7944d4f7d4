//! Property tests of the SSE request headers: random subsets and values of the
//! `x-amz-server-side-encryption*` and SSE-C headers (object and copy-source names) give an SSE
//! request or a 4xx S3 error, never a panic; valid SSE-C keys and KMS requests round-trip.

use base64::Engine;
use http::HeaderValue;
use md5::{Digest, Md5};
use proptest::prelude::*;

use super::{COPY_SOURCE, OBJECT, customer_key, parse_write};
use crate::crypto::SseRequest;
use crate::crypto::sse::{SSE, SSE_BUCKET_KEY, SSE_CONTEXT, SSE_KMS_KEY_ID};
use crate::error::S3ErrorCode;
use crate::proptest_support::{assert_client_error, config, header_map, header_value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn values() -> BoxedStrategy<HeaderValue> {
    prop_oneof![
        header_value(60),
        prop::sample::select(vec![
            "AES256",
            "aws:kms",
            "aws:kms:dsse",
            "aes256",
            "true",
            "false",
            "TRUE",
            "alias/k",
            "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:",
            "eyJhIjoiYiJ9",
            "eyJhIjoxfQ==",
            "W10=",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "hRasmdxgYDKV3nvbahU1MA==",
            "AAAA",
            "====",
        ])
        .prop_map(HeaderValue::from_static),
    ]
    .boxed()
}

fn sse_headers() -> BoxedStrategy<http::HeaderMap> {
    header_map(
        vec![
            SSE,
            SSE_KMS_KEY_ID,
            SSE_CONTEXT,
            SSE_BUCKET_KEY,
            "x-amz-server-side-encryption-customer-algorithm",
            "x-amz-server-side-encryption-customer-key",
            "x-amz-server-side-encryption-customer-key-md5",
            "x-amz-copy-source-server-side-encryption-customer-algorithm",
            "x-amz-copy-source-server-side-encryption-customer-key",
            "x-amz-copy-source-server-side-encryption-customer-key-md5",
        ],
        values(),
    )
}

proptest! {
    #![proptest_config(config(3000))]

    /// Any combination of SSE headers: a request or a 4xx error.
    #[test]
    fn sse_headers_never_panic(h in sse_headers()) {
        match parse_write(&h) {
            Ok(SseRequest::Customer(c)) => prop_assert_eq!(c.md5_base64.len(), 24),
            Ok(_) => {}
            Err(e) => assert_client_error(&e),
        }
        for prefix in [OBJECT, COPY_SOURCE] {
            if let Err(e) = customer_key(&h, prefix) {
                assert_client_error(&e);
                prop_assert!(matches!(e.code, S3ErrorCode::InvalidArgument | S3ErrorCode::InvalidEncryptionAlgorithmError));
            }
        }
    }

    /// A 256-bit key with its MD5 gives that key; any other length or a wrong MD5 is
    /// InvalidArgument (400).
    #[test]
    fn sse_c_round_trip(key in prop::collection::vec(any::<u8>(), 0..48), wrong_md5 in any::<bool>(), copy in any::<bool>()) {
        let prefix = if copy { COPY_SOURCE } else { OBJECT };
        let md5 = B64.encode(Md5::digest(if wrong_md5 { &b"other"[..] } else { &key }));
        let mut h = http::HeaderMap::new();
        let mut put = |suffix: &str, v: &str| {
            h.insert(
                http::HeaderName::from_bytes(format!("{prefix}{suffix}").as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        };
        put("algorithm", "AES256");
        put("key", &B64.encode(&key));
        put("key-md5", &md5);
        match customer_key(&h, prefix) {
            Ok(Some(c)) => {
                prop_assert!(key.len() == 32 && !wrong_md5);
                prop_assert_eq!(c.md5_base64, md5);
            }
            Ok(None) => prop_assert!(false, "headers present but no key"),
            Err(e) => {
                prop_assert!(key.len() != 32 || wrong_md5);
                prop_assert_eq!(e.code, S3ErrorCode::InvalidArgument);
                prop_assert_eq!(e.code.status().as_u16(), 400);
            }
        }
    }

    /// aws:kms with a key id and a JSON context of strings round-trips.
    #[test]
    fn kms_request_round_trip(
        key in "[a-zA-Z0-9/_:-]{1,60}",
        ctx in prop::collection::btree_map("[a-z]{1,8}", "[ -~]{0,12}", 0..4),
        bucket_key in prop::option::of(any::<bool>()),
    ) {
        let context = B64.encode(serde_json::to_vec(&ctx).unwrap());
        let mut h = http::HeaderMap::new();
        h.insert(SSE, HeaderValue::from_static("aws:kms"));
        h.insert(SSE_KMS_KEY_ID, HeaderValue::from_str(&key).unwrap());
        h.insert(SSE_CONTEXT, HeaderValue::from_str(&context).unwrap());
        if let Some(b) = bucket_key {
            h.insert(SSE_BUCKET_KEY, HeaderValue::from_static(if b { "true" } else { "false" }));
        }
        match parse_write(&h).unwrap() {
            SseRequest::Kms { key: k, context: c, bucket_key: bk } => {
                prop_assert_eq!(k, Some(key));
                prop_assert_eq!(c, Some(context));
                prop_assert_eq!(bk, bucket_key);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
