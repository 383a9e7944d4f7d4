//! Throughput of the digests every PUT computes, raw and through sealstore's own wrappers.
//!
//! Run: `cargo bench --bench digests` (about 80 s; results also land in `target/criterion/`).
//! `cargo test --all-targets` runs every benchmark once, as a smoke test.
//!
//! Groups:
//! - `digest_raw`: each primitive alone over one 64 KiB and one 1 MiB buffer — MD5 (`md-5`, the
//!   ETag), SHA-256 (`sha2`, a signed payload or `x-amz-checksum-sha256`), SHA-1 (`sha1`), CRC32
//!   (`crc32fast`), CRC32C (`crc32c`), CRC64NVME (`crc64fast-nvme`), and each of the three with
//!   `crc-fast` (what the write path uses for all three CRCs; docs/benchmarks.md, "CRC crates");
//! - `digest_raw_combo`: the primitives a PUT needs, one after the other over the same 1 MiB in
//!   64 KiB pieces, as plain calls (the CRCs with `crc-fast`, as `Digester`) — the baseline for
//!   the next group;
//! - `digester`: `sealstore::integrity::Digester` (MD5 + optional SHA-256 + one checksum in one
//!   pass) over 1 MiB in 64 KiB pieces, for the request shapes that matter: no client checksum
//!   (CRC64NVME is computed), a CRC32 checksum, and a signed payload (SHA-256 too);
//! - `request_body`: `sealstore::integrity::RequestBody` — the per-request body state the PUT path
//!   drives (`Expectations::from_headers` + `RequestBody::new` + `next` + `finish`) — over a
//!   stream of 64 KiB `Bytes` pieces, so the cost of the stream plumbing and the final checks
//!   over the `Digester` shows.

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use md5::{Digest as _, Md5};
use sealstore::auth::PayloadCheck;
use sealstore::integrity::{ChecksumAlgorithm, Digester, Expectations, RequestBody};
use sha1::Sha1;
use sha2::Sha256;

const KIB64: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

/// `n` bytes of a fixed pattern (built by copying, so it is fast even unoptimised).
fn data(n: usize) -> Vec<u8> {
    let piece: Vec<u8> = (0..251u8).collect();
    let mut v = piece.repeat(n / piece.len() + 1);
    v.truncate(n);
    v
}

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

fn raw(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest_raw");
    for (label, size) in [("64KiB", KIB64), ("1MiB", MIB)] {
        let buf = data(size);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("md5", label), &buf, |b, buf| {
            b.iter(|| black_box(Md5::digest(black_box(buf))))
        });
        g.bench_with_input(BenchmarkId::new("sha256", label), &buf, |b, buf| {
            b.iter(|| black_box(Sha256::digest(black_box(buf))))
        });
        g.bench_with_input(BenchmarkId::new("sha1", label), &buf, |b, buf| {
            b.iter(|| black_box(Sha1::digest(black_box(buf))))
        });
        g.bench_with_input(
            BenchmarkId::new("crc32_crc32fast", label),
            &buf,
            |b, buf| b.iter(|| black_box(crc32fast::hash(black_box(buf)))),
        );
        g.bench_with_input(BenchmarkId::new("crc32c_crc32c", label), &buf, |b, buf| {
            b.iter(|| black_box(crc32c::crc32c(black_box(buf))))
        });
        g.bench_with_input(
            BenchmarkId::new("crc64nvme_crc64fast_nvme", label),
            &buf,
            |b, buf| {
                b.iter(|| {
                    let mut d = crc64fast_nvme::Digest::new();
                    d.write(black_box(buf));
                    black_box(d.sum64())
                })
            },
        );
        // `crc-fast` for each CRC: what the write path uses for all three.
        for (name, alg) in [
            ("crc32_crc_fast", crc_fast::CrcAlgorithm::Crc32IsoHdlc),
            ("crc32c_crc_fast", crc_fast::CrcAlgorithm::Crc32Iscsi),
            ("crc64nvme_crc_fast", crc_fast::CrcAlgorithm::Crc64Nvme),
        ] {
            g.bench_with_input(BenchmarkId::new(name, label), &buf, |b, buf| {
                b.iter(|| black_box(crc_fast::checksum(alg, black_box(buf))))
            });
        }
    }
    g.finish();
}

/// The raw primitives a PUT runs, called one after the other on each 64 KiB piece of 1 MiB:
/// what `Digester` would cost with zero overhead.
fn raw_combo(c: &mut Criterion) {
    let mut g = c.benchmark_group("digest_raw_combo");
    g.throughput(Throughput::Bytes(MIB as u64));
    let buf = data(MIB);
    g.bench_function("md5+crc64nvme/1MiB", |b| {
        b.iter(|| {
            let mut md5 = Md5::new();
            let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
            for piece in buf.chunks(KIB64) {
                md5.update(piece);
                crc.update(piece);
            }
            black_box((md5.finalize(), crc.finalize()))
        })
    });
    g.bench_function("md5+crc32/1MiB", |b| {
        b.iter(|| {
            let mut md5 = Md5::new();
            let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc);
            for piece in buf.chunks(KIB64) {
                md5.update(piece);
                crc.update(piece);
            }
            black_box((md5.finalize(), crc.finalize()))
        })
    });
    g.bench_function("md5+sha256+crc64nvme/1MiB", |b| {
        b.iter(|| {
            let mut md5 = Md5::new();
            let mut sha = Sha256::new();
            let mut crc = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme);
            for piece in buf.chunks(KIB64) {
                md5.update(piece);
                sha.update(piece);
                crc.update(piece);
            }
            black_box((md5.finalize(), sha.finalize(), crc.finalize()))
        })
    });
    g.finish();
}

/// The request shapes: label, checksum algorithm stored, whether SHA-256 is computed too.
const SHAPES: [(&str, ChecksumAlgorithm, bool); 3] = [
    ("md5+crc64nvme_default", ChecksumAlgorithm::Crc64Nvme, false),
    ("md5+crc32_client", ChecksumAlgorithm::Crc32, false),
    (
        "md5+sha256+crc64nvme_signed",
        ChecksumAlgorithm::Crc64Nvme,
        true,
    ),
];

fn digester(c: &mut Criterion) {
    let mut g = c.benchmark_group("digester");
    g.throughput(Throughput::Bytes(MIB as u64));
    let buf = data(MIB);
    for (label, alg, sha) in SHAPES {
        g.bench_function(BenchmarkId::new(label, "1MiB"), |b| {
            b.iter(|| {
                let mut d = Digester::new(alg, sha);
                for piece in buf.chunks(KIB64) {
                    d.update(piece);
                }
                black_box(d.finish())
            })
        });
    }
    g.finish();
}

fn request_body(c: &mut Criterion) {
    let mut g = c.benchmark_group("request_body");
    g.throughput(Throughput::Bytes(MIB as u64));
    let rt = ok(tokio::runtime::Builder::new_current_thread().build());
    let whole = Bytes::from(data(MIB));
    let pieces: Vec<Bytes> = (0..MIB / KIB64)
        .map(|i| whole.slice(i * KIB64..(i + 1) * KIB64))
        .collect();
    let sha256: [u8; 32] = Sha256::digest(&whole).into();
    let crc32 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&whole).to_be_bytes())
    };
    let length = MIB.to_string();
    for (label, alg, sha) in SHAPES {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::CONTENT_LENGTH, ok(length.parse()));
        if alg == ChecksumAlgorithm::Crc32 {
            headers.insert("x-amz-checksum-crc32", ok(crc32.parse()));
            headers.insert("x-amz-sdk-checksum-algorithm", ok("CRC32".parse()));
        }
        let payload = if sha {
            PayloadCheck::Sha256(sha256)
        } else {
            PayloadCheck::Unsigned
        };
        g.bench_function(BenchmarkId::new(label, "1MiB_in_64KiB_pieces"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let expect = ok(Expectations::from_headers(&headers, &payload));
                    let stream = futures_util::stream::iter(
                        pieces.iter().cloned().map(Ok::<_, std::io::Error>),
                    );
                    let mut body = RequestBody::new(stream, expect, u64::MAX);
                    while let Some(piece) = body.next().await {
                        black_box(ok(piece));
                    }
                    black_box(ok(body.finish()))
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = raw, raw_combo, digester, request_body
}
criterion_main!(benches);
