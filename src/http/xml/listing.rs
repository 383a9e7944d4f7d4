//! ListObjects (v1), ListObjectsV2 and ListObjectVersions.

use serde::Serialize;

use super::elements::{CommonPrefix, Owner};

/// ListObjectsV2's result: a page of keys and common prefixes, resumed by an opaque token.
#[derive(Serialize)]
#[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
pub struct ListBucketResultV2 {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub name: String,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub max_keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub key_count: usize,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_continuation_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_after: Option<String>,
    pub contents: Vec<Contents>,
    pub common_prefixes: Vec<CommonPrefix>,
}

/// One object of a ListObjects page.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Contents {
    pub key: String,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    pub storage_class: &'static str,
}

/// ListObjects (v1)'s result, resumed by a marker (a key).
#[derive(Serialize)]
#[serde(rename = "ListBucketResult", rename_all = "PascalCase")]
pub struct ListBucketResultV1 {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub name: String,
    pub prefix: String,
    pub marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
    pub max_keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub contents: Vec<Contents>,
    pub common_prefixes: Vec<CommonPrefix>,
}

/// One object version of a ListObjectVersions page.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Version {
    pub key: String,
    pub version_id: &'static str,
    pub is_latest: bool,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: u64,
    pub owner: Owner,
    pub storage_class: &'static str,
}

/// ListObjectVersions' result: every key has one version, "null".
#[derive(Serialize)]
#[serde(rename = "ListVersionsResult", rename_all = "PascalCase")]
pub struct ListVersionsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub name: String,
    pub prefix: String,
    pub key_marker: String,
    pub version_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_version_id_marker: Option<&'static str>,
    pub max_keys: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    #[serde(rename = "Version")]
    pub versions: Vec<Version>,
    pub common_prefixes: Vec<CommonPrefix>,
}
