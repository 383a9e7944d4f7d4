//! The store's side of `crypto::KeyStore`: key records live in the `config` table, and a bucket
//! key is bound to the bucket record's incarnation.

use crate::crypto::CryptoError;
use crate::crypto::key_store::{BucketBinding, KeyStore};

use super::{BucketMeta, Store, StoreError};

fn key_store(e: StoreError) -> CryptoError {
    CryptoError::KeyStore(e.to_string())
}

impl BucketMeta {
    /// This bucket incarnation, as bucket keys are bound to it.
    pub fn key_binding(&self) -> BucketBinding {
        BucketBinding {
            name: self.name.clone(),
            owner: self.owner.clone(),
            incarnation: self.incarnation_id(),
            record_prefix: self.scoped_config_prefix(),
        }
    }
}

impl KeyStore for Store {
    async fn key_records(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, CryptoError> {
        self.config(prefix).await.map_err(key_store)
    }

    async fn put_key_record(&self, name: &str, value: Vec<u8>) -> Result<(), CryptoError> {
        self.put_config(name, value).await.map_err(key_store)
    }

    async fn remove_key_records(&self, names: Vec<String>) -> Result<(), CryptoError> {
        self.remove_config(names).await.map_err(key_store)
    }

    async fn bucket_binding(&self, name: &str) -> Result<Option<BucketBinding>, CryptoError> {
        Ok(self
            .bucket(name)
            .await
            .map_err(key_store)?
            .map(|b| b.key_binding()))
    }

    async fn holds_object_records(&self) -> Result<bool, CryptoError> {
        self.holds_records().await.map_err(key_store)
    }
}
