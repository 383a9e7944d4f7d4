//! Key material: data keys, the master key, and the key-encryption keys derived from it. Every key
//! type wipes itself on drop and never prints.

use std::path::Path;

use base64::Engine;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::error::CryptoError;

/// A 256-bit AES key.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct DataKey([u8; 32]);

impl DataKey {
    pub fn generate() -> DataKey {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        DataKey(k)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> DataKey {
        DataKey(bytes)
    }

    pub fn from_slice(bytes: &[u8]) -> Option<DataKey> {
        <[u8; 32]>::try_from(bytes).ok().map(DataKey)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn as_key(&self) -> &aes_gcm::Key<aes_gcm::Aes256Gcm> {
        (&self.0).into()
    }

    /// HMAC-SHA256 of `parts` (length-prefixed) under this key: derivations and verifiers.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC zero-pads keys shorter than its 64-byte block, so this is HMAC under the 32-byte
        // key, built without a fallible constructor.
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(&self.0);
        let mut m = <Hmac<Sha256> as KeyInit>::new(&block.into());
        block.zeroize();
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// A key for one purpose, derived from this one.
    pub fn derive(&self, purpose: &str) -> DataKey {
        DataKey(self.mac(&[b"sealstore/derive", purpose.as_bytes()]))
    }
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// The root of the key hierarchy: it seals SSE-S3 data keys (through a derived key) and the KMS
/// keyring. It lives only in the operator's key file (or `SEALSTORE_MASTER_KEY`).
#[derive(Clone, Debug)]
pub struct MasterKey(DataKey);

impl MasterKey {
    pub fn generate() -> MasterKey {
        MasterKey(DataKey::generate())
    }

    /// Parses base64 of 32 bytes (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<MasterKey, CryptoError> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::MasterKey("not base64".into()))?;
        DataKey::from_slice(&raw)
            .map(MasterKey)
            .ok_or_else(|| CryptoError::MasterKey(format!("must be 32 bytes, got {}", raw.len())))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
    }

    pub fn load(path: &Path) -> Result<MasterKey, CryptoError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CryptoError::MasterKey(format!("cannot read {}: {e}", path.display())))?;
        Self::from_base64(&text)
            .map_err(|e| CryptoError::MasterKey(format!("{}: {e}", path.display())))
    }

    /// Writes a new key file readable only by its owner.
    pub fn write_new(path: &Path) -> Result<MasterKey, CryptoError> {
        let key = MasterKey::generate();
        let io = |e: std::io::Error| {
            CryptoError::MasterKey(format!("cannot write {}: {e}", path.display()))
        };
        let mut opts = crate::fsmode::private_file_options();
        opts.write(true).create_new(true);
        let mut file = opts.open(path).map_err(io)?;
        std::io::Write::write_all(&mut file, format!("{}\n", key.to_base64()).as_bytes())
            .map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(key)
    }

    /// A value stored beside the data that proves, at start-up, that this is the right key
    /// without revealing anything about it.
    pub fn check_value(&self) -> [u8; 32] {
        self.0.mac(&[b"sealstore/master-key-check-value"])
    }

    /// The key-encryption key for one purpose (`sse-s3`, `keyring`).
    pub fn kek(&self, purpose: &str) -> DataKey {
        self.0.derive(purpose)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_is_hmac_sha256() {
        // RFC 4231 test case 2 uses a short key; here check against HMAC built the usual way.
        let k = DataKey::from_bytes([0x0b; 32]);
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&[0x0b; 32]).unwrap();
        m.update(&3u64.to_be_bytes());
        m.update(b"abc");
        let expected: [u8; 32] = m.finalize().into_bytes().into();
        assert_eq!(k.mac(&[b"abc"]), expected);
    }

    #[test]
    fn master_keys_parse_and_derive() {
        let k = MasterKey::generate();
        let again = MasterKey::from_base64(&format!("  {}\n", k.to_base64())).unwrap();
        assert_eq!(k.check_value(), again.check_value());
        assert_ne!(k.check_value(), MasterKey::generate().check_value());
        assert_ne!(k.kek("sse-s3"), k.kek("keyring"));
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        assert!(MasterKey::from_base64("***").is_err());
        assert_eq!(format!("{k:?}"), "MasterKey(DataKey(<redacted>))");
    }

    #[test]
    fn key_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let k = MasterKey::write_new(&path).unwrap();
        assert_eq!(
            MasterKey::load(&path).unwrap().check_value(),
            k.check_value()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(
            MasterKey::write_new(&path).is_err(),
            "never overwrites a key"
        );
    }
}
