//! XML text escaping, shared by the XML documents of `http::xml` and the error bodies of `error`
//! (a leaf module, so that `error` need not import `http/`).

/// Escapes text for an XML element body.
pub fn escape(s: &str) -> String {
    control_chars_as_references(quick_xml::escape::escape(s).into_owned())
}

/// Writes the C0 control characters of element text (keys may hold any of them) as numeric
/// character references, `&#xD;` for CR, as S3 does. A raw CR would reach a client as LF (XML
/// end-of-line normalisation), so a listed key would name another object; the others (`&#x1;`)
/// are not allowed in XML 1.0 either way, which is why S3 offers `encoding-type=url`. Tab and LF
/// survive parsing unchanged and are left as they are. Markup never holds such a character, so
/// the whole serialized body can be rewritten.
pub(crate) fn control_chars_as_references(text: String) -> String {
    use std::fmt::Write as _;

    let needs = |c: char| c < '\u{20}' && c != '\t' && c != '\n';
    if !text.contains(needs) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "&#x{:X};", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}
