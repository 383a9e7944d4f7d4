//! Each layer's error enum mapped to its S3 error, in one place.

use super::{S3Error, S3ErrorCode, Unverified};
use crate::auth::AuthError;
use crate::crypto::CryptoError;
use crate::header_names::{X_AMZ_BUCKET_REGION, X_AMZ_CONTENT_SHA256};
use crate::integrity::IntegrityError;
use crate::store::StoreError;

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
            .field("ArgumentName", X_AMZ_CONTENT_SHA256),
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
            other => scope_error(other),
        }
    }
}

/// The authentication errors of issue 18: a URL from the future, unsigned headers, a wrong
/// credential scope, a bodiless request that declared a body's hash.
fn scope_error(e: AuthError) -> S3Error {
    use S3ErrorCode as C;
    // Presigned URLs carry their scope in X-Amz-Credential, and S3 words its errors after it.
    let malformed = |presigned: bool, detail: String| {
        if presigned {
            S3Error::with_message(
                C::AuthorizationQueryParametersError,
                format!("Error parsing the X-Amz-Credential parameter; {detail}"),
            )
        } else {
            S3Error::with_message(
                C::AuthorizationHeaderMalformed,
                format!("The authorization header is malformed; {detail}"),
            )
        }
    };
    match e {
        // minio/minio#2638 quotes S3's body: X-Amz-Date (in milliseconds), Expires, ServerTime.
        AuthError::NotYetValid {
            amz_date_millis,
            expires,
            server_time,
        } => S3Error::with_message(C::AccessDenied, "Request is not yet valid")
            .field("X-Amz-Date", amz_date_millis)
            .field("Expires", expires)
            .field("ServerTime", server_time),
        // S3 names them comma-and-space separated (badslug/Paw-AWSSignature4DynamicValue#4).
        AuthError::HeadersNotSigned(names) => S3Error::with_message(
            C::AccessDenied,
            "There were headers present in the request which were not signed",
        )
        .field("HeadersNotSigned", names.join(", ")),
        AuthError::IncorrectService { service, presigned } => malformed(
            presigned,
            format!("incorrect service \"{service}\". This endpoint belongs to \"s3\"."),
        ),
        // S3's answer carries the expected region as <Region> and as x-amz-bucket-region, which
        // the SDKs read to re-sign for the right region (minio/minio-go#677 shows both).
        AuthError::WrongRegion {
            region,
            expected,
            presigned,
        } => malformed(
            presigned,
            format!("the region '{region}' is wrong; expecting '{expected}'"),
        )
        .field("Region", expected.clone())
        .header(X_AMZ_BUCKET_REGION, expected),
        AuthError::ContentSha256Mismatch { client } => {
            S3Error::from(IntegrityError::Sha256Mismatch {
                client,
                computed: crate::auth::EMPTY_SHA256,
            })
        }
        other => S3Error::internal(other),
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
            // An object record naming another bucket's (or account's, or KMS key's) bucket key:
            // tampering or a bug; refused like any other integrity failure.
            e @ CryptoError::BucketKeyMismatch => S3Error::internal(e),
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
            StoreError::PreconditionFailed(cond) => {
                let header = match cond {
                    crate::store::WriteCondition::Absent => "If-None-Match",
                    _ => "If-Match",
                };
                S3Error::new(S3ErrorCode::PreconditionFailed).field("Condition", header)
            }
            StoreError::ConditionNoObject(key) => S3Error::no_such_key(&key),
            StoreError::ConditionConflict | StoreError::ObjectChanged => {
                S3Error::new(S3ErrorCode::ConditionalRequestConflict)
            }
            StoreError::PartChanged(n) => {
                S3Error::new(S3ErrorCode::InvalidPart).field("PartNumber", n.to_string())
            }
            other => S3Error::internal(other),
        }
    }
}
