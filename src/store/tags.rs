//! PutObjectTagging and DeleteObjectTagging as the store does them: the object's record rewritten
//! in place with new tags, its body, ETag, Last-Modified and everything else kept.

use super::Store;
use super::error::StoreError;
use super::meta::WriteOp;
use super::model::{ObjectAddr, ObjectMeta, VersionRecord};
use super::sealed;

/// How many times a retag reads the record again after a write replaced it in between. Each
/// attempt is one read and one seal; under a burst of overwrites of one key a few dozen keep a
/// 409 rare (S3 answers its own conflicts with OperationAborted too).
const TAG_ATTEMPTS: usize = 32;

impl Store {
    /// Replaces the tags of version `version` of the object at `addr` (`None`: the current
    /// object). The record read is re-sealed with the new tags and rewritten in place, wherever
    /// the version lives, only if it is still the record read (its MAC): a write that commits in
    /// between is never undone, and the tags of the current object are applied to the new record
    /// instead (read again, a bounded number of times). Returns the record as committed, open;
    /// `None` when there is no such object version. Tags equal to the current ones write nothing.
    pub async fn replace_object_tags(
        &self,
        addr: ObjectAddr<'_>,
        version: Option<&str>,
        tags: Vec<(String, String)>,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        let ObjectAddr { bucket, key } = addr;
        for _ in 0..TAG_ATTEMPTS {
            // The version as `object_version` reads it (checked and opened; the seal stays).
            let Some(VersionRecord::Object(mut open)) = self.object_version(addr, version).await?
            else {
                return Ok(None);
            };
            let mac = open
                .seal
                .as_ref()
                .map(|s| s.mac)
                .ok_or_else(|| sealed::tampered("object", bucket, key))?;
            let keys = self.keys()?;
            if open.tags == tags {
                // Nothing changes (DeleteObjectTagging of an untagged object): no write.
                return Ok(Some(open));
            }
            open.tags = tags.clone();
            let closed = sealed::reclose_object(keys, bucket, key, open.clone())?;
            let op = WriteOp::RewriteVersion {
                bucket: bucket.to_string(),
                key: key.to_string(),
                meta: Box::new(closed),
                expect: Some(mac),
            };
            // The same body as the record it replaces, in its place: nothing is freed.
            match self.meta.write(op).await {
                Ok(_) => return Ok(Some(open)),
                Err(StoreError::ObjectChanged) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::ConditionConflict)
    }
}
