//! The aws-chunked decoder: `hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;sig]\r\n
//! [trailers]\r\n`. Incremental (a chunk header split across any read boundary works), bounded in
//! memory (headers and trailers are capped; data is passed on as it arrives), and it verifies the
//! chunk-signature chain and the trailer signature as it goes.

use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::IntegrityError;
use crate::auth::ChunkSigner;
use crate::header_names::X_AMZ_TRAILER_SIGNATURE;

/// The longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;
/// The most trailer lines accepted.
const MAX_TRAILERS: usize = 16;
/// Signed streaming: every chunk but the last must carry at least this much data.
const MIN_SIGNED_CHUNK: u64 = 8192;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data { remaining: u64 },
    DataEnd,
    Done,
}

pub struct ChunkedDecoder<S> {
    inner: S,
    buf: BytesMut,
    inner_done: bool,
    state: State,
    signer: Option<Arc<ChunkSigner>>,
    previous_signature: String,
    chunk_signature: Option<String>,
    chunk_hash: Sha256,
    chunk_index: usize,
    /// Size of the last data chunk, checked against the minimum once a further chunk arrives.
    last_chunk_size: Option<u64>,
    trailer_expected: bool,
    trailers: Vec<(String, String)>,
}

impl<S, E> ChunkedDecoder<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    pub fn new(inner: S, signer: Option<Arc<ChunkSigner>>, trailer_expected: bool) -> Self {
        let previous_signature = signer
            .as_ref()
            .map(|s| s.seed().to_string())
            .unwrap_or_default();
        ChunkedDecoder {
            inner,
            buf: BytesMut::new(),
            inner_done: false,
            state: State::Header,
            signer,
            previous_signature,
            chunk_signature: None,
            chunk_hash: Sha256::new(),
            chunk_index: 0,
            last_chunk_size: None,
            trailer_expected,
            trailers: Vec::new(),
        }
    }

    /// The trailers received (lower-case names), available once `next` has returned `None`.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Pulls more bytes into the buffer; `false` at the end of the body.
    async fn fill(&mut self) -> Result<bool, IntegrityError> {
        if self.inner_done {
            return Ok(false);
        }
        match self.inner.next().await {
            Some(Ok(bytes)) => {
                self.buf.extend_from_slice(&bytes);
                Ok(true)
            }
            Some(Err(e)) => Err(super::error::stream_error(&e)),
            None => {
                self.inner_done = true;
                Ok(false)
            }
        }
    }

    /// One CRLF-terminated line (without the CRLF), at most `MAX_LINE` bytes.
    async fn read_line(&mut self) -> Result<String, IntegrityError> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(pos);
                self.buf.advance(2);
                return String::from_utf8(line.to_vec())
                    .map_err(|_| IntegrityError::MalformedChunk("chunk header is not text"));
            }
            if self.buf.len() > MAX_LINE {
                return Err(IntegrityError::MalformedChunk("chunk header too long"));
            }
            if !self.fill().await? {
                return Err(IntegrityError::IncompleteBody);
            }
        }
    }

    /// The next piece of decoded data; `None` after the final chunk and trailers.
    pub async fn next(&mut self) -> Option<Result<Bytes, IntegrityError>> {
        match self.step().await {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }

    async fn step(&mut self) -> Result<Option<Bytes>, IntegrityError> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Header => {
                    let line = self.read_line().await?;
                    let (size, signature) = parse_chunk_header(&line, self.signer.is_some())?;
                    self.chunk_signature = signature;
                    self.chunk_hash = Sha256::new();
                    self.chunk_index += 1;
                    if self.signer.is_some() && size > 0 {
                        if let Some(prev) = self.last_chunk_size.filter(|s| *s < MIN_SIGNED_CHUNK) {
                            return Err(IntegrityError::InvalidChunkSize {
                                chunk: self.chunk_index - 1,
                                size: prev,
                            });
                        }
                    }
                    if size == 0 {
                        self.verify_chunk_signature()?;
                        self.read_trailers().await?;
                        self.state = State::Done;
                        return Ok(None);
                    }
                    self.last_chunk_size = Some(size);
                    self.state = State::Data { remaining: size };
                }
                State::Data { remaining } => {
                    if self.buf.is_empty() && !self.fill().await? {
                        return Err(IntegrityError::IncompleteBody);
                    }
                    let n = (self.buf.len() as u64).min(remaining) as usize;
                    let data = self.buf.split_to(n).freeze();
                    if self.signer.is_some() {
                        self.chunk_hash.update(&data);
                    }
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data { remaining: left }
                    };
                    return Ok(Some(data));
                }
                State::DataEnd => {
                    if !self.read_line().await?.is_empty() {
                        return Err(IntegrityError::MalformedChunk(
                            "chunk data longer than its size",
                        ));
                    }
                    self.verify_chunk_signature()?;
                    self.state = State::Header;
                }
            }
        }
    }

    fn verify_chunk_signature(&mut self) -> Result<(), IntegrityError> {
        let Some(signer) = &self.signer else {
            return Ok(());
        };
        let hash = hex::encode(std::mem::take(&mut self.chunk_hash).finalize());
        let expected = signer.chunk_signature(&self.previous_signature, &hash);
        let received = self.chunk_signature.take().unwrap_or_default();
        if !ChunkSigner::matches(&expected, &received) {
            return Err(IntegrityError::ChunkSignatureMismatch);
        }
        self.previous_signature = expected;
        Ok(())
    }

    /// After the final chunk: trailer lines (if declared) and the closing empty line, then nothing.
    async fn read_trailers(&mut self) -> Result<(), IntegrityError> {
        let mut trailer_signature = None;
        loop {
            let line = match self.read_line().await {
                Ok(l) => l,
                // Some clients end an unsigned body right after the last trailer line.
                Err(IntegrityError::IncompleteBody)
                    if self.buf.is_empty() && !self.trailers.is_empty() =>
                {
                    break;
                }
                Err(e) => return Err(e),
            };
            if line.is_empty() {
                break;
            }
            if !self.trailer_expected || self.trailers.len() >= MAX_TRAILERS {
                return Err(IntegrityError::MalformedTrailer);
            }
            let (name, value) = line
                .split_once(':')
                .ok_or(IntegrityError::MalformedTrailer)?;
            let name = name.trim().to_ascii_lowercase();
            if name == X_AMZ_TRAILER_SIGNATURE {
                trailer_signature = Some(value.trim().to_string());
            } else {
                self.trailers.push((name, value.trim().to_string()));
            }
        }
        if !self.buf.is_empty() || self.fill().await? {
            return Err(IntegrityError::MalformedChunk("data after the final chunk"));
        }
        if let (Some(signer), true) = (&self.signer, self.trailer_expected) {
            let mut sorted = self.trailers.clone();
            sorted.sort();
            let canonical: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
            let expected = signer.trailer_signature(
                &self.previous_signature,
                &hex::encode(Sha256::digest(canonical.as_bytes())),
            );
            let received = trailer_signature.ok_or(IntegrityError::ChunkSignatureMismatch)?;
            if !ChunkSigner::matches(&expected, &received) {
                return Err(IntegrityError::ChunkSignatureMismatch);
            }
        }
        Ok(())
    }
}

/// `hex-size[;chunk-signature=<64 hex>]`.
fn parse_chunk_header(line: &str, signed: bool) -> Result<(u64, Option<String>), IntegrityError> {
    let (size, ext) = match line.split_once(';') {
        Some((s, e)) => (s.trim(), Some(e.trim())),
        None => (line.trim(), None),
    };
    if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(IntegrityError::MalformedChunk("invalid chunk size"));
    }
    let size = u64::from_str_radix(size, 16)
        .map_err(|_| IntegrityError::MalformedChunk("invalid chunk size"))?;
    let signature = match ext {
        Some(e) => Some(
            e.strip_prefix("chunk-signature=")
                .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or(IntegrityError::MalformedChunk("invalid chunk signature"))?
                .to_string(),
        ),
        None => None,
    };
    if signed && signature.is_none() {
        return Err(IntegrityError::ChunkSignatureMismatch);
    }
    Ok((size, signature))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use futures_util::stream;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn signer(seed: &str) -> Arc<ChunkSigner> {
        let key = crate::auth::signing_key(SECRET, "20130524", "us-east-1", "s3").unwrap();
        Arc::new(ChunkSigner::new(
            key.as_ref(),
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            seed,
        ))
    }

    /// Splits `body` into reads of `step` bytes, to exercise every boundary.
    fn reads(
        body: &[u8],
        step: usize,
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        let pieces: Vec<Result<Bytes, std::io::Error>> = body
            .chunks(step)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        stream::iter(pieces)
    }

    async fn decode<S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin>(
        mut d: ChunkedDecoder<S>,
    ) -> Result<(Vec<u8>, Vec<(String, String)>), IntegrityError> {
        let mut out = Vec::new();
        while let Some(piece) = d.next().await {
            out.extend_from_slice(&piece?);
        }
        Ok((out, d.trailers().to_vec()))
    }

    /// The AWS example: 66560 bytes of 'a' in chunks of 65536, 1024 and 0, with published signatures.
    pub(crate) fn aws_example(trailer: bool) -> Vec<u8> {
        let sigs = if trailer {
            [
                "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
                "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
                "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
            ]
        } else {
            [
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ]
        };
        let mut body = Vec::new();
        for (size, sig) in [(65536usize, sigs[0]), (1024, sigs[1]), (0, sigs[2])] {
            body.extend_from_slice(format!("{size:x};chunk-signature={sig}\r\n").as_bytes());
            body.extend(std::iter::repeat_n(b'a', size));
            if size > 0 {
                body.extend_from_slice(b"\r\n");
            }
        }
        if trailer {
            body.extend_from_slice(b"x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n");
        }
        body.extend_from_slice(b"\r\n");
        body
    }

    #[tokio::test]
    async fn aws_signed_example_decodes_at_any_read_boundary() {
        let body = aws_example(false);
        assert_eq!(body.len(), 66824, "the published encoded length");
        for step in [1, 7, 85, 4096, 65536, body.len()] {
            let d = ChunkedDecoder::new(
                reads(&body, step),
                Some(signer(
                    "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
                )),
                false,
            );
            let (data, _) = decode(d).await.unwrap();
            assert_eq!(data.len(), 66560);
            assert!(data.iter().all(|b| *b == b'a'));
        }
    }

    #[tokio::test]
    async fn aws_signed_trailer_example_verifies() {
        let body = aws_example(true);
        let d = ChunkedDecoder::new(
            reads(&body, 1000),
            Some(signer(
                "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            )),
            true,
        );
        let (data, trailers) = decode(d).await.unwrap();
        assert_eq!(data.len(), 66560);
        assert_eq!(
            trailers,
            vec![("x-amz-checksum-crc32c".to_string(), "sOO8/Q==".to_string())]
        );
        let tampered = String::from_utf8(body)
            .unwrap()
            .replace("sOO8/Q==", "AAAAAA==");
        let d = ChunkedDecoder::new(
            reads(tampered.as_bytes(), 1000),
            Some(signer(
                "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
            )),
            true,
        );
        assert!(matches!(
            decode(d).await,
            Err(IntegrityError::ChunkSignatureMismatch)
        ));
    }

    #[tokio::test]
    async fn tampered_data_or_signature_is_refused() {
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let mut body = aws_example(false);
        body[200] = b'b';
        let d = ChunkedDecoder::new(reads(&body, 4096), Some(signer(seed)), false);
        assert!(matches!(
            decode(d).await,
            Err(IntegrityError::ChunkSignatureMismatch)
        ));
        let body = aws_example(false);
        let d = ChunkedDecoder::new(reads(&body, 4096), Some(signer(&"0".repeat(64))), false);
        assert!(matches!(
            decode(d).await,
            Err(IntegrityError::ChunkSignatureMismatch)
        ));
    }

    #[tokio::test]
    async fn unsigned_trailer_body_from_botocore() {
        let body = b"c\r\nhello world\n\r\n0\r\nx-amz-checksum-crc32:rwg7LQ==\r\n\r\n";
        for step in 1..body.len() {
            let (data, trailers) = decode(ChunkedDecoder::new(reads(body, step), None, true))
                .await
                .unwrap();
            assert_eq!(data, b"hello world\n");
            assert_eq!(
                trailers,
                vec![("x-amz-checksum-crc32".to_string(), "rwg7LQ==".to_string())]
            );
        }
    }

    #[tokio::test]
    async fn malformed_bodies() {
        let cases: [(&[u8], bool); 7] = [
            (b"c\r\nhello world\n\r\n", true),        // no final chunk
            (b"c\r\nhello", true),                    // cut in the data
            (b"zz\r\nhello\r\n0\r\n\r\n", true),      // bad size
            (b"5\r\nhello world\r\n0\r\n\r\n", true), // data longer than size
            (b"0\r\nx-amz-checksum-crc32:rwg7LQ==\r\n\r\n", false), // undeclared trailer
            (b"0\r\n\r\nextra", true),                // data after the end
            (&[b'1'; 5000], true),                    // endless header
        ];
        for (body, trailer) in cases {
            let r = decode(ChunkedDecoder::new(reads(body, 3), None, trailer)).await;
            assert!(r.is_err(), "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[tokio::test]
    async fn small_signed_chunks_are_refused() {
        let s = signer("seed");
        let mut prev = "seed".to_string();
        let mut body = Vec::new();
        for data in [&b"tiny"[..], &b"more"[..], &b""[..]] {
            let sig = s.chunk_signature(&prev, &hex::encode(Sha256::digest(data)));
            body.extend_from_slice(
                format!("{:x};chunk-signature={sig}\r\n", data.len()).as_bytes(),
            );
            body.extend_from_slice(data);
            if !data.is_empty() {
                body.extend_from_slice(b"\r\n");
            }
            prev = sig;
        }
        body.extend_from_slice(b"\r\n");
        let r = decode(ChunkedDecoder::new(reads(&body, 100), Some(s), false)).await;
        assert!(
            matches!(
                r,
                Err(IntegrityError::InvalidChunkSize { chunk: 1, size: 4 })
            ),
            "{r:?}"
        );
    }
}
