//! The store's versioning API: which version a write creates, reads and deletes by version id,
//! and the ListObjectVersions walk (the tables are described in `meta/versions.rs`).

use super::meta::versions::{self, id_order};
use super::meta::{PageQuery, WriteOp};
use super::model::{
    BucketMeta, DeleteMarker, NULL_VERSION, ObjectAddr, ObjectMeta, VersionRecord, Versioning,
};
use super::{Store, StoreError, sealed};

/// The version a write created, as S3 shows it in `x-amz-version-id`: `None` in a bucket never
/// versioned (no header), `null` in a suspended one, the new id in an enabled one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub version_id: Option<String>,
}

/// What a delete did, for its response headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// `x-amz-version-id`: the marker added, or the version removed by id.
    pub version_id: Option<String>,
    /// `x-amz-delete-marker: true`: a marker was added, or the version removed was one.
    pub delete_marker: bool,
    /// Whether anything was there to delete.
    pub existed: bool,
}

/// One entry of ListObjectVersions.
#[derive(Debug, Clone)]
pub struct ListedVersion {
    pub key: String,
    /// An object version (checked and opened) or a delete marker.
    pub version: VersionRecord,
    pub is_latest: bool,
}

/// Where a ListObjectVersions page starts: after every version of `key` (`order` `None`), or
/// after its version of that order.
#[derive(Debug, Clone)]
pub struct VersionCursor {
    pub key: String,
    pub order: Option<u64>,
}

/// The version id a write at `seq` gets in bucket `b` now (a fresh id while versioning is
/// enabled, the null version otherwise), and what S3 shows for it.
fn new_version(b: &BucketMeta, seq: u64) -> (Option<String>, Written) {
    let id = (b.versioning == Some(Versioning::Enabled)).then(|| versions::new_version_id(seq));
    let shown = b
        .versioning
        .map(|_| id.clone().unwrap_or_else(|| NULL_VERSION.to_string()));
    (id, Written { version_id: shown })
}

/// A delete marker for a delete in bucket `b` now (unused in a bucket never versioned).
pub(super) fn new_marker(b: &BucketMeta) -> (DeleteMarker, Written) {
    let seq = versions::next_order();
    let (version_id, written) = new_version(b, seq);
    let marker = DeleteMarker {
        version_id,
        seq,
        last_modified_millis: i64::try_from(seq / 1000).unwrap_or(i64::MAX),
    };
    (marker, written)
}

impl Store {
    pub(super) async fn existing_bucket(&self, bucket: &str) -> Result<BucketMeta, StoreError> {
        self.meta
            .bucket(bucket)
            .await?
            .ok_or_else(|| StoreError::NoSuchBucket(bucket.to_string()))
    }

    /// Gives a write its place in the key's history and its version id for the bucket's
    /// versioning state now (the commit checks the state is still that one).
    pub(super) async fn stamp(
        &self,
        bucket: &str,
        mut meta: ObjectMeta,
    ) -> Result<(ObjectMeta, Written), StoreError> {
        let b = self.existing_bucket(bucket).await?;
        meta.seal = None;
        meta.seq = versions::next_order();
        let (id, written) = new_version(&b, meta.seq);
        meta.version_id = id;
        Ok((meta, written))
    }

    /// A version of a key, checked and opened: the current one (`version` `None`: the current
    /// object, or the delete marker that hides the key), or the one with that id (`null` too).
    pub async fn object_version(
        &self,
        addr: ObjectAddr<'_>,
        version: Option<&str>,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let ObjectAddr { bucket, key } = addr;
        let id = match version {
            Some(NULL_VERSION) => None,
            Some(v) => Some(v),
            None => {
                if let Some(m) = self.object(addr).await? {
                    return Ok(Some(VersionRecord::Object(m)));
                }
                let newest = self.meta.newest_version(bucket, key).await?;
                // Only a marker hides a key: the newest object is always the current one.
                return Ok(newest.filter(|r| matches!(r, VersionRecord::Marker(_))));
            }
        };
        if id.is_some_and(|id| id_order(id).is_none()) {
            return Ok(None);
        }
        match self.meta.version(bucket, key, id).await? {
            Some(VersionRecord::Object(m)) => {
                let open = sealed::open_object(self.keys()?, bucket, key, m)?;
                Ok(Some(VersionRecord::Object(open)))
            }
            other => Ok(other),
        }
    }

    /// Removes one version (`null` included) for good; the next newest becomes current if the
    /// current one went.
    pub async fn delete_version(
        &self,
        addr: ObjectAddr<'_>,
        version: &str,
    ) -> Result<Deleted, StoreError> {
        let id = (version != NULL_VERSION).then(|| version.to_string());
        let outcome = self
            .meta
            .write(WriteOp::DeleteVersion {
                bucket: addr.bucket.to_string(),
                key: addr.key.to_string(),
                version_id: id,
            })
            .await?;
        self.free(outcome.freed);
        Ok(Deleted {
            version_id: Some(version.to_string()),
            delete_marker: matches!(outcome.removed, Some(VersionRecord::Marker(_))),
            existed: outcome.removed.is_some(),
        })
    }

    /// Up to `limit` versions in ListObjectVersions order (keys ascending, each key's versions
    /// newest first) under `prefix`, after `after`. Reads at most `limit` records from each table
    /// whatever the number of versions, so a key with many versions pages in bounded memory.
    pub async fn version_page(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&VersionCursor>,
        limit: usize,
    ) -> Result<Vec<ListedVersion>, StoreError> {
        let keys = self.keys()?;
        // Current objects: keys after the cursor's key, and the cursor key's own current object
        // when it is older than the cursor (it is always the newest, so only if the cursor
        // names no version yet).
        let mut current = self
            .meta
            .scan(PageQuery {
                bucket,
                prefix,
                after: after.map(|c| c.key.as_str()),
                limit,
            })
            .await?;
        if let Some(VersionCursor {
            key,
            order: Some(order),
        }) = after
        {
            if let Some(m) = self.meta.object(bucket, key).await? {
                if m.order() < *order && key.starts_with(prefix) {
                    current.insert(0, (key.clone(), m));
                }
            }
        }
        let older = self
            .meta
            .versions_page(bucket, prefix, after, limit)
            .await?;
        let mut merged: Vec<(String, u64, bool, VersionRecord)> =
            Vec::with_capacity(current.len() + older.len());
        for (k, m) in current {
            merged.push((k, m.order(), true, VersionRecord::Object(m)));
        }
        for (k, rec, first_of_key) in older {
            merged.push((k, rec.order(), first_of_key, rec));
        }
        merged.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()).then(b.1.cmp(&a.1)));
        merged.truncate(limit);
        let mut out: Vec<ListedVersion> = Vec::with_capacity(merged.len());
        for (key, _, newest_in_table, rec) in merged {
            // The newest entry of the versions table is the latest only when the key has no
            // current object (it is then a delete marker).
            let is_latest = newest_in_table && out.last().is_none_or(|p| p.key != key);
            let version = match rec {
                VersionRecord::Object(m) => {
                    VersionRecord::Object(sealed::open_object(keys, bucket, &key, m)?)
                }
                marker => marker,
            };
            out.push(ListedVersion {
                key,
                version,
                is_latest,
            });
        }
        Ok(out)
    }
}
