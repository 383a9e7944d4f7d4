//! The metadata store: buckets and object metadata, in redb (durable) or in memory.
//!
//! Writes go through [`WriteOp`] and one `apply` function shared by both backends, so their
//! behaviour cannot drift. The redb backend funnels every write through one commit thread that
//! batches whatever is queued into a single transaction: concurrent PUTs share one commit (group
//! commit), and the order of the queue is the order writes take effect (last writer wins).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use bytes::Bytes;
use redb::{Database, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use super::error::StoreError;
use super::model::{BodyRef, BucketMeta, ObjectMeta, PartMeta, UploadMeta};

const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// Keyed by `bucket NUL key`, so one bucket's objects form one contiguous, byte-ordered range.
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// Small named records: the master key check value, the KMS keyring.
const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");
/// In-progress multipart uploads, keyed by `bucket NUL key NUL upload id`: one bucket's uploads
/// are contiguous and ordered by key, then upload id (which starts with the initiation time).
const UPLOADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("uploads");
/// Parts of in-progress uploads, keyed by `upload id NUL part number (u32 big-endian)`.
const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");
/// Small object bodies (`BodyRef::Inline`), sealed exactly as a blob file would hold them, keyed
/// by their blob id. Written in the same transaction as the metadata that names them.
const INLINE: TableDefinition<&str, &[u8]> = TableDefinition::new("inline");
/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

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

/// Splits an `a NUL b` key.
fn split_nul(k: &[u8]) -> (&[u8], &[u8]) {
    match k.iter().position(|b| *b == 0) {
        Some(i) => (&k[..i], &k[i + 1..]),
        None => (k, &[]),
    }
}

/// The half-open range of a bucket's object keys.
fn bucket_bounds(bucket: &str) -> (Vec<u8>, Vec<u8>) {
    let mut start = bucket.as_bytes().to_vec();
    start.push(0);
    let mut end = bucket.as_bytes().to_vec();
    end.push(1);
    (start, end)
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
    DeleteBucket(String),
    /// Replaces an existing bucket's record (its configuration).
    UpdateBucket(BucketMeta),
    PutObject {
        bucket: String,
        key: String,
        meta: Box<ObjectMeta>,
        /// The sealed bytes of an `Inline` body, stored with the metadata.
        inline: Option<Bytes>,
    },
    DeleteObject {
        bucket: String,
        key: String,
    },
    PutConfig {
        name: String,
        value: Vec<u8>,
    },
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
    },
}

/// What a write released: bodies the caller may now free (a replaced object, a replaced part, the
/// parts of an aborted upload or those a Complete left out).
pub type Outcome = Vec<BodyRef>;

/// Table access the shared `apply` needs, implemented by the redb transaction and the maps.
trait Tables {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError>;
    /// Every bucket record (CreateBucket's quota count).
    fn all_buckets(&self) -> Result<Vec<BucketMeta>, StoreError>;
    fn put_bucket(&mut self, meta: &BucketMeta) -> Result<(), StoreError>;
    fn remove_bucket(&mut self, name: &str) -> Result<(), StoreError>;
    fn bucket_is_empty(&self, name: &str) -> Result<bool, StoreError>;
    fn put_object(&mut self, k: &[u8], meta: &ObjectMeta)
    -> Result<Option<ObjectMeta>, StoreError>;
    fn remove_object(&mut self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError>;
    fn put_config(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError>;
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
            if t.bucket(&meta.name)?.is_none() {
                return Err(StoreError::NoSuchBucket(meta.name.clone()));
            }
            t.put_bucket(meta)?;
            Ok(Vec::new())
        }
        WriteOp::DeleteBucket(name) => {
            if t.bucket(name)?.is_none() {
                return Err(StoreError::NoSuchBucket(name.clone()));
            }
            if !t.bucket_is_empty(name)? {
                return Err(StoreError::BucketNotEmpty(name.clone()));
            }
            // In-progress uploads do not keep a bucket alive: they are aborted with it.
            let mut freed = Vec::new();
            for k in t.bucket_uploads(name)? {
                let upload_id = String::from_utf8_lossy(split_nul(split_nul(&k).1).1).into_owned();
                freed.extend(
                    drop_upload(t, &k, &upload_id)?
                        .into_iter()
                        .map(|(_, p)| BodyRef::Blob(p.blob)),
                );
            }
            t.remove_bucket(name)?;
            Ok(freed)
        }
        WriteOp::PutObject {
            bucket,
            key,
            meta,
            inline,
        } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            if let (BodyRef::Inline(id), Some(bytes)) = (&meta.body, inline) {
                t.put_inline(id, bytes)?;
            }
            let old = t.put_object(&object_key(bucket, key), meta)?;
            release(t, old, Some(&meta.body))
        }
        WriteOp::DeleteObject { bucket, key } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            let old = t.remove_object(&object_key(bucket, key))?;
            release(t, old, None)
        }
        WriteOp::PutConfig { name, value } => {
            t.put_config(name, value)?;
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
            if t.upload(&upload_key(bucket, key, upload_id))?.is_none() {
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
            let k = upload_key(bucket, key, upload_id);
            if t.upload(&k)?.is_none() {
                return Err(StoreError::NoSuchUpload(upload_id.clone()));
            }
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
        } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            let k = upload_key(bucket, key, upload_id);
            if t.upload(&k)?.is_none() {
                return Err(StoreError::NoSuchUpload(upload_id.clone()));
            }
            for (number, blob) in used {
                let current = t.part(&part_key(upload_id, *number))?;
                if current.as_ref().map(|p| &p.blob) != Some(blob) {
                    return Err(StoreError::PartChanged(*number));
                }
            }
            let old = t.put_object(&object_key(bucket, key), meta)?;
            let mut freed = release(t, old, None)?;
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

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    Ok(serde_json::from_slice(bytes)?)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(value)?)
}

// ---------------------------------------------------------------------------------------------
// redb

struct RedbTables<'t> {
    buckets: redb::Table<'t, &'static str, &'static [u8]>,
    objects: redb::Table<'t, &'static [u8], &'static [u8]>,
    config: redb::Table<'t, &'static str, &'static [u8]>,
    uploads: redb::Table<'t, &'static [u8], &'static [u8]>,
    parts: redb::Table<'t, &'static [u8], &'static [u8]>,
    inline: redb::Table<'t, &'static str, &'static [u8]>,
}

impl Tables for RedbTables<'_> {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        self.buckets
            .get(name)
            .map_err(StoreError::db)?
            .map(|g| decode(g.value()))
            .transpose()
    }
    fn all_buckets(&self) -> Result<Vec<BucketMeta>, StoreError> {
        let mut out = Vec::new();
        for entry in self.buckets.iter().map_err(StoreError::db)? {
            let (_, v) = entry.map_err(StoreError::db)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }
    fn put_bucket(&mut self, meta: &BucketMeta) -> Result<(), StoreError> {
        self.buckets
            .insert(meta.name.as_str(), encode(meta)?.as_slice())
            .map_err(StoreError::db)?;
        Ok(())
    }
    fn remove_bucket(&mut self, name: &str) -> Result<(), StoreError> {
        self.buckets.remove(name).map_err(StoreError::db)?;
        Ok(())
    }
    fn bucket_is_empty(&self, name: &str) -> Result<bool, StoreError> {
        let (start, end) = bucket_bounds(name);
        let mut range = self
            .objects
            .range(start.as_slice()..end.as_slice())
            .map_err(StoreError::db)?;
        Ok(range.next().is_none())
    }
    fn put_object(
        &mut self,
        k: &[u8],
        meta: &ObjectMeta,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        let old = self
            .objects
            .insert(k, encode(meta)?.as_slice())
            .map_err(StoreError::db)?;
        old.map(|g| decode(g.value())).transpose()
    }
    fn remove_object(&mut self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError> {
        let old = self.objects.remove(k).map_err(StoreError::db)?;
        old.map(|g| decode(g.value())).transpose()
    }
    fn put_config(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.config.insert(name, value).map_err(StoreError::db)?;
        Ok(())
    }
    fn upload(&self, k: &[u8]) -> Result<Option<UploadMeta>, StoreError> {
        self.uploads
            .get(k)
            .map_err(StoreError::db)?
            .map(|g| decode(g.value()))
            .transpose()
    }
    fn put_upload(&mut self, k: &[u8], upload: &UploadMeta) -> Result<(), StoreError> {
        self.uploads
            .insert(k, encode(upload)?.as_slice())
            .map_err(StoreError::db)?;
        Ok(())
    }
    fn remove_upload(&mut self, k: &[u8]) -> Result<(), StoreError> {
        self.uploads.remove(k).map_err(StoreError::db)?;
        Ok(())
    }
    fn bucket_uploads(&self, bucket: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let (start, end) = bucket_bounds(bucket);
        let mut out = Vec::new();
        for e in self
            .uploads
            .range(start.as_slice()..end.as_slice())
            .map_err(StoreError::db)?
        {
            out.push(e.map_err(StoreError::db)?.0.value().to_vec());
        }
        Ok(out)
    }
    fn part(&self, k: &[u8]) -> Result<Option<PartMeta>, StoreError> {
        self.parts
            .get(k)
            .map_err(StoreError::db)?
            .map(|g| decode(g.value()))
            .transpose()
    }
    fn put_part(&mut self, k: &[u8], part: &PartMeta) -> Result<Option<PartMeta>, StoreError> {
        let old = self
            .parts
            .insert(k, encode(part)?.as_slice())
            .map_err(StoreError::db)?;
        old.map(|g| decode(g.value())).transpose()
    }
    fn remove_parts(&mut self, upload_id: &str) -> Result<Vec<(u32, PartMeta)>, StoreError> {
        let (start, end) = parts_bounds(upload_id);
        let mut found = Vec::new();
        for e in self
            .parts
            .range(start.as_slice()..end.as_slice())
            .map_err(StoreError::db)?
        {
            let (k, v) = e.map_err(StoreError::db)?;
            found.push((k.value().to_vec(), decode::<PartMeta>(v.value())?));
        }
        let mut out = Vec::with_capacity(found.len());
        for (k, part) in found {
            self.parts.remove(k.as_slice()).map_err(StoreError::db)?;
            out.push((part_number(&k), part));
        }
        Ok(out)
    }
    fn put_inline(&mut self, id: &str, body: &[u8]) -> Result<(), StoreError> {
        self.inline.insert(id, body).map_err(StoreError::db)?;
        Ok(())
    }
    fn remove_inline(&mut self, id: &str) -> Result<(), StoreError> {
        self.inline.remove(id).map_err(StoreError::db)?;
        Ok(())
    }
}

/// The part number at the end of a part key.
fn part_number(k: &[u8]) -> u32 {
    let tail = k.len().saturating_sub(4);
    k.get(tail..)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

/// redb's in-memory page cache (nine tenths for reads, one tenth for a transaction's dirty pages).
const METADATA_CACHE_BYTES: usize = 16 * 1024 * 1024;

pub struct RedbMeta {
    db: Arc<Database>,
    queue: mpsc::Sender<Pending>,
    buckets: Arc<BucketCache>,
}

/// Bucket records, which every request reads (owner, type, rules) and which change rarely, kept in
/// memory once read. The commit thread drops a bucket's entry after any transaction that wrote it,
/// before the writer hears back; a reader inserts what it read only if no such drop happened since
/// it began reading (the generation), so a record read before a commit never outlives the commit.
#[derive(Default)]
struct BucketCache {
    inner: Mutex<BucketCacheInner>,
}

#[derive(Default)]
struct BucketCacheInner {
    generation: u64,
    records: std::collections::HashMap<String, BucketMeta>,
}

/// Enough for any real account (S3's quota is 10,000 buckets); past it the cache starts over.
const BUCKET_CACHE_MAX: usize = 16_384;

impl BucketCache {
    fn get(&self, name: &str) -> (Option<BucketMeta>, u64) {
        match self.inner.lock() {
            Ok(c) => (c.records.get(name).cloned(), c.generation),
            Err(_) => (None, u64::MAX),
        }
    }

    fn insert(&self, read_at: u64, meta: &BucketMeta) {
        if let Ok(mut c) = self.inner.lock() {
            if c.generation != read_at {
                return;
            }
            if c.records.len() >= BUCKET_CACHE_MAX {
                c.records.clear();
            }
            c.records.insert(meta.name.clone(), meta.clone());
        }
    }

    fn forget(&self, name: &str) {
        if let Ok(mut c) = self.inner.lock() {
            c.generation += 1;
            c.records.remove(name);
        }
    }
}

impl RedbMeta {
    pub fn open(path: &Path) -> Result<RedbMeta, StoreError> {
        // Created owner-only before redb opens it (redb initialises an empty file as a new database).
        crate::fsmode::private_file_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        // redb caches pages in memory up to 1 GiB by default, far more than a server that idles at
        // 10 MiB should grow to; the operating system's page cache keeps the file warm anyway.
        let db = redb::Builder::new()
            .set_cache_size(METADATA_CACHE_BYTES)
            .create(path)
            .map_err(StoreError::db)?;
        let txn = db.begin_write().map_err(StoreError::db)?;
        txn.open_table(BUCKETS).map_err(StoreError::db)?;
        txn.open_table(OBJECTS).map_err(StoreError::db)?;
        txn.open_table(CONFIG).map_err(StoreError::db)?;
        txn.open_table(UPLOADS).map_err(StoreError::db)?;
        txn.open_table(PARTS).map_err(StoreError::db)?;
        txn.open_table(INLINE).map_err(StoreError::db)?;
        txn.commit().map_err(StoreError::db)?;
        let db = Arc::new(db);
        let (queue, rx) = mpsc::channel();
        let committer = db.clone();
        let buckets = Arc::new(BucketCache::default());
        let cache = buckets.clone();
        std::thread::Builder::new()
            .name("sealstore-commit".into())
            .spawn(move || commit_loop(&committer, &cache, rx))?;
        Ok(RedbMeta { db, queue, buckets })
    }

    async fn write(&self, op: WriteOp) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Pending { op, reply })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// A point lookup, run on the calling thread: redb serves it from its page cache in a few
    /// microseconds, far less than a hop to the blocking pool and back would cost.
    fn read_now<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        f(&txn)
    }

    /// A scan (listing, start-up), run on the blocking pool.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let txn = db.begin_read().map_err(StoreError::db)?;
            f(&txn)
        })
        .await
        .map_err(|e| StoreError::Db(e.to_string()))?
    }
}

fn commit_loop(db: &Database, buckets: &BucketCache, rx: mpsc::Receiver<Pending>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let ops: Vec<&WriteOp> = batch.iter().map(|p| &p.op).collect();
        let committed = commit_batch(db, &ops);
        for op in &ops {
            match op {
                WriteOp::CreateBucket { meta, .. } | WriteOp::UpdateBucket(meta) => {
                    buckets.forget(&meta.name)
                }
                WriteOp::DeleteBucket(name) => buckets.forget(name),
                _ => {}
            }
        }
        match committed {
            Ok(results) => {
                for (p, r) in batch.into_iter().zip(results) {
                    let _ = p.reply.send(r);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for p in batch {
                    let _ = p.reply.send(Err(StoreError::Db(msg.clone())));
                }
            }
        }
    }
}

/// One transaction for the whole batch; each op succeeds or fails on its own checks, and nothing is
/// acknowledged before the commit is durable.
fn commit_batch(
    db: &Database,
    ops: &[&WriteOp],
) -> Result<Vec<Result<Outcome, StoreError>>, StoreError> {
    let txn = db.begin_write().map_err(StoreError::db)?;
    let results = {
        let mut tables = RedbTables {
            buckets: txn.open_table(BUCKETS).map_err(StoreError::db)?,
            objects: txn.open_table(OBJECTS).map_err(StoreError::db)?,
            config: txn.open_table(CONFIG).map_err(StoreError::db)?,
            uploads: txn.open_table(UPLOADS).map_err(StoreError::db)?,
            parts: txn.open_table(PARTS).map_err(StoreError::db)?,
            inline: txn.open_table(INLINE).map_err(StoreError::db)?,
        };
        ops.iter().map(|op| apply(&mut tables, op)).collect()
    };
    // A failed commit leaves the transaction uncommitted (dropped = aborted).
    crate::faults::io(crate::faults::Point::MetaCommit)?;
    txn.commit().map_err(StoreError::db)?;
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// memory

#[derive(Default)]
struct MemoryTables {
    buckets: BTreeMap<String, BucketMeta>,
    objects: BTreeMap<Vec<u8>, ObjectMeta>,
    config: BTreeMap<String, Vec<u8>>,
    uploads: BTreeMap<Vec<u8>, UploadMeta>,
    parts: BTreeMap<Vec<u8>, PartMeta>,
    inline: std::collections::HashMap<String, Bytes>,
}

impl Tables for MemoryTables {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        Ok(self.buckets.get(name).cloned())
    }
    fn all_buckets(&self) -> Result<Vec<BucketMeta>, StoreError> {
        Ok(self.buckets.values().cloned().collect())
    }
    fn put_bucket(&mut self, meta: &BucketMeta) -> Result<(), StoreError> {
        self.buckets.insert(meta.name.clone(), meta.clone());
        Ok(())
    }
    fn remove_bucket(&mut self, name: &str) -> Result<(), StoreError> {
        self.buckets.remove(name);
        Ok(())
    }
    fn bucket_is_empty(&self, name: &str) -> Result<bool, StoreError> {
        let (start, end) = bucket_bounds(name);
        Ok(self.objects.range(start..end).next().is_none())
    }
    fn put_object(
        &mut self,
        k: &[u8],
        meta: &ObjectMeta,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.objects.insert(k.to_vec(), meta.clone()))
    }
    fn remove_object(&mut self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.objects.remove(k))
    }
    fn put_config(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.config.insert(name.to_string(), value.to_vec());
        Ok(())
    }
    fn upload(&self, k: &[u8]) -> Result<Option<UploadMeta>, StoreError> {
        Ok(self.uploads.get(k).cloned())
    }
    fn put_upload(&mut self, k: &[u8], upload: &UploadMeta) -> Result<(), StoreError> {
        self.uploads.insert(k.to_vec(), upload.clone());
        Ok(())
    }
    fn remove_upload(&mut self, k: &[u8]) -> Result<(), StoreError> {
        self.uploads.remove(k);
        Ok(())
    }
    fn bucket_uploads(&self, bucket: &str) -> Result<Vec<Vec<u8>>, StoreError> {
        let (start, end) = bucket_bounds(bucket);
        Ok(self
            .uploads
            .range(start..end)
            .map(|(k, _)| k.clone())
            .collect())
    }
    fn part(&self, k: &[u8]) -> Result<Option<PartMeta>, StoreError> {
        Ok(self.parts.get(k).cloned())
    }
    fn put_part(&mut self, k: &[u8], part: &PartMeta) -> Result<Option<PartMeta>, StoreError> {
        Ok(self.parts.insert(k.to_vec(), part.clone()))
    }
    fn remove_parts(&mut self, upload_id: &str) -> Result<Vec<(u32, PartMeta)>, StoreError> {
        let (start, end) = parts_bounds(upload_id);
        let keys: Vec<Vec<u8>> = self
            .parts
            .range(start..end)
            .map(|(k, _)| k.clone())
            .collect();
        Ok(keys
            .into_iter()
            .filter_map(|k| self.parts.remove(&k).map(|p| (part_number(&k), p)))
            .collect())
    }
    fn put_inline(&mut self, id: &str, body: &[u8]) -> Result<(), StoreError> {
        self.inline
            .insert(id.to_string(), Bytes::copy_from_slice(body));
        Ok(())
    }
    fn remove_inline(&mut self, id: &str) -> Result<(), StoreError> {
        self.inline.remove(id);
        Ok(())
    }
}

#[derive(Default)]
pub struct MemoryMeta {
    tables: Mutex<MemoryTables>,
}

impl MemoryMeta {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut MemoryTables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.tables.lock().map_err(|_| StoreError::Closed)?;
        f(&mut guard)
    }
}

// ---------------------------------------------------------------------------------------------
// the dispatching front

pub enum MetaStore {
    Redb(RedbMeta),
    Memory(MemoryMeta),
}

/// One page of a bucket listing: (key, metadata) in key order.
pub type ObjectPage = Vec<(String, ObjectMeta)>;

impl MetaStore {
    pub async fn write(&self, op: WriteOp) -> Result<Outcome, StoreError> {
        match self {
            MetaStore::Redb(r) => r.write(op).await,
            MetaStore::Memory(m) => m.with(|t| apply(t, &op)),
        }
    }

    pub async fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        match self {
            MetaStore::Redb(r) => {
                let (cached, read_at) = r.buckets.get(name);
                if cached.is_some() {
                    return Ok(cached);
                }
                let meta: Option<BucketMeta> = r.read_now(|txn| {
                    let t = txn.open_table(BUCKETS).map_err(StoreError::db)?;
                    t.get(name)
                        .map_err(StoreError::db)?
                        .map(|g| decode(g.value()))
                        .transpose()
                })?;
                if let Some(m) = &meta {
                    r.buckets.insert(read_at, m);
                }
                Ok(meta)
            }
            MetaStore::Memory(m) => m.with(|t| t.bucket(name)),
        }
    }

    pub async fn buckets(&self) -> Result<Vec<BucketMeta>, StoreError> {
        match self {
            MetaStore::Redb(r) => {
                r.read(|txn| {
                    let t = txn.open_table(BUCKETS).map_err(StoreError::db)?;
                    let mut out = Vec::new();
                    for entry in t.iter().map_err(StoreError::db)? {
                        let (_, v) = entry.map_err(StoreError::db)?;
                        out.push(decode(v.value())?);
                    }
                    Ok(out)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| Ok(t.buckets.values().cloned().collect())),
        }
    }

    pub async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        let k = object_key(bucket, key);
        match self {
            MetaStore::Redb(r) => r.read_now(|txn| {
                let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                t.get(k.as_slice())
                    .map_err(StoreError::db)?
                    .map(|g| decode(g.value()))
                    .transpose()
            }),
            MetaStore::Memory(m) => m.with(|t| Ok(t.objects.get(&k).cloned())),
        }
    }

    /// The sealed bytes of an inline body.
    pub async fn inline(&self, id: &str) -> Result<Option<Bytes>, StoreError> {
        match self {
            MetaStore::Redb(r) => r.read_now(|txn| {
                let t = txn.open_table(INLINE).map_err(StoreError::db)?;
                Ok(t.get(id)
                    .map_err(StoreError::db)?
                    .map(|g| Bytes::copy_from_slice(g.value())))
            }),
            MetaStore::Memory(m) => m.with(|t| Ok(t.inline.get(id).cloned())),
        }
    }

    /// Up to `limit` objects of `bucket` whose keys start with `prefix` and sort strictly after
    /// `after` (a key or any string), in byte order.
    pub async fn scan(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ObjectPage, StoreError> {
        let (mut start, end) = bucket_bounds(bucket);
        let from_prefix = object_key(bucket, prefix);
        let mut exclusive = None;
        if let Some(a) = after {
            let k = object_key(bucket, a);
            if k >= from_prefix {
                exclusive = Some(k.clone());
                start = k;
            }
        }
        if from_prefix > start {
            start = from_prefix;
        }
        let skip = bucket.len() + 1;
        let prefix_bytes = prefix.as_bytes().to_vec();
        let collect =
            move |iter: &mut dyn Iterator<Item = Result<(Vec<u8>, ObjectMeta), StoreError>>| {
                let mut out = Vec::new();
                for item in iter {
                    let (k, meta) = item?;
                    if exclusive.as_deref() == Some(k.as_slice()) {
                        continue;
                    }
                    if !k[skip..].starts_with(&prefix_bytes) || out.len() >= limit {
                        break;
                    }
                    out.push((String::from_utf8_lossy(&k[skip..]).into_owned(), meta));
                }
                Ok(out)
            };
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                    let range = t
                        .range(start.as_slice()..end.as_slice())
                        .map_err(StoreError::db)?;
                    let mut iter = range.map(|e| {
                        let (k, v) = e.map_err(StoreError::db)?;
                        Ok((k.value().to_vec(), decode::<ObjectMeta>(v.value())?))
                    });
                    collect(&mut iter)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                let mut iter = t
                    .objects
                    .range(start..end)
                    .map(|(k, v)| Ok((k.clone(), v.clone())));
                collect(&mut iter)
            }),
        }
    }

    /// Every config record whose name starts with `prefix`.
    pub async fn config(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let prefix = prefix.to_string();
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(CONFIG).map_err(StoreError::db)?;
                    let mut out = Vec::new();
                    for entry in t.range(prefix.as_str()..).map_err(StoreError::db)? {
                        let (k, v) = entry.map_err(StoreError::db)?;
                        if !k.value().starts_with(prefix.as_str()) {
                            break;
                        }
                        out.push((k.value().to_string(), v.value().to_vec()));
                    }
                    Ok(out)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                Ok(t.config
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect())
            }),
        }
    }

    /// Every object of every bucket, in pages (`after` is the last `bucket NUL key` seen).
    pub async fn all_objects(
        &self,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<Vec<(String, String, ObjectMeta)>, StoreError> {
        let split = |k: &[u8]| -> (String, String) {
            let i = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            (
                String::from_utf8_lossy(&k[..i]).into_owned(),
                String::from_utf8_lossy(k.get(i + 1..).unwrap_or(&[])).into_owned(),
            )
        };
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                    let mut out = Vec::new();
                    let start = after.clone().unwrap_or_default();
                    for entry in t.range(start.as_slice()..).map_err(StoreError::db)? {
                        let (k, v) = entry.map_err(StoreError::db)?;
                        if after.as_deref() == Some(k.value()) {
                            continue;
                        }
                        if out.len() >= limit {
                            break;
                        }
                        let (b, key) = split(k.value());
                        out.push((b, key, decode(v.value())?));
                    }
                    Ok(out)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                let start = after.clone().unwrap_or_default();
                Ok(t.objects
                    .range(start..)
                    .filter(|(k, _)| after.as_deref() != Some(k.as_slice()))
                    .take(limit)
                    .map(|(k, v)| {
                        let (b, key) = split(k);
                        (b, key, v.clone())
                    })
                    .collect())
            }),
        }
    }

    /// Every blob id the metadata refers to: objects' bodies and in-progress uploads' parts
    /// (start-up garbage collection).
    pub async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        type Ids = std::collections::HashSet<String>;
        let objects =
            |ids: &mut Ids, iter: &mut dyn Iterator<Item = Result<ObjectMeta, StoreError>>| {
                for m in iter {
                    ids.extend(m?.body.blobs().into_iter().map(str::to_string));
                }
                Ok::<(), StoreError>(())
            };
        let parts =
            |ids: &mut Ids, iter: &mut dyn Iterator<Item = Result<PartMeta, StoreError>>| {
                for p in iter {
                    ids.insert(p?.blob);
                }
                Ok::<(), StoreError>(())
            };
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let mut ids = Ids::new();
                    let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                    objects(
                        &mut ids,
                        &mut t.iter().map_err(StoreError::db)?.map(|e| {
                            let (_, v) = e.map_err(StoreError::db)?;
                            decode::<ObjectMeta>(v.value())
                        }),
                    )?;
                    let t = txn.open_table(PARTS).map_err(StoreError::db)?;
                    parts(
                        &mut ids,
                        &mut t.iter().map_err(StoreError::db)?.map(|e| {
                            let (_, v) = e.map_err(StoreError::db)?;
                            decode::<PartMeta>(v.value())
                        }),
                    )?;
                    Ok(ids)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                let mut ids = Ids::new();
                objects(&mut ids, &mut t.objects.values().cloned().map(Ok))?;
                parts(&mut ids, &mut t.parts.values().cloned().map(Ok))?;
                Ok(ids)
            }),
        }
    }

    pub async fn upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<UploadMeta>, StoreError> {
        let k = upload_key(bucket, key, upload_id);
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(UPLOADS).map_err(StoreError::db)?;
                    t.get(k.as_slice())
                        .map_err(StoreError::db)?
                        .map(|g| decode(g.value()))
                        .transpose()
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| t.upload(&k)),
        }
    }

    /// Up to `limit` parts of an upload numbered above `after`, in order.
    pub async fn parts(
        &self,
        upload_id: &str,
        after: u32,
        limit: usize,
    ) -> Result<Vec<(u32, PartMeta)>, StoreError> {
        let (_, end) = parts_bounds(upload_id);
        let start = part_key(upload_id, after.saturating_add(1));
        let first = after.saturating_add(1);
        if first <= after {
            return Ok(Vec::new());
        }
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(PARTS).map_err(StoreError::db)?;
                    let mut out = Vec::new();
                    for e in t
                        .range(start.as_slice()..end.as_slice())
                        .map_err(StoreError::db)?
                    {
                        if out.len() >= limit {
                            break;
                        }
                        let (k, v) = e.map_err(StoreError::db)?;
                        out.push((part_number(k.value()), decode(v.value())?));
                    }
                    Ok(out)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                Ok(t.parts
                    .range(start..end)
                    .take(limit)
                    .map(|(k, v)| (part_number(k), v.clone()))
                    .collect())
            }),
        }
    }

    /// Up to `limit` in-progress uploads of `bucket` whose keys start with `prefix`, ordered by
    /// key then upload id, strictly after `after` (`(key, None)`: after every upload of `key`).
    pub async fn uploads(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<(String, Option<String>)>,
        limit: usize,
    ) -> Result<Vec<UploadMeta>, StoreError> {
        let (mut start, end) = bucket_bounds(bucket);
        let from_prefix = object_key(bucket, prefix);
        if from_prefix > start {
            start = from_prefix;
        }
        // The exclusive lower bound as a key of the table: after (key, id) is the key `b\0k\0id`;
        // after every upload of key is `b\0k\x01`.
        let lower = after.map(|(key, id)| {
            let mut k = object_key(bucket, &key);
            match id {
                Some(id) => {
                    k.push(0);
                    k.extend_from_slice(id.as_bytes());
                }
                None => k.push(1),
            }
            k
        });
        if let Some(l) = &lower {
            if *l > start {
                start = l.clone();
            }
        }
        let prefix_bytes = object_key(bucket, prefix);
        let keep = move |k: &[u8]| lower.as_deref() != Some(k);
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(UPLOADS).map_err(StoreError::db)?;
                    let mut out = Vec::new();
                    for e in t
                        .range(start.as_slice()..end.as_slice())
                        .map_err(StoreError::db)?
                    {
                        let (k, v) = e.map_err(StoreError::db)?;
                        if !k.value().starts_with(&prefix_bytes) || out.len() >= limit {
                            break;
                        }
                        if keep(k.value()) {
                            out.push(decode(v.value())?);
                        }
                    }
                    Ok(out)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| {
                Ok(t.uploads
                    .range(start..end)
                    .take_while(|(k, _)| k.starts_with(&prefix_bytes))
                    .filter(|(k, _)| keep(k))
                    .take(limit)
                    .map(|(_, v)| v.clone())
                    .collect())
            }),
        }
    }
}

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
            blocked_encryption_types: blocked.iter().map(|s| s.to_string()).collect(),
            default_blocked_encryption_types: Vec::new(),
            directory: None,
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
        meta.write(WriteOp::DeleteBucket("b".into())).await.unwrap();
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
        r.buckets.insert(before, &bucket("c", &["stale"]));
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
