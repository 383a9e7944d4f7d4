//! CreateBucket's configuration (general purpose and directory buckets), ListBuckets and
//! GetBucketLocation.

use serde::{Deserialize, Serialize};

use super::elements::Owner;

#[derive(Deserialize, Default)]
pub struct CreateBucketConfiguration {
    #[serde(rename = "LocationConstraint")]
    pub location_constraint: Option<String>,
    /// Directory buckets: the zone.
    #[serde(rename = "Location")]
    pub location: Option<LocationXml>,
    /// Directory buckets: `Type` `Directory` and the data redundancy.
    #[serde(rename = "Bucket")]
    pub bucket: Option<BucketInfoXml>,
}

/// `Location` and `Bucket` of a directory bucket's CreateBucketConfiguration.
#[derive(Deserialize, Debug, Default)]
pub struct LocationXml {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(rename = "Name")]
    pub name: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
pub struct BucketInfoXml {
    #[serde(rename = "Type")]
    pub kind: Option<String>,
    #[serde(rename = "DataRedundancy")]
    pub data_redundancy: Option<String>,
}

#[derive(Serialize)]
#[serde(rename = "ListAllMyBucketsResult", rename_all = "PascalCase")]
pub struct ListAllMyBucketsResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    pub owner: Owner,
    pub buckets: Buckets,
    /// Present when more buckets follow this page (S3's 2024 pagination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continuation_token: Option<String>,
    /// The request's `prefix`, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Buckets {
    pub bucket: Vec<BucketEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BucketEntry {
    pub name: String,
    pub creation_date: String,
    pub bucket_region: String,
}

#[derive(Serialize)]
#[serde(rename = "LocationConstraint")]
pub struct LocationConstraint {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "$text")]
    pub value: String,
}
