//! Replays the requests real clients sent (aws-cli 1.45 / botocore 1.43, `tests/fixtures/captures`,
//! copied from the project's shared captures) through the library's router and authenticator, at
//! the time each was signed. Every captured signature must verify and every request must route to
//! the operation named in its file name (or, for an operation not built yet, to a 501 endpoint);
//! the same request with one signature character changed must be refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sealstore::auth::session::SessionKeys;
use sealstore::auth::{self, AuthContext, AuthError, CredentialStore, SecretKey};
use sealstore::http::router::{Endpoint, Query, Route, virtual_host_bucket};

struct Capture {
    file: String,
    operation: String,
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

fn parse(path: &Path) -> Capture {
    let text = std::fs::read_to_string(path).unwrap();
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let operation = file
        .trim_end_matches(".txt")
        .rsplit('-')
        .next()
        .unwrap()
        .to_string();
    let mut lines = text.lines().skip_while(|l| *l != "## Request").skip(1);
    let request_line = lines.next().unwrap();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap().to_string();
    let target = parts.next().unwrap().to_string();
    let headers = lines
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty() && !l.starts_with("## "))
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect();
    Capture {
        file,
        operation,
        method,
        target,
        headers,
    }
}

fn captures() -> Vec<Capture> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    let out = captures_in(&[
        root.clone(),
        root.join("http-awscli-cp"),
        root.join("https"),
    ]);
    assert!(out.len() > 60, "fixtures present");
    out
}

fn captures_in(dirs: &[PathBuf]) -> Vec<Capture> {
    let mut out = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let is_request = path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("--"));
            if path.extension().is_some_and(|e| e == "txt") && is_request {
                out.push(parse(&path));
            }
        }
    }
    out
}

/// Directory-bucket traffic (S3 Express): every request routes to its operation — `GET /` signed
/// for `s3express` is ListDirectoryBuckets — the ones signed with the long-term key verify, and
/// the ones signed with the capture server's fake session are refused as an invalid token.
#[test]
fn directory_bucket_captures_route_and_verify() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    let all = captures_in(&[root.join("directory-buckets")]);
    assert!(all.len() >= 40, "directory-bucket fixtures present");
    let creds = credentials();
    let (mut long_term, mut session) = (0, 0);
    for c in all {
        let parts = request(&c, &c.target);
        let query = Query::parse(parts.uri.query());
        let route = Route::from_request(
            &parts.method,
            parts.uri.path(),
            &query,
            &parts.headers,
            "localhost",
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.file));
        assert_eq!(route.endpoint.name(), c.operation, "{}", c.file);
        let fake_session = c
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("x-amz-s3session-token"))
            || c.target.contains("X-Amz-S3session-Token");
        let keys = SessionKeys::new(sealstore::crypto::DataKey::generate());
        let ctx = AuthContext {
            credentials: &creds,
            virtual_host_bucket: None,
            now: signed_at(&parts),
            sessions: Some(&keys),
        };
        match auth::verify(&parts, &ctx) {
            Ok(v) if !fake_session => {
                assert_eq!(v.account_id, "000000000000", "{}", c.file);
                long_term += 1;
            }
            Err(AuthError::InvalidToken) if fake_session => session += 1,
            Err(AuthError::StreamingNotImplemented) => {}
            other => panic!("{}: {other:?}", c.file),
        }
    }
    assert!(long_term >= 8 && session >= 20, "{long_term} {session}");
}

fn request(c: &Capture, target: &str) -> http::request::Parts {
    let mut b = http::Request::builder()
        .method(c.method.as_str())
        .uri(target);
    for (k, v) in &c.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(()).unwrap().into_parts().0
}

/// When the request was signed: X-Amz-Date (header or query), or a minute before a SigV2 Expires.
fn signed_at(parts: &http::request::Parts) -> SystemTime {
    let query = Query::parse(parts.uri.query());
    let amz = parts
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .or(query.get("X-Amz-Date"));
    let secs = match (amz, query.get("Expires")) {
        (Some(d), _) => {
            let fmt =
                time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
            time::PrimitiveDateTime::parse(d, &fmt)
                .unwrap()
                .assume_utc()
                .unix_timestamp()
        }
        (None, Some(e)) => e.parse::<i64>().unwrap() - 60,
        (None, None) => panic!("no signing time"),
    };
    UNIX_EPOCH + Duration::from_secs(secs as u64)
}

fn credentials() -> CredentialStore {
    let mut c = CredentialStore::default();
    c.insert("test", SecretKey::new("test"), "000000000000");
    c
}

fn verify(
    parts: &http::request::Parts,
    creds: &CredentialStore,
) -> Result<auth::Verified, AuthError> {
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let vhost = virtual_host_bucket(host, "localhost");
    let ctx = AuthContext {
        credentials: creds,
        virtual_host_bucket: vhost.as_deref(),
        now: signed_at(parts),
        sessions: None,
    };
    auth::verify(parts, &ctx)
}

/// Changes one character of the signature, wherever the request carries it.
fn tamper(c: &Capture) -> (String, Vec<(String, String)>) {
    let flip = |s: &str| -> String {
        let last = s.chars().last().unwrap();
        let repl = if last == 'a' { 'b' } else { 'a' };
        format!("{}{}", &s[..s.len() - last.len_utf8()], repl)
    };
    let mut headers = c.headers.clone();
    for (k, v) in headers.iter_mut() {
        if k.eq_ignore_ascii_case("authorization") {
            *v = flip(v);
            return (c.target.clone(), headers);
        }
    }
    let target = if let Some(i) = c.target.find("X-Amz-Signature=") {
        let end = c.target[i..]
            .find('&')
            .map(|e| i + e)
            .unwrap_or(c.target.len());
        format!("{}{}", flip(&c.target[..end]), &c.target[end..])
    } else {
        let i = c.target.find("Signature=").unwrap() + "Signature=".len();
        format!("{}A{}", &c.target[..i], &c.target[i + 1..])
    };
    (target, headers)
}

#[test]
fn captured_signatures_verify_and_tampered_ones_do_not() {
    let creds = credentials();
    for mut c in captures() {
        if c.file.starts_with("boto3-presigned-put") {
            // urllib added `Content-Type: application/x-www-form-urlencoded` to a URL presigned
            // without one; SigV2 signs Content-Type, so S3 refuses that request as sent.
            let parts = request(&c, &c.target);
            assert!(matches!(
                verify(&parts, &creds),
                Err(AuthError::SignatureDoesNotMatch { .. })
            ));
            c.headers
                .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        }
        let parts = request(&c, &c.target);
        match verify(&parts, &creds) {
            Ok(v) => assert_eq!(v.account_id, "000000000000", "{}", c.file),
            // Streaming bodies: the seed signature verified, the framing is a later issue.
            Err(AuthError::StreamingNotImplemented) => {}
            Err(e) => panic!("{}: {e:?}", c.file),
        }
        let (target, headers) = tamper(&c);
        let bad = request(
            &Capture {
                headers,
                ..parse_same(&c)
            },
            &target,
        );
        assert!(
            matches!(
                verify(&bad, &creds),
                Err(AuthError::SignatureDoesNotMatch { .. })
            ),
            "{} accepted a tampered signature",
            c.file
        );
    }
}

fn parse_same(c: &Capture) -> Capture {
    Capture {
        file: c.file.clone(),
        operation: c.operation.clone(),
        method: c.method.clone(),
        target: c.target.clone(),
        headers: c.headers.clone(),
    }
}

#[test]
fn captured_requests_route_to_their_operation() {
    let mut routed = 0;
    for c in captures() {
        let parts = request(&c, &c.target);
        let query = Query::parse(parts.uri.query());
        let route = Route::from_request(
            &parts.method,
            parts.uri.path(),
            &query,
            &parts.headers,
            "localhost",
        )
        .unwrap_or_else(|e| panic!("{}: {e}", c.file));
        match route.endpoint {
            Endpoint::NotImplemented(_) => {}
            ep => {
                assert_eq!(ep.name(), c.operation, "{}", c.file);
                routed += 1;
            }
        }
    }
    assert!(
        routed >= 30,
        "only {routed} captures routed to implemented operations"
    );
}

/// issue 18: what real clients sign. In every capture — plain, https (aws-chunked with trailers),
/// directory buckets (session tokens), presigned SigV4 — `host` and every `x-amz-*` header the
/// client sent are in SignedHeaders, so the signed-header rule refuses none of them. (The
/// session-token captures stop at InvalidToken in the replay above, before the rule runs; this
/// checks them too.)
#[test]
fn every_capture_signs_host_and_every_amz_header() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    let mut all = captures();
    all.extend(captures_in(&[root.join("directory-buckets")]));
    let mut sigv4 = 0;
    for c in all {
        let parts = request(&c, &c.target);
        let query = Query::parse(parts.uri.query());
        let signed = match (
            parts.headers.get("authorization"),
            query.get("X-Amz-SignedHeaders"),
        ) {
            (Some(a), _) => a
                .to_str()
                .unwrap()
                .split("SignedHeaders=")
                .nth(1)
                .map(|s| s.split(',').next().unwrap().to_string()),
            (None, Some(s)) => Some(s.to_string()),
            (None, None) => None,
        };
        let Some(signed) = signed else {
            continue; // SigV2: its string to sign holds every x-amz-* header
        };
        let signed: Vec<String> = signed.split(';').map(str::to_string).collect();
        let presigned = parts.headers.get("authorization").is_none();
        let unsigned = auth::unsigned_headers(&parts.headers, &signed, presigned);
        assert!(unsigned.is_empty(), "{}: {unsigned:?}", c.file);
        sigv4 += 1;
    }
    assert!(sigv4 >= 100, "{sigv4}");
}
