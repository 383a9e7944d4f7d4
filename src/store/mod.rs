//! Durable storage: bucket and object metadata plus object bytes.
//!
//! Two backends behind one API: a data directory (redb metadata + one blob file per object) and
//! memory (`--memory`). An object becomes visible only when its metadata commits, which happens
//! after its blob is synced; the replaced blob is removed after the commit.

mod blobs;
mod error;
mod meta;
mod model;

use std::path::Path;
use std::sync::Arc;

pub use blobs::{BlobWriter, ByteStream, OpenBlob};
pub use error::StoreError;
pub use meta::ObjectPage;
pub use model::{BodyRef, BucketMeta, EncryptionRule, ObjectMeta};

use blobs::{BlobStore, FsBlobs, MemoryBlobs};
use meta::{MemoryMeta, MetaStore, RedbMeta, WriteOp};

pub struct Store {
    meta: MetaStore,
    blobs: BlobStore,
}

impl Store {
    /// Opens (or creates) a data directory and removes blobs orphaned by an earlier crash.
    pub async fn open_dir(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)?;
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
        })
    }

    pub fn memory() -> Store {
        Store {
            meta: MetaStore::Memory(MemoryMeta::default()),
            blobs: BlobStore::Memory(Arc::new(MemoryBlobs::default())),
        }
    }

    pub async fn create_bucket(&self, meta: BucketMeta) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::CreateBucket(meta))
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

    pub async fn delete_bucket(&self, name: &str) -> Result<(), StoreError> {
        self.meta
            .write(WriteOp::DeleteBucket(name.to_string()))
            .await
            .map(|_| ())
    }

    pub async fn bucket(&self, name: &str) -> Result<Option<BucketMeta>, StoreError> {
        self.meta.bucket(name).await
    }

    pub async fn buckets(&self) -> Result<Vec<BucketMeta>, StoreError> {
        self.meta.buckets().await
    }

    pub async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.meta.object(bucket, key).await
    }

    pub async fn scan(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<ObjectPage, StoreError> {
        self.meta.scan(bucket, prefix, after, limit).await
    }

    /// Starts a new blob. Nothing refers to it until `commit_object` names it.
    pub async fn create_blob(&self) -> Result<BlobWriter, StoreError> {
        self.blobs.create().await
    }

    /// The commit point of a write: metadata naming the (already synced) body becomes visible, and
    /// the body it replaced is freed. On failure the new body is freed instead.
    pub async fn commit_object(
        &self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
    ) -> Result<(), StoreError> {
        let body = meta.body.clone();
        let op = WriteOp::PutObject {
            bucket: bucket.to_string(),
            key: key.to_string(),
            meta: Box::new(meta),
        };
        match self.meta.write(op).await {
            // Rewriting metadata in place (key rotation) keeps the same body: never free it.
            Ok(old) if old.as_ref() == Some(&body) => Ok(()),
            Ok(old) => {
                self.free(old).await;
                Ok(())
            }
            Err(e) => {
                self.free(Some(body)).await;
                Err(e)
            }
        }
    }

    /// Deletes an object; `Ok(false)` when there was none.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<bool, StoreError> {
        let op = WriteOp::DeleteObject {
            bucket: bucket.to_string(),
            key: key.to_string(),
        };
        let old = self.meta.write(op).await?;
        let existed = old.is_some();
        self.free(old).await;
        Ok(existed)
    }

    /// Opens an object's stored body for reading (see `OpenBlob`).
    pub async fn open_body(&self, body: &BodyRef) -> Result<OpenBlob, StoreError> {
        match body {
            BodyRef::Empty => Ok(OpenBlob::Empty),
            BodyRef::Blob(id) => self.blobs.open(id).await,
        }
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

    pub async fn config(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.meta.config(prefix).await
    }

    /// A page of all objects (bucket, key, metadata), for maintenance such as key rotation.
    pub async fn all_objects(
        &self,
        after: Option<Vec<u8>>,
        limit: usize,
    ) -> Result<Vec<(String, String, ObjectMeta)>, StoreError> {
        self.meta.all_objects(after, limit).await
    }

    async fn free(&self, body: Option<BodyRef>) {
        if let Some(BodyRef::Blob(id)) = body {
            if let Err(e) = self.blobs.delete(&id).await {
                // Harmless: start-up garbage collection removes it later.
                tracing::warn!(error = %e, "could not remove a replaced blob");
            }
        }
    }
}
