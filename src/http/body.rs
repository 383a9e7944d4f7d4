//! Request bodies of XML documents: collected under a hard limit, with every digest the request
//! promised checked (object bodies stream through `object_io` instead).

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::auth::PayloadCheck;
use crate::error::{S3Error, S3ErrorCode};
use crate::integrity::{Expectations, IntegrityError, RequestBody};

/// The largest XML request document accepted (bucket configurations and the like).
pub const MAX_XML_BODY: u64 = 1024 * 1024;
/// The largest DeleteObjects or CompleteMultipartUpload document: 1,000 keys of 1,024 bytes,
/// every byte escaped, or 10,000 parts with their checksums, fit with room to spare.
pub const MAX_LARGE_XML_BODY: u64 = 8 * 1024 * 1024;

/// Whether the request must carry Content-MD5 or a flexible checksum of its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    Optional,
    Required,
}

/// Reads a whole XML request body (aws-chunked or not), refusing anything over `MAX_XML_BODY` and
/// any body that breaks a promise of its head.
pub async fn read_xml_body(
    headers: &HeaderMap,
    payload: &PayloadCheck,
    body: Body,
    digest: Digest,
) -> Result<Bytes, S3Error> {
    read_xml_body_limited(headers, payload, body, digest, MAX_XML_BODY).await
}

/// `read_xml_body` for a configuration document (PutBucketEncryption, PutBucketVersioning,
/// PutObjectTagging): a body of nothing but white space is S3's MissingRequestBodyError.
pub async fn read_required_xml_body(
    headers: &HeaderMap,
    payload: &PayloadCheck,
    body: Body,
    digest: Digest,
) -> Result<Bytes, S3Error> {
    let xml = read_xml_body(headers, payload, body, digest).await?;
    if xml.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::with_message(
            S3ErrorCode::MissingRequestBodyError,
            "Request body is empty.",
        ));
    }
    Ok(xml)
}

/// `read_xml_body` for the documents that may be larger (see [`MAX_LARGE_XML_BODY`]). A body
/// announced (or found) larger than `max` is refused with `MaxMessageLengthExceeded` after at
/// most `max` bytes and one read are held.
pub async fn read_xml_body_limited(
    headers: &HeaderMap,
    payload: &PayloadCheck,
    body: Body,
    digest: Digest,
    max: u64,
) -> Result<Bytes, S3Error> {
    let expect = Expectations::from_headers(headers, payload)?;
    if digest == Digest::Required && !expect.has_integrity_digest() {
        return Err(IntegrityError::MissingIntegrityHeader.into());
    }
    if expect.length.is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut body = RequestBody::new(body.into_data_stream(), expect, max);
    let mut buf = BytesMut::new();
    while let Some(piece) = body.next().await {
        match piece {
            Ok(piece) => buf.extend_from_slice(&piece),
            Err(IntegrityError::TooLarge { .. }) => return Err(too_big()),
            Err(e) => return Err(e.into()),
        }
    }
    body.finish()?;
    Ok(buf.freeze())
}

fn too_big() -> S3Error {
    S3Error::new(S3ErrorCode::MaxMessageLengthExceeded)
}
