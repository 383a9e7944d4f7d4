//! Bucket configuration reads that tools probe (`s3cmd info`, Terraform): sealstore answers each
//! exactly as S3 does for a bucket that never set it. Writes to them answer 501 (router).

use axum::response::Response;
use http::StatusCode;

use super::xml_response;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::router::BucketSubresource;
use crate::http::xml::S3_XMLNS;
use crate::store::BucketMeta;

pub async fn get_bucket_subresource(
    bucket: BucketMeta,
    sub: BucketSubresource,
) -> Result<Response, S3Error> {
    let missing =
        |code: S3ErrorCode| Err(S3Error::new(code).field("BucketName", bucket.name.clone()));
    let empty_doc = |root: &str| {
        Ok(xml_response(
            StatusCode::OK,
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{S3_XMLNS}\"/>"),
        ))
    };
    match sub {
        BucketSubresource::Cors => missing(S3ErrorCode::NoSuchCORSConfiguration),
        BucketSubresource::Lifecycle => missing(S3ErrorCode::NoSuchLifecycleConfiguration),
        BucketSubresource::Policy => missing(S3ErrorCode::NoSuchBucketPolicy),
        BucketSubresource::OwnershipControls => {
            missing(S3ErrorCode::OwnershipControlsNotFoundError)
        }
        BucketSubresource::PublicAccessBlock => {
            missing(S3ErrorCode::NoSuchPublicAccessBlockConfiguration)
        }
        BucketSubresource::Tagging => missing(S3ErrorCode::NoSuchTagSet),
        // No bucket has object lock (CreateBucket refuses to enable it, 501).
        BucketSubresource::ObjectLock => missing(S3ErrorCode::ObjectLockConfigurationNotFoundError),
        BucketSubresource::Website => missing(S3ErrorCode::NoSuchWebsiteConfiguration),
        BucketSubresource::RequestPayment => Ok(xml_response(
            StatusCode::OK,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RequestPaymentConfiguration xmlns=\"{S3_XMLNS}\"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>"
            ),
        )),
        BucketSubresource::Logging => empty_doc("BucketLoggingStatus"),
        BucketSubresource::Notification => empty_doc("NotificationConfiguration"),
        BucketSubresource::Accelerate => empty_doc("AccelerateConfiguration"),
    }
}
