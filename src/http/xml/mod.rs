//! S3's XML documents: the codec over quick-xml + serde (S3's declaration and namespace, strict
//! parsing that maps every failure to `MalformedXML`), and, one file per area, every request and
//! response document type the handlers read and write.

pub mod attributes;
pub mod buckets;
pub mod delete;
pub mod directory;
pub mod elements;
pub mod encryption;
pub mod listing;
pub mod multipart;
#[cfg(test)]
mod pinned_tests;
pub mod tagging;
pub mod versioning;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{S3Error, S3ErrorCode};
use crate::xml_text::control_chars_as_references;

pub const S3_XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Serializes a response document with the XML declaration S3 puts in front of every body.
pub fn to_xml<T: Serialize>(value: &T) -> Result<String, S3Error> {
    let body = quick_xml::se::to_string(value).map_err(S3Error::internal)?;
    let body = control_chars_as_references(body);
    let mut out = String::with_capacity(body.len() + 40);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&body);
    Ok(out)
}

/// Parses a request document; anything that does not fit the schema is `MalformedXML`.
pub fn from_xml<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, S3Error> {
    let text = std::str::from_utf8(bytes).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))?;
    check_prolog_only_markup(text)?;
    let text = keep_xml10_line_ends(text);
    quick_xml::de::from_str(&text).map_err(|_| S3Error::new(S3ErrorCode::MalformedXML))
}

/// quick-xml's deserializer (0.38) normalises line ends by XML 1.1's rules, which also turn NEL
/// (U+0085) and LINE SEPARATOR (U+2028) into LF. S3's documents are XML 1.0, where both are
/// ordinary characters: a DeleteObjects naming `a\u{2028}b` would otherwise delete `a\nb`, another
/// object (found by `ops::proptests::delete_round_trip`). So both are written as character
/// references before parsing, which the deserializer resolves without normalising; inside a CDATA
/// section, where references are not recognised, the section is closed around the reference.
/// CR and CRLF are normalised to LF by both versions, as S3's parser does.
fn keep_xml10_line_ends(text: &str) -> std::borrow::Cow<'_, str> {
    const NEL: char = '\u{85}';
    const LSEP: char = '\u{2028}';
    if !text.contains([NEL, LSEP]) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    loop {
        // Outside CDATA up to the next section (or the end), then the section itself.
        let (plain, section) = match rest.find("<![CDATA[") {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        out.push_str(&plain.replace(NEL, "&#x85;").replace(LSEP, "&#x2028;"));
        if section.is_empty() {
            break;
        }
        let end = section.find("]]>").map_or(section.len(), |i| i + 3);
        let (cdata, after) = section.split_at(end);
        out.push_str(
            &cdata
                .replace(NEL, "]]>&#x85;<![CDATA[")
                .replace(LSEP, "]]>&#x2028;<![CDATA["),
        );
        rest = after;
    }
    std::borrow::Cow::Owned(out)
}

/// Refuses a `<!DOCTYPE` after the root element has started. It is not well-formed XML there
/// (a document type declaration belongs in the prolog), and quick-xml's deserializer (0.38)
/// panics on it inside an element's text, which it sees as two text events in a row
/// (`unreachable!()` in `read_text`). Found by `ops::proptests::xml_mutated`.
fn check_prolog_only_markup(text: &str) -> Result<(), S3Error> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut root_seen = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_) | Event::Empty(_)) => root_seen = true,
            Ok(Event::DocType(_)) if root_seen => {
                return Err(S3Error::new(S3ErrorCode::MalformedXML));
            }
            // Anything else, errors included, is left to the deserializer to judge.
            Ok(Event::Eof) | Err(_) => return Ok(()),
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml_text::escape;
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

    /// Control characters in text come out as character references (CR included, so a parser
    /// hands back the exact key); tab and LF stay; the declaration's own newline is untouched.
    #[test]
    fn control_characters_are_character_references() {
        let xml = to_xml(&Loc {
            xmlns: S3_XMLNS,
            value: "a\rb\u{1}c\u{0}d\te\nf\u{1f}<&".into(),
        })
        .unwrap();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<"));
        assert!(
            xml.ends_with(">a&#xD;b&#x1;c&#x0;d\te\nf&#x1F;&lt;&amp;</LocationConstraint>"),
            "{xml}"
        );
        assert_eq!(escape("k\r\u{2}"), "k&#xD;&#x2;");
        assert_eq!(escape("plain"), "plain");
    }

    /// NEL and LINE SEPARATOR are ordinary characters in XML 1.0 documents: kept in text and in
    /// CDATA, while CR and CRLF still become LF (as any XML parser makes them).
    #[test]
    fn xml10_line_ends_are_kept() {
        let cfg: CreateBucketConfiguration = from_xml(
            "<CreateBucketConfiguration><LocationConstraint>a\u{2028}b\u{85}c\r\nd\re</LocationConstraint></CreateBucketConfiguration>".as_bytes(),
        )
        .unwrap();
        assert_eq!(
            cfg.location_constraint.as_deref(),
            Some("a\u{2028}b\u{85}c\nd\ne")
        );
        let cfg: CreateBucketConfiguration = from_xml(
            "<CreateBucketConfiguration><LocationConstraint>x<![CDATA[a\u{2028}<b>\u{85}]]>y\u{2028}</LocationConstraint></CreateBucketConfiguration>".as_bytes(),
        )
        .unwrap();
        assert_eq!(
            cfg.location_constraint.as_deref(),
            Some("xa\u{2028}<b>\u{85}y\u{2028}")
        );
        // An unterminated section is still malformed, not a panic.
        assert!(
            from_xml::<CreateBucketConfiguration>(
                "<CreateBucketConfiguration><LocationConstraint><![CDATA[a\u{2028}".as_bytes()
            )
            .is_err()
        );
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

    /// Regression: quick-xml's deserializer panicked (`unreachable!()`) on a DOCTYPE inside an
    /// element's text; it is MalformedXML (400).
    #[test]
    fn doctype_inside_an_element_is_malformed_not_a_panic() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Rule {
            #[serde(rename = "BucketKeyEnabled")]
            bucket_key_enabled: Option<bool>,
        }
        for body in [
            &b"<Rule><BucketKeyEnabled>t<!DOCTYPE a [<!ENTITY e \"x\">]>rue</BucketKeyEnabled></Rule>"[..],
            b"<Rule><BucketKeyEnabled>t<!DOCTYPE a>rue</BucketKeyEnabled></Rule>",
            b"<Rule><!DOCTYPE a></Rule>",
        ] {
            let err = from_xml::<Rule>(body).unwrap_err();
            assert_eq!(err.code, S3ErrorCode::MalformedXML);
            assert_eq!(err.code.status().as_u16(), 400);
        }
        // In the prolog, where it belongs, a DOCTYPE does not stop the document from parsing.
        let ok: Rule =
            from_xml(b"<!DOCTYPE Rule><Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>")
                .unwrap();
        assert_eq!(ok.bucket_key_enabled, Some(true));
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
