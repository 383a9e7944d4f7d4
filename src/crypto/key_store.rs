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
