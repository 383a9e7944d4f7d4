//! SSE-C: the customer's key, read from request headers and checked as S3 does. The key seals the
//! object's data key and is never stored; a salted HMAC of it (the verifier) recognises it later.

use base64::Engine;
use http::HeaderMap;
use md5::{Digest, Md5};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::keys::DataKey;
use crate::error::{S3Error, S3ErrorCode};

/// Header prefix of the object's own SSE-C key.
pub const OBJECT: &str = "x-amz-server-side-encryption-customer-";
/// Header prefix of a copy source's SSE-C key.
pub const COPY_SOURCE: &str = "x-amz-copy-source-server-side-encryption-customer-";

/// A customer-provided key, with the base64 MD5 the client sent (echoed in responses).
#[derive(Debug, Clone)]
pub struct CustomerKey {
    pub key: DataKey,
    pub md5_base64: String,
}

/// What is stored to recognise a customer key: a random salt and HMAC(key, salt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verifier {
    pub salt: [u8; 16],
    pub mac: [u8; 32],
}

impl CustomerKey {
    pub fn verifier(&self) -> Verifier {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Verifier {
            salt,
            mac: self.key.mac(&[b"sealstore/sse-c-verifier", &salt]),
        }
    }

    pub fn matches(&self, v: &Verifier) -> bool {
        bool::from(
            self.key
                .mac(&[b"sealstore/sse-c-verifier", &v.salt])
                .ct_eq(&v.mac),
        )
    }
}

fn invalid(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message)
        .field("ArgumentName", "x-amz-server-side-encryption")
}

/// Reads the three SSE-C headers under `prefix`: `None` when none is present, else the key or
/// S3's error for the first thing wrong (algorithm, missing parts, key length, MD5).
pub fn parse(h: &HeaderMap, prefix: &str) -> Result<Option<CustomerKey>, S3Error> {
    let get = |suffix: &str| {
        h.get(format!("{prefix}{suffix}"))
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let (algorithm, key, md5) = (get("algorithm"), get("key"), get("key-md5"));
    if algorithm.is_none() && key.is_none() && md5.is_none() {
        return Ok(None);
    }
    match algorithm {
        Some("AES256") => {}
        Some(other) => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidEncryptionAlgorithmError,
                "The Encryption request you specified is not valid. Supported value: AES256.",
            )
            .field("ArgumentName", "x-amz-server-side-encryption")
            .field("ArgumentValue", other));
        }
        None => {
            return Err(invalid(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
            ));
        }
    }
    let key = key.ok_or_else(|| {
        invalid("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
    })?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(key)
        .unwrap_or_default();
    let key = DataKey::from_slice(&raw)
        .ok_or_else(|| invalid("The secret key was invalid for the specified algorithm."))?;
    let md5_base64 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&raw));
    if md5 != Some(md5_base64.as_str()) {
        return Err(invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ));
    }
    Ok(Some(CustomerKey { key, md5_base64 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const MD5: &str = "hRasmdxgYDKV3nvbahU1MA==";

    use crate::test_headers::header_map as headers;

    #[test]
    fn captured_key_parses_and_verifies() {
        let h = headers(&[
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", KEY),
            ("x-amz-server-side-encryption-customer-key-MD5", MD5),
        ]);
        let k = parse(&h, OBJECT).unwrap().unwrap();
        assert_eq!(k.md5_base64, MD5);
        let v = k.verifier();
        assert!(k.matches(&v));
        let other = CustomerKey {
            key: DataKey::generate(),
            md5_base64: String::new(),
        };
        assert!(!other.matches(&v));
        assert!(parse(&h, COPY_SOURCE).unwrap().is_none());
    }

    #[test]
    fn errors_in_s3_order() {
        let p = "x-amz-server-side-encryption-customer-";
        type Case<'a> = (&'a [(&'a str, &'a str)], S3ErrorCode, &'a str);
        let cases: [Case; 6] = [
            (
                &[("algorithm", "AES128"), ("key", KEY), ("key-md5", MD5)],
                S3ErrorCode::InvalidEncryptionAlgorithmError,
                "Supported value",
            ),
            (
                &[("key", KEY), ("key-md5", MD5)],
                S3ErrorCode::InvalidArgument,
                "valid encryption algorithm",
            ),
            (
                &[("algorithm", "AES256")],
                S3ErrorCode::InvalidArgument,
                "appropriate secret key",
            ),
            (
                &[
                    ("algorithm", "AES256"),
                    ("key", "c2hvcnQ="),
                    ("key-md5", MD5),
                ],
                S3ErrorCode::InvalidArgument,
                "secret key was invalid",
            ),
            (
                &[
                    ("algorithm", "AES256"),
                    ("key", KEY),
                    ("key-md5", "AAAAAAAAAAAAAAAAAAAAAA=="),
                ],
                S3ErrorCode::InvalidArgument,
                "MD5 hash",
            ),
            (
                &[("algorithm", "AES256"), ("key", KEY)],
                S3ErrorCode::InvalidArgument,
                "MD5 hash",
            ),
        ];
        for (pairs, code, text) in cases {
            let full: Vec<(String, &str)> =
                pairs.iter().map(|(k, v)| (format!("{p}{k}"), *v)).collect();
            let refs: Vec<(&str, &str)> = full.iter().map(|(k, v)| (k.as_str(), *v)).collect();
            let e = parse(&headers(&refs), OBJECT).unwrap_err();
            assert_eq!(e.code, code, "{pairs:?}");
            assert!(e.message.contains(text), "{}", e.message);
        }
    }
}
