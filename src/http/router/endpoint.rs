//! `Endpoint`: every S3 operation sealstore distinguishes, each with the inputs the router parsed
//! for it (`inputs.rs`), and the sub-resource tables the router matches.

use super::inputs::{
    Attributes, BucketListing, CopySourceRef, DirectoryListing, ListParts, ListUploads, ListV1,
    ListV2, ListVersions, Part, Read,
};

/// Bucket sub-resources that sealstore answers "never configured" for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSubresource {
    Accelerate,
    Cors,
    Lifecycle,
    Logging,
    Notification,
    ObjectLock,
    OwnershipControls,
    Policy,
    PublicAccessBlock,
    RequestPayment,
    Tagging,
    Website,
}

pub(super) const SUBRESOURCES: [(&str, BucketSubresource); 12] = [
    ("accelerate", BucketSubresource::Accelerate),
    ("cors", BucketSubresource::Cors),
    ("lifecycle", BucketSubresource::Lifecycle),
    ("logging", BucketSubresource::Logging),
    ("notification", BucketSubresource::Notification),
    ("object-lock", BucketSubresource::ObjectLock),
    ("ownershipControls", BucketSubresource::OwnershipControls),
    ("policy", BucketSubresource::Policy),
    ("publicAccessBlock", BucketSubresource::PublicAccessBlock),
    ("requestPayment", BucketSubresource::RequestPayment),
    ("tagging", BucketSubresource::Tagging),
    ("website", BucketSubresource::Website),
];

/// Bucket sub-resources sealstore does not implement at all (any method answers 501).
pub(super) const UNSUPPORTED_BUCKET_KEYWORDS: [(&str, &str); 10] = [
    ("analytics", "BucketAnalyticsConfiguration"),
    ("metrics", "BucketMetricsConfiguration"),
    ("inventory", "BucketInventoryConfiguration"),
    (
        "intelligent-tiering",
        "BucketIntelligentTieringConfiguration",
    ),
    ("replication", "BucketReplication"),
    ("policyStatus", "BucketPolicyStatus"),
    ("metadataTable", "BucketMetadataTableConfiguration"),
    ("metadataConfiguration", "BucketMetadataConfiguration"),
    ("abac", "BucketAbac"),
    ("inventoryConfiguration", "BucketInventoryConfiguration"),
];

/// Object sub-resources sealstore does not implement.
pub(super) const UNSUPPORTED_OBJECT_KEYWORDS: [(&str, &str); 5] = [
    ("retention", "ObjectRetention"),
    ("legal-hold", "ObjectLegalHold"),
    ("torrent", "GetObjectTorrent"),
    ("restore", "RestoreObject"),
    ("select", "SelectObjectContent"),
];

/// Every S3 operation sealstore distinguishes, with its parsed inputs. A `version_id` is `null`
/// or an id sealstore could have issued (anything else is InvalidArgument at the router).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    ListBuckets(BucketListing),
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    GetBucketAcl,
    PutBucketAcl,
    PutBucketEncryption,
    GetBucketEncryption,
    DeleteBucketEncryption,
    PutBucketVersioning,
    GetBucketVersioning,
    GetBucketSubresource(BucketSubresource),
    ListObjects(ListV1),
    ListObjectsV2(ListV2),
    ListObjectVersions(ListVersions),
    DeleteObjects,
    PutObject,
    CopyObject(CopySourceRef),
    GetObject(Read),
    HeadObject(Read),
    GetObjectAttributes(Attributes),
    DeleteObject {
        version_id: Option<String>,
    },
    GetObjectAcl {
        version_id: Option<String>,
    },
    PutObjectAcl {
        version_id: Option<String>,
    },
    CreateMultipartUpload,
    UploadPart(Part),
    UploadPartCopy(Part, CopySourceRef),
    CompleteMultipartUpload {
        upload_id: String,
    },
    AbortMultipartUpload {
        upload_id: String,
    },
    ListParts(ListParts),
    ListMultipartUploads(ListUploads),
    PutObjectTagging {
        version_id: Option<String>,
    },
    GetObjectTagging {
        version_id: Option<String>,
    },
    DeleteObjectTagging {
        version_id: Option<String>,
    },
    CreateSession,
    ListDirectoryBuckets(DirectoryListing),
    /// A known S3 operation that sealstore does not implement yet: answered with 501.
    NotImplemented(&'static str),
}

impl Endpoint {
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::ListBuckets(_) => "ListBuckets",
            Endpoint::CreateBucket => "CreateBucket",
            Endpoint::DeleteBucket => "DeleteBucket",
            Endpoint::HeadBucket => "HeadBucket",
            Endpoint::GetBucketLocation => "GetBucketLocation",
            Endpoint::GetBucketAcl => "GetBucketAcl",
            Endpoint::PutBucketAcl => "PutBucketAcl",
            Endpoint::PutBucketEncryption => "PutBucketEncryption",
            Endpoint::GetBucketEncryption => "GetBucketEncryption",
            Endpoint::DeleteBucketEncryption => "DeleteBucketEncryption",
            Endpoint::PutBucketVersioning => "PutBucketVersioning",
            Endpoint::GetBucketVersioning => "GetBucketVersioning",
            Endpoint::GetBucketSubresource(s) => match s {
                BucketSubresource::Accelerate => "GetBucketAccelerateConfiguration",
                BucketSubresource::Cors => "GetBucketCors",
                BucketSubresource::Lifecycle => "GetBucketLifecycleConfiguration",
                BucketSubresource::Logging => "GetBucketLogging",
                BucketSubresource::Notification => "GetBucketNotificationConfiguration",
                BucketSubresource::ObjectLock => "GetObjectLockConfiguration",
                BucketSubresource::OwnershipControls => "GetBucketOwnershipControls",
                BucketSubresource::Policy => "GetBucketPolicy",
                BucketSubresource::PublicAccessBlock => "GetPublicAccessBlock",
                BucketSubresource::RequestPayment => "GetBucketRequestPayment",
                BucketSubresource::Tagging => "GetBucketTagging",
                BucketSubresource::Website => "GetBucketWebsite",
            },
            Endpoint::ListObjects(_) => "ListObjects",
            Endpoint::ListObjectsV2(_) => "ListObjectsV2",
            Endpoint::ListObjectVersions(_) => "ListObjectVersions",
            Endpoint::DeleteObjects => "DeleteObjects",
            Endpoint::PutObject => "PutObject",
            Endpoint::CopyObject(_) => "CopyObject",
            Endpoint::GetObject(_) => "GetObject",
            Endpoint::HeadObject(_) => "HeadObject",
            Endpoint::GetObjectAttributes(_) => "GetObjectAttributes",
            Endpoint::DeleteObject { .. } => "DeleteObject",
            Endpoint::GetObjectAcl { .. } => "GetObjectAcl",
            Endpoint::PutObjectAcl { .. } => "PutObjectAcl",
            Endpoint::CreateMultipartUpload => "CreateMultipartUpload",
            Endpoint::UploadPart(_) => "UploadPart",
            Endpoint::UploadPartCopy(..) => "UploadPartCopy",
            Endpoint::CompleteMultipartUpload { .. } => "CompleteMultipartUpload",
            Endpoint::AbortMultipartUpload { .. } => "AbortMultipartUpload",
            Endpoint::ListParts(_) => "ListParts",
            Endpoint::ListMultipartUploads(_) => "ListMultipartUploads",
            Endpoint::PutObjectTagging { .. } => "PutObjectTagging",
            Endpoint::GetObjectTagging { .. } => "GetObjectTagging",
            Endpoint::DeleteObjectTagging { .. } => "DeleteObjectTagging",
            Endpoint::CreateSession => "CreateSession",
            Endpoint::ListDirectoryBuckets(_) => "ListDirectoryBuckets",
            Endpoint::NotImplemented(name) => name,
        }
    }
}
