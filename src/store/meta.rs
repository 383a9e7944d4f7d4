//! The metadata store: buckets and object metadata, in redb (durable) or in memory.
//!
//! Writes go through [`WriteOp`] and one `apply` function shared by both backends, so their
//! behaviour cannot drift. The redb backend funnels every write through one commit thread that
//! batches whatever is queued into a single transaction: concurrent PUTs share one commit (group
//! commit), and the order of the queue is the order writes take effect (last writer wins).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use redb::{Database, ReadableTable, TableDefinition};
use tokio::sync::oneshot;

use super::error::StoreError;
use super::model::{BodyRef, BucketMeta, ObjectMeta};

const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// Keyed by `bucket NUL key`, so one bucket's objects form one contiguous, byte-ordered range.
const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// Small named records: the master key check value, the KMS keyring.
const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");
/// The most writes one transaction takes.
const MAX_BATCH: usize = 512;

pub fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + 1 + key.len());
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    k.extend_from_slice(key.as_bytes());
    k
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
    CreateBucket(BucketMeta),
    DeleteBucket(String),
    /// Replaces an existing bucket's record (its configuration).
    UpdateBucket(BucketMeta),
    PutObject {
        bucket: String,
        key: String,
        meta: Box<ObjectMeta>,
    },
    DeleteObject {
        bucket: String,
        key: String,
    },
    PutConfig {
        name: String,
        value: Vec<u8>,
    },
}

/// What a write replaced: the body the caller may now free.
pub type Outcome = Option<BodyRef>;

/// Table access the shared `apply` needs, implemented by the redb transaction and the maps.
trait Tables {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError>;
    fn put_bucket(&mut self, meta: &BucketMeta) -> Result<(), StoreError>;
    fn remove_bucket(&mut self, name: &str) -> Result<(), StoreError>;
    fn bucket_is_empty(&self, name: &str) -> Result<bool, StoreError>;
    fn put_object(&mut self, k: &[u8], meta: &ObjectMeta)
    -> Result<Option<ObjectMeta>, StoreError>;
    fn remove_object(&mut self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError>;
    fn put_config(&mut self, name: &str, value: &[u8]) -> Result<(), StoreError>;
}

fn apply(t: &mut impl Tables, op: &WriteOp) -> Result<Outcome, StoreError> {
    match op {
        WriteOp::CreateBucket(meta) => {
            if let Some(existing) = t.bucket(&meta.name)? {
                return Err(StoreError::BucketExists {
                    bucket: meta.name.clone(),
                    owner: existing.owner,
                });
            }
            t.put_bucket(meta)?;
            Ok(None)
        }
        WriteOp::UpdateBucket(meta) => {
            if t.bucket(&meta.name)?.is_none() {
                return Err(StoreError::NoSuchBucket(meta.name.clone()));
            }
            t.put_bucket(meta)?;
            Ok(None)
        }
        WriteOp::DeleteBucket(name) => {
            if t.bucket(name)?.is_none() {
                return Err(StoreError::NoSuchBucket(name.clone()));
            }
            if !t.bucket_is_empty(name)? {
                return Err(StoreError::BucketNotEmpty(name.clone()));
            }
            t.remove_bucket(name)?;
            Ok(None)
        }
        WriteOp::PutObject { bucket, key, meta } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            Ok(t.put_object(&object_key(bucket, key), meta)?
                .map(|old| old.body))
        }
        WriteOp::DeleteObject { bucket, key } => {
            if t.bucket(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket(bucket.clone()));
            }
            Ok(t.remove_object(&object_key(bucket, key))?
                .map(|old| old.body))
        }
        WriteOp::PutConfig { name, value } => {
            t.put_config(name, value)?;
            Ok(None)
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
}

impl Tables for RedbTables<'_> {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        self.buckets
            .get(name)
            .map_err(StoreError::db)?
            .map(|g| decode(g.value()))
            .transpose()
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
}

struct Pending {
    op: WriteOp,
    reply: oneshot::Sender<Result<Outcome, StoreError>>,
}

pub struct RedbMeta {
    db: Arc<Database>,
    queue: mpsc::Sender<Pending>,
}

impl RedbMeta {
    pub fn open(path: &Path) -> Result<RedbMeta, StoreError> {
        let db = Database::create(path).map_err(StoreError::db)?;
        let txn = db.begin_write().map_err(StoreError::db)?;
        txn.open_table(BUCKETS).map_err(StoreError::db)?;
        txn.open_table(OBJECTS).map_err(StoreError::db)?;
        txn.open_table(CONFIG).map_err(StoreError::db)?;
        txn.commit().map_err(StoreError::db)?;
        let db = Arc::new(db);
        let (queue, rx) = mpsc::channel();
        let committer = db.clone();
        std::thread::Builder::new()
            .name("sealstore-commit".into())
            .spawn(move || commit_loop(&committer, rx))?;
        Ok(RedbMeta { db, queue })
    }

    async fn write(&self, op: WriteOp) -> Result<Outcome, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.queue
            .send(Pending { op, reply })
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

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

fn commit_loop(db: &Database, rx: mpsc::Receiver<Pending>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let ops: Vec<&WriteOp> = batch.iter().map(|p| &p.op).collect();
        match commit_batch(db, &ops) {
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
        };
        ops.iter().map(|op| apply(&mut tables, op)).collect()
    };
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
}

impl Tables for MemoryTables {
    fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        Ok(self.buckets.get(name).cloned())
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
                let name = name.to_string();
                r.read(move |txn| {
                    let t = txn.open_table(BUCKETS).map_err(StoreError::db)?;
                    t.get(name.as_str())
                        .map_err(StoreError::db)?
                        .map(|g| decode(g.value()))
                        .transpose()
                })
                .await
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
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                    t.get(k.as_slice())
                        .map_err(StoreError::db)?
                        .map(|g| decode(g.value()))
                        .transpose()
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| Ok(t.objects.get(&k).cloned())),
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

    /// Every blob id the metadata refers to (start-up garbage collection).
    pub async fn referenced_blobs(&self) -> Result<std::collections::HashSet<String>, StoreError> {
        let gather = |iter: &mut dyn Iterator<Item = Result<ObjectMeta, StoreError>>| {
            let mut ids = std::collections::HashSet::new();
            for m in iter {
                if let BodyRef::Blob(id) = m?.body {
                    ids.insert(id);
                }
            }
            Ok(ids)
        };
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(OBJECTS).map_err(StoreError::db)?;
                    let mut iter = t.iter().map_err(StoreError::db)?.map(|e| {
                        let (_, v) = e.map_err(StoreError::db)?;
                        decode::<ObjectMeta>(v.value())
                    });
                    gather(&mut iter)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| gather(&mut t.objects.values().cloned().map(Ok))),
        }
    }
}
