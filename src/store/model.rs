//! What the store persists: buckets and object metadata. Serialized with serde into the metadata
//! database; the object bytes live in blobs named by random ids (never by key).

use serde::{Deserialize, Serialize};

use crate::crypto::Encryption;
use crate::integrity::checksum::Checksum;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BucketMeta {
    pub name: String,
    /// Account id of the creator; only that account may use the bucket.
    pub owner: String,
    /// The bucket's region: the LocationConstraint, or the server region when none was given.
    pub region: String,
    /// The LocationConstraint exactly as given at creation (GetBucketLocation returns it).
    pub location_constraint: Option<String>,
    pub created_millis: i64,
    /// The default encryption rule set by PutBucketEncryption; `None` means S3's default (SSE-S3).
    #[serde(default)]
    pub encryption_rule: Option<EncryptionRule>,
    /// `BlockedEncryptionTypes` as S3 reports it (`SSE-C` or `NONE`; empty when never set).
    #[serde(default)]
    pub blocked_encryption_types: Vec<String>,
    /// What `blocked_encryption_types` was at creation: DeleteBucketEncryption returns to it.
    #[serde(default)]
    pub default_blocked_encryption_types: Vec<String>,
}

impl BucketMeta {
    /// Whether new SSE-C writes are refused.
    pub fn blocks_ssec(&self) -> bool {
        self.blocked_encryption_types.iter().any(|t| t == "SSE-C")
    }
}

/// A bucket's default encryption (`ApplyServerSideEncryptionByDefault` + `BucketKeyEnabled`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EncryptionRule {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub sse_algorithm: String,
    /// Exactly as given (key id, ARN or alias); not validated until an object write uses it.
    pub kms_master_key_id: Option<String>,
    pub bucket_key_enabled: bool,
}

/// Where an object's bytes are.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum BodyRef {
    /// A zero-byte object: nothing stored.
    Empty,
    /// A blob in the blob store.
    Blob(String),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// Lower-case hex, unquoted.
    pub etag: String,
    pub last_modified_millis: i64,
    /// Stored content headers (content-type, cache-control, ...), lower-case names.
    pub content_headers: Vec<(String, String)>,
    /// `x-amz-meta-*` without the prefix, lower-case names.
    pub user_metadata: Vec<(String, String)>,
    /// The full-object checksum of the payload (the client's algorithm, else CRC64NVME).
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// How the body is encrypted (sealed data keys only). `None` only for bodies written before
    /// sealstore encrypted (and for zero-byte bodies of that time).
    #[serde(default)]
    pub encryption: Option<Encryption>,
    pub body: BodyRef,
}

impl ObjectMeta {
    pub fn content_header(&self, name: &str) -> Option<&str> {
        self.content_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}
