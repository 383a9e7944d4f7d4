//! DeleteObject and DeleteObjects.

use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_DELETE_MARKER, X_AMZ_IF_MATCH_LAST_MODIFIED_TIME, X_AMZ_IF_MATCH_SIZE, X_AMZ_VERSION_ID,
};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::headers::{delete_condition, etag_list};
use crate::http::xml::delete::{Delete, DeleteError, DeleteResult, Deleted};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::store::{BucketMeta, NULL_VERSION, ObjectAddr, StoreError, WriteCondition};
use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

/// S3 deletes at most this many keys per DeleteObjects request.
pub(super) const MAX_DELETE_KEYS: usize = 1000;

/// A DeleteObjects document: an empty body is MissingRequestBodyError; no objects, more than
/// 1000, or anything off the schema is MalformedXML.
pub(super) fn parse_delete(xml: &[u8]) -> Result<Delete, S3Error> {
    if xml.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::MissingRequestBodyError,
            "Request Body is empty",
        ));
    }
    let request: Delete = from_xml(xml)?;
    if request.objects.is_empty() || request.objects.len() > MAX_DELETE_KEYS {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    Ok(request)
}

/// DeleteObject: without a version id the current object goes (a delete marker is added in a
/// bucket with a versioning state); with one, that version (object or marker) goes for good.
pub async fn delete_object(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    version: Option<&str>,
) -> Result<Response, S3Error> {
    // Directory buckets' other delete conditions: refused, never ignored.
    for name in [X_AMZ_IF_MATCH_LAST_MODIFIED_TIME, X_AMZ_IF_MATCH_SIZE] {
        if ctx.header(name).is_some() {
            return Err(S3Error::new(S3ErrorCode::NotImplemented).field("Header", name));
        }
    }
    let cond = delete_condition(&ctx.parts.headers)?;
    let deleted = match version {
        // A bucket never versioned has only the null version: the plain delete.
        Some(v) if v != NULL_VERSION || bucket.versioning.is_some() => {
            if cond != WriteCondition::None {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "If-Match with a versionId is not implemented by sealstore; refused rather than ignored.",
                )
                .field("Header", "If-Match"));
            }
            ctx.state.store.delete_version(ctx.object_addr(), v).await?
        }
        _ => {
            ctx.state
                .store
                .delete_object(ctx.object_addr(), &cond)
                .await?
        }
    };
    let mut res = empty_response(StatusCode::NO_CONTENT);
    if let Some(v) = &deleted.version_id {
        set_header(&mut res, X_AMZ_VERSION_ID, v);
    }
    if deleted.delete_marker {
        set_header(&mut res, X_AMZ_DELETE_MARKER, "true");
    }
    Ok(res)
}

pub async fn delete_objects(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    body: Body,
) -> Result<Response, S3Error> {
    let xml = read_xml_body_limited(
        &ctx.parts.headers,
        &ctx.verified.payload,
        body,
        Digest::Required,
        MAX_LARGE_XML_BODY,
    )
    .await?;
    let request = parse_delete(&xml)?;
    let quiet = request.quiet.unwrap_or(false);
    let mut result = DeleteResult {
        xmlns: S3_XMLNS,
        deleted: Vec::new(),
        errors: Vec::new(),
    };
    for obj in request.objects {
        if let Some(v) = obj
            .version_id
            .as_deref()
            .filter(|v| !crate::store::is_version_id(v))
        {
            result.errors.push(DeleteError {
                key: obj.key.clone(),
                version_id: Some(v.to_string()),
                code: S3ErrorCode::InvalidArgument.as_str().into(),
                message: "Invalid version id specified".into(),
            });
            continue;
        }
        if obj.last_modified_time.is_some()
            || obj.size.is_some()
            || (obj.etag.is_some() && obj.version_id.is_some())
        {
            result.errors.push(DeleteError {
                key: obj.key,
                version_id: obj.version_id,
                code: S3ErrorCode::NotImplemented.as_str().into(),
                message: S3ErrorCode::NotImplemented.default_message().into(),
            });
            continue;
        }
        // An entry's `ETag` is its `If-Match` (S3's conditional deletes).
        let cond = match &obj.etag {
            Some(tags) => WriteCondition::ETagIn(etag_list(tags)),
            None => WriteCondition::None,
        };
        let addr = ObjectAddr {
            bucket: ctx.bucket_name(),
            key: &obj.key,
        };
        let outcome = match obj.version_id.as_deref() {
            Some(v) if v != NULL_VERSION || bucket.versioning.is_some() => {
                ctx.state.store.delete_version(addr, v).await
            }
            _ => ctx.state.store.delete_object(addr, &cond).await,
        };
        match outcome {
            Ok(_) if quiet => {}
            Ok(d) => result.deleted.push(Deleted {
                key: obj.key,
                // A delete marker added: its id; a version deleted by id: that id.
                delete_marker_version_id: (d.delete_marker && obj.version_id.is_none())
                    .then(|| d.version_id.clone())
                    .flatten(),
                delete_marker: d.delete_marker.then_some(true),
                version_id: obj.version_id,
            }),
            Err(
                e @ (StoreError::PreconditionFailed(_)
                | StoreError::ConditionNoObject(_)
                | StoreError::ConditionConflict),
            ) => {
                let e = S3Error::from(e);
                result.errors.push(DeleteError {
                    key: obj.key,
                    version_id: obj.version_id,
                    code: e.code.as_str().into(),
                    message: e.message.clone(),
                });
            }
            Err(e) => {
                tracing::error!(error = %e, "DeleteObjects entry failed");
                result.errors.push(DeleteError {
                    key: obj.key,
                    version_id: obj.version_id,
                    code: "InternalError".into(),
                    message: "We encountered an internal error. Please try again.".into(),
                });
            }
        }
    }
    Ok(xml_response(StatusCode::OK, to_xml(&result)?))
}
