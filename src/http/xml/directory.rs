//! Directory buckets: CreateSession and ListDirectoryBuckets (their CreateBucketConfiguration
//! parts are in `buckets`).

use serde::Serialize;

#[derive(Serialize)]
#[serde(rename = "CreateSessionResult", rename_all = "PascalCase")]
pub struct CreateSessionResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub credentials: CredentialsXml,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialsXml {
    pub session_token: String,
    pub secret_access_key: String,
    pub access_key_id: String,
    pub expiration: String,
}

#[derive(Serialize)]
#[serde(rename = "ListAllMyDirectoryBucketsResult", rename_all = "PascalCase")]
pub struct ListDirectoryBucketsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub buckets: DirectoryBuckets,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DirectoryBuckets {
    pub bucket: Vec<DirectoryBucketEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DirectoryBucketEntry {
    pub name: String,
    pub creation_date: String,
    pub bucket_region: String,
    pub bucket_arn: String,
}
