//! The in-memory cache of bucket records in front of redb.

use std::sync::Mutex;

use crate::store::model::BucketMeta;

/// Bucket records, which every request reads (owner, type, rules) and which change rarely, kept in
/// memory once read. The commit thread drops a bucket's entry after any transaction that wrote it,
/// before the writer hears back; a reader inserts what it read only if no such drop happened since
/// it began reading (the generation), so a record read before a commit never outlives the commit.
#[derive(Default)]
pub(super) struct BucketCache {
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
    pub(super) fn get(&self, name: &str) -> (Option<BucketMeta>, u64) {
        match self.inner.lock() {
            Ok(c) => (c.records.get(name).cloned(), c.generation),
            Err(_) => (None, u64::MAX),
        }
    }

    pub(super) fn insert(&self, read_at: u64, meta: &BucketMeta) {
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

    pub(super) fn forget(&self, name: &str) {
        if let Ok(mut c) = self.inner.lock() {
            c.generation += 1;
            c.records.remove(name);
        }
    }
}
