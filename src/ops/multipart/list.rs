//! ListParts and ListMultipartUploads.

use axum::response::Response;
use http::StatusCode;

use super::{KEY_SET, load_upload};
use crate::clock::iso8601;
use crate::crypto::Encryption;
use crate::error::S3Error;
use crate::header_names::X_AMZ_CHECKSUM_ALGORITHM;
use crate::http::router::{ListParts, ListUploads, MAX_PAGE};
use crate::http::xml::elements::{ChecksumXml, CommonPrefix, Owner};
use crate::http::xml::multipart::{ListPartsResult, ListUploadsResult, PartEntry, UploadEntry};
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::ops::sse_request;
use crate::ops::{ReqCtx, set_header, xml_response};
use crate::store::{PageQuery, UploadMeta};

pub async fn list_parts(ctx: &ReqCtx<'_>, input: &ListParts) -> Result<Response, S3Error> {
    let upload = load_upload(ctx, &input.upload_id).await?;
    let max_parts = input.max_parts;
    let marker = input.part_number_marker;
    // AWS API reference, ListParts: the SSE-C key "is needed only when the object was created
    // using a checksum algorithm": an SSE-C upload's part checksums are sealed under it, and show
    // only when the request carries the upload's key.
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?.filter(
        |c| matches!(&upload.encryption, Encryption::SseC { verifier, .. } if c.matches(verifier)),
    );
    let mut parts = ctx
        .state
        .store
        .parts(&upload.upload_id, marker, max_parts + 1, customer.as_ref())
        .await?;
    let is_truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let next = parts.last().map(|(n, _)| *n).unwrap_or(0);
    let entries = parts
        .into_iter()
        .map(|(number, part)| {
            // Part checksums show only for uploads created with an algorithm, as in S3.
            let checksum = match (upload.checksum, &part.checksum) {
                (Some(_), Some(c)) => Some(ChecksumXml::new(c.algorithm, c.base64())),
                _ => None,
            };
            PartEntry {
                number,
                last_modified: iso8601(part.last_modified_millis),
                etag: format!("\"{}\"", part.etag),
                size: part.size,
                checksum,
            }
        })
        .collect();
    let xml = to_xml(&ListPartsResult {
        xmlns: S3_XMLNS,
        bucket: ctx.bucket_name().to_string(),
        key: ctx.key().to_string(),
        upload_id: upload.upload_id.clone(),
        part_number_marker: marker,
        next_part_number_marker: next,
        max_parts,
        is_truncated,
        parts: entries,
        initiator: Owner::of(&upload.owner),
        owner: Owner::of(&upload.owner),
        storage_class: "STANDARD",
        checksum_algorithm: upload.checksum.map(|(a, _)| a.name()),
        checksum_type: upload.checksum.map(|(_, k)| k.as_str()),
    })?;
    let mut res = xml_response(StatusCode::OK, xml);
    if let Some((alg, _)) = upload.checksum {
        set_header(&mut res, X_AMZ_CHECKSUM_ALGORITHM, alg.name());
    }
    Ok(res)
}

enum Listed {
    Upload(Box<UploadMeta>),
    Prefix(String),
}

pub async fn list_multipart_uploads(
    ctx: &ReqCtx<'_>,
    input: &ListUploads,
) -> Result<Response, S3Error> {
    let max = input.max_uploads;
    let url_encode = input.url_encode;
    let enc = |s: &str| {
        if url_encode {
            percent_encoding::utf8_percent_encode(s, KEY_SET).to_string()
        } else {
            s.to_string()
        }
    };
    let prefix = input.prefix.clone();
    let delimiter = input.delimiter.as_deref();
    let key_marker = input.key_marker.clone();
    let id_marker = input.upload_id_marker.clone();
    let mut after = match (key_marker.is_empty(), id_marker.is_empty()) {
        (true, _) => None,
        (false, true) => Some((key_marker.clone(), None)),
        (false, false) => Some((key_marker.clone(), Some(id_marker.clone()))),
    };
    // A key marker that names a common prefix resumes past the whole prefix.
    if let (Some((k, None)), Some(d)) = (&after, delimiter) {
        if k.ends_with(d) && k.starts_with(&prefix) {
            after = Some((format!("{k}{}", char::MAX), None));
        }
    }
    let mut listed: Vec<Listed> = Vec::new();
    let mut is_truncated = false;
    'scan: loop {
        if max == 0 {
            break;
        }
        let page = ctx
            .state
            .store
            .uploads(PageQuery {
                bucket: ctx.bucket_name(),
                prefix: &prefix,
                after: after.clone(),
                limit: MAX_PAGE,
            })
            .await?;
        if page.is_empty() {
            break;
        }
        for upload in page {
            after = Some((upload.key.clone(), Some(upload.upload_id.clone())));
            let folded = delimiter.and_then(|d| {
                let rest = upload.key.get(prefix.len()..)?;
                rest.find(d)
                    .map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
            });
            if listed.len() >= max {
                is_truncated = true;
                break 'scan;
            }
            match folded {
                Some(cp) => {
                    after = Some((format!("{cp}{}", char::MAX), None));
                    listed.push(Listed::Prefix(cp));
                    continue 'scan;
                }
                None => listed.push(Listed::Upload(Box::new(upload))),
            }
        }
    }
    let (next_key, next_id) = match (is_truncated, listed.last()) {
        (true, Some(Listed::Upload(u))) => (Some(enc(&u.key)), Some(u.upload_id.clone())),
        (true, Some(Listed::Prefix(p))) => (Some(enc(p)), None),
        _ => (None, None),
    };
    let mut uploads = Vec::new();
    let mut common_prefixes = Vec::new();
    for l in listed {
        match l {
            Listed::Upload(u) => uploads.push(UploadEntry {
                key: enc(&u.key),
                upload_id: u.upload_id.clone(),
                initiator: Owner::of(&u.owner),
                owner: Owner::of(&u.owner),
                storage_class: "STANDARD",
                initiated: iso8601(u.initiated_millis),
                checksum_algorithm: u.checksum.map(|(a, _)| a.name()),
                checksum_type: u.checksum.map(|(_, k)| k.as_str()),
            }),
            Listed::Prefix(p) => common_prefixes.push(CommonPrefix { prefix: enc(&p) }),
        }
    }
    let xml = to_xml(&ListUploadsResult {
        xmlns: S3_XMLNS,
        bucket: ctx.bucket_name().to_string(),
        key_marker: enc(&key_marker),
        upload_id_marker: id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        delimiter: delimiter.map(&enc),
        prefix: enc(&prefix),
        encoding_type: url_encode.then_some("url"),
        max_uploads: max,
        is_truncated,
        uploads,
        common_prefixes,
    })?;
    Ok(xml_response(StatusCode::OK, xml))
}
