//! `loadgen`: a small, cheap S3 load generator (PUT, GET or a mix) for sealstore or any S3
//! endpoint (moto, MinIO, ...).
//!
//! Every request is signed with SigV4 (`UNSIGNED-PAYLOAD` by default, `--sign-payload` for the hex
//! SHA-256), path-style (`/<bucket>/<key>`). Each worker owns one keep-alive HTTP/1.1 connection.
//! Object bodies are deterministic functions of (key, version): the first 16 bytes hold the key id
//! and the version (little endian), the rest is a window of a shared pseudo-random pool whose
//! start depends on (key, version). Bodies are streamed as slices of that pool (no per-request
//! buffer beyond the first 64 KiB), and GET bodies are compared with it chunk by chunk.
//!
//! Output: one JSON line on stdout per run (see [`Report`]); errors and a summary go to stderr.
//!
//! ```sh
//! cargo build --release --example loadgen --bin sealstore
//! target/release/examples/loadgen --endpoint http://127.0.0.1:9000 --op put --size 4KiB \
//!     --concurrency 16 --duration 5 --warmup 1 --pid "$(pidof sealstore)"
//! ```

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SigningParams as HttpSigningParams,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use clap::{Parser, ValueEnum};
use http::{Method, Request};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tokio::net::TcpStream;

pub type BoxError = Box<dyn StdError + Send + Sync>;

const MIB: f64 = 1024.0 * 1024.0;
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Period of the body pattern: 1 MiB plus an odd amount, so that no two 64 KiB segments of an
/// object (the server's encryption unit) carry the same bytes.
const PERIOD: usize = (1 << 20) + 4099;
/// Largest body frame sent (a zero-copy slice of the pool).
const CHUNK: usize = 256 * 1024;
/// The first frame of a body is a fresh buffer (header + pattern) of at most this size.
const FIRST: usize = 64 * 1024;
/// Bytes of (key id, version) at the start of each body.
const HEADER: usize = 16;
/// How many errors are printed to stderr (all are counted).
const PRINTED_ERRORS: usize = 5;
/// The SSE-C customer key (fixed: the objects must be readable by a later run).
const SSEC_KEY: [u8; 32] = *b"loadgen-sse-c-customer-key-32by!";

#[derive(Parser, Debug, Clone)]
#[command(
    name = "loadgen",
    about = "S3 load generator: PUT/GET/mixed, SigV4, one keep-alive connection per worker, \
             verified bodies; prints one JSON line"
)]
pub struct Args {
    /// S3 endpoint (http only); requests are path-style `/<bucket>/<key>`.
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    pub endpoint: String,
    #[arg(long, default_value = "test")]
    pub access_key: String,
    #[arg(long, default_value = "test")]
    pub secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Operation: put, get (objects are written first, untimed) or mixed.
    #[arg(long, value_enum, default_value_t = Op::Put)]
    pub op: Op,
    /// Fraction of GETs in mixed and soak mode.
    #[arg(long, default_value_t = 0.5)]
    pub get_ratio: f64,
    /// Soak mode: fraction of ListObjectsV2 requests (of a prefix of one of the worker's keys).
    #[arg(long, default_value_t = 0.1)]
    pub list_ratio: f64,
    /// Soak mode: fraction of DeleteObject requests (the rest, after GET, LIST and DELETE, are PUTs).
    #[arg(long, default_value_t = 0.1)]
    pub delete_ratio: f64,
    /// Object size: bytes, or with a unit (4KiB, 1MiB, 64MiB, 1GiB; K/M/G are binary too, KB/MB/GB decimal).
    #[arg(long, default_value = "4KiB", value_parser = parse_size)]
    pub size: u64,
    /// A list of object sizes (`1KiB,16KiB,100KiB,256KiB`) used instead of --size: each key
    /// version gets one of them, chosen deterministically from (key, version).
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    pub sizes: Option<Vec<u64>>,
    /// Number of workers, each with its own connection.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Measured seconds (after the warm-up). Default 10 when --requests is not given either.
    #[arg(long)]
    pub duration: Option<f64>,
    /// Stop after this many measured requests in total.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Seconds of warm-up before measuring (those requests are not counted).
    #[arg(long, default_value_t = 0.0)]
    pub warmup: f64,
    /// Bucket (created if missing). Default: loadgen-<random>.
    #[arg(long)]
    pub bucket: Option<String>,
    /// Number of distinct keys `obj-0..obj-N` (default 16 × concurrency). For put and mixed, key i
    /// belongs to worker i mod concurrency, so it must be at least the concurrency.
    #[arg(long)]
    pub keys: Option<usize>,
    /// Server-side encryption requested on PUT (SSE-C also on GET).
    #[arg(long, value_enum, default_value_t = Sse::None)]
    pub sse: Sse,
    /// KMS key id for sse-kms / dsse-kms (default: the account's aws/s3 key).
    #[arg(long)]
    pub kms_key_id: Option<String>,
    /// Check every GET body byte for byte (the default).
    #[arg(long, overrides_with = "no_verify")]
    pub verify: bool,
    /// Do not check GET bodies.
    #[arg(long, overrides_with = "verify")]
    pub no_verify: bool,
    /// Send the payload's hex SHA-256 in x-amz-content-sha256 instead of UNSIGNED-PAYLOAD.
    #[arg(long)]
    pub sign_payload: bool,
    /// get/mixed: do not write the objects first; they must hold version 1 as written by an earlier
    /// run with the same --bucket, --size and key ids (e.g. `--op put --requests N` with N ≥ keys).
    #[arg(long)]
    pub no_populate: bool,
    /// After the run (untimed): delete the keys obj-0..N and the bucket.
    #[arg(long)]
    pub cleanup: bool,
    /// The server's pid: report its CPU time (utime+stime) and resident memory during the run.
    #[arg(long)]
    pub pid: Option<u32>,
    /// With --pid: seconds after the start of the measured window at which the server's VmRSS is
    /// recorded as `rss_mark_mib` (compared with `rss_end_mib`, taken when the load stops).
    #[arg(long, default_value_t = 60.0)]
    pub rss_mark: f64,
    /// Free text copied into the JSON output.
    #[arg(long, default_value = "")]
    pub label: String,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Per-request timeout in seconds (a timed-out request is an error).
    #[arg(long, default_value_t = 600.0)]
    pub timeout: f64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Put,
    Get,
    Mixed,
    /// PUT / GET / LIST / DELETE, with listings and 404s checked against each worker's keys.
    Soak,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sse {
    None,
    #[value(name = "sse-s3")]
    S3,
    #[value(name = "sse-kms")]
    Kms,
    #[value(name = "dsse-kms")]
    Dsse,
    #[value(name = "sse-c")]
    Customer,
    /// Each key version picks one of the five modes above (deterministically).
    Mixed,
}

/// The modes `--sse mixed` picks from.
const SSE_MODES: [Sse; 5] = [Sse::None, Sse::S3, Sse::Kms, Sse::Dsse, Sse::Customer];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Mixed => "mixed",
            Op::Soak => "soak",
        }
    }
}

impl Sse {
    fn name(self) -> &'static str {
        match self {
            Sse::None => "none",
            Sse::S3 => "sse-s3",
            Sse::Kms => "sse-kms",
            Sse::Dsse => "dsse-kms",
            Sse::Customer => "sse-c",
            Sse::Mixed => "mixed",
        }
    }
}

/// `4096`, `4KiB`, `1MiB`, `64MiB`, `1GiB`, `4K` (binary), `4KB` (decimal).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?} (e.g. 4096, 4KiB, 1MiB, 1GiB)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(format!("invalid size unit in {s:?} (B, KiB, MiB, GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} too large"))
}

/// The one JSON line printed per run.
#[derive(Serialize, Debug, Clone)]
pub struct Report {
    pub label: String,
    pub endpoint: String,
    pub bucket: String,
    pub op: String,
    pub size: u64,
    /// The --sizes list (empty without it: every body is `size` bytes).
    pub sizes: Vec<u64>,
    pub concurrency: usize,
    pub keys: usize,
    pub sse: String,
    pub sign_payload: bool,
    pub verify: bool,
    /// Seconds from the end of the warm-up to the completion of the last measured request.
    pub duration_s: f64,
    /// Successful measured requests (errors are not included).
    pub ops: u64,
    pub get_ops: u64,
    pub put_ops: u64,
    /// Soak mode: ListObjectsV2 listings (all pages of one prefix count as one), each checked.
    pub list_ops: u64,
    /// Soak mode: DeleteObject requests.
    pub delete_ops: u64,
    /// Soak mode: GETs of deleted keys answered 404 NoSuchKey, as expected (included in get_ops).
    pub get_not_found: u64,
    pub ops_per_s: f64,
    pub mib_per_s: f64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Measured requests that failed: transport errors, timeouts, non-2xx answers, body mismatches.
    pub errors: u64,
    /// GET bodies checked byte for byte against the expected content.
    pub verified: u64,
    pub server_cpu_s: Option<f64>,
    pub server_rss_peak_mib: Option<f64>,
    pub server_hwm_mib: Option<f64>,
    /// With --pid: the server's VmRSS --rss-mark seconds into the measured window (none when the
    /// run ended before), at the end of the load, and the growth from the first to the second in %.
    pub rss_mark_mib: Option<f64>,
    pub rss_end_mib: Option<f64>,
    pub rss_growth_pct: Option<f64>,
    /// CPU time of this load generator during the measured window.
    pub loadgen_cpu_s: Option<f64>,
    /// Busy time of all the machine's CPUs during the measured window.
    pub host_cpu_busy_s: Option<f64>,
    /// host_cpu_busy_s minus the server's and ours: other processes (noise), with --pid.
    pub other_cpu_s: Option<f64>,
}

// ---------------------------------------------------------------------------------------------
// Deterministic bodies
// ---------------------------------------------------------------------------------------------

/// splitmix64's finaliser: a cheap, good 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The shared pseudo-random pool bodies are windows of: `PERIOD` bytes followed by a copy of its
/// first `CHUNK` bytes, so any window of up to `CHUNK` bytes starting below `PERIOD` is contiguous.
#[derive(Clone)]
pub struct Pattern {
    pool: Bytes,
}

impl Default for Pattern {
    fn default() -> Self {
        Self::new()
    }
}

impl Pattern {
    pub fn new() -> Pattern {
        let mut v = vec![0u8; PERIOD + CHUNK];
        for (i, c) in v[..PERIOD].chunks_mut(8).enumerate() {
            let x = mix(0x5EA1_5704_E000_0000 ^ i as u64).to_le_bytes();
            c.copy_from_slice(&x[..c.len()]);
        }
        v.copy_within(0..CHUNK, PERIOD);
        Pattern {
            pool: Bytes::from(v),
        }
    }

    /// Where in the pool the body of (key, version) starts.
    fn start(key: u64, version: u64) -> usize {
        let h = mix(key.wrapping_mul(0xA076_1D64_78BD_642F) ^ mix(version));
        (h % PERIOD as u64) as usize
    }

    pub fn header(key: u64, version: u64) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(&key.to_le_bytes());
        h[8..].copy_from_slice(&version.to_le_bytes());
        h
    }

    /// The body of (key, version), `size` bytes long, as a stream of frames.
    pub fn body(&self, key: u64, version: u64, size: u64) -> PatternBody {
        PatternBody {
            pool: self.pool.clone(),
            start: Pattern::start(key, version),
            header: Pattern::header(key, version),
            pos: 0,
            size,
        }
    }

    /// The whole body in one buffer (tests and small uses only).
    pub fn to_vec(&self, key: u64, version: u64, size: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        let mut b = self.body(key, version, size);
        while let Some(c) = b.next_chunk() {
            out.extend_from_slice(&c);
        }
        out
    }

    /// Hex SHA-256 of the body of (key, version).
    pub fn sha256_hex(&self, key: u64, version: u64, size: u64) -> String {
        let mut h = Sha256::new();
        let mut b = self.body(key, version, size);
        while let Some(c) = b.next_chunk() {
            h.update(&c);
        }
        hex::encode(h.finalize())
    }
}

/// A request body generated from the pool: the first frame is a fresh buffer (header + pattern),
/// the others are zero-copy slices of the pool.
pub struct PatternBody {
    pool: Bytes,
    start: usize,
    header: [u8; HEADER],
    pos: u64,
    size: u64,
}

impl PatternBody {
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        if self.pos >= self.size {
            return None;
        }
        let remaining = self.size - self.pos;
        let off = ((self.start as u64 + self.pos) % PERIOD as u64) as usize;
        if self.pos == 0 {
            let n = remaining.min(FIRST as u64) as usize;
            let mut b = BytesMut::with_capacity(n);
            b.extend_from_slice(&self.pool[off..off + n]);
            let h = n.min(HEADER);
            b[..h].copy_from_slice(&self.header[..h]);
            self.pos = n as u64;
            Some(b.freeze())
        } else {
            let n = remaining.min(CHUNK as u64) as usize;
            self.pos += n as u64;
            Some(self.pool.slice(off..off + n))
        }
    }

    fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }
}

/// Checks a body, fed chunk by chunk, against the content of (key, v) for one of the accepted
/// versions `v` (the header picks which, and so the expected size).
pub struct Verifier {
    pool: Bytes,
    key: u64,
    /// (version, size) candidates.
    accepted: Vec<(u64, u64)>,
    /// The expected size: the chosen candidate's (before the choice: the smallest).
    size: u64,
    pos: u64,
    head: [u8; HEADER],
    start: Option<usize>,
    version: Option<u64>,
    failure: Option<String>,
}

impl Verifier {
    pub fn new(pattern: &Pattern, key: u64, accepted: &[u64], size: u64) -> Verifier {
        let sized: Vec<(u64, u64)> = accepted.iter().map(|&v| (v, size)).collect();
        Verifier::with_sizes(pattern, key, &sized)
    }

    /// Candidates of possibly different sizes: `(version, size)`.
    pub fn with_sizes(pattern: &Pattern, key: u64, accepted: &[(u64, u64)]) -> Verifier {
        let mut v = Verifier {
            pool: pattern.pool.clone(),
            key,
            accepted: accepted.to_vec(),
            size: accepted.iter().map(|&(_, s)| s).min().unwrap_or(0),
            pos: 0,
            head: [0; HEADER],
            start: None,
            version: None,
            failure: None,
        };
        if v.head_len() == 0 {
            v.choose();
        }
        v
    }

    fn head_len(&self) -> usize {
        self.size.min(HEADER as u64) as usize
    }

    /// Picks the accepted version whose header matches the received one.
    fn choose(&mut self) {
        let hl = self.head_len();
        for &(v, size) in &self.accepted {
            if Pattern::header(self.key, v)[..hl] == self.head[..hl] {
                self.start = Some(Pattern::start(self.key, v));
                self.version = Some(v);
                self.size = size;
                return;
            }
        }
        let got = if hl == HEADER {
            let mut k = [0u8; 8];
            let mut ver = [0u8; 8];
            k.copy_from_slice(&self.head[..8]);
            ver.copy_from_slice(&self.head[8..]);
            format!(
                "key id {} version {}",
                u64::from_le_bytes(k),
                u64::from_le_bytes(ver)
            )
        } else {
            format!("header bytes {}", hex::encode(&self.head[..hl]))
        };
        let versions: Vec<u64> = self.accepted.iter().map(|&(v, _)| v).collect();
        self.failure = Some(format!(
            "body starts with {got}, expected key id {} version in {versions:?}",
            self.key
        ));
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        if self.failure.is_some() {
            self.pos += data.len() as u64;
            return;
        }
        let hl = self.head_len() as u64;
        if self.pos < hl {
            let n = (hl - self.pos).min(data.len() as u64) as usize;
            let at = self.pos as usize;
            self.head[at..at + n].copy_from_slice(&data[..n]);
            self.pos += n as u64;
            data = &data[n..];
            if self.pos == hl {
                self.choose();
            }
        }
        if data.is_empty() {
            return;
        }
        let start = match (self.failure.is_some(), self.start) {
            (false, Some(s)) => s,
            _ => {
                self.pos += data.len() as u64;
                return;
            }
        };
        if self.pos + data.len() as u64 > self.size {
            self.failure = Some(format!("body longer than the expected {} bytes", self.size));
            self.pos += data.len() as u64;
            return;
        }
        while !data.is_empty() {
            let off = ((start as u64 + self.pos) % PERIOD as u64) as usize;
            let n = data.len().min(self.pool.len() - off);
            let expected = &self.pool[off..off + n];
            if data[..n] != *expected {
                let i = data[..n]
                    .iter()
                    .zip(expected)
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                self.failure = Some(format!(
                    "byte {} differs from version {} (got {:#04x}, expected {:#04x})",
                    self.pos + i as u64,
                    self.version.unwrap_or(0),
                    data[i],
                    expected[i]
                ));
                self.pos += data.len() as u64;
                return;
            }
            self.pos += n as u64;
            data = &data[n..];
        }
    }

    /// The version received, or why the body is not an accepted one.
    pub fn finish(&self) -> Result<u64, String> {
        if let Some(f) = &self.failure {
            return Err(f.clone());
        }
        if self.pos != self.size {
            return Err(format!(
                "body is {} bytes, expected {}",
                self.pos, self.size
            ));
        }
        self.version.ok_or_else(|| "no version matched".to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

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
struct ListBucketResult {
    name: String,
    prefix: Option<String>,
    key_count: Option<usize>,
    is_truncated: bool,
    next_continuation_token: Option<String>,
    #[serde(default)]
    contents: Vec<ListEntry>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct ListEntry {
    key: String,
    size: u64,
    #[serde(rename = "ETag")]
    e_tag: String,
    last_modified: String,
}

/// Query-string values: everything but the unreserved characters percent-encoded (SigV4's rule).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
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
    fn uncertain(&self) -> bool {
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
    sender: Option<SendRequest<ReqBody>>,
}

/// Checks that a PUT or GET answer names the SSE mode `mode` (`none`: no header or the bucket
/// default, SSE-S3).
fn check_sse_answer(headers: &http::HeaderMap, mode: Sse) -> Result<(), String> {
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
type SseHeaders = (Vec<(&'static str, String)>, Vec<(&'static str, String)>);

/// Everything the workers share.
pub struct Ctx {
    base_url: String,
    authority: String,
    connect_addr: String,
    bucket: String,
    /// Body sizes: one, or the --sizes list (picked per key version).
    sizes: Vec<u64>,
    sse: Sse,
    identity: Identity,
    region: String,
    sign_payload: bool,
    verify: bool,
    timeout: Duration,
    /// PUT and GET headers of each mode in `SSE_MODES` order.
    sse_headers: Vec<SseHeaders>,
    pattern: Pattern,
    printed: AtomicUsize,
    empty_sha256: String,
}

impl Ctx {
    fn new(args: &Args, bucket: String) -> Result<Ctx, BoxError> {
        let uri: http::Uri = args
            .endpoint
            .parse()
            .map_err(|e| format!("invalid --endpoint {:?}: {e}", args.endpoint))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "--endpoint must be http://HOST:PORT, got {:?}",
                args.endpoint
            )
            .into());
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--endpoint {:?} has no host", args.endpoint))?
            .clone();
        let port = authority.port_u16().unwrap_or(80);
        let host = authority.host().to_string();
        let connect_addr = format!("{host}:{port}");
        let creds = Credentials::new(&args.access_key, &args.secret_key, None, None, "loadgen");
        let ssec = || {
            let b64 = base64::engine::general_purpose::STANDARD;
            vec![
                (
                    "x-amz-server-side-encryption-customer-algorithm",
                    "AES256".to_string(),
                ),
                (
                    "x-amz-server-side-encryption-customer-key",
                    b64.encode(SSEC_KEY),
                ),
                (
                    "x-amz-server-side-encryption-customer-key-md5",
                    b64.encode(Md5::digest(SSEC_KEY)),
                ),
            ]
        };
        let kms = |alg: &str| {
            let mut h = vec![("x-amz-server-side-encryption", alg.to_string())];
            if let Some(k) = &args.kms_key_id {
                h.push(("x-amz-server-side-encryption-aws-kms-key-id", k.clone()));
            }
            h
        };
        let sse_headers = SSE_MODES
            .iter()
            .map(|mode| match mode {
                Sse::None | Sse::Mixed => (vec![], vec![]),
                Sse::S3 => (
                    vec![("x-amz-server-side-encryption", "AES256".to_string())],
                    vec![],
                ),
                Sse::Kms => (kms("aws:kms"), vec![]),
                Sse::Dsse => (kms("aws:kms:dsse"), vec![]),
                Sse::Customer => (ssec(), ssec()),
            })
            .collect();
        let sizes = match &args.sizes {
            Some(list) if !list.is_empty() => list.clone(),
            _ => vec![args.size],
        };
        Ok(Ctx {
            base_url: format!("http://{authority}"),
            authority: authority.to_string(),
            connect_addr,
            bucket,
            sizes,
            sse: args.sse,
            identity: creds.into(),
            region: args.region.clone(),
            sign_payload: args.sign_payload,
            verify: !args.no_verify,
            timeout: Duration::from_secs_f64(args.timeout),
            sse_headers,
            pattern: Pattern::new(),
            printed: AtomicUsize::new(0),
            empty_sha256: hex::encode(Sha256::digest(b"")),
        })
    }

    fn object_path(&self, key: u64) -> String {
        format!("/{}/obj-{key}", self.bucket)
    }

    /// The size of the body of (key, version).
    pub fn size_of(&self, key: u64, version: u64) -> u64 {
        match self.sizes.as_slice() {
            [one] => *one,
            list => {
                let h = mix(key.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ mix(version ^ 0x51CE));
                list.get((h % list.len().max(1) as u64) as usize)
                    .copied()
                    .unwrap_or(0)
            }
        }
    }

    /// The SSE mode of (key, version): the --sse mode, or with `mixed` one of `SSE_MODES`.
    pub fn sse_of(&self, key: u64, version: u64) -> Sse {
        if self.sse != Sse::Mixed {
            return self.sse;
        }
        let h = mix(key.wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ mix(version ^ 0x55E));
        SSE_MODES[(h % SSE_MODES.len() as u64) as usize]
    }

    fn headers_of(&self, mode: Sse) -> &SseHeaders {
        let i = SSE_MODES.iter().position(|&m| m == mode).unwrap_or(0);
        &self.sse_headers[i]
    }

    /// Builds and signs a request; `path_query` is origin-form (`/bucket/key?query`).
    fn build(
        &self,
        method: Method,
        path_query: &str,
        extra: &[(&'static str, String)],
        payload_hash: &str,
        body: ReqBody,
    ) -> Result<Request<ReqBody>, ReqError> {
        let err = |e: &dyn fmt::Display| ReqError::Build(e.to_string());
        let content_length = body.size_hint().exact();
        let base = [
            ("host", self.authority.as_str()),
            ("x-amz-content-sha256", payload_hash),
        ];
        let headers = base
            .iter()
            .copied()
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let url = format!("{}{}", self.base_url, path_query);
        let signable_body = if payload_hash == UNSIGNED_PAYLOAD {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Precomputed(payload_hash.to_string())
        };
        let signable = SignableRequest::new(method.as_str(), url, headers, signable_body)
            .map_err(|e| err(&e))?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params: HttpSigningParams<'_> = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| err(&e))?
            .into();
        let (instructions, _signature) = sign(signable, &params).map_err(|e| err(&e))?.into_parts();
        let (signed, _query) = instructions.into_parts();
        let has_body = matches!(method, Method::PUT | Method::POST);
        let mut b = Request::builder().method(method).uri(path_query);
        for (k, v) in base
            .iter()
            .copied()
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
        {
            b = b.header(k, v);
        }
        for h in &signed {
            b = b.header(h.name(), h.value());
        }
        if let Some(n) = content_length.filter(|&n| n > 0 || has_body) {
            b = b.header("content-length", n);
        }
        b.body(body).map_err(|e| err(&e))
    }

    async fn connect(&self) -> Result<SendRequest<ReqBody>, ReqError> {
        let stream = TcpStream::connect(&self.connect_addr)
            .await
            .map_err(|e| ReqError::Connect(format!("{}: {e}", self.connect_addr)))?;
        stream
            .set_nodelay(true)
            .map_err(|e| ReqError::Connect(e.to_string()))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ReqError::Connect(e.to_string()))?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends `req` on the worker's connection and reads the whole response body, feeding it to
    /// `verifier` when given. A non-2xx answer is an error carrying (the start of) its body.
    async fn exchange(
        &self,
        conn: &mut Conn,
        req: Request<ReqBody>,
        mut sink: Sink<'_>,
    ) -> Result<http::HeaderMap, ReqError> {
        let reusable = match conn.sender.as_mut() {
            Some(s) => !s.is_closed() && s.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            conn.sender = Some(self.connect().await?);
        }
        let Some(sender) = conn.sender.as_mut() else {
            return Err(ReqError::Connect("no connection".into()));
        };
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => {
                conn.sender = None;
                return Err(ReqError::Transport(e.to_string()));
            }
        };
        let status = resp.status();
        let (parts, mut body) = resp.into_parts();
        let mut text = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    conn.sender = None;
                    return Err(ReqError::Transport(format!("reading body: {e}")));
                }
            };
            if let Ok(data) = frame.into_data() {
                if !status.is_success() {
                    let room = 2048usize.saturating_sub(text.len());
                    text.extend_from_slice(&data[..data.len().min(room)]);
                } else {
                    match &mut sink {
                        Sink::Discard => {}
                        Sink::Verify(v) => v.feed(&data),
                        Sink::Collect(buf) => buf.extend_from_slice(&data),
                    }
                }
            }
        }
        if status.is_success() {
            Ok(parts.headers)
        } else {
            Err(ReqError::Status(
                status.as_u16(),
                String::from_utf8_lossy(&text).into_owned(),
            ))
        }
    }

    /// `exchange` under the per-request timeout; a timed-out connection is dropped.
    async fn exchange_timed(
        &self,
        conn: &mut Conn,
        req: Request<ReqBody>,
        sink: Sink<'_>,
    ) -> Result<http::HeaderMap, ReqError> {
        match tokio::time::timeout(self.timeout, self.exchange(conn, req, sink)).await {
            Ok(r) => r,
            Err(_) => {
                conn.sender = None;
                Err(ReqError::Timeout)
            }
        }
    }

    fn payload_hash(&self, body: impl FnOnce() -> String) -> String {
        if self.sign_payload {
            body()
        } else {
            UNSIGNED_PAYLOAD.to_string()
        }
    }

    /// PUTs version `version` of `key` (its size and SSE mode follow from both); returns the
    /// body size.
    pub async fn put(&self, conn: &mut Conn, key: u64, version: u64) -> Result<u64, ReqError> {
        let size = self.size_of(key, version);
        let mode = self.sse_of(key, version);
        let hash = self.payload_hash(|| self.pattern.sha256_hex(key, version, size));
        let body = ReqBody::Pattern(self.pattern.body(key, version, size));
        let req = self.build(
            Method::PUT,
            &self.object_path(key),
            &self.headers_of(mode).0,
            &hash,
            body,
        )?;
        let headers = self.exchange_timed(conn, req, Sink::Discard).await?;
        if self.sse == Sse::Mixed {
            check_sse_answer(&headers, mode).map_err(|e| {
                ReqError::Mismatch(format!("PUT obj-{key} version {version} ({mode:?}): {e}"))
            })?;
        }
        Ok(size)
    }

    /// GETs `key` and, when verifying, checks it is one of the `accepted` versions (and, with
    /// several SSE modes, that the answer names the version's mode). SSE-C headers are sent when
    /// the latest accepted version needs them. Returns the version read when verified, and the
    /// bytes received.
    pub async fn get(
        &self,
        conn: &mut Conn,
        key: u64,
        accepted: &[u64],
    ) -> Result<(Option<u64>, u64), ReqError> {
        let hash = self.payload_hash(|| self.empty_sha256.clone());
        let mode = accepted.last().map_or(self.sse, |&v| self.sse_of(key, v));
        let req = self.build(
            Method::GET,
            &self.object_path(key),
            &self.headers_of(mode).1,
            &hash,
            ReqBody::Empty,
        )?;
        if !self.verify {
            let headers = self.exchange_timed(conn, req, Sink::Discard).await?;
            let len = headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            return Ok((None, len));
        }
        if accepted.is_empty() {
            self.exchange_timed(conn, req, Sink::Discard).await?;
            return Err(ReqError::Mismatch(format!(
                "obj-{key}: deleted, but GET answered 2xx"
            )));
        }
        let sized: Vec<(u64, u64)> = accepted
            .iter()
            .map(|&v| (v, self.size_of(key, v)))
            .collect();
        let mut v = Verifier::with_sizes(&self.pattern, key, &sized);
        let headers = self.exchange_timed(conn, req, Sink::Verify(&mut v)).await?;
        let version = v
            .finish()
            .map_err(|e| ReqError::Mismatch(format!("obj-{key}: {e}")))?;
        if self.sse == Sse::Mixed {
            let mode = self.sse_of(key, version);
            check_sse_answer(&headers, mode).map_err(|e| {
                ReqError::Mismatch(format!("GET obj-{key} version {version} ({mode:?}): {e}"))
            })?;
        }
        Ok((Some(version), self.size_of(key, version)))
    }

    /// A small request with an in-memory body (bucket set-up).
    async fn simple(
        &self,
        conn: &mut Conn,
        method: Method,
        path_query: &str,
        extra: &[(&'static str, String)],
        bytes: Bytes,
    ) -> Result<(), ReqError> {
        let hash = self.payload_hash(|| hex::encode(Sha256::digest(&bytes)));
        let req = self.build(
            method,
            path_query,
            extra,
            &hash,
            ReqBody::Bytes(Some(bytes)),
        )?;
        self.exchange_timed(conn, req, Sink::Discard)
            .await
            .map(|_| ())
    }

    /// Creates the bucket (an existing bucket of ours is fine) and, for SSE-C, lifts the SSE-C
    /// block of new buckets with a PutBucketEncryption whose rule has
    /// `BlockedEncryptionTypes` = `NONE`.
    async fn set_up_bucket(&self, conn: &mut Conn, sse: Sse) -> Result<(), BoxError> {
        let config = if self.region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            ))
        };
        let path = format!("/{}", self.bucket);
        match self.simple(conn, Method::PUT, &path, &[], config).await {
            Ok(()) => {}
            Err(ReqError::Status(409, body)) if body.contains("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(format!("CreateBucket {}: {e}", self.bucket).into()),
        }
        if matches!(sse, Sse::Customer | Sse::Mixed) {
            const RULE: &[u8] = b"<ServerSideEncryptionConfiguration \
                xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>\
                <ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>\
                </ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes>\
                <EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes></Rule>\
                </ServerSideEncryptionConfiguration>";
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(RULE));
            let path = format!("/{}?encryption", self.bucket);
            if let Err(e) = self
                .simple(
                    conn,
                    Method::PUT,
                    &path,
                    &[("content-md5", md5)],
                    Bytes::from_static(RULE),
                )
                .await
            {
                // Servers without SSE-C blocking (e.g. moto) may refuse the element: go on, and
                // let the PUTs tell whether SSE-C works.
                eprintln!("loadgen: warning: PutBucketEncryption (unblock SSE-C) failed: {e}");
            }
        }
        Ok(())
    }

    /// DeleteObject of `key`: any 2xx is success.
    pub async fn delete_object(&self, conn: &mut Conn, key: u64) -> Result<(), ReqError> {
        self.simple(
            conn,
            Method::DELETE,
            &self.object_path(key),
            &[],
            Bytes::new(),
        )
        .await
    }

    /// ListObjectsV2 of `prefix`, every page, checked for well-formedness: the bucket's name and
    /// the prefix echoed, KeyCount equal to the entries, every key under the prefix, keys strictly
    /// ascending across pages, a continuation token whenever truncated, an ETag and a
    /// LastModified for every entry. Returns (key, size) of every entry.
    pub async fn list(
        &self,
        conn: &mut Conn,
        prefix: &str,
        max_keys: u32,
    ) -> Result<Vec<(String, u64)>, ReqError> {
        let bad = |e: String| ReqError::Mismatch(format!("ListObjectsV2 prefix {prefix:?}: {e}"));
        let enc = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
        let mut out: Vec<(String, u64)> = Vec::new();
        let mut token: Option<String> = None;
        for _page in 0..10_000 {
            let mut path = format!(
                "/{}?list-type=2&max-keys={max_keys}&prefix={}",
                self.bucket,
                enc(prefix)
            );
            if let Some(t) = &token {
                path.push_str("&continuation-token=");
                path.push_str(&enc(t));
            }
            let hash = self.payload_hash(|| self.empty_sha256.clone());
            let req = self.build(Method::GET, &path, &[], &hash, ReqBody::Empty)?;
            let mut body = Vec::new();
            self.exchange_timed(conn, req, Sink::Collect(&mut body))
                .await?;
            let text = std::str::from_utf8(&body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
            if !text.contains("<ListBucketResult") {
                return Err(bad("no ListBucketResult element".into()));
            }
            let page: ListBucketResult =
                quick_xml::de::from_str(text).map_err(|e| bad(format!("malformed XML: {e}")))?;
            if page.name != self.bucket {
                return Err(bad(format!("Name is {:?}", page.name)));
            }
            if page.prefix.as_deref().unwrap_or("") != prefix {
                return Err(bad(format!("Prefix is {:?}", page.prefix)));
            }
            if page.key_count != Some(page.contents.len()) {
                return Err(bad(format!(
                    "KeyCount {:?} but {} entries",
                    page.key_count,
                    page.contents.len()
                )));
            }
            if page.contents.len() > max_keys as usize {
                return Err(bad(format!(
                    "{} entries > max-keys {max_keys}",
                    page.contents.len()
                )));
            }
            for e in page.contents {
                if !e.key.starts_with(prefix) {
                    return Err(bad(format!("key {:?} is not under the prefix", e.key)));
                }
                if out.last().is_some_and(|(last, _)| *last >= e.key) {
                    return Err(bad(format!("key {:?} out of order", e.key)));
                }
                if e.e_tag.is_empty() || e.last_modified.is_empty() {
                    return Err(bad(format!("key {:?} without ETag or LastModified", e.key)));
                }
                out.push((e.key, e.size));
            }
            if !page.is_truncated {
                return Ok(out);
            }
            match page.next_continuation_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Err(bad("truncated without NextContinuationToken".into())),
            }
        }
        Err(bad("more than 10,000 pages".into()))
    }

    async fn delete(&self, conn: &mut Conn, path: &str) -> Result<(), ReqError> {
        match self
            .simple(conn, Method::DELETE, path, &[], Bytes::new())
            .await
        {
            Err(ReqError::Status(404, _)) => Ok(()),
            r => r,
        }
    }

    fn report_error(&self, what: &str, e: &ReqError) {
        let n = self.printed.fetch_add(1, Ordering::Relaxed);
        if n < PRINTED_ERRORS {
            eprintln!("loadgen: error: {what}: {e}");
        } else if n == PRINTED_ERRORS {
            eprintln!("loadgen: (further errors are counted, not printed)");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workers
// ---------------------------------------------------------------------------------------------

/// A key owned by one worker (put/mixed): the last version issued and the versions the server may
/// hold (more than one only after a PUT whose outcome is unknown).
struct KeyState {
    id: u64,
    latest: u64,
    accepted: Vec<u64>,
    /// The key may be absent (a DELETE was acknowledged, or its outcome is unknown).
    absent_ok: bool,
}

struct Plan {
    op: Op,
    get_ratio: f64,
    list_ratio: f64,
    delete_ratio: f64,
    total_keys: u64,
    measure_start: Instant,
    deadline: Option<Instant>,
    requests: Option<u64>,
    tickets: AtomicU64,
}

#[derive(Default)]
struct WorkerOut {
    lat_ns: Vec<u64>,
    get_ops: u64,
    put_ops: u64,
    list_ops: u64,
    delete_ops: u64,
    not_found: u64,
    bytes: u64,
    errors: u64,
    verified: u64,
}

/// xorshift64: each worker's cheap choice of keys and operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

async fn worker(
    ctx: Arc<Ctx>,
    plan: Arc<Plan>,
    w: usize,
    mut conn: Conn,
    mut keys: Vec<KeyState>,
) -> WorkerOut {
    let mut out = WorkerOut::default();
    let mut rng = Rng(mix(w as u64 + 1) | 1);
    let mut next = 0usize;
    const GET_ACCEPTED: [u64; 1] = [1];
    loop {
        let now = Instant::now();
        let measured = now >= plan.measure_start;
        if measured {
            if plan.deadline.is_some_and(|d| now >= d) {
                break;
            }
            if let Some(n) = plan.requests {
                if plan.tickets.fetch_add(1, Ordering::Relaxed) >= n {
                    break;
                }
            }
        }
        let act = match plan.op {
            Op::Get => Act::Get,
            Op::Put => Act::Put,
            Op::Mixed if rng.unit() < plan.get_ratio => Act::Get,
            Op::Mixed => Act::Put,
            Op::Soak => {
                let u = rng.unit();
                if u < plan.get_ratio {
                    Act::Get
                } else if u < plan.get_ratio + plan.list_ratio {
                    Act::List
                } else if u < plan.get_ratio + plan.list_ratio + plan.delete_ratio {
                    Act::Delete
                } else {
                    Act::Put
                }
            }
        };
        let t = Instant::now();
        let (key, result) = if plan.op == Op::Get {
            let key = rng.below(plan.total_keys);
            let r = ctx.get(&mut conn, key, &GET_ACCEPTED).await;
            (key, r.map(|(v, bytes)| Done::read(v, bytes)))
        } else {
            let i = if plan.op == Op::Put {
                next = (next + 1) % keys.len().max(1);
                next
            } else {
                rng.below(keys.len() as u64) as usize
            };
            let Some(ks) = keys.get_mut(i) else {
                break;
            };
            let id = ks.id;
            let r = match act {
                Act::Get => get_owned(&ctx, &mut conn, ks).await,
                Act::Put => put_owned(&ctx, &mut conn, ks).await,
                Act::Delete => delete_owned(&ctx, &mut conn, ks).await,
                Act::List => {
                    let max_keys = if rng.below(4) == 0 { 37 } else { 1000 };
                    list_owned(&ctx, &mut conn, id, &keys, max_keys).await
                }
            };
            (id, r)
        };
        let elapsed = t.elapsed();
        match result {
            Ok(done) => {
                if measured {
                    out.lat_ns.push(elapsed.as_nanos() as u64);
                    match act {
                        Act::Get => out.get_ops += 1,
                        Act::Put => out.put_ops += 1,
                        Act::List => out.list_ops += 1,
                        Act::Delete => out.delete_ops += 1,
                    }
                    out.verified += u64::from(done.verified);
                    out.not_found += u64::from(done.not_found);
                    out.bytes += done.bytes;
                }
            }
            Err(e) => {
                if measured {
                    out.errors += 1;
                }
                ctx.report_error(&format!("{} obj-{key}", act.name()), &e);
                if matches!(e, ReqError::Connect(_) | ReqError::Build(_)) {
                    // Do not spin on a dead server.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    out
}

/// What a worker does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Get,
    Put,
    List,
    Delete,
}

impl Act {
    fn name(self) -> &'static str {
        match self {
            Act::Get => "GET",
            Act::Put => "PUT",
            Act::List => "LIST",
            Act::Delete => "DELETE",
        }
    }
}

/// A successful request: body bytes moved, whether a GET body was verified, whether a GET was
/// the expected 404 of a deleted key.
#[derive(Default)]
struct Done {
    bytes: u64,
    verified: bool,
    not_found: bool,
}

impl Done {
    fn read(version: Option<u64>, bytes: u64) -> Done {
        Done {
            bytes,
            verified: version.is_some(),
            not_found: false,
        }
    }
}

/// The `<Code>` of an S3 error body.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody {
    code: String,
}

fn is_no_such_key(body: &str) -> bool {
    quick_xml::de::from_str::<ErrorBody>(body).is_ok_and(|e| e.code == "NoSuchKey")
}

/// GET of one of the worker's keys: an accepted version, verified, or (after a DELETE) 404
/// NoSuchKey. A definite answer settles the key's state.
async fn get_owned(ctx: &Ctx, conn: &mut Conn, ks: &mut KeyState) -> Result<Done, ReqError> {
    match ctx.get(conn, ks.id, &ks.accepted).await {
        Ok((version, bytes)) => {
            if let Some(v) = version {
                ks.accepted = vec![v];
                ks.absent_ok = false;
            }
            Ok(Done::read(version, bytes))
        }
        Err(ReqError::Status(404, body)) if ks.absent_ok && is_no_such_key(&body) => {
            ks.accepted.clear();
            Ok(Done {
                not_found: true,
                ..Done::default()
            })
        }
        Err(ReqError::Status(404, body)) if ks.absent_ok => Err(ReqError::Status(
            404,
            format!("deleted key: expected the code NoSuchKey, got {body}"),
        )),
        Err(e) => Err(e),
    }
}

/// PUT of the next version of one of the worker's keys.
async fn put_owned(ctx: &Ctx, conn: &mut Conn, ks: &mut KeyState) -> Result<Done, ReqError> {
    let version = ks.latest + 1;
    ks.latest = version;
    let r = ctx.put(conn, ks.id, version).await;
    match &r {
        // Stored (a mismatch is in the answer's headers, the object was written).
        Ok(_) | Err(ReqError::Mismatch(_)) => {
            ks.accepted = vec![version];
            ks.absent_ok = false;
        }
        Err(e) if e.uncertain() => ks.accepted.push(version),
        Err(_) => {}
    }
    r.map(|bytes| Done {
        bytes,
        ..Done::default()
    })
}

/// DELETE of one of the worker's keys: afterwards GETs must answer 404 NoSuchKey and listings
/// must not show it, until the next PUT.
async fn delete_owned(ctx: &Ctx, conn: &mut Conn, ks: &mut KeyState) -> Result<Done, ReqError> {
    let r = ctx.delete_object(conn, ks.id).await;
    match &r {
        Ok(()) => {
            ks.accepted.clear();
            ks.absent_ok = true;
        }
        Err(e) if e.uncertain() => ks.absent_ok = true,
        Err(_) => {}
    }
    r.map(|()| Done::default())
}

/// The listing prefix for key `id`: `obj-` and its decimal digits but the last (all of them for
/// one digit), so listings cover 1 to ~100 keys of all workers.
fn list_prefix(id: u64) -> String {
    let mut digits = id.to_string();
    if digits.len() > 1 {
        digits.pop();
    }
    format!("obj-{digits}")
}

/// ListObjectsV2 of the prefix of key `id` (well-formedness checked by [`Ctx::list`]), then
/// consistency with the worker's own keys under the prefix: a key whose last acknowledged write
/// is a PUT is listed with that version's size; a key whose last acknowledged write is a DELETE
/// is not listed. Keys of other workers are only checked for form.
async fn list_owned(
    ctx: &Ctx,
    conn: &mut Conn,
    id: u64,
    keys: &[KeyState],
    max_keys: u32,
) -> Result<Done, ReqError> {
    let prefix = list_prefix(id);
    let listed = ctx.list(conn, &prefix, max_keys).await?;
    let listed: std::collections::HashMap<String, u64> = listed.into_iter().collect();
    for ks in keys {
        let name = format!("obj-{}", ks.id);
        if !name.starts_with(&prefix) {
            continue;
        }
        let bad = |what: String| {
            ReqError::Mismatch(format!("ListObjectsV2 prefix {prefix:?}: {name} {what}"))
        };
        match listed.get(&name) {
            Some(_) if ks.accepted.is_empty() => return Err(bad("listed after its DELETE".into())),
            Some(&size) if !ks.accepted.iter().any(|&v| ctx.size_of(ks.id, v) == size) => {
                return Err(bad(format!(
                    "listed with size {size}, expected that of version(s) {:?}",
                    ks.accepted
                )));
            }
            Some(_) => {}
            None if !ks.absent_ok => return Err(bad("not listed after its PUT".into())),
            None => {}
        }
    }
    Ok(Done::default())
}

/// Deletes `ids`; returns how many deletions failed.
async fn delete_keys(ctx: Arc<Ctx>, ids: Vec<u64>) -> u64 {
    let mut conn = Conn::default();
    let mut errors = 0;
    for id in ids {
        if let Err(e) = ctx.delete(&mut conn, &ctx.object_path(id)).await {
            errors += 1;
            ctx.report_error(&format!("cleanup DELETE obj-{id}"), &e);
        }
    }
    errors
}

/// Writes version 1 of `ids` (before timing starts).
async fn populate(ctx: Arc<Ctx>, ids: Vec<u64>) -> (Conn, u64) {
    let mut conn = Conn::default();
    let mut errors = 0;
    for id in ids {
        if let Err(e) = ctx.put(&mut conn, id, 1).await {
            errors += 1;
            ctx.report_error(&format!("populate PUT obj-{id}"), &e);
        }
    }
    (conn, errors)
}

// ---------------------------------------------------------------------------------------------
// Server statistics from /proc
// ---------------------------------------------------------------------------------------------

/// utime + stime of `pid` in clock ticks.
fn proc_cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `/proc/PID/status` field in kB (VmRSS, VmHWM).
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let v = l.strip_prefix(field)?.strip_prefix(':')?;
        v.split_whitespace().next()?.parse().ok()
    })
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|&t| t > 0.0)
        .unwrap_or(100.0)
}

/// Busy time of all CPUs (user, nice, system, irq, softirq, steal) in clock ticks.
fn host_busy_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    Some(f.get(..8)?.iter().sum::<u64>() - f.get(3)? - f.get(4)?)
}

/// CPU time so far, in clock ticks: the server's, our own, and all CPUs' busy time.
#[derive(Clone, Copy, Default)]
struct CpuSnapshot {
    server: Option<u64>,
    own: Option<u64>,
    host_busy: Option<u64>,
}

impl CpuSnapshot {
    fn take(pid: Option<u32>) -> CpuSnapshot {
        CpuSnapshot {
            server: pid.and_then(proc_cpu_ticks),
            own: proc_cpu_ticks(std::process::id()),
            host_busy: host_busy_ticks(),
        }
    }
}

/// Waits until `start`, takes a CPU snapshot, then samples the server's VmRSS every 50 ms until
/// `stop`; returns (the snapshot at `start`, peak VmRSS in kB, the first VmRSS sampled at or
/// after `mark` in kB).
fn sample(
    pid: Option<u32>,
    start: Instant,
    mark: Instant,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<(CpuSnapshot, u64, Option<u64>)> {
    std::thread::spawn(move || {
        let now = Instant::now();
        if start > now {
            std::thread::sleep(start - now);
        }
        let cpu0 = CpuSnapshot::take(pid);
        let mut peak = 0;
        let mut at_mark = None;
        loop {
            // Read before the kB sample: a mark reached just as the run stops is not recorded.
            let stopping = stop.load(Ordering::Relaxed);
            if let Some(kb) = pid.and_then(|p| proc_status_kb(p, "VmRSS")) {
                peak = peak.max(kb);
                if at_mark.is_none() && !stopping && Instant::now() >= mark {
                    at_mark = Some(kb);
                }
            }
            if stopping {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (cpu0, peak, at_mark)
    })
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Runs one load test and returns its report.
pub async fn run(args: Args) -> Result<Report, BoxError> {
    let c = args.concurrency;
    if c == 0 {
        return Err("--concurrency must be at least 1".into());
    }
    let ratios = [args.get_ratio, args.list_ratio, args.delete_ratio];
    if ratios.iter().any(|r| !(0.0..=1.0).contains(r)) {
        return Err("--get-ratio, --list-ratio and --delete-ratio must be between 0 and 1".into());
    }
    if args.op == Op::Soak && ratios.iter().sum::<f64>() > 1.0 {
        return Err("--get-ratio + --list-ratio + --delete-ratio must be at most 1".into());
    }
    if !(args.rss_mark.is_finite() && args.rss_mark >= 0.0) {
        return Err("--rss-mark must be a number of seconds, not negative".into());
    }
    if args.sizes.as_ref().is_some_and(|s| s.is_empty()) {
        return Err("--sizes needs at least one size".into());
    }
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if args.duration.is_some_and(|d| !positive(d)) || !(args.warmup == 0.0 || positive(args.warmup))
    {
        return Err("--duration must be positive and --warmup not negative".into());
    }
    if !positive(args.timeout) || args.timeout > 1e9 {
        return Err("--timeout must be a positive number of seconds".into());
    }
    let duration = match (args.duration, args.requests) {
        (None, None) => Some(10.0),
        (d, _) => d,
    };
    let total_keys = args.keys.unwrap_or(16 * c);
    if total_keys == 0 {
        return Err("--keys must be at least 1".into());
    }
    if args.op != Op::Get && total_keys < c {
        return Err(format!(
            "--keys ({total_keys}) must be at least --concurrency ({c}) for put and mixed: each \
             worker writes only its own keys"
        )
        .into());
    }
    if let Some(pid) = args.pid {
        if proc_cpu_ticks(pid).is_none() {
            return Err(format!("--pid {pid}: cannot read /proc/{pid}/stat").into());
        }
    }
    let bucket = args
        .bucket
        .clone()
        .unwrap_or_else(|| format!("loadgen-{:08x}", rand::random::<u32>()));
    let ctx = Arc::new(Ctx::new(&args, bucket)?);

    // Set-up (untimed): bucket, then version 1 of every key for get and mixed.
    let mut setup_conn = Conn::default();
    ctx.set_up_bucket(&mut setup_conn, args.sse).await?;
    drop(setup_conn);
    let owned = |w: usize| -> Vec<u64> { (w as u64..total_keys as u64).step_by(c).collect() };
    let mut conns: Vec<Conn> = Vec::with_capacity(c);
    if args.op != Op::Put && !args.no_populate {
        let tasks: Vec<_> = (0..c)
            .map(|w| tokio::spawn(populate(ctx.clone(), owned(w))))
            .collect();
        let mut errors = 0;
        for t in tasks {
            let (conn, e) = t.await?;
            conns.push(conn);
            errors += e;
        }
        if errors > 0 {
            return Err(format!("{errors} PUTs failed while writing the objects to read").into());
        }
    } else {
        conns.resize_with(c, Conn::default);
    }

    // The measured run.
    let t0 = Instant::now();
    let measure_start = t0 + Duration::from_secs_f64(args.warmup);
    let plan = Arc::new(Plan {
        op: args.op,
        get_ratio: args.get_ratio,
        list_ratio: args.list_ratio,
        delete_ratio: args.delete_ratio,
        total_keys: total_keys as u64,
        measure_start,
        deadline: duration.map(|d| measure_start + Duration::from_secs_f64(d)),
        requests: args.requests,
        tickets: AtomicU64::new(0),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let rss_mark = measure_start + Duration::from_secs_f64(args.rss_mark);
    let sampler = sample(args.pid, measure_start, rss_mark, stop.clone());
    // In put mode a key's first PUT is version 1; in mixed and soak mode version 1 is already
    // there (written above, or by an earlier run with --no-populate).
    let initial = if matches!(args.op, Op::Mixed | Op::Soak) {
        1
    } else {
        0
    };
    let tasks: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(w, conn)| {
            let keys = if args.op == Op::Get {
                Vec::new()
            } else {
                owned(w)
                    .into_iter()
                    .map(|id| KeyState {
                        id,
                        latest: initial,
                        accepted: vec![initial.max(1)],
                        absent_ok: false,
                    })
                    .collect()
            };
            tokio::spawn(worker(ctx.clone(), plan.clone(), w, conn, keys))
        })
        .collect();
    let mut total = WorkerOut::default();
    let mut join_error = None;
    for t in tasks {
        match t.await {
            Ok(o) => {
                total.lat_ns.extend(o.lat_ns);
                total.get_ops += o.get_ops;
                total.put_ops += o.put_ops;
                total.list_ops += o.list_ops;
                total.delete_ops += o.delete_ops;
                total.not_found += o.not_found;
                total.bytes += o.bytes;
                total.errors += o.errors;
                total.verified += o.verified;
            }
            Err(e) => join_error = Some(e),
        }
    }
    let end = Instant::now();
    let rss_end_kb = args.pid.and_then(|pid| proc_status_kb(pid, "VmRSS"));
    stop.store(true, Ordering::Relaxed);
    if let Some(e) = join_error {
        return Err(format!("a worker failed: {e}").into());
    }
    let (cpu0, peak_kb, rss_mark_kb) = sampler
        .join()
        .map_err(|_| "the /proc sampler thread panicked")?;
    let cpu1 = CpuSnapshot::take(args.pid);
    let ticks = clock_ticks_per_second();
    let secs = |a: Option<u64>, b: Option<u64>| -> Option<f64> {
        Some(b?.saturating_sub(a?) as f64 / ticks)
    };
    let server_cpu_s = secs(cpu0.server, cpu1.server);
    let loadgen_cpu_s = secs(cpu0.own, cpu1.own);
    let host_cpu_busy_s = secs(cpu0.host_busy, cpu1.host_busy);
    let other_cpu_s = match (host_cpu_busy_s, server_cpu_s, loadgen_cpu_s) {
        (Some(h), Some(s), Some(l)) => Some((h - s - l).max(0.0)),
        _ => None,
    };
    let mib = |kb: u64| round3(kb as f64 / 1024.0);
    let server_rss_peak_mib = args.pid.map(|_| mib(peak_kb));
    let rss_growth_pct = match (rss_mark_kb, rss_end_kb) {
        (Some(m), Some(e)) if m > 0 => Some(round3((e as f64 - m as f64) / m as f64 * 100.0)),
        _ => None,
    };
    let server_hwm_mib = args
        .pid
        .and_then(|pid| proc_status_kb(pid, "VmHWM"))
        .map(mib);

    if args.cleanup {
        let tasks: Vec<_> = (0..c)
            .map(|w| tokio::spawn(delete_keys(ctx.clone(), owned(w))))
            .collect();
        let mut failed = 0;
        for t in tasks {
            failed += t.await.unwrap_or(1);
        }
        let mut conn = Conn::default();
        let bucket_path = format!("/{}", ctx.bucket);
        if let Err(e) = ctx.delete(&mut conn, &bucket_path).await {
            eprintln!(
                "loadgen: warning: cleanup: DeleteBucket {}: {e}",
                ctx.bucket
            );
        }
        if failed > 0 {
            eprintln!("loadgen: warning: cleanup: {failed} DeleteObject requests failed");
        }
    }

    let duration_s = end.saturating_duration_since(measure_start).as_secs_f64();
    let ops = total.get_ops + total.put_ops + total.list_ops + total.delete_ops;
    let mut lat = total.lat_ns;
    lat.sort_unstable();
    let mean_ms = if lat.is_empty() {
        0.0
    } else {
        lat.iter().map(|&n| n as f64).sum::<f64>() / lat.len() as f64 / 1e6
    };
    let per_s = |x: f64| {
        if duration_s > 0.0 {
            x / duration_s
        } else {
            0.0
        }
    };
    Ok(Report {
        label: args.label.clone(),
        endpoint: args.endpoint.clone(),
        bucket: ctx.bucket.clone(),
        op: args.op.name().to_string(),
        size: args.size,
        sizes: args.sizes.clone().unwrap_or_default(),
        concurrency: c,
        keys: total_keys,
        sse: args.sse.name().to_string(),
        sign_payload: args.sign_payload,
        verify: ctx.verify,
        duration_s: round3(duration_s),
        ops,
        get_ops: total.get_ops,
        put_ops: total.put_ops,
        list_ops: total.list_ops,
        delete_ops: total.delete_ops,
        get_not_found: total.not_found,
        ops_per_s: round3(per_s(ops as f64)),
        mib_per_s: round3(per_s(total.bytes as f64 / MIB)),
        mean_ms: round3(mean_ms),
        p50_ms: round3(percentile(&lat, 0.50)),
        p90_ms: round3(percentile(&lat, 0.90)),
        p99_ms: round3(percentile(&lat, 0.99)),
        p999_ms: round3(percentile(&lat, 0.999)),
        max_ms: round3(lat.last().map_or(0.0, |&n| n as f64 / 1e6)),
        errors: total.errors,
        verified: total.verified,
        server_cpu_s: server_cpu_s.map(round3),
        server_rss_peak_mib,
        server_hwm_mib,
        rss_mark_mib: rss_mark_kb.map(mib),
        rss_end_mib: rss_end_kb.map(mib),
        rss_growth_pct,
        loadgen_cpu_s: loadgen_cpu_s.map(round3),
        host_cpu_busy_s: host_cpu_busy_s.map(round3),
        other_cpu_s: other_cpu_s.map(round3),
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(report) => match serde_json::to_string(&report) {
            Ok(line) => {
                println!("{line}");
                eprintln!(
                    "loadgen: {} {} B c{}: {} ops in {:.2} s = {:.1} ops/s, {:.1} MiB/s, p50 {:.3} ms, \
                     p99 {:.3} ms, {} errors, {} verified",
                    report.op,
                    report.size,
                    report.concurrency,
                    report.ops,
                    report.duration_s,
                    report.ops_per_s,
                    report.mib_per_s,
                    report.p50_ms,
                    report.p99_ms,
                    report.errors,
                    report.verified
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("loadgen: cannot encode the report: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soak_helpers() {
        assert_eq!(list_prefix(5), "obj-5");
        assert_eq!(list_prefix(51), "obj-5");
        assert_eq!(list_prefix(512), "obj-51");
        assert!(is_no_such_key(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><RequestId>1</RequestId></Error>"
        ));
        assert!(!is_no_such_key(
            "<Error><Code>NoSuchBucket</Code><Message>m</Message></Error>"
        ));
        assert!(!is_no_such_key("NoSuchKey"));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("64mib"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2K"), Ok(2048));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert!(parse_size("1XB").is_err());
        assert!(parse_size("KiB").is_err());
    }

    const SIZE: usize = 400_000;

    fn verify_in_pieces(
        body: &[u8],
        piece: usize,
        key: u64,
        accepted: &[u64],
    ) -> Result<u64, String> {
        let p = Pattern::new();
        let mut v = Verifier::new(&p, key, accepted, SIZE as u64);
        for c in body.chunks(piece) {
            v.feed(c);
        }
        v.finish()
    }

    #[test]
    fn verifier_accepts_the_body_and_rejects_any_change() {
        let p = Pattern::new();
        let size = SIZE as u64;
        let body = p.to_vec(7, 3, size);
        assert_eq!(body.len() as u64, size);
        assert_eq!(&body[..HEADER], &Pattern::header(7, 3));
        for piece in [1, 7, 16, 4096, 65_536, SIZE] {
            assert_eq!(
                verify_in_pieces(&body, piece, 7, &[3]),
                Ok(3),
                "piece {piece}"
            );
            assert_eq!(
                verify_in_pieces(&body, piece, 7, &[2, 3]),
                Ok(3),
                "piece {piece}"
            );
        }
        // A flipped byte anywhere: in the header, at a frame boundary, at the end.
        for at in [0, 9, 15, 16, FIRST - 1, FIRST, FIRST + CHUNK, SIZE - 1] {
            let mut bad = body.clone();
            bad[at] ^= 0x01;
            let r = verify_in_pieces(&bad, 4096, 7, &[3]);
            assert!(r.is_err(), "flip at {at} not detected");
        }
        // Another version, another key, truncated, too long.
        assert!(verify_in_pieces(&body, 4096, 7, &[2]).is_err());
        assert!(verify_in_pieces(&p.to_vec(7, 2, size), 4096, 7, &[3]).is_err());
        assert!(verify_in_pieces(&body, 4096, 8, &[3]).is_err());
        assert!(verify_in_pieces(&body[..SIZE - 1], 4096, 7, &[3]).is_err());
        let mut long = body.clone();
        long.push(0);
        assert!(verify_in_pieces(&long, 4096, 7, &[3]).is_err());
        // The stale version's bytes after a correct header (a torn or mixed-up object).
        let mut mixed = p.to_vec(7, 2, size);
        mixed[..HEADER].copy_from_slice(&Pattern::header(7, 3));
        assert!(verify_in_pieces(&mixed, 4096, 7, &[3]).is_err());
    }

    #[test]
    fn bodies_differ_across_keys_versions_and_segments() {
        let p = Pattern::new();
        let a = p.to_vec(1, 1, 1 << 21);
        let b = p.to_vec(1, 2, 1 << 21);
        let c = p.to_vec(2, 1, 1 << 21);
        assert_ne!(a[HEADER..], b[HEADER..]);
        assert_ne!(a[HEADER..], c[HEADER..]);
        // No two 64 KiB segments of one object are equal (the period is not a multiple of 64 KiB).
        let segs: Vec<&[u8]> = a.chunks(65_536).collect();
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                assert_ne!(segs[i], segs[j], "segments {i} and {j}");
            }
        }
        // Small sizes too.
        for size in [0u64, 1, 15, 16, 17, 4096] {
            let body = p.to_vec(5, 9, size);
            assert_eq!(body.len() as u64, size);
            let mut v = Verifier::new(&p, 5, &[9], size);
            v.feed(&body);
            assert_eq!(v.finish(), Ok(9), "size {size}");
        }
        assert_eq!(p.sha256_hex(1, 1, 1 << 21), hex::encode(Sha256::digest(&a)));
    }
}
