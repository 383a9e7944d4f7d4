//! PutBucketEncryption's ServerSideEncryptionConfiguration document (strict: an unknown element
//! is MalformedXML).

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationXml {
    #[serde(rename = "@xmlns", default)]
    pub _xmlns: Option<String>,
    #[serde(rename = "Rule", default)]
    pub rules: Vec<RuleXml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleXml {
    #[serde(rename = "ApplyServerSideEncryptionByDefault")]
    pub apply: Option<ApplyXml>,
    #[serde(rename = "BucketKeyEnabled")]
    pub bucket_key_enabled: Option<bool>,
    #[serde(rename = "BlockedEncryptionTypes")]
    pub blocked: Option<BlockedXml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyXml {
    #[serde(rename = "SSEAlgorithm")]
    pub sse_algorithm: Option<String>,
    #[serde(rename = "KMSMasterKeyID")]
    pub kms_master_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockedXml {
    #[serde(rename = "EncryptionType", default)]
    pub types: Vec<String>,
}
