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
    /// The data was sealed under a master key that is nowhere to be found: starting with a new
    /// one would only leave a useless key file behind.
    #[error("master key missing: {0}")]
    MasterKeyMissing(String),
    #[error("KMS key not found: {message}")]
    KmsNotFound { message: String },
    /// A bucket key named by an object record is not that object's: another account, bucket
    /// (incarnation) or KMS key.
    #[error("the bucket key does not belong to this object's account, bucket and KMS key")]
    BucketKeyMismatch,
    /// The data dir holds object or upload records of metadata format 1 (unsealed checksums, no
    /// MAC), written before sealstore authenticated its records.
    #[error(
        "this data dir was written by an older sealstore (metadata format 1: object records neither sealed nor authenticated); this version serves only format 2. Copy the objects out with the older version (e.g. aws s3 sync) and into a new data dir"
    )]
    OldFormat,
    /// A `rotate-system-keys` run was interrupted: records may be under either generation.
    #[error(
        "a system-key rotation is unfinished (it was interrupted): run `sealstore rotate-system-keys` again to complete it before serving"
    )]
    RotationPending,
    #[error("key store: {0}")]
    KeyStore(String),
}
