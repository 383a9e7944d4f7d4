//! The object tagging document: PutObjectTagging's request and GetObjectTagging's response,
//! `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`. Strict on input: an unknown
//! element, a missing `TagSet`, or a `Tag` without its `Key` or `Value` is MalformedXML.

use serde::Deserialize;

use crate::xml_text::escape;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaggingRequest {
    #[serde(rename = "@xmlns", default)]
    pub _xmlns: Option<String>,
    #[serde(rename = "TagSet")]
    pub tag_set: TagSetXml,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagSetXml {
    #[serde(rename = "Tag", default)]
    pub tags: Vec<TagXml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagXml {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// GetObjectTagging's answer. Written out rather than serialized so that an empty value or set
/// reads `<Value></Value>` / `<TagSet></TagSet>`, as S3 writes them, not as self-closing tags.
pub fn tagging_result(tags: &[(String, String)]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"{}\"><TagSet>",
        super::S3_XMLNS
    );
    for (key, value) in tags {
        out.push_str(&format!(
            "<Tag><Key>{}</Key><Value>{}</Value></Tag>",
            escape(key),
            escape(value)
        ));
    }
    out.push_str("</TagSet></Tagging>");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_answer_is_pinned() {
        let tags = vec![
            ("a&b".to_string(), String::new()),
            ("k".into(), "<v>".into()),
        ];
        assert_eq!(
            super::tagging_result(&tags),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>a&amp;b</Key><Value></Value></Tag><Tag><Key>k</Key><Value>&lt;v&gt;</Value></Tag></TagSet></Tagging>"
        );
        assert!(super::tagging_result(&[]).ends_with("<TagSet></TagSet></Tagging>"));
    }
}
