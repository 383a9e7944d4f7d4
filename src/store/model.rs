//! What the store persists: buckets and object metadata. Serialized with serde into the metadata
//! database; the object bytes live in blobs named by random ids (never by key).

use serde::{Deserialize, Serialize};

use crate::crypto::records::SealedValue;
use crate::crypto::{Encryption, SseAlgorithm};
use crate::integrity::checksum::{Checksum, ChecksumAlgorithm};

/// The id S3 shows for the version of an object written while versioning was off or suspended.
pub const NULL_VERSION: &str = "null";

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
    pub blocked_encryption_types: Vec<EncryptionType>,
    /// What `blocked_encryption_types` was at creation: DeleteBucketEncryption returns to it.
    #[serde(default)]
    pub default_blocked_encryption_types: Vec<EncryptionType>,
    /// Set for a directory bucket (S3 Express One Zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<DirectoryInfo>,
    /// Random, set at CreateBucket: tells this bucket from an earlier one of the same name (records
    /// bound to a bucket, such as its bucket keys, use it). Empty in records written before it
    /// existed: see [`BucketMeta::incarnation_id`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub incarnation: String,
    /// The versioning state PutBucketVersioning set; `None` for a bucket never versioned (S3
    /// never returns a bucket to that state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<Versioning>,
}

/// A bucket's versioning state (S3's `Status`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum Versioning {
    /// Every write creates a version with a fresh id.
    Enabled,
    /// Writes replace the `null` version; older versions stay.
    Suspended,
}

impl Versioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Versioning::Enabled => "Enabled",
            Versioning::Suspended => "Suspended",
        }
    }
}

/// A directory bucket's location, from its CreateBucketConfiguration, and its KMS key lock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DirectoryInfo {
    /// `AvailabilityZone` or `LocalZone`.
    pub location_type: String,
    /// The zone id, e.g. `use1-az4`.
    pub location_name: String,
    /// `SingleAvailabilityZone` or `SingleLocalZone`.
    pub data_redundancy: String,
    /// The id of the first customer managed key set as the bucket default: a directory bucket keeps
    /// it for its lifetime, even after DeleteBucketEncryption.
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

impl BucketMeta {
    /// A new random incarnation id (128 bits, hex).
    pub fn new_incarnation() -> String {
        use rand::RngCore;
        let mut raw = [0u8; 16];
        rand::rng().fill_bytes(&mut raw);
        hex::encode(raw)
    }

    /// The bucket's incarnation id. A record from before incarnations gets a deterministic one
    /// from its owner, creation time and name: stable across restarts, and different for a bucket
    /// of that name created again (by another owner, or later).
    pub fn incarnation_id(&self) -> String {
        if self.incarnation.is_empty() {
            format!(
                "legacy-{}-{}-{}",
                self.owner, self.created_millis, self.name
            )
        } else {
            self.incarnation.clone()
        }
    }

    /// A general purpose bucket of `owner` with S3's defaults, for unit tests.
    #[cfg(test)]
    pub fn for_tests(name: &str, owner: &str) -> BucketMeta {
        BucketMeta {
            name: name.into(),
            owner: owner.into(),
            region: "us-east-1".into(),
            location_constraint: None,
            created_millis: 1,
            encryption_rule: None,
            blocked_encryption_types: Vec::new(),
            default_blocked_encryption_types: Vec::new(),
            directory: None,
            incarnation: BucketMeta::new_incarnation(),
            versioning: None,
        }
    }

    /// The prefix of the config records that belong to this bucket incarnation: the store drops
    /// them in the transaction that deletes the bucket.
    pub fn scoped_config_prefix(&self) -> String {
        format!("bucket/{}/", self.incarnation_id())
    }

    /// Whether new SSE-C writes are refused.
    pub fn blocks_ssec(&self) -> bool {
        self.blocked_encryption_types
            .contains(&EncryptionType::SseC)
    }

    pub fn is_directory(&self) -> bool {
        self.directory.is_some()
    }

    /// The bucket's ARN (`arn:aws:s3express:...` for a directory bucket).
    pub fn arn(&self) -> String {
        match self.directory {
            Some(_) => format!(
                "arn:aws:s3express:{}:{}:bucket/{}",
                self.region, self.owner, self.name
            ),
            None => format!("arn:aws:s3:::{}", self.name),
        }
    }
}

/// Where an object lives, as the store keys it: bucket and key (a version id joins here with
/// versioning). Passed instead of two adjacent `&str`s, which are easy to swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectAddr<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
}

/// A multipart upload: the object it will make and its upload id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadAddr<'a> {
    pub object: ObjectAddr<'a>,
    pub upload_id: &'a str,
}

/// An entry of a bucket's `BlockedEncryptionTypes`, stored as S3 names it (`SSE-C`, `NONE`). An
/// unknown stored value fails to decode (`StoreError::Encoding`, a 500), never reads as nothing
/// blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EncryptionType {
    #[serde(rename = "SSE-C")]
    SseC,
    /// Nothing blocked (how a PutBucketEncryption unblocks SSE-C).
    #[serde(rename = "NONE")]
    None,
}

impl EncryptionType {
    pub fn as_str(self) -> &'static str {
        match self {
            EncryptionType::SseC => "SSE-C",
            EncryptionType::None => "NONE",
        }
    }

    /// The type S3 names `name` (exactly), if any.
    pub fn parse(name: &str) -> Option<EncryptionType> {
        [EncryptionType::SseC, EncryptionType::None]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// A bucket's default encryption (`ApplyServerSideEncryptionByDefault` + `BucketKeyEnabled`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EncryptionRule {
    /// Stored as `AES256`, `aws:kms` or `aws:kms:dsse`; anything else fails to decode.
    pub sse_algorithm: SseAlgorithm,
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
    /// A small body stored in the metadata database under this id, written in the same
    /// transaction as the object's metadata (one commit and one fsync make a small PUT durable).
    Inline(String),
    /// A completed multipart upload: its parts' blobs, in order. The data keys were sealed for the
    /// upload id, and each part is encrypted under keys derived for its own blob.
    Parts {
        upload_id: String,
        parts: Vec<PartBody>,
    },
}

impl BodyRef {
    /// The id a record is bound to: the blob (or inline) id, or the upload id of a multipart body.
    pub fn id(&self) -> &str {
        match self {
            BodyRef::Empty => "",
            BodyRef::Blob(id) | BodyRef::Inline(id) => id,
            BodyRef::Parts { upload_id, .. } => upload_id,
        }
    }

    /// Every blob id this body occupies in the blob store (an inline body occupies none).
    pub fn blobs(&self) -> Vec<&str> {
        match self {
            BodyRef::Empty | BodyRef::Inline(_) => Vec::new(),
            BodyRef::Blob(id) => vec![id.as_str()],
            BodyRef::Parts { parts, .. } => parts.iter().map(|p| p.blob.as_str()).collect(),
        }
    }
}

/// One part of a completed multipart object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartBody {
    pub number: u32,
    pub blob: String,
    pub size: u64,
    /// The part's checksum in the upload's algorithm (for `partNumber` reads of COMPOSITE objects).
    /// Never stored in the clear: `None` on disk (it is in the record's [`RecordSeal`]), and `None`
    /// in memory while an SSE-C record is locked or when the object has none.
    #[serde(default)]
    pub checksum: Option<Checksum>,
}

/// What makes a record safe at rest (`store::sealed`): the values computed from the plaintext,
/// sealed, and a MAC over the whole record and its place.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordSeal {
    /// ETag, checksums and tags, sealed under the metadata key (SSE-C: the ETag, which is opaque,
    /// and the tags). An upload record seals its tags here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<SealedValue>,
    /// SSE-C: the checksums, sealed under a key derived from the customer's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<SealedValue>,
    /// HMAC-SHA256 of the record as stored (this field zeroed) and of its place.
    pub mac: [u8; 32],
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
    /// Whether `checksum` is a COMPOSITE checksum of a multipart upload (a checksum of the parts'
    /// checksums, shown as `<value>-<parts>`) rather than one of the whole payload.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub composite_checksum: bool,
    /// The object's tags (S3 object tagging), ordered by key. Never stored in the clear: empty on
    /// disk, sealed in the record's [`RecordSeal`] under the metadata key (also for SSE-C:
    /// GetObjectTagging takes no customer key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// How the body is encrypted (sealed data keys only). Every record has one: there is no
    /// plaintext body.
    pub encryption: Encryption,
    pub body: BodyRef,
    /// The seal and MAC as stored. `None` for a record being written (the store seals it); in a
    /// record read back it still holds an SSE-C record's customer-sealed checksums, which
    /// `Store::unlock_object` opens with the customer's key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<RecordSeal>,
    /// The version id; `None` is the `null` version (every object of a bucket never versioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// When the version was written (microseconds since the epoch, unique per process): the order
    /// of a key's versions. 0 in records written before versions existed (see `order`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub seq: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ObjectMeta {
    /// The version's place in its key's history (newest is largest).
    pub fn order(&self) -> u64 {
        match self.seq {
            0 => u64::try_from(self.last_modified_millis)
                .unwrap_or(0)
                .saturating_mul(1000),
            s => s,
        }
    }

    /// The version id as S3 shows it (`null` for the null version).
    pub fn version_label(&self) -> &str {
        self.version_id.as_deref().unwrap_or(NULL_VERSION)
    }

    /// How many parts the object was uploaded in (`None` for a single PUT).
    pub fn parts_count(&self) -> Option<usize> {
        match &self.body {
            BodyRef::Parts { parts, .. } => Some(parts.len()),
            _ => None,
        }
    }

    /// The checksum as S3 shows it: algorithm, value (`<b64>-<n>` for COMPOSITE) and type.
    pub fn checksum_view(&self) -> Option<(ChecksumAlgorithm, String, &'static str)> {
        let c = self.checksum.as_ref()?;
        match (self.composite_checksum, self.parts_count()) {
            (true, Some(n)) => Some((c.algorithm, format!("{}-{n}", c.base64()), "COMPOSITE")),
            _ => Some((c.algorithm, c.base64(), "FULL_OBJECT")),
        }
    }

    pub fn content_header(&self, name: &str) -> Option<&str> {
        self.content_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The checksum type of a multipart upload.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum ChecksumType {
    Composite,
    FullObject,
}

impl ChecksumType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumType::Composite => "COMPOSITE",
            ChecksumType::FullObject => "FULL_OBJECT",
        }
    }
}

/// An in-progress multipart upload: everything CreateMultipartUpload fixed for the object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadMeta {
    pub upload_id: String,
    pub key: String,
    pub initiated_millis: i64,
    /// Account id of the initiator.
    pub owner: String,
    pub content_headers: Vec<(String, String)>,
    pub user_metadata: Vec<(String, String)>,
    /// The algorithm asked for at creation (`x-amz-checksum-algorithm`) and its type.
    pub checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    /// The upload's data keys, sealed for (bucket, key, upload id). Parts use keys derived from them.
    pub encryption: Encryption,
    /// The tags the completed object gets (`x-amz-tagging` at creation). Empty on disk: sealed in
    /// the record's [`RecordSeal`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The record's MAC as stored, and its sealed tags (see [`RecordSeal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<RecordSeal>,
}

impl UploadMeta {
    /// The algorithm every part's stored checksum uses: the upload's, else CRC64NVME (which the
    /// completed object gets, combined from the parts, when the upload named none).
    pub fn part_algorithm(&self) -> ChecksumAlgorithm {
        self.checksum
            .map(|(a, _)| a)
            .unwrap_or(ChecksumAlgorithm::Crc64Nvme)
    }
}

/// One uploaded part of an in-progress upload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PartMeta {
    pub blob: String,
    pub size: u64,
    /// Lower-case hex, unquoted (the MD5 for SSE-S3, opaque otherwise, as for objects). Empty on
    /// disk: it is sealed in `seal`.
    pub etag: String,
    pub last_modified_millis: i64,
    /// The part's checksum in `UploadMeta::part_algorithm`; `None` on disk (sealed) and while an
    /// SSE-C part is read without the customer's key.
    #[serde(default)]
    pub checksum: Option<Checksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<RecordSeal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{S3Error, S3ErrorCode};

    fn record(algorithm: &str, blocked: &str) -> serde_json::Value {
        serde_json::json!({
            "name": "b", "owner": "000000000000", "region": "us-east-1",
            "location_constraint": null, "created_millis": 1,
            "encryption_rule": {
                "sse_algorithm": algorithm, "kms_master_key_id": null, "bucket_key_enabled": false
            },
            "blocked_encryption_types": [blocked],
            "default_blocked_encryption_types": [blocked]
        })
    }

    /// The typed fields keep the stored strings, and an unknown stored value is an error (500),
    /// never SSE-S3 or "nothing blocked".
    #[test]
    fn stored_encryption_strings_round_trip_and_unknown_ones_fail() {
        for (alg, ty) in [
            ("AES256", "SSE-C"),
            ("aws:kms", "NONE"),
            ("aws:kms:dsse", "SSE-C"),
        ] {
            let json = record(alg, ty);
            let meta: BucketMeta = serde_json::from_value(json.clone()).unwrap();
            let again = serde_json::to_value(&meta).unwrap();
            assert_eq!(again["encryption_rule"], json["encryption_rule"]);
            assert_eq!(
                again["blocked_encryption_types"],
                json["blocked_encryption_types"]
            );
        }
        for (alg, ty) in [
            ("AES512", "SSE-C"),
            ("aes256", "NONE"),
            ("AES256", "SSE-KMS"),
        ] {
            let bytes = serde_json::to_vec(&record(alg, ty)).unwrap();
            let e = serde_json::from_slice::<BucketMeta>(&bytes).unwrap_err();
            let e = S3Error::from(crate::store::StoreError::Encoding(e));
            assert_eq!(e.code, S3ErrorCode::InternalError, "{alg} {ty}");
        }
    }
}

/// A delete marker: the newest version of a key deleted in a versioned bucket. It has no body,
/// no metadata and nothing sealed; GET of its key answers 404 with `x-amz-delete-marker`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeleteMarker {
    /// `None` is the `null` version (a delete in a suspended bucket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub seq: u64,
    pub last_modified_millis: i64,
}

/// A version of a key that is not its current object: an older object version or a delete
/// marker (the `versions` table).
// Records are moved a few at a time (a listing page at most); boxing the common variant would
// only add an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum VersionRecord {
    Object(ObjectMeta),
    Marker(DeleteMarker),
}

impl VersionRecord {
    pub fn order(&self) -> u64 {
        match self {
            VersionRecord::Object(m) => m.order(),
            VersionRecord::Marker(d) => d.seq,
        }
    }

    pub fn version_id(&self) -> Option<&str> {
        match self {
            VersionRecord::Object(m) => m.version_id.as_deref(),
            VersionRecord::Marker(d) => d.version_id.as_deref(),
        }
    }
}
