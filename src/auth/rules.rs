//! Rules a verified SigV4 request must also follow, beyond its signature: which headers must be
//! signed, which services and regions a credential scope may name, and what a bodiless request's
//! `x-amz-content-sha256` may say. Pure functions of the request head.

use http::HeaderMap;

use super::AuthError;
use crate::header_names::{X_AMZ_CONTENT_SHA256, X_AMZ_PREFIX};

/// The SHA-256 of no bytes: what a request without a body must declare when it declares a hash.
pub const EMPTY_SHA256: [u8; 32] = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The services a SigV4 scope may name: `s3`, and `s3express` for directory buckets (the SDKs
/// sign every directory-bucket request, CreateSession and ListDirectoryBuckets included, for it).
pub const SERVICE_S3: &str = "s3";
pub const SERVICE_S3_EXPRESS: &str = "s3express";

/// The headers present on the request but absent from `SignedHeaders`: `host` (SigV4 requires
/// it signed, or a signature could be replayed against another virtual host) and every `x-amz-*`
/// header, in the order they arrived, each named once.
///
/// S3 answers such a request 403 AccessDenied with `<HeadersNotSigned>` (AWS docs: "Authenticating
/// Requests: Using Query Parameters" — "you must sign ... any x-amz-* headers"; the wording and
/// element are S3's as reported in badslug/Paw-AWSSignature4DynamicValue#4 and
/// brendanhay/amazonka#272, the latter for an unsigned `host`). Its one exemption, for presigned
/// URLs only, is `x-amz-content-sha256`, which a presigned URL cannot sign in advance
/// (demarche-numerique/ds_proxy#164 relies on the same exemption).
pub fn unsigned_headers(headers: &HeaderMap, signed: &[String], presigned: bool) -> Vec<String> {
    let is_signed = |name: &str| signed.iter().any(|s| s == name);
    let mut out: Vec<String> = Vec::new();
    if !is_signed("host") {
        out.push("host".to_string());
    }
    for name in headers.keys() {
        let n = name.as_str();
        let exempt = presigned && n == X_AMZ_CONTENT_SHA256;
        if n.starts_with(X_AMZ_PREFIX) && !exempt && !is_signed(n) && !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

/// Refuses a request with unsigned headers (see [`unsigned_headers`]).
pub fn check_signed_headers(
    headers: &HeaderMap,
    signed: &[String],
    presigned: bool,
) -> Result<(), AuthError> {
    let unsigned = unsigned_headers(headers, signed, presigned);
    if unsigned.is_empty() {
        Ok(())
    } else {
        Err(AuthError::HeadersNotSigned(unsigned))
    }
}

/// The scope's service must be `s3` or `s3express`; which of the two a resource takes is decided
/// where the resource is known (`ops`).
pub fn check_service(service: &str, presigned: bool) -> Result<(), AuthError> {
    if service == SERVICE_S3 || service == SERVICE_S3_EXPRESS {
        Ok(())
    } else {
        Err(AuthError::IncorrectService {
            service: service.to_string(),
            presigned,
        })
    }
}

/// Whether `region` is shaped like an AWS region name (`us-east-1`, `eu-central-2`,
/// `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`): two letters, one or more lower-case words,
/// a number. S3 answers a scope naming anything else (`s3`, `us_east_1`, an empty region) with the
/// same "the region 'X' is wrong; expecting 'Y'" as a wrong region.
pub fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return false;
    };
    first.len() == 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && !middle.is_empty()
        && middle
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.len() <= 3
        && last.bytes().all(|b| b.is_ascii_digit())
}

/// A request that carries no body (no `Content-Length`, or `0`, and no `Transfer-Encoding`) but
/// declares a hex `x-amz-content-sha256` other than the empty payload's is refused at once with
/// XAmzContentSHA256Mismatch, as S3 does: the body layer never runs for GET, HEAD or DELETE, so
/// without this the declared hash would go unchecked.
pub fn check_bodiless_payload(headers: &HeaderMap, declared: &[u8; 32]) -> Result<(), AuthError> {
    let no_length = headers
        .get(http::header::CONTENT_LENGTH)
        .is_none_or(|v| v.as_bytes() == b"0");
    let bodiless = no_length && !headers.contains_key(http::header::TRANSFER_ENCODING);
    if bodiless && *declared != EMPTY_SHA256 {
        return Err(AuthError::ContentSha256Mismatch { client: *declared });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_headers::header_map;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unsigned_amz_headers_and_host_are_listed_in_arrival_order() {
        let h = header_map(&[
            ("host", "h"),
            ("x-amz-date", "d"),
            ("x-amz-copy-source", "b/k"),
            ("x-amz-meta-a", "1"),
            ("x-amz-meta-a", "2"),
            ("x-amzn-trace-id", "t"),
            ("content-type", "text/plain"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ]);
        let signed = names(&["host", "x-amz-date"]);
        assert_eq!(
            unsigned_headers(&h, &signed, false),
            ["x-amz-copy-source", "x-amz-meta-a", "x-amz-content-sha256"]
        );
        assert_eq!(
            unsigned_headers(&h, &signed, true),
            ["x-amz-copy-source", "x-amz-meta-a"]
        );
        let no_host = names(&["x-amz-date", "x-amz-copy-source", "x-amz-meta-a"]);
        assert_eq!(unsigned_headers(&h, &no_host, true), ["host"]);
    }

    #[test]
    fn services_and_region_names() {
        assert!(check_service("s3", false).is_ok());
        assert!(check_service("s3express", true).is_ok());
        assert!(matches!(
            check_service("iam", true),
            Err(AuthError::IncorrectService {
                presigned: true,
                ..
            })
        ));
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "us-isob-east-1",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "s3",
            "us_east_1",
            "US-EAST-1",
            "us-east",
            "useast-1",
            "us--1",
            "us-east-1x",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn bodiless_requests_must_declare_the_empty_hash() {
        let other = [7u8; 32];
        assert!(check_bodiless_payload(&header_map(&[]), &EMPTY_SHA256).is_ok());
        assert!(matches!(
            check_bodiless_payload(&header_map(&[("content-length", "0")]), &other),
            Err(AuthError::ContentSha256Mismatch { .. })
        ));
        assert!(check_bodiless_payload(&header_map(&[("content-length", "5")]), &other).is_ok());
        assert!(
            check_bodiless_payload(&header_map(&[("transfer-encoding", "chunked")]), &other)
                .is_ok()
        );
    }
}
