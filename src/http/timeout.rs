//! The idle timeout of request bodies: a client that stops sending in the middle of a body gets
//! S3's `RequestTimeout` instead of holding a connection, a task and a half-written blob forever.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use crate::integrity::error::BodyTimedOut;

/// A request body that fails with [`BodyTimedOut`] once `idle` passes without a byte from the
/// client. The clock only runs while the body is being read, so a handler busy elsewhere (a KMS
/// call, a disk write) is never mistaken for a stalled client.
pub struct IdleTimeout {
    inner: Body,
    idle: Duration,
    sleep: Pin<Box<Sleep>>,
    /// The timer was armed by the last `Pending` read and not reset since.
    armed: bool,
    timed_out: bool,
}

impl IdleTimeout {
    pub fn new(inner: Body, idle: Duration) -> IdleTimeout {
        IdleTimeout {
            inner,
            idle,
            sleep: Box::pin(tokio::time::sleep(idle)),
            armed: false,
            timed_out: false,
        }
    }
}

impl http_body::Body for IdleTimeout {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.armed = false;
                Poll::Ready(frame)
            }
            Poll::Pending => {
                if !this.armed {
                    this.armed = true;
                    let deadline = Instant::now() + this.idle;
                    this.sleep.as_mut().reset(deadline);
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        this.timed_out = true;
                        Poll::Ready(Some(Err(axum::Error::new(BodyTimedOut))))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.timed_out && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::IntegrityError;
    use crate::integrity::error::stream_error;
    use futures_util::{StreamExt, stream};

    fn stalled_after(first: &'static [u8]) -> Body {
        let pieces = stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(first))])
            .chain(stream::pending());
        Body::from_stream(pieces)
    }

    #[tokio::test]
    async fn a_stalled_body_times_out_and_stays_failed() {
        let body = IdleTimeout::new(stalled_after(b"half"), Duration::from_millis(50));
        let mut s = Body::new(body).into_data_stream();
        assert_eq!(
            s.next().await.unwrap().unwrap(),
            Bytes::from_static(b"half")
        );
        let err = s.next().await.unwrap().unwrap_err();
        assert!(matches!(stream_error(&err), IntegrityError::RequestTimeout));
        assert!(s.next().await.unwrap().is_err());
    }

    #[tokio::test]
    async fn other_body_errors_are_incomplete_bodies() {
        let pieces = stream::iter([Err::<Bytes, _>(std::io::Error::other("reset"))]);
        let body = IdleTimeout::new(Body::from_stream(pieces), Duration::from_secs(5));
        let mut s = Body::new(body).into_data_stream();
        let err = s.next().await.unwrap().unwrap_err();
        assert!(matches!(stream_error(&err), IntegrityError::IncompleteBody));
    }
}
