//! CompleteMultipartUpload: the part list checked against the recorded parts, the object's
//! checksum and ETag computed, and the object made visible in one transaction.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use md5::{Digest as _, Md5};

use super::{KEY_SET, MAX_PART_NUMBER, MIN_PART_SIZE, no_such_upload, sse_headers};
use crate::clock::now_millis;
use crate::crypto::Encryption;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_CHECKSUM_TYPE, X_AMZ_MP_OBJECT_SIZE, X_AMZ_VERSION_ID};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::headers::write_condition;
use crate::http::xml::elements::ChecksumXml;
use crate::http::xml::multipart::{CompleteRequest, CompleteResult, CompletedPart};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::integrity::checksum::{Checksum, ChecksumAlgorithm};
use crate::ops::sse_request;
use crate::ops::{ReqCtx, set_header, xml_response};
use crate::store::{
    BodyRef, ChecksumType, ObjectMeta, PartBody, PartMeta, StoreError, UploadAddr, UploadMeta,
};

/// A CompleteMultipartUpload document: blank, without parts or off the schema is MalformedXML;
/// part numbers not strictly ascending are InvalidPartOrder.
pub(in crate::ops) fn parse_complete(
    raw: &[u8],
    upload_id: &str,
) -> Result<CompleteRequest, S3Error> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    let request: CompleteRequest = from_xml(raw)?;
    if request.parts.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    if request.parts.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(S3Error::new(S3ErrorCode::InvalidPartOrder).field("UploadId", upload_id));
    }
    Ok(request)
}

/// The answer to a Complete (also to a retried Complete of an upload already completed).
fn complete_response(ctx: &ReqCtx<'_>, meta: &ObjectMeta) -> Result<Response, S3Error> {
    let enc = &meta.encryption;
    // S3 leaves the checksum out of a KMS object's Complete response.
    let kms = matches!(enc, Encryption::SseKms { .. } | Encryption::Dsse { .. });
    let view = meta.checksum_view().filter(|_| !kms);
    let host = ctx.header("host").unwrap_or("localhost");
    let scheme = if ctx.state.config.https {
        "https"
    } else {
        "http"
    };
    let path_key = percent_encoding::utf8_percent_encode(ctx.key(), KEY_SET);
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&CompleteResult {
            xmlns: S3_XMLNS,
            location: format!("{scheme}://{host}/{}/{path_key}", ctx.bucket_name()),
            bucket: ctx.bucket_name().to_string(),
            key: ctx.key().to_string(),
            etag: format!("\"{}\"", meta.etag),
            checksum: view
                .as_ref()
                .map(|(alg, value, _)| ChecksumXml::new(*alg, value.clone())),
            checksum_type: view.map(|(_, _, t)| t),
        })?,
    );
    // SSE-C objects answer Complete without any SSE header; the others with their usual ones.
    if !matches!(enc, Encryption::SseC { .. }) {
        sse_headers(&mut res, enc, None);
    }
    Ok(res)
}

fn invalid_part(upload_id: &str, number: u32, etag: &str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidPart)
        .field("UploadId", upload_id)
        .field("PartNumber", number.to_string())
        .field("ETag", etag)
}

fn bad_digest(message: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::BadDigest, message)
}

pub async fn complete_multipart_upload(
    ctx: &ReqCtx<'_>,
    id: &str,
    body: Body,
) -> Result<Response, S3Error> {
    let id = id.to_string();
    let cond = write_condition(&ctx.parts.headers)?;
    let store = &ctx.state.store;
    let at = UploadAddr {
        object: ctx.object_addr(),
        upload_id: &id,
    };
    let Some(upload) = store.upload(at).await? else {
        return retried_complete(ctx, &id).await;
    };
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?;
    if let (Encryption::SseC { verifier, .. }, Some(c)) = (&upload.encryption, &customer) {
        if !c.matches(verifier) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The provided encryption parameters did not match the ones used originally.",
            ));
        }
    }
    // AWS API reference, CompleteMultipartUpload: the SSE-C key "is required only when the object
    // was created using a checksum algorithm" (s3transfer 0.7.0 began sending it for this): the
    // part checksums are sealed under it. Without it, an SSE-C upload created without an
    // algorithm completes without a checksum. (Wording as for parts: unverified.)
    if let (Encryption::SseC { .. }, None, Some(_)) =
        (&upload.encryption, &customer, upload.checksum)
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
        ));
    }
    // On a Complete, `x-amz-checksum-<alg>` is the whole object's checksum (checked in
    // `object_checksum`), not a checksum of this XML body.
    let mut body_headers = ctx.parts.headers.clone();
    for alg in ChecksumAlgorithm::ALL {
        body_headers.remove(alg.header());
    }
    let raw = read_xml_body_limited(
        &body_headers,
        &ctx.verified.payload,
        body,
        Digest::Optional,
        MAX_LARGE_XML_BODY,
    )
    .await?;
    let request = parse_complete(&raw, &id)?;
    check_checksum_mode(ctx, &upload)?;
    let stored = store
        .parts(&id, 0, MAX_PART_NUMBER as usize, customer.as_ref())
        .await?;
    // Every listed part must exist with the listed ETag.
    let mut chosen: Vec<(&CompletedPart, &PartMeta)> = Vec::with_capacity(request.parts.len());
    for p in &request.parts {
        let etag = p.etag.as_deref().unwrap_or("").trim().trim_matches('"');
        let part = stored
            .binary_search_by_key(&p.number, |(n, _)| *n)
            .ok()
            .and_then(|i| stored.get(i))
            .map(|(_, part)| part)
            .filter(|part| part.etag == etag)
            .ok_or_else(|| invalid_part(&id, p.number, etag))?;
        chosen.push((p, part));
    }
    let last = chosen.len() - 1;
    for (i, (p, part)) in chosen.iter().enumerate() {
        if i < last && part.size < MIN_PART_SIZE {
            return Err(S3Error::new(S3ErrorCode::EntityTooSmall)
                .field("ProposedSize", part.size.to_string())
                .field("MinSizeAllowed", MIN_PART_SIZE.to_string())
                .field("PartNumber", p.number.to_string())
                .field("ETag", part.etag.as_str()));
        }
    }
    let checksum = object_checksum(ctx, &upload, &chosen)?;
    let size: u64 = chosen.iter().map(|(_, part)| part.size).sum();
    if let Some(v) = ctx.header(X_AMZ_MP_OBJECT_SIZE) {
        if v.trim().parse::<u64>().ok() != Some(size) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "The provided 'x-amz-mp-object-size' header value {v} does not match what was computed: {size}"
                ),
            ));
        }
    }
    let mut md5s = Md5::new();
    for (_, part) in &chosen {
        md5s.update(hex::decode(&part.etag).map_err(S3Error::internal)?);
    }
    let meta = ObjectMeta {
        size,
        etag: format!("{}-{}", hex::encode(md5s.finalize()), chosen.len()),
        last_modified_millis: now_millis(),
        content_headers: upload.content_headers.clone(),
        user_metadata: upload.user_metadata.clone(),
        checksum,
        composite_checksum: matches!(upload.checksum, Some((_, ChecksumType::Composite))),
        tags: upload.tags.clone(),
        encryption: upload.encryption.clone(),
        seal: None,
        version_id: None,
        seq: 0,
        body: BodyRef::Parts {
            upload_id: id.clone(),
            parts: chosen
                .iter()
                .map(|(p, part)| PartBody {
                    number: p.number,
                    blob: part.blob.clone(),
                    size: part.size,
                    checksum: part.checksum.clone(),
                })
                .collect(),
        },
    };
    match store
        .complete_upload(
            ctx.bucket_name(),
            ctx.key(),
            &id,
            meta.clone(),
            customer.as_ref(),
            &cond,
        )
        .await
    {
        Ok(written) => {
            let mut res = complete_response(ctx, &meta)?;
            if let Some(v) = &written.version_id {
                set_header(&mut res, X_AMZ_VERSION_ID, v);
            }
            Ok(res)
        }
        // Completed by a concurrent request meanwhile: answer as for a retry.
        Err(StoreError::NoSuchUpload(_)) => retried_complete(ctx, &id).await,
        Err(StoreError::PartChanged(n)) => Err(invalid_part(&id, n, "")),
        Err(e) => Err(e.into()),
    }
}

/// A Complete of an upload that no longer exists: if it is the one that made the current object,
/// S3 answers as it did the first time; otherwise the upload is unknown.
async fn retried_complete(ctx: &ReqCtx<'_>, id: &str) -> Result<Response, S3Error> {
    let store = &ctx.state.store;
    let current = store.object(ctx.object_addr()).await?;
    match current {
        Some(mut meta) if matches!(&meta.body, BodyRef::Parts { upload_id, .. } if upload_id == id) =>
        {
            let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?.filter(|c| {
                matches!(&meta.encryption, Encryption::SseC { verifier, .. } if c.matches(verifier))
            });
            if let Some(c) = &customer {
                store.unlock_object(ctx.object_addr(), &mut meta, c)?;
            }
            let mut res = complete_response(ctx, &meta)?;
            if let Some(v) = &meta.version_id {
                set_header(&mut res, X_AMZ_VERSION_ID, v);
            }
            Ok(res)
        }
        _ => Err(no_such_upload(id)),
    }
}

/// `x-amz-checksum-type` on a Complete must repeat the upload's.
fn check_checksum_mode(ctx: &ReqCtx<'_>, upload: &UploadMeta) -> Result<(), S3Error> {
    let Some(asked) = ctx.header(X_AMZ_CHECKSUM_TYPE) else {
        return Ok(());
    };
    let created = upload.checksum.map(|(_, k)| k.as_str());
    if created.is_some_and(|c| c.eq_ignore_ascii_case(asked)) {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!(
            "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
            created.unwrap_or("null")
        ),
    ))
}

/// The completed object's checksum: COMPOSITE (of the part checksums, each of which the request
/// must repeat), FULL_OBJECT (the part CRCs combined), or, for an upload created without an
/// algorithm, the CRC64NVME of the whole object, as S3 gives every object.
fn object_checksum(
    ctx: &ReqCtx<'_>,
    upload: &UploadMeta,
    chosen: &[(&CompletedPart, &PartMeta)],
) -> Result<Option<Checksum>, S3Error> {
    // Locked part checksums (an SSE-C upload completed without its key, allowed only for an
    // upload created without an algorithm): the object gets no checksum.
    let Some(sums) = chosen
        .iter()
        .map(|(_, part)| part.checksum.as_ref().map(|c| (c, part.size)))
        .collect::<Option<Vec<(&Checksum, u64)>>>()
    else {
        return Ok(None);
    };
    let alg = upload.part_algorithm();
    let lower = alg.name().to_ascii_lowercase();
    if let Some((alg, kind)) = upload.checksum {
        for ((p, _), (stored, _)) in chosen.iter().zip(&sums) {
            match p.checksum(alg) {
                None if kind == ChecksumType::Composite => {
                    return Err(S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!(
                            "The upload was created using a {lower} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                            p.number
                        ),
                    ));
                }
                Some(given) if alg.decode(given).as_deref() != Some(stored.value.as_slice()) => {
                    return Err(bad_digest(format!(
                        "The {lower} you specified for part {} did not match what we received.",
                        p.number
                    )));
                }
                _ => {}
            }
        }
    }
    let checksum = match upload.checksum {
        Some((alg, ChecksumType::Composite)) => {
            let parts: Vec<&Checksum> = sums.iter().map(|(c, _)| *c).collect();
            Checksum::composite(alg, &parts)
        }
        _ => Checksum::combine(&sums)
            .ok_or_else(|| S3Error::internal("part checksums do not combine"))?,
    };
    // A whole-object checksum sent with the Complete must match (a COMPOSITE one may carry its
    // `-<parts>` suffix).
    if let (Some(_), Some(given)) = (upload.checksum, ctx.header(alg.header())) {
        let value = match upload.checksum {
            Some((_, ChecksumType::Composite)) => given.trim().split('-').next().unwrap_or(""),
            _ => given.trim(),
        };
        if alg.decode(value).as_deref() != Some(checksum.value.as_slice()) {
            return Err(bad_digest(format!(
                "The {lower} you specified did not match the calculated checksum."
            )));
        }
    }
    Ok(Some(checksum))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_request_parses_botocore_body() {
        let body = br#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"f9e6a444695485f2efcf16142fc4f554"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>kfT3Vw==</ChecksumCRC32></Part><Part><ETag>"607727bb67615865b1ba5263bb5a7780"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let r: CompleteRequest = from_xml(body).unwrap();
        assert_eq!(r.parts.len(), 2);
        assert_eq!(r.parts[0].number, 1);
        assert_eq!(
            r.parts[0].checksum(ChecksumAlgorithm::Crc32),
            Some("kfT3Vw==")
        );
        assert_eq!(r.parts[1].checksum(ChecksumAlgorithm::Crc32), None);
        assert_eq!(
            r.parts[1].etag.as_deref(),
            Some("\"607727bb67615865b1ba5263bb5a7780\"")
        );
        assert!(from_xml::<CompleteRequest>(b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>").is_err());
    }
}
