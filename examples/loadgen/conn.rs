//! Request bodies, where answers go, request errors, and one worker's connection.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::client::conn::http1::SendRequest;
use serde::Deserialize;

use crate::args::*;
use crate::pattern::*;

/// Request bodies: empty, one buffer, or a generated object body.
pub enum ReqBody {
    Empty,
    Bytes(Option<Bytes>),
    Pattern(PatternBody),
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let chunk = match self.get_mut() {
            ReqBody::Empty => None,
            ReqBody::Bytes(b) => b.take().filter(|b| !b.is_empty()),
            ReqBody::Pattern(p) => p.next_chunk(),
        };
        Poll::Ready(chunk.map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.size_hint().exact() == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(match self {
            ReqBody::Empty => 0,
            ReqBody::Bytes(b) => b.as_ref().map_or(0, |b| b.len() as u64),
            ReqBody::Pattern(p) => p.remaining(),
        })
    }
}

/// Where a successful answer's body goes.
pub enum Sink<'a> {
    Discard,
    Verify(&'a mut Verifier),
    Collect(&'a mut Vec<u8>),
}

/// A ListObjectsV2 answer (the fields checked).
#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListBucketResult {
    pub(crate) name: String,
    pub(crate) prefix: Option<String>,
    pub(crate) key_count: Option<usize>,
    pub(crate) is_truncated: bool,
    pub(crate) next_continuation_token: Option<String>,
    #[serde(default)]
    pub(crate) contents: Vec<ListEntry>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListEntry {
    pub(crate) key: String,
    pub(crate) size: u64,
    #[serde(rename = "ETag")]
    pub(crate) e_tag: String,
    pub(crate) last_modified: String,
}

/// Query-string values: everything but the unreserved characters percent-encoded (SigV4's rule).
pub(crate) const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a request failed.
#[derive(Debug)]
pub enum ReqError {
    /// The request could not be built or signed.
    Build(String),
    Connect(String),
    /// The connection failed while the request was in flight: it may or may not have taken effect.
    Transport(String),
    Timeout,
    Status(u16, String),
    Mismatch(String),
}

impl ReqError {
    /// A PUT that failed this way may still have been stored.
    pub(crate) fn uncertain(&self) -> bool {
        matches!(self, ReqError::Transport(_) | ReqError::Timeout)
    }
}

impl fmt::Display for ReqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReqError::Build(e) => write!(f, "cannot build request: {e}"),
            ReqError::Connect(e) => write!(f, "connect: {e}"),
            ReqError::Transport(e) => write!(f, "transport: {e}"),
            ReqError::Timeout => write!(f, "timed out"),
            ReqError::Status(s, body) => write!(f, "HTTP {s}: {}", body.trim()),
            ReqError::Mismatch(e) => write!(f, "body mismatch: {e}"),
        }
    }
}

impl StdError for ReqError {}

/// A worker's connection (opened on first use, reopened after a failure or a server close).
#[derive(Default)]
pub struct Conn {
    pub(crate) sender: Option<SendRequest<ReqBody>>,
}

/// Checks that a PUT or GET answer names the SSE mode `mode` (`none`: no header or the bucket
/// default, SSE-S3).
pub(crate) fn check_sse_answer(headers: &http::HeaderMap, mode: Sse) -> Result<(), String> {
    let sse = headers
        .get("x-amz-server-side-encryption")
        .and_then(|v| v.to_str().ok());
    let customer = headers
        .get("x-amz-server-side-encryption-customer-algorithm")
        .and_then(|v| v.to_str().ok());
    let ok = match mode {
        Sse::None | Sse::Mixed => matches!(sse, None | Some("AES256")) && customer.is_none(),
        Sse::S3 => sse == Some("AES256") && customer.is_none(),
        Sse::Kms => sse == Some("aws:kms"),
        Sse::Dsse => sse == Some("aws:kms:dsse"),
        Sse::Customer => customer == Some("AES256") && sse.is_none(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "answer has x-amz-server-side-encryption {sse:?}, customer algorithm {customer:?}"
        ))
    }
}

/// (PUT headers, GET headers) of one SSE mode.
pub(crate) type SseHeaders = (Vec<(&'static str, String)>, Vec<(&'static str, String)>);
