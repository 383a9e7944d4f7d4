//! The multipart upload API's documents: Initiate, UploadPartCopy's result, Complete (request and
//! result), ListParts and ListMultipartUploads.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::elements::{ChecksumXml, CommonPrefix, Owner};
use crate::integrity::checksum::ChecksumAlgorithm;

#[derive(Serialize)]
#[serde(rename = "InitiateMultipartUploadResult", rename_all = "PascalCase")]
pub struct InitiateResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

#[derive(Serialize)]
#[serde(rename = "CopyPartResult", rename_all = "PascalCase")]
pub struct CopyPartResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub last_modified: String,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumXml>,
}

#[derive(Deserialize, Debug)]
pub struct CompleteRequest {
    #[serde(rename = "Part", default)]
    pub parts: Vec<CompletedPart>,
}

/// A `Part` of a CompleteMultipartUpload document. Its Deserialize is written out (below) only
/// so that the checksum elements are read by their one declared name; it does what
/// `#[derive(Deserialize)]` did with five optional fields: a repeated element is an error, an
/// unknown one is skipped, `PartNumber` is required.
#[derive(Debug)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: Option<String>,
    /// The checksum elements the part carried, at most one per algorithm.
    pub checksums: Vec<ChecksumXml>,
}

impl CompletedPart {
    /// The part's checksum in `alg`, trimmed.
    pub fn checksum(&self, alg: ChecksumAlgorithm) -> Option<&str> {
        self.checksums
            .iter()
            .find(|c| c.algorithm == alg)
            .map(|c| c.value.trim())
    }
}

const PART_FIELDS: &[&str] = &[
    "PartNumber",
    "ETag",
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
];

enum PartField {
    Number,
    ETag,
    Checksum(ChecksumAlgorithm),
    Other,
}

impl<'de> Deserialize<'de> for PartField {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = PartField;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<PartField, E> {
                Ok(match name {
                    "PartNumber" => PartField::Number,
                    "ETag" => PartField::ETag,
                    _ => ChecksumAlgorithm::ALL
                        .into_iter()
                        .find(|a| a.xml_element() == name)
                        .map_or(PartField::Other, PartField::Checksum),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

impl<'de> Deserialize<'de> for CompletedPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PartVisitor;
        impl<'de> Visitor<'de> for PartVisitor {
            type Value = CompletedPart;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("struct CompletedPart")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CompletedPart, A::Error> {
                let mut number = None;
                let mut etag: Option<Option<String>> = None;
                let mut checksums: Vec<ChecksumXml> = Vec::new();
                // Checksum elements read, values or not (`xsi:nil` reads as none).
                let mut seen: Vec<ChecksumAlgorithm> = Vec::new();
                while let Some(field) = map.next_key::<PartField>()? {
                    match field {
                        PartField::Number if number.is_some() => {
                            return Err(de::Error::duplicate_field("PartNumber"));
                        }
                        PartField::Number => number = Some(map.next_value::<u32>()?),
                        PartField::ETag if etag.is_some() => {
                            return Err(de::Error::duplicate_field("ETag"));
                        }
                        PartField::ETag => etag = Some(map.next_value()?),
                        PartField::Checksum(a) if seen.contains(&a) => {
                            return Err(de::Error::duplicate_field(a.xml_element()));
                        }
                        PartField::Checksum(a) => {
                            seen.push(a);
                            if let Some(value) = map.next_value::<Option<String>>()? {
                                checksums.push(ChecksumXml::new(a, value));
                            }
                        }
                        PartField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(CompletedPart {
                    number: number.ok_or_else(|| de::Error::missing_field("PartNumber"))?,
                    etag: etag.flatten(),
                    checksums,
                })
            }
        }
        deserializer.deserialize_struct("CompletedPart", PART_FIELDS, PartVisitor)
    }
}

#[derive(Serialize)]
#[serde(rename = "CompleteMultipartUploadResult", rename_all = "PascalCase")]
pub struct CompleteResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub location: String,
    pub bucket: String,
    pub key: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumXml>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartEntry {
    #[serde(rename = "PartNumber")]
    pub number: u32,
    pub last_modified: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub size: u64,
    #[serde(rename = "$value", skip_serializing_if = "Option::is_none")]
    pub checksum: Option<ChecksumXml>,
}

#[derive(Serialize)]
#[serde(rename = "ListPartsResult", rename_all = "PascalCase")]
pub struct ListPartsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub part_number_marker: u32,
    pub next_part_number_marker: u32,
    pub max_parts: usize,
    pub is_truncated: bool,
    #[serde(rename = "Part")]
    pub parts: Vec<PartEntry>,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UploadEntry {
    pub key: String,
    pub upload_id: String,
    pub initiator: Owner,
    pub owner: Owner,
    pub storage_class: &'static str,
    pub initiated: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename = "ListMultipartUploadsResult", rename_all = "PascalCase")]
pub struct ListUploadsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub bucket: String,
    pub key_marker: String,
    pub upload_id_marker: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_key_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_upload_id_marker: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    pub prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding_type: Option<&'static str>,
    pub max_uploads: usize,
    pub is_truncated: bool,
    #[serde(rename = "Upload")]
    pub uploads: Vec<UploadEntry>,
    pub common_prefixes: Vec<CommonPrefix>,
}
