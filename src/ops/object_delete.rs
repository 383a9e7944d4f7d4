//! DeleteObject and DeleteObjects.

use super::{ReqCtx, empty_response, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_IF_MATCH_LAST_MODIFIED_TIME, X_AMZ_IF_MATCH_SIZE};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::headers::{delete_condition, etag_list};
use crate::http::xml::delete::{Delete, DeleteError, DeleteResult, Deleted};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::store::{ObjectAddr, StoreError, WriteCondition};
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

pub async fn delete_object(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    // Directory buckets' other delete conditions: refused, never ignored.
    for name in [X_AMZ_IF_MATCH_LAST_MODIFIED_TIME, X_AMZ_IF_MATCH_SIZE] {
        if ctx.header(name).is_some() {
            return Err(S3Error::new(S3ErrorCode::NotImplemented).field("Header", name));
        }
    }
    let cond = delete_condition(&ctx.parts.headers)?;
    ctx.state
        .store
        .delete_object(ctx.object_addr(), &cond)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn delete_objects(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
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
        if let Some(v) = obj.version_id.as_deref().filter(|v| *v != "null") {
            result.errors.push(DeleteError {
                key: obj.key,
                version_id: Some(v.to_string()),
                code: "NoSuchVersion".into(),
                message: "The specified version does not exist.".into(),
            });
            continue;
        }
        if obj.last_modified_time.is_some() || obj.size.is_some() {
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
        match ctx.state.store.delete_object(addr, &cond).await {
            Ok(_) if quiet => {}
            Ok(_) => result.deleted.push(Deleted {
                key: obj.key,
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
