//! GetObject and HeadObject: SSE-C checks, conditionals, ranges, stored headers, `response-*`
//! overrides, and decryption that never sends an unauthenticated byte.

use axum::body::Body;
use axum::response::Response;
use futures_util::StreamExt;
use http::StatusCode;

use super::object_common::check_customer_key;
use super::versioning::{find_object, set_version_header};
use super::{ReqCtx, empty_response, set_header};
use crate::byte_range::ByteRange;
use crate::clock::http_date;
use crate::crypto::sse;
use crate::crypto::ssec::CustomerKey;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_CHECKSUM_MODE, X_AMZ_CHECKSUM_TYPE, X_AMZ_MP_PARTS_COUNT, X_AMZ_STORAGE_CLASS,
    X_AMZ_TAGGING_COUNT, X_AMZ_UNKNOWN,
};
use crate::http::headers::{Conditionals, Precondition, parse_range};
use crate::http::router::Read as ReadInput;
use crate::object_io::{self, ObjectRead, ReadError};
use crate::ops::sse_request;
use crate::store::{BodyRef, BucketMeta, ByteStream, ObjectMeta};

async fn load(ctx: &ReqCtx<'_>, version: Option<&str>) -> Result<ObjectMeta, S3Error> {
    find_object(&ctx.state.store, ctx.object_addr(), version).await
}

/// The object's record, after S3's SSE-C checks; an SSE-C record's checksums are opened with the
/// customer's key. GetObjectAttributes loads its record with it too.
pub(super) async fn load_checked(
    ctx: &ReqCtx<'_>,
    version: Option<&str>,
    customer: Option<&CustomerKey>,
) -> Result<ObjectMeta, S3Error> {
    let mut meta = load(ctx, version).await?;
    check_customer_key(&meta, customer)?;
    if let Some(c) = customer {
        ctx.state
            .store
            .unlock_object(ctx.object_addr(), &mut meta, c)?;
    }
    Ok(meta)
}

/// The headers every GET/HEAD (and 304) carries.
fn object_headers(res: &mut Response, bucket: &BucketMeta, meta: &ObjectMeta) {
    set_header(res, "etag", &format!("\"{}\"", meta.etag));
    set_header(res, "last-modified", &http_date(meta.last_modified_millis));
    set_version_header(res, bucket, meta);
}

/// What GetObject and HeadObject both decide before the body: the checked record, the part and
/// range asked for, and the customer key.
struct Prepared {
    meta: ObjectMeta,
    part: Option<u32>,
    range: Option<ByteRange>,
    customer: Option<CustomerKey>,
}

/// What `prepare` found: an object to answer with, or the 304 answer.
enum Outcome {
    Read(Box<Prepared>),
    NotModified(Response),
}

/// The checks GetObject and HeadObject share, in S3's order (the version id and partNumber
/// were checked by the router): the SSE headers a read may not carry, SSE-C, the record, conditionals (a 304 is answered here), the
/// part or Range.
async fn prepare(
    ctx: &ReqCtx<'_>,
    bucket: &BucketMeta,
    input: &ReadInput,
) -> Result<Outcome, S3Error> {
    sse_request::refuse_write_only(&ctx.parts.headers)?;
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?;
    let meta = load_checked(ctx, input.version_id.as_deref(), customer.as_ref()).await?;
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
            object_headers(&mut res, bucket, &meta);
            return Ok(Outcome::NotModified(res));
        }
    }
    let part = input.part_number;
    let range = requested_range(ctx, &meta, part)?;
    Ok(Outcome::Read(Box::new(Prepared {
        meta,
        part,
        range,
        customer,
    })))
}

pub async fn get_object(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &ReadInput,
) -> Result<Response, S3Error> {
    let mut read = match prepare(ctx, &bucket, input).await? {
        Outcome::Read(read) => read,
        Outcome::NotModified(res) => return Ok(res),
    };
    // A concurrent overwrite may free the body between our metadata read and the open: the
    // newer object is then the right answer, so read its metadata again (a bounded number
    // of times; once open, a body stays readable).
    let mut attempts = 0;
    let stream = loop {
        match open(ctx, &read.meta, read.range, read.customer.as_ref()).await {
            Ok(s) => break s,
            Err(ReadError::BlobMissing) if attempts < 16 => {
                attempts += 1;
                read.meta =
                    load_checked(ctx, input.version_id.as_deref(), read.customer.as_ref()).await?;
                read.range = requested_range(ctx, &read.meta, read.part)?;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let body = Body::from_stream(stream);
    Ok(respond(ctx, &bucket, body, &read, input))
}

pub async fn head_object(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &ReadInput,
) -> Result<Response, S3Error> {
    match prepare(ctx, &bucket, input).await? {
        Outcome::Read(read) => Ok(respond(ctx, &bucket, Body::empty(), &read, input)),
        Outcome::NotModified(res) => Ok(res),
    }
}

/// The response of a GET or HEAD: `body`, and the headers both send.
fn respond(
    ctx: &ReqCtx<'_>,
    bucket: &BucketMeta,
    body: Body,
    read: &Prepared,
    input: &ReadInput,
) -> Response {
    let Prepared {
        meta,
        part,
        range,
        customer,
    } = read;
    let (part, range) = (*part, *range);
    let mut res = Response::new(body);
    respond_headers(&mut res, bucket, meta, range, customer.as_ref(), input);
    if bucket.is_directory() {
        set_header(
            &mut res,
            X_AMZ_STORAGE_CLASS,
            super::directory::STORAGE_CLASS,
        );
    }
    let wants_checksum = ctx
        .header(X_AMZ_CHECKSUM_MODE)
        .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"));
    if let (Some(n), Some(count)) = (part, meta.parts_count()) {
        set_header(&mut res, X_AMZ_MP_PARTS_COUNT, &count.to_string());
        // A part of a COMPOSITE upload has a checksum of its own; FULL_OBJECT parts show none.
        if let (true, true, BodyRef::Parts { parts, .. }) =
            (wants_checksum, meta.composite_checksum, &meta.body)
        {
            if let Some(c) = parts.get(n as usize - 1).and_then(|p| p.checksum.as_ref()) {
                set_header(&mut res, c.algorithm.header(), &c.base64());
                set_header(&mut res, X_AMZ_CHECKSUM_TYPE, "COMPOSITE");
            }
        }
    } else if let (true, None) = (wants_checksum, range) {
        // The stored checksum covers the whole object: S3 returns it only when asked, and not
        // for ranges.
        if let Some((alg, value, kind)) = meta.checksum_view() {
            set_header(&mut res, alg.header(), &value);
            set_header(&mut res, X_AMZ_CHECKSUM_TYPE, kind);
        }
    }
    res
}

/// The bytes asked for: a Range header, or the span of part `part` (all of a single-PUT object
/// is its part 1).
fn requested_range(
    ctx: &ReqCtx<'_>,
    meta: &ObjectMeta,
    part: Option<u32>,
) -> Result<Option<ByteRange>, S3Error> {
    let Some(n) = part else {
        let raw = ctx.header("range").unwrap_or("");
        return parse_range(raw)
            .map(|spec| spec.resolve(meta.size, raw))
            .transpose();
    };
    let (start, len) = match &meta.body {
        BodyRef::Parts { parts, .. } => {
            let i = n as usize - 1;
            let part = parts.get(i).ok_or_else(|| {
                S3Error::new(S3ErrorCode::InvalidPartNumber)
                    .field("PartNumberRequested", n.to_string())
                    .field("ActualPartCount", parts.len().to_string())
            })?;
            (parts[..i].iter().map(|p| p.size).sum::<u64>(), part.size)
        }
        _ if n == 1 => (0, meta.size),
        _ => {
            return Err(S3Error::new(S3ErrorCode::InvalidPartNumber)
                .field("PartNumberRequested", n.to_string())
                .field("ActualPartCount", "1"));
        }
    };
    // An empty part (an empty object) has no byte range: answer it whole.
    Ok((len > 0).then(|| ByteRange {
        start,
        end: start + len - 1,
    }))
}

/// Opens the body and decrypts its first piece before any header is sent: a segment that fails
/// authentication then becomes a 500, not a truncated 200. Later failures cut the connection.
async fn open(
    ctx: &ReqCtx<'_>,
    meta: &ObjectMeta,
    range: Option<ByteRange>,
    customer: Option<&CustomerKey>,
) -> Result<ByteStream, ReadError> {
    let account = &ctx.verified.account_id;
    let read = ObjectRead {
        account,
        addr: ctx.object_addr(),
        meta,
        range,
        customer,
    };
    let mut stream = object_io::read_body(ctx.state, &read).await?;
    let first = match stream.next().await {
        None => return Ok(futures_util::stream::empty().boxed()),
        Some(Ok(bytes)) => bytes,
        Some(Err(e)) => {
            tracing::error!(bucket = ctx.bucket_name(), key = ctx.key(), error = %e, "object body failed to decrypt");
            return Err(ReadError::Other(S3Error::internal(format!(
                "{}/{}: {e}",
                ctx.bucket_name(),
                ctx.key()
            ))));
        }
    };
    let bucket = ctx.bucket_name().to_string();
    let key = ctx.key().to_string();
    let rest = stream.inspect(move |r| {
        if let Err(e) = r {
            tracing::error!(bucket = %bucket, key = %key, error = %e, "object body failed to decrypt mid-stream; cutting the connection");
        }
    });
    Ok(futures_util::stream::once(async move { Ok(first) })
        .chain(rest)
        .boxed())
}

fn respond_headers(
    res: &mut Response,
    bucket: &BucketMeta,
    meta: &ObjectMeta,
    range: Option<ByteRange>,
    customer: Option<&CustomerKey>,
    input: &ReadInput,
) {
    object_headers(res, bucket, meta);
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
    for (name, value) in sse::response_headers(
        &meta.encryption,
        customer.map(|c| c.md5_base64.as_str()),
        false,
    ) {
        set_header(res, name, &value);
    }
    if !meta.tags.is_empty() {
        set_header(res, X_AMZ_TAGGING_COUNT, &meta.tags.len().to_string());
    }
    for (name, value) in &input.overrides {
        set_header(res, name, value);
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
        .unwrap_or(X_AMZ_UNKNOWN)
}
