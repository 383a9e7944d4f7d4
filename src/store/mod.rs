//! Durable storage: bucket and object metadata plus object bytes.
//!
//! Two backends behind one API: a data directory (redb metadata + one blob file per object) and
//! memory (`--memory`). An object becomes visible only when its metadata commits, which happens
//! after its blob is synced; the replaced blob is removed after the commit.

mod blobs;
mod condition;
mod error;
mod key_store;
mod meta;
mod model;
pub mod rotation;
pub mod sealed;
mod tags;
mod versioned;

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use blobs::{BlobWriter, ByteStream, FinishedBlob, INLINE_MAX, OpenBlob};
pub use condition::WriteCondition;
pub use error::StoreError;
pub use meta::versions::{id_order as version_order, is_well_formed as is_version_id};
pub use meta::{ObjectPage, PageQuery};
pub use model::{
    BodyRef, BucketMeta, ChecksumType, DeleteMarker, DirectoryInfo, EncryptionRule, EncryptionType,
    NULL_VERSION, ObjectAddr, ObjectMeta, PartBody, PartMeta, RecordSeal, UploadAddr, UploadMeta,
    VersionRecord, Versioning,
};
pub use rotation::Progress;
pub use versioned::{Deleted, ListedVersion, VersionCursor, Written};

use crate::crypto::records::RecordKeys;
use crate::crypto::ssec::CustomerKey;

use blobs::{BlobStore, FsBlobs, MemoryBlobs};
use meta::{MemoryMeta, MetaStore, RedbMeta, WriteOp};

pub struct Store {
    meta: MetaStore,
    blobs: BlobStore,
    /// The keys that seal and authenticate object, upload and part records (`sealed`), set once
    /// the system keys are open.
    records: OnceLock<RecordKeys>,
}

impl Store {
    /// Opens (or creates) a data directory and removes blobs orphaned by an earlier crash.
    pub async fn open_dir(dir: &Path) -> Result<Store, StoreError> {
        crate::fsmode::create_private_dir_all(dir)?;
        let meta = MetaStore::Redb(RedbMeta::open(&dir.join("meta.redb"))?);
        let fs = FsBlobs::open(dir)?;
        let keep = meta.referenced_blobs().await?;
        let removed = fs.collect_garbage(&keep)?;
        if removed > 0 {
            tracing::info!(removed, "removed blobs orphaned by an interrupted write");
        }
        Ok(Store {
            meta,
            blobs: BlobStore::Fs(fs),
            records: OnceLock::new(),
        })
    }

    pub fn memory() -> Store {
        Store {
            meta: MetaStore::Memory(MemoryMeta::default()),
            blobs: BlobStore::Memory(Arc::new(MemoryBlobs::default())),
            records: OnceLock::new(),
        }
    }

    /// Installs the record keys (once, at start-up, from the system keys).
    pub fn set_record_keys(&self, keys: RecordKeys) {
        // A second call keeps the first keys: they are the ones the records were checked with.
        let _ = self.records.set(keys);
    }

    fn keys(&self) -> Result<&RecordKeys, StoreError> {
        self.records
            .get()
            .ok_or_else(|| StoreError::Db("metadata record keys are not loaded".into()))
    }

    /// Whether any object or upload record exists (the format check at start-up).
    pub async fn holds_records(&self) -> Result<bool, StoreError> {
        if !self.meta.all_objects(None, 1).await?.is_empty()
            || !self.meta.all_versions(None, 1).await?.is_empty()
        {
            return Ok(true);
        }
        for b in self.meta.buckets().await? {
            if !self
                .meta
                .uploads(PageQuery::first(&b.name, 1))
                .await?
                .is_empty()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Creates a bucket; `quota` is how many buckets of its kind its owner may have (see
    /// `WriteOp::CreateBucket`), `StoreError::TooManyBuckets` beyond.
    pub async fn create_bucket(&self, meta: BucketMeta, quota: usize) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::CreateBucket { meta, quota })
            .await
            .map(|_| ())
    }

    /// Replaces the record of an existing bucket (configuration changes).
    pub async fn update_bucket(&self, meta: BucketMeta) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::UpdateBucket(meta))
            .await
            .map(|_| ())
    }

    /// Deletes an empty bucket, aborting its in-progress uploads: the bucket `meta` names, as the
    /// caller read it, not one of the same name created since (`NoSuchBucket` then).
    pub async fn delete_bucket(&self, meta: &BucketMeta) -> Result<(), StoreError> {
        let op = WriteOp::DeleteBucket {
            name: meta.name.clone(),
            incarnation: meta.incarnation_id(),
        };
        let freed = self.meta.write(op).await?;
        self.free(freed.freed);
        Ok(())
    }

    pub async fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        self.meta.bucket(name).await
    }

    pub async fn buckets(&self) -> Result<Vec<BucketMeta>, StoreError> {
        self.meta.buckets().await
    }

    /// An object's record, checked and opened (an SSE-C record's checksums stay sealed until
    /// `unlock_object`). A record that fails its check is an error, never a value.
    pub async fn object(&self, addr: ObjectAddr<'_>) -> Result<Option<ObjectMeta>, StoreError> {
        let ObjectAddr { bucket, key } = addr;
        let keys = self.keys()?;
        self.meta
            .object(bucket, key)
            .await?
            .map(|m| sealed::open_object(keys, bucket, key, m))
            .transpose()
    }

    /// Opens an SSE-C record's checksums with the customer's key (checked against the record's
    /// verifier by the caller).
    pub fn unlock_object(
        &self,
        addr: ObjectAddr<'_>,
        meta: &mut ObjectMeta,
        customer: &CustomerKey,
    ) -> Result<(), StoreError> {
        sealed::unlock_object(addr.bucket, addr.key, meta, customer)
    }

    pub async fn scan(&self, q: PageQuery<'_, &str>) -> Result<ObjectPage, StoreError> {
        let keys = self.keys()?;
        let bucket = q.bucket;
        // A listing with a record that fails its check fails whole: it never shows that
        // record's values (and the log names it).
        self.meta
            .scan(q)
            .await?
            .into_iter()
            .map(|(k, m)| sealed::open_object(keys, bucket, &k, m).map(|m| (k, m)))
            .collect()
    }

    /// Starts a new blob. Nothing refers to it until `commit_object` names it. With `inline`, a
    /// body that ends within [`INLINE_MAX`] bytes never becomes a file: it is committed with its
    /// metadata (see [`BodyRef::Inline`]).
    pub async fn create_blob(&self, inline: bool) -> Result<BlobWriter, StoreError> {
        self.blobs.create(inline).await
    }

    /// The commit point of a write: metadata naming the (already synced, or `inline`) body becomes
    /// visible, and the body it replaced is freed (in a bucket with a versioning state the
    /// current object becomes an older version instead, except a replaced null version). On
    /// failure (a condition that does not hold included) the new body is freed instead and nothing
    /// changes. `customer` is an SSE-C object's key (its checksums are sealed under it); `cond` is
    /// checked in the commit. Returns the version written (see [`Written`]).
    pub async fn commit_object(
        &self,
        addr: ObjectAddr<'_>,
        meta: ObjectMeta,
        inline: Option<bytes::Bytes>,
        customer: Option<&CustomerKey>,
        cond: &WriteCondition,
    ) -> Result<Written, StoreError> {
        let body = meta.body.clone();
        let result = self
            .commit_attempts(addr, meta, inline, customer, cond)
            .await;
        match result {
            Ok((written, old)) => {
                self.free(old.into_iter().filter(|b| *b != body).collect());
                Ok(written)
            }
            Err(e) => {
                self.free(vec![body]);
                Err(e)
            }
        }
    }

    async fn commit_attempts(
        &self,
        addr: ObjectAddr<'_>,
        meta: ObjectMeta,
        inline: Option<bytes::Bytes>,
        customer: Option<&CustomerKey>,
        cond: &WriteCondition,
    ) -> Result<(Written, Vec<BodyRef>), StoreError> {
        let ObjectAddr { bucket, key } = addr;
        let mut result = Err(StoreError::ConditionConflict);
        for _ in 0..condition::CONDITION_ATTEMPTS {
            let (meta, written) = self.stamp(bucket, meta.clone()).await?;
            let meta = sealed::close_object(self.keys()?, bucket, key, meta, customer)?;
            let expect = self.expectation(addr, cond).await?;
            let op = WriteOp::PutObject {
                bucket: bucket.to_string(),
                key: key.to_string(),
                meta: Box::new(meta),
                inline: inline.clone(),
                expect,
            };
            match self.meta.write(op).await {
                Ok(outcome) => return Ok((written, outcome.freed)),
                Err(StoreError::ObjectChanged) => result = Err(StoreError::ConditionConflict),
                // Versioning was switched meanwhile: stamp the write for the new state.
                Err(StoreError::VersioningChanged) => result = Err(StoreError::VersioningChanged),
                Err(e) => return Err(e),
            }
        }
        result
    }

    /// Deletes the current object if `cond` holds: removes it in a bucket never versioned, adds a
    /// delete marker in one with a versioning state.
    pub async fn delete_object(
        &self,
        addr: ObjectAddr<'_>,
        cond: &WriteCondition,
    ) -> Result<Deleted, StoreError> {
        let mut result = Err(StoreError::ConditionConflict);
        for _ in 0..condition::CONDITION_ATTEMPTS {
            let b = self.existing_bucket(addr.bucket).await?;
            let (marker, written) = versioned::new_marker(&b);
            let expect = self.expectation(addr, cond).await?;
            let op = WriteOp::DeleteObject {
                bucket: addr.bucket.to_string(),
                key: addr.key.to_string(),
                expect,
                marker,
            };
            match self.meta.write(op).await {
                Ok(outcome) => {
                    self.free(outcome.freed);
                    return Ok(match written.version_id {
                        Some(v) => Deleted {
                            version_id: Some(v),
                            delete_marker: true,
                            existed: true,
                        },
                        None => Deleted {
                            version_id: None,
                            delete_marker: false,
                            existed: outcome.removed.is_some(),
                        },
                    });
                }
                Err(StoreError::ObjectChanged) => result = Err(StoreError::ConditionConflict),
                Err(StoreError::VersioningChanged) => result = Err(StoreError::VersioningChanged),
                Err(e) => return Err(e),
            }
        }
        result
    }

    pub async fn create_upload(&self, bucket: &str, upload: UploadMeta) -> Result<(), StoreError> {
        let upload = sealed::close_upload(self.keys()?, bucket, upload)?;
        self.meta
            .write(WriteOp::CreateUpload {
                bucket: bucket.to_string(),
                upload: Box::new(upload),
            })
            .await
            .map(|_| ())
    }

    pub async fn upload(&self, at: UploadAddr<'_>) -> Result<Option<UploadMeta>, StoreError> {
        let keys = self.keys()?;
        let (ObjectAddr { bucket, key }, upload_id) = (at.object, at.upload_id);
        self.meta
            .upload(at)
            .await?
            .map(|u| sealed::open_upload(keys, bucket, key, upload_id, u))
            .transpose()
    }

    /// Records a part (its blob already synced), freeing the part it replaces. If the upload is
    /// gone (aborted or completed meanwhile) the new blob is freed and `NoSuchUpload` returned.
    pub async fn put_part(
        &self,
        bucket: &str,
        upload: &UploadMeta,
        number: u32,
        part: PartMeta,
        customer: Option<&CustomerKey>,
    ) -> Result<(), StoreError> {
        let blob = BodyRef::Blob(part.blob.clone());
        let closed = self
            .keys()
            .and_then(|keys| sealed::close_part(keys, upload, number, part, customer));
        let part = match closed {
            Ok(p) => p,
            Err(e) => {
                self.free(vec![blob]);
                return Err(e);
            }
        };
        let op = WriteOp::PutPart {
            bucket: bucket.to_string(),
            key: upload.key.clone(),
            upload_id: upload.upload_id.clone(),
            number,
            part: Box::new(part),
        };
        match self.meta.write(op).await {
            Ok(old) => {
                self.free(old.freed);
                Ok(())
            }
            Err(e) => {
                self.free(vec![blob]);
                Err(e)
            }
        }
    }

    /// Up to `limit` parts numbered above `after`, checked and opened (an SSE-C upload's part
    /// checksums only with `customer`).
    pub async fn parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
        customer: Option<&CustomerKey>,
    ) -> Result<Vec<(u32, PartMeta)>, StoreError> {
        let keys = self.keys()?;
        self.meta
            .parts(upload_id, after, limit)
            .await?
            .into_iter()
            .map(|(n, p)| sealed::open_part(keys, upload_id, n, p, customer).map(|p| (n, p)))
            .collect()
    }

    pub async fn uploads(
        &self,
        q: PageQuery<'_, (String, Option<String>)>,
    ) -> Result<Vec<UploadMeta>, StoreError> {
        let keys = self.keys()?;
        let bucket = q.bucket;
        self.meta
            .uploads(q)
            .await?
            .into_iter()
            .map(|u| {
                let (key, id) = (u.key.clone(), u.upload_id.clone());
                sealed::open_upload(keys, bucket, &key, &id, u)
            })
            .collect()
    }

    /// Aborts an upload and frees its parts.
    pub async fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        let freed = self
            .meta
            .write(WriteOp::AbortUpload {
                bucket: bucket.to_string(),
                key: key.to_string(),
                upload_id: upload_id.to_string(),
            })
            .await?;
        self.free(freed.freed);
        Ok(())
    }

    /// The commit point of CompleteMultipartUpload: in one transaction the upload ends and the
    /// object made of `meta.body`'s parts becomes visible; the replaced object and the parts not
    /// used are freed afterwards. `cond` is checked in the same transaction; when it does not hold
    /// nothing changes (the upload stays, as on S3, for another Complete). A write that commits at
    /// the key between the check and the commit answers `ConditionConflict` (S3's 409).
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        meta: ObjectMeta,
        customer: Option<&CustomerKey>,
        cond: &WriteCondition,
    ) -> Result<Written, StoreError> {
        let addr = ObjectAddr { bucket, key };
        let used: Vec<(u32, String)> = match &meta.body {
            BodyRef::Parts { parts, .. } => {
                parts.iter().map(|p| (p.number, p.blob.clone())).collect()
            }
            _ => Vec::new(),
        };
        let mut result = Err(StoreError::VersioningChanged);
        // Only a change of the versioning state is retried: a write that commits at the key
        // between the condition check and the commit answers ConditionConflict, as on S3.
        for _ in 0..condition::CONDITION_ATTEMPTS {
            let expect = self.expectation(addr, cond).await?;
            let (stamped, written) = self.stamp(bucket, meta.clone()).await?;
            let closed = sealed::close_object(self.keys()?, bucket, key, stamped, customer)?;
            let op = WriteOp::CompleteUpload {
                bucket: bucket.to_string(),
                key: key.to_string(),
                upload_id: upload_id.to_string(),
                used: used.clone(),
                meta: Box::new(closed),
                expect,
            };
            match self.meta.write(op).await {
                Ok(outcome) => {
                    self.free(outcome.freed);
                    return Ok(written);
                }
                Err(StoreError::ObjectChanged) => return Err(StoreError::ConditionConflict),
                Err(StoreError::VersioningChanged) => result = Err(StoreError::VersioningChanged),
                Err(e) => return Err(e),
            }
        }
        result
    }

    /// Opens an object's stored body for reading (see `OpenBlob`).
    pub async fn open_body(&self, body: &BodyRef) -> Result<OpenBlob, StoreError> {
        match body {
            BodyRef::Empty => Ok(OpenBlob::Empty),
            BodyRef::Blob(id) => self.blobs.open(id).await,
            BodyRef::Inline(id) => match self.meta.inline(id).await? {
                Some(bytes) => Ok(OpenBlob::Memory(bytes)),
                None => Err(StoreError::BlobMissing(id.clone())),
            },
            BodyRef::Parts { .. } => Err(StoreError::Db(
                "a multipart body opens part by part (open_blob)".into(),
            )),
        }
    }

    /// Opens one blob for reading.
    pub async fn open_blob(&self, id: &str) -> Result<OpenBlob, StoreError> {
        self.blobs.open(id).await
    }

    pub async fn put_config(&self, name: &str, value: Vec<u8>) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::PutConfig {
                name: name.to_string(),
                value,
            })
            .await
            .map(|_| ())
    }

    /// Removes config records by name, in one transaction.
    pub async fn remove_config(&self, names: Vec<String>) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::RemoveConfig(names))
            .await
            .map(|_| ())
    }

    pub async fn config(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.meta.config(prefix).await
    }

    /// A page of all objects (bucket, key, metadata) as stored (sealed, unchecked), for
    /// maintenance such as key rotation.
    pub async fn all_objects(
        &self,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<Vec<(String, String, ObjectMeta)>, StoreError> {
        self.meta.all_objects(after, limit).await
    }

    fn free(&self, bodies: Vec<BodyRef>) {
        let ids: Vec<String> = bodies
            .iter()
            .flat_map(|b| b.blobs().into_iter().map(str::to_owned))
            .collect();
        if !ids.is_empty() {
            self.blobs.delete_later(ids);
        }
    }
}
