//! SigV4 verification: header form and presigned query form. The signing key and HMAC come from the
//! aws-sigv4 crate; comparison is constant-time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::request::Parts;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::header::{self, CredentialScope, V4Auth};
use super::session::{Session, TokenError};
use super::{
    AuthContext, AuthError, MAX_SKEW_SECS, PayloadCheck, SignedScope, Verified, canonical, rules,
    unix_secs,
};
use crate::clock::parse_http_date;
use crate::header_names::{X_AMZ_CONTENT_SHA256, X_AMZ_DATE, X_AMZ_S3SESSION_TOKEN};

pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
const PRESIGN_PARAMS_MSG: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
const MAX_PRESIGN_EXPIRES: i64 = 604_800;

/// The SigV4 signing key for a credential scope date (`YYYYMMDD`), region and service.
pub fn signing_key(
    secret: &str,
    date: &str,
    region: &str,
    service: &str,
) -> Result<impl AsRef<[u8]> + use<>, AuthError> {
    // A signing key is valid for a whole day: remember the last few (four HMACs each, about a
    // sixth of a request's verification). Keyed by a hash of all inputs, secret included, so a
    // hit needs the same secret; the cache holds derived keys only, never a secret.
    let id = cache_id(secret, date, region, service);
    if let Ok(cache) = SIGNING_KEYS.lock() {
        if let Some((_, key)) = cache.iter().find(|(k, _)| *k == id) {
            return Ok(key.clone());
        }
    }
    let secs = header::parse_amz_date(&format!("{date}T000000Z")).ok_or(AuthError::MissingDate)?;
    let t = UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64);
    let key = Zeroizing::new(
        aws_sigv4::sign::v4::generate_signing_key(secret, t, region, service)
            .as_ref()
            .to_vec(),
    );
    if let Ok(mut cache) = SIGNING_KEYS.lock() {
        if cache.len() >= SIGNING_KEY_CACHE {
            cache.remove(0);
        }
        cache.push((id, key.clone()));
    }
    Ok(key)
}

/// How many signing keys are remembered (accounts × regions × services in use on one day).
const SIGNING_KEY_CACHE: usize = 16;

type SigningKeyCache = Vec<([u8; 32], Zeroizing<Vec<u8>>)>;

static SIGNING_KEYS: std::sync::Mutex<SigningKeyCache> = std::sync::Mutex::new(Vec::new());

fn cache_id(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for part in [secret, date, region, service] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// Hex HMAC-SHA256 of the string to sign.
pub fn v4_signature(key: impl AsRef<[u8]>, string_to_sign: &str) -> String {
    aws_sigv4::sign::v4::calculate_signature(key, string_to_sign.as_bytes())
}

/// The empty string's SHA-256, part of every chunk string to sign.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Computes aws-chunked chunk and trailer signatures. The chain starts at the request's own
/// signature (the seed); each chunk's signature covers the previous one.
#[derive(Clone, PartialEq, Eq)]
pub struct ChunkSigner {
    key: Zeroizing<Vec<u8>>,
    amz_date: String,
    scope: String,
    seed: String,
}

impl std::fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl ChunkSigner {
    pub fn new(key: &[u8], amz_date: &str, scope: &str, seed: &str) -> ChunkSigner {
        ChunkSigner {
            key: Zeroizing::new(key.to_vec()),
            amz_date: amz_date.into(),
            scope: scope.into(),
            seed: seed.into(),
        }
    }

    pub fn seed(&self) -> &str {
        &self.seed
    }

    /// `AWS4-HMAC-SHA256-PAYLOAD` signature of one chunk, given the previous signature.
    pub fn chunk_signature(&self, previous: &str, data_sha256_hex: &str) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{data_sha256_hex}",
            self.amz_date, self.scope
        );
        v4_signature(self.key.as_slice(), &sts)
    }

    /// `AWS4-HMAC-SHA256-TRAILER` signature over the canonical trailers.
    pub fn trailer_signature(&self, previous: &str, trailers_sha256_hex: &str) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{trailers_sha256_hex}",
            self.amz_date, self.scope
        );
        v4_signature(self.key.as_slice(), &sts)
    }

    /// Compares a received signature with the expected one in constant time.
    pub fn matches(expected: &str, received: &str) -> bool {
        constant_time_eq(expected, received)
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The request time of a header-signed request: `x-amz-date`, else `Date`.
fn request_time(parts: &Parts) -> Result<(i64, String), AuthError> {
    let h = &parts.headers;
    if let Some(v) = h.get(X_AMZ_DATE).and_then(|v| v.to_str().ok()) {
        let t = header::parse_amz_date(v).ok_or(AuthError::MissingDate)?;
        return Ok((t, v.to_string()));
    }
    let v = h
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::MissingDate)?;
    let t = parse_http_date(v).ok_or(AuthError::MissingDate)?;
    Ok((t, header::format_amz_date(t)))
}

/// Refuses requests whose clock is more than 15 minutes from ours.
pub(super) fn check_skew(request_secs: i64, now: SystemTime) -> Result<(), AuthError> {
    let now = unix_secs(now);
    if (request_secs - now).abs() > MAX_SKEW_SECS {
        return Err(AuthError::TimeTooSkewed {
            request_time: header::format_iso(request_secs),
            server_time: header::format_iso(now),
        });
    }
    Ok(())
}

/// What the `x-amz-content-sha256` value asks of the body. `signer` is there for header-signed
/// requests, whose signature seeds the chunk-signature chain.
fn payload_check(
    value: &str,
    signer: impl FnOnce() -> Result<ChunkSigner, AuthError>,
) -> Result<PayloadCheck, AuthError> {
    let signed = |trailer| -> Result<PayloadCheck, AuthError> {
        Ok(PayloadCheck::Streaming {
            signer: Some(Arc::new(signer()?)),
            trailer,
        })
    };
    match value {
        UNSIGNED_PAYLOAD => return Ok(PayloadCheck::Unsigned),
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => {
            return Ok(PayloadCheck::Streaming {
                signer: None,
                trailer: true,
            });
        }
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => return signed(false),
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => return signed(true),
        v if v.starts_with("STREAMING-") => return Err(AuthError::StreamingNotImplemented),
        _ => {}
    }
    let mut digest = [0u8; 32];
    hex::decode_to_slice(value, &mut digest).map_err(|_| AuthError::InvalidContentSha256)?;
    Ok(PayloadCheck::Sha256(digest))
}

/// Whose key signs a request: a long-term user, or an S3 Express session.
struct Signer {
    secret: Zeroizing<String>,
    account_id: String,
    session: Option<Session>,
}

/// Finds the secret for an access key: a configured user's, or — for a session access key — the
/// one the session token (`x-amz-s3session-token`, or `X-Amz-S3session-Token` when presigned)
/// proves.
fn resolve(
    ctx: &AuthContext<'_>,
    access_key: &str,
    token: Option<&str>,
) -> Result<Signer, AuthError> {
    if let Some(c) = ctx.credentials.get(access_key) {
        return Ok(Signer {
            secret: Zeroizing::new(c.secret.expose().to_string()),
            account_id: c.account_id.clone(),
            session: None,
        });
    }
    let (Some(token), Some(keys)) = (token, ctx.sessions) else {
        return Err(AuthError::InvalidAccessKeyId(access_key.to_string()));
    };
    match keys.open(token, unix_secs(ctx.now)) {
        Ok((session, secret)) if session.access_key == access_key => Ok(Signer {
            secret: Zeroizing::new(secret),
            account_id: session.account_id.clone(),
            session: Some(session),
        }),
        Ok(_) | Err(TokenError::Invalid) => Err(AuthError::InvalidToken),
        Err(TokenError::Expired) => Err(AuthError::ExpiredToken),
    }
}

/// Checks one signature: the scope's service and the signed-header rule first, then builds the
/// canonical request and string to sign and compares. `skip_query` is set for presigned URLs.
fn check_signature(
    parts: &Parts,
    who: &Signer,
    auth: &V4Auth,
    amz_date: &str,
    payload_hash: &str,
    skip_query: Option<&str>,
) -> Result<Verified, AuthError> {
    let presigned = skip_query.is_some();
    rules::check_service(&auth.credential.service, presigned)?;
    rules::check_signed_headers(&parts.headers, &auth.signed_headers, presigned)?;
    let signed: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    let cr = canonical::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &signed,
        payload_hash,
        skip_query,
    );
    let c = &auth.credential;
    let sts = canonical::string_to_sign(amz_date, &c.scope(), &cr);
    let key = signing_key(&who.secret, &c.date, &c.region, &c.service)?;
    let expected = v4_signature(key, &sts);
    if !constant_time_eq(&expected, &auth.signature) {
        return Err(AuthError::SignatureDoesNotMatch {
            access_key: c.access_key.clone(),
            string_to_sign: sts,
            signature_provided: auth.signature.clone(),
            canonical_request: Some(cr),
        });
    }
    Ok(Verified {
        access_key: c.access_key.clone(),
        account_id: who.account_id.clone(),
        payload: PayloadCheck::Unsigned,
        session: who.session.clone(),
        scope: Some(SignedScope {
            region: c.region.clone(),
            service: c.service.clone(),
            presigned,
        }),
    })
}

/// `Authorization: AWS4-HMAC-SHA256 ...`.
pub(super) fn verify_header(
    parts: &Parts,
    authz: &str,
    ctx: &AuthContext<'_>,
) -> Result<Verified, AuthError> {
    let auth = header::parse_authorization(authz)?;
    let token = parts
        .headers
        .get(X_AMZ_S3SESSION_TOKEN)
        .and_then(|v| v.to_str().ok());
    let who = resolve(ctx, &auth.credential.access_key, token)?;
    let (secs, amz_date) = request_time(parts)?;
    if !amz_date.starts_with(&auth.credential.date) {
        return Err(AuthError::HeaderMalformed(format!(
            "Invalid credential date \"{}\". This date is not the same as X-Amz-Date: \"{}\".",
            auth.credential.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    check_skew(secs, ctx.now)?;
    let content_sha = parts
        .headers
        .get(X_AMZ_CONTENT_SHA256)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::MissingContentSha256)?;
    let verified = check_signature(parts, &who, &auth, &amz_date, content_sha, None)?;
    let signer = || {
        let c = &auth.credential;
        let key = signing_key(&who.secret, &c.date, &c.region, &c.service)?;
        Ok(ChunkSigner {
            key: Zeroizing::new(key.as_ref().to_vec()),
            amz_date: amz_date.clone(),
            scope: c.scope(),
            seed: auth.signature.clone(),
        })
    };
    Ok(Verified {
        payload: payload_check(content_sha, signer)?,
        ..verified
    })
}

/// `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Signature=...`.
pub(super) fn verify_presigned(
    parts: &Parts,
    ctx: &AuthContext<'_>,
) -> Result<Verified, AuthError> {
    let q: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let get = |n: &str| q.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let missing = || AuthError::QueryParameters(PRESIGN_PARAMS_MSG.into());
    let algorithm = get("X-Amz-Algorithm").ok_or_else(missing)?;
    let credential = get("X-Amz-Credential").ok_or_else(missing)?;
    let signature = get("X-Amz-Signature").ok_or_else(missing)?;
    let amz_date = get("X-Amz-Date").ok_or_else(missing)?;
    let signed = get("X-Amz-SignedHeaders").ok_or_else(missing)?;
    let expires = get("X-Amz-Expires").ok_or_else(missing)?;
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(AuthError::QueryParameters(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".into(),
        ));
    }
    let credential = CredentialScope::parse(credential).ok_or_else(|| AuthError::QueryParameters(
        "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".".into(),
    ))?;
    let expires_secs = parse_expires(expires)?;
    let date_secs = header::parse_amz_date(amz_date).ok_or_else(|| {
        AuthError::QueryParameters(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"".into(),
        )
    })?;
    let who = resolve(ctx, &credential.access_key, get("X-Amz-S3session-Token"))?;
    let now = unix_secs(ctx.now);
    if now > date_secs + expires_secs {
        return Err(AuthError::Expired {
            expires: header::format_iso(date_secs + expires_secs),
            server_time: header::format_iso(now),
            x_amz_expires: Some(expires.to_string()),
        });
    }
    // A URL dated ahead of our clock by more than the allowed skew is not valid yet: otherwise a
    // URL dated a year ahead would stay valid for a year and the 7-day cap would mean nothing.
    // S3: 403 AccessDenied "Request is not yet valid", echoing X-Amz-Date in milliseconds
    // (minio/minio#2638 quotes S3's body).
    if date_secs - now > MAX_SKEW_SECS {
        return Err(AuthError::NotYetValid {
            amz_date_millis: (date_secs.saturating_mul(1000)).to_string(),
            expires: header::format_iso(date_secs + expires_secs),
            server_time: header::format_iso(now),
        });
    }
    let payload = parts
        .headers
        .get(X_AMZ_CONTENT_SHA256)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(UNSIGNED_PAYLOAD);
    let auth = V4Auth {
        credential,
        signed_headers: header::split_signed_headers(signed),
        signature: signature.to_string(),
    };
    let verified = check_signature(
        parts,
        &who,
        &auth,
        amz_date,
        payload,
        Some("X-Amz-Signature"),
    )?;
    Ok(Verified {
        payload: payload_check(payload, || Err(AuthError::StreamingNotImplemented))?,
        ..verified
    })
}

fn parse_expires(v: &str) -> Result<i64, AuthError> {
    let n: i64 = v
        .parse()
        .map_err(|_| AuthError::QueryParameters("X-Amz-Expires should be a number".into()))?;
    if n < 0 {
        return Err(AuthError::QueryParameters(
            "X-Amz-Expires must be non-negative".into(),
        ));
    }
    if n > MAX_PRESIGN_EXPIRES {
        return Err(AuthError::QueryParameters(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds".into(),
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{CredentialStore, SecretKey};

    const AK: &str = "AKIAIOSFODNN7EXAMPLE";
    const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn store() -> CredentialStore {
        let mut s = CredentialStore::default();
        s.insert(AK, SecretKey::new(SK), "111122223333");
        s
    }

    fn at(amz: &str) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(header::parse_amz_date(amz).unwrap() as u64)
    }

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn sig(signed: &str, s: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={s}"
        )
    }

    /// The published AWS examples (reference §7 #1-#4) must verify; any change to them must not.
    #[test]
    fn aws_header_vectors_verify() {
        let creds = store();
        let ctx = AuthContext {
            credentials: &creds,
            virtual_host_bucket: Some("examplebucket"),
            now: at("20130524T000100Z"),
            sessions: None,
        };
        let host = "examplebucket.s3.amazonaws.com";
        let cases = [
            (
                "GET",
                "/test.txt",
                vec![("range", "bytes=0-9")],
                "host;range;x-amz-content-sha256;x-amz-date",
                EMPTY_SHA,
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            ),
            (
                "GET",
                "/?lifecycle",
                vec![],
                "host;x-amz-content-sha256;x-amz-date",
                EMPTY_SHA,
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                "GET",
                "/?max-keys=2&prefix=J",
                vec![],
                "host;x-amz-content-sha256;x-amz-date",
                EMPTY_SHA,
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
            (
                "PUT",
                "/test$file.text",
                vec![
                    ("date", "Fri, 24 May 2013 00:00:00 GMT"),
                    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ],
                "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            ),
        ];
        for (method, uri, extra, signed, payload, signature) in cases {
            let mut h = vec![
                ("host", host),
                ("x-amz-date", "20130524T000000Z"),
                ("x-amz-content-sha256", payload),
            ];
            h.extend(extra);
            let good = sig(signed, signature);
            let mut with_auth = h.clone();
            with_auth.push(("authorization", &good));
            let v = verify_header(&parts(method, uri, &with_auth), &good, &ctx).unwrap();
            assert_eq!(v.account_id, "111122223333");
            let bad = sig(signed, &signature.replace('0', "1"));
            let err = verify_header(&parts(method, uri, &h), &bad, &ctx).unwrap_err();
            assert!(
                matches!(err, AuthError::SignatureDoesNotMatch { .. }),
                "{uri}"
            );
        }
    }

    #[test]
    fn aws_presigned_vector_verifies() {
        let creds = store();
        let ctx = AuthContext {
            credentials: &creds,
            virtual_host_bucket: Some("examplebucket"),
            now: at("20130524T010000Z"),
            sessions: None,
        };
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host";
        let good = format!(
            "/test.txt?{q}&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
        let p = parts("GET", &good, &[("host", "examplebucket.s3.amazonaws.com")]);
        assert_eq!(
            verify_presigned(&p, &ctx).unwrap().payload,
            PayloadCheck::Unsigned
        );
        // issue 18: dated more than 15 minutes after our clock, it is not valid yet.
        let early = AuthContext {
            now: at("20130523T234400Z"),
            ..ctx
        };
        assert!(matches!(
            verify_presigned(&p, &early),
            Err(AuthError::NotYetValid { .. })
        ));
        let just = AuthContext {
            now: at("20130523T234600Z"),
            ..early
        };
        assert!(verify_presigned(&p, &just).is_ok());
        let late = AuthContext {
            now: at("20130525T000001Z"),
            ..just
        };
        assert!(matches!(
            verify_presigned(&p, &late),
            Err(AuthError::Expired { .. })
        ));
        let missing = parts(
            "GET",
            &format!("/test.txt?{}", q.replace("&X-Amz-Expires=86400", "")),
            &[("host", "h")],
        );
        assert!(matches!(
            verify_presigned(&missing, &late),
            Err(AuthError::QueryParameters(_))
        ));
    }

    #[test]
    fn skew_and_unknown_keys() {
        let creds = store();
        let ctx = AuthContext {
            credentials: &creds,
            virtual_host_bucket: None,
            now: at("20130524T001600Z"),
            sessions: None,
        };
        let h = [
            ("host", "h"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", EMPTY_SHA),
        ];
        let a = sig("host;x-amz-content-sha256;x-amz-date", "00");
        assert!(matches!(
            verify_header(&parts("GET", "/", &h), &a, &ctx),
            Err(AuthError::TimeTooSkewed { .. })
        ));
        let other = a.replace(AK, "NOPE");
        assert!(matches!(
            verify_header(&parts("GET", "/", &h), &other, &ctx),
            Err(AuthError::InvalidAccessKeyId(_))
        ));
    }
}
