//! DeleteObjects: the request document and the result.

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct Delete {
    #[serde(rename = "Object", default)]
    pub objects: Vec<ObjectIdentifier>,
    #[serde(rename = "Quiet", default)]
    pub quiet: Option<bool>,
}

#[derive(Deserialize)]
pub struct ObjectIdentifier {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "VersionId")]
    pub version_id: Option<String>,
    /// The entry's condition (S3's conditional deletes: the `If-Match` of this key).
    #[serde(rename = "ETag")]
    pub etag: Option<String>,
    /// Directory buckets' conditions on the last-modified time and size: refused (501).
    #[serde(rename = "LastModifiedTime")]
    pub last_modified_time: Option<String>,
    #[serde(rename = "Size")]
    pub size: Option<String>,
}

#[derive(Serialize)]
#[serde(rename = "DeleteResult", rename_all = "PascalCase")]
pub struct DeleteResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub deleted: Vec<Deleted>,
    #[serde(rename = "Error")]
    pub errors: Vec<DeleteError>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deleted {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `true` when the delete added a delete marker or removed one by id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker: Option<bool>,
    /// The id of the delete marker the delete added.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_marker_version_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteError {
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    pub code: String,
    pub message: String,
}
