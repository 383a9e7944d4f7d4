//! Authentication failures. `crate::error` maps each to S3's code and message.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum AuthError {
    #[error("anonymous request")]
    Anonymous,
    #[error("unknown access key {0}")]
    InvalidAccessKeyId(String),
    #[error("signature mismatch for {access_key}")]
    SignatureDoesNotMatch {
        access_key: String,
        string_to_sign: String,
        signature_provided: String,
        canonical_request: Option<String>,
    },
    #[error("malformed authorization header: {0}")]
    HeaderMalformed(String),
    #[error("bad query authentication: {0}")]
    QueryParameters(String),
    #[error("presigned request expired")]
    Expired {
        expires: String,
        server_time: String,
        x_amz_expires: Option<String>,
    },
    #[error("request time too skewed")]
    TimeTooSkewed {
        request_time: String,
        server_time: String,
    },
    #[error("missing or invalid date")]
    MissingDate,
    #[error("missing x-amz-content-sha256")]
    MissingContentSha256,
    #[error("invalid x-amz-content-sha256")]
    InvalidContentSha256,
    #[error("unsupported authorization type")]
    UnsupportedAuthorizationType,
    #[error("invalid session token")]
    InvalidToken,
    #[error("expired session token")]
    ExpiredToken,
    #[error("streaming (aws-chunked) payloads are not implemented yet")]
    StreamingNotImplemented,
    /// A presigned URL dated ahead of the server clock by more than the allowed skew.
    #[error("presigned request not yet valid")]
    NotYetValid {
        /// `X-Amz-Date` as S3 echoes it: milliseconds since the epoch.
        amz_date_millis: String,
        expires: String,
        server_time: String,
    },
    /// `x-amz-*` headers (or `host`) present but not signed, in arrival order.
    #[error("headers not signed: {0:?}")]
    HeadersNotSigned(Vec<String>),
    /// The credential scope names a service other than `s3` (or `s3express` where allowed).
    #[error("incorrect service {service}")]
    IncorrectService { service: String, presigned: bool },
    /// The credential scope names another region than the addressed resource's, or no region.
    #[error("region {region} is wrong, expecting {expected}")]
    WrongRegion {
        region: String,
        expected: String,
        presigned: bool,
    },
    /// A bodiless request declared the hash of some body.
    #[error("x-amz-content-sha256 mismatch on a request without a body")]
    ContentSha256Mismatch { client: [u8; 32] },
}
