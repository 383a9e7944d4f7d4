//! PUT and GET through the whole handler stack, in process, with in-memory storage.
//!
//! Run: `cargo bench --bench handlers` (about 90 s; results also land in `target/criterion/`).
//! `cargo test --all-targets` runs every benchmark once, as a smoke test.
//!
//! Setup builds the server as `sealstore serve --memory` does — `Config::new(StorageMode::Memory,
//! ..)`, `state::AppState::open`, `server::app` (the axum `Router`) — and creates one bucket. Each
//! iteration sends one SigV4-signed request with `tower::ServiceExt::oneshot` and consumes the
//! whole response body (a GET checks its length). No socket, no HTTP parsing, no log subscriber:
//! what is timed is routing, authentication, the S3 operation, integrity digests, encryption and
//! the memory store. Request bodies arrive as a stream of 64 KiB `Bytes` pieces (as hyper hands
//! them over, without copying). Requests are signed once per benchmark (in setup, at the current
//! time, well within the 15-minute skew) and rebuilt per iteration outside the timed section.
//!
//! Groups (throughput in bytes of object body):
//! - `handlers_put`: PutObject of 4 KiB, 1 MiB and 64 MiB with `UNSIGNED-PAYLOAD` (SSE-S3, the
//!   default; the server computes MD5 for the ETag and CRC64NVME); 1 MiB with a signed payload
//!   (hex SHA-256 in `x-amz-content-sha256`, checked by the server); 1 MiB with SSE-C and with
//!   SSE-KMS (the account's `aws/s3` key);
//! - `handlers_get`: GetObject of the same SSE-S3 objects (4 KiB, 1 MiB, 64 MiB), decrypted and
//!   streamed in 64 KiB segments.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use axum::Router;
use axum::body::Body;
use base64::Engine;
use bytes::Bytes;
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use http_body_util::BodyExt;
use md5::{Digest as _, Md5};
use sealstore::config::{Config, StorageMode};
use sealstore::server::app;
use sealstore::state::AppState;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const ACCESS_KEY: &str = "bench";
const SECRET_KEY: &str = "bench-secret";
const HOST: &str = "127.0.0.1:9000";
const BUCKET: &str = "bench-bucket";
const PIECE: usize = 64 * 1024;
const KIB: usize = 1024;
const MIB: usize = 1024 * 1024;
const USER_AGENT: &str =
    "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8 md/arch#x86_64 lang/python#3.12.3";

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("benchmark setup failed: {e:?}"),
    }
}

/// Short runs, as in `benches/crypto.rs`. Command-line flags still override these.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

/// `n` bytes of a fixed pattern (built by copying, so it is fast even unoptimised).
fn data(n: usize) -> Bytes {
    let piece: Vec<u8> = (0..251u8).collect();
    let mut v = piece.repeat(n / piece.len() + 1);
    v.truncate(n);
    Bytes::from(v)
}

fn size_label(n: usize) -> String {
    if n >= MIB {
        format!("{}MiB", n / MIB)
    } else {
        format!("{}KiB", n / KIB)
    }
}

/// A signed request that can be sent any number of times: method, path, headers (with
/// Authorization) and the body in 64 KiB pieces.
struct Prepared {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    pieces: Vec<Bytes>,
}

impl Prepared {
    /// Signs `method path` with `headers` (plus host, x-amz-date, x-amz-content-sha256,
    /// content-length) as boto3 does, `payload_signed` choosing a hex SHA-256 of `body` over
    /// `UNSIGNED-PAYLOAD`.
    fn new(
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &Bytes,
        payload_signed: bool,
    ) -> Prepared {
        let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = ok(v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build())
        .into();
        let length = body.len().to_string();
        let mut all: Vec<(&str, &str)> = vec![("host", HOST), ("user-agent", USER_AGENT)];
        if method == Method::PUT {
            all.push(("content-length", &length));
        }
        all.extend_from_slice(headers);
        let signable = if payload_signed {
            SignableBody::Bytes(body)
        } else {
            SignableBody::UnsignedPayload
        };
        let url = format!("http://{HOST}{path}");
        let req = ok(SignableRequest::new(
            method.as_str(),
            &url,
            all.iter().copied(),
            signable,
        ));
        let (instructions, _) = ok(sign(req, &params)).into_parts();
        let mut map = HeaderMap::new();
        let signed = instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()));
        let plain = all.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        for (k, v) in plain.chain(signed) {
            map.insert(
                ok(HeaderName::from_bytes(k.as_bytes())),
                ok(HeaderValue::from_str(&v)),
            );
        }
        let pieces = (0..body.len().div_ceil(PIECE))
            .map(|i| body.slice(i * PIECE..body.len().min((i + 1) * PIECE)))
            .collect();
        Prepared {
            method,
            uri: ok(path.parse()),
            headers: map,
            pieces,
        }
    }

    fn request(&self) -> Request<Body> {
        let pieces = self.pieces.clone();
        let body = if pieces.is_empty() {
            Body::empty()
        } else {
            Body::from_stream(futures_util::stream::iter(
                pieces.into_iter().map(Ok::<_, std::io::Error>),
            ))
        };
        let mut req = Request::new(body);
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }
}

/// Sends one request through the router and reads the whole response body; returns the status
/// and the number of body bytes.
async fn send(router: &Router, req: Request<Body>) -> (StatusCode, usize) {
    let res = ok(router.clone().oneshot(req).await);
    let status = res.status();
    let mut body = res.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        if let Some(data) = ok(frame).data_ref() {
            n += data.len();
        }
    }
    (status, n)
}

/// Sends `p` once, outside any measurement, and checks the answer.
fn expect_ok(rt: &Runtime, router: &Router, p: &Prepared, what: &str) {
    let (status, _) = rt.block_on(send(router, p.request()));
    assert_eq!(status, StatusCode::OK, "{what}");
}

struct Server {
    rt: Runtime,
    router: Router,
}

fn server() -> Server {
    let rt = ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build());
    let credentials = ok(Config::credentials_from(ACCESS_KEY, SECRET_KEY, &[]));
    let mut config = Config::new(StorageMode::Memory, credentials);
    // SSE-C is blocked on new buckets unless this is set (S3's default since April 2026).
    config.allow_ssec_by_default = true;
    let state = ok(rt.block_on(AppState::open(config)));
    let router = app(Arc::new(state));
    let create = Prepared::new(Method::PUT, &format!("/{BUCKET}"), &[], &Bytes::new(), true);
    expect_ok(&rt, &router, &create, "CreateBucket");
    Server { rt, router }
}

/// Measures `p` sent repeatedly (request rebuilt outside the timing), checking each answer.
/// `first` (e.g. the PUT a GET needs) is sent once, untimed, when criterion first runs this
/// benchmark — not at all when a name filter skips it, so profiles of one benchmark stay clean.
fn bench_request(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    s: &Server,
    id: BenchmarkId,
    p: &Prepared,
    expect_len: usize,
    first: Option<&Prepared>,
) {
    let batch = if expect_len >= 16 * MIB {
        BatchSize::PerIteration
    } else {
        BatchSize::SmallInput
    };
    let mut first = first;
    g.bench_function(id, |b| {
        if let Some(f) = first.take() {
            expect_ok(&s.rt, &s.router, f, "setup request");
        }
        b.iter_batched(
            || p.request(),
            |req| {
                let (status, n) = s.rt.block_on(send(&s.router, req));
                assert_eq!((status, n), (StatusCode::OK, expect_len));
            },
            batch,
        )
    });
}

/// Per-size criterion settings: a 64 MiB request takes 0.1–0.5 s, so its 10 samples are flat (the
/// same iteration count each) instead of criterion's linear ramp, which would need 55 requests.
fn size_settings(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    size: usize,
) {
    g.throughput(Throughput::Bytes(size as u64));
    if size >= 16 * MIB {
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .measurement_time(Duration::from_secs(5));
    } else {
        g.sample_size(20)
            .sampling_mode(SamplingMode::Auto)
            .measurement_time(Duration::from_secs(2));
    }
}

const SIZES: [usize; 3] = [4 * KIB, MIB, 64 * MIB];

fn put(c: &mut Criterion) {
    let s = server();
    let mut g = c.benchmark_group("handlers_put");
    for size in SIZES {
        let body = data(size);
        let path = format!("/{BUCKET}/put-{}", size_label(size));
        let p = Prepared::new(
            Method::PUT,
            &path,
            &[("content-type", "application/octet-stream")],
            &body,
            false,
        );
        size_settings(&mut g, size);
        bench_request(
            &mut g,
            &s,
            BenchmarkId::new("unsigned_payload", size_label(size)),
            &p,
            0,
            None,
        );
    }

    size_settings(&mut g, MIB);
    let body = data(MIB);
    let signed = Prepared::new(
        Method::PUT,
        &format!("/{BUCKET}/put-signed-1MiB"),
        &[("content-type", "application/octet-stream")],
        &body,
        true,
    );
    bench_request(
        &mut g,
        &s,
        BenchmarkId::new("signed_payload_sha256", "1MiB"),
        &signed,
        0,
        None,
    );

    let customer_key = [0x42u8; 32];
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let key_b64 = b64(&customer_key);
    let key_md5 = b64(&Md5::digest(customer_key));
    let ssec = Prepared::new(
        Method::PUT,
        &format!("/{BUCKET}/put-ssec-1MiB"),
        &[
            ("content-type", "application/octet-stream"),
            ("x-amz-server-side-encryption-customer-algorithm", "AES256"),
            ("x-amz-server-side-encryption-customer-key", &key_b64),
            ("x-amz-server-side-encryption-customer-key-md5", &key_md5),
        ],
        &body,
        false,
    );
    bench_request(
        &mut g,
        &s,
        BenchmarkId::new("sse_c_unsigned_payload", "1MiB"),
        &ssec,
        0,
        None,
    );

    let kms = Prepared::new(
        Method::PUT,
        &format!("/{BUCKET}/put-kms-1MiB"),
        &[
            ("content-type", "application/octet-stream"),
            ("x-amz-server-side-encryption", "aws:kms"),
        ],
        &body,
        false,
    );
    bench_request(
        &mut g,
        &s,
        BenchmarkId::new("sse_kms_unsigned_payload", "1MiB"),
        &kms,
        0,
        None,
    );
    g.finish();
}

fn get(c: &mut Criterion) {
    let s = server();
    let mut g = c.benchmark_group("handlers_get");
    for size in SIZES {
        let body = data(size);
        let path = format!("/{BUCKET}/get-{}", size_label(size));
        let put = Prepared::new(Method::PUT, &path, &[], &body, false);
        let get = Prepared::new(Method::GET, &path, &[], &Bytes::new(), true);
        size_settings(&mut g, size);
        bench_request(
            &mut g,
            &s,
            BenchmarkId::new("sse_s3", size_label(size)),
            &get,
            size,
            Some(&put),
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = put, get
}
criterion_main!(benches);
