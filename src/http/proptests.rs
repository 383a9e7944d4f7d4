//! Property tests of the request parsers in `http`: routing (method, path, query, Host), and the
//! Range / conditional / date headers. Hostile input gives a route or a 4xx S3 error, never a
//! panic; valid input round-trips.

use http::{HeaderMap, HeaderValue, Method};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use super::headers::{
    Conditionals, Precondition, RangeSpec, etag_matches, parse_range, user_metadata,
};
use super::router::{MAX_KEY_BYTES, Query, Route, virtual_host_bucket};
use crate::clock::{http_date, parse_http_date};
use crate::error::S3ErrorCode;
use crate::proptest_support::{any_text, assert_client_error, config, header_map, header_value};

/// What a client percent-encodes in a key (everything but unreserved characters and `/`).
const KEY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        prop::sample::select(vec![
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::HEAD,
            Method::OPTIONS,
            Method::PATCH,
            Method::TRACE,
            Method::CONNECT,
        ]),
        "[A-Za-z!#$%&'*+.^_`|~0-9-]{1,12}"
            .prop_filter_map("token", |m| { Method::from_bytes(m.as_bytes()).ok() }),
    ]
}

/// Paths: random text, or segments of `..`, `.`, empty, percent-encodings (valid, invalid,
/// non-UTF-8) and long runs.
fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        Just("..".to_string()),
        Just(".".to_string()),
        Just(String::new()),
        Just("%".to_string()),
        Just("%zz".to_string()),
        Just("%ff%fe".to_string()),
        Just("%c3%a9".to_string()),
        Just("%2F".to_string()),
        Just("%00".to_string()),
        "[a-z0-9.-]{1,70}",
        "(%[0-9A-Fa-f]{2}){1,6}",
        (1usize..1200).prop_map(|n| "k".repeat(n)),
        any_text(40),
    ];
    prop_oneof![
        prop::collection::vec(segment, 0..6).prop_map(|s| format!("/{}", s.join("/"))),
        any_text(200),
    ]
}

/// Raw query strings: random text, or `name[=value]` pairs of S3 keywords and junk.
fn raw_query() -> impl Strategy<Value = Option<String>> {
    let name = prop_oneof![
        prop::sample::select(vec![
            "acl",
            "uploads",
            "uploadId",
            "partNumber",
            "versionId",
            "versions",
            "delete",
            "encryption",
            "session",
            "location",
            "list-type",
            "max-directory-buckets",
            "cors",
            "tagging",
            "analytics",
            "select",
            "attributes",
            "X-Amz-Credential",
            "x-id",
        ])
        .prop_map(str::to_string),
        any_text(12),
    ];
    let pair = (name, prop::option::of(any_text(12))).prop_map(|(n, v)| match v {
        Some(v) => format!("{n}={v}"),
        None => n,
    });
    prop::option::of(prop_oneof![
        prop::collection::vec(pair, 0..5).prop_map(|p| p.join("&")),
        any_text(80),
    ])
}

fn headers() -> impl Strategy<Value = HeaderMap> {
    let values = prop_oneof![
        header_value(60),
        Just(HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/s3express/aws4_request, SignedHeaders=host, Signature=00"
        )),
        Just(HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=")),
        Just(HeaderValue::from_static("Credential=a/b/c")),
        Just(HeaderValue::from_static("photos.localhost:9000")),
        Just(HeaderValue::from_static("localhost:")),
        Just(HeaderValue::from_static(".localhost")),
        Just(HeaderValue::from_static("src/k")),
    ]
    .boxed();
    header_map(
        vec!["host", "authorization", "x-amz-copy-source", "x-amz-date"],
        values,
    )
}

proptest! {
    #![proptest_config(config(3000))]

    /// Any method, path, query and headers: a route whose key fits, or a 4xx error.
    #[test]
    fn router_never_panics(
        m in method(),
        p in path(),
        q in raw_query(),
        h in headers(),
        domain in prop_oneof![Just("localhost".to_string()), any_text(12)],
    ) {
        let query = Query::parse(q.as_deref());
        match Route::from_request(&m, &p, &query, &h, &domain) {
            Ok(r) => {
                prop_assert!(r.bucket.as_deref().is_none_or(|b| !b.is_empty()));
                prop_assert!(r.key.as_deref().is_none_or(|k| !k.is_empty() && k.len() <= MAX_KEY_BYTES));
                let _ = r.endpoint.name();
            }
            Err(e) => {
                assert_client_error(&e);
                prop_assert!(matches!(
                    e.code,
                    S3ErrorCode::InvalidURI | S3ErrorCode::KeyTooLongError | S3ErrorCode::MethodNotAllowed
                ), "{:?}", e.code);
            }
        }
    }

    /// A percent-encoded key routes back to itself, path style and virtual-hosted style; a key
    /// over 1024 bytes is KeyTooLongError (400).
    #[test]
    fn keys_round_trip(
        bucket in "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        key in prop_oneof![
            any_text(300),
            (1usize..1100, prop::sample::select(vec!["k", "/", ".", "é", "%"])).prop_map(|(n, c)| c.repeat(n)),
        ].prop_filter("non-empty", |k| !k.is_empty()),
        port in prop::option::of(1u16..),
    ) {
        let encoded = utf8_percent_encode(&key, KEY_SET).to_string();
        let mut h = HeaderMap::new();
        h.insert("host", HeaderValue::from_static("127.0.0.1:9000"));
        let path_style = Route::from_request(&Method::PUT, &format!("/{bucket}/{encoded}"), &Query::default(), &h, "localhost");
        let host = match port {
            Some(p) => format!("{bucket}.localhost:{p}"),
            None => format!("{bucket}.localhost"),
        };
        h.insert("host", HeaderValue::from_str(&host).unwrap());
        let virtual_style = Route::from_request(&Method::PUT, &format!("/{encoded}"), &Query::default(), &h, "localhost");
        for r in [path_style, virtual_style] {
            if key.len() > MAX_KEY_BYTES {
                let e = r.unwrap_err();
                prop_assert_eq!(e.code, S3ErrorCode::KeyTooLongError);
                prop_assert_eq!(e.code.status().as_u16(), 400);
            } else {
                let r = r.unwrap();
                prop_assert_eq!(r.bucket.as_deref(), Some(bucket.as_str()));
                prop_assert_eq!(r.key.as_deref(), Some(key.as_str()));
                prop_assert_eq!(r.endpoint, super::router::Endpoint::PutObject);
            }
        }
    }

    /// Names and values encoded as a form decode to themselves, in order.
    #[test]
    fn query_round_trips(pairs in prop::collection::vec((any_text(20), any_text(20)), 0..6)) {
        let raw = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let q = Query::parse(Some(&raw));
        prop_assert_eq!(q.0, pairs);
    }

    #[test]
    fn query_parse_never_panics(raw in any_text(200)) {
        let q = Query::parse(Some(&raw));
        let _ = (q.has("acl"), q.get("uploadId"));
    }

    /// Any Host: a bucket only when the host really is `<bucket>.<domain>[:port]`.
    #[test]
    fn virtual_host_parsing(host in any_text(60), domain in any_text(12)) {
        if let Some(b) = virtual_host_bucket(&host, &domain) {
            prop_assert!(!b.is_empty());
            let prefix = format!("{b}.{domain}");
            prop_assert!(host.starts_with(&prefix));
        }
    }

    #[test]
    fn virtual_host_round_trips(
        bucket in "[a-z0-9.-]{1,63}",
        domain in "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,2}",
        port in prop::option::of(any::<u16>()),
    ) {
        let host = match port {
            Some(p) => format!("{bucket}.{domain}:{p}"),
            None => format!("{bucket}.{domain}"),
        };
        prop_assert_eq!(virtual_host_bucket(&host, &domain), Some(bucket));
    }

    /// Any Range value: ignored, or resolved inside the object, or InvalidRange (416).
    #[test]
    fn range_never_panics(
        raw in prop_oneof![
            any_text(40),
            "bytes=[0-9]{0,25}-[0-9]{0,25}",
            " ?bytes= ?-?[0-9]{0,22} ?- ?[0-9]{0,22}(,[0-9]-[0-9])?",
        ],
        size in prop_oneof![Just(0u64), 0u64..100_000, any::<u64>()],
    ) {
        if let Some(spec) = parse_range(&raw) {
            match spec.resolve(size, &raw) {
                Ok(r) => {
                    prop_assert!(r.start <= r.end && r.end < size, "{:?} of {}", r, size);
                    prop_assert!(!r.is_empty() && r.len() <= size);
                    let _ = r.content_range(size);
                }
                Err(e) => {
                    prop_assert_eq!(e.code, S3ErrorCode::InvalidRange);
                    prop_assert_eq!(e.code.status().as_u16(), 416);
                }
            }
        }
    }

    #[test]
    fn range_round_trips(a in any::<u64>(), b in any::<u64>(), n in 1u64..) {
        let (s, e) = (a.min(b), a.max(b));
        prop_assert_eq!(parse_range(&format!("bytes={s}-{e}")), Some(RangeSpec::FromTo(s, e)));
        prop_assert_eq!(parse_range(&format!("bytes={s}-")), Some(RangeSpec::From(s)));
        prop_assert_eq!(parse_range(&format!("bytes=-{n}")), Some(RangeSpec::Suffix(n)));
    }

    /// Any conditional headers (object and copy-source names) evaluate without panicking.
    #[test]
    fn conditionals_never_panic(
        h in header_map(
            vec![
                "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
                "x-amz-copy-source-if-match", "x-amz-copy-source-if-none-match",
                "x-amz-copy-source-if-modified-since", "x-amz-copy-source-if-unmodified-since",
                "x-amz-meta-a", "x-amz-meta-", "x-amz-meta-b",
            ],
            prop_oneof![
                header_value(40),
                Just(HeaderValue::from_static("Wed, 01 Jan 2025 00:00:00 GMT")),
                Just(HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT")),
                Just(HeaderValue::from_static("Fri, 31 Dec 9999 23:59:59 GMT")),
                Just(HeaderValue::from_static("\"abc\", W/\"x\", *")),
            ].boxed(),
        ),
        etag in any_text(20),
        millis in any::<i64>(),
    ) {
        for prefix in ["", "x-amz-copy-source-"] {
            let c = Conditionals::from_headers(&h, prefix);
            let _ = c.evaluate(&etag, millis);
        }
        let meta = user_metadata(&h);
        prop_assert!(meta.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// If-Match / If-None-Match naming the ETag (quoted, weak, in a list) match it.
    #[test]
    fn etag_lists_match(etag in "[0-9a-f]{32}(-[0-9]{1,5})?", other in "[0-9a-f]{32}", weak in any::<bool>()) {
        let w = if weak { "W/" } else { "" };
        let list = format!("\"{other}\", {w}\"{etag}\"");
        prop_assert!(etag_matches(&list, &etag));
        prop_assert_eq!(etag_matches(&format!("\"{other}\""), &etag), other == etag);
        let c = Conditionals { if_match: Some(format!("\"{etag}\"")), ..Default::default() };
        prop_assert_eq!(c.evaluate(&etag, 0), Precondition::Proceed);
        let c = Conditionals { if_none_match: Some(format!("\"{etag}\"")), ..Default::default() };
        prop_assert_eq!(c.evaluate(&etag, 0), Precondition::NotModified);
    }

    /// HTTP dates round-trip at whole seconds (years 1970..=9999); any text parses or not.
    #[test]
    fn http_dates(secs in 0i64..=253_402_300_799, junk in any_text(40)) {
        prop_assert_eq!(parse_http_date(&http_date(secs * 1000 + 999)), Some(secs));
        let _ = parse_http_date(&junk);
    }
}
