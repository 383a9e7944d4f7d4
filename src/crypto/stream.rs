//! Streaming adapters between plaintext and the segmented format: `EncryptingWriter` seals
//! 64 KiB segments into a blob as plaintext arrives; `decrypt_stream` opens only the segments a
//! range touches and yields plaintext. Memory stays bounded by one segment either way.

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use rand::RngCore;

use super::error::CryptoError;
use super::keys::DataKey;
use super::segment::{HEADER_SIZE, Header, Layout, SEGMENT_SIZE, SegmentCipher};
use crate::http::headers::ByteRange;
use crate::store::{BlobWriter, ByteStream, StoreError};

/// Errors of the write side: the blob store's or the cipher's.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Seals plaintext into `writer` segment by segment. A full segment is sealed only when more
/// plaintext follows, so the final segment (possibly empty) always carries the last-flag.
pub struct EncryptingWriter {
    writer: BlobWriter,
    cipher: SegmentCipher,
    buf: Vec<u8>,
    index: u32,
}

impl EncryptingWriter {
    pub async fn new(
        mut writer: BlobWriter,
        keys: &[DataKey],
    ) -> Result<EncryptingWriter, WriteError> {
        let mut nonce_prefix = [0u8; 7];
        rand::rng().fill_bytes(&mut nonce_prefix);
        let header = Header {
            layers: keys.len() as u8,
            nonce_prefix,
        };
        writer.write(&header.encode()).await?;
        Ok(EncryptingWriter {
            writer,
            cipher: SegmentCipher::new(keys, &nonce_prefix),
            buf: Vec::with_capacity(SEGMENT_SIZE as usize + 32),
            index: 0,
        })
    }

    pub fn blob_id(&self) -> &str {
        self.writer.id()
    }

    pub async fn write(&mut self, mut data: &[u8]) -> Result<(), WriteError> {
        while !data.is_empty() {
            if self.buf.len() == SEGMENT_SIZE as usize {
                self.flush_segment(false).await?;
            }
            let room = SEGMENT_SIZE as usize - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }

    async fn flush_segment(&mut self, last: bool) -> Result<(), WriteError> {
        self.cipher.seal(self.index, last, &mut self.buf)?;
        self.writer.write(&self.buf).await?;
        self.buf.clear();
        self.index = self
            .index
            .checked_add(1)
            .ok_or(CryptoError::Integrity("too many segments"))?;
        Ok(())
    }

    /// Seals the final segment and makes the blob durable; returns its id.
    pub async fn finish(mut self) -> Result<String, WriteError> {
        self.flush_segment(true).await?;
        Ok(self.writer.finish().await?)
    }
}

/// Decrypts the part of an encrypted body covering `range` (or all of it). `header` is the first
/// 16 bytes of the body; `body` streams exactly the span's bytes (see `Layout::span`).
pub fn decrypt_stream(
    header: &[u8],
    size: u64,
    keys: &[DataKey],
    range: Option<ByteRange>,
    body: ByteStream,
) -> Result<ByteStream, CryptoError> {
    let header = Header::decode(header)?;
    if header.layers as usize != keys.len() {
        return Err(CryptoError::Integrity(
            "layer count does not match the keys",
        ));
    }
    let cipher = SegmentCipher::new(keys, &header.nonce_prefix);
    let layout = Layout {
        size,
        overhead: cipher.overhead(),
    };
    let span = layout.span(range);
    struct State {
        body: ByteStream,
        buf: BytesMut,
        cipher: SegmentCipher,
        layout: Layout,
        index: u64,
        last: u64,
        skip: u64,
        remaining: u64,
    }
    let state = State {
        body,
        buf: BytesMut::new(),
        cipher,
        layout,
        index: span.first,
        last: span.last,
        skip: span.skip,
        remaining: span.take,
    };
    let s = stream::try_unfold(state, |mut st| async move {
        if st.index > st.last || (st.remaining == 0 && st.index > 0) {
            return Ok(None);
        }
        let need = (st.layout.segment_len(st.index) + st.layout.overhead) as usize;
        while st.buf.len() < need {
            match st.body.next().await {
                Some(chunk) => st.buf.extend_from_slice(&chunk?),
                None => {
                    return Err(std::io::Error::other(CryptoError::Integrity(
                        "encrypted body is truncated",
                    )));
                }
            }
        }
        let mut segment = st.buf.split_to(need).to_vec();
        let is_last = st.index == st.layout.segments() - 1;
        st.cipher
            .open(st.index as u32, is_last, &mut segment)
            .map_err(std::io::Error::other)?;
        let start = (st.skip as usize).min(segment.len());
        let end = (start as u64 + st.remaining).min(segment.len() as u64) as usize;
        let out = Bytes::from(segment).slice(start..end);
        st.skip = 0;
        st.remaining -= out.len() as u64;
        st.index += 1;
        Ok(Some((out, st)))
    });
    Ok(
        s.filter(|r| std::future::ready(!matches!(r, Ok(b) if b.is_empty())))
            .boxed(),
    )
}

/// The byte span of the encrypted body that `decrypt_stream` needs for `range`.
pub fn encrypted_span(size: u64, layers: usize, range: Option<ByteRange>) -> (u64, u64) {
    let layout = Layout::new(size, layers);
    let span = layout.span(range);
    (span.offset, span.len)
}

/// The size of the encrypted body of `size` plaintext bytes.
pub fn encrypted_len(size: u64, layers: usize) -> u64 {
    Layout::new(size, layers).encrypted_len()
}

pub const HEADER_LEN: u64 = HEADER_SIZE;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BodyRef, Store};

    async fn roundtrip(size: usize, layers: usize, range: Option<ByteRange>) -> (Vec<u8>, Vec<u8>) {
        let store = Store::memory();
        let keys: Vec<DataKey> = (0..layers).map(|_| DataKey::generate()).collect();
        let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        let mut w = EncryptingWriter::new(store.create_blob().await.unwrap(), &keys)
            .await
            .unwrap();
        for piece in data.chunks(10_000) {
            w.write(piece).await.unwrap();
        }
        let id = w.finish().await.unwrap();
        let body = BodyRef::Blob(id);
        let blob = store.open_body(&body).await.unwrap();
        let raw = collect(blob.read(0, u64::MAX).await.unwrap())
            .await
            .unwrap();
        assert_eq!(raw.len() as u64, encrypted_len(size as u64, layers));
        let (offset, len) = encrypted_span(size as u64, layers, range);
        let span = blob.read(offset, len).await.unwrap();
        let plain = collect(decrypt_stream(&raw[..16], size as u64, &keys, range, span).unwrap())
            .await
            .unwrap();
        let expected = match range {
            Some(r) => data[r.start as usize..=r.end as usize].to_vec(),
            None => data,
        };
        (plain, expected)
    }

    async fn collect(mut s: ByteStream) -> Result<Vec<u8>, std::io::Error> {
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn streams_roundtrip_whole_and_ranged() {
        let seg = SEGMENT_SIZE as usize;
        for layers in [1, 2] {
            for size in [0, 1, seg - 1, seg, seg + 1, 5 * seg + 3] {
                let (got, want) = roundtrip(size, layers, None).await;
                assert_eq!(got, want, "size {size} layers {layers}");
            }
            let size = 3 * seg + 10;
            for (s, e) in [
                (0, 0),
                (seg as u64 - 1, seg as u64),
                (5, 2 * seg as u64 + 7),
                (3 * seg as u64, 3 * seg as u64 + 9),
            ] {
                let (got, want) =
                    roundtrip(size, layers, Some(ByteRange { start: s, end: e })).await;
                assert_eq!(got, want, "{s}-{e}");
            }
        }
    }
}
