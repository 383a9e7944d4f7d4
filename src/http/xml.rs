//! XML helpers over quick-xml + serde: S3's declaration and namespace, strict parsing that maps
//! every failure to `MalformedXML`.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{S3Error, S3ErrorCode};

pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Escapes text for an XML element body.
pub fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Serializes a response document with the XML declaration S3 puts in front of every body.
pub fn to_xml<T: Serialize>(value: &T) -> Result<String, S3Error> {
    let body = quick_xml::se::to_string(value).map_err(S3Error::internal)?;
    let mut out = String::with_capacity(body.len() + 40);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&body);
    Ok(out)
}

/// Parses a request document; anything that does not fit the schema is `MalformedXML`.
pub fn from_xml<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, S3Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))?;
    quick_xml::de::from_str(text).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize)]
    #[serde(rename = "LocationConstraint")]
    struct Loc {
        #[serde(rename = "@xmlns")]
        xmlns: &'static str,
        #[serde(rename = "$text")]
        value: String,
    }

    #[derive(Deserialize, Debug)]
    struct CreateBucketConfiguration {
        #[serde(rename = "LocationConstraint")]
        location_constraint: Option<String>,
    }

    #[test]
    fn serializes_with_declaration_and_namespace() {
        let xml = to_xml(&Loc {
            xmlns: S3_XMLNS,
            value: "eu-west-1".into(),
        })
        .unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>"
        );
    }

    #[test]
    fn parses_botocore_body_and_rejects_garbage() {
        let body = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
        let c: CreateBucketConfiguration = from_xml(body).unwrap();
        assert_eq!(c.location_constraint.as_deref(), Some("eu-west-1"));
        let err = from_xml::<CreateBucketConfiguration>(b"<a><b></a>").unwrap_err();
        assert_eq!(err.code, S3ErrorCode::MalformedXML);
    }
}
