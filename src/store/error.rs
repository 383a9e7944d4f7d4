//! Storage failures.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("no such bucket {0}")]
    NoSuchBucket(String),
    #[error("bucket {0} is not empty")]
    BucketNotEmpty(String),
    #[error("bucket {bucket} already exists (owner {owner})")]
    BucketExists { bucket: String, owner: String },
    /// The owner has reached its bucket quota (see `WriteOp::CreateBucket`).
    #[error("bucket quota reached")]
    TooManyBuckets,
    #[error("no such upload {0}")]
    NoSuchUpload(String),
    /// A part named by a Complete was replaced (or aborted) while the Complete was being checked.
    #[error("part {0} changed during the complete")]
    PartChanged(u32),
    /// The object at a conditional write's key is not the one its condition was checked against
    /// (another write committed in between): the store checks the condition again.
    #[error("the object changed during a conditional write")]
    ObjectChanged,
    /// A conditional write's condition does not hold (S3's 412 PreconditionFailed).
    #[error("precondition {0:?} failed")]
    PreconditionFailed(crate::store::WriteCondition),
    /// `If-Match` names an object that does not exist (S3's 404 NoSuchKey).
    #[error("no object {0} for the condition")]
    ConditionNoObject(String),
    /// The condition kept meeting concurrent writes (S3's 409 ConditionalRequestConflict).
    #[error("conditional write conflicted with concurrent writes")]
    ConditionConflict,
    /// The bucket's versioning state changed between preparing a write and committing it: the
    /// store prepares the write again.
    #[error("the bucket's versioning state changed during the write")]
    VersioningChanged,
    #[error("blob missing: {0}")]
    BlobMissing(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("metadata database: {0}")]
    Db(String),
    #[error("metadata encoding: {0}")]
    Encoding(#[from] serde_json::Error),
    /// A record failed its MAC or its sealed values failed to open: edited or corrupted on disk.
    #[error("metadata record failed authentication: {0}")]
    Tampered(String),
    #[error("the commit thread has stopped")]
    Closed,
}

impl StoreError {
    pub fn db(e: impl std::fmt::Display) -> Self {
        StoreError::Db(e.to_string())
    }
}
