//! SSE-C: the customer's key (read from the request by `ops::sse_request`). The key seals the
//! object's data key and is never stored; a salted HMAC of it (the verifier) recognises it later.

use base64::Engine;
use md5::{Digest, Md5};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::keys::DataKey;

/// A customer-provided key, with the base64 MD5 the client sent (echoed in responses).
#[derive(Debug, Clone)]
pub struct CustomerKey {
    pub key: DataKey,
    pub md5_base64: String,
}

/// What is stored to recognise a customer key: a random salt and HMAC(key, salt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verifier {
    pub salt: [u8; 16],
    pub mac: [u8; 32],
}

impl CustomerKey {
    /// The key from its raw bytes (256 bits, else `None`), with the base64 MD5 S3 compares the
    /// client's against.
    pub fn from_bytes(raw: &[u8]) -> Option<CustomerKey> {
        let key = DataKey::from_slice(raw)?;
        let md5_base64 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(raw));
        Some(CustomerKey { key, md5_base64 })
    }

    pub fn verifier(&self) -> Verifier {
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Verifier {
            salt,
            mac: self.key.mac(&[b"sealstore/sse-c-verifier", &salt]),
        }
    }

    pub fn matches(&self, v: &Verifier) -> bool {
        bool::from(
            self.key
                .mac(&[b"sealstore/sse-c-verifier", &v.salt])
                .ct_eq(&v.mac),
        )
    }
}

/// The verifier of `k` recognises `k` and not another key (a test check, also used where the key
/// is read from request headers).
#[cfg(test)]
pub(crate) fn assert_verifier_recognises_only(k: &CustomerKey) {
    let v = k.verifier();
    assert!(k.matches(&v));
    let other = CustomerKey {
        key: DataKey::generate(),
        md5_base64: String::new(),
    };
    assert!(!other.matches(&v));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_recognises_only_its_key() {
        let k = CustomerKey::from_bytes(b"0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(k.md5_base64, "hRasmdxgYDKV3nvbahU1MA==");
        assert_verifier_recognises_only(&k);
        assert!(CustomerKey::from_bytes(b"short").is_none());
    }
}
