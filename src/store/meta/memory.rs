//! The in-memory backend (`--memory`): the same tables as maps behind one lock.

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;

use super::{Tables, bucket_bounds, part_number, parts_bounds};
use crate::store::error::StoreError;
use crate::store::model::{BucketMeta, ObjectMeta, PartMeta, UploadMeta, VersionRecord};

#[derive(Default)]
pub(super) struct MemoryTables {
    pub(super) buckets: BTreeMap<String, BucketMeta>,
    pub(super) objects: BTreeMap<Vec<u8>, ObjectMeta>,
    pub(super) config: BTreeMap<String, Vec<u8>>,
    pub(super) uploads: BTreeMap<Vec<u8>, UploadMeta>,
    pub(super) parts: BTreeMap<Vec<u8>, PartMeta>,
    pub(super) inline: std::collections::HashMap<String, Bytes>,
    pub(super) versions: BTreeMap<Vec<u8>, VersionRecord>,
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
        Ok(self
            .objects
            .range(start.clone()..end.clone())
            .next()
            .is_none()
            && self.versions.range(start..end).next().is_none())
    }
    fn object(&self, k: &[u8]) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.objects.get(k).cloned())
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
    fn remove_config(&mut self, name: &str) -> Result<(), StoreError> {
        self.config.remove(name);
        Ok(())
    }
    fn remove_config_prefix(&mut self, prefix: &str) -> Result<(), StoreError> {
        self.config.retain(|name, _| !name.starts_with(prefix));
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
    fn version(&self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.versions.get(vk).cloned())
    }
    fn put_version(&mut self, vk: &[u8], rec: &VersionRecord) -> Result<(), StoreError> {
        self.versions.insert(vk.to_vec(), rec.clone());
        Ok(())
    }
    fn remove_version(&mut self, vk: &[u8]) -> Result<Option<VersionRecord>, StoreError> {
        Ok(self.versions.remove(vk))
    }
    fn version_range(
        &self,
        start: &[u8],
        end: &[u8],
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, VersionRecord)>, StoreError> {
        Ok(self
            .versions
            .range(start.to_vec()..end.to_vec())
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

#[derive(Default)]
pub struct MemoryMeta {
    tables: Mutex<MemoryTables>,
}

impl MemoryMeta {
    pub(super) fn with<T>(
        &self,
        f: impl FnOnce(&mut MemoryTables) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.tables.lock().map_err(|_| StoreError::Closed)?;
        f(&mut guard)
    }
}
