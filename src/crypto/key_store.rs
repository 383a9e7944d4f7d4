//! What crypto needs from the metadata store, as a trait the store implements: the `config`
//! records that hold sealed keys, and the identity of a bucket incarnation that bucket keys are
//! bound to. Crypto never names the store's types, so the store can seal records with crypto
//! without the two depending on each other.

use std::future::Future;

use super::error::CryptoError;

/// A bucket as bucket keys see it: one incarnation of a name, owned by one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketBinding {
    pub name: String,
    pub owner: String,
    /// The incarnation id: a bucket deleted and created again under the same name is another.
    pub incarnation: String,
    /// The prefix of config records that go with this incarnation (dropped with the bucket).
    pub record_prefix: String,
}

/// The key records of the metadata store. A failure is `CryptoError::KeyStore` with the cause.
pub trait KeyStore: Sync {
    /// Every key record whose name starts with `prefix`, with its name.
    fn key_records(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, Vec<u8>)>, CryptoError>> + Send;

    /// Writes (or replaces) one key record.
    fn put_key_record(
        &self,
        name: &str,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<(), CryptoError>> + Send;

    /// Removes key records by name.
    fn remove_key_records(
        &self,
        names: Vec<String>,
    ) -> impl Future<Output = Result<(), CryptoError>> + Send;

    /// The bucket named `name` as it is now, if it exists.
    fn bucket_binding(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<BucketBinding>, CryptoError>> + Send;

    /// Whether any object or upload record exists (the metadata format check at start-up).
    fn holds_object_records(&self) -> impl Future<Output = Result<bool, CryptoError>> + Send;
}

/// An in-memory key store for crypto's own tests, with the store's method names: crypto's tests
/// need no store. (`store::key_store` tests the real implementation.)
#[cfg(test)]
pub(crate) mod memory {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{BucketBinding, CryptoError, KeyStore};

    #[derive(Default)]
    pub struct MemoryKeyStore {
        records: Mutex<BTreeMap<String, Vec<u8>>>,
        buckets: Mutex<HashMap<String, BucketBinding>>,
        holds_objects: AtomicBool,
    }

    fn poisoned<T>(_: T) -> CryptoError {
        CryptoError::KeyStore("test key store lock poisoned".into())
    }

    impl BucketBinding {
        /// A bucket incarnation of its own (random), as a new bucket record would have.
        pub fn for_tests(name: &str, owner: &str) -> BucketBinding {
            let incarnation = hex::encode(&crate::crypto::DataKey::generate().as_bytes()[..16]);
            BucketBinding {
                name: name.into(),
                owner: owner.into(),
                record_prefix: format!("bucket/{incarnation}/"),
                incarnation,
            }
        }
    }

    impl MemoryKeyStore {
        pub fn memory() -> MemoryKeyStore {
            MemoryKeyStore::default()
        }

        pub async fn create_bucket(&self, bucket: BucketBinding) -> Result<(), CryptoError> {
            let mut buckets = self.buckets.lock().map_err(poisoned)?;
            buckets.insert(bucket.name.clone(), bucket);
            Ok(())
        }

        pub async fn bucket(&self, name: &str) -> Result<Option<BucketBinding>, CryptoError> {
            self.bucket_binding(name).await
        }

        /// Drops the bucket and its incarnation's records, as the store's delete does.
        pub async fn delete_bucket(&self, bucket: &BucketBinding) -> Result<(), CryptoError> {
            self.buckets.lock().map_err(poisoned)?.remove(&bucket.name);
            let mut records = self.records.lock().map_err(poisoned)?;
            records.retain(|name, _| !name.starts_with(&bucket.record_prefix));
            Ok(())
        }

        pub async fn config(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, CryptoError> {
            self.key_records(prefix).await
        }

        pub async fn put_config(&self, name: &str, value: Vec<u8>) -> Result<(), CryptoError> {
            self.put_key_record(name, value).await
        }

        /// From now on the store reports object records (a data dir with objects).
        pub fn add_object_record(&self) {
            self.holds_objects.store(true, Ordering::SeqCst);
        }
    }

    impl KeyStore for MemoryKeyStore {
        async fn key_records(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, CryptoError> {
            let records = self.records.lock().map_err(poisoned)?;
            Ok(records
                .range(prefix.to_string()..)
                .take_while(|(name, _)| name.starts_with(prefix))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect())
        }

        async fn put_key_record(&self, name: &str, value: Vec<u8>) -> Result<(), CryptoError> {
            let mut records = self.records.lock().map_err(poisoned)?;
            records.insert(name.to_string(), value);
            Ok(())
        }

        async fn remove_key_records(&self, names: Vec<String>) -> Result<(), CryptoError> {
            let mut records = self.records.lock().map_err(poisoned)?;
            for name in names {
                records.remove(&name);
            }
            Ok(())
        }

        async fn bucket_binding(&self, name: &str) -> Result<Option<BucketBinding>, CryptoError> {
            Ok(self.buckets.lock().map_err(poisoned)?.get(name).cloned())
        }

        async fn holds_object_records(&self) -> Result<bool, CryptoError> {
            Ok(self.holds_objects.load(Ordering::SeqCst))
        }
    }
}
