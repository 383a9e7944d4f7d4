//! Request bodies of XML documents: collected under a hard limit, with every digest the request
//! promised checked (object bodies stream through `object_io` instead).

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;

use crate::auth::PayloadCheck;
use crate::error::S3Error;
use crate::integrity::{Expectations, IntegrityError, RequestBody};

/// The largest XML request document accepted.
pub const MAX_XML_BODY: u64 = 1024 * 1024;

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

/// `read_xml_body` for the one document that may be larger (a Complete naming 10,000 parts).
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
    let mut body = RequestBody::new(body.into_data_stream(), expect, max);
    let mut buf = BytesMut::new();
    while let Some(piece) = body.next().await {
        buf.extend_from_slice(&piece?);
    }
    body.finish()?;
    Ok(buf.freeze())
}
