//! What the object handlers share (PutObject, CopyObject, GetObject/HeadObject and the multipart
//! API), so no handler file borrows from another: the content headers and body length of a
//! write, the SSE-C key of a write and S3's rules for reading with one, and THE copy-source
//! resolution CopyObject and UploadPartCopy both use.

use http::HeaderMap;

use super::ReqCtx;
use super::access::CopySource;
use super::versioning::find_object;
use crate::crypto::ssec::CustomerKey;
use crate::crypto::{Encryption, SseRequest};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_COPY_SOURCE_PREFIX, X_AMZ_DECODED_CONTENT_LENGTH};
use crate::http::headers::{Conditionals, Precondition, STORED_CONTENT_HEADERS, header};
use crate::ops::sse_request;
use crate::store::{ObjectAddr, ObjectMeta};

/// The content headers a write stores, from the request, as the client spelled them.
pub fn content_headers(h: &HeaderMap) -> Vec<(String, String)> {
    STORED_CONTENT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = header(h, name)?;
            if *name != "content-encoding" {
                return Some((name.to_string(), value.to_string()));
            }
            let kept = without_aws_chunked(value);
            (!kept.is_empty()).then(|| (name.to_string(), kept))
        })
        .collect()
}

/// Content-Encoding without the `aws-chunked` token, which is transfer framing, not the object's
/// encoding, and the separator next to it; the rest is kept byte for byte, as S3 returns it
/// (`deflate, gzip` stays `deflate, gzip`). Empty when only `aws-chunked` was sent.
fn without_aws_chunked(value: &str) -> String {
    let is_chunked = |token: &str| token.trim().eq_ignore_ascii_case("aws-chunked");
    if !value.split(',').any(is_chunked) {
        return value.to_string();
    }
    value
        .split(',')
        .filter(|token| !is_chunked(token))
        .collect::<Vec<_>>()
        .join(",")
        .trim()
        .to_string()
}

/// Refuses a PutObject or UploadPart body whose length is missing or over `max`, before reading
/// anything.
pub fn check_body_length(ctx: &ReqCtx<'_>, max: u64) -> Result<(), S3Error> {
    let length = match ctx.header("content-length") {
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid Content-Length")
                .field("ArgumentName", "Content-Length")
        })?),
        None if ctx.parts.headers.contains_key("transfer-encoding") => None,
        None => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
    };
    // aws-chunked: the payload is x-amz-decoded-content-length, the framing aside.
    let decoded = ctx
        .header(X_AMZ_DECODED_CONTENT_LENGTH)
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(proposed) = decoded.or(length) else {
        return Ok(());
    };
    if proposed > max {
        return Err(S3Error::with_message(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size",
        )
        .field("ProposedSize", proposed.to_string())
        .field("MaxSizeAllowed", max.to_string()));
    }
    Ok(())
}

/// The key MD5 a write with an SSE-C key echoes.
pub fn customer_md5(request: &SseRequest) -> Option<String> {
    match request {
        SseRequest::Customer(c) => Some(c.md5_base64.clone()),
        _ => None,
    }
}

/// The SSE-C key of a write: the store seals the new object's checksums under it.
pub fn customer_key(request: &SseRequest) -> Option<CustomerKey> {
    match request {
        SseRequest::Customer(c) => Some(c.clone()),
        _ => None,
    }
}

/// S3's rules for reading an object with (or without) a customer key (the object's own, or a
/// copy source's).
pub fn check_customer_key(
    meta: &ObjectMeta,
    customer: Option<&CustomerKey>,
) -> Result<(), S3Error> {
    match (&meta.encryption, customer) {
        (Encryption::SseC { .. }, None) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.",
        )),
        (Encryption::SseC { verifier, .. }, Some(c)) if !c.matches(verifier) => {
            Err(S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key.",
            ))
        }
        (Encryption::SseC { .. }, Some(_)) => Ok(()),
        (_, Some(_)) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The encryption parameters are not applicable to this object.",
        )),
        (_, None) => Ok(()),
    }
}

/// A copy source object, resolved and allowed.
pub struct SourceObject {
    pub bucket: String,
    pub key: String,
    pub meta: ObjectMeta,
    /// The `x-amz-copy-source-server-side-encryption-customer-*` key, checked against the object.
    pub customer: Option<CustomerKey>,
    /// `x-amz-copy-source-version-id`: the version copied, once its bucket has a versioning
    /// state.
    pub version_header: Option<String>,
}

/// THE copy-source resolution of CopyObject and UploadPartCopy, after `access` has checked the
/// source's bucket: the object must exist, the request's source SSE-C key must fit it, and the
/// `x-amz-copy-source-if-*` conditions must hold.
pub async fn load_copy_source(
    ctx: &ReqCtx<'_>,
    source: CopySource,
) -> Result<SourceObject, S3Error> {
    let bucket = source.bucket.name;
    let addr = ObjectAddr {
        bucket: &bucket,
        key: &source.key,
    };
    // A delete marker as the source is refused as S3 refuses it: NoSuchKey for the current
    // version, 400 InvalidRequest when named by id.
    let meta = match find_object(&ctx.state.store, addr, source.version_id.as_deref()).await {
        Err(e) if e.code == S3ErrorCode::MethodNotAllowed => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.",
            ));
        }
        other => other?,
    };
    let version_header = (source.bucket.versioning.is_some() || meta.version_id.is_some())
        .then(|| meta.version_label().to_string());
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::COPY_SOURCE)?;
    check_customer_key(&meta, customer.as_ref())?;
    let conditions = Conditionals::from_headers(&ctx.parts.headers, X_AMZ_COPY_SOURCE_PREFIX);
    if conditions.evaluate(&meta.etag, meta.last_modified_millis) != Precondition::Proceed {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed)
            .field("Condition", "x-amz-copy-source-If-Match"));
    }
    Ok(SourceObject {
        bucket,
        key: source.key,
        meta,
        customer,
        version_header,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_chunked_is_not_stored_as_content_encoding() {
        let stored = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("content-encoding", v.parse().unwrap());
            content_headers(&h)
                .into_iter()
                .find(|(n, _)| n == "content-encoding")
                .map(|(_, v)| v)
        };
        for (sent, kept) in [
            ("aws-chunked", None),
            ("AWS-Chunked", None),
            ("aws-chunked,gzip", Some("gzip")),
            ("aws-chunked, gzip", Some("gzip")),
            ("gzip,aws-chunked", Some("gzip")),
            ("gzip, aws-chunked", Some("gzip")),
            ("gzip, aws-chunked, br", Some("gzip, br")),
            ("gzip", Some("gzip")),
            ("deflate, gzip", Some("deflate, gzip")),
            ("deflate,gzip", Some("deflate,gzip")),
            ("deflate ,  gzip", Some("deflate ,  gzip")),
            ("x-custom", Some("x-custom")),
        ] {
            assert_eq!(stored(sent).as_deref(), kept, "{sent:?}");
        }
    }
}
