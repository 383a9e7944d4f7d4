//! Streaming adapters between plaintext and the segmented format: `EncryptingWriter` seals
//! 64 KiB segments into a blob as plaintext arrives; `decrypt_stream` opens only the segments a
//! range touches and yields plaintext. Memory stays bounded by one segment either way.

use bytes::{Bytes, BytesMut};
use futures_util::stream::{self, StreamExt};
use rand::RngCore;

use crate::byte_range::ByteRange;
use crate::crypto::CryptoError;
use crate::crypto::DataKey;
use crate::crypto::segment::{HEADER_SIZE, Header, Layout, SEGMENT_SIZE, SegmentCipher, TAG_SIZE};
use crate::store::{BlobWriter, ByteStream, FinishedBlob, OpenBlob, StoreError};

/// Errors of the write side: the blob store's or the cipher's.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The blocking thread sealing a large body ended without an answer (it panicked).
    #[error("the sealing thread failed")]
    Worker,
}

/// Seals plaintext into `writer` segment by segment. A full segment is sealed only when more
/// plaintext follows, so the final segment (possibly empty) always carries the last-flag.
///
/// Synchronous: [`Sealer`] decides which thread it runs on.
pub struct EncryptingWriter {
    writer: BlobWriter,
    cipher: SegmentCipher,
    buf: Vec<u8>,
    index: u32,
}

impl EncryptingWriter {
    /// `size_hint`: the plaintext length, when known, so a small body allocates only what it needs.
    pub fn new(
        mut writer: BlobWriter,
        keys: &[DataKey],
        size_hint: Option<u64>,
    ) -> Result<EncryptingWriter, WriteError> {
        let segment = size_hint.map_or(SEGMENT_SIZE, |n| n.min(SEGMENT_SIZE)) as usize;
        let overhead = TAG_SIZE as usize * keys.len();
        writer.reserve(HEADER_SIZE as usize + segment + overhead);
        let mut nonce_prefix = [0u8; 7];
        rand::rng().fill_bytes(&mut nonce_prefix);
        let header = Header {
            layers: keys.len() as u8,
            nonce_prefix,
        };
        writer.write(&header.encode())?;
        Ok(EncryptingWriter {
            writer,
            cipher: SegmentCipher::new(keys, &nonce_prefix)?,
            buf: Vec::with_capacity(segment + overhead),
            index: 0,
        })
    }

    pub fn blob_id(&self) -> &str {
        self.writer.id()
    }

    pub fn write(&mut self, mut data: &[u8]) -> Result<(), WriteError> {
        while !data.is_empty() {
            if self.buf.len() == SEGMENT_SIZE as usize {
                self.flush_segment(false)?;
            }
            let room = SEGMENT_SIZE as usize - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
        Ok(())
    }

    fn flush_segment(&mut self, last: bool) -> Result<(), WriteError> {
        self.cipher.seal(self.index, last, &mut self.buf)?;
        self.writer.write(&self.buf)?;
        self.buf.clear();
        self.index = self
            .index
            .checked_add(1)
            .ok_or(CryptoError::Integrity("too many segments"))?;
        Ok(())
    }

    /// Seals the final segment and makes the blob durable (or hands back an inline body).
    pub fn finish(mut self) -> Result<FinishedBlob, WriteError> {
        self.flush_segment(true)?;
        Ok(self.writer.finish()?)
    }
}

/// Plaintext a [`Sealer`] seals on the calling task before it moves to a blocking thread: a body
/// this small costs microseconds to seal and never touches the disk before its commit.
const SEAL_HERE_MAX: u64 = SEGMENT_SIZE;

/// How many received pieces may wait for the sealing thread (bounds memory per upload).
const SEAL_QUEUE: usize = 4;

/// Received pieces are handed to the sealing thread in batches of about this many bytes: hyper
/// yields pieces of a few KiB, and one hand-over (a thread wake-up) per piece would cost more
/// than sealing it.
const SEAL_BATCH: usize = 256 * 1024;

enum SealMsg {
    Data(Vec<Bytes>),
    /// The body is complete and verified: make the blob durable.
    Finish,
}

/// Drives an [`EncryptingWriter`] from async code. A small body is sealed right here; once a body
/// outgrows `SEAL_HERE_MAX` (or when its blob must be a file) the writer moves to a blocking
/// thread, so AES-GCM and the file writes run beside the receiving of the next bytes (and beside
/// the digests, on the request's task) instead of stalling the async reactor.
///
/// Dropped before `finish` (a failed or abandoned request), it discards the blob.
pub struct Sealer {
    state: SealState,
    received: u64,
    /// Pieces not yet handed to the sealing thread, and their length.
    batch: Vec<Bytes>,
    batched: usize,
}

enum SealState {
    Here(EncryptingWriter),
    Thread {
        tx: tokio::sync::mpsc::Sender<SealMsg>,
        done: tokio::task::JoinHandle<Result<FinishedBlob, WriteError>>,
    },
    Gone,
}

impl Sealer {
    pub fn new(writer: EncryptingWriter) -> Sealer {
        Sealer {
            state: SealState::Here(writer),
            received: 0,
            batch: Vec::new(),
            batched: 0,
        }
    }

    pub async fn write(&mut self, data: Bytes) -> Result<(), WriteError> {
        self.received += data.len() as u64;
        if let SealState::Here(w) = &mut self.state {
            if self.received <= SEAL_HERE_MAX && w.writer.is_buffered() {
                return w.write(&data);
            }
            self.move_to_thread();
        }
        self.batched += data.len();
        self.batch.push(data);
        if self.batched >= SEAL_BATCH {
            self.send_batch().await?;
        }
        Ok(())
    }

    async fn send_batch(&mut self) -> Result<(), WriteError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let SealState::Thread { tx, .. } = &mut self.state else {
            return Err(WriteError::Worker);
        };
        let batch = std::mem::take(&mut self.batch);
        self.batched = 0;
        if tx.send(SealMsg::Data(batch)).await.is_err() {
            // The thread stopped early: its result says why.
            return Err(self.thread_error().await);
        }
        Ok(())
    }

    fn move_to_thread(&mut self) {
        let SealState::Here(mut writer) = std::mem::replace(&mut self.state, SealState::Gone)
        else {
            return;
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(SEAL_QUEUE);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    SealMsg::Data(pieces) => {
                        for d in pieces {
                            writer.write(&d)?;
                        }
                    }
                    SealMsg::Finish => return writer.finish(),
                }
            }
            // The sender went away without `Finish`: the writer's drop removes the blob.
            Err(WriteError::Worker)
        });
        self.state = SealState::Thread { tx, done };
    }

    async fn thread_error(&mut self) -> WriteError {
        match std::mem::replace(&mut self.state, SealState::Gone) {
            SealState::Thread { done, .. } => match done.await {
                Ok(Err(e)) => e,
                _ => WriteError::Worker,
            },
            _ => WriteError::Worker,
        }
    }

    /// Seals the final segment and makes the blob durable (or hands back an inline body).
    pub async fn finish(mut self) -> Result<FinishedBlob, WriteError> {
        self.send_batch().await?;
        match std::mem::replace(&mut self.state, SealState::Gone) {
            SealState::Here(w) if w.writer.is_buffered() => w.finish(),
            SealState::Here(w) => tokio::task::spawn_blocking(move || w.finish())
                .await
                .map_err(|_| WriteError::Worker)?,
            SealState::Thread { tx, done } => {
                if tx.send(SealMsg::Finish).await.is_err() {
                    return match done.await {
                        Ok(Err(e)) => Err(e),
                        _ => Err(WriteError::Worker),
                    };
                }
                done.await.map_err(|_| WriteError::Worker)?
            }
            SealState::Gone => Err(WriteError::Worker),
        }
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
    let cipher = SegmentCipher::new(keys, &header.nonce_prefix)?;
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
        let mut segment = st.buf.split_to(need);
        let is_last = st.index == st.layout.segments() - 1;
        st.cipher
            .open(st.index as u32, is_last, &mut segment)
            .map_err(std::io::Error::other)?;
        let start = (st.skip as usize).min(segment.len());
        let end = (start as u64 + st.remaining).min(segment.len() as u64) as usize;
        let out = segment.freeze().slice(start..end);
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

/// Segments read from the blob in one positioned read by [`decrypt_on_thread`].
const READ_BATCH: u64 = 4;
/// Decrypted segments that may wait for the socket (bounds memory per GET to ~12 segments).
const DECRYPT_QUEUE: usize = 8;

/// As [`decrypt_stream`], for bodies of more than a segment: a blocking thread reads the segments
/// the range needs straight from the blob (positioned reads, a few segments at a time), opens them
/// and queues the plaintext, so decryption runs beside the socket writes and never on the async
/// reactor. Stops when the response is dropped.
pub fn decrypt_on_thread(
    blob: OpenBlob,
    size: u64,
    keys: Vec<DataKey>,
    range: Option<ByteRange>,
) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(DECRYPT_QUEUE);
    tokio::task::spawn_blocking(move || {
        let run = || -> Result<(), std::io::Error> {
            let mut header = [0u8; HEADER_SIZE as usize];
            blob.read_exact_at(0, &mut header)?;
            let header = Header::decode(&header).map_err(std::io::Error::other)?;
            if header.layers as usize != keys.len() {
                return Err(std::io::Error::other(CryptoError::Integrity(
                    "layer count does not match the keys",
                )));
            }
            let cipher =
                SegmentCipher::new(&keys, &header.nonce_prefix).map_err(std::io::Error::other)?;
            let layout = Layout {
                size,
                overhead: cipher.overhead(),
            };
            let span = layout.span(range);
            let (mut skip, mut remaining) = (span.skip, span.take);
            let mut offset = span.offset;
            let mut index = span.first;
            while index <= span.last && (remaining > 0 || index == span.first) {
                let batch_end = (index + READ_BATCH - 1).min(span.last);
                let lens: Vec<usize> = (index..=batch_end)
                    .map(|i| (layout.segment_len(i) + layout.overhead) as usize)
                    .collect();
                let mut buf = BytesMut::zeroed(lens.iter().sum());
                blob.read_exact_at(offset, &mut buf)?;
                offset += buf.len() as u64;
                for len in lens {
                    let mut segment = buf.split_to(len);
                    let is_last = index == layout.segments() - 1;
                    cipher
                        .open(index as u32, is_last, &mut segment)
                        .map_err(std::io::Error::other)?;
                    let plain = segment.freeze();
                    let start = (skip as usize).min(plain.len());
                    let end = (start as u64 + remaining).min(plain.len() as u64) as usize;
                    let out = plain.slice(start..end);
                    skip = 0;
                    remaining -= out.len() as u64;
                    index += 1;
                    if !out.is_empty() && tx.blocking_send(Ok(out)).is_err() {
                        return Ok(()); // the client went away
                    }
                    if remaining == 0 {
                        return Ok(());
                    }
                }
            }
            Ok(())
        };
        if let Err(e) = run() {
            let _ = tx.blocking_send(Err(e));
        }
    });
    tokio_stream_from(rx)
}

fn tokio_stream_from(rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> ByteStream {
    stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
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
/// Plaintext bytes per segment.
pub const SEGMENT_LEN: u64 = SEGMENT_SIZE;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{BodyRef, Store};

    async fn roundtrip(size: usize, layers: usize, range: Option<ByteRange>) -> (Vec<u8>, Vec<u8>) {
        let store = Store::memory();
        let keys: Vec<DataKey> = (0..layers).map(|_| DataKey::generate()).collect();
        let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
        let w = EncryptingWriter::new(store.create_blob(true).await.unwrap(), &keys, None).unwrap();
        let mut w = Sealer::new(w);
        for piece in data.chunks(10_000) {
            w.write(Bytes::copy_from_slice(piece)).await.unwrap();
        }
        let id = w.finish().await.unwrap().id;
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
