//! The one write path and the one read path of object bytes.
//!
//! Every object body — PutObject's request body, CopyObject's source — goes through
//! [`write_body`], which streams it into a new blob while computing the digests the request
//! promised, and refuses it (leaving nothing behind) if any does not match. [`read_body`] is its
//! mirror for GET. Encryption at rest plugs in here, between the digests and the blob.

use base64::Engine;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest, Md5};
use sha2::Sha256;

use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::incomplete_body;
use crate::http::headers::ByteRange;
use crate::store::{BodyRef, ByteStream, ObjectMeta, Store, StoreError};

/// The largest single-request object S3 accepts (5 GiB).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// What the request head promised about its body.
#[derive(Debug, Default, Clone)]
pub struct BodyChecks {
    pub content_md5: Option<[u8; 16]>,
    pub sha256: Option<[u8; 32]>,
    pub expected_len: Option<u64>,
}

/// A body that has been stored (synced, not yet visible).
#[derive(Debug)]
pub struct WrittenBody {
    pub body: BodyRef,
    pub size: u64,
    pub md5: [u8; 16],
}

/// Streams `stream` into a new blob, verifying `checks` at the end. On any error the partial blob
/// is removed (the writer's drop guard), so a failed upload never leaves or replaces anything.
pub async fn write_body<S, E>(
    store: &Store,
    stream: S,
    checks: &BodyChecks,
) -> Result<WrittenBody, S3Error>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut md5 = Md5::new();
    let mut sha = checks.sha256.map(|_| Sha256::new());
    let mut writer = None;
    let mut size: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| incomplete_body())?;
        size += chunk.len() as u64;
        if size > MAX_OBJECT_SIZE {
            return Err(S3Error::with_message(
                S3ErrorCode::EntityTooLarge,
                "Your proposed upload exceeds the maximum allowed size",
            )
            .field("MaxSizeAllowed", MAX_OBJECT_SIZE.to_string()));
        }
        md5.update(&chunk);
        if let Some(s) = sha.as_mut() {
            s.update(&chunk);
        }
        if writer.is_none() {
            writer = Some(store.create_blob().await?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&chunk).await?;
        }
    }
    if checks.expected_len.is_some_and(|n| n != size) {
        return Err(incomplete_body());
    }
    let md5: [u8; 16] = md5.finalize().into();
    verify_digests(checks, &md5, sha.map(|s| s.finalize().into()))?;
    let body = match writer {
        Some(w) => BodyRef::Blob(w.finish().await?),
        None => BodyRef::Empty,
    };
    Ok(WrittenBody { body, size, md5 })
}

fn verify_digests(
    checks: &BodyChecks,
    md5: &[u8; 16],
    sha: Option<[u8; 32]>,
) -> Result<(), S3Error> {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    if let (Some(expected), Some(actual)) = (checks.sha256, sha) {
        if expected != actual {
            return Err(S3Error::with_message(
                S3ErrorCode::XAmzContentSHA256Mismatch,
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
            )
            .field("ClientComputedContentSHA256", hex::encode(expected))
            .field("S3ComputedContentSHA256", hex::encode(actual)));
        }
    }
    if let Some(expected) = checks.content_md5 {
        if &expected != md5 {
            return Err(S3Error::with_message(
                S3ErrorCode::BadDigest,
                "The Content-MD5 you specified did not match what we received.",
            )
            .field("ExpectedDigest", hex::encode(expected))
            .field("CalculatedDigest", b64(md5)));
        }
    }
    Ok(())
}

/// Parses `Content-MD5`: base64 of exactly 16 bytes, else `InvalidDigest`.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], S3Error> {
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v.as_slice()).ok())
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidDigest,
                "The Content-MD5 you specified was invalid.",
            )
            .field("Content-MD5", value)
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
    use futures_util::stream;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
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
            body: w.body,
        }
    }

    #[tokio::test]
    async fn roundtrip_and_ranges() {
        let store = Store::memory();
        let w = write_body(
            &store,
            chunks(&[b"hello ", b"world\n"]),
            &BodyChecks::default(),
        )
        .await
        .unwrap();
        assert_eq!(hex::encode(w.md5), "6f5902ac237024bdd0c176cb93063dc4");
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
        let w = write_body(&store, chunks(&[]), &BodyChecks::default())
            .await
            .unwrap();
        assert_eq!(w.body, BodyRef::Empty);
        assert_eq!(hex::encode(w.md5), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[tokio::test]
    async fn digest_mismatches_are_refused() {
        let store = Store::memory();
        let bad_md5 = BodyChecks {
            content_md5: Some([0; 16]),
            ..Default::default()
        };
        let e = write_body(&store, chunks(&[b"x"]), &bad_md5)
            .await
            .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::BadDigest);
        let bad_sha = BodyChecks {
            sha256: Some([0; 32]),
            ..Default::default()
        };
        let e = write_body(&store, chunks(&[b"x"]), &bad_sha)
            .await
            .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::XAmzContentSHA256Mismatch);
        let short = BodyChecks {
            expected_len: Some(5),
            ..Default::default()
        };
        let e = write_body(&store, chunks(&[b"x"]), &short)
            .await
            .unwrap_err();
        assert_eq!(e.code, S3ErrorCode::IncompleteBody);
    }

    #[test]
    fn content_md5_parsing() {
        assert!(parse_content_md5("b1kCrCNwJL3QwXbLkwY9xA==").is_ok());
        for bad in ["__invalid__", "000", "MTIz", "dGVzdC1zdHJpbmc="] {
            assert_eq!(
                parse_content_md5(bad).unwrap_err().code,
                S3ErrorCode::InvalidDigest
            );
        }
    }
}
