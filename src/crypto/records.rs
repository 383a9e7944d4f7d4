//! Metadata records at rest: values computed from an object's plaintext (ETags that are MD5s,
//! checksums) are sealed, and every record is authenticated, so a stolen `meta.redb` reveals none of
//! them and an edited one is refused rather than served (`docs/format.md`, "Metadata records").
//!
//! Both keys derive from the metadata key, a system key sealed by the master key beside the SSE-S3
//! key-encryption key ([`super::system`]); SSE-C records seal their checksums under a key derived
//! from the customer's key instead, so only a request that carries that key can read them.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::error::CryptoError;
use super::keys::DataKey;
use super::ssec::CustomerKey;

/// A value sealed with AES-256-GCM (random nonce) under a record key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedValue {
    pub nonce: [u8; 12],
    /// The value and the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

/// The two keys of the metadata records, derived from the metadata system key.
pub struct RecordKeys {
    seal: DataKey,
    mac: DataKey,
}

/// Associated data / MAC prefix: a version tag, then every part length-prefixed.
fn framed(tag: &[u8], binding: &[&[u8]]) -> Vec<u8> {
    let mut out = tag.to_vec();
    for part in binding {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part);
    }
    out
}

/// Seals `plain` under `key`, bound to `binding` (the record's kind and place).
pub fn seal_with(
    key: &DataKey,
    binding: &[&[u8]],
    plain: &[u8],
) -> Result<SealedValue, CryptoError> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let aad = framed(b"sealstore-record-secrets-v1", binding);
    let ciphertext = Aes256Gcm::new(key.as_key())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Integrity("cannot seal a record value"))?;
    Ok(SealedValue { nonce, ciphertext })
}

/// Opens a value sealed by [`seal_with`] with the same key and binding.
pub fn open_with(
    key: &DataKey,
    binding: &[&[u8]],
    sealed: &SealedValue,
) -> Result<Vec<u8>, CryptoError> {
    let aad = framed(b"sealstore-record-secrets-v1", binding);
    Aes256Gcm::new(key.as_key())
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Integrity("sealed record value failed authentication"))
}

/// The key an SSE-C record's checksums are sealed under: only the customer's key opens them.
pub fn customer_key(c: &CustomerKey) -> DataKey {
    c.key.derive("sealstore/record-secrets/sse-c")
}

impl RecordKeys {
    pub fn new(metadata_key: &DataKey) -> RecordKeys {
        RecordKeys {
            seal: metadata_key.derive("sealstore/records/seal-v1"),
            mac: metadata_key.derive("sealstore/records/mac-v1"),
        }
    }

    pub fn seal(&self, binding: &[&[u8]], plain: &[u8]) -> Result<SealedValue, CryptoError> {
        seal_with(&self.seal, binding, plain)
    }

    pub fn open(&self, binding: &[&[u8]], sealed: &SealedValue) -> Result<Vec<u8>, CryptoError> {
        open_with(&self.seal, binding, sealed)
    }

    /// HMAC-SHA256 of a record's canonical bytes and its binding.
    pub fn mac(&self, binding: &[&[u8]], record: &[u8]) -> [u8; 32] {
        let framed = framed(b"sealstore-record-mac-v1", binding);
        self.mac.mac(&[&framed, record])
    }

    /// Whether `mac` authenticates `record` at `binding` (constant time).
    pub fn verify(&self, binding: &[&[u8]], record: &[u8], mac: &[u8; 32]) -> bool {
        bool::from(self.mac(binding, record).ct_eq(mac))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_open_only_at_their_binding_and_macs_bind_the_place() {
        let keys = RecordKeys::new(&DataKey::generate());
        let s = keys.seal(&[b"object", b"b", b"k"], b"secret").unwrap();
        assert_eq!(keys.open(&[b"object", b"b", b"k"], &s).unwrap(), b"secret");
        assert!(keys.open(&[b"object", b"b", b"k2"], &s).is_err());
        assert!(keys.open(&[b"object", b"bk"], &s).is_err());
        let other = RecordKeys::new(&DataKey::generate());
        assert!(other.open(&[b"object", b"b", b"k"], &s).is_err());
        let mac = keys.mac(&[b"b", b"k"], b"record");
        assert!(keys.verify(&[b"b", b"k"], b"record", &mac));
        assert!(!keys.verify(&[b"b", b"k2"], b"record", &mac));
        assert!(!keys.verify(&[b"b", b"k"], b"record2", &mac));
        assert!(!other.verify(&[b"b", b"k"], b"record", &mac));
    }
}
