//! Object tags: PutObjectTagging, GetObjectTagging and DeleteObjectTagging, and the tags of the
//! writes (`x-amz-tagging` on PutObject and CreateMultipartUpload, `x-amz-tagging-directive` on
//! CopyObject), with S3's limits and errors. Tags live sealed in the object's record
//! (`store::sealed`); directory buckets take none (S3 Express One Zone answers 501).

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use regex::Regex;

use super::versioning::{find_object, set_version_header};
use super::{ReqCtx, empty_response, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_TAGGING, X_AMZ_TAGGING_DIRECTIVE};
use crate::http::body::{Digest, read_required_xml_body};
use crate::http::xml::from_xml;
use crate::http::xml::tagging::{TaggingRequest, tagging_result};
use crate::store::{BucketMeta, ObjectMeta, StoreError};

/// An object's tags: (key, value) pairs, unique keys, ordered by key once validated.
pub type Tags = Vec<(String, String)>;

const MAX_TAGS: usize = 10;
/// Lengths in UTF-16 code units: "Amazon S3 object tags are internally represented in UTF-16",
/// where a character takes one or two positions (the user guide, "Categorizing your storage
/// using tags").
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

/// "Keys can only contain Unicode letters or numbers, white space, and the following symbols:
/// _ . : / = + @ -" (the user guide), as AWS's references write it as a pattern. White space is
/// the separators (`\p{Z}`), not tab or newline, which are controls.
static ALLOWED: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$").ok());

const HEADER_MESSAGE: &str = "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.";

fn invalid_tag(message: &str, key: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidTag, message).field("TagKey", key)
}

/// Whether `text` is a valid key or value: allowed characters, `min..=max` UTF-16 units.
fn valid_text(text: &str, min: usize, max: usize) -> bool {
    let len = text.encode_utf16().count();
    let chars_ok = ALLOWED.as_ref().is_some_and(|re| re.is_match(text));
    (min..=max).contains(&len) && chars_ok
}

/// S3's checks of a tag set, in S3's order: the count (`BadRequest`), then each tag in turn: a
/// repeated key, the reserved `aws:` prefix, the key, the value (`InvalidTag`, naming the tag).
/// Returns the tags ordered by key, as S3 lists them.
pub fn validate(mut tags: Tags) -> Result<Tags, S3Error> {
    if tags.len() > MAX_TAGS {
        return Err(S3Error::with_message(
            S3ErrorCode::BadRequest,
            "Object tags cannot be greater than 10",
        ));
    }
    let mut seen = HashSet::new();
    for (key, value) in &tags {
        if !seen.insert(key.as_str()) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
                key,
            ));
        }
        if key.starts_with("aws:") {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:", key));
        }
        if !valid_text(key, 1, MAX_KEY) {
            return Err(invalid_tag("The TagKey you have provided is invalid", key));
        }
        if !valid_text(value, 0, MAX_VALUE) {
            return Err(
                invalid_tag("The TagValue you have provided is invalid", key)
                    .field("TagValue", value.as_str()),
            );
        }
    }
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(tags)
}

/// One side of a `key=value` pair of the header: `+` is a space (form encoding, as Python's
/// `urlencode` writes it), then `%XX` escapes, which must be complete and decode to UTF-8.
fn decode_component(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The tags of `x-amz-tagging` (`k1=v1&k2=v2`, URL-query encoded), checked as S3 does; `None`
/// without the header. A pair that does not decode, an empty key, a key given twice or a pair
/// with a second `=` is S3's `InvalidArgument` on the header; then [`validate`].
pub fn from_header(headers: &HeaderMap) -> Result<Option<Tags>, S3Error> {
    let Some(value) = headers.get(X_AMZ_TAGGING) else {
        return Ok(None);
    };
    let raw = String::from_utf8_lossy(value.as_bytes());
    let invalid = || S3Error::invalid_argument(HEADER_MESSAGE, X_AMZ_TAGGING, &raw);
    if value.to_str().is_err() {
        return Err(invalid());
    }
    let mut tags = Tags::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if v.contains('=') {
            return Err(invalid());
        }
        let key = decode_component(k).ok_or_else(invalid)?;
        let value = decode_component(v).ok_or_else(invalid)?;
        if key.is_empty() || tags.iter().any(|(seen, _)| *seen == key) {
            return Err(invalid());
        }
        tags.push((key, value));
    }
    validate(tags).map(Some)
}

/// Directory buckets (S3 Express One Zone) store no tags: "Any requests that attempt to write
/// non-empty tags into directory buckets will receive a 501 Not Implemented status code" (the
/// CopyObject reference); the tagging operations are not supported there either. No public
/// source shows S3's message.
fn directory_refusal() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        "Object tagging is not supported by directory buckets.",
    )
}

/// The tags of a new object written by PutObject or CreateMultipartUpload: `x-amz-tagging`,
/// checked (an empty set is what a directory bucket allows).
pub fn for_write(headers: &HeaderMap, bucket: &BucketMeta) -> Result<Tags, S3Error> {
    let tags = from_header(headers)?.unwrap_or_default();
    if bucket.is_directory() && !tags.is_empty() {
        return Err(directory_refusal());
    }
    Ok(tags)
}

/// The tags of a copy: the source's (`x-amz-tagging-directive: COPY`, the default; S3 then
/// ignores `x-amz-tagging`), or `x-amz-tagging` (`REPLACE`; none when absent).
pub fn for_copy(
    headers: &HeaderMap,
    bucket: &BucketMeta,
    source_tags: &[(String, String)],
) -> Result<Tags, S3Error> {
    let directive = headers
        .get(X_AMZ_TAGGING_DIRECTIVE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let tags = match directive.as_deref() {
        None | Some("COPY") => source_tags.to_vec(),
        Some("REPLACE") => from_header(headers)?.unwrap_or_default(),
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Unknown tagging directive.",
                X_AMZ_TAGGING_DIRECTIVE,
                other,
            ));
        }
    };
    if bucket.is_directory() && !tags.is_empty() {
        return Err(directory_refusal());
    }
    Ok(tags)
}

/// The tags of a PutObjectTagging document (MalformedXML for anything but a `Tagging` document
/// with a `TagSet` of whole `Tag`s), checked.
pub fn parse_document(xml: &[u8]) -> Result<Tags, S3Error> {
    if super::encryption::root_name(xml).as_deref() != Some("Tagging") {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    let doc: TaggingRequest = from_xml(xml)?;
    let tags = doc.tag_set.tags.into_iter().map(|t| (t.key, t.value));
    validate(tags.collect())
}

pub async fn put_object_tagging(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    version: Option<&str>,
    body: Body,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(directory_refusal());
    }
    let headers = &ctx.parts.headers;
    let xml =
        read_required_xml_body(headers, &ctx.verified.payload, body, Digest::Required).await?;
    let tags = parse_document(&xml)?;
    let meta = replace(ctx, version, tags).await?;
    let mut res = empty_response(StatusCode::OK);
    set_version_header(&mut res, &bucket, &meta);
    Ok(res)
}

/// The tags of the addressed version replaced: S3's errors for a missing object or version or a
/// delete marker first (`find_object`), and S3's 409 OperationAborted when overwrites of the key
/// kept winning the race.
async fn replace(
    ctx: &ReqCtx<'_>,
    version: Option<&str>,
    tags: Tags,
) -> Result<ObjectMeta, S3Error> {
    find_object(&ctx.state.store, ctx.object_addr(), version).await?;
    match ctx
        .state
        .store
        .replace_object_tags(ctx.object_addr(), version, tags)
        .await
    {
        Ok(Some(meta)) => Ok(meta),
        // Deleted between the two reads.
        Ok(None) => Err(S3Error::no_such_key(ctx.key())),
        Err(StoreError::ConditionConflict) => Err(S3Error::new(S3ErrorCode::OperationAborted)),
        Err(e) => Err(e.into()),
    }
}

pub async fn get_object_tagging(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    version: Option<&str>,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(directory_refusal());
    }
    // The tags are sealed under the metadata key: an SSE-C object needs no customer key here.
    let meta = find_object(&ctx.state.store, ctx.object_addr(), version).await?;
    let mut res = xml_response(StatusCode::OK, tagging_result(&meta.tags));
    set_version_header(&mut res, &bucket, &meta);
    Ok(res)
}

pub async fn delete_object_tagging(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    version: Option<&str>,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(directory_refusal());
    }
    let meta = replace(ctx, version, Tags::new()).await?;
    let mut res = empty_response(StatusCode::NO_CONTENT);
    set_version_header(&mut res, &bucket, &meta);
    Ok(res)
}

#[cfg(test)]
#[path = "tagging_tests.rs"]
mod tests;
