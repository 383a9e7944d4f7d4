//! Request bodies: bounded collection for XML documents; object bodies are streamed elsewhere
//! (`object_io`).

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::error::{S3Error, S3ErrorCode};

/// The largest XML request document accepted.
pub const MAX_XML_BODY: usize = 1024 * 1024;

/// Reads a whole XML request body, refusing anything over `MAX_XML_BODY`.
pub async fn read_xml_body(body: Body) -> Result<Bytes, S3Error> {
    let mut body = body;
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| incomplete_body())?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > MAX_XML_BODY {
                return Err(S3Error::with_message(
                    S3ErrorCode::MalformedXML,
                    "The XML you provided was larger than the maximum allowed size",
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

pub fn incomplete_body() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::IncompleteBody,
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )
}
