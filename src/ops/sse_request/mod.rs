//! The SSE request headers, read with S3's validation and errors: `x-amz-server-side-encryption*`
//! into an [`SseRequest`], and the three SSE-C headers (object or copy source) into a
//! [`CustomerKey`]. Here rather than in `crypto`, which knows keys and formats but not requests
//! or S3's error codes.

use base64::Engine;
use http::HeaderMap;

use crate::crypto::sse::{SSE, SSE_BUCKET_KEY, SSE_CONTEXT, SSE_KMS_KEY_ID};
use crate::crypto::ssec::CustomerKey;
use crate::crypto::{SseAlgorithm, SseRequest};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX, X_AMZ_SERVER_SIDE_ENCRYPTION,
    X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX,
};

#[cfg(test)]
mod proptests;

/// Header prefix of the object's own SSE-C key.
pub const OBJECT: &str = X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX;
/// Header prefix of a copy source's SSE-C key.
pub const COPY_SOURCE: &str = X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// Reads the SSE headers of a write (PutObject, CopyObject destination), with S3's checks.
pub fn parse_write(h: &HeaderMap) -> Result<SseRequest, S3Error> {
    let sse = header(h, SSE);
    let algorithm = match sse {
        None => None,
        Some(v) => Some(SseAlgorithm::parse(v).ok_or_else(|| {
            S3Error::invalid_argument("The encryption method specified is not supported", SSE, v)
        })?),
    };
    let customer = customer_key(h, OBJECT)?;
    if let (Some(_), Some(v)) = (&customer, sse) {
        return Err(S3Error::invalid_argument(
            "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
            SSE,
            v,
        ));
    }
    if let Some(c) = customer {
        return Ok(SseRequest::Customer(c));
    }
    let key = header(h, SSE_KMS_KEY_ID).map(str::to_string);
    let kms = matches!(algorithm, Some(SseAlgorithm::Kms | SseAlgorithm::KmsDsse));
    if key.is_some() && !kms {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms",
        )
        .field("ArgumentName", SSE));
    }
    let context = header(h, SSE_CONTEXT).map(parse_context).transpose()?;
    if context.is_some() && !kms {
        return Err(S3Error::invalid_argument(
            "Server Side Encryption with an encryption context requires HTTP header x-amz-server-side-encryption : aws:kms",
            SSE_CONTEXT,
            "",
        ));
    }
    let bucket_key = header(h, SSE_BUCKET_KEY).map(|v| v.eq_ignore_ascii_case("true"));
    Ok(match algorithm {
        None => SseRequest::Default,
        Some(SseAlgorithm::Aes256) => SseRequest::S3,
        Some(SseAlgorithm::Kms) => SseRequest::Kms {
            key,
            context,
            bucket_key,
        },
        Some(SseAlgorithm::KmsDsse) => SseRequest::Dsse { key, context },
    })
}

/// GetObject, HeadObject and UploadPart: the SSE headers choose the encryption of a new object
/// (or upload), which these requests cannot change, so S3 answers them 400 (the GetObject
/// reference; UploadPart likewise). They are first read with a write's checks, as S3 does (a KMS
/// key id without `aws:kms` gets the PutObject message), then refused naming the header; with an
/// SSE-C key, which ends a write's checks early, the KMS ones too.
pub fn refuse_write_only(h: &HeaderMap) -> Result<(), S3Error> {
    parse_write(h)?;
    for name in [SSE, SSE_KMS_KEY_ID, SSE_CONTEXT, SSE_BUCKET_KEY] {
        if let Some(v) = h.get(name) {
            return Err(S3Error::invalid_argument(
                format!("{name} header is not supported for this operation."),
                name,
                &String::from_utf8_lossy(v.as_bytes()),
            ));
        }
    }
    Ok(())
}

/// The encryption context must be base64 of a JSON object of string values.
fn parse_context(value: &str) -> Result<String, S3Error> {
    let bad = || {
        S3Error::invalid_argument(
            "The encryption context is not valid base64-encoded JSON.",
            SSE_CONTEXT,
            value,
        )
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .map_err(|_| bad())?;
    let json: serde_json::Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let ok = json
        .as_object()
        .is_some_and(|m| m.values().all(serde_json::Value::is_string));
    if ok {
        Ok(value.to_string())
    } else {
        Err(bad())
    }
}

fn invalid(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message)
        .field("ArgumentName", X_AMZ_SERVER_SIDE_ENCRYPTION)
}

/// Reads the three SSE-C headers under `prefix`: `None` when none is present, else the key or
/// S3's error for the first thing wrong (algorithm, missing parts, key length, MD5).
pub fn customer_key(h: &HeaderMap, prefix: &str) -> Result<Option<CustomerKey>, S3Error> {
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
            .field("ArgumentName", X_AMZ_SERVER_SIDE_ENCRYPTION)
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
    let key = CustomerKey::from_bytes(&raw)
        .ok_or_else(|| invalid("The secret key was invalid for the specified algorithm."))?;
    if md5 != Some(key.md5_base64.as_str()) {
        return Err(invalid(
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        ));
    }
    Ok(Some(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_headers::header_map as headers;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    const MD5: &str = "hRasmdxgYDKV3nvbahU1MA==";

    #[test]
    fn write_header_validation() {
        assert!(matches!(
            parse_write(&headers(&[])).unwrap(),
            SseRequest::Default
        ));
        assert!(matches!(
            parse_write(&headers(&[(SSE, "AES256")])).unwrap(),
            SseRequest::S3
        ));
        let kms = parse_write(&headers(&[
            (SSE, "aws:kms"),
            (SSE_KMS_KEY_ID, "k1"),
            (SSE_BUCKET_KEY, "true"),
        ]))
        .unwrap();
        assert!(
            matches!(kms, SseRequest::Kms { key: Some(ref k), bucket_key: Some(true), .. } if k == "k1")
        );
        let e = parse_write(&headers(&[(SSE, "AES512")])).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                S3ErrorCode::InvalidArgument,
                "The encryption method specified is not supported"
            )
        );
        let e = parse_write(&headers(&[(SSE, "AES256"), (SSE_KMS_KEY_ID, "k1")])).unwrap_err();
        assert!(
            e.message
                .contains("requires HTTP header x-amz-server-side-encryption : aws:kms")
        );
        let e = parse_write(&headers(&[
            (SSE, "AES256"),
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            (
                "x-amz-server-side-encryption-customer-key",
                "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            ),
            (
                "x-amz-server-side-encryption-customer-key-md5",
                "hRasmdxgYDKV3nvbahU1MA==",
            ),
        ]))
        .unwrap_err();
        assert!(e.message.contains("incompatible"));
        let ctx = base64::engine::general_purpose::STANDARD.encode(br#"{"project":"x"}"#);
        assert!(parse_write(&headers(&[(SSE, "aws:kms"), (SSE_CONTEXT, &ctx)])).is_ok());
        assert!(parse_write(&headers(&[(SSE, "aws:kms"), (SSE_CONTEXT, "bm90IGpzb24=")])).is_err());
    }

    #[test]
    fn reads_refuse_the_write_headers() {
        assert!(refuse_write_only(&headers(&[])).is_ok());
        let e = refuse_write_only(&headers(&[(SSE, "AES256")])).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                S3ErrorCode::InvalidArgument,
                "x-amz-server-side-encryption header is not supported for this operation."
            )
        );
        let e =
            refuse_write_only(&headers(&[(SSE, "aws:kms"), (SSE_KMS_KEY_ID, "k")])).unwrap_err();
        assert!(e.message.starts_with("x-amz-server-side-encryption header"));
        let e = refuse_write_only(&headers(&[(SSE_KMS_KEY_ID, "k")])).unwrap_err();
        assert!(e.message.contains("requires HTTP header"), "{}", e.message);
        let e = refuse_write_only(&headers(&[(SSE_BUCKET_KEY, "true")])).unwrap_err();
        assert!(
            e.message
                .starts_with("x-amz-server-side-encryption-bucket-key-enabled header"),
            "{}",
            e.message
        );
    }

    #[test]
    fn captured_key_parses_and_verifies() {
        let h = headers(&[
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", KEY),
            ("x-amz-server-side-encryption-customer-key-MD5", MD5),
        ]);
        let k = customer_key(&h, OBJECT).unwrap().unwrap();
        assert_eq!(k.md5_base64, MD5);
        crate::crypto::ssec::assert_verifier_recognises_only(&k);
        assert!(customer_key(&h, COPY_SOURCE).unwrap().is_none());
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
            let e = customer_key(&headers(&refs), OBJECT).unwrap_err();
            assert_eq!(e.code, code, "{pairs:?}");
            assert!(e.message.contains(text), "{}", e.message);
        }
    }
}
