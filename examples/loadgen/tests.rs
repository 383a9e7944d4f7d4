//! Unit tests: sizes, bodies, the verifier, the soak helpers.

use md5::Digest as _;
use sha2::Sha256;

use crate::args::*;
use crate::pattern::*;
use crate::worker::*;
use crate::{CHUNK, FIRST, HEADER};

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

fn verify_in_pieces(body: &[u8], piece: usize, key: u64, accepted: &[u64]) -> Result<u64, String> {
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
