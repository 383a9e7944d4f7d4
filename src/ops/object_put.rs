//! PutObject and CopyObject. Both store bytes through `object_io::write_body` and make the object
//! visible with one metadata commit.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::auth::PayloadCheck;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{
    Conditionals, Precondition, STORED_CONTENT_HEADERS, header, iso8601, now_millis, user_metadata,
};
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::object_io::{self, BodyChecks, MAX_OBJECT_SIZE, WrittenBody};
use crate::store::ObjectMeta;

#[derive(Serialize)]
#[serde(rename = "CopyObjectResult")]
struct CopyObjectResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
}

/// The content headers a write stores, from the request.
fn content_headers(h: &HeaderMap) -> Vec<(String, String)> {
    STORED_CONTENT_HEADERS
        .iter()
        .filter_map(|name| header(h, name).map(|v| (name.to_string(), v.to_string())))
        .collect()
}

fn new_meta(
    written: WrittenBody,
    content_headers: Vec<(String, String)>,
    user: Vec<(String, String)>,
) -> ObjectMeta {
    ObjectMeta {
        size: written.size,
        etag: hex::encode(written.md5),
        last_modified_millis: now_millis(),
        content_headers,
        user_metadata: user,
        body: written.body,
    }
}

/// What the request head promises about the body: its length, Content-MD5, and SHA-256.
fn body_checks(ctx: &ReqCtx<'_>) -> Result<BodyChecks, S3Error> {
    let length = match ctx.header("content-length") {
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid Content-Length")
                .field("ArgumentName", "Content-Length")
        })?),
        None if ctx.parts.headers.contains_key("transfer-encoding") => None,
        None => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
    };
    if length.is_some_and(|n| n > MAX_OBJECT_SIZE) {
        return Err(S3Error::with_message(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size",
        )
        .field("ProposedSize", length.unwrap_or_default().to_string())
        .field("MaxSizeAllowed", MAX_OBJECT_SIZE.to_string()));
    }
    let content_md5 = ctx
        .header("content-md5")
        .map(object_io::parse_content_md5)
        .transpose()?;
    let sha256 = match ctx.verified.payload {
        PayloadCheck::Sha256(d) => Some(d),
        PayloadCheck::Unsigned => None,
    };
    Ok(BodyChecks {
        content_md5,
        sha256,
        expected_len: length,
    })
}

pub async fn put_object(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    ctx.check_canned_acl()?;
    let checks = body_checks(ctx)?;
    let store = &ctx.state.store;
    let written = object_io::write_body(store, body.into_data_stream(), &checks).await?;
    let h = &ctx.parts.headers;
    let meta = new_meta(written, content_headers(h), user_metadata(h));
    let etag = meta.etag.clone();
    store
        .commit_object(ctx.bucket_name(), ctx.key(), meta)
        .await?;
    let mut res = empty_response(StatusCode::OK);
    set_header(&mut res, "etag", &format!("\"{etag}\""));
    Ok(res)
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`.
fn parse_copy_source(value: &str) -> Result<(String, String), S3Error> {
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
    if let Some(v) = version {
        if v != "null" {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Invalid version id specified",
            )
            .field("ArgumentName", "versionId")
            .field("ArgumentValue", v));
        }
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

pub async fn copy_object(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    ctx.check_canned_acl()?;
    let (src_bucket, src_key) = parse_copy_source(ctx.header("x-amz-copy-source").unwrap_or(""))?;
    ctx.owned_bucket(&src_bucket, "x-amz-source-expected-bucket-owner")
        .await?;
    let store = &ctx.state.store;
    let source = store
        .object(&src_bucket, &src_key)
        .await?
        .ok_or_else(|| S3Error::no_such_key(&src_key))?;
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
    if src_bucket == ctx.bucket_name() && src_key == ctx.key() && !replace {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let bytes = object_io::read_body(store, &source, None).await?;
    let checks = BodyChecks {
        expected_len: Some(source.size),
        ..BodyChecks::default()
    };
    let written = object_io::write_body(store, bytes, &checks).await?;
    let h = &ctx.parts.headers;
    let (content, user) = if replace {
        (content_headers(h), user_metadata(h))
    } else {
        (source.content_headers.clone(), source.user_metadata.clone())
    };
    let meta = new_meta(written, content, user);
    let doc = CopyObjectResult {
        xmlns: S3_XMLNS,
        last_modified: iso8601(meta.last_modified_millis),
        etag: format!("\"{}\"", meta.etag),
    };
    store
        .commit_object(ctx.bucket_name(), ctx.key(), meta)
        .await?;
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
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
}
