//! PutObjectTagging and DeleteObjectTagging as the store does them: the object's record rewritten
//! in place with new tags, its body, ETag, Last-Modified and everything else kept.

use super::Store;
use super::error::StoreError;
use super::meta::{Expect, WriteOp};
use super::model::{ObjectAddr, ObjectMeta};
use super::sealed;

/// How many times a retag reads the record again after a write replaced it in between. Each
/// attempt is one read and one seal; under a burst of overwrites of one key a few dozen keep a
/// 409 rare (S3 answers its own conflicts with OperationAborted too).
const TAG_ATTEMPTS: usize = 32;

impl Store {
    /// Replaces the tags of the object at `addr`. The record read is re-sealed with the new tags
    /// and committed only if it is still the current record (`Expect::Record`): a write that
    /// commits in between is never undone, and the tags are applied to the new record instead
    /// (read again, a bounded number of times). Returns the record as committed, open; `None`
    /// when there is no object. Tags equal to the current ones write nothing.
    pub async fn replace_object_tags(
        &self,
        addr: ObjectAddr<'_>,
        tags: Vec<(String, String)>,
    ) -> Result<Option<ObjectMeta>, StoreError> {
        let ObjectAddr { bucket, key } = addr;
        for _ in 0..TAG_ATTEMPTS {
            let Some(stored) = self.meta.object(bucket, key).await? else {
                return Ok(None);
            };
            let mac = stored
                .seal
                .as_ref()
                .map(|s| s.mac)
                .ok_or_else(|| sealed::tampered("object", bucket, key))?;
            let keys = self.keys()?;
            let mut open = sealed::open_object(keys, bucket, key, stored)?;
            if open.tags == tags {
                // Nothing changes (DeleteObjectTagging of an untagged object): no write.
                return Ok(Some(open));
            }
            open.tags = tags.clone();
            let closed = sealed::reclose_object(keys, bucket, key, open.clone())?;
            let op = WriteOp::PutObject {
                bucket: bucket.to_string(),
                key: key.to_string(),
                meta: Box::new(closed),
                inline: None,
                expect: Expect::Record(mac),
            };
            // The same body as the record it replaces: `meta::release` frees nothing.
            match self.meta.write(op).await {
                Ok(_) => return Ok(Some(open)),
                Err(StoreError::ObjectChanged) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::ConditionConflict)
    }
}
