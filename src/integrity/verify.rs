//! What a request promises about its body, read from its headers before the body, and the body
//! wrapper that keeps those promises: it decodes aws-chunked framing, computes every digest in one
//! pass, and at the end reports the first promise broken.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::HeaderMap;

use super::IntegrityError;
use super::checksum::{Checksum, ChecksumAlgorithm, Digester, Digests, NON_VALUE_CHECKSUM_HEADERS};
use super::chunked::ChunkedDecoder;
use crate::auth::{ChunkSigner, PayloadCheck};
use crate::header_names::{
    X_AMZ_CHECKSUM_PREFIX, X_AMZ_DECODED_CONTENT_LENGTH, X_AMZ_SDK_CHECKSUM_ALGORITHM,
    X_AMZ_TRAILER,
};

/// Where the request's flexible checksum comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromisedChecksum {
    None,
    Header(Checksum),
    Trailer(ChecksumAlgorithm),
}

/// Everything the request head promised about the body.
#[derive(Debug, Clone)]
pub struct Expectations {
    pub content_md5: Option<[u8; 16]>,
    pub sha256: Option<[u8; 32]>,
    pub checksum: PromisedChecksum,
    /// The decoded (payload) length, when known: Content-Length, or x-amz-decoded-content-length.
    pub length: Option<u64>,
    framing: Framing,
    /// The algorithm to store when the request promised none (a copy keeps its source's).
    default_algorithm: ChecksumAlgorithm,
}

#[derive(Debug, Clone)]
enum Framing {
    Plain,
    Chunked {
        signer: Option<Arc<ChunkSigner>>,
        trailer: bool,
    },
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

impl Expectations {
    /// Reads and checks the integrity headers (everything decidable without the body).
    pub fn from_headers(
        h: &HeaderMap,
        payload: &PayloadCheck,
    ) -> Result<Expectations, IntegrityError> {
        let content_md5 = header(h, "content-md5")
            .map(parse_content_md5)
            .transpose()?;
        let (sha256, framing) = match payload {
            PayloadCheck::Unsigned => (None, Framing::Plain),
            PayloadCheck::Sha256(d) => (Some(*d), Framing::Plain),
            PayloadCheck::Streaming { signer, trailer } => (
                None,
                Framing::Chunked {
                    signer: signer.clone(),
                    trailer: *trailer,
                },
            ),
        };
        let checksum =
            promised_checksum(h, matches!(framing, Framing::Chunked { trailer: true, .. }))?;
        let length = match framing {
            Framing::Plain => header(h, "content-length").and_then(|v| v.trim().parse().ok()),
            Framing::Chunked { .. } => Some(
                header(h, X_AMZ_DECODED_CONTENT_LENGTH)
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or(IntegrityError::MissingDecodedLength)?,
            ),
        };
        Ok(Expectations {
            content_md5,
            sha256,
            checksum,
            length,
            framing,
            default_algorithm: ChecksumAlgorithm::Crc64Nvme,
        })
    }

    /// For bytes sealstore moves itself (a copy): no promises but the length, and the checksum
    /// algorithm to compute.
    pub fn internal(length: u64, algorithm: ChecksumAlgorithm) -> Expectations {
        Expectations {
            content_md5: None,
            sha256: None,
            checksum: PromisedChecksum::None,
            length: Some(length),
            framing: Framing::Plain,
            default_algorithm: algorithm,
        }
    }

    /// Whether the request carries any digest of its body (Content-MD5 or a flexible checksum),
    /// as S3 requires for some configuration bodies.
    pub fn has_integrity_digest(&self) -> bool {
        self.content_md5.is_some() || self.checksum != PromisedChecksum::None
    }

    /// The algorithm of the checksum stored with the object: the one the request sent, or
    /// CRC64NVME, which S3 computes when none was sent.
    pub fn stored_algorithm(&self) -> ChecksumAlgorithm {
        match &self.checksum {
            PromisedChecksum::Header(c) => c.algorithm,
            PromisedChecksum::Trailer(a) => *a,
            PromisedChecksum::None => self.default_algorithm,
        }
    }

    /// Whether the body is aws-chunked (its stored Content-Encoding must drop `aws-chunked`).
    pub fn is_chunked(&self) -> bool {
        matches!(self.framing, Framing::Chunked { .. })
    }
}

/// Parses `Content-MD5`: base64 of exactly 16 bytes.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], IntegrityError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
        .ok_or_else(|| IntegrityError::InvalidContentMd5(value.to_string()))
}

/// One `x-amz-checksum-*` header or one declared trailer, consistent with
/// `x-amz-sdk-checksum-algorithm`.
fn promised_checksum(
    h: &HeaderMap,
    trailer_allowed: bool,
) -> Result<PromisedChecksum, IntegrityError> {
    let mut found: Option<Checksum> = None;
    for (name, value) in h {
        let n = name.as_str();
        if !n.starts_with(X_AMZ_CHECKSUM_PREFIX) || NON_VALUE_CHECKSUM_HEADERS.contains(&n) {
            continue;
        }
        let alg =
            ChecksumAlgorithm::from_header(n).ok_or(IntegrityError::UnknownChecksumAlgorithm)?;
        if found.is_some() {
            return Err(IntegrityError::MultipleChecksums);
        }
        let invalid = || IntegrityError::InvalidChecksumValue {
            name: n.to_string(),
            trailing: false,
        };
        let text = value.to_str().map_err(|_| invalid())?;
        found = Some(Checksum {
            algorithm: alg,
            value: alg.decode(text).ok_or_else(invalid)?,
        });
    }
    let trailer = match header(h, X_AMZ_TRAILER) {
        None => None,
        Some(t) => {
            let alg =
                ChecksumAlgorithm::from_header(t).ok_or(IntegrityError::UnsupportedTrailer)?;
            if !trailer_allowed {
                return Err(IntegrityError::MalformedTrailer);
            }
            Some(alg)
        }
    };
    let promised = match (found, trailer) {
        (Some(_), Some(_)) => return Err(IntegrityError::HeaderAndTrailer),
        (Some(c), None) => PromisedChecksum::Header(c),
        (None, Some(a)) => PromisedChecksum::Trailer(a),
        (None, None) => PromisedChecksum::None,
    };
    if let Some(sdk) = header(h, X_AMZ_SDK_CHECKSUM_ALGORITHM) {
        let sdk = ChecksumAlgorithm::from_name(sdk).ok_or(IntegrityError::SdkAlgorithmMismatch)?;
        match &promised {
            PromisedChecksum::None => return Err(IntegrityError::SdkAlgorithmWithoutChecksum),
            PromisedChecksum::Header(c) if c.algorithm != sdk => {
                return Err(IntegrityError::SdkAlgorithmMismatch);
            }
            PromisedChecksum::Trailer(a) if *a != sdk => {
                return Err(IntegrityError::SdkAlgorithmMismatch);
            }
            _ => {}
        }
    }
    Ok(promised)
}

enum Source<S> {
    Plain(S),
    Chunked(Box<ChunkedDecoder<S>>),
}

/// A request body that checks what its head promised.
pub struct RequestBody<S> {
    source: Source<S>,
    digester: Digester,
    expect: Expectations,
    max: u64,
}

impl<S, E> RequestBody<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    /// `max` bounds the decoded size (S3's 5 GiB for a single PUT, 1 MiB for XML documents).
    pub fn new(stream: S, expect: Expectations, max: u64) -> Self {
        let source =
            match &expect.framing {
                Framing::Plain => Source::Plain(stream),
                Framing::Chunked { signer, trailer } => Source::Chunked(Box::new(
                    ChunkedDecoder::new(stream, signer.clone(), *trailer),
                )),
            };
        let digester = Digester::new(expect.stored_algorithm(), expect.sha256.is_some());
        RequestBody {
            source,
            digester,
            expect,
            max,
        }
    }

    /// Also computes a checksum in `alg` (a part's upload algorithm), reported as `Digests::extra`
    /// when it differs from the request's own.
    pub fn also_compute(mut self, alg: ChecksumAlgorithm) -> Self {
        self.digester.add_extra(alg);
        self
    }

    /// The payload length the request announced, if it did.
    pub fn expected_len(&self) -> Option<u64> {
        self.expect.length
    }

    /// Computes MD5 only if the request sent Content-MD5: for bodies whose ETag is not their MD5
    /// (MD5 is the most expensive digest, ~465 MiB/s on one core).
    pub fn md5_only_if_promised(mut self) -> Self {
        if self.expect.content_md5.is_none() {
            self.digester.skip_md5();
        }
        self
    }

    /// The next piece of the payload, already counted in every digest.
    pub async fn next(&mut self) -> Option<Result<Bytes, IntegrityError>> {
        let piece = match &mut self.source {
            Source::Plain(s) => s
                .next()
                .await
                .map(|r| r.map_err(|e| super::error::stream_error(&e))),
            Source::Chunked(d) => d.next().await,
        }?;
        Some(piece.and_then(|data| {
            self.digester.update(&data);
            let size = self.digester.size();
            if size > self.max {
                return Err(IntegrityError::TooLarge { max: self.max });
            }
            if self.expect.length.is_some_and(|n| size > n) {
                return Err(IntegrityError::IncompleteBody);
            }
            Ok(data)
        }))
    }

    /// Checks every promise once the body has ended; returns the digests of the payload.
    pub fn finish(self) -> Result<Digests, IntegrityError> {
        let trailer_value = match &self.source {
            Source::Chunked(d) => match &self.expect.checksum {
                PromisedChecksum::Trailer(alg) => {
                    let (_, value) = d
                        .trailers()
                        .iter()
                        .find(|(n, _)| n == alg.header())
                        .ok_or(IntegrityError::MalformedTrailer)?;
                    let invalid = || IntegrityError::InvalidChecksumValue {
                        name: alg.header().to_string(),
                        trailing: true,
                    };
                    Some(alg.decode(value).ok_or_else(invalid)?)
                }
                _ => None,
            },
            Source::Plain(_) => None,
        };
        let digests = self.digester.finish();
        if self.expect.length.is_some_and(|n| n != digests.size) {
            return Err(IntegrityError::IncompleteBody);
        }
        if let (Some(client), Some(computed)) = (self.expect.sha256, digests.sha256) {
            if client != computed {
                return Err(IntegrityError::Sha256Mismatch { client, computed });
            }
        }
        if let Some(expected) = self.expect.content_md5 {
            let calculated = digests.md5.unwrap_or_default();
            if expected != calculated {
                return Err(IntegrityError::Md5Mismatch {
                    expected,
                    calculated,
                });
            }
        }
        let promised = match &self.expect.checksum {
            PromisedChecksum::Header(c) => Some(c.value.clone()),
            _ => trailer_value,
        };
        if promised.is_some_and(|v| v != digests.checksum.value) {
            return Err(IntegrityError::ChecksumMismatch(digests.checksum.algorithm));
        }
        Ok(digests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;

    use crate::test_headers::header_map as headers;

    async fn run(
        pairs: &[(&str, &str)],
        payload: PayloadCheck,
        body: &'static [u8],
    ) -> Result<Digests, IntegrityError> {
        let expect = Expectations::from_headers(&headers(pairs), &payload)?;
        let s = stream::iter(vec![Ok::<_, std::io::Error>(Bytes::from_static(body))]);
        let mut b = RequestBody::new(s, expect, 1 << 20);
        while let Some(p) = b.next().await {
            p?;
        }
        b.finish()
    }

    #[tokio::test]
    async fn header_checksums_and_defaults() {
        let ok = run(
            &[
                ("x-amz-checksum-crc32", "rwg7LQ=="),
                ("x-amz-sdk-checksum-algorithm", "CRC32"),
            ],
            PayloadCheck::Unsigned,
            b"hello world\n",
        )
        .await
        .unwrap();
        assert_eq!(ok.checksum.base64(), "rwg7LQ==");
        let default = run(&[], PayloadCheck::Unsigned, b"hello world\n")
            .await
            .unwrap();
        assert_eq!(default.checksum.algorithm, ChecksumAlgorithm::Crc64Nvme);
        assert_eq!(default.checksum.base64(), "D3gOhIHSoh8=");
        let bad = run(
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            PayloadCheck::Unsigned,
            b"hello world\n",
        )
        .await;
        assert!(matches!(
            bad,
            Err(IntegrityError::ChecksumMismatch(ChecksumAlgorithm::Crc32))
        ));
    }

    #[tokio::test]
    async fn header_level_refusals() {
        let p = PayloadCheck::Unsigned;
        type Case<'a> = (Vec<(&'a str, &'a str)>, fn(&IntegrityError) -> bool);
        let cases: Vec<Case> = vec![
            (vec![("content-md5", "__invalid__")], |e| {
                matches!(e, IntegrityError::InvalidContentMd5(_))
            }),
            (
                vec![
                    ("x-amz-checksum-crc32", "rwg7LQ=="),
                    ("x-amz-checksum-sha1", "IlljY7PeQLBvmB+4XYIxLowO1RE="),
                ],
                |e| matches!(e, IntegrityError::MultipleChecksums),
            ),
            (vec![("x-amz-checksum-crc32", "nope")], |e| {
                matches!(e, IntegrityError::InvalidChecksumValue { .. })
            }),
            (vec![("x-amz-checksum-foo", "x")], |e| {
                matches!(e, IntegrityError::UnknownChecksumAlgorithm)
            }),
            (vec![("x-amz-sdk-checksum-algorithm", "CRC32")], |e| {
                matches!(e, IntegrityError::SdkAlgorithmWithoutChecksum)
            }),
            (
                vec![
                    ("x-amz-sdk-checksum-algorithm", "SHA1"),
                    ("x-amz-checksum-crc32", "rwg7LQ=="),
                ],
                |e| matches!(e, IntegrityError::SdkAlgorithmMismatch),
            ),
            (vec![("x-amz-trailer", "x-amz-checksum-crc32")], |e| {
                matches!(e, IntegrityError::MalformedTrailer)
            }),
            (vec![("x-amz-trailer", "x-amz-foo")], |e| {
                matches!(e, IntegrityError::UnsupportedTrailer)
            }),
        ];
        for (pairs, check) in cases {
            let e = Expectations::from_headers(&headers(&pairs), &p).unwrap_err();
            assert!(check(&e), "{pairs:?}: {e:?}");
        }
        let streaming = PayloadCheck::Streaming {
            signer: None,
            trailer: true,
        };
        let e = Expectations::from_headers(
            &headers(&[("x-amz-trailer", "x-amz-checksum-crc32")]),
            &streaming,
        )
        .unwrap_err();
        assert!(matches!(e, IntegrityError::MissingDecodedLength));
    }

    #[tokio::test]
    async fn md5_sha256_and_length() {
        let sha = {
            let mut d = [0u8; 32];
            hex::decode_to_slice(
                "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447",
                &mut d,
            )
            .unwrap();
            d
        };
        assert!(
            run(
                &[("content-md5", "b1kCrCNwJL3QwXbLkwY9xA==")],
                PayloadCheck::Sha256(sha),
                b"hello world\n"
            )
            .await
            .is_ok()
        );
        assert!(matches!(
            run(
                &[("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
                PayloadCheck::Unsigned,
                b"x"
            )
            .await,
            Err(IntegrityError::Md5Mismatch { .. })
        ));
        assert!(matches!(
            run(&[], PayloadCheck::Sha256(sha), b"hello world!").await,
            Err(IntegrityError::Sha256Mismatch { .. })
        ));
        assert!(matches!(
            run(&[("content-length", "5")], PayloadCheck::Unsigned, b"x").await,
            Err(IntegrityError::IncompleteBody)
        ));
    }

    #[tokio::test]
    async fn trailer_checksums() {
        let p = PayloadCheck::Streaming {
            signer: None,
            trailer: true,
        };
        let h = [
            ("x-amz-trailer", "x-amz-checksum-crc32"),
            ("x-amz-decoded-content-length", "12"),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ];
        let good = run(
            &h,
            p.clone(),
            b"c\r\nhello world\n\r\n0\r\nx-amz-checksum-crc32:rwg7LQ==\r\n\r\n",
        )
        .await
        .unwrap();
        assert_eq!(good.checksum.base64(), "rwg7LQ==");
        let bad = run(
            &h,
            p.clone(),
            b"c\r\nhello world\n\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
        )
        .await;
        assert!(matches!(bad, Err(IntegrityError::ChecksumMismatch(_))));
        let missing = run(&h, p.clone(), b"c\r\nhello world\n\r\n0\r\n\r\n").await;
        assert!(matches!(missing, Err(IntegrityError::MalformedTrailer)));
        let short = [
            ("x-amz-trailer", "x-amz-checksum-crc32"),
            ("x-amz-decoded-content-length", "13"),
        ];
        let r = run(
            &short,
            p,
            b"c\r\nhello world\n\r\n0\r\nx-amz-checksum-crc32:rwg7LQ==\r\n\r\n",
        )
        .await;
        assert!(matches!(r, Err(IntegrityError::IncompleteBody)));
    }

    /// The published AWS streaming examples end to end: the request head verifies with its seed
    /// signature, and the body decodes with the chunk (and trailer) signatures that follow from it.
    #[tokio::test]
    async fn aws_streaming_examples_through_auth_and_body() {
        use crate::auth::{AuthContext, CredentialStore, SecretKey};
        let mut creds = CredentialStore::default();
        creds.insert(
            "AKIAIOSFODNN7EXAMPLE",
            SecretKey::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "111122223333",
        );
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_369_353_660);
        for trailer in [false, true] {
            let (mode, signed, seed) = if trailer {
                (
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
                    "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
                    "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
                )
            } else {
                (
                    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                    "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                )
            };
            let authz = format!(
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={seed}"
            );
            let mut b = http::Request::builder()
                .method("PUT")
                .uri("/examplebucket/chunkObject.txt")
                .header("host", "s3.amazonaws.com")
                .header("x-amz-date", "20130524T000000Z")
                .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
                .header("x-amz-content-sha256", mode)
                .header("content-encoding", "aws-chunked")
                .header("x-amz-decoded-content-length", "66560")
                .header("authorization", authz);
            b = if trailer {
                b.header("x-amz-trailer", "x-amz-checksum-crc32c")
            } else {
                b.header("content-length", "66824")
            };
            let parts = b.body(()).unwrap().into_parts().0;
            let ctx = AuthContext {
                credentials: &creds,
                virtual_host_bucket: None,
                now,
                sessions: None,
            };
            let verified = crate::auth::verify(&parts, &ctx).unwrap();
            let expect = Expectations::from_headers(&parts.headers, &verified.payload).unwrap();
            let framed = super::super::chunked::tests::aws_example(trailer);
            let s = stream::iter(
                framed
                    .chunks(5000)
                    .map(|c| Ok::<_, std::io::Error>(Bytes::copy_from_slice(c)))
                    .collect::<Vec<_>>(),
            );
            let mut body = RequestBody::new(s, expect, 1 << 20);
            let mut n = 0;
            while let Some(p) = body.next().await {
                n += p.unwrap().len();
            }
            let digests = body.finish().unwrap();
            assert_eq!((n, digests.size), (66560, 66560));
            if trailer {
                assert_eq!(digests.checksum.base64(), "sOO8/Q==");
            }
        }
    }
}
