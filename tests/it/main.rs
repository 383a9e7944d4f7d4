//! The one integration test binary: starts the real `sealstore` binary on `127.0.0.1:0` and drives
//! it with aws-sdk-s3, raw HTTP, and (through pytest) boto3 and the aws CLI.
//!
//! Run: `cargo test --test it` (add `-- --test-threads=2` on small machines).

#[cfg(test)]
mod bucket_lifecycle;
#[cfg(test)]
mod cli_startup;
#[cfg(test)]
mod clients;
#[cfg(test)]
mod common;
#[cfg(test)]
mod crash_multipart;
#[cfg(test)]
mod fuzz_requests;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod loadgen;
/// The load generator's source (`cargo run --example loadgen`), compiled in so `tests/it/loadgen.rs`
/// can drive it in-process.
#[cfg(test)]
#[path = "../../examples/loadgen.rs"]
#[allow(dead_code)]
mod loadgen_example;
#[cfg(test)]
mod metadata_at_rest;
#[cfg(test)]
mod metadata_tamper;
#[cfg(test)]
mod raw_auth;
#[cfg(test)]
mod raw_captures;
#[cfg(test)]
mod raw_http;
#[cfg(test)]
mod rotate_system_keys;
#[cfg(test)]
mod sdk_bucket_encryption;
#[cfg(test)]
mod sdk_buckets;
#[cfg(test)]
mod sdk_encryption;
#[cfg(test)]
mod sdk_errors;
#[cfg(test)]
mod sdk_integrity;
#[cfg(test)]
mod sdk_list;
#[cfg(test)]
mod sdk_multipart;
#[cfg(test)]
mod sdk_objects;
#[cfg(test)]
mod tls;
