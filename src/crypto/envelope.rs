//! Sealing data keys under key-encryption keys. A sealed key opens only under the same KEK *and*
//! the same context — purpose, bucket, object key, the object's blob id and any KMS encryption
//! context — so a sealed key copied onto another object fails to open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::error::CryptoError;
use super::keys::DataKey;

/// A data key encrypted (AES-256-GCM, random nonce) under a KEK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    pub nonce: [u8; 12],
    /// 32 bytes of key + 16 bytes of tag.
    pub ciphertext: Vec<u8>,
}

/// What a sealed key is bound to (the AEAD associated data).
#[derive(Debug, Clone)]
pub struct KeyContext<'a> {
    /// `sse-s3`, `sse-kms`, `dsse-kms/1`, `dsse-kms/2`, `sse-c`, `bucket-key`, `kms-key`.
    pub purpose: &'a str,
    pub bucket: &'a str,
    pub key: &'a str,
    /// The id of the blob the data key encrypts (unique per write).
    pub object_id: &'a str,
    /// The KMS encryption context as the client sent it, if any.
    pub extra: &'a str,
}

impl KeyContext<'_> {
    fn associated_data(&self) -> Vec<u8> {
        let mut out = b"sealstore-envelope-v1".to_vec();
        for part in [
            self.purpose,
            self.bucket,
            self.key,
            self.object_id,
            self.extra,
        ] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

pub fn seal(
    kek: &DataKey,
    data_key: &DataKey,
    ctx: &KeyContext<'_>,
) -> Result<SealedKey, CryptoError> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let aad = ctx.associated_data();
    let ciphertext = Aes256Gcm::new(kek.as_key())
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: data_key.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Integrity("cannot seal key"))?;
    Ok(SealedKey { nonce, ciphertext })
}

pub fn unseal(
    kek: &DataKey,
    sealed: &SealedKey,
    ctx: &KeyContext<'_>,
) -> Result<DataKey, CryptoError> {
    let aad = ctx.associated_data();
    let mut plain = Aes256Gcm::new(kek.as_key())
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Integrity("sealed key failed authentication"))?;
    let key = DataKey::from_slice(&plain)
        .ok_or(CryptoError::Integrity("sealed key has the wrong length"));
    zeroize::Zeroize::zeroize(&mut plain);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(bucket: &'a str, key: &'a str, id: &'a str) -> KeyContext<'a> {
        KeyContext {
            purpose: "sse-s3",
            bucket,
            key,
            object_id: id,
            extra: "",
        }
    }

    #[test]
    fn seal_and_unseal_bound_to_context() {
        let kek = DataKey::generate();
        let dk = DataKey::generate();
        let sealed = seal(&kek, &dk, &ctx("b", "k", "id1")).unwrap();
        assert_eq!(unseal(&kek, &sealed, &ctx("b", "k", "id1")).unwrap(), dk);
        assert!(
            unseal(&kek, &sealed, &ctx("b", "k", "id2")).is_err(),
            "swapped between objects"
        );
        assert!(unseal(&kek, &sealed, &ctx("b", "k2", "id1")).is_err());
        assert!(unseal(&kek, &sealed, &ctx("b2", "k", "id1")).is_err());
        let other = KeyContext {
            purpose: "sse-c",
            ..ctx("b", "k", "id1")
        };
        assert!(unseal(&kek, &sealed, &other).is_err());
        assert!(unseal(&DataKey::generate(), &sealed, &ctx("b", "k", "id1")).is_err());
        // Length-prefixing keeps ("ab","c") and ("a","bc") apart.
        let s2 = seal(&kek, &dk, &ctx("ab", "c", "x")).unwrap();
        assert!(unseal(&kek, &s2, &ctx("a", "bc", "x")).is_err());
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert!(unseal(&kek, &tampered, &ctx("b", "k", "id1")).is_err());
    }
}
