//! The durable backend: redb, with one commit thread that batches queued writes into a single
//! transaction (group commit) and a cache of bucket records.

use std::path::Path;
use std::sync::{Arc, mpsc};

use redb::{Database, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use super::bucket_cache::BucketCache;
use super::{
    Outcome, Tables, WriteOp, apply, bucket_bounds, decode, encode, part_number, parts_bounds,
};
use crate::store::error::StoreError;
use crate::store::model::{BucketMeta, ObjectMeta, PartMeta, UploadMeta, VersionRecord};

pub(super) const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// Keyed by `bucket NUL key`, so one bucket's objects form one contiguous, byte-ordered range.
pub(super) const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// Small named records: the master key check value, the KMS keyring.
pub(super) const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");
/// In-progress multipart uploads, keyed by `bucket NUL key NUL upload id`: one bucket's uploads
/// are contiguous and ordered by key, then upload id (which starts with the initiation time).
pub(super) const UPLOADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("uploads");
/// Parts of in-progress uploads, keyed by `upload id NUL part number (u32 big-endian)`.
pub(super) const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");
/// Small object bodies (`BodyRef::Inline`), sealed exactly as a blob file would hold them, keyed
/// by their blob id. Written in the same transaction as the metadata that names them.
pub(super) const INLINE: TableDefinition<&str, &[u8]> = TableDefinition::new("inline");
/// A key's versions other than its current object (see `versions.rs`).
pub(super) const VERSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("versions");
/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

struct RedbTables<'t> {
    buckets: redb::Table<'t, &'static str, &'static [u8]>,
    objects: redb::Table<'t, &'static [u8], &'static [u8]>,
    config: redb::Table<'t, &'static str, &'static [u8]>,
    uploads: redb::Table<'t, &'static [u8], &'static [u8]>,
    parts: redb::Table<'t, &'static [u8], &'static [u8]>,
    inline: redb::Table<'t, &'static str, &'static [u8]>,
    versions: redb::Table<'t, &'static [u8], &'static [u8]>,
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
        if range.next().is_some() {
            return Ok(false);
        }
        // Older versions and delete markers keep a bucket too (S3's BucketNotEmpty).
        let mut range = self
            .versions
            .range(start.as_slice()..end.as_slice())
            .map_err(StoreError::db)?;
        Ok(range.next().is_none())
    }
    fn object(&self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError> {
        let found = self.objects.get(k).map_err(StoreError::db)?;
        found.map(|g| decode(g.value())).transpose()
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
    fn remove_config(&mut self, name: &str) -> Result<(), StoreError> {
        self.config.remove(name).map_err(StoreError::db)?;
        Ok(())
    }
    fn remove_config_prefix(&mut self, prefix: &str) -> Result<(), StoreError> {
        let mut names = Vec::new();
        for e in self.config.range(prefix..).map_err(StoreError::db)? {
            let (k, _) = e.map_err(StoreError::db)?;
            if !k.value().starts_with(prefix) {
                break;
            }
            names.push(k.value().to_string());
        }
        for name in names {
            self.config.remove(name.as_str()).map_err(StoreError::db)?;
        }
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
    fn version(&self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError> {
        let found = self.versions.get(vk).map_err(StoreError::db)?;
        found.map(|g| decode(g.value())).transpose()
    }
    fn put_version(&mut self, vk: &[u8], rec: &VersionRecord) -> Result<(), StoreError> {
        self.versions
            .insert(vk, encode(rec)?.as_slice())
            .map_err(StoreError::db)?;
        Ok(())
    }
    fn remove_version(&mut self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError> {
        let old = self.versions.remove(vk).map_err(StoreError::db)?;
        old.map(|g| decode(g.value())).transpose()
    }
    fn version_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionRecord)>, StoreError> {
        version_page(&self.versions, start, end, limit)
    }
}

/// Up to `limit` entries of a `versions` table (in a write or a read transaction) in
/// `[start, end)`, in order.
pub(super) fn version_page(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    start: &[u8],
    end: &[u8],
    limit: usize,
) -> Result<Vec<(Vec<u8>, VersionRecord)>, StoreError> {
    let mut out = Vec::new();
    for e in t.range(start..end).map_err(StoreError::db)? {
        if out.len() >= limit {
            break;
        }
        let (k, v) = e.map_err(StoreError::db)?;
        out.push((k.value().to_vec(), decode(v.value())?));
    }
    Ok(out)
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
    pub(super) buckets: Arc<BucketCache>,
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
        txn.open_table(VERSIONS).map_err(StoreError::db)?;
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

    pub(super) async fn write(&self, op: WriteOp) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Pending { op, reply })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// A point lookup, run on the calling thread: redb serves it from its page cache in a few
    /// microseconds, far less than a hop to the blocking pool and back would cost.
    pub(super) fn read_now<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.db.begin_read().map_err(StoreError::db)?;
        f(&txn)
    }

    /// A scan (listing, start-up), run on the blocking pool.
    pub(super) async fn read<T: Send + 'static>(
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
                WriteOp::DeleteBucket { name, .. } => buckets.forget(name),
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
            versions: txn.open_table(VERSIONS).map_err(StoreError::db)?,
        };
        ops.iter().map(|op| apply(&mut tables, op)).collect()
    };
    // A failed commit leaves the transaction uncommitted (dropped = aborted).
    crate::faults::io(crate::faults::Point::MetaCommit)?;
    txn.commit().map_err(StoreError::db)?;
    Ok(results)
}
