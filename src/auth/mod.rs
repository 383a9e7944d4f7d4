//! Request authentication: AWS Signature Version 4 (header and presigned query) and, because boto3
//! still presigns with it by default, Signature Version 2 (header and query).
//!
//! `verify` looks only at the request head; it never touches the body. What the body must still prove
//! (its SHA-256, for a hex `x-amz-content-sha256`) comes back in [`PayloadCheck`] for the body layer.

mod canonical;
mod credentials;
mod error;
mod header;
#[cfg(test)]
mod proptests;
mod rules;
pub mod session;
mod signature;
mod sigv2;

use std::sync::Arc;
use std::time::SystemTime;

use http::request::Parts;

pub use canonical::{canonical_query, canonical_request, canonical_uri, string_to_sign};
pub use credentials::{Credential, CredentialStore, SecretKey};
pub use error::AuthError;
pub use rules::{EMPTY_SHA256, SERVICE_S3, SERVICE_S3_EXPRESS, is_region_name, unsigned_headers};
pub use signature::{ChunkSigner, signing_key, v4_signature};

/// What the server knows about a request's body once the head is authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadCheck {
    /// `UNSIGNED-PAYLOAD`, SigV2, or a presigned URL: nothing to check.
    Unsigned,
    /// The body's SHA-256 must equal this (a hex `x-amz-content-sha256`).
    Sha256([u8; 32]),
    /// An aws-chunked body: chunk signatures to check when `signer` is there, and a trailer
    /// (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`).
    Streaming {
        signer: Option<Arc<ChunkSigner>>,
        trailer: bool,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Verified {
    pub access_key: String,
    pub account_id: String,
    pub payload: PayloadCheck,
    /// Set when the request was signed with S3 Express session credentials.
    pub session: Option<session::Session>,
    /// The SigV4 credential scope's region and service (`None` for SigV2, which has no scope).
    /// `ops` checks them against the addressed bucket, the only place its region is known.
    pub scope: Option<SignedScope>,
}

/// What a SigV4 signature was scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedScope {
    pub region: String,
    pub service: String,
    /// A presigned URL (errors about its scope read "Error parsing the X-Amz-Credential
    /// parameter" instead of "The authorization header is malformed").
    pub presigned: bool,
}

impl SignedScope {
    /// The error for a scope whose region is not `expected`.
    pub fn wrong_region(&self, expected: &str) -> AuthError {
        AuthError::WrongRegion {
            region: self.region.clone(),
            expected: expected.to_string(),
            presigned: self.presigned,
        }
    }

    /// The error for a scope whose service does not fit the resource (`s3express` on a general
    /// purpose bucket).
    pub fn incorrect_service(&self) -> AuthError {
        AuthError::IncorrectService {
            service: self.service.clone(),
            presigned: self.presigned,
        }
    }
}

/// How far a request's clock may be from ours (S3: 15 minutes).
pub const MAX_SKEW_SECS: i64 = 15 * 60;

/// The parts of the server configuration authentication needs.
pub struct AuthContext<'a> {
    pub credentials: &'a CredentialStore,
    /// The virtual-host bucket, if the request used one (SigV2 signs `/bucket/key`).
    pub virtual_host_bucket: Option<&'a str>,
    pub now: SystemTime,
    /// Verifies S3 Express session tokens (directory buckets).
    pub sessions: Option<&'a session::SessionKeys>,
}

/// Authenticates the request head. Anonymous requests are refused: every sealstore resource is private.
pub fn verify(parts: &Parts, ctx: &AuthContext<'_>) -> Result<Verified, AuthError> {
    let query = parts.uri.query().unwrap_or("");
    let authz = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| AuthError::HeaderMalformed(header::MALFORMED.into()))
        })
        .transpose()?;
    let has_query = |name: &str| form_urlencoded::parse(query.as_bytes()).any(|(n, _)| n == name);
    let verified = match authz {
        Some(a) if a.starts_with("AWS4-HMAC-SHA256") => signature::verify_header(parts, a, ctx),
        Some(a) if a.starts_with("AWS ") => sigv2::verify_header(parts, a, ctx),
        Some(_) => Err(AuthError::UnsupportedAuthorizationType),
        None if has_query("X-Amz-Algorithm")
            || has_query("X-Amz-Signature")
            || has_query("X-Amz-Credential") =>
        {
            signature::verify_presigned(parts, ctx)
        }
        None if has_query("AWSAccessKeyId") || has_query("Signature") => {
            sigv2::verify_query(parts, ctx)
        }
        None => Err(AuthError::Anonymous),
    }?;
    if let PayloadCheck::Sha256(declared) = &verified.payload {
        rules::check_bodiless_payload(&parts.headers, declared)?;
    }
    Ok(verified)
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
