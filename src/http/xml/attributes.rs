//! GetObjectAttributes: the response document. Every element is optional: S3 returns only the
//! attributes `x-amz-object-attributes` asked for, in this order (ETag, Checksum, ObjectParts,
//! StorageClass, ObjectSize; the AWS API reference's response syntax).

use serde::Serialize;

use super::elements::ChecksumXml;

#[derive(Serialize)]
#[serde(rename = "GetObjectAttributesResponse", rename_all = "PascalCase")]
pub struct GetObjectAttributesResponse {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    /// Unquoted, unlike every other ETag S3 sends (HeadObject, ListParts, Complete): boto3's
    /// `get_object_attributes()["ETag"]` is `af3c…-3` where `head_object()["ETag"]` is
    /// `"af3c…-3"`.
    #[serde(rename = "ETag", skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ObjectChecksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_parts: Option<ObjectParts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_size: Option<u64>,
}

/// `<Checksum>`: the object's checksum (a COMPOSITE one without the `-<parts>` suffix HeadObject
/// shows) and its type.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectChecksum {
    #[serde(rename = "$value")]
    pub value: ChecksumXml,
    pub checksum_type: &'static str,
}

/// `<ObjectParts>` of a multipart object. Only `PartsCount` when S3 lists no parts (a general
/// purpose bucket's object without COMPOSITE part checksums); otherwise a page of parts as
/// ListParts pages them (the page fields are all set or all unset: quick-xml cannot flatten a
/// nested struct).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectParts {
    /// `TotalPartsCount` in the SDK models, `PartsCount` on the wire.
    pub parts_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_number_marker: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_part_number_marker: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_parts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_truncated: Option<bool>,
    #[serde(rename = "Part")]
    pub parts: Vec<ObjectPart>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ObjectPart {
    pub part_number: u32,
    pub size: u64,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumXml>,
}
