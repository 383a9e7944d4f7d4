//! The one integration test binary: starts the real `sealstore` binary on `127.0.0.1:0` and drives
//! it with aws-sdk-s3 and raw HTTP (boto3 and the aws CLI: tests/clients, run by tests/run).
//!
//! Run: `cargo test --test it`; the long tests are `#[ignore]`d (full tier): `-- --ignored`.

#[cfg(test)]
mod bucket_lifecycle;
#[cfg(test)]
mod cli_startup;
#[cfg(test)]
mod common;
#[cfg(test)]
mod crash_multipart;
#[cfg(test)]
mod fuzz_requests;
#[cfg(test)]
mod limits;
#[cfg(test)]
mod metadata_at_rest;
#[cfg(test)]
mod metadata_tamper;
#[cfg(test)]
mod object_store_modes;
#[cfg(test)]
mod raw_auth;
#[cfg(test)]
mod raw_captures;
#[cfg(test)]
mod raw_http;
#[cfg(test)]
mod rotate_system_keys;
#[cfg(test)]
mod sdk_attributes;
#[cfg(test)]
mod sdk_bucket_encryption;
#[cfg(test)]
mod sdk_buckets;
#[cfg(test)]
mod sdk_conditional;
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
mod sdk_read_sse_headers;
#[cfg(test)]
mod sdk_tagging;
#[cfg(test)]
mod sdk_unsupported;
#[cfg(test)]
mod sdk_versioning;
#[cfg(test)]
mod tls;
