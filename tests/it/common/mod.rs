//! Test harness: spawns the real `sealstore` binary on `127.0.0.1:0`, waits for its readiness line,
//! builds aws-sdk-s3 clients against it, and kills it (and removes its data dir) on drop.

mod server;
pub use server::{Options, Server, parse_ready_line, run_to_exit, wait_with_deadline};

use std::collections::HashMap;
use std::fmt::Debug;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{ConfigBag, Credentials, Intercept, Region, RuntimeComponents};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

pub const BIN: &str = env!("CARGO_BIN_EXE_sealstore");
/// The default account created from `--access-key/--secret-key` (test/test).
pub const DEFAULT_ACCOUNT: &str = "000000000000";
/// A second account, `--user alice:alicesecret:111111111111`.
pub const ALICE: (&str, &str, &str) = ("alice", "alicesecret", "111111111111");
pub const ALICE_USER_ARG: &str = "alice:alicesecret:111111111111";

/// How long the server may take to print its readiness line (generous: CI machines are slow;
/// the real target is well under 100 ms and is printed, never asserted).
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
const EXIT_DEADLINE: Duration = Duration::from_secs(30);

pub type HttpResponse = aws_sdk_s3::config::http::HttpResponse;

/// An aws-sdk-s3 client for `endpoint`.
pub fn client_with(
    endpoint: &str,
    access_key: &str,
    secret_key: &str,
    region: &str,
    path_style: bool,
) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version_latest()
        .endpoint_url(endpoint)
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(
            access_key, secret_key, None, None, "static",
        ))
        .force_path_style(path_style)
        // Errors must surface as they are, once: no retries, and never hang a test run.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

/// The service error code and HTTP status of a failed SDK call; panics (with the debug output)
/// if the call succeeded.
pub fn err_of<T: Debug, E: ProvideErrorMetadata + Debug>(
    res: Result<T, SdkError<E, HttpResponse>>,
) -> (Option<String>, u16) {
    let err = match res {
        Ok(v) => panic!("expected an error, got success: {v:?}"),
        Err(e) => e,
    };
    let status = match err.raw_response() {
        Some(r) => r.status().as_u16(),
        None => panic!("expected a service error with a response, got {err:?}"),
    };
    let code = err.code().map(str::to_string);
    (code, status)
}

/// Asserts a failed SDK call returned exactly `code` with `status`.
#[track_caller]
pub fn assert_err<T: Debug, E: ProvideErrorMetadata + Debug>(
    res: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    status: u16,
) {
    let (got_code, got_status) = err_of(res);
    assert_eq!(
        (got_code.as_deref(), got_status),
        (Some(code), status),
        "expected {code} / {status}"
    );
}

/// Asserts a failed SDK call returned `status` (for HEAD and 304, which carry no body).
#[track_caller]
pub fn assert_status<T: Debug, E: ProvideErrorMetadata + Debug>(
    res: Result<T, SdkError<E, HttpResponse>>,
    status: u16,
) {
    let (_, got) = err_of(res);
    assert_eq!(got, status, "expected HTTP {status}");
}

/// Records the HTTP status of the response an operation received (for 200 vs 206).
#[derive(Debug, Clone, Default)]
pub struct StatusRecorder(pub Arc<AtomicU16>);

impl StatusRecorder {
    pub fn get(&self) -> u16 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Intercept for StatusRecorder {
    fn name(&self) -> &'static str {
        "StatusRecorder"
    }
    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .store(context.response().status().as_u16(), Ordering::SeqCst);
        Ok(())
    }
}

/// A unique, valid bucket name for one test.
pub fn bucket_name(tag: &str) -> String {
    use std::sync::atomic::AtomicUsize;
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let tag: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("it-{tag}-{n}");
    name.truncate(63);
    name.trim_end_matches('-').to_string()
}

/// Creates a bucket and returns its name.
pub async fn new_bucket(client: &Client, tag: &str) -> String {
    let name = bucket_name(tag);
    client
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {e:?}"));
    name
}

pub async fn put(client: &Client, bucket: &str, key: &str, body: impl Into<Vec<u8>>) -> String {
    let out = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e:?}"));
    out.e_tag().expect("PutObject returns an ETag").to_string()
}

pub async fn get_bytes(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {bucket}/{key}: {e:?}"));
    out.body
        .collect()
        .await
        .expect("read body")
        .into_bytes()
        .to_vec()
}

/// `"<md5 hex>"`, the ETag S3 gives a single-part unencrypted object.
pub fn etag_of(body: &[u8]) -> String {
    use md5::{Digest, Md5};
    format!("\"{}\"", hex::encode(Md5::digest(body)))
}

/// A deterministic, non-repeating-looking body of `len` bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// Percent-encodes everything but unreserved characters and `/` (what clients send in
/// `x-amz-copy-source`).
pub fn url_encode_path(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const SET: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(s, SET).to_string()
}

/// Every file under `dir`, recursively (relative paths).
pub fn files_under(dir: &Path) -> std::collections::BTreeSet<PathBuf> {
    let mut out = std::collections::BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read data dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).expect("under dir").to_path_buf());
            }
        }
    }
    out
}

/// Decodes S3's `encoding-type=url` form (`+` or `%20` for space, `%XX` otherwise).
pub fn url_decode_s3(s: &str) -> String {
    let plus_fixed = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_fixed)
        .decode_utf8()
        .expect("utf-8 key")
        .into_owned()
}

/// A plain HTTP client for presigned URLs and raw requests (loopback only).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("reqwest client")
}

/// Extracts the text of the first `<tag>` element of an XML body.
pub fn xml_field(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&close)? + start;
    Some(body[start..end].to_string())
}

/// Lower-cased metadata map as S3 returns it.
pub fn meta(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
