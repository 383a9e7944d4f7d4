//! DeleteObject and DeleteObjects.

use super::{ReqCtx, empty_response, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::xml::delete::{Delete, DeleteError, DeleteResult, Deleted};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::store::ObjectAddr;
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
    ctx.state.store.delete_object(ctx.object_addr()).await?;
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
        match ctx
            .state
            .store
            .delete_object(ObjectAddr {
                bucket: ctx.bucket_name(),
                key: &obj.key,
            })
            .await
        {
            Ok(_) if quiet => {}
            Ok(_) => result.deleted.push(Deleted {
                key: obj.key,
                version_id: obj.version_id,
            }),
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
