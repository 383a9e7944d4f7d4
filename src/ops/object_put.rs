//! PutObject and CopyObject. Both store bytes through `object_io::write_body` and make the object
//! visible with one metadata commit.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::access::CopySource;
use super::object_common::{
    check_body_length, content_headers, customer_key, customer_md5, load_copy_source,
};
use super::tagging::{self, Tags};
use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::clock::{iso8601, now_millis};
use crate::crypto::sse;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_CHECKSUM_ALGORITHM, X_AMZ_CHECKSUM_TYPE, X_AMZ_METADATA_DIRECTIVE,
};
use crate::header_names::{X_AMZ_COPY_SOURCE_VERSION_ID, X_AMZ_VERSION_ID};
use crate::http::headers::{check_user_metadata_size, user_metadata, write_condition};
use crate::http::xml::S3_XMLNS;
use crate::integrity::checksum::Checksum;
use crate::integrity::{ChecksumAlgorithm, Expectations, RequestBody};
use crate::object_io::{self, MAX_OBJECT_SIZE, ObjectRead, WrittenBody};
use crate::ops::write_encryption;
use crate::store::{BucketMeta, ObjectAddr, ObjectMeta};
use crate::xml_text::escape;

fn new_meta(
    written: WrittenBody,
    content_headers: Vec<(String, String)>,
    user: Vec<(String, String)>,
    tags: Tags,
) -> ObjectMeta {
    ObjectMeta {
        size: written.size,
        etag: written.etag,
        last_modified_millis: now_millis(),
        content_headers,
        user_metadata: user,
        checksum: Some(written.checksum),
        composite_checksum: false,
        tags,
        encryption: written.encryption,
        body: written.body,
        seal: None,
        version_id: None,
        seq: 0,
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

/// `x-amz-checksum-<alg>` and `x-amz-checksum-type` of a stored object.
pub fn checksum_headers(res: &mut Response, checksum: &Checksum) {
    set_header(res, checksum.algorithm.header(), &checksum.base64());
    set_header(res, X_AMZ_CHECKSUM_TYPE, "FULL_OBJECT");
}

pub async fn put_object(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    body: Body,
) -> Result<Response, S3Error> {
    ctx.check_canned_acl()?;
    check_body_length(ctx, MAX_OBJECT_SIZE)?;
    check_user_metadata_size(&ctx.parts.headers)?;
    let cond = write_condition(&ctx.parts.headers)?;
    let tags = tagging::for_write(&ctx.parts.headers, &bucket)?;
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
    let meta = new_meta(written, content_headers(h), user_metadata(h), tags);
    let mut res = empty_response(StatusCode::OK);
    write_response(&mut res, &meta, md5.as_deref());
    let written = ctx
        .state
        .store
        .commit_object(ctx.object_addr(), meta, inline, customer.as_ref(), &cond)
        .await?;
    if let Some(v) = &written.version_id {
        set_header(&mut res, X_AMZ_VERSION_ID, v);
    }
    Ok(res)
}

/// The checksum algorithm of the copy: `x-amz-checksum-algorithm` if asked, else the source's.
fn copy_checksum_algorithm(
    ctx: &ReqCtx<'_>,
    source: &ObjectMeta,
) -> Result<ChecksumAlgorithm, S3Error> {
    match ctx.header(X_AMZ_CHECKSUM_ALGORITHM) {
        Some(v) => ChecksumAlgorithm::from_name(v).ok_or_else(|| {
            S3Error::invalid_argument("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", X_AMZ_CHECKSUM_ALGORITHM, v)
        }),
        None => Ok(source.checksum.as_ref().map(|c| c.algorithm).unwrap_or(ChecksumAlgorithm::Crc64Nvme)),
    }
}

pub async fn copy_object(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    source: CopySource,
) -> Result<Response, S3Error> {
    ctx.check_canned_acl()?;
    let cond = write_condition(&ctx.parts.headers)?;
    let store = &ctx.state.store;
    let src = load_copy_source(ctx, source).await?;
    let source_version = src.version_header.clone();
    let (src_bucket, src_key) = (&src.bucket, &src.key);
    let mut source = src.meta;
    let source_key = src.customer;
    let src = ObjectAddr {
        bucket: src_bucket,
        key: src_key,
    };
    if let Some(k) = &source_key {
        // The copy takes the source's checksum algorithm: an SSE-C source's is sealed under its key.
        store.unlock_object(src, &mut source, k)?;
    }
    let replace = match ctx.header(X_AMZ_METADATA_DIRECTIVE).unwrap_or("COPY") {
        "COPY" => false,
        "REPLACE" => true,
        other => {
            return Err(S3Error::invalid_argument(
                "Unknown metadata directive.",
                X_AMZ_METADATA_DIRECTIVE,
                other,
            ));
        }
    };
    if replace {
        check_user_metadata_size(&ctx.parts.headers)?;
    }
    let tags = tagging::for_copy(&ctx.parts.headers, &bucket, &source.tags)?;
    let algorithm = copy_checksum_algorithm(ctx, &source)?;
    // The bucket's rules cannot refuse a write without SSE headers, so deciding the encryption
    // before the copy-onto-itself check keeps S3's error order.
    let encryption = write_encryption::for_write(ctx, &bucket).await?;
    // Copying a named version over its key is how S3 restores an older version.
    let names_version = matches!(
        &ctx.route.endpoint,
        crate::http::router::Endpoint::CopyObject(c) if c.version_id.is_some()
    );
    let changes_something = replace
        || ctx.header(X_AMZ_CHECKSUM_ALGORITHM).is_some()
        || encryption.explicit
        || names_version;
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
    let meta = new_meta(written, content, user, tags);
    let mut res = xml_response(StatusCode::OK, copy_result(&meta));
    write_response(&mut res, &meta, md5.as_deref());
    res.headers_mut().remove("etag");
    let written = store
        .commit_object(ctx.object_addr(), meta, inline, customer.as_ref(), &cond)
        .await?;
    if let Some(v) = &written.version_id {
        set_header(&mut res, X_AMZ_VERSION_ID, v);
    }
    if let Some(v) = &source_version {
        set_header(&mut res, X_AMZ_COPY_SOURCE_VERSION_ID, v);
    }
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
