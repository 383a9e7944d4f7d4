//! Typed views of the request headers handlers care about: `Range`, the `If-*` conditionals and
//! the stored content headers and `x-amz-meta-*` metadata. The clock and date forms are in
//! `clock`, the resolved range in `byte_range` (leaf modules, which the lower layers use too).

use http::HeaderMap;

use crate::byte_range::ByteRange;
use crate::clock::parse_http_date;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::X_AMZ_META_PREFIX;
use crate::store::WriteCondition;

/// The value of a header as text, if present and visible ASCII/UTF-8.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The syntactic forms of one `Range: bytes=` spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    FromTo(u64, u64),
    From(u64),
    Suffix(u64),
}

/// Parses `Range`. S3 ignores a header it cannot parse (and multi-range requests), serving the whole
/// object, so those come back as `None`.
pub fn parse_range(value: &str) -> Option<RangeSpec> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, false) => num(b).map(RangeSpec::Suffix),
        (false, true) => num(a).map(RangeSpec::From),
        (false, false) => {
            let (s, e) = (num(a)?, num(b)?);
            if e < s {
                None
            } else {
                Some(RangeSpec::FromTo(s, e))
            }
        }
        (true, true) => None,
    }
}

impl RangeSpec {
    /// Resolves against the object size: `Err(InvalidRange)` when unsatisfiable, as S3 answers.
    pub fn resolve(self, size: u64, raw: &str) -> Result<ByteRange, S3Error> {
        let unsatisfiable = || {
            S3Error::new(S3ErrorCode::InvalidRange)
                .field("RangeRequested", raw)
                .field("ActualObjectSize", size.to_string())
        };
        match self {
            RangeSpec::FromTo(s, e) if s < size => Ok(ByteRange {
                start: s,
                end: e.min(size - 1),
            }),
            RangeSpec::From(s) if s < size => Ok(ByteRange {
                start: s,
                end: size - 1,
            }),
            RangeSpec::Suffix(n) if n > 0 && size > 0 => Ok(ByteRange {
                start: size.saturating_sub(n),
                end: size - 1,
            }),
            _ => Err(unsatisfiable()),
        }
    }
}

/// The outcome of evaluating `If-*` headers against an object.
#[derive(Debug, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    NotModified,
    Failed,
}

/// The four conditional headers, for a GET/HEAD or (with `x-amz-copy-source-` names) a copy source.
#[derive(Debug, Default)]
pub struct Conditionals {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

impl Conditionals {
    pub fn from_headers(h: &HeaderMap, prefix: &str) -> Self {
        let get = |n: &str| header(h, &format!("{prefix}{n}")).map(str::to_string);
        Conditionals {
            if_match: get("if-match"),
            if_none_match: get("if-none-match"),
            if_modified_since: get("if-modified-since").and_then(|v| parse_http_date(&v)),
            if_unmodified_since: get("if-unmodified-since").and_then(|v| parse_http_date(&v)),
        }
    }

    /// S3's order: If-Match (or else If-Unmodified-Since) fails with 412 first; then If-None-Match
    /// (or else If-Modified-Since) gives 304. Dates compare at whole seconds, as Last-Modified does.
    pub fn evaluate(&self, etag: &str, last_modified_millis: i64) -> Precondition {
        let modified = last_modified_millis.div_euclid(1000);
        match &self.if_match {
            Some(m) if !etag_matches(m, etag) => return Precondition::Failed,
            Some(_) => {}
            None => {
                if let Some(t) = self.if_unmodified_since {
                    if modified > t {
                        return Precondition::Failed;
                    }
                }
            }
        }
        match &self.if_none_match {
            Some(m) if etag_matches(m, etag) => return Precondition::NotModified,
            Some(_) => {}
            None => {
                if let Some(t) = self.if_modified_since {
                    if modified <= t {
                        return Precondition::NotModified;
                    }
                }
            }
        }
        Precondition::Proceed
    }
}

/// Compares an `If-Match`-style list (`"a", "b"`, `*`, quoted or not) with an unquoted ETag.
pub fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        let c = candidate.strip_prefix("W/").unwrap_or(candidate);
        c == "*" || c.trim_matches('"') == etag
    })
}

/// The entity tags of an `If-Match` list, unquoted (`W/` dropped; `*` kept as itself).
pub fn etag_list(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .map(|c| {
            c.strip_prefix("W/")
                .unwrap_or(c)
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// The condition of a write (PutObject, CopyObject, CompleteMultipartUpload): `If-None-Match`
/// takes only `*` and cannot be combined with `If-Match`; S3 answers both with 501
/// NotImplemented, naming the header.
pub fn write_condition(h: &HeaderMap) -> Result<WriteCondition, S3Error> {
    let not_implemented =
        |name: &str| S3Error::new(S3ErrorCode::NotImplemented).field("Header", name);
    let if_match = h.get(http::header::IF_MATCH);
    let if_none_match = h.get(http::header::IF_NONE_MATCH);
    match (if_match, if_none_match) {
        (None, None) => Ok(WriteCondition::None),
        (Some(_), Some(_)) => Err(not_implemented("If-None-Match")),
        (None, Some(v)) => match v.to_str().map(str::trim) {
            Ok("*") => Ok(WriteCondition::Absent),
            _ => Err(not_implemented("If-None-Match")),
        },
        (Some(v), None) => delete_condition_value(v.to_str().ok()),
    }
}

/// The condition of a DeleteObject (`If-Match`) or of one DeleteObjects entry (its `ETag`).
pub fn delete_condition(h: &HeaderMap) -> Result<WriteCondition, S3Error> {
    match h.get(http::header::IF_MATCH) {
        None => Ok(WriteCondition::None),
        Some(v) => delete_condition_value(v.to_str().ok()),
    }
}

/// `If-Match: <etags>` as a condition; a value that is not text matches no ETag (412).
pub fn delete_condition_value(v: Option<&str>) -> Result<WriteCondition, S3Error> {
    Ok(WriteCondition::ETagIn(v.map(etag_list).unwrap_or_default()))
}

/// The content headers S3 stores with an object and returns on GET/HEAD.
pub const STORED_CONTENT_HEADERS: [&str; 6] = [
    "content-type",
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// Collects `x-amz-meta-*` headers (names lower-cased, as S3 returns them).
pub fn user_metadata(h: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in h {
        if let Some(suffix) = name.as_str().strip_prefix(X_AMZ_META_PREFIX) {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match out.iter_mut().find(|(n, _)| n == suffix) {
                Some((_, v)) => {
                    v.push(',');
                    v.push_str(&value);
                }
                None => out.push((suffix.to_string(), value)),
            }
        }
    }
    out.sort();
    out
}

/// The most user metadata S3 stores with an object: the UTF-8 bytes of every name (without
/// `x-amz-meta-`) and value, summed.
pub const MAX_USER_METADATA: usize = 2 * 1024;

/// Refuses a request whose `x-amz-meta-*` headers are over [`MAX_USER_METADATA`].
pub fn check_user_metadata_size(h: &HeaderMap) -> Result<(), S3Error> {
    let size: usize = h
        .iter()
        .filter_map(|(name, value)| {
            let suffix = name.as_str().strip_prefix(X_AMZ_META_PREFIX)?;
            Some(suffix.len() + value.len())
        })
        .sum();
    if size > MAX_USER_METADATA {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge)
            .field("Size", size.to_string())
            .field("MaxSizeAllowed", MAX_USER_METADATA.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_conditions_parse_as_s3_takes_them() {
        let h = |pairs: &[(&str, &str)]| crate::test_headers::header_map(pairs);
        assert_eq!(write_condition(&h(&[])).unwrap(), WriteCondition::None);
        assert_eq!(
            write_condition(&h(&[("if-none-match", " * ")])).unwrap(),
            WriteCondition::Absent
        );
        assert_eq!(
            write_condition(&h(&[("if-match", "\"a\", W/\"b\"")])).unwrap(),
            WriteCondition::ETagIn(vec!["a".into(), "b".into()])
        );
        for bad in [
            vec![("if-none-match", "\"a\"")],
            vec![("if-none-match", "*"), ("if-match", "\"a\"")],
        ] {
            let e = write_condition(&h(&bad)).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::NotImplemented);
        }
    }

    #[test]
    fn range_forms() {
        assert_eq!(parse_range("bytes=0-9"), Some(RangeSpec::FromTo(0, 9)));
        assert_eq!(parse_range("bytes=5-"), Some(RangeSpec::From(5)));
        assert_eq!(parse_range("bytes=-5"), Some(RangeSpec::Suffix(5)));
        assert_eq!(parse_range("bytes=9-0"), None);
        assert_eq!(parse_range("bytes=0-1,3-4"), None);
        assert_eq!(parse_range("items=0-1"), None);
        assert_eq!(parse_range("bytes=-"), None);
    }

    #[test]
    fn range_resolution() {
        let r = RangeSpec::FromTo(2, 100).resolve(10, "").unwrap();
        assert_eq!((r.start, r.end, r.len()), (2, 9, 8));
        assert_eq!(r.content_range(10), "bytes 2-9/10");
        let r = RangeSpec::Suffix(3).resolve(10, "").unwrap();
        assert_eq!((r.start, r.end), (7, 9));
        let r = RangeSpec::Suffix(30).resolve(10, "").unwrap();
        assert_eq!((r.start, r.end), (0, 9));
        assert_eq!(
            RangeSpec::From(10)
                .resolve(10, "bytes=10-")
                .unwrap_err()
                .code,
            S3ErrorCode::InvalidRange
        );
        assert!(RangeSpec::From(0).resolve(0, "").is_err());
        assert!(RangeSpec::Suffix(0).resolve(10, "").is_err());
    }

    #[test]
    fn conditionals_follow_s3_precedence() {
        let etag = "abc";
        let lm = 1_000_000_000_500; // ms
        let secs = 1_000_000_000;
        let c = Conditionals {
            if_match: Some("\"abc\"".into()),
            if_unmodified_since: Some(secs - 10),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::Proceed);
        let c = Conditionals {
            if_match: Some("\"zzz\"".into()),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::Failed);
        let c = Conditionals {
            if_unmodified_since: Some(secs - 1),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::Failed);
        let c = Conditionals {
            if_none_match: Some("\"abc\"".into()),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::NotModified);
        let c = Conditionals {
            if_none_match: Some("\"x\"".into()),
            if_modified_since: Some(secs + 5),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::Proceed);
        let c = Conditionals {
            if_modified_since: Some(secs),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::NotModified);
        let c = Conditionals {
            if_modified_since: Some(secs - 1),
            ..Default::default()
        };
        assert_eq!(c.evaluate(etag, lm), Precondition::Proceed);
        assert!(etag_matches("*", etag));
    }
}
