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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DataKey;
    use crate::crypto::envelope::{self, KeyContext};
    use crate::crypto::records::RecordKeys;
    use crate::store::{BodyRef, ObjectAddr, ObjectMeta, WriteCondition};

    /// Crypto's view of the store: key records, bucket incarnations (their records dropped with
    /// the bucket) and whether object records exist (the format-1 check at start-up).
    #[tokio::test]
    async fn store_serves_crypto_its_records_and_buckets() {
        let store = Store::memory();
        store.set_record_keys(RecordKeys::new(&DataKey::generate()));
        assert!(!store.holds_object_records().await.unwrap());
        let bucket = BucketMeta::for_tests("b", "000000000000");
        store
            .create_bucket(bucket.clone(), usize::MAX)
            .await
            .unwrap();
        let binding = store.bucket_binding("b").await.unwrap().unwrap();
        assert_eq!(binding, bucket.key_binding());
        assert_eq!(store.bucket_binding("c").await.unwrap(), None);

        let scoped = format!("{}bucket-key/1", binding.record_prefix);
        store.put_key_record(&scoped, b"x".to_vec()).await.unwrap();
        store.put_key_record("kms/1", b"y".to_vec()).await.unwrap();
        let found = store.key_records(&binding.record_prefix).await.unwrap();
        assert_eq!(found, vec![(scoped.clone(), b"x".to_vec())]);

        let ctx = KeyContext {
            purpose: "test",
            bucket: "b",
            key: "k",
            object_id: "",
            extra: "",
        };
        let meta = ObjectMeta {
            size: 0,
            etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
            last_modified_millis: 1,
            content_headers: Vec::new(),
            user_metadata: Vec::new(),
            checksum: None,
            composite_checksum: false,
            tags: Vec::new(),
            encryption: crate::crypto::Encryption::SseS3 {
                key: envelope::seal(&DataKey::generate(), &DataKey::generate(), &ctx).unwrap(),
            },
            body: BodyRef::Empty,
            seal: None,
            version_id: None,
            seq: 0,
        };
        let addr = ObjectAddr {
            bucket: "b",
            key: "k",
        };
        store
            .commit_object(addr, meta, None, None, &WriteCondition::None)
            .await
            .unwrap();
        assert!(store.holds_object_records().await.unwrap());
        store
            .delete_object(addr, &WriteCondition::None)
            .await
            .unwrap();

        store.delete_bucket(&bucket).await.unwrap();
        assert!(
            store
                .key_records(&binding.record_prefix)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .remove_key_records(vec!["kms/1".into()])
            .await
            .unwrap();
        assert!(store.key_records("kms/").await.unwrap().is_empty());
    }
}
