//! Integrity of request bodies: every digest a request promises (Content-MD5, the
//! `x-amz-content-sha256` payload hash, one `x-amz-checksum-*` header or trailer) is computed in the
//! same streaming pass that stores the body, and checked before anything becomes visible. aws-chunked
//! bodies are decoded here, with their chunk and trailer signatures verified.

pub mod checksum;
pub mod chunked;
pub mod error;
pub mod verify;

pub use checksum::{ChecksumAlgorithm, Digester, Digests};
pub use error::IntegrityError;
pub use verify::{Expectations, RequestBody};
#[cfg(test)]
mod proptests;
