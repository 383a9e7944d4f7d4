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
