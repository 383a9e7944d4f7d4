//! PutObject and CopyObject. Both store bytes through `object_io::write_body` and make the object
//! visible with one metadata commit.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::object_get::check_customer_key;
use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::clock::{iso8601, now_millis};
use crate::crypto::{SseRequest, sse, ssec};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{
    Conditionals, Precondition, STORED_CONTENT_HEADERS, check_user_metadata_size, header,
    user_metadata,
};
use crate::http::xml::S3_XMLNS;
use crate::integrity::checksum::Checksum;
use crate::integrity::{ChecksumAlgorithm, Expectations, RequestBody};
use crate::object_io::{self, MAX_OBJECT_SIZE, ObjectRead, WrittenBody};
use crate::ops::{sse_request, write_encryption};
use crate::store::{ObjectAddr, ObjectMeta};
use crate::xml_text::escape;

/// The content headers a write stores, from the request. `aws-chunked` is transfer framing, not
/// the object's encoding, so it is dropped from Content-Encoding.
pub(super) fn content_headers(h: &HeaderMap) -> Vec<(String, String)> {
    STORED_CONTENT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = header(h, name)?;
            if *name != "content-encoding" {
                return Some((name.to_string(), value.to_string()));
            }
            let kept: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
                .collect();
            (!kept.is_empty()).then(|| (name.to_string(), kept.join(",")))
        })
        .collect()
}

fn new_meta(
    written: WrittenBody,
    content_headers: Vec<(String, String)>,
    user: Vec<(String, String)>,
) -> ObjectMeta {
    ObjectMeta {
        size: written.size,
        etag: written.etag,
        last_modified_millis: now_millis(),
        content_headers,
        user_metadata: user,
        checksum: Some(written.checksum),
        composite_checksum: false,
        encryption: written.encryption,
        body: written.body,
        seal: None,
    }
}

/// The response headers of a write: ETag, checksum, and the SSE headers of the new object.
fn write_response(res: &mut Response, meta: &ObjectMeta, customer_md5: Option<&str>) {
    set_header(res, "etag", &format!("\"{}\"", meta.etag));
    if let Some(c) = &meta.checksum {
        checksum_headers(res, c);
    }
    for (name, value) in sse::response_headers(&meta.encryption, customer_md5, true) {
        set_header(res, name, &value);
    }
}

pub(super) fn customer_md5(request: &SseRequest) -> Option<String> {
    match request {
        SseRequest::Customer(c) => Some(c.md5_base64.clone()),
        _ => None,
    }
}

/// The SSE-C key of a write: the store seals the new object's checksums under it.
pub(super) fn customer_key(request: &SseRequest) -> Option<ssec::CustomerKey> {
    match request {
        SseRequest::Customer(c) => Some(c.clone()),
        _ => None,
    }
}

/// `x-amz-checksum-<alg>` and `x-amz-checksum-type` of a stored object.
pub fn checksum_headers(res: &mut Response, checksum: &Checksum) {
    set_header(res, checksum.algorithm.header(), &checksum.base64());
    set_header(res, "x-amz-checksum-type", "FULL_OBJECT");
}

/// Refuses a PutObject or UploadPart body whose length is missing or over `max`, before reading
/// anything.
pub(super) fn check_body_length(ctx: &ReqCtx<'_>, max: u64) -> Result<(), S3Error> {
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
        .header("x-amz-decoded-content-length")
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

pub async fn put_object(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    let bucket = ctx.bucket().await?;
    ctx.check_canned_acl()?;
    check_body_length(ctx, MAX_OBJECT_SIZE)?;
    check_user_metadata_size(&ctx.parts.headers)?;
    let request = write_encryption::for_write(ctx, &bucket).await?.request;
    let md5 = customer_md5(&request);
    let customer = customer_key(&request);
    let expect = Expectations::from_headers(&ctx.parts.headers, &ctx.verified.payload)?;
    // The plan resolves KMS keys: an unknown key fails here, before a byte is read.
    let plan = ctx
        .state
        .crypto
        .plan(
            &ctx.state.store,
            &ctx.verified.account_id,
            ctx.bucket_name(),
            request,
        )
        .await?;
    let body = RequestBody::new(body.into_data_stream(), expect, MAX_OBJECT_SIZE);
    let written = object_io::write_body(ctx.state, ctx.object_addr(), &plan, body).await?;
    let h = &ctx.parts.headers;
    let inline = written.inline.clone();
    let meta = new_meta(written, content_headers(h), user_metadata(h));
    let mut res = empty_response(StatusCode::OK);
    write_response(&mut res, &meta, md5.as_deref());
    ctx.state
        .store
        .commit_object(ctx.object_addr(), meta, inline, customer.as_ref())
        .await?;
    Ok(res)
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`.
pub(super) fn parse_copy_source(value: &str) -> Result<(String, String), S3Error> {
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .field("ArgumentName", "x-amz-copy-source")
        .field("ArgumentValue", value)
    };
    let (path, version) = match value.split_once('?') {
        Some((p, q)) => (p, q.strip_prefix("versionId=")),
        None => (value, None),
    };
    if let Some(v) = version.filter(|v| *v != "null") {
        return Err(S3Error::invalid_argument(
            "Invalid version id specified",
            "versionId",
            v,
        ));
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(invalid()),
    }
}

/// The checksum algorithm of the copy: `x-amz-checksum-algorithm` if asked, else the source's.
fn copy_checksum_algorithm(
    ctx: &ReqCtx<'_>,
    source: &ObjectMeta,
) -> Result<ChecksumAlgorithm, S3Error> {
    match ctx.header("x-amz-checksum-algorithm") {
        Some(v) => ChecksumAlgorithm::from_name(v).ok_or_else(|| {
            S3Error::invalid_argument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", "x-amz-checksum-algorithm", v)
        }),
        None => Ok(source.checksum.as_ref().map(|c| c.algorithm).unwrap_or(ChecksumAlgorithm::Crc64Nvme)),
    }
}

pub async fn copy_object(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    let bucket = ctx.bucket().await?;
    ctx.check_canned_acl()?;
    let (src_bucket, src_key) = parse_copy_source(ctx.header("x-amz-copy-source").unwrap_or(""))?;
    ctx.owned_bucket(&src_bucket, "x-amz-source-expected-bucket-owner")
        .await?;
    let store = &ctx.state.store;
    let src = ObjectAddr {
        bucket: &src_bucket,
        key: &src_key,
    };
    let mut source = store
        .object(src)
        .await?
        .ok_or_else(|| S3Error::no_such_key(&src_key))?;
    let source_key = sse_request::customer_key(&ctx.parts.headers, sse_request::COPY_SOURCE)?;
    check_customer_key(&source, source_key.as_ref())?;
    if let Some(k) = &source_key {
        // The copy takes the source's checksum algorithm: an SSE-C source's is sealed under its key.
        store.unlock_object(src, &mut source, k)?;
    }
    let conditions = Conditionals::from_headers(&ctx.parts.headers, "x-amz-copy-source-");
    if conditions.evaluate(&source.etag, source.last_modified_millis) != Precondition::Proceed {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed)
            .field("Condition", "x-amz-copy-source-If-Match"));
    }
    let replace = match ctx.header("x-amz-metadata-directive").unwrap_or("COPY") {
        "COPY" => false,
        "REPLACE" => true,
        other => {
            return Err(S3Error::invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                other,
            ));
        }
    };
    if replace {
        check_user_metadata_size(&ctx.parts.headers)?;
    }
    let algorithm = copy_checksum_algorithm(ctx, &source)?;
    // The bucket's rules cannot refuse a write without SSE headers, so deciding the encryption
    // before the copy-onto-itself check keeps S3's error order.
    let encryption = write_encryption::for_write(ctx, &bucket).await?;
    let changes_something =
        replace || ctx.header("x-amz-checksum-algorithm").is_some() || encryption.explicit;
    if src_bucket == ctx.bucket_name() && src_key == ctx.key() && !changes_something {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let request = encryption.request;
    let md5 = customer_md5(&request);
    let customer = customer_key(&request);
    let plan = ctx
        .state
        .crypto
        .plan(store, &ctx.verified.account_id, ctx.bucket_name(), request)
        .await?;
    let account = &ctx.verified.account_id;
    let read = ObjectRead {
        account,
        addr: src,
        meta: &source,
        range: None,
        customer: source_key.as_ref(),
    };
    let bytes = object_io::read_body(ctx.state, &read).await?;
    let body = RequestBody::new(
        bytes,
        Expectations::internal(source.size, algorithm),
        MAX_OBJECT_SIZE,
    );
    let written = object_io::write_body(ctx.state, ctx.object_addr(), &plan, body).await?;
    let h = &ctx.parts.headers;
    let (content, user) = if replace {
        (content_headers(h), user_metadata(h))
    } else {
        (source.content_headers.clone(), source.user_metadata.clone())
    };
    let inline = written.inline.clone();
    let meta = new_meta(written, content, user);
    let mut res = xml_response(StatusCode::OK, copy_result(&meta));
    write_response(&mut res, &meta, md5.as_deref());
    res.headers_mut().remove("etag");
    store
        .commit_object(ctx.object_addr(), meta, inline, customer.as_ref())
        .await?;
    Ok(res)
}

/// `CopyObjectResult` with the checksum element for the copy's algorithm.
fn copy_result(meta: &ObjectMeta) -> String {
    let checksum = meta
        .checksum
        .as_ref()
        .map(|c| {
            let el = c.algorithm.xml_element();
            format!(
                "<{el}>{}</{el}><ChecksumType>FULL_OBJECT</ChecksumType>",
                escape(&c.base64())
            )
        })
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CopyObjectResult xmlns=\"{S3_XMLNS}\"><ETag>&quot;{}&quot;</ETag><LastModified>{}</LastModified>{checksum}</CopyObjectResult>",
        meta.etag,
        iso8601(meta.last_modified_millis)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_sources() {
        assert_eq!(parse_copy_source("b/k").unwrap(), ("b".into(), "k".into()));
        assert_eq!(
            parse_copy_source("/b/dir/a%20b%2Bc").unwrap(),
            ("b".into(), "dir/a b+c".into())
        );
        assert_eq!(
            parse_copy_source("b/k?versionId=null").unwrap(),
            ("b".into(), "k".into())
        );
        assert_eq!(
            parse_copy_source("b").unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            parse_copy_source("b/k?versionId=abc").unwrap_err().code,
            S3ErrorCode::InvalidArgument
        );
    }

    #[test]
    fn aws_chunked_is_not_stored_as_content_encoding() {
        let mut h = HeaderMap::new();
        h.insert("content-encoding", "aws-chunked".parse().unwrap());
        assert!(content_headers(&h).is_empty());
        h.insert("content-encoding", "aws-chunked,gzip".parse().unwrap());
        assert_eq!(
            content_headers(&h),
            vec![("content-encoding".to_string(), "gzip".to_string())]
        );
        h.insert("content-encoding", "gzip".parse().unwrap());
        assert_eq!(
            content_headers(&h),
            vec![("content-encoding".to_string(), "gzip".to_string())]
        );
    }
}
