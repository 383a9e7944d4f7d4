//! The object tagging document: PutObjectTagging's request and GetObjectTagging's response,
//! `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`. Strict on input: an unknown
//! element, a missing `TagSet`, or a `Tag` without its `Key` or `Value` is MalformedXML.

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggingRequest {
    #[serde(rename = "@xmlns", default)]
    pub _xmlns: Option<String>,
    #[serde(rename = "TagSet")]
    pub tag_set: TagSetXml,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagSetXml {
    #[serde(rename = "Tag", default)]
    pub tags: Vec<TagXml>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TagXml {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// GetObjectTagging's answer.
#[derive(Serialize)]
#[serde(rename = "Tagging")]
pub struct TaggingResult {
    #[serde(rename = "@xmlns")]
    pub xmlns: &'static str,
    #[serde(rename = "TagSet")]
    pub tag_set: TagSetXml,
}

impl TagSetXml {
    pub fn from_pairs(tags: &[(String, String)]) -> TagSetXml {
        TagSetXml {
            tags: tags
                .iter()
                .map(|(key, value)| TagXml {
                    key: key.clone(),
                    value: value.clone(),
                })
                .collect(),
        }
    }
}
