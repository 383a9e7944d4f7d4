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
}
