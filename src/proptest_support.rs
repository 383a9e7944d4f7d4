//! Shared pieces of the property tests (`proptests` modules beside each parser): the case count,
//! which honours `PROPTEST_CASES` for long runs, and strategies for hostile input.
//!
//! CI runs each property with the count its test passes to [`config`]; a long run sets
//! `PROPTEST_CASES` (see docs/fuzzing.md), which then applies to every property.

use proptest::prelude::*;
use proptest::test_runner::Config;

/// The test runner configuration: `ci_cases` cases, or `PROPTEST_CASES` when set. Failures are
/// not persisted to files: each bug found gets a named regression unit test instead.
pub fn config(ci_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(ci_cases);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Arbitrary text: random bytes read lossily, any Unicode, or ASCII with the characters parsers
/// split on.
pub fn any_text(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..max)
            .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        prop::collection::vec(any::<char>(), 0..max).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec(
            prop::sample::select(vec![
                'a', 'Z', '0', '9', '/', '%', '=', '&', '?', ',', ';', ':', ' ', '\t', '-', '.',
                '"', '*', '+', '\\', '<', '>', '\n', '\r', '\u{0}', 'é',
            ]),
            0..max
        )
        .prop_map(|c| c.into_iter().collect()),
    ]
    .boxed()
}

/// Bytes a header value may hold. `http::HeaderValue` (like hyper on the wire) refuses control
/// characters but tab; those are replaced by a printable byte rather than filtered out, so long
/// runs never exhaust proptest's reject budget (random bytes are mostly refused as they come).
pub fn header_value(max: usize) -> BoxedStrategy<http::HeaderValue> {
    prop_oneof![
        any_text(max).prop_map(|s| s.into_bytes()),
        prop::collection::vec(any::<u8>(), 0..max),
    ]
    .prop_map(|mut b| {
        for c in &mut b {
            if (*c < 0x20 && *c != b'\t') || *c == 0x7f {
                *c = (*c & 0x1f) | 0x40; // '@', 'A'..'Z', '[', ..., '_'
            }
        }
        b
    })
    .prop_filter_map("not a header value", |b| {
        http::HeaderValue::from_bytes(&b).ok()
    })
    .boxed()
}

/// A header map with `names` (each maybe present, maybe repeated) holding values from `values`.
pub fn header_map(
    names: Vec<&'static str>,
    values: BoxedStrategy<http::HeaderValue>,
) -> BoxedStrategy<http::HeaderMap> {
    prop::collection::vec((prop::sample::select(names), values), 0..8)
        .prop_map(|pairs| {
            let mut h = http::HeaderMap::new();
            for (n, v) in pairs {
                h.append(http::HeaderName::from_static(n), v);
            }
            h
        })
        .boxed()
}

/// Mutations of a valid document: truncated, a span duplicated, a span deleted, bytes replaced,
/// a random token inserted.
pub fn mutate(valid: Vec<u8>) -> BoxedStrategy<Vec<u8>> {
    let len = valid.len().max(1);
    let tokens = prop::sample::select(vec![
        &b"<"[..],
        b">",
        b"</",
        b"/>",
        b"&",
        b"&amp;",
        b"&#0;",
        b"&#x110000;",
        b"&unknown;",
        b"<![CDATA[",
        b"]]>",
        b"<!--",
        b"-->",
        b"<?xml version=\"1.0\"?>",
        b"<!DOCTYPE a [<!ENTITY e \"x\">]>",
        b"\"",
        b"'",
        b"=",
        b"\xff\xfe",
        b"\0",
        b"99999999999999999999999999999999",
        b"-1",
        b"<Part>",
        b"</Part>",
        b"<Object><Key>k</Key></Object>",
        b"<Rule>",
    ]);
    let v1 = valid.clone();
    let v2 = valid.clone();
    let v3 = valid.clone();
    let v4 = valid.clone();
    let v5 = valid;
    prop_oneof![
        (0..len).prop_map(move |at| v1[..at.min(v1.len())].to_vec()),
        (0..len, 0..len).prop_map(move |(a, b)| {
            let (a, b) = (a.min(b).min(v2.len()), a.max(b).min(v2.len()));
            let mut out = v2[..b].to_vec();
            out.extend_from_slice(&v2[a..]);
            out
        }),
        (0..len, 0..len).prop_map(move |(a, b)| {
            let (a, b) = (a.min(b).min(v3.len()), a.max(b).min(v3.len()));
            let mut out = v3[..a].to_vec();
            out.extend_from_slice(&v3[b..]);
            out
        }),
        prop::collection::vec((0..len, any::<u8>()), 1..4).prop_map(move |edits| {
            let mut out = v4.clone();
            for (at, byte) in edits {
                if let Some(b) = out.get_mut(at) {
                    *b = byte;
                }
            }
            out
        }),
        (0..len, tokens).prop_map(move |(at, t)| {
            let at = at.min(v5.len());
            let mut out = v5[..at].to_vec();
            out.extend_from_slice(t);
            out.extend_from_slice(&v5[at..]);
            out
        }),
    ]
    .boxed()
}

/// XML-ish text: random sequences of tags, entities, declarations and text, often unbalanced.
pub fn xmlish(names: Vec<&'static str>) -> BoxedStrategy<Vec<u8>> {
    let token = prop_oneof![
        prop::sample::select(names.clone()).prop_map(|n| format!("<{n}>")),
        prop::sample::select(names.clone()).prop_map(|n| format!("</{n}>")),
        prop::sample::select(names).prop_map(|n| format!("<{n}/>")),
        prop::sample::select(vec![
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
            " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"",
            "<a:b xmlns:a=\"urn:x\">",
            "&lt;",
            "&#65;",
            "&bogus;",
            "<![CDATA[x]]>",
            "<!-- c -->",
            "true",
            "false",
            "1",
            "0",
            "-5",
            "10001",
            "4294967296",
            "\"etag\"",
            "AES256",
            "aws:kms",
            " ",
            "\n",
            "<",
            ">",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z0-9 ]{0,8}",
    ];
    prop::collection::vec(token, 0..40)
        .prop_map(|t| t.concat().into_bytes())
        .boxed()
}

/// `depth` levels of `<name>` around `inner`, closed again (or not).
pub fn nested(name: &str, depth: usize, inner: &str, closed: bool) -> Vec<u8> {
    let mut s = format!("<{name}>").repeat(depth);
    s.push_str(inner);
    if closed {
        s.push_str(&format!("</{name}>").repeat(depth));
    }
    s.into_bytes()
}

/// Asserts an error is one S3 answers a malformed request with: a 4xx (or 501 for operations
/// sealstore does not implement), never an InternalError.
pub fn assert_client_error(e: &crate::error::S3Error) {
    let status = e.code.status();
    assert!(
        status.is_client_error()
            || (status == http::StatusCode::NOT_IMPLEMENTED
                && e.code == crate::error::S3ErrorCode::NotImplemented),
        "malformed input gave {:?} ({status}): {}",
        e.code,
        e.message
    );
}
