//! Requests whose body framing is ambiguous: both `Content-Length` and `Transfer-Encoding`.
//!
//! RFC 9112 §6.1 and §6.3: such a message may be an attempt at request smuggling, and a server
//! that may sit behind a proxy must treat it as an error and close the connection after
//! responding. hyper closes the connection, but it strips `Content-Length` before the request
//! reaches a handler, so nothing above it can tell such a request from a plain chunked one. The
//! connection's bytes are therefore watched as hyper reads them ([`Watched`]): a small scanner
//! follows the request framing (head, then a `Content-Length` or chunked body) and counts the heads
//! that carry both fields; the service marks the matching request ([`AmbiguousFraming`]), and the
//! entry answers it with S3's 400 `BadRequest` and `Connection: close`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Request extension: this request carried both `Content-Length` and `Transfer-Encoding`.
#[derive(Debug, Clone, Copy)]
pub struct AmbiguousFraming;

/// The longest head or chunk line followed; hyper refuses longer heads (about 400 KiB) itself.
const MAX_LINE: usize = 512 * 1024;

/// Per connection: which request (counted from 0) first had ambiguous framing, and how many
/// requests were handed to the service so far.
#[derive(Debug)]
pub struct ConnFraming {
    first_ambiguous: AtomicU64,
    served: AtomicU64,
}

impl Default for ConnFraming {
    fn default() -> Self {
        ConnFraming {
            first_ambiguous: AtomicU64::new(u64::MAX),
            served: AtomicU64::new(0),
        }
    }
}

impl ConnFraming {
    /// Called once per request, in order, as hyper hands it over (its head has been read, so the
    /// scanner saw it): whether this request, or one before it, was ambiguous. hyper serves the
    /// requests of a connection one after the other and closes it after an ambiguous one.
    pub fn next_request_is_ambiguous(&self) -> bool {
        let index = self.served.fetch_add(1, Ordering::SeqCst);
        index >= self.first_ambiguous.load(Ordering::SeqCst)
    }
}

/// Where the scanner is in the request stream.
#[derive(Debug)]
enum State {
    /// Reading a request head (the bytes so far).
    Head(Vec<u8>),
    /// A `Content-Length` body: bytes left.
    Fixed(u64),
    /// A chunk-size line (the bytes so far).
    ChunkSize(Vec<u8>),
    /// Chunk data: bytes left, then the CRLF after it.
    ChunkData(u64),
    ChunkEnd,
    /// Trailer lines after the last chunk (the current line so far).
    Trailers(Vec<u8>),
    /// Framing the scanner does not follow (hyper refuses it), or after an ambiguous head (hyper
    /// closes the connection): nothing more to watch.
    Off,
}

/// Follows the framing of the requests of one connection.
#[derive(Debug)]
pub struct Scanner {
    state: State,
    heads: u64,
    first_ambiguous: Option<u64>,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            state: State::Head(Vec::new()),
            heads: 0,
            first_ambiguous: None,
        }
    }
}

/// Appends `data` up to and including the first LF to `line`; returns how many bytes it took
/// and whether the line is complete.
fn take_line(line: &mut Vec<u8>, data: &[u8]) -> (usize, bool) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => {
            line.extend_from_slice(&data[..=i]);
            (i + 1, true)
        }
        None => {
            line.extend_from_slice(data);
            (data.len(), false)
        }
    }
}

/// The line without its line ending.
fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Scanner {
    /// The index of the first request whose head had both fields, if any.
    pub fn first_ambiguous(&self) -> Option<u64> {
        self.first_ambiguous
    }

    /// Follows `data`, the next bytes the client sent.
    pub fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let used = self.step(data);
            data = &data[used..];
        }
    }

    /// Consumes a prefix of `data` (at least one byte); returns its length.
    fn step(&mut self, data: &[u8]) -> usize {
        match &mut self.state {
            State::Off => data.len(),
            State::Fixed(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
                *left -= n as u64;
                if *left == 0 {
                    self.state = State::Head(Vec::new());
                }
                n
            }
            State::ChunkData(left) => {
                let n = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
                *left -= n as u64;
                if *left == 0 {
                    self.state = State::ChunkEnd;
                }
                n
            }
            State::ChunkEnd => {
                // The CRLF (or LF) that ends a chunk's data.
                if data[0] == b'\n' {
                    self.state = State::ChunkSize(Vec::new());
                }
                1
            }
            State::Head(buf) => {
                // Empty lines before a request line are ignored (RFC 9112 §2.2), as hyper does.
                if buf.is_empty() && (data[0] == b'\r' || data[0] == b'\n') {
                    return 1;
                }
                let (n, _) = take_line(buf, data);
                if buf.ends_with(b"\n\n") || buf.ends_with(b"\n\r\n") {
                    let head = std::mem::take(buf);
                    self.end_of_head(&head);
                } else if buf.len() > MAX_LINE {
                    self.state = State::Off;
                }
                n
            }
            State::ChunkSize(line) => {
                let (n, done) = take_line(line, data);
                if done {
                    let text = String::from_utf8_lossy(trim_eol(line));
                    let size = text.split(';').next().unwrap_or("").trim();
                    self.state = match u64::from_str_radix(size, 16) {
                        Ok(0) => State::Trailers(Vec::new()),
                        Ok(size) => State::ChunkData(size),
                        Err(_) => State::Off,
                    };
                } else if line.len() > MAX_LINE {
                    self.state = State::Off;
                }
                n
            }
            State::Trailers(line) => {
                let (n, done) = take_line(line, data);
                if done {
                    if trim_eol(line).is_empty() {
                        self.state = State::Head(Vec::new());
                    } else {
                        line.clear();
                    }
                } else if line.len() > MAX_LINE {
                    self.state = State::Off;
                }
                n
            }
        }
    }

    /// A complete head: what body follows, and whether its framing is ambiguous.
    fn end_of_head(&mut self, head: &[u8]) {
        let index = self.heads;
        self.heads += 1;
        let mut length: Option<u64> = None;
        let (mut has_length, mut chunked, mut has_te) = (false, false, false);
        for line in head.split(|b| *b == b'\n').skip(1) {
            let Some(colon) = line.iter().position(|b| *b == b':') else {
                continue;
            };
            let (name, value) = (&line[..colon], trim_eol(&line[colon + 1..]));
            let value = String::from_utf8_lossy(value);
            if name.eq_ignore_ascii_case(b"content-length") {
                has_length = true;
                length = length.or(value.trim().parse().ok());
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                has_te = true;
                let last = value.rsplit(',').next().unwrap_or("").trim();
                chunked = last.eq_ignore_ascii_case("chunked");
            }
        }
        self.state = if has_te && has_length {
            self.first_ambiguous.get_or_insert(index);
            State::Off
        } else if has_te && chunked {
            State::ChunkSize(Vec::new())
        } else if has_te {
            State::Off
        } else if !has_length {
            State::Head(Vec::new())
        } else {
            match length {
                Some(0) => State::Head(Vec::new()),
                Some(n) => State::Fixed(n),
                None => State::Off,
            }
        };
    }
}

/// A connection's byte stream, watched by a [`Scanner`] as it is read.
pub struct Watched<S> {
    inner: S,
    scanner: Scanner,
    shared: Arc<ConnFraming>,
}

impl<S> Watched<S> {
    pub fn new(inner: S, shared: Arc<ConnFraming>) -> Self {
        Watched {
            inner,
            scanner: Scanner::default(),
            shared,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            this.scanner.feed(&buf.filled()[before..]);
            if let Some(i) = this.scanner.first_ambiguous() {
                this.shared.first_ambiguous.fetch_min(i, Ordering::SeqCst);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` in pieces of every size from 1 to 7 bytes (a read may end anywhere) and
    /// returns what the scanner found each time (all the same).
    fn scan(stream: &[u8]) -> (u64, Option<u64>) {
        let mut found = Vec::new();
        for size in 1..=7 {
            let mut s = Scanner::default();
            for piece in stream.chunks(size) {
                s.feed(piece);
            }
            found.push((s.heads, s.first_ambiguous()));
        }
        assert!(found.windows(2).all(|w| w[0] == w[1]), "{found:?}");
        found[0]
    }

    #[test]
    fn follows_lengths_chunks_and_trailers() {
        let stream = b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n\
            Transfer-Encoding: chunked\r\n\r\n\
            \r\nPUT /b/c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n\
            5;ext=1\r\nhello\r\n1a\r\nContent-Length: 1234567890\r\n0\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n\
            GET /b/k HTTP/1.1\nHost: x\n\n";
        assert_eq!(scan(stream), (3, None));
    }

    #[test]
    fn finds_the_first_head_with_both_fields() {
        for both in [
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            "TRANSFER-ENCODING: chunked\r\ncontent-length: 5\r\n",
            "Content-Length: 0\r\nTransfer-Encoding: gzip, chunked\r\n",
        ] {
            let stream = format!(
                "GET / HTTP/1.1\r\nHost: x\r\n\r\nPUT /b/k HTTP/1.1\r\nHost: x\r\n{both}\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n"
            );
            assert_eq!(scan(stream.as_bytes()), (2, Some(1)), "{both}");
        }
    }

    #[test]
    fn marks_requests_from_the_first_ambiguous_one() {
        let conn = ConnFraming::default();
        conn.first_ambiguous.fetch_min(1, Ordering::SeqCst);
        assert!(!conn.next_request_is_ambiguous());
        assert!(conn.next_request_is_ambiguous());
        assert!(conn.next_request_is_ambiguous());
    }

    /// One generated request: its bytes (head with `\r\n` or bare `\n` line ends, then no body,
    /// a `Content-Length` body, or a chunked body in random chunks with an optional trailer) and
    /// whether its head carries both fields.
    fn request() -> impl proptest::strategy::Strategy<Value = (Vec<u8>, bool)> {
        use proptest::prelude::*;
        let parts = (
            0u8..4,
            prop::collection::vec(any::<u8>(), 0..60),
            prop::collection::vec(1usize..25, 1..4),
            any::<bool>(),
            any::<bool>(),
        );
        parts.prop_map(|(kind, body, sizes, crlf, trailer)| {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut head = format!("PUT /b/k HTTP/1.1{eol}Host: x{eol}");
            match kind {
                1 => head += &format!("Content-Length: {}{eol}", body.len()),
                2 => head += &format!("Transfer-Encoding: chunked{eol}"),
                3 => head += &format!("Content-Length: 3{eol}transfer-encoding: chunked{eol}"),
                _ => {}
            }
            let mut out = format!("{head}{eol}").into_bytes();
            match kind {
                1 => out.extend_from_slice(&body),
                2 | 3 => {
                    let mut rest = &body[..];
                    for size in sizes.iter().cycle() {
                        if rest.is_empty() {
                            break;
                        }
                        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
                        out.extend_from_slice(format!("{:x};e=1\r\n", chunk.len()).as_bytes());
                        out.extend_from_slice(chunk);
                        out.extend_from_slice(b"\r\n");
                        rest = tail;
                    }
                    out.extend_from_slice(b"0\r\n");
                    if trailer {
                        out.extend_from_slice(b"x-amz-checksum-crc32: AAAAAA==\r\n");
                    }
                    out.extend_from_slice(b"\r\n");
                }
                _ => {}
            }
            (out, kind == 3)
        })
    }

    proptest::proptest! {
        #![proptest_config(crate::proptest_support::config(256))]
        /// Whatever the bodies hold and wherever the reads end, the scanner counts every head and
        /// finds exactly the first one with both fields.
        #[test]
        fn any_stream_split_anywhere(
            reqs in proptest::collection::vec(request(), 1..6),
            cuts in proptest::collection::vec(1usize..40, 1..16),
        ) {
            let stream: Vec<u8> = reqs.iter().flat_map(|(r, _)| r.clone()).collect();
            let expected = reqs.iter().position(|(_, both)| *both).map(|i| i as u64);
            let mut s = Scanner::default();
            let mut rest = &stream[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, tail) = rest.split_at((*cut).min(rest.len()));
                s.feed(piece);
                rest = tail;
            }
            proptest::prop_assert_eq!(s.first_ambiguous(), expected);
            if expected.is_none() {
                proptest::prop_assert_eq!(s.heads, reqs.len() as u64);
            }
        }
    }
}
