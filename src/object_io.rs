//! The one write path and the one read path of object bytes.
//!
//! Every object body — PutObject's request body, CopyObject's source — goes through
//! [`write_body`]: the verified payload of a [`RequestBody`] is sealed segment by segment under
//! fresh data keys ([`crate::crypto`]) into a new blob, the data keys are sealed per the request's
//! encryption plan, and a broken promise of the request (a digest, a length) stores nothing.
//! [`read_body`] is its mirror: it opens the data keys and decrypts only the segments a range needs.

pub mod stream;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::byte_range::ByteRange;
use crate::crypto::ssec::CustomerKey;
use crate::crypto::{DataKey, Encryption, ObjectRef, Plan, sse};
use crate::error::S3Error;
use crate::integrity::RequestBody;
use crate::integrity::checksum::Checksum;
use crate::state::AppState;
use crate::store::{
    BodyRef, ByteStream, FinishedBlob, ObjectAddr, ObjectMeta, OpenBlob, PartBody, StoreError,
    UploadMeta,
};

use stream::{self as cstream, EncryptingWriter, Sealer, WriteError};

/// The largest single-request object S3 accepts (5 GiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// A body that has been stored (synced, not yet visible).
#[derive(Debug)]
pub struct WrittenBody {
    pub body: BodyRef,
    pub size: u64,
    pub etag: String,
    pub checksum: Checksum,
    pub encryption: Encryption,
    /// The sealed bytes of an `Inline` body, for `Store::commit_object`.
    pub inline: Option<Bytes>,
}

impl From<WriteError> for S3Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(s) => s.into(),
            WriteError::Crypto(c) => c.into(),
            WriteError::Worker => S3Error::internal("the sealing thread failed"),
        }
    }
}

/// Encrypts and stores `body` for the object at `addr` under `plan`, checking the body's promises
/// at the end. On any error the partial blob is removed (the writer's drop guard), so a failed
/// upload never leaves or replaces anything.
pub async fn write_body<S, E>(
    state: &AppState,
    addr: ObjectAddr<'_>,
    plan: &Plan,
    mut body: RequestBody<S>,
) -> Result<WrittenBody, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    if !plan.etag_is_md5() {
        body = body.md5_only_if_promised();
    }
    let blob = state.store.create_blob(true).await?;
    let hint = body.expected_len();
    let mut sealer = Sealer::new(EncryptingWriter::new(blob, &plan.keys, hint)?);
    while let Some(chunk) = body.next().await {
        sealer.write(chunk?).await?;
    }
    // A broken promise drops the sealer unfinished: the blob is discarded, never synced.
    let digests = body.finish()?;
    let FinishedBlob {
        id: blob_id,
        inline,
    } = sealer.finish().await?;
    let encryption = state.crypto.seal(
        plan,
        &ObjectRef {
            bucket: addr.bucket,
            key: addr.key,
            blob_id: &blob_id,
        },
    )?;
    let first = plan
        .keys
        .first()
        .ok_or_else(|| S3Error::internal("encryption plan without a key"))?;
    Ok(WrittenBody {
        etag: sse::etag(&encryption, digests.md5.as_ref(), first),
        body: match inline {
            Some(_) => BodyRef::Inline(blob_id),
            None => BodyRef::Blob(blob_id),
        },
        inline,
        size: digests.size,
        checksum: digests.checksum,
        encryption,
    })
}

/// A part that has been stored (synced, not yet recorded).
#[derive(Debug)]
pub struct WrittenPart {
    pub blob: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// The checksum in the request's algorithm (or the upload's, when the request sent none).
    pub checksum: Checksum,
    /// The checksum in the upload's algorithm, when that differs from the request's.
    pub extra: Option<Checksum>,
}

/// The data keys of a multipart upload (sealed for its upload id at creation).
pub async fn upload_keys(
    state: &AppState,
    account: &str,
    bucket: &str,
    upload: &UploadMeta,
    customer: Option<&CustomerKey>,
) -> Result<Vec<DataKey>, S3Error> {
    Ok(state
        .crypto
        .open(
            &state.store,
            account,
            &upload.encryption,
            &ObjectRef {
                bucket,
                key: &upload.key,
                blob_id: &upload.upload_id,
            },
            customer,
        )
        .await?)
}

/// Encrypts and stores one part under keys derived for its blob (see `sse::part_keys`), checking
/// the body's promises at the end; like `write_body`, a failure leaves nothing behind.
pub async fn write_part<S, E>(
    state: &AppState,
    upload_keys: &[DataKey],
    number: u32,
    mut body: RequestBody<S>,
) -> Result<WrittenPart, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    // Parts are always files: CompleteMultipartUpload refers to them by blob.
    let blob = state.store.create_blob(false).await?;
    let keys = sse::part_keys(upload_keys, blob.id(), number);
    let hint = body.expected_len();
    let mut sealer = Sealer::new(EncryptingWriter::new(blob, &keys, hint)?);
    while let Some(chunk) = body.next().await {
        sealer.write(chunk?).await?;
    }
    let digests = body.finish()?;
    let blob = sealer.finish().await?.id;
    Ok(WrittenPart {
        blob,
        size: digests.size,
        md5: digests
            .md5
            .ok_or_else(|| S3Error::internal("part without its MD5"))?,
        checksum: digests.checksum,
        extra: digests.extra,
    })
}

/// Why a read could not start.
#[derive(Debug)]
pub enum ReadError {
    /// The body was replaced (and freed) after its metadata was read: read the metadata again.
    BlobMissing,
    Other(S3Error),
}

impl From<ReadError> for S3Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::BlobMissing => S3Error::internal("object body was replaced during the read"),
            ReadError::Other(e) => e,
        }
    }
}

impl From<S3Error> for ReadError {
    fn from(e: S3Error) -> Self {
        ReadError::Other(e)
    }
}

impl From<crate::crypto::CryptoError> for ReadError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        ReadError::Other(e.into())
    }
}

fn store_error(e: StoreError) -> ReadError {
    match e {
        StoreError::BlobMissing(_) => ReadError::BlobMissing,
        other => ReadError::Other(other.into()),
    }
}

/// One read of an object's bytes.
pub struct ObjectRead<'a> {
    /// The account reading (KMS keys are per account).
    pub account: &'a str,
    pub addr: ObjectAddr<'a>,
    /// The object's checked record (`Store::object`).
    pub meta: &'a ObjectMeta,
    /// The plaintext range; `None` for the whole object.
    pub range: Option<ByteRange>,
    /// The SSE-C key, checked against the record's verifier by the caller.
    pub customer: Option<&'a CustomerKey>,
}

impl ObjectRead<'_> {
    /// Opens the data keys sealed for the body `blob_id` (a blob, or a multipart upload's id).
    async fn keys(&self, state: &AppState, blob_id: &str) -> Result<Vec<DataKey>, ReadError> {
        Ok(state
            .crypto
            .open(
                &state.store,
                self.account,
                &self.meta.encryption,
                &ObjectRef {
                    bucket: self.addr.bucket,
                    key: self.addr.key,
                    blob_id,
                },
                self.customer,
            )
            .await?)
    }
}

/// Streams the plaintext of `read.range` (or the whole object).
pub async fn read_body(state: &AppState, read: &ObjectRead<'_>) -> Result<ByteStream, ReadError> {
    let store = &state.store;
    let meta = read.meta;
    let blob_id = match &meta.body {
        BodyRef::Parts { upload_id, parts } => {
            return read_parts(state, read, upload_id, parts).await;
        }
        // Nothing stored: the record's MAC vouches for the size being 0 (`store::sealed`).
        BodyRef::Empty => return Ok(futures_util::stream::empty().boxed()),
        BodyRef::Blob(id) | BodyRef::Inline(id) => id,
    };
    let blob = store.open_body(&meta.body).await.map_err(store_error)?;
    let keys = read.keys(state, blob_id).await?;
    decrypt(blob, meta.size, keys, read.range).await
}

/// Decrypts `range` of one sealed blob: a body within one segment right here (microseconds of
/// work), a longer one on a blocking thread (`decrypt_on_thread`).
async fn decrypt(
    blob: OpenBlob,
    size: u64,
    keys: Vec<DataKey>,
    range: Option<ByteRange>,
) -> Result<ByteStream, ReadError> {
    let (offset, len) = cstream::encrypted_span(size, keys.len(), range);
    if len > cstream::SEGMENT_LEN + 64 || blob.is_file() {
        return Ok(cstream::decrypt_on_thread(blob, size, keys, range));
    }
    let header = collect(
        blob.read(0, cstream::HEADER_LEN)
            .await
            .map_err(store_error)?,
    )
    .await?;
    let span = blob.read(offset, len).await.map_err(store_error)?;
    Ok(cstream::decrypt_stream(&header, size, &keys, range, span)?)
}

/// Streams `range` of a multipart object: each part it touches is decrypted on its own (only the
/// segments the range needs). The touched parts' blobs are all opened before the first byte, so a
/// concurrent overwrite cannot take a part away halfway through the read.
async fn read_parts(
    state: &AppState,
    read: &ObjectRead<'_>,
    upload_id: &str,
    parts: &[PartBody],
) -> Result<ByteStream, ReadError> {
    let (start, end) = match read.range {
        Some(r) => (r.start, r.end.saturating_add(1)),
        None => (0, read.meta.size),
    };
    // (blob, keys, size, local range) for each part overlapping [start, end).
    let mut plan: Vec<(OpenBlob, Vec<DataKey>, u64, Option<ByteRange>)> = Vec::new();
    let mut offset = 0u64;
    let mut upload_keys: Option<Vec<DataKey>> = None;
    for part in parts {
        let (p_start, p_end) = (offset, offset + part.size);
        offset = p_end;
        if p_end <= start || p_start >= end || part.size == 0 {
            continue;
        }
        let keys = match &upload_keys {
            Some(k) => k,
            None => upload_keys.insert(read.keys(state, upload_id).await?),
        };
        let local = ByteRange {
            start: start.max(p_start) - p_start,
            end: end.min(p_end) - p_start - 1,
        };
        let whole = local.start == 0 && local.end + 1 == part.size;
        let blob = state
            .store
            .open_blob(&part.blob)
            .await
            .map_err(store_error)?;
        plan.push((
            blob,
            sse::part_keys(keys, &part.blob, part.number),
            part.size,
            (!whole).then_some(local),
        ));
    }
    let streams = futures_util::stream::iter(plan).then(|(blob, keys, size, local)| async move {
        match decrypt(blob, size, keys, local).await {
            Ok(s) => Ok(s),
            Err(e) => Err(io(S3Error::from(e))),
        }
    });
    Ok(streams.try_flatten().boxed())
}

fn io(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

async fn collect(mut s: ByteStream) -> Result<Bytes, S3Error> {
    let mut buf = BytesMut::new();
    while let Some(piece) = s.next().await {
        buf.extend_from_slice(&piece.map_err(S3Error::internal)?);
    }
    Ok(buf.freeze())
}
