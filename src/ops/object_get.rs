//! GetObject and HeadObject: conditionals, ranges, stored headers and `response-*` overrides.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::{ReqCtx, empty_response, set_header};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::{ByteRange, Conditionals, Precondition, http_date, parse_range};
use crate::object_io;
use crate::store::{ObjectMeta, StoreError};

/// `response-*` query parameters and the header each overrides.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Only the "null" version exists in an unversioned bucket.
fn check_version_id(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    match ctx.query.get("versionId") {
        None | Some("null") => Ok(()),
        Some(v) => Err(S3Error::invalid_argument(
            "Invalid version id specified",
            "versionId",
            v,
        )),
    }
}

async fn load(ctx: &ReqCtx<'_>) -> Result<ObjectMeta, S3Error> {
    ctx.state
        .store
        .object(ctx.bucket_name(), ctx.key())
        .await?
        .ok_or_else(|| S3Error::no_such_key(ctx.key()))
}

/// The headers every GET/HEAD (and 304) carries.
fn object_headers(res: &mut Response, meta: &ObjectMeta) {
    set_header(res, "etag", &format!("\"{}\"", meta.etag));
    set_header(res, "last-modified", &http_date(meta.last_modified_millis));
}

pub async fn get_object(ctx: &ReqCtx<'_>, head: bool) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    check_version_id(ctx)?;
    let mut meta = load(ctx).await?;
    match Conditionals::from_headers(&ctx.parts.headers, "")
        .evaluate(&meta.etag, meta.last_modified_millis)
    {
        Precondition::Proceed => {}
        Precondition::Failed => {
            return Err(
                S3Error::new(S3ErrorCode::PreconditionFailed).field("Condition", "If-Match")
            );
        }
        Precondition::NotModified => {
            let mut res = empty_response(StatusCode::NOT_MODIFIED);
            object_headers(&mut res, &meta);
            return Ok(res);
        }
    }
    let raw_range = ctx.header("range").unwrap_or("");
    let range = parse_range(raw_range)
        .map(|spec| spec.resolve(meta.size, raw_range))
        .transpose()?;
    let body = if head {
        Body::empty()
    } else {
        match object_io::read_body(&ctx.state.store, &meta, range).await {
            Ok(stream) => Body::from_stream(stream),
            // A concurrent overwrite freed the body between our metadata read and the open: the
            // newer object is the right answer, so read again once.
            Err(StoreError::BlobMissing(_)) => {
                meta = load(ctx).await?;
                let range = parse_range(raw_range)
                    .map(|spec| spec.resolve(meta.size, raw_range))
                    .transpose()?;
                Body::from_stream(object_io::read_body(&ctx.state.store, &meta, range).await?)
            }
            Err(e) => return Err(e.into()),
        }
    };
    let mut res = Response::new(body);
    respond_headers(ctx, &mut res, &meta, range);
    // The stored checksum covers the whole object: S3 returns it only when asked, and not for ranges.
    let wants_checksum = ctx
        .header("x-amz-checksum-mode")
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if let (true, None, Some(c)) = (wants_checksum, range, &meta.checksum) {
        super::object_put::checksum_headers(&mut res, c);
    }
    Ok(res)
}

fn respond_headers(
    ctx: &ReqCtx<'_>,
    res: &mut Response,
    meta: &ObjectMeta,
    range: Option<ByteRange>,
) {
    object_headers(res, meta);
    set_header(res, "accept-ranges", "bytes");
    set_header(
        res,
        "content-type",
        meta.content_header("content-type")
            .unwrap_or("binary/octet-stream"),
    );
    for (name, value) in &meta.content_headers {
        if name != "content-type" {
            set_header(res, static_name(name), value);
        }
    }
    for (name, value) in &meta.user_metadata {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(format!("x-amz-meta-{name}").as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            res.headers_mut().insert(n, v);
        }
    }
    for (param, name) in OVERRIDES {
        if let Some(v) = ctx.query.get(param) {
            set_header(res, name, v);
        }
    }
    let len = match range {
        Some(r) => {
            *res.status_mut() = StatusCode::PARTIAL_CONTENT;
            set_header(res, "content-range", &r.content_range(meta.size));
            r.len()
        }
        None => meta.size,
    };
    res.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
}

fn static_name(name: &str) -> &'static str {
    crate::http::headers::STORED_CONTENT_HEADERS
        .iter()
        .find(|n| **n == name)
        .copied()
        .unwrap_or("x-amz-unknown")
}
