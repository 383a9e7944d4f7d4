//! Throughput of sealstore's encryption engine next to raw AES-256-GCM on the same buffers.
//!
//! Run: `cargo bench --bench crypto` (about 40 s; results also land in `target/criterion/`).
//! `cargo test --all-targets` runs every benchmark once, as a smoke test.
//!
//! Groups:
//! - `aes256gcm_ring`: ring's AES-256-GCM alone (`seal_in_place_separate_tag` / `open_in_place`)
//!   on 1 MiB in 64 KiB pieces — the primitive segments use, so the baseline;
//! - `aes256gcm_raw`: the portable `aes-gcm` crate alone (`encrypt_in_place_detached` /
//!   `decrypt_in_place_detached`), on one 64 KiB buffer and on 1 MiB in 64 KiB pieces — what
//!   segments used before (kept to show the difference);
//! - `segment`: `SegmentCipher::seal` / `open` over 1 MiB in 64 KiB segments (one layer as for
//!   SSE-S3/SSE-KMS/SSE-C, two as for DSSE-KMS), exactly as the streaming writer/reader call them;
//! - `envelope`: sealing and unsealing one data key under a key-encryption key (per operation),
//!   and building a `SegmentCipher` (the AES key schedule, paid once per object and layer).
//!
//! Encryption benches work in place on the same buffer every iteration (AES-GCM's cost does not
//! depend on the data), so no copy is measured. Decryption needs valid ciphertext each time, so
//! both the raw and the sealstore decrypt benches copy a 64 KiB ciphertext into a work buffer
//! before each piece — the same copy on both sides.

use std::hint::black_box;
use std::time::Duration;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Nonce, Tag};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sealstore::crypto::DataKey;
use sealstore::crypto::envelope::{self, KeyContext};
use sealstore::crypto::segment::{SEGMENT_SIZE, SegmentCipher, TAG_SIZE};

const SEG: usize = SEGMENT_SIZE as usize;
const MIB: usize = 1024 * 1024;
const PIECES: usize = MIB / SEG;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i.wrapping_mul(31) % 251) as u8).collect()
}

fn nonce_for(index: u32) -> Nonce<<Aes256Gcm as aes_gcm::AeadCore>::NonceSize> {
    let mut n = [0u8; 12];
    n[7..11].copy_from_slice(&index.to_be_bytes());
    n.into()
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("benchmark setup failed: {e:?}"),
    }
}

/// Short runs: the whole file takes well under a minute. Command-line flags
/// (`--measurement-time`, `--sample-size`, ...) still override these.
fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(800))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
}

fn raw_aes_gcm(c: &mut Criterion) {
    let cipher = Aes256Gcm::new(DataKey::from_bytes([1; 32]).as_key());
    let mut g = c.benchmark_group("aes256gcm_raw");

    g.throughput(Throughput::Bytes(SEG as u64));
    let mut buf = data(SEG);
    g.bench_function("encrypt/64KiB", |b| {
        b.iter(|| {
            let tag = ok(cipher.encrypt_in_place_detached(&nonce_for(0), b"", &mut buf));
            black_box(tag);
        })
    });

    g.throughput(Throughput::Bytes(MIB as u64));
    let mut buf = data(MIB);
    g.bench_function("encrypt/1MiB_in_64KiB_pieces", |b| {
        b.iter(|| {
            for (i, piece) in buf.chunks_mut(SEG).enumerate() {
                let tag = ok(cipher.encrypt_in_place_detached(&nonce_for(i as u32), b"", piece));
                black_box(tag);
            }
        })
    });

    // Ciphertext + tags of 1 MiB in 64 KiB pieces, decrypted through a work buffer.
    let plain = data(MIB);
    let sealed: Vec<(Vec<u8>, Tag)> = plain
        .chunks(SEG)
        .enumerate()
        .map(|(i, p)| {
            let mut ct = p.to_vec();
            let tag = ok(cipher.encrypt_in_place_detached(&nonce_for(i as u32), b"", &mut ct));
            (ct, tag)
        })
        .collect();
    let mut work = vec![0u8; SEG];
    g.bench_function("decrypt/1MiB_in_64KiB_pieces", |b| {
        b.iter(|| {
            for (i, (ct, tag)) in sealed.iter().enumerate() {
                work.copy_from_slice(ct);
                ok(cipher.decrypt_in_place_detached(&nonce_for(i as u32), b"", &mut work, tag));
                black_box(&work);
            }
        })
    });
    g.finish();
}

fn ring_nonce(index: u32) -> ring::aead::Nonce {
    let mut n = [0u8; 12];
    n[7..11].copy_from_slice(&index.to_be_bytes());
    ring::aead::Nonce::assume_unique_for_key(n)
}

fn raw_ring(c: &mut Criterion) {
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, UnboundKey};
    let key = LessSafeKey::new(ok(UnboundKey::new(&AES_256_GCM, &[1; 32])));
    let mut g = c.benchmark_group("aes256gcm_ring");
    g.throughput(Throughput::Bytes(MIB as u64));
    let mut buf = data(MIB);
    g.bench_function("encrypt/1MiB_in_64KiB_pieces", |b| {
        b.iter(|| {
            for (i, piece) in buf.chunks_mut(SEG).enumerate() {
                let tag =
                    ok(key.seal_in_place_separate_tag(ring_nonce(i as u32), Aad::empty(), piece));
                let _ = black_box(tag);
            }
        })
    });
    // Ciphertext || tag of 1 MiB in 64 KiB pieces, decrypted through a work buffer.
    let sealed: Vec<Vec<u8>> = data(MIB)
        .chunks(SEG)
        .enumerate()
        .map(|(i, p)| {
            let mut ct = p.to_vec();
            let tag =
                ok(key.seal_in_place_separate_tag(ring_nonce(i as u32), Aad::empty(), &mut ct));
            ct.extend_from_slice(tag.as_ref());
            ct
        })
        .collect();
    let mut work = vec![0u8; SEG + TAG_SIZE as usize];
    g.bench_function("decrypt/1MiB_in_64KiB_pieces", |b| {
        b.iter(|| {
            for (i, ct) in sealed.iter().enumerate() {
                work.copy_from_slice(ct);
                black_box(ok(key.open_in_place(
                    ring_nonce(i as u32),
                    Aad::empty(),
                    &mut work,
                )));
            }
        })
    });
    g.finish();
}

fn segments(c: &mut Criterion) {
    let mut g = c.benchmark_group("segment");
    g.throughput(Throughput::Bytes(MIB as u64));
    let prefix = [7u8; 7];
    for layers in [1usize, 2] {
        let keys: Vec<DataKey> = (0..layers)
            .map(|i| DataKey::from_bytes([i as u8 + 1; 32]))
            .collect();
        let cipher = ok(SegmentCipher::new(&keys, &prefix));
        let label = if layers == 1 {
            "1_layer"
        } else {
            "2_layers_dsse"
        };

        // Seal: 16 segments of 64 KiB (the last one flagged), in place, tags cut off again.
        let mut seg = data(SEG);
        seg.reserve(2 * TAG_SIZE as usize);
        g.bench_function(BenchmarkId::new("seal_1MiB", label), |b| {
            b.iter(|| {
                for i in 0..PIECES {
                    ok(cipher.seal(i as u32, i == PIECES - 1, &mut seg));
                    seg.truncate(SEG);
                }
                black_box(&seg);
            })
        });

        // Open: the same 1 MiB sealed for real, each segment copied into a work buffer first.
        let plain = data(MIB);
        let sealed: Vec<Vec<u8>> = plain
            .chunks(SEG)
            .enumerate()
            .map(|(i, p)| {
                let mut s = p.to_vec();
                ok(cipher.seal(i as u32, i == PIECES - 1, &mut s));
                s
            })
            .collect();
        let mut work: Vec<u8> = Vec::with_capacity(SEG + 2 * TAG_SIZE as usize);
        g.bench_function(BenchmarkId::new("open_1MiB", label), |b| {
            b.iter(|| {
                for (i, s) in sealed.iter().enumerate() {
                    work.clear();
                    work.extend_from_slice(s);
                    ok(cipher.open(i as u32, i == PIECES - 1, &mut work));
                    black_box(&work);
                }
            })
        });
    }
    g.finish();
}

fn envelope_ops(c: &mut Criterion) {
    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::Elements(1));
    let kek = DataKey::from_bytes([9; 32]);
    let data_key = DataKey::from_bytes([3; 32]);
    let ctx = KeyContext {
        purpose: "sse-kms",
        bucket: "bench-bucket",
        key: "some/object/key.bin",
        object_id: "0123456789abcdef0123456789abcdef",
        extra: r#"{"aws:s3:arn":"arn:aws:s3:::bench-bucket/some/object/key.bin"}"#,
    };
    g.bench_function("seal_data_key", |b| {
        b.iter(|| black_box(ok(envelope::seal(&kek, &data_key, black_box(&ctx)))))
    });
    let sealed = ok(envelope::seal(&kek, &data_key, &ctx));
    g.bench_function("unseal_data_key", |b| {
        b.iter(|| black_box(ok(envelope::unseal(&kek, black_box(&sealed), &ctx))))
    });
    g.bench_function("segment_cipher_new_1_layer", |b| {
        b.iter(|| black_box(SegmentCipher::new(std::slice::from_ref(&data_key), &[7; 7])))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = raw_ring, raw_aes_gcm, segments, envelope_ops
}
criterion_main!(benches);
