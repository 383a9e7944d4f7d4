//! The three CRCs S3 uses, each with the crate the write path uses today and with `crc-fast`
//! (which implements all three), to decide whether one crate can replace three (issue 19 item 7;
//! figures and decision in docs/benchmarks.md, "CRC crates").
//!
//! Run: `cargo bench --bench crc` (about 30 s). `cargo test --all-targets` runs each once.
//!
//! Every case goes through the streaming API that `integrity::checksum::Hasher` would hold (a
//! state fed with `update`, then finished), over one 64 KiB and one 1 MiB buffer: 64 KiB is the
//! piece size the body stream hands the `Digester`, 1 MiB shows the sustained rate.

use std::hint::black_box;
use std::time::Duration;

use crc_fast::CrcAlgorithm;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const KIB64: usize = 64 * 1024;
const MIB: usize = 1024 * 1024;

/// `n` bytes of a fixed pattern (as in `benches/digests.rs`).
fn data(n: usize) -> Vec<u8> {
    let piece: Vec<u8> = (0..251u8).collect();
    let mut v = piece.repeat(n / piece.len() + 1);
    v.truncate(n);
    v
}

/// `crc-fast`'s streaming digest over `buf`.
fn crc_fast_digest(alg: CrcAlgorithm, buf: &[u8]) -> u64 {
    let mut d = crc_fast::Digest::new(alg);
    d.update(buf);
    d.finalize()
}

/// Short runs, as in the other benches. Command-line flags still override these.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(20)
}

fn crcs(c: &mut Criterion) {
    let mut g = c.benchmark_group("crc");
    for (label, size) in [("64KiB", KIB64), ("1MiB", MIB)] {
        let buf = data(size);
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(
            BenchmarkId::new("crc32/crc32fast", label),
            &buf,
            |b, buf| {
                b.iter(|| {
                    let mut h = crc32fast::Hasher::new();
                    h.update(black_box(buf));
                    black_box(h.finalize())
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("crc32/crc-fast", label), &buf, |b, buf| {
            b.iter(|| black_box(crc_fast_digest(CrcAlgorithm::Crc32IsoHdlc, black_box(buf))))
        });
        g.bench_with_input(BenchmarkId::new("crc32c/crc32c", label), &buf, |b, buf| {
            b.iter(|| black_box(crc32c::crc32c_append(0, black_box(buf))))
        });
        g.bench_with_input(
            BenchmarkId::new("crc32c/crc-fast", label),
            &buf,
            |b, buf| {
                b.iter(|| black_box(crc_fast_digest(CrcAlgorithm::Crc32Iscsi, black_box(buf))))
            },
        );
        g.bench_with_input(
            BenchmarkId::new("crc64nvme/crc64fast-nvme", label),
            &buf,
            |b, buf| {
                b.iter(|| {
                    let mut d = crc64fast_nvme::Digest::new();
                    d.write(black_box(buf));
                    black_box(d.sum64())
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("crc64nvme/crc-fast", label),
            &buf,
            |b, buf| b.iter(|| black_box(crc_fast_digest(CrcAlgorithm::Crc64Nvme, black_box(buf)))),
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = crcs
}
criterion_main!(benches);
