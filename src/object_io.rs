//! The one write path and the one read path of object bytes.
//!
//! Every object body — PutObject's request body, CopyObject's source — goes through
//! [`write_body`]: the verified payload of a [`RequestBody`] is sealed segment by segment under
//! fresh data keys ([`crate::crypto`]) into a new blob, the data keys are sealed per the request's
//! encryption plan, and a broken promise of the request (a digest, a length) stores nothing.
//! [`read_body`] is its mirror: it opens the data keys and decrypts only the segments a range needs.

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};

use crate::crypto::ssec::CustomerKey;
use crate::crypto::stream::{self as cstream, EncryptingWriter, WriteError};
use crate::crypto::{Encryption, ObjectRef, Plan, sse};
use crate::error::S3Error;
use crate::http::headers::ByteRange;
use crate::integrity::RequestBody;
use crate::integrity::checksum::Checksum;
use crate::server::AppState;
use crate::store::{BodyRef, ByteStream, ObjectMeta, StoreError};

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
}

impl From<WriteError> for S3Error {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(s) => s.into(),
            WriteError::Crypto(c) => c.into(),
        }
    }
}

/// Encrypts and stores `body` for `bucket`/`key` under `plan`, checking the body's promises at the
/// end. On any error the partial blob is removed (the writer's drop guard), so a failed upload never
/// leaves or replaces anything.
pub async fn write_body<S, E>(
    state: &AppState,
    bucket: &str,
    key: &str,
    plan: &Plan,
    mut body: RequestBody<S>,
) -> Result<WrittenBody, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut writer = EncryptingWriter::new(state.store.create_blob().await?, &plan.keys).await?;
    while let Some(chunk) = body.next().await {
        writer.write(&chunk?).await?;
    }
    let digests = body.finish()?;
    let blob_id = writer.finish().await?;
    let encryption = state.crypto.seal(
        plan,
        &ObjectRef {
            bucket,
            key,
            blob_id: &blob_id,
        },
    )?;
    let first = plan
        .keys
        .first()
        .ok_or_else(|| S3Error::internal("encryption plan without a key"))?;
    Ok(WrittenBody {
        etag: sse::etag(&encryption, &digests.md5, first),
        body: BodyRef::Blob(blob_id),
        size: digests.size,
        checksum: digests.checksum,
        encryption,
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

/// Streams the plaintext of `range` (or the whole object) of `bucket`/`key`.
pub async fn read_body(
    state: &AppState,
    account: &str,
    bucket: &str,
    key: &str,
    meta: &ObjectMeta,
    range: Option<ByteRange>,
    customer: Option<&CustomerKey>,
) -> Result<ByteStream, ReadError> {
    let store = &state.store;
    let blob = store.open_body(&meta.body).await.map_err(store_error)?;
    let (Some(enc), BodyRef::Blob(blob_id)) = (&meta.encryption, &meta.body) else {
        // Written before encryption existed: stored as is.
        let (offset, len) = range.map(|r| (r.start, r.len())).unwrap_or((0, meta.size));
        return blob.read(offset, len).await.map_err(store_error);
    };
    let keys = state
        .crypto
        .open(
            store,
            account,
            enc,
            &ObjectRef {
                bucket,
                key,
                blob_id,
            },
            customer,
        )
        .await?;
    let header = collect(
        blob.read(0, cstream::HEADER_LEN)
            .await
            .map_err(store_error)?,
    )
    .await?;
    let (offset, len) = cstream::encrypted_span(meta.size, keys.len(), range);
    let span = blob.read(offset, len).await.map_err(store_error)?;
    Ok(cstream::decrypt_stream(
        &header, meta.size, &keys, range, span,
    )?)
}

async fn collect(mut s: ByteStream) -> Result<Bytes, S3Error> {
    let mut buf = BytesMut::new();
    while let Some(piece) = s.next().await {
        buf.extend_from_slice(&piece.map_err(S3Error::internal)?);
    }
    Ok(buf.freeze())
}
