//! PutBucketVersioning's and GetBucketVersioning's VersioningConfiguration document.

use serde::{Deserialize, Serialize};

/// The request (strict: an unknown element is MalformedXML).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersioningConfigurationXml {
    #[serde(rename = "@xmlns", default)]
    pub _xmlns: Option<String>,
    #[serde(rename = "Status")]
    pub status: Option<String>,
    #[serde(rename = "MfaDelete", alias = "MFADelete")]
    pub mfa_delete: Option<String>,
}

/// The response: no `Status` for a bucket never versioned; `MfaDelete` only for a bucket
/// configured with MFA delete (never, here).
#[derive(Serialize)]
#[serde(rename = "VersioningConfiguration")]
pub struct VersioningResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "Status", skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}
