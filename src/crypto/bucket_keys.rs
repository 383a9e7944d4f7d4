//! S3 Bucket Keys: instead of one KMS operation per object, a bucket-level key is generated under
//! the KMS key (one KMS operation), reused to seal the data keys of that bucket's objects for a
//! bounded time, and cached once opened for reads. Bucket keys are persisted sealed under their
//! KMS key, so objects stay readable across restarts.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::envelope::{self, KeyContext, SealedKey};
use super::error::CryptoError;
use super::keys::DataKey;
use super::kms::{Keyring, KmsKey};
use crate::store::Store;

/// How long one bucket key keeps sealing new objects before a fresh one is made.
pub const BUCKET_KEY_LIFETIME: Duration = Duration::from_secs(15 * 60);
const RECORD_PREFIX: &str = "bucket-key/";

#[derive(Serialize, Deserialize)]
struct Record {
    bucket: String,
    account: String,
    kms_key_id: String,
    sealed: SealedKey,
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

type Active = HashMap<(String, String), (String, DataKey, Instant)>;

#[derive(Default)]
pub struct BucketKeys {
    /// (bucket, KMS key id) → the bucket key sealing new objects, and when it was made.
    active: Mutex<Active>,
    /// Bucket key id → key, for reads.
    opened: Mutex<HashMap<String, DataKey>>,
}

fn poisoned<T>(_: T) -> CryptoError {
    CryptoError::KeyStore("bucket key cache lock poisoned".into())
}

impl BucketKeys {
    /// The bucket key to seal a new object of `bucket` under `kms`; creating one costs one KMS
    /// operation, reusing one costs none.
    pub async fn for_write(
        &self,
        store: &Store,
        keyring: &Keyring,
        account: &str,
        bucket: &str,
        kms: &KmsKey,
    ) -> Result<(String, DataKey), CryptoError> {
        let slot = (bucket.to_string(), kms.id.clone());
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
            sealed,
        };
        let bytes =
            serde_json::to_vec(&record).map_err(|e| CryptoError::KeyStore(e.to_string()))?;
        store
            .put_config(&format!("{RECORD_PREFIX}{id}"), bytes)
            .await
            .map_err(|e| CryptoError::KeyStore(e.to_string()))?;
        self.opened
            .lock()
            .map_err(poisoned)?
            .insert(id.clone(), key.clone());
        self.active
            .lock()
            .map_err(poisoned)?
            .insert(slot, (id.clone(), key.clone(), Instant::now()));
        Ok((id, key))
    }

    /// The bucket key `id`, opened with its KMS key the first time (one KMS operation), cached after.
    pub async fn for_read(
        &self,
        store: &Store,
        keyring: &Keyring,
        id: &str,
    ) -> Result<DataKey, CryptoError> {
        if let Some(k) = self.opened.lock().map_err(poisoned)?.get(id) {
            return Ok(k.clone());
        }
        let name = format!("{RECORD_PREFIX}{id}");
        let records = store
            .config(&name)
            .await
            .map_err(|e| CryptoError::KeyStore(e.to_string()))?;
        let (_, bytes) = records
            .into_iter()
            .find(|(n, _)| *n == name)
            .ok_or(CryptoError::Integrity("bucket key record missing"))?;
        let rec: Record =
            serde_json::from_slice(&bytes).map_err(|e| CryptoError::KeyStore(e.to_string()))?;
        let kms = keyring
            .resolve(store, &rec.account, Some(&rec.kms_key_id))
            .await?;
        keyring.count_operation();
        let key = envelope::unseal(
            kms.material(),
            &rec.sealed,
            &context(&rec.bucket, &rec.kms_key_id, id),
        )?;
        self.opened
            .lock()
            .map_err(poisoned)?
            .insert(id.to_string(), key.clone());
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_kms_operation_per_bucket_key() {
        let store = Store::memory();
        let keyring = Keyring::load(&store, DataKey::generate(), "us-east-1", true)
            .await
            .unwrap();
        let kms = keyring
            .resolve(&store, "000000000000", Some("k1"))
            .await
            .unwrap();
        let bk = BucketKeys::default();
        let before = keyring.operations();
        let (id, key) = bk
            .for_write(&store, &keyring, "000000000000", "b", &kms)
            .await
            .unwrap();
        for _ in 0..10 {
            assert_eq!(
                bk.for_write(&store, &keyring, "000000000000", "b", &kms)
                    .await
                    .unwrap()
                    .0,
                id
            );
        }
        assert_eq!(keyring.operations() - before, 1);
        let other = bk
            .for_write(&store, &keyring, "000000000000", "b2", &kms)
            .await
            .unwrap();
        assert_ne!(other.0, id, "one bucket key per bucket");
        // A fresh cache (a restart) opens the persisted key with one KMS operation.
        let fresh = BucketKeys::default();
        let before = keyring.operations();
        assert_eq!(fresh.for_read(&store, &keyring, &id).await.unwrap(), key);
        assert_eq!(fresh.for_read(&store, &keyring, &id).await.unwrap(), key);
        assert_eq!(keyring.operations() - before, 1);
    }
}
