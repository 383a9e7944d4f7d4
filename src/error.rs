//! The one place where errors become S3 error responses.
//!
//! Every layer has its own error enum (`AuthError`, `StoreError`, ...). This module owns the list of S3
//! error codes, their HTTP status, and the `From` conversions that turn layer errors into [`S3Error`].
//! Rendering is side-effect free: the request id is attached by the HTTP layer, and internal causes are
//! logged once there, never sent to the client.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode};

use crate::auth::AuthError;
use crate::crypto::CryptoError;
use crate::integrity::IntegrityError;
use crate::store::StoreError;

/// S3 error codes sealstore can answer with. Names are S3's, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3ErrorCode {
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    ExpiredToken,
    IncompleteBody,
    InternalError,
    InvalidAccessKeyId,
    InvalidArgument,
    InvalidBucketName,
    InvalidChunkSizeError,
    InvalidDigest,
    InvalidEncryptionAlgorithmError,
    InvalidLocationConstraint,
    InvalidPart,
    InvalidPartNumber,
    InvalidPartOrder,
    InvalidRange,
    InvalidRequest,
    InvalidToken,
    InvalidURI,
    KeyTooLongError,
    KmsNotFound,
    MalformedTrailerError,
    MalformedXML,
    MaxMessageLengthExceeded,
    MetadataTooLarge,
    MethodNotAllowed,
    MissingContentLength,
    MissingRequestBodyError,
    NoSuchBucket,
    NoSuchBucketPolicy,
    NoSuchCORSConfiguration,
    NoSuchKey,
    NoSuchLifecycleConfiguration,
    NoSuchPublicAccessBlockConfiguration,
    NoSuchTagSet,
    NoSuchUpload,
    NoSuchWebsiteConfiguration,
    NotImplemented,
    OwnershipControlsNotFoundError,
    PreconditionFailed,
    RequestHeaderSectionTooLarge,
    RequestTimeTooSkewed,
    RequestTimeout,
    ServerSideEncryptionConfigurationNotFoundError,
    SignatureDoesNotMatch,
    TooManyBuckets,
    XAmzContentSHA256Mismatch,
}

impl S3ErrorCode {
    pub fn as_str(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "AccessDenied",
            AuthorizationHeaderMalformed => "AuthorizationHeaderMalformed",
            AuthorizationQueryParametersError => "AuthorizationQueryParametersError",
            BadDigest => "BadDigest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            EntityTooLarge => "EntityTooLarge",
            EntityTooSmall => "EntityTooSmall",
            ExpiredToken => "ExpiredToken",
            IncompleteBody => "IncompleteBody",
            InternalError => "InternalError",
            InvalidAccessKeyId => "InvalidAccessKeyId",
            InvalidArgument => "InvalidArgument",
            InvalidBucketName => "InvalidBucketName",
            InvalidChunkSizeError => "InvalidChunkSizeError",
            InvalidDigest => "InvalidDigest",
            InvalidEncryptionAlgorithmError => "InvalidEncryptionAlgorithmError",
            InvalidLocationConstraint => "InvalidLocationConstraint",
            InvalidPart => "InvalidPart",
            InvalidPartNumber => "InvalidPartNumber",
            InvalidPartOrder => "InvalidPartOrder",
            InvalidRange => "InvalidRange",
            InvalidRequest => "InvalidRequest",
            InvalidToken => "InvalidToken",
            InvalidURI => "InvalidURI",
            KeyTooLongError => "KeyTooLongError",
            KmsNotFound => "KMS.NotFoundException",
            MalformedTrailerError => "MalformedTrailerError",
            MalformedXML => "MalformedXML",
            MaxMessageLengthExceeded => "MaxMessageLengthExceeded",
            MetadataTooLarge => "MetadataTooLarge",
            MethodNotAllowed => "MethodNotAllowed",
            MissingContentLength => "MissingContentLength",
            MissingRequestBodyError => "MissingRequestBodyError",
            NoSuchBucket => "NoSuchBucket",
            NoSuchBucketPolicy => "NoSuchBucketPolicy",
            NoSuchCORSConfiguration => "NoSuchCORSConfiguration",
            NoSuchKey => "NoSuchKey",
            NoSuchLifecycleConfiguration => "NoSuchLifecycleConfiguration",
            NoSuchPublicAccessBlockConfiguration => "NoSuchPublicAccessBlockConfiguration",
            NoSuchTagSet => "NoSuchTagSet",
            NoSuchUpload => "NoSuchUpload",
            NoSuchWebsiteConfiguration => "NoSuchWebsiteConfiguration",
            NotImplemented => "NotImplemented",
            OwnershipControlsNotFoundError => "OwnershipControlsNotFoundError",
            PreconditionFailed => "PreconditionFailed",
            RequestHeaderSectionTooLarge => "RequestHeaderSectionTooLarge",
            RequestTimeTooSkewed => "RequestTimeTooSkewed",
            RequestTimeout => "RequestTimeout",
            ServerSideEncryptionConfigurationNotFoundError => {
                "ServerSideEncryptionConfigurationNotFoundError"
            }
            SignatureDoesNotMatch => "SignatureDoesNotMatch",
            TooManyBuckets => "TooManyBuckets",
            XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
        }
    }

    pub fn status(self) -> StatusCode {
        use S3ErrorCode::*;
        match self {
            AccessDenied
            | InvalidAccessKeyId
            | InvalidToken
            | RequestTimeTooSkewed
            | SignatureDoesNotMatch => StatusCode::FORBIDDEN,
            NoSuchBucket
            | NoSuchBucketPolicy
            | NoSuchCORSConfiguration
            | NoSuchKey
            | NoSuchLifecycleConfiguration
            | NoSuchPublicAccessBlockConfiguration
            | NoSuchTagSet
            | NoSuchUpload
            | NoSuchWebsiteConfiguration
            | OwnershipControlsNotFoundError
            | ServerSideEncryptionConfigurationNotFoundError => StatusCode::NOT_FOUND,
            BucketAlreadyExists | BucketAlreadyOwnedByYou | BucketNotEmpty => StatusCode::CONFLICT,
            InvalidRange | InvalidPartNumber => StatusCode::RANGE_NOT_SATISFIABLE,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            MissingContentLength => StatusCode::LENGTH_REQUIRED,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            AuthorizationHeaderMalformed
            | AuthorizationQueryParametersError
            | BadDigest
            | EntityTooLarge
            | EntityTooSmall
            | ExpiredToken
            | IncompleteBody
            | InvalidArgument
            | InvalidBucketName
            | InvalidChunkSizeError
            | InvalidDigest
            | InvalidEncryptionAlgorithmError
            | InvalidLocationConstraint
            | InvalidPart
            | InvalidPartOrder
            | InvalidRequest
            | InvalidURI
            | KeyTooLongError
            | KmsNotFound
            | MalformedTrailerError
            | MalformedXML
            | MaxMessageLengthExceeded
            | MetadataTooLarge
            | MissingRequestBodyError
            | RequestHeaderSectionTooLarge
            | RequestTimeout
            | TooManyBuckets
            | XAmzContentSHA256Mismatch => StatusCode::BAD_REQUEST,
        }
    }

    /// S3's generic description, used when an error has nothing more specific to say.
    pub fn default_message(self) -> &'static str {
        use S3ErrorCode::*;
        match self {
            AccessDenied => "Access Denied",
            BucketAlreadyExists => {
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
            }
            BucketAlreadyOwnedByYou => {
                "Your previous request to create the named bucket succeeded and you already own it."
            }
            BucketNotEmpty => "The bucket you tried to delete is not empty",
            InternalError => "We encountered an internal error. Please try again.",
            InvalidBucketName => "The specified bucket is not valid.",
            InvalidRange => "The requested range is not satisfiable",
            MalformedXML => {
                "The XML you provided was not well-formed or did not validate against our published schema"
            }
            MethodNotAllowed => "The specified method is not allowed against this resource.",
            MissingContentLength => "You must provide the Content-Length HTTP header.",
            NoSuchBucket => "The specified bucket does not exist",
            NoSuchKey => "The specified key does not exist.",
            NoSuchBucketPolicy => "The bucket policy does not exist",
            NoSuchCORSConfiguration => "The CORS configuration does not exist",
            NoSuchLifecycleConfiguration => "The lifecycle configuration does not exist",
            NoSuchPublicAccessBlockConfiguration => {
                "The public access block configuration was not found"
            }
            NoSuchTagSet => "The TagSet does not exist",
            NoSuchUpload => {
                "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            }
            InvalidPart => {
                "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
            }
            InvalidPartOrder => {
                "The list of parts was not in ascending order. The parts list must be specified in order by part number."
            }
            InvalidPartNumber => "The requested partnumber is not satisfiable",
            EntityTooSmall => {
                "Your proposed upload is smaller than the minimum allowed object size."
            }
            NoSuchWebsiteConfiguration => {
                "The specified bucket does not have a website configuration"
            }
            NotImplemented => {
                "A header you provided implies functionality that is not implemented."
            }
            OwnershipControlsNotFoundError => "The bucket ownership controls were not found",
            ServerSideEncryptionConfigurationNotFoundError => {
                "The server side encryption configuration was not found"
            }
            PreconditionFailed => "At least one of the pre-conditions you specified did not hold",
            KeyTooLongError => "Your key is too long",
            MaxMessageLengthExceeded => "Your request was too big.",
            MetadataTooLarge => "Your metadata headers exceed the maximum allowed metadata size.",
            RequestHeaderSectionTooLarge => {
                "Your request header section exceeds the maximum allowed size."
            }
            RequestTimeout => {
                "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
            }
            TooManyBuckets => "You have attempted to create more buckets than allowed",
            _ => "",
        }
    }
}

/// Errors of directory buckets (S3 Express One Zone) whose code no public source confirms
/// (`directory-buckets.md` marks them unverified). They are all here, so that each can be corrected
/// in one place once checked against AWS; the message says what is wrong either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// An unknown, malformed or edited `x-amz-s3session-token`.
    InvalidSessionToken,
    /// A session token past its five minutes.
    ExpiredSessionToken,
    /// A session used on another bucket, or a ReadOnly session on a write.
    SessionNotAllowed,
    /// The zone in a directory bucket's name is not the configuration's `Location/Name`.
    ZoneMismatch,
    /// A directory bucket's CreateBucket without `Location` + `Bucket` configuration.
    MissingDirectoryConfiguration,
    /// `DataRedundancy` that does not go with the location type.
    DataRedundancyMismatch,
    /// A `Directory` bucket configuration on a name without the `--x-s3` suffix.
    DirectoryConfigOnGeneralName,
    /// CreateSession on a general purpose bucket.
    SessionOnGeneralBucket,
    /// `x-amz-expected-bucket-owner` on a directory bucket's encryption operations.
    ExpectedOwnerNotSupported,
    /// PutBucketEncryption: an algorithm other than AES256 / aws:kms.
    DirectoryAlgorithm,
    /// PutBucketEncryption aws:kms without a key id.
    DirectoryKmsKeyRequired,
    /// A KMS alias where a key id or ARN is required.
    DirectoryKmsAlias,
    /// A second customer managed key for a directory bucket.
    DirectoryKmsKeyLocked,
    /// `BlockedEncryptionTypes` on a directory bucket.
    DirectoryBlockedTypes,
    /// An object write whose SSE does not fit the directory bucket (DSSE, SSE-C, another key,
    /// another algorithm than the bucket default, another encryption context).
    DirectoryObjectEncryption,
    /// ListObjectsV2 with a delimiter other than `/`.
    DirectoryDelimiter,
    /// ListObjects (v1) on a directory bucket.
    DirectoryListV1,
}

impl Unverified {
    pub fn error(self) -> S3Error {
        use S3ErrorCode as C;
        use Unverified::*;
        let (code, message) = match self {
            InvalidSessionToken => (
                C::InvalidToken,
                "The provided token is malformed or otherwise invalid.",
            ),
            ExpiredSessionToken => (C::ExpiredToken, "The provided token has expired."),
            SessionNotAllowed => (C::AccessDenied, "Access Denied"),
            ZoneMismatch => (
                C::InvalidBucketName,
                "The zone in the bucket name does not match the zone in the bucket's Location.",
            ),
            MissingDirectoryConfiguration => (
                C::MalformedXML,
                "A directory bucket needs a CreateBucketConfiguration with Location and Bucket.",
            ),
            DataRedundancyMismatch => (
                C::InvalidArgument,
                "DataRedundancy does not match the location type.",
            ),
            DirectoryConfigOnGeneralName => (
                C::InvalidBucketName,
                "Directory bucket names must end with --<zone-id>--x-s3.",
            ),
            SessionOnGeneralBucket => (
                C::InvalidRequest,
                "CreateSession is supported only for directory buckets.",
            ),
            ExpectedOwnerNotSupported => (
                C::NotImplemented,
                "x-amz-expected-bucket-owner is not supported for directory buckets.",
            ),
            DirectoryAlgorithm => (
                C::InvalidArgument,
                "Directory buckets support only AES256 and aws:kms server-side encryption.",
            ),
            DirectoryKmsKeyRequired => (
                C::InvalidArgument,
                "A customer managed KMS key id or ARN is required for aws:kms on a directory bucket.",
            ),
            DirectoryKmsAlias => (
                C::InvalidArgument,
                "KMS key aliases are not supported for directory buckets: use a key id or key ARN.",
            ),
            DirectoryKmsKeyLocked => (
                C::InvalidArgument,
                "A directory bucket keeps its first customer managed key for its lifetime; another key cannot be set.",
            ),
            DirectoryBlockedTypes => (
                C::InvalidArgument,
                "BlockedEncryptionTypes is not supported for directory buckets.",
            ),
            DirectoryObjectEncryption => (
                C::InvalidArgument,
                "The encryption request headers must match the default encryption configuration of the directory bucket.",
            ),
            DirectoryDelimiter => (
                C::InvalidRequest,
                "This bucket supports only / as a delimiter.",
            ),
            DirectoryListV1 => (
                C::NotImplemented,
                "ListObjects (version 1) is not supported for directory buckets; use ListObjectsV2.",
            ),
        };
        S3Error::with_message(code, message)
    }
}

/// An S3 error response: code, message and the extra elements S3 puts between `Message` and
/// `RequestId` (`BucketName`, `Key`, `ArgumentName`, ...). The internal cause, if any, is kept for
/// the log and never rendered.
#[derive(Debug)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: String,
    pub fields: Vec<(&'static str, String)>,
    pub headers: Vec<(&'static str, String)>,
    pub internal: Option<String>,
}

impl S3Error {
    pub fn new(code: S3ErrorCode) -> Self {
        S3Error {
            code,
            message: code.default_message().to_string(),
            fields: Vec::new(),
            headers: Vec::new(),
            internal: None,
        }
    }

    pub fn with_message(code: S3ErrorCode, message: impl Into<String>) -> Self {
        let mut e = Self::new(code);
        e.message = message.into();
        e
    }

    /// Adds an element to the error body (`<name>value</name>`), in S3's order of calls.
    pub fn field(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((name, value.into()));
        self
    }

    /// Adds a response header to the error (e.g. `x-amz-bucket-region` on HEAD errors).
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let mut e = Self::new(S3ErrorCode::InternalError);
        e.internal = Some(cause.to_string());
        e
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchBucket).field("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::new(S3ErrorCode::NoSuchKey).field("Key", key)
    }

    pub fn not_implemented(what: &str) -> Self {
        Self::with_message(
            S3ErrorCode::NotImplemented,
            format!("{what} is not implemented by sealstore."),
        )
    }

    pub fn invalid_argument(message: impl Into<String>, name: &str, value: &str) -> Self {
        Self::with_message(S3ErrorCode::InvalidArgument, message)
            .field("ArgumentName", name)
            .field("ArgumentValue", value)
    }

    /// Renders the XML body S3 sends, with the request path as `Resource` and the request id.
    pub fn to_xml(&self, resource: &str, request_id: &str, host_id: &str) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>");
        out.push_str(self.code.as_str());
        out.push_str("</Code><Message>");
        out.push_str(&crate::http::xml::escape(&self.message));
        out.push_str("</Message>");
        for (name, value) in &self.fields {
            out.push('<');
            out.push_str(name);
            out.push('>');
            out.push_str(&crate::http::xml::escape(value));
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
        out.push_str("<Resource>");
        out.push_str(&crate::http::xml::escape(resource));
        out.push_str("</Resource><RequestId>");
        out.push_str(request_id);
        out.push_str("</RequestId><HostId>");
        out.push_str(host_id);
        out.push_str("</HostId></Error>");
        out
    }
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for S3Error {}

/// The error travels to the response layer as an extension; `http::entry` renders it there with the
/// request id (so this conversion never needs global state).
impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let mut res = Response::new(axum::body::Body::empty());
        *res.status_mut() = self.code.status();
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                res.headers_mut().insert(*name, v);
            }
        }
        res.extensions_mut().insert(std::sync::Arc::new(self));
        res
    }
}

impl From<AuthError> for S3Error {
    fn from(e: AuthError) -> Self {
        use S3ErrorCode as C;
        match e {
            AuthError::Anonymous => S3Error::new(C::AccessDenied),
            AuthError::InvalidAccessKeyId(ak) => S3Error::with_message(
                C::InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records.",
            )
            .field("AWSAccessKeyId", ak),
            AuthError::SignatureDoesNotMatch { access_key, string_to_sign, signature_provided, canonical_request } => {
                let mut err = S3Error::with_message(
                    C::SignatureDoesNotMatch,
                    "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
                )
                .field("AWSAccessKeyId", access_key)
                .field("StringToSign", string_to_sign.clone())
                .field("SignatureProvided", signature_provided)
                .field("StringToSignBytes", hex_bytes(&string_to_sign));
                if let Some(cr) = canonical_request {
                    err = err.field("CanonicalRequest", cr.clone()).field("CanonicalRequestBytes", hex_bytes(&cr));
                }
                err
            }
            AuthError::HeaderMalformed(m) => S3Error::with_message(C::AuthorizationHeaderMalformed, m),
            AuthError::QueryParameters(m) => S3Error::with_message(C::AuthorizationQueryParametersError, m),
            AuthError::Expired { expires, server_time, x_amz_expires } => {
                let mut err = S3Error::with_message(C::AccessDenied, "Request has expired");
                if let Some(x) = x_amz_expires {
                    err = err.field("X-Amz-Expires", x);
                }
                err.field("Expires", expires).field("ServerTime", server_time)
            }
            AuthError::TimeTooSkewed { request_time, server_time } => S3Error::with_message(
                C::RequestTimeTooSkewed,
                "The difference between the request time and the current time is too large.",
            )
            .field("RequestTime", request_time)
            .field("ServerTime", server_time)
            .field("MaxAllowedSkewMilliseconds", "900000"),
            AuthError::MissingDate => {
                S3Error::with_message(C::AccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
            }
            AuthError::MissingContentSha256 => S3Error::with_message(
                C::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            ),
            AuthError::InvalidContentSha256 => S3Error::with_message(
                C::InvalidArgument,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
            )
            .field("ArgumentName", "x-amz-content-sha256"),
            AuthError::UnsupportedAuthorizationType => {
                S3Error::with_message(C::InvalidArgument, "Unsupported Authorization Type")
                    .field("ArgumentName", "Authorization")
            }
            AuthError::InvalidToken => Unverified::InvalidSessionToken.error(),
            AuthError::ExpiredToken => Unverified::ExpiredSessionToken.error(),
            AuthError::StreamingNotImplemented => S3Error::with_message(
                C::NotImplemented,
                "aws-chunked streaming uploads are not implemented by sealstore yet.",
            ),
        }
    }
}

impl From<IntegrityError> for S3Error {
    fn from(e: IntegrityError) -> Self {
        use S3ErrorCode as C;
        let b64 = |b: &[u8]| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        let invalid_request = |m: &str| S3Error::with_message(C::InvalidRequest, m);
        match e {
            IntegrityError::InvalidContentMd5(v) => S3Error::with_message(
                C::InvalidDigest,
                "The Content-MD5 you specified was invalid.",
            )
            .field("Content-MD5", v),
            IntegrityError::Md5Mismatch {
                expected,
                calculated,
            } => S3Error::with_message(
                C::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            )
            .field("ExpectedDigest", hex::encode(expected))
            .field("CalculatedDigest", b64(&calculated)),
            IntegrityError::Sha256Mismatch { client, computed } => S3Error::with_message(
                C::XAmzContentSHA256Mismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .field("ClientComputedContentSHA256", hex::encode(client))
            .field("S3ComputedContentSHA256", hex::encode(computed)),
            IntegrityError::ChecksumMismatch(alg) => S3Error::with_message(
                C::BadDigest,
                format!(
                    "The {} you specified did not match the calculated checksum.",
                    alg.name()
                ),
            ),
            IntegrityError::InvalidChecksumValue { name, trailing } => invalid_request(&format!(
                "Value for {name} {}header is invalid.",
                if trailing { "trailing " } else { "" }
            )),
            IntegrityError::MultipleChecksums => invalid_request(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
            ),
            IntegrityError::HeaderAndTrailer => {
                invalid_request("Expecting a single x-amz-checksum- header")
            }
            IntegrityError::UnknownChecksumAlgorithm => invalid_request(
                "The algorithm type you specified in x-amz-checksum- header is invalid.",
            ),
            IntegrityError::SdkAlgorithmWithoutChecksum => invalid_request(
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.",
            ),
            IntegrityError::SdkAlgorithmMismatch => {
                invalid_request("Value for x-amz-sdk-checksum-algorithm header is invalid.")
            }
            IntegrityError::UnsupportedTrailer => {
                invalid_request("The value specified in the x-amz-trailer header is not supported")
            }
            IntegrityError::MalformedTrailer => S3Error::with_message(
                C::MalformedTrailerError,
                "The request contained trailing data that was not well-formed or did not conform to our published schema.",
            ),
            IntegrityError::IncompleteBody => S3Error::with_message(
                C::IncompleteBody,
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
            ),
            IntegrityError::MalformedChunk(what) => invalid_request(&format!(
                "The aws-chunked request body is malformed: {what}."
            )),
            IntegrityError::ChunkSignatureMismatch => S3Error::with_message(
                C::SignatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
            ),
            IntegrityError::InvalidChunkSize { chunk, size } => S3Error::with_message(
                C::InvalidChunkSizeError,
                "Only the last chunk is allowed to have a size less than 8192 bytes",
            )
            .field("Chunk", chunk.to_string())
            .field("BadChunkSize", size.to_string()),
            IntegrityError::MissingDecodedLength => S3Error::with_message(
                C::MissingContentLength,
                "You must provide the Content-Length HTTP header.",
            ),
            IntegrityError::TooLarge { max } => S3Error::with_message(
                C::EntityTooLarge,
                "Your proposed upload exceeds the maximum allowed size",
            )
            .field("MaxSizeAllowed", max.to_string()),
            IntegrityError::RequestTimeout => S3Error::new(C::RequestTimeout),
            IntegrityError::MissingIntegrityHeader => {
                invalid_request("Missing required header for this request: Content-MD5")
            }
        }
    }
}

impl From<CryptoError> for S3Error {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::KmsNotFound { message } => {
                S3Error::with_message(S3ErrorCode::KmsNotFound, message)
            }
            // Tampering, a wrong key, a broken key store: the client learns nothing, the log does.
            other => S3Error::internal(other),
        }
    }
}

/// S3's `...Bytes` debugging elements: each byte as two hex digits, space separated.
fn hex_bytes(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for (i, b) in s.bytes().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket(b) => S3Error::no_such_bucket(&b),
            StoreError::BucketNotEmpty(b) => {
                S3Error::new(S3ErrorCode::BucketNotEmpty).field("BucketName", b)
            }
            StoreError::BucketExists { bucket, .. } => {
                S3Error::new(S3ErrorCode::BucketAlreadyExists).field("BucketName", bucket)
            }
            StoreError::TooManyBuckets => S3Error::new(S3ErrorCode::TooManyBuckets),
            StoreError::NoSuchUpload(id) => {
                S3Error::new(S3ErrorCode::NoSuchUpload).field("UploadId", id)
            }
            StoreError::PartChanged(n) => {
                S3Error::new(S3ErrorCode::InvalidPart).field("PartNumber", n.to_string())
            }
            other => S3Error::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_s3() {
        assert_eq!(S3ErrorCode::NoSuchKey.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            S3ErrorCode::SignatureDoesNotMatch.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(S3ErrorCode::BucketNotEmpty.status(), StatusCode::CONFLICT);
        assert_eq!(
            S3ErrorCode::InvalidRange.status(),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
        assert_eq!(
            S3ErrorCode::NotImplemented.status(),
            StatusCode::NOT_IMPLEMENTED
        );
        assert_eq!(
            S3ErrorCode::MissingContentLength.status(),
            StatusCode::LENGTH_REQUIRED
        );
        assert_eq!(
            S3ErrorCode::AuthorizationHeaderMalformed.status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn xml_shape() {
        let e = S3Error::no_such_bucket("b&b");
        let xml = e.to_xml("/b&b", "REQ1", "HOST1");
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>b&amp;b</BucketName><Resource>/b&amp;b</Resource><RequestId>REQ1</RequestId><HostId>HOST1</HostId></Error>"
        );
    }
}
