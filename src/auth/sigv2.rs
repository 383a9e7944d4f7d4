//! Signature Version 2: `Authorization: AWS AK:SIG` and the `AWSAccessKeyId`/`Signature`/`Expires`
//! query form that boto3's `generate_presigned_url` still produces by default.

use base64::Engine;
use hmac::{Hmac, Mac};
use http::request::Parts;
use sha1::Sha1;
use subtle::ConstantTimeEq;

use super::header::format_iso;
use super::signature::check_skew;
use super::{AuthContext, AuthError, PayloadCheck, Verified, unix_secs};
use crate::clock::parse_http_date;
use crate::header_names::{X_AMZ_DATE, X_AMZ_PREFIX};

/// The longest a SigV2 presigned URL may still be valid for, as for SigV4 (7 days).
const MAX_PRESIGN_EXPIRES: i64 = 604_800;
const V2_EXPIRES_TOO_FAR: &str = "Expires must be less than a week (in seconds) from now; that is, the given Expires must be less than 604800 seconds in the future";

/// Query parameters that are part of the SigV2 canonical resource.
const SUBRESOURCES: [&str; 37] = [
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "select",
    "select-type",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
];

/// `METHOD\nContent-MD5\nContent-Type\n<date or expires>\n<x-amz headers><resource>`.
pub fn string_to_sign(parts: &Parts, date: &str, resource_path: &str) -> String {
    let h = &parts.headers;
    let get = |n: &str| {
        h.get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .unwrap_or("")
    };
    let mut amz: Vec<(String, String)> = Vec::new();
    for (name, value) in h {
        let n = name.as_str();
        if n.starts_with(X_AMZ_PREFIX) {
            let v = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
            match amz.iter_mut().find(|(k, _)| k == n) {
                Some((_, existing)) => {
                    existing.push(',');
                    existing.push_str(&v);
                }
                None => amz.push((n.to_string(), v)),
            }
        }
    }
    amz.sort();
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        parts.method,
        get("content-md5"),
        get("content-type"),
        date
    );
    for (n, v) in amz {
        out.push_str(&n);
        out.push(':');
        out.push_str(&v);
        out.push('\n');
    }
    out.push_str(resource_path);
    let mut subs: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .filter(|(n, _)| SUBRESOURCES.contains(&n.as_ref()))
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
    subs.sort();
    for (i, (n, v)) in subs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(n);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// The resource paths a SigV2 signature may cover: `/bucket/key`, and `/bucket/` for a bucket
/// itself in either addressing style (botocore's `auth_path`). A path-style bucket request is also
/// accepted signed as sent (`/bucket`), as other SigV2 signers compute it.
fn resource_paths(path: &str, virtual_host_bucket: Option<&str>) -> Vec<String> {
    match virtual_host_bucket {
        Some(b) => vec![format!("/{b}{path}")],
        None if path.len() > 1 && !path[1..].contains('/') => {
            vec![format!("{path}/"), path.to_string()]
        }
        None => vec![path.to_string()],
    }
}

fn sign(secret: &str, sts: &str) -> Result<String, AuthError> {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(secret.as_bytes()).map_err(|_| AuthError::MissingDate)?;
    mac.update(sts.as_bytes());
    Ok(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Verifies `signature` against every resource form the request may have been signed with.
fn check(
    access_key: &str,
    signature: &str,
    parts: &Parts,
    date: &str,
    ctx: &AuthContext<'_>,
) -> Result<Verified, AuthError> {
    let cred = ctx
        .credentials
        .get(access_key)
        .ok_or_else(|| AuthError::InvalidAccessKeyId(access_key.to_string()))?;
    let mut first_sts = None;
    for resource in resource_paths(parts.uri.path(), ctx.virtual_host_bucket) {
        let sts = string_to_sign(parts, date, &resource);
        let expected = sign(cred.secret.expose(), &sts)?;
        if expected.len() == signature.len()
            && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
        {
            return Ok(Verified {
                access_key: access_key.to_string(),
                account_id: cred.account_id.clone(),
                payload: PayloadCheck::Unsigned,
                session: None,
                scope: None,
            });
        }
        first_sts.get_or_insert(sts);
    }
    Err(AuthError::SignatureDoesNotMatch {
        access_key: access_key.to_string(),
        string_to_sign: first_sts.unwrap_or_default(),
        signature_provided: signature.to_string(),
        canonical_request: None,
    })
}

/// `Authorization: AWS <access key>:<base64 signature>`.
pub(super) fn verify_header(
    parts: &Parts,
    authz: &str,
    ctx: &AuthContext<'_>,
) -> Result<Verified, AuthError> {
    let (ak, sig) = authz
        .strip_prefix("AWS ")
        .and_then(|r| r.trim().rsplit_once(':'))
        .ok_or_else(|| {
            AuthError::HeaderMalformed("The authorization header you provided is invalid.".into())
        })?;
    if ctx.credentials.get(ak).is_none() {
        return Err(AuthError::InvalidAccessKeyId(ak.to_string()));
    }
    let h = &parts.headers;
    let amz_date = h.get(X_AMZ_DATE).and_then(|v| v.to_str().ok());
    let date = h.get(http::header::DATE).and_then(|v| v.to_str().ok());
    let secs = amz_date
        .or(date)
        .and_then(parse_http_date)
        .ok_or(AuthError::MissingDate)?;
    check_skew(secs, ctx.now)?;
    // With x-amz-date present, the Date line is empty: the header is signed among the x-amz ones.
    let date_line = if amz_date.is_some() {
        ""
    } else {
        date.unwrap_or("")
    };
    check(ak, sig, parts, date_line, ctx)
}

/// `?AWSAccessKeyId=...&Signature=...&Expires=<epoch seconds>`.
pub(super) fn verify_query(parts: &Parts, ctx: &AuthContext<'_>) -> Result<Verified, AuthError> {
    let q: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let (Some(ak), Some(sig), Some(expires)) =
        (get("AWSAccessKeyId"), get("Signature"), get("Expires"))
    else {
        return Err(AuthError::QueryParameters(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters".into(),
        ));
    };
    let expires_secs: i64 = expires.parse().map_err(|_| {
        AuthError::QueryParameters("Invalid date (should be seconds since epoch)".into())
    })?;
    if ctx.credentials.get(ak).is_none() {
        return Err(AuthError::InvalidAccessKeyId(ak.to_string()));
    }
    let now = unix_secs(ctx.now);
    if now > expires_secs {
        return Err(AuthError::Expired {
            expires: format_iso(expires_secs),
            server_time: format_iso(now),
            x_amz_expires: None,
        });
    }
    // S3 itself puts no upper bound on a SigV2 `Expires` (scality/cloudserver#363: "no real
    // Signature Version 2 expiration date limitation"); sealstore caps it as SigV4 is capped, so a
    // SigV2 URL cannot outlive the 7 days a SigV4 one may. S3 has no error of its own for this:
    // the answer is SigV4's over-long-expiry error, AuthorizationQueryParametersError.
    if expires_secs - now > MAX_PRESIGN_EXPIRES {
        return Err(AuthError::QueryParameters(V2_EXPIRES_TOO_FAR.into()));
    }
    check(ak, sig, parts, expires, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{CredentialStore, SecretKey};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method("GET").uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    /// The AWS SigV2 documentation example ("GET object", johnsmith bucket).
    #[test]
    fn aws_doc_example() {
        let p = parts(
            "/photos/puppy.jpg",
            &[
                ("host", "johnsmith.s3.amazonaws.com"),
                ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            ],
        );
        let sts = string_to_sign(
            &p,
            "Tue, 27 Mar 2007 19:36:42 +0000",
            "/johnsmith/photos/puppy.jpg",
        );
        assert_eq!(
            sts,
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg"
        );
        assert_eq!(
            sign("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts).unwrap(),
            "bWq2s1WEIj+Ydj0vQ697zp+IXMU="
        );
    }

    #[test]
    fn bucket_resources_end_with_a_slash() {
        assert_eq!(resource_paths("/b", None), ["/b/", "/b"]);
        assert_eq!(resource_paths("/b/", None), ["/b/"]);
        assert_eq!(resource_paths("/b/k", None), ["/b/k"]);
        assert_eq!(resource_paths("/", None), ["/"]);
        assert_eq!(resource_paths("/", Some("b")), ["/b/"]);
        assert_eq!(resource_paths("/k", Some("b")), ["/b/k"]);
    }

    #[test]
    fn subresources_and_amz_headers() {
        let p = parts(
            "/b/k?acl&x-id=GetObjectAcl&versionId=null",
            &[("x-amz-meta-b", "2"), ("x-amz-meta-a", " 1 ")],
        );
        assert_eq!(
            string_to_sign(&p, "", "/b/k"),
            "GET\n\n\n\nx-amz-meta-a:1\nx-amz-meta-b:2\n/b/k?acl&versionId=null"
        );
    }

    /// issue 18: SigV2 has no SignedHeaders; its string to sign holds every `x-amz-*` header, so
    /// none can be added to a signed request unnoticed.
    #[test]
    fn every_amz_header_is_signed() {
        let p = parts(
            "/b/k",
            &[
                ("x-amz-copy-source", "b/secret"),
                ("x-amz-acl", "public-read"),
                ("x-fuzz", "1"),
            ],
        );
        let sts = string_to_sign(&p, "1700000100", "/b/k");
        assert_eq!(
            sts,
            "GET\n\n\n1700000100\nx-amz-acl:public-read\nx-amz-copy-source:b/secret\n/b/k"
        );
    }

    #[test]
    fn presigned_query_roundtrip_and_expiry() {
        let mut creds = CredentialStore::default();
        creds.insert("test", SecretKey::new("test"), "000000000000");
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ctx = AuthContext {
            credentials: &creds,
            virtual_host_bucket: None,
            now,
            sessions: None,
        };
        let unsigned = parts("/b/k?AWSAccessKeyId=test&Expires=1700000100", &[]);
        let s = sign("test", &string_to_sign(&unsigned, "1700000100", "/b/k")).unwrap();
        let enc: String = form_urlencoded::byte_serialize(s.as_bytes()).collect();
        let p = parts(
            &format!("/b/k?AWSAccessKeyId=test&Signature={enc}&Expires=1700000100"),
            &[],
        );
        assert_eq!(verify_query(&p, &ctx).unwrap().account_id, "000000000000");
        let late = AuthContext {
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_101),
            ..ctx
        };
        assert!(matches!(
            verify_query(&p, &late),
            Err(AuthError::Expired { .. })
        ));
        let bad = parts(
            "/b/k?AWSAccessKeyId=test&Signature=AAAA&Expires=1700000100",
            &[],
        );
        // issue 18: an Expires more than 7 days ahead is refused as SigV4's would be.
        let far = parts(
            "/b/k?AWSAccessKeyId=test&Signature=AAAA&Expires=1700604801",
            &[],
        );
        assert!(matches!(
            verify_query(&far, &ctx),
            Err(AuthError::QueryParameters(_))
        ));
        assert!(matches!(
            verify_query(&bad, &ctx),
            Err(AuthError::SignatureDoesNotMatch { .. })
        ));
    }
}
