//! Parsing the SigV4 `Authorization` header and presigned `X-Amz-*` query parameters.

use super::AuthError;

pub const MALFORMED: &str = "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.";

/// `<access key>/<YYYYMMDD>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

impl CredentialScope {
    pub fn parse(s: &str) -> Option<CredentialScope> {
        let mut parts = s.rsplitn(5, '/');
        let terminator = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let date = parts.next()?;
        let access_key = parts.next()?;
        let valid_date = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        if terminator != "aws4_request" || !valid_date || access_key.is_empty() || region.is_empty()
        {
            return None;
        }
        Some(CredentialScope {
            access_key: access_key.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        })
    }

    /// `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// A parsed SigV4 header or presigned query.
#[derive(Debug, Clone)]
pub struct V4Auth {
    pub credential: CredentialScope,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
pub fn parse_authorization(value: &str) -> Result<V4Auth, AuthError> {
    let malformed = || AuthError::HeaderMalformed(MALFORMED.into());
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256")
        .ok_or_else(malformed)?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ if part.is_empty() => {}
            _ => return Err(malformed()),
        }
    }
    let (credential, signed, signature) = match (credential, signed, signature) {
        (Some(c), Some(s), Some(g)) => (c, s, g),
        _ => return Err(malformed()),
    };
    let credential = CredentialScope::parse(credential).ok_or_else(|| {
        AuthError::HeaderMalformed(
            "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
                .to_string(),
        )
    })?;
    Ok(V4Auth {
        credential,
        signed_headers: split_signed_headers(signed),
        signature: signature.to_string(),
    })
}

pub fn split_signed_headers(s: &str) -> Vec<String> {
    s.split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.to_ascii_lowercase())
        .collect()
}

/// Parses `YYYYMMDDTHHMMSSZ` into epoch seconds.
pub fn parse_amz_date(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    time::PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

/// Formats epoch seconds as `YYYYMMDDTHHMMSSZ`.
pub fn format_amz_date(secs: i64) -> String {
    format_utc(secs, "", "")
}

/// Formats epoch seconds as S3's ISO 8601 in error bodies (`2013-05-24T00:00:00Z`).
pub fn format_iso(secs: i64) -> String {
    format_utc(secs, "-", ":")
}

fn format_utc(secs: i64, date_sep: &str, time_sep: &str) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(secs).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{date_sep}{:02}{date_sep}{:02}T{:02}{time_sep}{:02}{time_sep}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_header() {
        let a = parse_authorization("AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=622f76a4").unwrap();
        assert_eq!(a.credential.access_key, "test");
        assert_eq!(a.credential.scope(), "20261122/us-east-1/s3/aws4_request");
        assert_eq!(
            a.signed_headers,
            vec!["host", "x-amz-content-sha256", "x-amz-date"]
        );
        assert_eq!(a.signature, "622f76a4");
    }

    #[test]
    fn rejects_missing_components() {
        for bad in [
            "AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/s3/aws4_request, Signature=abc",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=abc",
            "AWS4-HMAC-SHA256 Credential=bad, SignedHeaders=host, Signature=abc",
        ] {
            assert!(
                matches!(parse_authorization(bad), Err(AuthError::HeaderMalformed(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn access_keys_may_contain_slashes() {
        let c = CredentialScope::parse("a/b/20130524/us-east-1/s3/aws4_request").unwrap();
        assert_eq!(c.access_key, "a/b");
    }

    #[test]
    fn amz_dates() {
        let t = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(t, 1_369_353_600);
        assert_eq!(format_amz_date(t), "20130524T000000Z");
        assert_eq!(format_iso(t), "2013-05-24T00:00:00Z");
        assert!(parse_amz_date("2013-05-24").is_none());
    }
}
