//! Encryption failures; `crate::error` maps each to S3's code and message.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CryptoError {
    /// A segment or sealed key failed authentication: tampering, truncation or the wrong key.
    #[error("authentication failed: {0}")]
    Integrity(&'static str),
    #[error("unsupported encrypted format version {0}")]
    UnsupportedFormat(u8),
    #[error("the master key does not match the one this data was written with")]
    WrongMasterKey,
    #[error("master key: {0}")]
    MasterKey(String),
    #[error("KMS key not found: {message}")]
    KmsNotFound { message: String },
    #[error("key store: {0}")]
    KeyStore(String),
}
