//! The one write path and the one read path of object bytes.
//!
//! Every object body — PutObject's request body, CopyObject's source — goes through
//! [`write_body`], which streams the verified payload of a [`RequestBody`] into a new blob and
//! refuses it (leaving nothing behind) if any promised digest does not match. [`read_body`] is its
//! mirror for GET. Encryption at rest plugs in here, between the digests and the blob.

use bytes::Bytes;
use futures_util::Stream;

use crate::error::S3Error;
use crate::http::headers::ByteRange;
use crate::integrity::RequestBody;
use crate::integrity::checksum::Checksum;
use crate::store::{BodyRef, ByteStream, ObjectMeta, Store, StoreError};

/// The largest single-request object S3 accepts (5 GiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// A body that has been stored (synced, not yet visible).
#[derive(Debug)]
pub struct WrittenBody {
    pub body: BodyRef,
    pub size: u64,
    pub md5: [u8; 16],
    pub checksum: Checksum,
}

/// Streams `body` into a new blob and checks its promises at the end. On any error the partial blob
/// is removed (the writer's drop guard), so a failed upload never leaves or replaces anything.
pub async fn write_body<S, E>(
    store: &Store,
    mut body: RequestBody<S>,
) -> Result<WrittenBody, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let mut writer = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if chunk.is_empty() {
            continue;
        }
        if writer.is_none() {
            writer = Some(store.create_blob().await?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&chunk).await?;
        }
    }
    let digests = body.finish()?;
    let stored = match writer {
        Some(w) => BodyRef::Blob(w.finish().await?),
        None => BodyRef::Empty,
    };
    Ok(WrittenBody {
        body: stored,
        size: digests.size,
        md5: digests.md5,
        checksum: digests.checksum,
    })
}

/// Streams the plaintext of `range` (or the whole object).
pub async fn read_body(
    store: &Store,
    meta: &ObjectMeta,
    range: Option<ByteRange>,
) -> Result<ByteStream, StoreError> {
    let (offset, len) = match range {
        Some(r) => (r.start, r.len()),
        None => (0, meta.size),
    };
    store.read_body(&meta.body, offset, len).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PayloadCheck;
    use crate::error::S3ErrorCode;
    use crate::integrity::{ChecksumAlgorithm, Expectations};
    use futures_util::{StreamExt, stream};

    fn body(
        parts: &[&'static [u8]],
        headers: &[(&str, &str)],
    ) -> RequestBody<impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin> {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let expect = Expectations::from_headers(&h, &PayloadCheck::Unsigned).unwrap();
        let s = stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        );
        RequestBody::new(s, expect, MAX_OBJECT_SIZE)
    }

    async fn read_all(store: &Store, meta: &ObjectMeta, range: Option<ByteRange>) -> Vec<u8> {
        let mut s = read_body(store, meta, range).await.unwrap();
        let mut out = Vec::new();
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c.unwrap());
        }
        out
    }

    fn meta_for(w: WrittenBody) -> ObjectMeta {
        ObjectMeta {
            size: w.size,
            etag: hex::encode(w.md5),
            last_modified_millis: 0,
            content_headers: vec![],
            user_metadata: vec![],
            checksum: Some(w.checksum),
            body: w.body,
        }
    }

    #[tokio::test]
    async fn roundtrip_and_ranges() {
        let store = Store::memory();
        let w = write_body(&store, body(&[b"hello ", b"world\n"], &[]))
            .await
            .unwrap();
        assert_eq!(hex::encode(w.md5), "6f5902ac237024bdd0c176cb93063dc4");
        assert_eq!(w.checksum.algorithm, ChecksumAlgorithm::Crc64Nvme);
        let meta = meta_for(w);
        assert_eq!(read_all(&store, &meta, None).await, b"hello world\n");
        assert_eq!(
            read_all(&store, &meta, Some(ByteRange { start: 3, end: 7 })).await,
            b"lo wo"
        );
    }

    #[tokio::test]
    async fn empty_body_stores_nothing() {
        let store = Store::memory();
        let w = write_body(&store, body(&[], &[])).await.unwrap();
        assert_eq!(w.body, BodyRef::Empty);
        assert_eq!(hex::encode(w.md5), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[tokio::test]
    async fn digest_mismatches_are_refused() {
        let store = Store::memory();
        let e = write_body(
            &store,
            body(&[b"x"], &[("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")]),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::BadDigest);
        let e = write_body(
            &store,
            body(&[b"x"], &[("x-amz-checksum-crc32", "AAAAAA==")]),
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::BadDigest);
        let e = write_body(&store, body(&[b"x"], &[("content-length", "5")]))
            .await
            .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::IncompleteBody);
    }
}
