//! The metadata store: buckets and object metadata, in redb (durable) or in memory.
//!
//! Writes go through [`WriteOp`] and one `apply` function shared by both backends, so their
//! behaviour cannot drift. The redb backend funnels every write through one commit thread that
//! batches whatever is queued into a single transaction: concurrent PUTs share one commit (group
//! commit), and the order of the queue is the order writes take effect (last writer wins).

mod bucket_cache;
mod durable;
mod front;
mod memory;
pub mod versions;

pub use durable::RedbMeta;
pub use front::{MetaStore, ObjectPage, PageQuery};
pub use memory::MemoryMeta;

use bytes::Bytes;

use super::error::StoreError;
use super::model::{
    BodyRef, BucketMeta, DeleteMarker, ObjectMeta, PartMeta, UploadMeta, VersionRecord,
};

pub fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1 + key.len());
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
}

pub fn upload_key(bucket: &str, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = object_key(bucket, key);
    k.push(0);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

pub fn part_key(upload_id: &str, number: u32) -> Vec<u8> {
    let mut k = upload_id.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

/// The half-open range of one upload's part keys.
fn parts_bounds(upload_id: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = upload_id.as_bytes().to_vec();
    start.push(0);
    let mut end = upload_id.as_bytes().to_vec();
    end.push(1);
    (start, end)
}

/// The half-open range of a bucket's object keys.
fn bucket_bounds(bucket: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = bucket.as_bytes().to_vec();
    start.push(0);
    let mut end = bucket.as_bytes().to_vec();
    end.push(1);
    (start, end)
}

/// The part number at the end of a part key.
fn part_number(k: &[u8]) -> u32 {
    let tail = k.len().saturating_sub(4);
    k.get(tail..)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// What a conditional write expects to find at its key when it commits (S3's conditional writes).
/// The caller resolves a condition against a record it read; checking the expectation in the
/// committing transaction makes the check and the write one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// No condition: the write replaces whatever is there.
    Any,
    /// No object at the key.
    Absent,
    /// Exactly the record read, named by its MAC (unique per record written: it covers the
    /// record's freshly sealed values).
    Record([u8; 32]),
}

/// Whether the object at `k` is what `expect` expects; `StoreError::ObjectChanged` if not.
fn check_expect(t: &impl Tables, k: &[u8], expect: Expect) -> Result<(), StoreError> {
    let holds = match expect {
        Expect::Any => true,
        Expect::Absent => t.object(k)?.is_none(),
        Expect::Record(mac) => t
            .object(k)?
            .and_then(|m| m.seal)
            .is_some_and(|s| s.mac == mac),
    };
    if holds {
        Ok(())
    } else {
        Err(StoreError::ObjectChanged)
    }
}

/// A change to the metadata, applied atomically.
#[derive(Debug)]
pub enum WriteOp {
    /// Creates a bucket unless its owner already has `quota` buckets of its kind: general purpose
    /// buckets count per account, directory buckets per account and region (S3's quotas). The
    /// count is taken in the same transaction as the insert, so concurrent creations cannot
    /// overshoot it.
    CreateBucket {
        meta: BucketMeta,
        quota: usize,
    },
    /// Deletes the bucket `name` if it is still incarnation `incarnation` (the record the caller
    /// authorized the deletion against: not one deleted and created again since).
    DeleteBucket {
        name: String,
        incarnation: String,
    },
    /// Replaces an existing bucket's record (its configuration).
    UpdateBucket(BucketMeta),
    PutObject {
        bucket: String,
        key: String,
        meta: Box<ObjectMeta>,
        /// The sealed bytes of an `Inline` body, stored with the metadata.
        inline: Option<Bytes>,
        expect: Expect,
    },
    /// Deletes the current object: removes it in a bucket never versioned; adds `marker` as the
    /// key's newest version in one with a versioning state.
    DeleteObject {
        bucket: String,
        key: String,
        expect: Expect,
        marker: DeleteMarker,
    },
    /// Removes one version (an object or a delete marker) for good; `None` is the null version.
    DeleteVersion {
        bucket: String,
        key: String,
        version_id: Option<String>,
    },
    /// Replaces version `meta.version_id` of a key in place, keeping its body (key rotation,
    /// tags), only if it is still the record with MAC `expect` (when given).
    RewriteVersion {
        bucket: String,
        key: String,
        meta: Box<ObjectMeta>,
        expect: Option<[u8; 32]>,
    },
    PutConfig {
        name: String,
        value: Vec<u8>,
    },
    /// Removes config records by name (absent ones are ignored).
    RemoveConfig(Vec<String>),
    CreateUpload {
        bucket: String,
        upload: Box<UploadMeta>,
    },
    /// Records a part of an existing upload, replacing a part of the same number.
    PutPart {
        bucket: String,
        key: String,
        upload_id: String,
        number: u32,
        part: Box<PartMeta>,
    },
    AbortUpload {
        bucket: String,
        key: String,
        upload_id: String,
    },
    /// Ends an upload and makes its object visible in one step. `used` names the part blobs the
    /// object is made of, as the caller checked them: if any part changed since, nothing happens.
    CompleteUpload {
        bucket: String,
        key: String,
        upload_id: String,
        used: Vec<(u32, String)>,
        meta: Box<ObjectMeta>,
        expect: Expect,
    },
}

/// What a write did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Bodies the caller may now free (a replaced object, a replaced part, the parts of an aborted
    /// upload or those a Complete left out).
    pub freed: Vec<BodyRef>,
    /// What a delete removed (or, for a delete in a versioned bucket, nothing: it added a marker).
    pub removed: Option<VersionRecord>,
}

impl From<Vec<BodyRef>> for Outcome {
    fn from(freed: Vec<BodyRef>) -> Outcome {
        Outcome {
            freed,
            removed: None,
        }
    }
}

/// Table access the shared `apply` needs, implemented by the redb transaction and the maps.
trait Tables {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError>;
    /// Every bucket record (CreateBucket's quota count).
    fn all_buckets(&self) -> Result<Vec<BucketMeta>, StoreError>;
    fn put_bucket(&mut self, meta: &BucketMeta) -> Result<(), StoreError>;
    fn remove_bucket(&mut self, name: &str) -> Result<(), StoreError>;
    fn bucket_is_empty(&self, name: &str) -> Result<bool, StoreError>;
    fn object(&self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError>;
    fn put_object(&mut self, k: &[u8], meta: &ObjectMeta)
    -> Result<Option<ObjectMeta>, StoreError>;
    fn remove_object(&mut self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError>;
    fn put_config(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError>;
    fn remove_config(&mut self, name: &str) -> Result<(), StoreError>;
    /// Removes every config record whose name starts with `prefix`.
    fn remove_config_prefix(&mut self, prefix: &str) -> Result<(), StoreError>;
    fn upload(&self, k: &[u8]) -> Result<Option<UploadMeta>, StoreError>;
    fn put_upload(&mut self, k: &[u8], upload: &UploadMeta) -> Result<(), StoreError>;
    fn remove_upload(&mut self, k: &[u8]) -> Result<(), StoreError>;
    /// The upload keys of a bucket's in-progress uploads.
    fn bucket_uploads(&self, bucket: &str) -> Result<Vec<Vec<u8>>, StoreError>;
    fn part(&self, k: &[u8]) -> Result<Option<PartMeta>, StoreError>;
    fn put_part(&mut self, k: &[u8], part: &PartMeta) -> Result<Option<PartMeta>, StoreError>;
    /// Removes every part of an upload; returns them.
    fn remove_parts(&mut self, upload_id: &str) -> Result<Vec<(u32, PartMeta)>, StoreError>;
    fn put_inline(&mut self, id: &str, body: &[u8]) -> Result<(), StoreError>;
    fn remove_inline(&mut self, id: &str) -> Result<(), StoreError>;
    fn version(&self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError>;
    fn put_version(&mut self, vk: &[u8], rec: &VersionRecord) -> Result<(), StoreError>;
    fn remove_version(&mut self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError>;
    /// Up to `limit` entries of the `versions` table in `[start, end)`, in order.
    fn version_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionRecord)>, StoreError>;
}

/// What replacing or removing `old` releases: inline bodies are removed here, in the same
/// transaction; blob bodies are returned for the caller to free after the commit. `keep` (the new
/// body) is never released: rewriting metadata in place keeps its body.
fn release(
    t: &mut impl Tables,
    old: Option<ObjectMeta>,
    keep: Option<&BodyRef>,
) -> Result<Vec<BodyRef>, StoreError> {
    let Some(old) = old else {
        return Ok(Vec::new());
    };
    if Some(&old.body) == keep {
        return Ok(Vec::new());
    }
    match old.body {
        BodyRef::Inline(id) => {
            t.remove_inline(&id)?;
            Ok(Vec::new())
        }
        BodyRef::Empty => Ok(Vec::new()),
        body => Ok(vec![body]),
    }
}

/// The upload `upload_id` of `key`, only if the record found is exactly that one. Table keys are
/// `bucket NUL key NUL id` and keys may contain NUL, so key `a` with id `b NUL u` names the same
/// table key as key `a NUL b` with id `u`: checking the record keeps such a request from reaching
/// another key's upload.
fn exact_upload(
    t: &impl Tables,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<(Vec<u8>, UploadMeta)>, StoreError> {
    let k = upload_key(bucket, key, upload_id);
    Ok(t.upload(&k)?
        .filter(|u| u.key == key && u.upload_id == upload_id)
        .map(|u| (k, u)))
}

/// Removes an upload and its parts; returns the part bodies to free.
fn drop_upload(
    t: &mut impl Tables,
    k: &[u8],
    upload_id: &str,
) -> Result<Vec<(u32, PartMeta)>, StoreError> {
    t.remove_upload(k)?;
    t.remove_parts(upload_id)
}

fn apply(t: &mut impl Tables, op: &WriteOp) -> Result<Outcome, StoreError> {
    match op {
        WriteOp::DeleteVersion {
            bucket,
            key,
            version_id,
        } => apply_delete_version(t, bucket, key, version_id.as_deref()),
        WriteOp::DeleteObject {
            bucket,
            key,
            expect,
            marker,
        } => apply_delete_object(t, bucket, key, *expect, marker),
        op => apply_op(t, op).map(Outcome::from),
    }
}

/// DeleteObject without a version id: the object goes in a bucket never versioned (`removed`
/// names it); a delete marker is added otherwise.
fn apply_delete_object(
    t: &mut impl Tables,
    bucket: &str,
    key: &str,
    expect: Expect,
    marker: &DeleteMarker,
) -> Result<Outcome, StoreError> {
    let b = existing_bucket(t, bucket)?;
    check_expect(t, &object_key(bucket, key), expect)?;
    if b.versioning.is_none() {
        let old = t.remove_object(&object_key(bucket, key))?;
        let freed = release(t, old.clone(), None)?;
        return Ok(Outcome {
            freed,
            removed: old.map(VersionRecord::Object),
        });
    }
    versions::check_state(&b, marker.version_id.is_some())?;
    versions::add(t, bucket, key, VersionRecord::Marker(marker.clone())).map(Outcome::from)
}

fn apply_op(t: &mut impl Tables, op: &WriteOp) -> Result<Vec<BodyRef>, StoreError> {
    match op {
        WriteOp::CreateBucket { meta, quota } => {
            if let Some(existing) = t.bucket(&meta.name)? {
                return Err(StoreError::BucketExists {
                    bucket: meta.name.clone(),
                    owner: existing.owner,
                });
            }
            let same_kind = |b: &BucketMeta| {
                b.owner == meta.owner
                    && b.is_directory() == meta.is_directory()
                    && (!meta.is_directory() || b.region == meta.region)
            };
            let owned = t.all_buckets()?.iter().filter(|b| same_kind(b)).count();
            if owned >= *quota {
                return Err(StoreError::TooManyBuckets);
            }
            t.put_bucket(meta)?;
            Ok(Vec::new())
        }
        WriteOp::UpdateBucket(meta) => {
            // Only the bucket the update was read from: not one deleted and created again since.
            let same = t
                .bucket(&meta.name)?
                .is_some_and(|b| b.incarnation_id() == meta.incarnation_id());
            if !same {
                return Err(StoreError::NoSuchBucket(meta.name.clone()));
            }
            t.put_bucket(meta)?;
            Ok(Vec::new())
        }
        WriteOp::DeleteBucket { name, incarnation } => {
            let Some(meta) = t
                .bucket(name)?
                .filter(|b| b.incarnation_id() == *incarnation)
            else {
                return Err(StoreError::NoSuchBucket(name.clone()));
            };
            if !t.bucket_is_empty(name)? {
                return Err(StoreError::BucketNotEmpty(name.clone()));
            }
            // In-progress uploads do not keep a bucket alive: they are aborted with it. The upload
            // id comes from the record, not from splitting its table key at a NUL: object keys may
            // contain NUL, so `bucket NUL key NUL id` cannot be split back unambiguously.
            let mut freed = Vec::new();
            for k in t.bucket_uploads(name)? {
                let Some(upload) = t.upload(&k)? else {
                    continue;
                };
                freed.extend(
                    drop_upload(t, &k, &upload.upload_id)?
                        .into_iter()
                        .map(|(_, p)| BodyRef::Blob(p.blob)),
                );
            }
            // Records bound to this incarnation (its bucket keys) go with it.
            t.remove_config_prefix(&meta.scoped_config_prefix())?;
            t.remove_bucket(name)?;
            Ok(freed)
        }
        WriteOp::PutObject {
            bucket,
            key,
            meta,
            inline,
            expect,
        } => {
            let b = existing_bucket(t, bucket)?;
            versions::check_state(&b, meta.version_id.is_some())?;
            check_expect(t, &object_key(bucket, key), *expect)?;
            if let (BodyRef::Inline(id), Some(bytes)) = (&meta.body, inline) {
                t.put_inline(id, bytes)?;
            }
            write_object(t, &b, key, meta)
        }
        WriteOp::DeleteObject { .. } | WriteOp::DeleteVersion { .. } => {
            // Deletes report what they removed: `apply` runs them before reaching here.
            Err(StoreError::Db("delete applied outside apply".into()))
        }
        WriteOp::RewriteVersion {
            bucket,
            key,
            meta,
            expect,
        } => {
            existing_bucket(t, bucket)?;
            versions::rewrite(t, bucket, key, meta, *expect)?;
            Ok(Vec::new())
        }
        WriteOp::PutConfig { name, value } => {
            t.put_config(name, value)?;
            Ok(Vec::new())
        }
        WriteOp::RemoveConfig(names) => {
            for name in names {
                t.remove_config(name)?;
            }
            Ok(Vec::new())
        }
        WriteOp::CreateUpload { bucket, upload } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            t.put_upload(&upload_key(bucket, &upload.key, &upload.upload_id), upload)?;
            Ok(Vec::new())
        }
        WriteOp::PutPart {
            bucket,
            key,
            upload_id,
            number,
            part,
        } => {
            if exact_upload(t, bucket, key, upload_id)?.is_none() {
                return Err(StoreError::NoSuchUpload(upload_id.clone()));
            }
            Ok(t.put_part(&part_key(upload_id, *number), part)?
                .map(|old| BodyRef::Blob(old.blob))
                .into_iter()
                .collect())
        }
        WriteOp::AbortUpload {
            bucket,
            key,
            upload_id,
        } => {
            let Some((k, _)) = exact_upload(t, bucket, key, upload_id)? else {
                return Err(StoreError::NoSuchUpload(upload_id.clone()));
            };
            Ok(drop_upload(t, &k, upload_id)?
                .into_iter()
                .map(|(_, p)| BodyRef::Blob(p.blob))
                .collect())
        }
        WriteOp::CompleteUpload {
            bucket,
            key,
            upload_id,
            used,
            meta,
            expect,
        } => {
            let Some((k, _)) = exact_upload(t, bucket, key, upload_id)? else {
                return Err(StoreError::NoSuchUpload(upload_id.clone()));
            };
            for (number, blob) in used {
                let current = t.part(&part_key(upload_id, *number))?;
                if current.as_ref().map(|p| &p.blob) != Some(blob) {
                    return Err(StoreError::PartChanged(*number));
                }
            }
            let b = existing_bucket(t, bucket)?;
            versions::check_state(&b, meta.version_id.is_some())?;
            // A refused condition keeps the upload, so the client can complete it again.
            check_expect(t, &object_key(bucket, key), *expect)?;
            let mut freed = write_object(t, &b, key, meta)?;
            freed.extend(
                drop_upload(t, &k, upload_id)?
                    .into_iter()
                    .filter(|(n, p)| !used.iter().any(|(u, b)| u == n && *b == p.blob))
                    .map(|(_, p)| BodyRef::Blob(p.blob)),
            );
            Ok(freed)
        }
    }
}

fn existing_bucket(t: &impl Tables, bucket: &str) -> Result<BucketMeta, StoreError> {
    t.bucket(bucket)?
        .ok_or_else(|| StoreError::NoSuchBucket(bucket.to_string()))
}

/// Makes `meta` the key's current object: replacing the one there in a bucket never versioned,
/// as a new version otherwise.
fn write_object(
    t: &mut impl Tables,
    b: &BucketMeta,
    key: &str,
    meta: &ObjectMeta,
) -> Result<Vec<BodyRef>, StoreError> {
    if b.versioning.is_none() {
        let old = t.put_object(&object_key(&b.name, key), meta)?;
        return release(t, old, Some(&meta.body));
    }
    versions::add(t, &b.name, key, VersionRecord::Object(meta.clone()))
}

/// Removes one version for good; the next newest becomes current if the current one went.
fn apply_delete_version(
    t: &mut impl Tables,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Result<Outcome, StoreError> {
    existing_bucket(t, bucket)?;
    let removed = versions::take(t, bucket, key, version_id)?;
    let freed = versions::release_version(t, removed.clone())?;
    versions::settle(t, bucket, key)?;
    Ok(Outcome { freed, removed })
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

#[cfg(test)]
mod upload_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn bucket(name: &str, blocked: &[&str]) -> BucketMeta {
        BucketMeta {
            name: name.into(),
            owner: "000000000000".into(),
            region: "us-east-1".into(),
            location_constraint: None,
            created_millis: 1,
            encryption_rule: None,
            blocked_encryption_types: blocked
                .iter()
                .map(|s| crate::store::EncryptionType::parse(s).unwrap())
                .collect(),
            default_blocked_encryption_types: Vec::new(),
            directory: None,
            incarnation: format!("inc-{name}"),
            versioning: None,
        }
    }

    /// The bucket cache never serves a record a committed write replaced or deleted, and never
    /// keeps a record read before such a write.
    #[tokio::test]
    async fn cached_bucket_records_follow_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let meta = MetaStore::Redb(RedbMeta::open(&dir.path().join("meta.redb")).unwrap());
        assert_eq!(meta.bucket("b").await.unwrap(), None);
        meta.write(WriteOp::CreateBucket {
            meta: bucket("b", &[]),
            quota: usize::MAX,
        })
        .await
        .unwrap();
        assert_eq!(meta.bucket("b").await.unwrap(), Some(bucket("b", &[])));
        assert_eq!(meta.bucket("b").await.unwrap(), Some(bucket("b", &[]))); // cached
        meta.write(WriteOp::UpdateBucket(bucket("b", &["SSE-C"])))
            .await
            .unwrap();
        assert_eq!(
            meta.bucket("b").await.unwrap(),
            Some(bucket("b", &["SSE-C"]))
        );
        let incarnation = bucket("b", &[]).incarnation_id();
        meta.write(WriteOp::DeleteBucket {
            name: "b".into(),
            incarnation,
        })
        .await
        .unwrap();
        assert_eq!(meta.bucket("b").await.unwrap(), None);

        // A record read before a commit (generation 0) is not cached after it.
        let MetaStore::Redb(r) = &meta else {
            unreachable!()
        };
        let (_, before) = r.buckets.get("c");
        meta.write(WriteOp::CreateBucket {
            meta: bucket("c", &[]),
            quota: usize::MAX,
        })
        .await
        .unwrap();
        r.buckets.insert(before, &bucket("c", &["NONE"]));
        assert_eq!(meta.bucket("c").await.unwrap(), Some(bucket("c", &[])));
    }

    /// Concurrent creations at the quota: exactly `quota` succeed, whatever the interleaving,
    /// because the count is taken inside the committing transaction. Another owner's buckets and
    /// buckets of the other kind do not count.
    #[tokio::test]
    async fn bucket_quota_holds_under_concurrent_creations() {
        let dir = tempfile::tempdir().unwrap();
        let stores = [
            MetaStore::Redb(RedbMeta::open(&dir.path().join("meta.redb")).unwrap()),
            MetaStore::Memory(MemoryMeta::default()),
        ];
        for meta in stores {
            let meta = std::sync::Arc::new(meta);
            let mut other = bucket("someone-elses", &[]);
            other.owner = "111111111111".into();
            meta.write(WriteOp::CreateBucket {
                meta: other,
                quota: 1,
            })
            .await
            .unwrap();
            let tasks: Vec<_> = (0..40)
                .map(|i| {
                    let meta = meta.clone();
                    tokio::spawn(async move {
                        meta.write(WriteOp::CreateBucket {
                            meta: bucket(&format!("b{i}"), &[]),
                            quota: 7,
                        })
                        .await
                    })
                })
                .collect();
            let mut created = 0;
            for t in tasks {
                match t.await.unwrap() {
                    Ok(_) => created += 1,
                    Err(StoreError::TooManyBuckets) => {}
                    Err(e) => panic!("unexpected {e}"),
                }
            }
            assert_eq!(created, 7);
            let owned = meta.buckets().await.unwrap();
            assert_eq!(owned.len(), 8); // 7 and the other owner's
        }
    }
}
