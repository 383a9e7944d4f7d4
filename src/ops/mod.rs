//! One handler per S3 operation, and `dispatch`, the single match from endpoint to handler.

mod access;
#[cfg(test)]
mod access_tests;
mod acl;
mod bucket;
mod directory;
mod encryption;
mod list;
mod multipart;
mod object_attributes;
mod object_common;
mod object_delete;
mod object_get;
mod object_put;
#[cfg(test)]
mod proptests;
mod sse_request;
mod subresource;
mod tagging;
mod unsupported;
mod versioning;
mod write_encryption;

use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::auth::Verified;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::X_AMZ_ACL;
use crate::http::headers::header;
use crate::http::request_id::RequestId;
use crate::http::router::{Endpoint, Route};
use crate::state::AppState;
use crate::store::ObjectAddr;

/// Everything a handler needs to know about its request, except the body. No query string: the
/// router parsed what each endpoint takes into its `Endpoint` variant.
pub struct ReqCtx<'a> {
    pub state: &'a AppState,
    pub parts: &'a Parts,
    pub route: &'a Route,
    pub verified: Verified,
    pub request_id: &'a RequestId,
}

/// Checks the endpoint's access rule (`access::check`, the one place), then calls its handler
/// with the checked records.
pub async fn dispatch(ctx: ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    crate::faults::panic_point(ctx.route.endpoint.name());
    let mut granted = access::check(&ctx).await?;
    // After the bucket checks (S3 answers for the bucket first), before any handler reads the body.
    unsupported::check(ctx.route.endpoint.name(), &ctx.parts.headers)?;
    let g = &mut granted;
    match &ctx.route.endpoint {
        Endpoint::ListBuckets(input) => bucket::list_buckets(&ctx, input).await,
        Endpoint::CreateBucket => bucket::create_bucket(&ctx, body).await,
        Endpoint::DeleteBucket => bucket::delete_bucket(&ctx, g.bucket()?).await,
        Endpoint::HeadBucket => bucket::head_bucket(g.bucket()?).await,
        Endpoint::GetBucketLocation => bucket::get_bucket_location(g.bucket()?).await,
        Endpoint::GetBucketAcl => acl::get_bucket_acl(g.bucket()?).await,
        Endpoint::PutBucketEncryption => {
            encryption::put_bucket_encryption(&ctx, g.bucket()?, body).await
        }
        Endpoint::GetBucketEncryption => encryption::get_bucket_encryption(&ctx, g.bucket()?).await,
        Endpoint::DeleteBucketEncryption => {
            encryption::delete_bucket_encryption(&ctx, g.bucket()?).await
        }
        Endpoint::PutBucketAcl => acl::put_bucket_acl(&ctx).await,
        Endpoint::GetObjectAcl { version_id } => {
            acl::get_object_acl(&ctx, g.bucket()?, version_id.as_deref()).await
        }
        Endpoint::PutObjectAcl { version_id } => {
            acl::put_object_acl(&ctx, version_id.as_deref()).await
        }
        Endpoint::PutBucketVersioning => {
            versioning::put_bucket_versioning(&ctx, g.bucket()?, body).await
        }
        Endpoint::GetBucketVersioning => versioning::get_bucket_versioning(g.bucket()?).await,
        Endpoint::GetBucketSubresource(sub) => {
            subresource::get_bucket_subresource(g.bucket()?, *sub).await
        }
        Endpoint::ListObjects(input) => list::list_objects(&ctx, g.bucket()?, input).await,
        Endpoint::ListObjectsV2(input) => list::list_objects_v2(&ctx, g.bucket()?, input).await,
        Endpoint::ListObjectVersions(input) => {
            list::list_object_versions(&ctx, g.bucket()?, input).await
        }
        Endpoint::DeleteObjects => object_delete::delete_objects(&ctx, g.bucket()?, body).await,
        Endpoint::DeleteObject { version_id } => {
            object_delete::delete_object(&ctx, g.bucket()?, version_id.as_deref()).await
        }
        Endpoint::PutObject => object_put::put_object(&ctx, g.bucket()?, body).await,
        Endpoint::CopyObject(_) => object_put::copy_object(&ctx, g.bucket()?, g.source()?).await,
        Endpoint::GetObject(read) => object_get::get_object(&ctx, g.bucket()?, read).await,
        Endpoint::HeadObject(read) => object_get::head_object(&ctx, g.bucket()?, read).await,
        Endpoint::GetObjectAttributes(input) => {
            object_attributes::get_object_attributes(&ctx, g.bucket()?, input).await
        }
        Endpoint::CreateMultipartUpload => {
            multipart::create_multipart_upload(&ctx, g.bucket()?).await
        }
        Endpoint::UploadPart(part) => multipart::upload_part(&ctx, part, body).await,
        Endpoint::UploadPartCopy(part, _) => {
            multipart::upload_part_copy(&ctx, part, g.source()?).await
        }
        Endpoint::CompleteMultipartUpload { upload_id } => {
            multipart::complete_multipart_upload(&ctx, upload_id, body).await
        }
        Endpoint::AbortMultipartUpload { upload_id } => {
            multipart::abort_multipart_upload(&ctx, upload_id).await
        }
        Endpoint::ListParts(input) => multipart::list_parts(&ctx, input).await,
        Endpoint::ListMultipartUploads(input) => {
            multipart::list_multipart_uploads(&ctx, input).await
        }
        Endpoint::PutObjectTagging { version_id } => {
            tagging::put_object_tagging(&ctx, g.bucket()?, version_id.as_deref(), body).await
        }
        Endpoint::GetObjectTagging { version_id } => {
            tagging::get_object_tagging(&ctx, g.bucket()?, version_id.as_deref()).await
        }
        Endpoint::DeleteObjectTagging { version_id } => {
            tagging::delete_object_tagging(&ctx, g.bucket()?, version_id.as_deref()).await
        }
        Endpoint::CreateSession => directory::create_session(&ctx, g.existing_bucket()).await,
        Endpoint::ListDirectoryBuckets(input) => {
            directory::list_directory_buckets(&ctx, input).await
        }
        Endpoint::NotImplemented(op) => Err(S3Error::not_implemented(op)),
    }
}

impl ReqCtx<'_> {
    pub fn bucket_name(&self) -> &str {
        self.route.bucket.as_deref().unwrap_or("")
    }

    pub fn key(&self) -> &str {
        self.route.key.as_deref().unwrap_or("")
    }

    /// The object the request names.
    pub fn object_addr(&self) -> ObjectAddr<'_> {
        ObjectAddr {
            bucket: self.bucket_name(),
            key: self.key(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.parts.headers, name)
    }

    /// Only the canned ACL `private` (and its equivalent for owners) is accepted on writes.
    pub fn check_canned_acl(&self) -> Result<(), S3Error> {
        match self.header(X_AMZ_ACL) {
            None | Some("private") | Some("bucket-owner-full-control") => Ok(()),
            Some(other) => Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                format!(
                    "sealstore keeps every resource private; the canned ACL '{other}' is not implemented."
                ),
            )),
        }
    }
}

/// A response with an XML body.
pub fn xml_response(status: StatusCode, xml: String) -> Response {
    let mut res = Response::new(Body::from(xml));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    res
}

/// An empty response with a status.
pub fn empty_response(status: StatusCode) -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = status;
    res
}

/// Sets a header from text, skipping values that are not valid header values.
pub fn set_header(res: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        res.headers_mut().insert(name, v);
    }
}
