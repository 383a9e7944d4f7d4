//! The SigV4 canonical request and string to sign, as pure functions (tested with AWS's vectors).

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// RFC 3986 unreserved characters stay; everything else is `%XX` (upper-case).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// The same, but `/` kept: for paths.
const PATH: &AsciiSet = &STRICT.remove(b'/');

/// The canonical URI: the path decoded once and re-encoded with S3's rule (no double encoding, no
/// normalisation of `//` or `..`).
pub fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_string();
    }
    let bytes: Vec<u8> = percent_decode_str(raw_path).collect();
    percent_encoding::percent_encode(&bytes, PATH).to_string()
}

/// The canonical query: names and values decoded, re-encoded strictly, sorted, `name=value` joined
/// by `&`. `skip` names a parameter left out (the presigned signature).
pub fn canonical_query(raw_query: &str, skip: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
        .filter(|(n, _)| Some(n.as_ref()) != skip)
        .map(|(n, v)| {
            (
                utf8_percent_encode(&n, STRICT).to_string(),
                utf8_percent_encode(&v, STRICT).to_string(),
            )
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (n, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(n);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `name:value` for one signed header: repeated headers joined with `,`, values trimmed and inner
/// runs of spaces collapsed.
fn canonical_header_value(headers: &HeaderMap, name: &str) -> String {
    let mut out = String::new();
    for (i, v) in headers.get_all(name).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_trimmed(&mut out, &String::from_utf8_lossy(v.as_bytes()));
    }
    out
}

/// Appends `value` with its ends trimmed and inner runs of whitespace folded to one space (SigV4's
/// `Trimall`), without allocating for the usual value that needs none of it.
fn push_trimmed(out: &mut String, value: &str) {
    for (i, word) in value.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The full canonical request.
pub fn canonical_request(
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &HeaderMap,
    signed_headers: &[&str],
    payload_hash: &str,
    skip_query: Option<&str>,
) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(method);
    out.push('\n');
    out.push_str(&canonical_uri(raw_path));
    out.push('\n');
    out.push_str(&canonical_query(raw_query, skip_query));
    out.push('\n');
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        out.push_str(&canonical_header_value(headers, name));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256(canonical request)>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    use crate::test_headers::header_map as headers;

    /// AWS S3 SigV4 example "GET Object" (reference §7 #1): the canonical request, byte for byte.
    #[test]
    fn aws_vector_get_object_canonical_request() {
        let h = headers(&[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"];
        let cr = canonical_request("GET", "/test.txt", "", &h, &signed, EMPTY_SHA, None);
        assert_eq!(
            cr,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            string_to_sign(
                "20130524T000000Z",
                "20130524/us-east-1/s3/aws4_request",
                &cr
            ),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
    }

    #[test]
    fn uri_and_query_encoding() {
        assert_eq!(canonical_uri("/test%24file.text"), "/test%24file.text");
        assert_eq!(canonical_uri("/test$file.text"), "/test%24file.text");
        assert_eq!(
            canonical_uri("/b/a%20b%2Bc~d%3De%26f%25.txt"),
            "/b/a%20b%2Bc~d%3De%26f%25.txt"
        );
        assert_eq!(canonical_uri("/b//x/../y"), "/b//x/../y");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_query("lifecycle", None), "lifecycle=");
        assert_eq!(
            canonical_query("prefix=J&max-keys=2", None),
            "max-keys=2&prefix=J"
        );
        assert_eq!(
            canonical_query("prefix=a%2Fb&X-Amz-Signature=zz", Some("X-Amz-Signature")),
            "prefix=a%2Fb"
        );
    }
}
