//! Object versions (S3 versioning) in the metadata tables.
//!
//! The `objects` table keeps what it always held: a key's current object, so GET, HEAD, the
//! listings of current objects and conditional writes read one record as before. A bucket that
//! was never versioned uses nothing else. Once a bucket has a versioning state, every other
//! version of a key (older objects and delete markers) lives in the `versions` table under
//! `bucket NUL escaped-key 00 00 !order`: one contiguous range per key, newest first, keys in
//! byte order (the escaping, 00 → 00 FF, keeps keys that contain NUL apart and in order).
//!
//! One invariant ties the tables together, restored by [`settle`] after every change: when a
//! key's newest version is an object it is in `objects`; when it is a delete marker, `objects`
//! has nothing for the key. A version's place in the history is its `order` (the write's
//! timestamp in microseconds): as on S3, of two concurrent writes the later timestamp wins.

use std::sync::atomic::{AtomicU64, Ordering};

use super::{Tables, object_key, release};
use crate::store::error::StoreError;
use crate::store::model::{BodyRef, BucketMeta, ObjectMeta, VersionRecord, Versioning};

/// The `versions` table key prefix of every version of `key` (then 8 bytes of `!order`).
pub fn key_prefix(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = escaped(bucket, key);
    k.extend_from_slice(&[0, 0]);
    k
}

/// `bucket NUL` and `key` escaped without its terminator: the prefix of every key starting with
/// `key` (listing prefixes).
pub fn escaped(bucket: &str, key: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(bucket.len() + key.len() + 12);
    k.extend_from_slice(bucket.as_bytes());
    k.push(0);
    for b in key.bytes() {
        k.push(b);
        if b == 0 {
            k.push(0xFF);
        }
    }
    k
}

pub fn version_key(bucket: &str, key: &str, order: u64) -> Vec<u8> {
    let mut k = key_prefix(bucket, key);
    k.extend_from_slice(&(!order).to_be_bytes());
    k
}

/// The half-open range of table keys starting with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut end = prefix.to_vec();
    // Increment the last byte that is not 0xFF (dropping the 0xFF tail); an all-0xFF prefix has
    // no end (it never occurs: it starts with a bucket name and NUL).
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return (prefix.to_vec(), end);
        }
    }
    (prefix.to_vec(), vec![0xFF; prefix.len() + 9])
}

/// The key and order a `versions` table key names, with the bucket's `bucket NUL` skipped.
pub fn decode_key(table_key: &[u8], skip: usize) -> Option<(String, u64)> {
    let rest = table_key.get(skip..)?;
    let (escaped, order) = rest.split_at_checked(rest.len().checked_sub(8)?)?;
    let order = !u64::from_be_bytes(order.try_into().ok()?);
    let escaped = escaped.strip_suffix(&[0, 0])?;
    let mut key = Vec::with_capacity(escaped.len());
    let mut it = escaped.iter();
    while let Some(&b) = it.next() {
        key.push(b);
        if b == 0 && it.next() != Some(&0xFF) {
            return None;
        }
    }
    Some((String::from_utf8(key).ok()?, order))
}

/// A fresh version id: the write's order (16 hex digits) and 64 random bits, 32 characters. The
/// order makes a version's table key computable from its id (no index); the random half makes
/// ids unguessable and unique across restarts.
pub fn new_version_id(order: u64) -> String {
    format!("{order:016x}{:016x}", rand::random::<u64>())
}

/// The order a version id names; `None` for anything sealstore never issued.
pub fn id_order(id: &str) -> Option<u64> {
    if id.len() != 32
        || !id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    u64::from_str_radix(id.get(..16)?, 16).ok()
}

/// Whether `id` is a version id sealstore could have issued (or `null`).
pub fn is_well_formed(id: &str) -> bool {
    id == crate::store::model::NULL_VERSION || id_order(id).is_some()
}

/// The order of the next write: microseconds since the epoch, strictly increasing within the
/// process (so two writes in one microsecond still have distinct versions).
pub fn next_order() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// A write prepared for one versioning state must commit under it: a version id only while
/// versioning is enabled, the null version otherwise (the store prepares it again if not).
pub(super) fn check_state(b: &BucketMeta, has_id: bool) -> Result<(), StoreError> {
    if has_id == (b.versioning == Some(Versioning::Enabled)) {
        Ok(())
    } else {
        Err(StoreError::VersioningChanged)
    }
}

/// The newest entry of `key` in the `versions` table.
fn newest(
    t: &impl Tables,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, VersionRecord)>, StoreError> {
    let (start, end) = prefix_range(&key_prefix(bucket, key));
    Ok(t.version_range(&start, &end, 1)?.into_iter().next())
}

/// Restores the invariant (module docs) for `key` after a change.
pub(super) fn settle(t: &mut impl Tables, bucket: &str, key: &str) -> Result<(), StoreError> {
    let k = object_key(bucket, key);
    let Some((vk, rec)) = newest(t, bucket, key)? else {
        return Ok(());
    };
    match t.object(&k)? {
        Some(cur) if cur.order() >= rec.order() => Ok(()),
        Some(cur) => {
            // A write with an earlier timestamp committed last: the newer version is current.
            t.remove_object(&k)?;
            t.put_version(
                &version_key(bucket, key, cur.order()),
                &VersionRecord::Object(cur),
            )?;
            settle(t, bucket, key)
        }
        None => {
            if let VersionRecord::Object(m) = rec {
                t.remove_version(&vk)?;
                t.put_object(&k, &m)?;
            }
            Ok(())
        }
    }
}

/// Finds and removes version `id` (`None`: the null version) of `key`, wherever it lives,
/// without settling.
pub(super) fn take(
    t: &mut impl Tables,
    bucket: &str,
    key: &str,
    id: Option<&str>,
) -> Result<Option<VersionRecord>, StoreError> {
    let k = object_key(bucket, key);
    if let Some(cur) = t.object(&k)? {
        if cur.version_id.as_deref() == id {
            t.remove_object(&k)?;
            return Ok(Some(VersionRecord::Object(cur)));
        }
    }
    match find_older(t, bucket, key, id)? {
        Some((vk, rec)) => {
            t.remove_version(&vk)?;
            Ok(Some(rec))
        }
        None => Ok(None),
    }
}

/// Version `id` (`None`: the null version) among `key`'s older versions, with its table key: a
/// version id names its table key (one read); the null version is found by [`find_null`].
fn find_older(
    t: &impl Tables,
    bucket: &str,
    key: &str,
    id: Option<&str>,
) -> Result<Option<(Vec<u8>, VersionRecord)>, StoreError> {
    let Some(id) = id else {
        return find_null(t, bucket, key);
    };
    let Some(order) = id_order(id) else {
        return Ok(None);
    };
    let vk = version_key(bucket, key, order);
    Ok(t.version(&vk)?
        .filter(|r| r.version_id() == Some(id))
        .map(|r| (vk, r)))
}

/// The null version among `key`'s older versions (at most one exists; a scan of the key's
/// history, since its order is not in its id).
fn find_null(
    t: &impl Tables,
    bucket: &str,
    key: &str,
) -> Result<Option<(Vec<u8>, VersionRecord)>, StoreError> {
    let (mut start, end) = prefix_range(&key_prefix(bucket, key));
    loop {
        let page = t.version_range(&start, &end, 256)?;
        let Some((last, _)) = page.last() else {
            return Ok(None);
        };
        let mut next = last.clone();
        next.push(0);
        if let Some(found) = page.into_iter().find(|(_, r)| r.version_id().is_none()) {
            return Ok(Some(found));
        }
        start = next;
    }
}

/// What removing a version releases (an object's body; nothing for a marker).
pub(super) fn release_version(
    t: &mut impl Tables,
    rec: Option<VersionRecord>,
) -> Result<Vec<BodyRef>, StoreError> {
    match rec {
        Some(VersionRecord::Object(m)) => release(t, Some(m), None),
        _ => Ok(Vec::new()),
    }
}

/// Adds `rec` as a new version of `key` in a bucket with a versioning state: a null version
/// first replaces the key's null version; the current object becomes an older version.
pub(super) fn add(
    t: &mut impl Tables,
    bucket: &str,
    key: &str,
    rec: VersionRecord,
) -> Result<Vec<BodyRef>, StoreError> {
    let mut freed = Vec::new();
    if rec.version_id().is_none() {
        let old = take(t, bucket, key, None)?;
        freed = release_version(t, old)?;
    }
    let k = object_key(bucket, key);
    match rec {
        VersionRecord::Object(m) => {
            if let Some(old) = t.put_object(&k, &m)? {
                t.put_version(
                    &version_key(bucket, key, old.order()),
                    &VersionRecord::Object(old),
                )?;
            }
        }
        marker @ VersionRecord::Marker(_) => {
            if let Some(old) = t.remove_object(&k)? {
                t.put_version(
                    &version_key(bucket, key, old.order()),
                    &VersionRecord::Object(old),
                )?;
            }
            t.put_version(&version_key(bucket, key, marker.order()), &marker)?;
        }
    }
    settle(t, bucket, key)?;
    Ok(freed)
}

/// Replaces version `meta.version_id` of `key` in place (same body: tags, key rotation), only if
/// it is still the record whose MAC is `expect` (when given).
pub(super) fn rewrite(
    t: &mut impl Tables,
    bucket: &str,
    key: &str,
    meta: &ObjectMeta,
    expect: Option<[u8; 32]>,
) -> Result<(), StoreError> {
    let holds = |m: &ObjectMeta| {
        expect.is_none_or(|mac| m.seal.as_ref().is_some_and(|s| s.mac == mac))
            && m.body == meta.body
    };
    let k = object_key(bucket, key);
    if let Some(cur) = t.object(&k)? {
        if cur.version_id == meta.version_id {
            if !holds(&cur) {
                return Err(StoreError::ObjectChanged);
            }
            t.put_object(&k, meta)?;
            return Ok(());
        }
    }
    // A read error is an error, not a changed record.
    match find_older(t, bucket, key, meta.version_id.as_deref())? {
        Some((vk, VersionRecord::Object(old))) if holds(&old) => {
            t.put_version(&vk, &VersionRecord::Object(meta.clone()))
        }
        _ => Err(StoreError::ObjectChanged),
    }
}

#[cfg(test)]
mod tests {
    use super::super::memory::MemoryTables;
    use super::*;
    use crate::crypto::Encryption;
    use crate::store::model::DeleteMarker;

    fn object(order: u64) -> VersionRecord {
        VersionRecord::Object(ObjectMeta {
            size: 0,
            etag: String::new(),
            last_modified_millis: 0,
            content_headers: Vec::new(),
            user_metadata: Vec::new(),
            checksum: None,
            composite_checksum: false,
            encryption: Encryption::SseS3 {
                key: crate::crypto::envelope::SealedKey {
                    nonce: [0; 12],
                    ciphertext: Vec::new(),
                },
            },
            body: BodyRef::Blob(format!("blob{order}")),
            seal: None,
            version_id: Some(new_version_id(order)),
            seq: order,
            tags: Vec::new(),
        })
    }

    fn marker(order: u64) -> VersionRecord {
        VersionRecord::Marker(DeleteMarker {
            version_id: Some(new_version_id(order)),
            seq: order,
            last_modified_millis: 0,
        })
    }

    /// (order, is object) of every version of `k`, newest first, and the current object's order.
    fn state(t: &MemoryTables) -> (Vec<(u64, bool)>, Option<u64>) {
        let current = t.objects.get(&object_key("b", "k")).map(|m| m.order());
        let (s, e) = prefix_range(&key_prefix("b", "k"));
        let mut all: Vec<(u64, bool)> = t
            .version_range(&s, &e, usize::MAX)
            .unwrap()
            .into_iter()
            .map(|(_, r)| (r.order(), matches!(r, VersionRecord::Object(_))))
            .collect();
        all.extend(current.map(|o| (o, true)));
        all.sort_by_key(|v| std::cmp::Reverse(v.0));
        (all, current)
    }

    /// Writes committed out of timestamp order still leave the newest version current, and
    /// removing versions promotes the next newest object (never a marker) to `objects`.
    #[test]
    fn the_newest_object_is_always_current() {
        let mut t = MemoryTables::default();
        let (o10, m12) = (object(10), marker(12));
        add(&mut t, "b", "k", o10.clone()).unwrap();
        add(&mut t, "b", "k", object(5)).unwrap(); // an earlier write committed last
        assert_eq!(state(&t), (vec![(10, true), (5, true)], Some(10)));
        add(&mut t, "b", "k", marker(7)).unwrap(); // an older marker hides nothing
        assert_eq!(state(&t).1, Some(10));
        add(&mut t, "b", "k", m12.clone()).unwrap(); // a newer one hides the key
        assert_eq!(state(&t).1, None);
        take(&mut t, "b", "k", m12.version_id()).unwrap();
        settle(&mut t, "b", "k").unwrap();
        assert_eq!(state(&t).1, Some(10));
        let taken = take(&mut t, "b", "k", o10.version_id()).unwrap();
        assert!(matches!(taken, Some(VersionRecord::Object(_))));
        settle(&mut t, "b", "k").unwrap();
        // The marker at 7 is now newest: no current object; 5 stays an older version.
        assert_eq!(state(&t), (vec![(7, false), (5, true)], None));
        // An unknown id takes nothing.
        assert!(
            take(&mut t, "b", "k", Some(&new_version_id(99)))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn table_keys_keep_s3_key_order_and_round_trip() {
        let keys = ["a", "a\0", "a\0b", "a\u{1}", "ab", "b", ""];
        let mut sorted: Vec<&str> = keys.to_vec();
        sorted.sort();
        let mut encoded: Vec<(Vec<u8>, &str)> = keys
            .iter()
            .map(|k| (version_key("bkt", k, 7), *k))
            .collect();
        encoded.sort();
        let order: Vec<&str> = encoded.iter().map(|(_, k)| *k).collect();
        assert_eq!(order, sorted);
        for k in keys {
            for o in [0, 1, 99, u64::MAX] {
                let tk = version_key("bkt", k, o);
                assert_eq!(decode_key(&tk, 4), Some((k.to_string(), o)));
            }
        }
        // Newest first within a key.
        assert!(version_key("b", "k", 10) < version_key("b", "k", 9));
        // A key's range holds none of another key's versions.
        let (s, e) = prefix_range(&key_prefix("b", "a"));
        for other in ["a\0", "a\0b", "ab"] {
            let tk = version_key("b", other, 5);
            assert!(!(s.as_slice() <= tk.as_slice() && tk.as_slice() < e.as_slice()));
        }
    }

    #[test]
    fn version_ids_name_their_order() {
        let o = next_order();
        assert!(next_order() > o);
        let id = new_version_id(o);
        assert_eq!(id.len(), 32);
        assert_eq!(id_order(&id), Some(o));
        assert!(is_well_formed(&id) && is_well_formed("null"));
        for bad in [
            "",
            "NULL",
            "xyz",
            &id[..31],
            &format!("{id}0"),
            "0000000000000000000000000000000G",
        ] {
            assert!(!is_well_formed(bad), "{bad}");
        }
    }
}
