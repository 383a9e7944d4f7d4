//! Property tests of authentication parsing: the SigV4 Authorization header, credential scope,
//! signed-headers list, `x-amz-date`, presigned queries, and SigV2 header and query forms. Random
//! and mutated-valid input ends in a 4xx S3 error, never a panic; valid signatures verify, and a
//! changed signature never does.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use http::request::Parts;
use proptest::prelude::*;
use sha1::Sha1;

use super::header::{
    CredentialScope, format_amz_date, format_iso, parse_amz_date, parse_authorization,
    split_signed_headers,
};
use super::{
    AuthContext, AuthError, CredentialStore, SecretKey, canonical_query, canonical_request,
    canonical_uri, signing_key, string_to_sign, v4_signature, verify,
};
use crate::error::S3Error;
use crate::proptest_support::{any_text, assert_client_error, config, mutate};

const AK: &str = "test";
const SK: &str = "test";
/// 2026-11-25T12:00:00Z, the requests' and the server's clock.
const NOW_SECS: u64 = 1_795_608_000;
const AMZ_DATE: &str = "20261125T120000Z";
const DATE: &str = "20261125";

fn store() -> CredentialStore {
    let mut s = CredentialStore::default();
    s.insert(AK, SecretKey::new(SK), "000000000000");
    s
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

fn check(parts: &Parts) -> Result<super::Verified, AuthError> {
    let creds = store();
    let ctx = AuthContext {
        credentials: &creds,
        virtual_host_bucket: None,
        now: now(),
        sessions: None,
    };
    verify(parts, &ctx)
}

fn assert_auth_error(e: AuthError) {
    assert_client_error(&S3Error::from(e));
}

/// Text that may appear in a URI path or query (percent-encodings included, valid or not).
fn uri_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            "[A-Za-z0-9._~!$'()*+,;=:@/-]{1,4}",
            "%[0-9A-Fa-f]{2}",
            Just("%".to_string()),
            Just("..".to_string()),
            Just("&".to_string()),
            Just("=".to_string()),
        ],
        0..max,
    )
    .prop_map(|v| v.concat())
}

fn build(method: &str, uri: &str, headers: &[(String, String)]) -> Option<Parts> {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(()).ok().map(|r| r.into_parts().0)
}

/// A request signed with SigV4 (header form) for `test`/`test`.
#[derive(Debug, Clone)]
struct Signed {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
}

fn signed_request() -> impl Strategy<Value = Signed> {
    (
        prop::sample::select(vec!["GET", "PUT", "POST", "DELETE", "HEAD"]),
        uri_text(12),
        prop::collection::vec((any_text(10), any_text(10)), 0..4),
        prop_oneof![
            Just("UNSIGNED-PAYLOAD".to_string()),
            "[0-9a-f]{64}",
            Just("STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_string()),
            Just("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_string()),
        ],
        prop::collection::vec(("x-amz-meta-[a-z]{1,6}", "[ -~]{0,20}"), 0..3),
        "[a-z0-9-]{1,12}",
    )
        .prop_map(|(method, path, query, payload, extra, region)| {
            let path = format!("/{path}");
            let query = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&query)
                .finish();
            let uri = if query.is_empty() {
                path.clone()
            } else {
                format!("{path}?{query}")
            };
            let mut headers = vec![
                ("host".to_string(), "127.0.0.1:9000".to_string()),
                ("x-amz-content-sha256".to_string(), payload.clone()),
                ("x-amz-date".to_string(), AMZ_DATE.to_string()),
            ];
            headers.extend(extra);
            if payload.len() == 64 {
                // A hex hash declares a body: without one it would be a mismatch (issue 18).
                headers.push(("content-length".to_string(), "1".to_string()));
            }
            let mut names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
            names.sort();
            names.dedup();
            let signed: Vec<&str> = names.iter().map(String::as_str).collect();
            let parts = build(method, &uri, &headers)?;
            let cr = canonical_request(
                method,
                parts.uri.path(),
                parts.uri.query().unwrap_or(""),
                &parts.headers,
                &signed,
                &payload,
                None,
            );
            let scope = format!("{DATE}/{region}/s3/aws4_request");
            let sts = string_to_sign(AMZ_DATE, &scope, &cr);
            let key = signing_key(SK, DATE, &region, "s3").ok()?;
            let sig = v4_signature(key, &sts);
            headers.push((
                "authorization".to_string(),
                format!(
                    "AWS4-HMAC-SHA256 Credential={AK}/{scope}, SignedHeaders={}, Signature={sig}",
                    signed.join(";")
                ),
            ));
            Some(Signed {
                method: method.to_string(),
                uri,
                headers,
            })
        })
        .prop_filter_map("URI the http crate refuses", |s| s)
}

proptest! {
    #![proptest_config(config(2000))]

    /// Any Authorization value after the algorithm: parsed, or HeaderMalformed (400).
    #[test]
    fn authorization_header_never_panics(rest in any_text(200)) {
        match parse_authorization(&format!("AWS4-HMAC-SHA256{rest}")) {
            Ok(a) => prop_assert!(a.signed_headers.iter().all(|h| !h.is_empty() && !h.contains(';'))),
            Err(e) => {
                prop_assert!(matches!(e, AuthError::HeaderMalformed(_)));
                assert_auth_error(e);
            }
        }
    }

    /// Well-formed headers parse back to their parts.
    #[test]
    fn authorization_header_round_trips(
        ak in "[A-Za-z0-9/+=]{1,30}",
        date in "[0-9]{8}",
        region in "[a-z0-9-]{1,20}",
        service in "[a-z0-9-]{0,10}",
        signed in prop::collection::vec("[a-z0-9-]{1,20}", 1..6),
        sig in "[0-9a-f]{1,64}",
        sep in prop::sample::select(vec![",", ", ", " ,  "]),
    ) {
        let header = format!(
            "AWS4-HMAC-SHA256 Credential={ak}/{date}/{region}/{service}/aws4_request{sep}SignedHeaders={}{sep}Signature={sig}",
            signed.join(";")
        );
        let a = parse_authorization(&header).unwrap();
        prop_assert_eq!(a.credential, CredentialScope { access_key: ak, date, region, service });
        prop_assert_eq!(a.signed_headers, signed);
        prop_assert_eq!(a.signature, sig);
    }

    #[test]
    fn credential_scope_never_panics(s in prop_oneof![any_text(80), "([a-z0-9]{0,9}/){0,7}[a-z0-9_]{0,12}"]) {
        if let Some(c) = CredentialScope::parse(&s) {
            prop_assert!(!c.access_key.is_empty() && !c.region.is_empty());
            prop_assert_eq!(c.date.len(), 8);
            prop_assert_eq!(format!("{}/{}", c.access_key, c.scope()), s);
        }
    }

    #[test]
    fn signed_headers_lists(s in any_text(80)) {
        for h in split_signed_headers(&s) {
            prop_assert!(!h.is_empty() && !h.contains(';'));
            prop_assert_eq!(h.to_ascii_lowercase(), h);
        }
    }

    /// `x-amz-date`: any text parses or not; real times round-trip; any i64 formats.
    #[test]
    fn amz_dates(junk in prop_oneof![any_text(30), "[0-9]{8}T[0-9]{6}Z", "[+-]?[0-9]{4,6}[0-9]{4}T[0-9]{6}Z"],
                 secs in -62_135_596_800i64..=253_402_300_799, any_secs in any::<i64>()) {
        if let Some(t) = parse_amz_date(&junk) {
            let _ = format_iso(t);
        }
        prop_assert_eq!(parse_amz_date(&format_amz_date(secs)), Some(secs));
        let _ = (format_amz_date(any_secs), format_iso(any_secs));
    }

    #[test]
    fn canonical_forms_never_panic(path in any_text(100), query in any_text(100)) {
        let uri = canonical_uri(&path);
        prop_assert!(uri.is_ascii());
        let q = canonical_query(&query, Some("X-Amz-Signature"));
        prop_assert!(q.is_ascii());
    }

    /// A request signed for test/test verifies (round trip); one hex digit of its signature
    /// changed, it is SignatureDoesNotMatch (403).
    #[test]
    fn sigv4_header_round_trip_and_tamper(req in signed_request(), at in 0usize..64) {
        let parts = build(&req.method, &req.uri, &req.headers).unwrap();
        let v = check(&parts).unwrap();
        prop_assert_eq!(v.access_key, AK);
        let mut headers = req.headers.clone();
        let (_, authz) = headers.last_mut().unwrap();
        let sig_at = authz.len() - 64 + at;
        let old = authz.as_bytes()[sig_at];
        let new = if old == b'0' { "1" } else { "0" };
        authz.replace_range(sig_at..sig_at + 1, new);
        let parts = build(&req.method, &req.uri, &headers).unwrap();
        let e = check(&parts).unwrap_err();
        prop_assert!(matches!(e, AuthError::SignatureDoesNotMatch { .. }), "{:?}", e);
        let s3 = S3Error::from(e);
        prop_assert_eq!(s3.code.status().as_u16(), 403);
    }

    /// issue 18, signed-header rule: a validly signed request with one more `x-amz-*` header
    /// that is not in SignedHeaders is refused 403 AccessDenied naming exactly that header,
    /// whatever its name, value or the signature.
    #[test]
    fn unsigned_amz_header_is_refused(
        req in signed_request(),
        name in "x-amz-[a-z0-9-]{1,16}",
        value in "[ -~]{0,20}",
    ) {
        prop_assume!(!req.headers.iter().any(|(n, _)| *n == name));
        let mut headers = req.headers.clone();
        headers.insert(1, (name.clone(), value));
        let parts = build(&req.method, &req.uri, &headers).unwrap();
        let e = check(&parts).unwrap_err();
        prop_assert!(matches!(&e, AuthError::HeadersNotSigned(n) if *n == vec![name.clone()]), "{:?}", e);
        let s3 = S3Error::from(e);
        prop_assert_eq!(s3.code.status().as_u16(), 403);
        prop_assert_eq!(s3.fields, vec![("HeadersNotSigned", name)]);
    }

    /// issue 18, signed-header rule as a function: it names `host` when unsigned, every present
    /// `x-amz-*` header absent from the list once, nothing signed, and nothing else.
    #[test]
    fn unsigned_headers_lists_exactly_the_unsigned(
        present in prop::collection::vec(("(x-amz-[a-c]{1,2}|x-amzn-a|content-[a-c]|host)", "[a-z]{0,4}"), 0..8),
        signed in prop::collection::vec("(x-amz-[a-c]{1,2}|host|content-a)", 0..6),
        presigned in any::<bool>(),
    ) {
        let mut h = http::HeaderMap::new();
        for (k, v) in &present {
            h.append(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        let got = super::unsigned_headers(&h, &signed, presigned);
        prop_assert_eq!(got.contains(&"host".to_string()), !signed.contains(&"host".to_string()));
        for name in &got {
            prop_assert!(!signed.contains(name));
            prop_assert!(name == "host" || name.starts_with("x-amz-"));
            prop_assert_eq!(got.iter().filter(|n| *n == name).count(), 1);
        }
        for (k, _) in &present {
            if k.starts_with("x-amz-") && !signed.contains(k) {
                prop_assert!(got.contains(k), "{} missing from {:?}", k, got);
            }
        }
    }

    /// The valid Authorization header mutated (truncated, spans duplicated or cut, bytes
    /// replaced, tokens inserted): verified, or a 4xx error.
    #[test]
    fn sigv4_header_mutated(
        (req, mutated) in signed_request().prop_flat_map(|req| {
            let authz = req.headers.last().map(|(_, v)| v.clone()).unwrap_or_default();
            (Just(req), mutate(authz.into_bytes()))
        }),
    ) {
        let Ok(value) = http::HeaderValue::from_bytes(&mutated) else { return Ok(()); };
        let mut parts = build(&req.method, &req.uri, &req.headers).unwrap();
        parts.headers.insert(http::header::AUTHORIZATION, value);
        if let Err(e) = check(&parts) {
            assert_auth_error(e);
        }
    }

    /// Random headers with SigV4, SigV2 or other Authorization values, and random dates.
    #[test]
    fn random_header_auth(
        authz in prop_oneof![
            any_text(120).prop_map(|s| format!("AWS4-HMAC-SHA256 {s}")),
            any_text(60).prop_map(|s| format!("AWS {s}")),
            any_text(60).prop_map(|s| format!("AWS test:{s}")),
            any_text(60),
            Just(format!("AWS4-HMAC-SHA256 Credential={AK}/{DATE}/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={}", "0".repeat(64))),
        ],
        date in prop_oneof![any_text(30), Just(AMZ_DATE.to_string()), "[0-9]{8}T[0-9]{6}Z"],
        http_date in prop_oneof![any_text(30), Just("Wed, 25 Nov 2026 12:00:00 GMT".to_string())],
        sha in prop_oneof![any_text(70), "[0-9a-fA-F]{64}", Just("STREAMING-X".to_string())],
        token in prop::option::of(any_text(40)),
    ) {
        let mut headers = vec![
            ("authorization".to_string(), authz),
            ("x-amz-date".to_string(), date),
            ("date".to_string(), http_date),
            ("x-amz-content-sha256".to_string(), sha),
            ("host".to_string(), "127.0.0.1".to_string()),
        ];
        if let Some(t) = token {
            headers.push(("x-amz-s3session-token".to_string(), t));
        }
        headers.retain(|(_, v)| http::HeaderValue::from_str(v).is_ok());
        let parts = build("GET", "/b/k", &headers).unwrap();
        if let Err(e) = check(&parts) {
            assert_auth_error(e);
        }
    }

    /// Presigned queries (SigV4 and SigV2) with random and half-valid parameters.
    #[test]
    fn presigned_queries(
        alg in prop_oneof![Just("AWS4-HMAC-SHA256".to_string()), any_text(20)],
        cred in prop_oneof![Just(format!("{AK}/{DATE}/us-east-1/s3/aws4_request")), any_text(60)],
        date in prop_oneof![Just(AMZ_DATE.to_string()), any_text(20), "[0-9]{8}T[0-9]{6}Z"],
        expires in prop_oneof![any_text(12), any::<i64>().prop_map(|n| n.to_string()), (0i64..700_000).prop_map(|n| n.to_string())],
        signed in prop_oneof![Just("host".to_string()), any_text(30)],
        sig in prop_oneof!["[0-9a-f]{64}", any_text(70)],
        drop in prop::collection::vec(any::<bool>(), 6),
        v2 in any::<bool>(),
    ) {
        let params: Vec<(&str, String)> = if v2 {
            vec![("AWSAccessKeyId", cred), ("Expires", expires), ("Signature", sig)]
        } else {
            vec![
                ("X-Amz-Algorithm", alg),
                ("X-Amz-Credential", cred),
                ("X-Amz-Date", date),
                ("X-Amz-Expires", expires),
                ("X-Amz-SignedHeaders", signed),
                ("X-Amz-Signature", sig),
            ]
        };
        let kept: Vec<_> = params.iter().zip(&drop).filter(|(_, d)| !**d).map(|(p, _)| p).collect();
        let kept = if kept.is_empty() { params.iter().take(1).collect() } else { kept };
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept.iter().map(|(n, v)| (*n, v.as_str())))
            .finish();
        let parts = build("GET", &format!("/b/k?{q}"), &[("host".into(), "h".into())]).unwrap();
        if let Err(e) = check(&parts) {
            assert_auth_error(e);
        }
    }

    /// SigV2 header and query signatures verify; a changed one does not (403).
    #[test]
    fn sigv2_round_trip(
        path in uri_text(8),
        amz in prop::collection::vec(("x-amz-meta-[a-z]{1,5}", "[ -~]{0,12}"), 0..3),
        query in any::<bool>(),
        flip in 0usize..20,
    ) {
        let uri = format!("/b/{path}");
        let Some(unsigned) = build("GET", &uri, &amz) else { return Ok(()); };
        let (date_line, mut headers) = if query {
            ((NOW_SECS + 60).to_string(), amz.clone())
        } else {
            let mut h = amz.clone();
            h.push(("date".to_string(), "Wed, 25 Nov 2026 12:00:00 GMT".to_string()));
            ("Wed, 25 Nov 2026 12:00:00 GMT".to_string(), h)
        };
        let unsigned = if query { unsigned } else { build("GET", &uri, &headers).unwrap() };
        let sts = super::sigv2::string_to_sign(&unsigned, &date_line, unsigned.uri.path());
        let mut mac = Hmac::<Sha1>::new_from_slice(SK.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        let good = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let mut bad = good.clone().into_bytes();
        let i = flip % bad.len();
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        for (sig, ok) in [(good, true), (bad, false)] {
            let parts = if query {
                let q = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("AWSAccessKeyId", AK), ("Expires", date_line.as_str()), ("Signature", sig.as_str())])
                    .finish();
                build("GET", &format!("{uri}?{q}"), &headers).unwrap()
            } else {
                headers.retain(|(n, _)| n != "authorization");
                headers.push(("authorization".to_string(), format!("AWS {AK}:{sig}")));
                build("GET", &uri, &headers).unwrap()
            };
            match check(&parts) {
                Ok(_) => prop_assert!(ok, "changed signature verified: {}", sig),
                Err(e) => {
                    prop_assert!(!ok, "{:?}", e);
                    prop_assert_eq!(S3Error::from(e).code.status().as_u16(), 403);
                }
            }
        }
    }
}
