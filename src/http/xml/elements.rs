//! Elements several documents share: the owner, a common prefix, and the checksum element.

use serde::{Serialize, Serializer};

use crate::integrity::checksum::ChecksumAlgorithm;

/// The canonical user id sealstore reports for an account (stable, 64 hex digits like S3's).
pub fn canonical_user_id(account_id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(
        format!("sealstore-account:{account_id}").as_bytes(),
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Owner {
    #[serde(rename = "ID")]
    pub id: String,
    pub display_name: String,
}

impl Owner {
    pub fn of(account_id: &str) -> Owner {
        Owner {
            id: canonical_user_id(account_id),
            display_name: account_id.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CommonPrefix {
    pub prefix: String,
}

/// One of the five checksum elements (`<ChecksumCRC32>…</ChecksumCRC32>`, CRC32C, CRC64NVME,
/// SHA1, SHA256), named by `ChecksumAlgorithm::xml_element`, the one place the names are
/// declared. A document holds it in a field renamed `$value`, with
/// `skip_serializing_if = "Option::is_none"`: quick-xml writes a `$value` field that holds a
/// variant as an element named after the variant, where the field stands, so the output is what
/// five optional fields of which one is filled would give. (`#[serde(flatten)]` is no way to share
/// the fields: quick-xml 0.38 refuses to serialize the flattened map and misreads it on parsing.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumXml {
    pub algorithm: ChecksumAlgorithm,
    pub value: String,
}

impl ChecksumXml {
    pub fn new(algorithm: ChecksumAlgorithm, value: String) -> ChecksumXml {
        ChecksumXml { algorithm, value }
    }
}

impl Serialize for ChecksumXml {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_variant(
            "Checksum",
            self.algorithm as u32,
            self.algorithm.xml_element(),
            &self.value,
        )
    }
}
