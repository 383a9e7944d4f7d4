//! sealstore: an S3-compatible object store.
//!
//! Layout (see `docs/architecture.md`):
//! - [`server`] runs the axum app over the shared [`state::AppState`]; [`http`] routes each
//!   request to one [`http::router::Endpoint`], parses headers and renders XML;
//! - [`auth`] verifies SigV4/SigV2; [`ops`] has one handler per S3 operation;
//! - [`object_io`] is the single write path and read path of object bytes;
//! - [`store`] keeps metadata (redb or memory) and blobs;
//! - [`error`] is the one place errors become S3 error responses;
//! - [`fsmode`] makes what is written to disk owner-only;
//! - [`allocator`] bounds glibc malloc's arenas for the server process.

pub mod allocator;
pub mod auth;
pub mod byte_range;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod error;
pub mod faults;
pub mod fsmode;
pub mod header_names;
pub mod http;
pub mod integrity;
pub mod object_io;
pub mod ops;
#[cfg(test)]
mod proptest_support;
pub mod server;
pub mod state;
pub mod store;
#[cfg(test)]
mod test_headers;
pub mod tls;
pub mod xml_text;
