//! The dispatching front: one API over both backends. Writes go to the shared `apply`; reads
//! are written per backend (redb transactions, or the maps).

use bytes::Bytes;
use redb::ReadableTable;

use super::durable::{BUCKETS, CONFIG, INLINE, OBJECTS, PARTS, RedbMeta, UPLOADS, VERSIONS};
use super::memory::MemoryMeta;
use super::versions;
use super::{
    Outcome, Tables, WriteOp, apply, bucket_bounds, decode, object_key, part_key, part_number,
    parts_bounds, upload_key,
};
use crate::store::error::StoreError;
use crate::store::model::{
    BodyRef, BucketMeta, ObjectAddr, ObjectMeta, PartMeta, UploadAddr, UploadMeta, VersionRecord,
};
use crate::store::versioned::VersionCursor;

pub enum MetaStore {
    Redb(RedbMeta),
    Memory(MemoryMeta),
}

/// One page of a bucket listing: (key, metadata) in key order.
pub type ObjectPage = Vec<(String, ObjectMeta)>;

/// Which page of a listing inside a bucket to read: at most `limit` records whose keys start with
/// `prefix`, strictly after `after` (a key for objects, a (key, upload id) for uploads).
#[derive(Debug, Clone)]
pub struct PageQuery<'a, A> {
    pub bucket: &'a str,
    pub prefix: &'a str,
    pub after: Option<A>,
    pub limit: usize,
}

impl<'a, A> PageQuery<'a, A> {
    /// The first `limit` records of `bucket`.
    pub fn first(bucket: &'a str, limit: usize) -> Self {
        PageQuery {
            bucket,
            prefix: "",
            after: None,
            limit,
        }
    }

    /// The half-open table range the page is read from: from the later of the prefix and
    /// `lower` (the exclusive resume key, which the reader skips) to the end of the bucket.
    fn key_range(&self, lower: Option<&[u8]>) -> (Vec<u8>, Vec<u8>) {
        let (mut start, end) = bucket_bounds(self.bucket);
        let from_prefix = object_key(self.bucket, self.prefix);
        if from_prefix > start {
            start = from_prefix;
        }
        if let Some(l) = lower {
            if l > start.as_slice() {
                start = l.to_vec();
            }
        }
        (start, end)
    }
}

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
    /// Up to `limit` entries of the `versions` table in `[start, end)`.
    async fn version_range(
        &self,
        start: Vec<u8>,
        end: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionRecord)>, StoreError> {
        match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(VERSIONS).map_err(StoreError::db)?;
                    super::durable::version_page(&t, &start, &end, limit)
                })
                .await
            }
            MetaStore::Memory(m) => m.with(|t| t.version_range(&start, &end, limit)),
        }
    }

    /// The newest entry of `key` in the `versions` table.
    pub async fn newest_version(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let (start, end) = versions::prefix_range(&versions::key_prefix(bucket, key));
        Ok(self
            .version_range(start, end, 1)
            .await?
            .into_iter()
            .next()
            .map(|(_, r)| r))
    }

    /// Version `id` of `key` (`None`: the null version), current or older, as stored.
    pub async fn version(
        &self,
        bucket: &str,
        key: &str,
        id: Option<&str>,
    ) -> Result<Option<VersionRecord>, StoreError> {
        if let Some(m) = self.object(bucket, key).await? {
            if m.version_id.as_deref() == id {
                return Ok(Some(VersionRecord::Object(m)));
            }
        }
        let (mut start, end) = versions::prefix_range(&versions::key_prefix(bucket, key));
        if let Some(order) = id.and_then(versions::id_order) {
            start = versions::version_key(bucket, key, order);
        }
        // A version id names its table key (one read); the null version is found by a scan of
        // the key's history, a page at a time.
        loop {
            let page = self.version_range(start.clone(), end.clone(), 256).await?;
            let Some((last, _)) = page.last() else {
                return Ok(None);
            };
            let mut next = last.clone();
            next.push(0);
            if let Some((_, r)) = page.into_iter().find(|(_, r)| r.version_id() == id) {
                return Ok(Some(r));
            }
            if id.is_some() {
                return Ok(None);
            }
            start = next;
        }
    }

    /// Up to `limit` entries of the `versions` table under `prefix` after `after`, with their key
    /// and whether each is the newest of its key in the table.
    pub async fn versions_page(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&VersionCursor>,
        limit: usize,
    ) -> Result<Vec<(String, VersionRecord, bool)>, StoreError> {
        let (mut start, end) = versions::prefix_range(&versions::escaped(bucket, prefix));
        if let Some(c) = after {
            let lower = match c.order {
                // Just past the cursor's version.
                Some(order) => {
                    let mut k = versions::version_key(bucket, &c.key, order);
                    k.push(0);
                    k
                }
                // Past every version of the cursor's key.
                None => versions::prefix_range(&versions::key_prefix(bucket, &c.key)).1,
            };
            if lower > start {
                start = lower;
            }
        }
        let skip = bucket.len() + 1;
        let mut out: Vec<(String, VersionRecord, bool)> = Vec::new();
        for (tk, rec) in self.version_range(start, end, limit).await? {
            let Some((key, _)) = versions::decode_key(&tk, skip) else {
                return Err(StoreError::Db(
                    "a versions table key does not decode".into(),
                ));
            };
            let mid_key = after.is_some_and(|c| c.order.is_some() && c.key == key);
            let first = !mid_key && out.last().is_none_or(|(k, _, _)| *k != key);
            out.push((key, rec, first));
        }
        Ok(out)
    }

    /// A page of every older version and delete marker of every bucket (bucket, key, record),
    /// after table key `after`, with the table key of the last (key rotation, start-up checks).
    pub async fn all_versions(
        &self,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, String, String, VersionRecord)>, StoreError> {
        let start = match after {
            Some(mut k) => {
                k.push(0);
                k
            }
            None => Vec::new(),
        };
        let mut out = Vec::new();
        for (tk, rec) in self.version_range(start, vec![0xFF; 1], limit).await? {
            let Some(nul) = tk.iter().position(|b| *b == 0) else {
                continue;
            };
            let bucket = String::from_utf8_lossy(&tk[..nul]).into_owned();
            let Some((key, _)) = versions::decode_key(&tk, nul + 1) else {
                return Err(StoreError::Db(
                    "a versions table key does not decode".into(),
                ));
            };
            out.push((tk, bucket, key, rec));
        }
        Ok(out)
    }

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
    pub async fn scan(&self, q: PageQuery<'_, &str>) -> Result<ObjectPage, StoreError> {
        // A resume key before the prefix is outside the range read, so never met.
        let exclusive = q.after.map(|a| object_key(q.bucket, a));
        let (start, end) = q.key_range(exclusive.as_deref());
        let (skip, limit) = (q.bucket.len() + 1, q.limit);
        let prefix_bytes = q.prefix.as_bytes().to_vec();
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
            |ids: &mut Ids, iter: &mut dyn Iterator<Item = Result<BodyRef, StoreError>>| {
                for body in iter {
                    ids.extend(body?.blobs().into_iter().map(str::to_string));
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
                            // The body only: one unreadable record must not stop the start (it
                            // is refused when read), nor free the blobs of the others.
                            decode::<BodyOnly>(v.value()).map(|b| b.body)
                        }),
                    )?;
                    let t = txn.open_table(VERSIONS).map_err(StoreError::db)?;
                    objects(
                        &mut ids,
                        &mut t.iter().map_err(StoreError::db)?.map(|e| {
                            let (_, v) = e.map_err(StoreError::db)?;
                            decode::<VersionBodyOnly>(v.value()).map(VersionBodyOnly::body)
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
                objects(
                    &mut ids,
                    &mut t.objects.values().map(|m| Ok(m.body.clone())),
                )?;
                objects(
                    &mut ids,
                    &mut t.versions.values().filter_map(|r| match r {
                        VersionRecord::Object(m) => Some(Ok(m.body.clone())),
                        VersionRecord::Marker(_) => None,
                    }),
                )?;
                parts(&mut ids, &mut t.parts.values().cloned().map(Ok))?;
                Ok(ids)
            }),
        }
    }

    pub async fn upload(&self, at: UploadAddr<'_>) -> Result<Option<UploadMeta>, StoreError> {
        let (ObjectAddr { bucket, key }, upload_id) = (at.object, at.upload_id);
        let k = upload_key(bucket, key, upload_id);
        let found: Option<UploadMeta> = match self {
            MetaStore::Redb(r) => {
                r.read(move |txn| {
                    let t = txn.open_table(UPLOADS).map_err(StoreError::db)?;
                    t.get(k.as_slice())
                        .map_err(StoreError::db)?
                        .map(|g| decode(g.value()))
                        .transpose()
                })
                .await?
            }
            MetaStore::Memory(m) => m.with(|t| t.upload(&k))?,
        };
        // Only that exact upload: see `exact_upload` (keys may contain NUL).
        Ok(found.filter(|u| u.key == key && u.upload_id == upload_id))
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
        q: PageQuery<'_, (String, Option<String>)>,
    ) -> Result<Vec<UploadMeta>, StoreError> {
        // The exclusive lower bound as a key of the table: after (key, id) is the key `b\0k\0id`;
        // after every upload of key is `b\0k\x01`.
        let lower = q.after.as_ref().map(|(key, id)| {
            let mut k = object_key(q.bucket, key);
            match id {
                Some(id) => {
                    k.push(0);
                    k.extend_from_slice(id.as_bytes());
                }
                None => k.push(1),
            }
            k
        });
        let (start, end) = q.key_range(lower.as_deref());
        let prefix_bytes = object_key(q.bucket, q.prefix);
        let limit = q.limit;
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

/// The part of an object record the start-up collection reads.
#[derive(serde::Deserialize)]
struct BodyOnly {
    body: BodyRef,
}

/// The part of a `versions` record the start-up collection reads (markers have no body).
#[derive(serde::Deserialize)]
enum VersionBodyOnly {
    Object(BodyOnly),
    Marker(serde::de::IgnoredAny),
}

impl VersionBodyOnly {
    fn body(self) -> BodyRef {
        match self {
            VersionBodyOnly::Object(b) => b.body,
            VersionBodyOnly::Marker(_) => BodyRef::Empty,
        }
    }
}
