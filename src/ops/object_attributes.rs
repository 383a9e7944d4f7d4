//! GetObjectAttributes: an object's ETag, checksum, parts, storage class and size, without its
//! body, read from the record alone (no blob is opened). The record is loaded exactly as
//! GetObject loads it (`object_get::load_checked`): an SSE-C object needs its customer key (400
//! without it, 403 with another), and that key opens the record's sealed checksums.

use axum::response::Response;
use http::StatusCode;

use super::object_get::load_checked;
use super::versioning::set_version_header;
use super::{ReqCtx, directory, set_header, xml_response};
use crate::clock::http_date;
use crate::error::S3Error;
use crate::http::router::Attributes;
use crate::http::xml::attributes::{
    GetObjectAttributesResponse, ObjectChecksum, ObjectPart, ObjectParts,
};
use crate::http::xml::elements::ChecksumXml;
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::ops::sse_request;
use crate::store::{BodyRef, BucketMeta, ObjectMeta, PartBody};

pub async fn get_object_attributes(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &Attributes,
) -> Result<Response, S3Error> {
    // As on GetObject: the write-side SSE headers are refused, never ignored.
    sse_request::refuse_write_only(&ctx.parts.headers)?;
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?;
    let meta = load_checked(ctx, input.version_id.as_deref(), customer.as_ref()).await?;
    let xml = to_xml(&GetObjectAttributesResponse {
        xmlns: S3_XMLNS,
        etag: input.etag.then(|| meta.etag.clone()),
        checksum: input.checksum.then(|| checksum(&meta)).flatten(),
        object_parts: input
            .object_parts
            .then(|| object_parts(&meta, &bucket, input))
            .flatten(),
        storage_class: input.storage_class.then(|| storage_class(&bucket)),
        object_size: input.object_size.then_some(meta.size),
    })?;
    let mut res = xml_response(StatusCode::OK, xml);
    set_header(
        &mut res,
        "last-modified",
        &http_date(meta.last_modified_millis),
    );
    set_version_header(&mut res, &bucket, &meta);
    Ok(res)
}

fn storage_class(bucket: &BucketMeta) -> &'static str {
    if bucket.is_directory() {
        directory::STORAGE_CLASS
    } else {
        "STANDARD"
    }
}

/// The object's checksum, when it has one. S3 shows a COMPOSITE checksum here without the
/// `-<parts>` suffix HeadObject and CompleteMultipartUpload give it (the type says what it is).
fn checksum(meta: &ObjectMeta) -> Option<ObjectChecksum> {
    let c = meta.checksum.as_ref()?;
    let checksum_type = match (meta.composite_checksum, meta.parts_count()) {
        (true, Some(_)) => "COMPOSITE",
        _ => "FULL_OBJECT",
    };
    Some(ObjectChecksum {
        value: ChecksumXml::new(c.algorithm, c.base64()),
        checksum_type,
    })
}

/// `<ObjectParts>`: none for a single PUT. For a multipart object S3 lists the parts (sizes and
/// their COMPOSITE checksums, paged as ListParts pages) only when the upload had COMPOSITE part
/// checksums, or always in a directory bucket (AWS API reference, GetObjectAttributesParts);
/// otherwise only the count (a FULL_OBJECT or checksum-less upload, as S3 answers it).
fn object_parts(meta: &ObjectMeta, bucket: &BucketMeta, input: &Attributes) -> Option<ObjectParts> {
    let BodyRef::Parts { parts, .. } = &meta.body else {
        return None;
    };
    let composite = meta.composite_checksum && meta.checksum.is_some();
    if !composite && !bucket.is_directory() {
        return Some(ObjectParts {
            parts_count: parts.len(),
            part_number_marker: None,
            next_part_number_marker: None,
            max_parts: None,
            is_truncated: None,
            parts: Vec::new(),
        });
    }
    let marker = input.part_number_marker;
    let mut after = parts.iter().filter(|p| p.number > marker);
    let page: Vec<&PartBody> = after.by_ref().take(input.max_parts).collect();
    let is_truncated = after.next().is_some();
    Some(ObjectParts {
        parts_count: parts.len(),
        part_number_marker: Some(marker),
        next_part_number_marker: Some(page.last().map_or(0, |p| p.number)),
        max_parts: Some(input.max_parts),
        is_truncated: Some(is_truncated),
        parts: page
            .into_iter()
            .map(|p| ObjectPart {
                part_number: p.number,
                size: p.size,
                // A FULL_OBJECT part's CRC is no checksum S3 shows (as on GetObject partNumber).
                checksum: p
                    .checksum
                    .as_ref()
                    .filter(|_| composite)
                    .map(|c| ChecksumXml::new(c.algorithm, c.base64())),
            })
            .collect(),
    })
}
