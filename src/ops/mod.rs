//! One handler per S3 operation, and `dispatch`, the single match from endpoint to handler.

mod acl;
mod bucket;
mod directory;
mod encryption;
mod list;
mod multipart;
mod object_delete;
mod object_get;
mod object_put;
#[cfg(test)]
mod proptests;
mod sse_request;
mod subresource;
mod write_encryption;

use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, StatusCode};

use crate::auth::Verified;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::headers::header;
use crate::http::request_id::RequestId;
use crate::http::router::{Endpoint, Query, Route};
use crate::state::AppState;
use crate::store::{BucketMeta, ObjectAddr};

/// Everything a handler needs to know about its request, except the body.
pub struct ReqCtx<'a> {
    pub state: &'a AppState,
    pub parts: &'a Parts,
    pub query: &'a Query,
    pub route: &'a Route,
    pub verified: Verified,
    pub request_id: &'a RequestId,
}

pub async fn dispatch(ctx: ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    crate::faults::panic_point(ctx.route.endpoint.name());
    match &ctx.route.endpoint {
        Endpoint::ListBuckets => {
            ctx.check_scope_region_name()?;
            bucket::list_buckets(&ctx).await
        }
        Endpoint::CreateBucket => bucket::create_bucket(&ctx, body).await,
        Endpoint::DeleteBucket => bucket::delete_bucket(&ctx).await,
        Endpoint::HeadBucket => bucket::head_bucket(&ctx).await,
        Endpoint::GetBucketLocation => bucket::get_bucket_location(&ctx).await,
        Endpoint::GetBucketAcl => acl::get_bucket_acl(&ctx).await,
        Endpoint::PutBucketEncryption => encryption::put_bucket_encryption(&ctx, body).await,
        Endpoint::GetBucketEncryption => encryption::get_bucket_encryption(&ctx).await,
        Endpoint::DeleteBucketEncryption => encryption::delete_bucket_encryption(&ctx).await,
        Endpoint::PutBucketAcl => acl::put_bucket_acl(&ctx).await,
        Endpoint::GetObjectAcl => acl::get_object_acl(&ctx).await,
        Endpoint::PutObjectAcl => acl::put_object_acl(&ctx).await,
        Endpoint::GetBucketSubresource(sub) => {
            subresource::get_bucket_subresource(&ctx, *sub).await
        }
        Endpoint::ListObjects => list::list_objects(&ctx).await,
        Endpoint::ListObjectsV2 => list::list_objects_v2(&ctx).await,
        Endpoint::ListObjectVersions => list::list_object_versions(&ctx).await,
        Endpoint::DeleteObjects => object_delete::delete_objects(&ctx, body).await,
        Endpoint::DeleteObject => object_delete::delete_object(&ctx).await,
        Endpoint::PutObject => object_put::put_object(&ctx, body).await,
        Endpoint::CopyObject => object_put::copy_object(&ctx).await,
        Endpoint::GetObject => object_get::get_object(&ctx, false).await,
        Endpoint::HeadObject => object_get::get_object(&ctx, true).await,
        Endpoint::CreateMultipartUpload => multipart::create_multipart_upload(&ctx).await,
        Endpoint::UploadPart => multipart::upload_part(&ctx, body).await,
        Endpoint::UploadPartCopy => multipart::upload_part_copy(&ctx).await,
        Endpoint::CompleteMultipartUpload => multipart::complete_multipart_upload(&ctx, body).await,
        Endpoint::AbortMultipartUpload => multipart::abort_multipart_upload(&ctx).await,
        Endpoint::ListParts => multipart::list_parts(&ctx).await,
        Endpoint::ListMultipartUploads => multipart::list_multipart_uploads(&ctx).await,
        Endpoint::CreateSession => directory::create_session(&ctx).await,
        Endpoint::ListDirectoryBuckets => {
            ctx.check_scope_region_name()?;
            directory::list_directory_buckets(&ctx).await
        }
        Endpoint::NotImplemented(op) => {
            // Check the bucket first, as S3 would, so a typo still reads NoSuchBucket.
            if ctx.route.bucket.is_some() {
                ctx.bucket().await?;
            }
            Err(S3Error::not_implemented(op))
        }
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

    /// Loads the addressed bucket and checks the caller may use it: it must exist, the signature's
    /// scope must name its region (and `s3express` only for a directory bucket), it must belong
    /// to the caller's account, and match `x-amz-expected-bucket-owner` when that is sent.
    pub async fn bucket(&self) -> Result<BucketMeta, S3Error> {
        let bucket = self.load_bucket(self.bucket_name()).await?;
        // GetBucketLocation answers from any region: it is how a client finds the right one.
        if !matches!(self.route.endpoint, Endpoint::GetBucketLocation) {
            self.check_scope(&bucket.region, bucket.is_directory())?;
        }
        self.check_owner(&bucket, "x-amz-expected-bucket-owner")?;
        directory::check_request(self, &bucket)?;
        if let Some(expected) = self.header("x-amz-expected-bucket-owner") {
            if expected != bucket.owner {
                return Err(S3Error::new(S3ErrorCode::AccessDenied));
            }
        }
        Ok(bucket)
    }

    /// A bucket the caller owns (a copy source, or the addressed bucket): it must exist, belong
    /// to the caller's account, and match `expected_owner_header` when that is sent.
    pub async fn owned_bucket(
        &self,
        name: &str,
        expected_owner_header: &str,
    ) -> Result<BucketMeta, S3Error> {
        let bucket = self.load_bucket(name).await?;
        self.check_owner(&bucket, expected_owner_header)?;
        Ok(bucket)
    }

    async fn load_bucket(&self, name: &str) -> Result<BucketMeta, S3Error> {
        self.state
            .store
            .bucket(name)
            .await?
            .ok_or_else(|| S3Error::no_such_bucket(name))
    }

    fn check_owner(&self, bucket: &BucketMeta, expected_owner_header: &str) -> Result<(), S3Error> {
        if bucket.owner != self.verified.account_id {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
        if let Some(expected) = self.header(expected_owner_header) {
            if expected != bucket.owner && !bucket.is_directory() {
                return Err(S3Error::new(S3ErrorCode::AccessDenied));
            }
        }
        Ok(())
    }

    /// The one check of a SigV4 credential scope against the resource a request addresses:
    /// `s3express` only for directory buckets, and the region must be `region` (the addressed
    /// bucket's). S3 answers a wrong or invalid region with 400 AuthorizationHeaderMalformed
    /// "the region 'X' is wrong; expecting 'Y'" (AuthorizationQueryParametersError for a presigned
    /// URL), `<Region>Y</Region>` and `x-amz-bucket-region: Y`. `--any-region` skips the region
    /// part. SigV2 requests have no scope.
    pub fn check_scope(&self, region: &str, directory: bool) -> Result<(), S3Error> {
        let Some(scope) = &self.verified.scope else {
            return Ok(());
        };
        if scope.service == crate::auth::SERVICE_S3_EXPRESS && !directory {
            return Err(scope.incorrect_service().into());
        }
        if !self.state.config.any_region && scope.region != region {
            return Err(scope.wrong_region(region).into());
        }
        Ok(())
    }

    /// For a request that addresses no bucket (ListBuckets, ListDirectoryBuckets): any region is
    /// accepted, but it must be a region name; anything else reads as wrong for the server's.
    pub fn check_scope_region_name(&self) -> Result<(), S3Error> {
        let Some(scope) = &self.verified.scope else {
            return Ok(());
        };
        let ours = &self.state.config.region;
        if !self.state.config.any_region
            && !crate::auth::is_region_name(&scope.region)
            && scope.region != *ours
        {
            return Err(scope.wrong_region(ours).into());
        }
        Ok(())
    }

    /// Only the canned ACL `private` (and its equivalent for owners) is accepted on writes.
    pub fn check_canned_acl(&self) -> Result<(), S3Error> {
        match self.header("x-amz-acl") {
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
