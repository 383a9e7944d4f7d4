//! S3's conditional writes (`If-None-Match: *`, `If-Match`) as the store checks them.
//!
//! The condition is resolved against the record read (its ETag is sealed, so only the store can
//! compare it) into an [`Expect`] that the committing transaction checks again: the check and the
//! write are one step. When another write commits in between, the condition is resolved again
//! against the new record, a bounded number of times.

use super::Store;
use super::error::StoreError;
use super::meta::Expect;
use super::model::ObjectAddr;
use super::sealed;

/// How many times a conditional write re-checks its condition after losing a race with another
/// write before it answers `ConditionConflict` (S3's 409, which clients retry).
pub(super) const CONDITION_ATTEMPTS: usize = 8;

/// A write's precondition on the object it replaces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WriteCondition {
    /// None: the write replaces whatever is there.
    #[default]
    None,
    /// `If-None-Match: *`: only if no object exists at the key.
    Absent,
    /// `If-Match`: only if the current object's ETag is one of these (unquoted; `*` matches any
    /// existing object).
    ETagIn(Vec<String>),
}

impl WriteCondition {
    pub fn is_none(&self) -> bool {
        *self == WriteCondition::None
    }
}

impl Store {
    /// What the commit must find at `addr` for `cond` to hold, read now; the condition's own
    /// error when it does not hold.
    pub(super) async fn expectation(
        &self,
        addr: ObjectAddr<'_>,
        cond: &WriteCondition,
    ) -> Result<Expect, StoreError> {
        let ObjectAddr { bucket, key } = addr;
        match cond {
            WriteCondition::None => Ok(Expect::Any),
            WriteCondition::Absent => match self.meta.object(bucket, key).await? {
                Some(_) => Err(StoreError::PreconditionFailed(cond.clone())),
                None => Ok(Expect::Absent),
            },
            WriteCondition::ETagIn(tags) => {
                let Some(stored) = self.meta.object(bucket, key).await? else {
                    return Err(StoreError::ConditionNoObject(key.to_string()));
                };
                let mac = stored
                    .seal
                    .as_ref()
                    .map(|s| s.mac)
                    .ok_or_else(|| sealed::tampered("object", bucket, key))?;
                let open = sealed::open_object(self.keys()?, bucket, key, stored)?;
                if tags.iter().any(|t| t == "*" || *t == open.etag) {
                    Ok(Expect::Record(mac))
                } else {
                    Err(StoreError::PreconditionFailed(cond.clone()))
                }
            }
        }
    }
}
