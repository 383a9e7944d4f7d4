//! Encryption at rest. Every object body is stored encrypted; nothing but ciphertext reaches the
//! blob store. The full format is in `docs/format.md`; in short:
//!
//! - **Body**: a fresh random 256-bit data key per object (two for DSSE-KMS). The plaintext is cut
//!   into 64 KiB segments, each sealed with AES-256-GCM (one pass per data key) under a STREAM nonce
//!   (7-byte random prefix ‖ 32-bit segment index ‖ last-segment flag) behind a 16-byte versioned
//!   header ([`segment`]). Range reads open only the segments they touch (`object_io::stream`
//!   streams blobs through it).
//! - **Data keys** are stored only sealed (AES-256-GCM, random nonce) under a key-encryption key,
//!   with associated data = purpose ‖ bucket ‖ object key ‖ blob id ‖ KMS encryption context, all
//!   length-prefixed ([`envelope`]): a sealed key moved to another object does not open.
//! - **Key-encryption keys** per mode ([`sse`]): SSE-S3 — a key derived (HMAC-SHA256) from the
//!   master key; SSE-KMS — the KMS key's material; DSSE-KMS — the KMS key, once per layer with
//!   distinct purposes; SSE-C — the customer's key, never stored (a salted HMAC verifier is, [`ssec`]).
//! - **Master key** (`--master-key-file`, `SEALSTORE_MASTER_KEY`, or generated into the data dir):
//!   seals the three system keys — the SSE-S3 key-encryption key, the KMS keyring key and the
//!   metadata key — in one record with its check value ([`system`]), so a wrong master key fails at
//!   start-up and master-key rotation re-seals one record atomically. The keyring key seals each
//!   KMS key's material ([`kms`]); the metadata key seals the ETags and checksums of object records
//!   and authenticates every record ([`records`], `store::sealed`).

pub mod bucket_keys;
pub mod envelope;
pub mod error;
pub mod key_store;
pub mod keys;
pub mod kms;
pub mod records;
pub mod segment;
pub mod sse;
pub mod ssec;
pub mod system;

pub use error::CryptoError;
pub use key_store::{BucketBinding, KeyStore};
pub use keys::{DataKey, MasterKey};
pub use sse::{Crypto, Encryption, ObjectRef, Plan, SseAlgorithm, SseRequest};
