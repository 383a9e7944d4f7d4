//! Unread bodies of refused requests.
//!
//! A handler that refuses a request before reading its body (no such bucket, a bad SSE-C key)
//! drops the body. If the server then closed the connection with the client still sending, the
//! client's kernel would see a reset and most clients would report a broken connection instead of
//! S3's error. So the request body is wrapped in [`Returning`], which hands an unfinished body back
//! to the entry point when the handler drops it; the entry point reads and discards it (up to
//! [`DRAIN_MAX`] bytes within [`DRAIN_TIMEOUT`]) before it answers, and the client always gets
//! the error, on a connection that stays usable.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body::{Body as _, Frame, SizeHint};
use tokio::sync::oneshot;

/// The most unread body bytes discarded to deliver an error; beyond this the connection closes.
pub const DRAIN_MAX: u64 = 64 * 1024 * 1024;
/// How long a client may take to send the rest of a refused body.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A request body that, dropped before its end, sends itself back through `back`.
pub struct Returning {
    inner: Option<Body>,
    back: Option<oneshot::Sender<Body>>,
    ended: bool,
}

impl Returning {
    /// Wraps `body`; the receiver gets it back if it is dropped unfinished.
    pub fn new(body: Body) -> (Returning, oneshot::Receiver<Body>) {
        let (tx, rx) = oneshot::channel();
        (
            Returning {
                inner: Some(body),
                back: Some(tx),
                ended: false,
            },
            rx,
        )
    }
}

impl http_body::Body for Returning {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            this.ended = true;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map(|b| b.size_hint())
            .unwrap_or_default()
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        if let (Some(body), Some(back)) = (self.inner.take(), self.back.take()) {
            if !body.is_end_stream() {
                let _ = back.send(body);
            }
        }
    }
}

/// Reads and discards what is left of `body`; true when it ended within the limits.
pub async fn drain(body: Body) -> bool {
    let read = async {
        let mut stream = body.into_data_stream();
        let mut total = 0u64;
        while let Some(piece) = stream.next().await {
            match piece {
                Ok(bytes) => total += bytes.len() as u64,
                Err(_) => return false,
            }
            if total > DRAIN_MAX {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(DRAIN_TIMEOUT, read)
        .await
        .unwrap_or(false)
}
