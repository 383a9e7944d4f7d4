//! Integrity failures; `crate::error` maps each to S3's code and message.

use thiserror::Error;

use super::ChecksumAlgorithm;

#[derive(Debug, Error)]
pub enum IntegrityError {
    #[error("malformed Content-MD5")]
    InvalidContentMd5(String),
    #[error("Content-MD5 mismatch")]
    Md5Mismatch {
        expected: [u8; 16],
        calculated: [u8; 16],
    },
    #[error("x-amz-content-sha256 mismatch")]
    Sha256Mismatch {
        client: [u8; 32],
        computed: [u8; 32],
    },
    #[error("{0:?} checksum mismatch")]
    ChecksumMismatch(ChecksumAlgorithm),
    #[error("malformed checksum value in {name}")]
    InvalidChecksumValue { name: String, trailing: bool },
    #[error("more than one x-amz-checksum header")]
    MultipleChecksums,
    #[error("checksum both as header and trailer")]
    HeaderAndTrailer,
    #[error("unknown x-amz-checksum algorithm")]
    UnknownChecksumAlgorithm,
    #[error("x-amz-sdk-checksum-algorithm without a checksum")]
    SdkAlgorithmWithoutChecksum,
    #[error("x-amz-sdk-checksum-algorithm does not match the checksum sent")]
    SdkAlgorithmMismatch,
    #[error("unsupported x-amz-trailer")]
    UnsupportedTrailer,
    #[error("malformed trailer")]
    MalformedTrailer,
    #[error("body shorter or longer than declared")]
    IncompleteBody,
    #[error("malformed aws-chunked body: {0}")]
    MalformedChunk(&'static str),
    #[error("chunk signature mismatch")]
    ChunkSignatureMismatch,
    #[error("chunk {chunk} has {size} bytes; only the last may be under 8192")]
    InvalidChunkSize { chunk: usize, size: u64 },
    #[error("aws-chunked body without x-amz-decoded-content-length")]
    MissingDecodedLength,
    #[error("body larger than allowed")]
    TooLarge { max: u64 },
    #[error("the client sent nothing within the body timeout")]
    RequestTimeout,
    #[error("missing integrity header")]
    MissingIntegrityHeader,
}

/// The error a request body stream yields when its client stalls past the idle timeout (see
/// `http::timeout`); found in a stream error's source chain by [`stream_error`].
#[derive(Debug, Error)]
#[error("request body idle timeout")]
pub struct BodyTimedOut;

/// What a failed read of the request body means: the client stalled (`RequestTimeout`) or the
/// body ended early or broke (`IncompleteBody`).
pub fn stream_error(e: &(dyn std::error::Error + 'static)) -> IntegrityError {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimedOut>() {
            return IntegrityError::RequestTimeout;
        }
        cur = err.source();
    }
    IntegrityError::IncompleteBody
}
