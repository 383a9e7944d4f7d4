//! DeleteObject and DeleteObjects.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ReqCtx, empty_response, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};

/// S3 deletes at most this many keys per DeleteObjects request.
pub(super) const MAX_DELETE_KEYS: usize = 1000;

#[derive(Deserialize)]
pub(super) struct Delete {
    #[serde(rename = "Object", default)]
    pub(super) objects: Vec<ObjectIdentifier>,
    #[serde(rename = "Quiet", default)]
    pub(super) quiet: Option<bool>,
}

#[derive(Deserialize)]
pub(super) struct ObjectIdentifier {
    #[serde(rename = "Key")]
    pub(super) key: String,
    #[serde(rename = "VersionId")]
    pub(super) version_id: Option<String>,
}

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

#[derive(Serialize)]
#[serde(rename = "DeleteResult")]
struct DeleteResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Deleted")]
    deleted: Vec<Deleted>,
    #[serde(rename = "Error")]
    errors: Vec<DeleteError>,
}

#[derive(Serialize)]
struct Deleted {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
}

#[derive(Serialize)]
struct DeleteError {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId", skip_serializing_if = "Option::is_none")]
    version_id: Option<String>,
    #[serde(rename = "Code")]
    code: String,
    #[serde(rename = "Message")]
    message: String,
}

pub async fn delete_object(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.state
        .store
        .delete_object(ctx.bucket_name(), ctx.key())
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
        match ctx
            .state
            .store
            .delete_object(ctx.bucket_name(), &obj.key)
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
