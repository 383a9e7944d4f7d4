//! Directory-bucket errors whose code no public source confirms, kept in one table.

use super::{S3Error, S3ErrorCode};

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
