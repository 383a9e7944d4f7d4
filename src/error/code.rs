//! S3's error codes: name, HTTP status and default message of each.

use http::StatusCode;

/// S3 error codes sealstore can answer with. Names are S3's, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum S3ErrorCode {
    AccessDenied,
    AuthorizationHeaderMalformed,
    AuthorizationQueryParametersError,
    BadDigest,
    BadRequest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    EntityTooSmall,
    ExpiredToken,
    IllegalLocationConstraintException,
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
    InvalidStorageClass,
    InvalidTag,
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
    NoSuchVersion,
    ObjectLockConfigurationNotFoundError,
    NoSuchWebsiteConfiguration,
    NotImplemented,
    OwnershipControlsNotFoundError,
    PreconditionFailed,
    ConditionalRequestConflict,
    OperationAborted,
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
            BadRequest => "BadRequest",
            BucketAlreadyExists => "BucketAlreadyExists",
            BucketAlreadyOwnedByYou => "BucketAlreadyOwnedByYou",
            BucketNotEmpty => "BucketNotEmpty",
            EntityTooLarge => "EntityTooLarge",
            EntityTooSmall => "EntityTooSmall",
            ExpiredToken => "ExpiredToken",
            IllegalLocationConstraintException => "IllegalLocationConstraintException",
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
            InvalidStorageClass => "InvalidStorageClass",
            InvalidTag => "InvalidTag",
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
            NoSuchVersion => "NoSuchVersion",
            ObjectLockConfigurationNotFoundError => "ObjectLockConfigurationNotFoundError",
            NoSuchWebsiteConfiguration => "NoSuchWebsiteConfiguration",
            NotImplemented => "NotImplemented",
            OwnershipControlsNotFoundError => "OwnershipControlsNotFoundError",
            PreconditionFailed => "PreconditionFailed",
            ConditionalRequestConflict => "ConditionalRequestConflict",
            OperationAborted => "OperationAborted",
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
            | NoSuchVersion
            | ObjectLockConfigurationNotFoundError
            | NoSuchWebsiteConfiguration
            | OwnershipControlsNotFoundError
            | ServerSideEncryptionConfigurationNotFoundError => StatusCode::NOT_FOUND,
            BucketAlreadyExists
            | BucketAlreadyOwnedByYou
            | BucketNotEmpty
            | ConditionalRequestConflict
            | OperationAborted => StatusCode::CONFLICT,
            InvalidRange | InvalidPartNumber => StatusCode::RANGE_NOT_SATISFIABLE,
            PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            MissingContentLength => StatusCode::LENGTH_REQUIRED,
            NotImplemented => StatusCode::NOT_IMPLEMENTED,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            AuthorizationHeaderMalformed
            | AuthorizationQueryParametersError
            | BadDigest
            | BadRequest
            | EntityTooLarge
            | EntityTooSmall
            | ExpiredToken
            | IllegalLocationConstraintException
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
            | InvalidStorageClass
            | InvalidTag
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
            // S3's answer to a request it cannot parse as HTTP (swift3's functional tests and
            // versitygw's REST tests record S3's XML: BadRequest with this message).
            BadRequest => "An error occurred when parsing the HTTP request.",
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
            NoSuchVersion => "The specified version does not exist.",
            ObjectLockConfigurationNotFoundError => {
                "Object Lock configuration does not exist for this bucket"
            }
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
            InvalidStorageClass => "The storage class you specified is not valid",
            InvalidTag => "The tag provided was not a valid tag.",
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
            OperationAborted => {
                "A conflicting conditional action is currently in progress against this resource. Try again."
            }
            ConditionalRequestConflict => {
                "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CompleteMultipartUpload request or re-initiate the multipart upload."
            }
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
