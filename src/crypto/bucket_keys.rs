//! S3 Bucket Keys: instead of one KMS operation per object, a bucket-level key is generated under
//! the KMS key (one KMS operation), reused to seal the data keys of that bucket's objects for a
//! bounded time, and cached once opened for reads. Bucket keys are persisted sealed under their
//! KMS key, so objects stay readable across restarts.
//!
//! A bucket key belongs to one account, one bucket incarnation (`BucketBinding::incarnation`: a
//! bucket deleted and created again under the same name is another bucket) and one KMS key. The
//! write cache is keyed by all three, the stored records live under the incarnation's scoped
//! prefix (so the store drops them with the bucket), and a read refuses a bucket key whose account,
//! bucket or KMS key is not the object's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::envelope::{self, KeyContext, SealedKey};
use super::error::CryptoError;
use super::key_store::{BucketBinding, KeyStore};
use super::keys::DataKey;
use super::kms::{Keyring, KmsKey};

/// How long one bucket key keeps sealing new objects before a fresh one is made.
pub const BUCKET_KEY_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Records made before bucket incarnations existed: `bucket-key/<id>`, still read (and checked).
const LEGACY_PREFIX: &str = "bucket-key/";

#[derive(Serialize, Deserialize)]
struct Record {
    bucket: String,
    account: String,
    kms_key_id: String,
    /// Empty in legacy records.
    #[serde(default)]
    incarnation: String,
    sealed: SealedKey,
}

/// The name of a bucket key's record: under the bucket incarnation's scoped prefix.
fn record_name(bucket: &BucketBinding, id: &str) -> String {
    format!("{}bucket-key/{id}", bucket.record_prefix)
}

fn context<'a>(bucket: &'a str, kms_key_id: &'a str, id: &'a str) -> KeyContext<'a> {
    KeyContext {
        purpose: "bucket-key",
        bucket,
        key: kms_key_id,
        object_id: id,
        extra: "",
    }
}

/// (account, bucket incarnation, KMS key id) → the bucket key sealing new objects, and its birth.
type Active = HashMap<(String, String, String), (String, DataKey, Instant)>;

/// An opened bucket key and whose it is.
struct Opened {
    account: String,
    bucket: String,
    kms_key_id: String,
    key: DataKey,
}

impl Opened {
    /// The key, if it belongs to the object asking: same account, bucket and KMS key.
    fn key_for(
        &self,
        account: &str,
        bucket: &str,
        kms_key_id: &str,
    ) -> Result<DataKey, CryptoError> {
        if self.account == account && self.bucket == bucket && self.kms_key_id == kms_key_id {
            Ok(self.key.clone())
        } else {
            Err(CryptoError::BucketKeyMismatch)
        }
    }
}

#[derive(Default)]
pub struct BucketKeys {
    active: Mutex<Active>,
    /// Bucket key id → key and owner, for reads.
    opened: Mutex<HashMap<String, Opened>>,
}

fn poisoned<T>(_: T) -> CryptoError {
    CryptoError::KeyStore("bucket key cache lock poisoned".into())
}

fn store_err(e: impl std::fmt::Display) -> CryptoError {
    CryptoError::KeyStore(e.to_string())
}

/// The record of bucket `name` (as it is now): the bucket keys of a deleted one must not be used.
async fn bucket_record(store: &impl KeyStore, name: &str) -> Result<BucketBinding, CryptoError> {
    store
        .bucket_binding(name)
        .await?
        .ok_or(CryptoError::BucketKeyMismatch)
}

impl BucketKeys {
    /// The bucket key to seal a new object of `bucket` under `kms`; creating one costs one KMS
    /// operation, reusing one costs none.
    pub async fn for_write(
        &self,
        store: &impl KeyStore,
        keyring: &Keyring,
        account: &str,
        bucket: &str,
        kms: &KmsKey,
    ) -> Result<(String, DataKey), CryptoError> {
        let meta = bucket_record(store, bucket).await?;
        let slot = (
            account.to_string(),
            meta.incarnation.clone(),
            kms.id.clone(),
        );
        if let Some((id, key, made)) = self.active.lock().map_err(poisoned)?.get(&slot) {
            if made.elapsed() < BUCKET_KEY_LIFETIME {
                return Ok((id.clone(), key.clone()));
            }
        }
        let id = hex::encode(&DataKey::generate().as_bytes()[..16]);
        let key = DataKey::generate();
        keyring.count_operation();
        let sealed = envelope::seal(kms.material(), &key, &context(bucket, &kms.id, &id))?;
        let record = Record {
            bucket: bucket.into(),
            account: account.into(),
            kms_key_id: kms.id.clone(),
            incarnation: slot.1.clone(),
            sealed,
        };
        let bytes = serde_json::to_vec(&record).map_err(store_err)?;
        store
            .put_key_record(&record_name(&meta, &id), bytes)
            .await?;
        let opened = Opened {
            account: account.into(),
            bucket: bucket.into(),
            kms_key_id: kms.id.clone(),
            key: key.clone(),
        };
        self.opened
            .lock()
            .map_err(poisoned)?
            .insert(id.clone(), opened);
        self.active
            .lock()
            .map_err(poisoned)?
            .insert(slot, (id.clone(), key.clone(), Instant::now()));
        Ok((id, key))
    }

    /// The bucket key `id` of an object of `account` in `bucket` sealed under KMS key
    /// `kms_key_id`, opened with its KMS key the first time (one KMS operation), cached after. A
    /// bucket key of another account, bucket (incarnation) or KMS key is refused.
    pub async fn for_read(
        &self,
        store: &impl KeyStore,
        keyring: &Keyring,
        account: &str,
        bucket: &str,
        kms_key_id: &str,
        id: &str,
    ) -> Result<DataKey, CryptoError> {
        if let Some(o) = self.opened.lock().map_err(poisoned)?.get(id) {
            return o.key_for(account, bucket, kms_key_id);
        }
        let meta = bucket_record(store, bucket).await?;
        let rec = match read_record(store, &record_name(&meta, id)).await? {
            Some(rec) => rec,
            None => read_record(store, &format!("{LEGACY_PREFIX}{id}"))
                .await?
                .ok_or(CryptoError::Integrity("bucket key record missing"))?,
        };
        let incarnation_ok = rec.incarnation.is_empty() || rec.incarnation == meta.incarnation;
        let owner_ok = rec.account == account && rec.bucket == bucket;
        if !incarnation_ok || !owner_ok || rec.kms_key_id != kms_key_id {
            return Err(CryptoError::BucketKeyMismatch);
        }
        let kms = keyring
            .resolve(store, &rec.account, Some(&rec.kms_key_id))
            .await?;
        keyring.count_operation();
        let key = envelope::unseal(
            kms.material(),
            &rec.sealed,
            &context(&rec.bucket, &rec.kms_key_id, id),
        )?;
        let opened = Opened {
            account: rec.account,
            bucket: rec.bucket,
            kms_key_id: rec.kms_key_id,
            key: key.clone(),
        };
        self.opened
            .lock()
            .map_err(poisoned)?
            .insert(id.to_string(), opened);
        Ok(key)
    }

    /// Forgets a deleted bucket's bucket keys: its cache entries, and its records from before
    /// incarnations (`bucket-key/<id>`, which the store cannot attribute to a bucket; the scoped
    /// records went in the transaction that deleted the bucket). A crash in between leaves only
    /// such legacy records, which nothing seals under again.
    pub async fn forget_bucket(
        &self,
        store: &impl KeyStore,
        bucket: &BucketBinding,
    ) -> Result<(), CryptoError> {
        self.forget_cached(bucket)?;
        let legacy = store.key_records(LEGACY_PREFIX).await?;
        let names: Vec<String> = legacy
            .into_iter()
            .filter(|(_, bytes)| {
                serde_json::from_slice::<Record>(bytes)
                    .is_ok_and(|r| r.bucket == bucket.name && r.account == bucket.owner)
            })
            .map(|(name, _)| name)
            .collect();
        if !names.is_empty() {
            store.remove_key_records(names).await?;
        }
        Ok(())
    }

    fn forget_cached(&self, bucket: &BucketBinding) -> Result<(), CryptoError> {
        let incarnation = &bucket.incarnation;
        self.active
            .lock()
            .map_err(poisoned)?
            .retain(|(_, inc, _), _| inc != incarnation);
        self.opened
            .lock()
            .map_err(poisoned)?
            .retain(|_, o| o.bucket != bucket.name);
        Ok(())
    }
}

async fn read_record(store: &impl KeyStore, name: &str) -> Result<Option<Record>, CryptoError> {
    let found = store.key_records(name).await?;
    found
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, bytes)| serde_json::from_slice(&bytes).map_err(store_err))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_store::memory::MemoryKeyStore as Store;

    const A: &str = "000000000000";
    const B: &str = "111111111111";

    fn bucket(name: &str, owner: &str) -> BucketBinding {
        BucketBinding::for_tests(name, owner)
    }

    async fn setup(buckets: &[(&str, &str)]) -> (Store, Keyring) {
        let store = Store::memory();
        for (name, owner) in buckets {
            store.create_bucket(bucket(name, owner)).await.unwrap();
        }
        let keyring = Keyring::load(&store, DataKey::generate(), "us-east-1", true)
            .await
            .unwrap();
        (store, keyring)
    }

    async fn bucket_key_records(store: &Store) -> Vec<String> {
        let all = store.config("").await.unwrap();
        all.into_iter()
            .map(|(n, _)| n)
            .filter(|n| n.contains("bucket-key/"))
            .collect()
    }

    #[tokio::test]
    async fn one_kms_operation_per_bucket_key() {
        let (store, keyring) = setup(&[("b", A), ("b2", A)]).await;
        let kms = keyring.resolve(&store, A, Some("k1")).await.unwrap();
        let bk = BucketKeys::default();
        let before = keyring.operations();
        let (id, key) = bk.for_write(&store, &keyring, A, "b", &kms).await.unwrap();
        for _ in 0..10 {
            let again = bk.for_write(&store, &keyring, A, "b", &kms).await.unwrap();
            assert_eq!(again.0, id);
        }
        assert_eq!(keyring.operations() - before, 1);
        let other = bk.for_write(&store, &keyring, A, "b2", &kms).await.unwrap();
        assert_ne!(other.0, id, "one bucket key per bucket");
        // A fresh cache (a restart) opens the persisted key with one KMS operation.
        let fresh = BucketKeys::default();
        let before = keyring.operations();
        for _ in 0..2 {
            let k = fresh.for_read(&store, &keyring, A, "b", "k1", &id).await;
            assert_eq!(k.unwrap(), key);
        }
        assert_eq!(keyring.operations() - before, 1);
    }

    /// A bucket deleted and created again under the same name, by another account with a KMS key
    /// of the same id (or by the same account), gets a new bucket key: the old one, cached or
    /// stored, is gone with the old bucket.
    #[tokio::test]
    async fn a_recreated_bucket_gets_a_new_bucket_key() {
        let (store, keyring) = setup(&[("b", A)]).await;
        let bk = BucketKeys::default();
        let kms_a = keyring.resolve(&store, A, Some("k1")).await.unwrap();
        let (old, _) = bk
            .for_write(&store, &keyring, A, "b", &kms_a)
            .await
            .unwrap();
        assert_eq!(bucket_key_records(&store).await.len(), 1);

        let meta = store.bucket("b").await.unwrap().unwrap();
        store.delete_bucket(&meta).await.unwrap();
        bk.forget_bucket(&store, &meta).await.unwrap();
        assert!(
            bucket_key_records(&store).await.is_empty(),
            "dropped with the bucket"
        );

        for owner in [B, A] {
            store.create_bucket(bucket("b", owner)).await.unwrap();
            let kms = keyring.resolve(&store, owner, Some("k1")).await.unwrap();
            let (new, _) = bk
                .for_write(&store, &keyring, owner, "b", &kms)
                .await
                .unwrap();
            assert_ne!(new, old, "{owner} sealed under the previous bucket's key");
            let records = bucket_key_records(&store).await;
            assert_eq!(records.len(), 1, "{records:?}");
            assert!(records[0].ends_with(&new));
            // The old key is nowhere to be opened.
            let fresh = BucketKeys::default();
            assert!(
                fresh
                    .for_read(&store, &keyring, owner, "b", "k1", &old)
                    .await
                    .is_err()
            );
            let meta = store.bucket("b").await.unwrap().unwrap();
            store.delete_bucket(&meta).await.unwrap();
            bk.forget_bucket(&store, &meta).await.unwrap();
        }
    }

    /// A read refuses a bucket key that is not the object's: another account, bucket or KMS key,
    /// whether the key is cached or read from its record.
    #[tokio::test]
    async fn a_bucket_key_of_another_owner_is_refused() {
        let (store, keyring) = setup(&[("b", A), ("c", A)]).await;
        let kms = keyring.resolve(&store, A, Some("k1")).await.unwrap();
        keyring.resolve(&store, B, Some("k1")).await.unwrap();
        keyring.resolve(&store, A, Some("k2")).await.unwrap();
        let bk = BucketKeys::default();
        let (id, key) = bk.for_write(&store, &keyring, A, "b", &kms).await.unwrap();
        for cache in [&bk, &BucketKeys::default()] {
            for (account, bucket, kms_id) in [(B, "b", "k1"), (A, "c", "k1"), (A, "b", "k2")] {
                let r = cache
                    .for_read(&store, &keyring, account, bucket, kms_id, &id)
                    .await;
                // Under another bucket the record is not even found (it lives under b's prefix).
                assert!(
                    matches!(
                        r,
                        Err(CryptoError::BucketKeyMismatch | CryptoError::Integrity(_))
                    ),
                    "{account} {bucket} {kms_id}: {r:?}"
                );
            }
            let r = cache.for_read(&store, &keyring, A, "b", "k1", &id).await;
            assert_eq!(r.unwrap(), key);
        }
    }

    /// Records from before incarnations (`bucket-key/<id>`) are still read, with the same owner
    /// checks, and dropped with their bucket.
    #[tokio::test]
    async fn legacy_records_are_read_and_dropped_with_their_bucket() {
        let (store, keyring) = setup(&[("b", A), ("c", A)]).await;
        let kms = keyring.resolve(&store, A, Some("k1")).await.unwrap();
        let mut keys = Vec::new();
        for (bucket, id) in [
            ("b", "0123456789abcdef0123456789abcdef"),
            ("c", "fedcba9876543210fedcba9876543210"),
        ] {
            let key = DataKey::generate();
            let record = Record {
                bucket: bucket.into(),
                account: A.into(),
                kms_key_id: "k1".into(),
                incarnation: String::new(),
                sealed: envelope::seal(kms.material(), &key, &context(bucket, "k1", id)).unwrap(),
            };
            let mut json = serde_json::to_value(&record).unwrap();
            json.as_object_mut().unwrap().remove("incarnation"); // as written before
            let bytes = serde_json::to_vec(&json).unwrap();
            store
                .put_config(&format!("{LEGACY_PREFIX}{id}"), bytes)
                .await
                .unwrap();
            keys.push((bucket, id, key));
        }
        let bk = BucketKeys::default();
        for (bucket, id, key) in &keys {
            let opened = bk.for_read(&store, &keyring, A, bucket, "k1", id).await;
            assert_eq!(&opened.unwrap(), key);
            let fresh = BucketKeys::default();
            let other = fresh.for_read(&store, &keyring, B, bucket, "k1", id).await;
            assert!(matches!(other, Err(CryptoError::BucketKeyMismatch)));
        }
        let meta = store.bucket("b").await.unwrap().unwrap();
        store.delete_bucket(&meta).await.unwrap();
        bk.forget_bucket(&store, &meta).await.unwrap();
        let left = bucket_key_records(&store).await;
        assert_eq!(left, [format!("{LEGACY_PREFIX}{}", keys[1].1)]);
    }
}
