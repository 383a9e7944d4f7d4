//! Property tests of the aws-chunked decoder and the integrity headers. Valid encodings of random
//! bodies, cut into reads at random points, decode to the body (signed or not, with or without
//! trailers); random framing and garbage end in an error that maps to a 4xx, never a panic, and
//! never a hang: the decoder finishes within one poll of an always-ready input, in at most one
//! step per input byte.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::stream;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use super::chunked::ChunkedDecoder;
use super::{Expectations, IntegrityError};
use crate::auth::{ChunkSigner, PayloadCheck};
use crate::error::S3Error;
use crate::proptest_support::{
    any_text, assert_client_error, config, header_map, header_value, mutate,
};

type Reads = stream::Iter<std::vec::IntoIter<Result<Bytes, std::io::Error>>>;

fn signer() -> Arc<ChunkSigner> {
    let key = crate::auth::signing_key("test", "20261125", "us-east-1", "s3").unwrap();
    Arc::new(ChunkSigner::new(
        key.as_ref(),
        "20261125T120000Z",
        "20261125/us-east-1/s3/aws4_request",
        &"a".repeat(64),
    ))
}

/// `body` cut at the given points (sorted, deduplicated, clamped).
fn reads(body: &[u8], cuts: &[usize]) -> Reads {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
    cuts.push(0);
    cuts.push(body.len());
    cuts.sort_unstable();
    cuts.dedup();
    let pieces: Vec<Result<Bytes, std::io::Error>> = cuts
        .windows(2)
        .map(|w| Ok(Bytes::copy_from_slice(&body[w[0]..w[1]])))
        .collect();
    stream::iter(pieces)
}

type Decoded = Result<(Vec<u8>, Vec<(String, String)>), IntegrityError>;

/// Runs the decoder to its end. The input is always ready, so the decoding must finish within
/// one poll; each step either yields data or ends, so at most `input_len + 2` steps.
fn decode(
    input: &[u8],
    cuts: &[usize],
    signer: Option<Arc<ChunkSigner>>,
    trailer: bool,
) -> Decoded {
    let mut d = ChunkedDecoder::new(reads(input, cuts), signer, trailer);
    let max_steps = input.len() + 2;
    let fut = async move {
        let mut out = Vec::new();
        let mut steps = 0;
        while let Some(piece) = d.next().await {
            steps += 1;
            assert!(
                steps <= max_steps,
                "decoder did not finish in {max_steps} steps"
            );
            out.extend_from_slice(&piece?);
        }
        Ok((out, d.trailers().to_vec()))
    };
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("decoder waits on an always-ready input"),
    }
}

/// The aws-chunked encoding of `body` in chunks of `sizes` (cycled; the rest in one chunk),
/// signed when `signer` is given, with `trailers`.
fn encode(
    body: &[u8],
    sizes: &[usize],
    signer: Option<&ChunkSigner>,
    trailers: &[(String, String)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut prev = signer.map(|s| s.seed().to_string()).unwrap_or_default();
    let mut rest = body;
    let mut i = 0;
    loop {
        let n = if rest.is_empty() {
            0
        } else {
            sizes
                .get(i % sizes.len().max(1))
                .copied()
                .unwrap_or(rest.len())
                .clamp(1, rest.len())
        };
        i += 1;
        let (chunk, tail) = rest.split_at(n);
        match signer {
            Some(s) => {
                let sig = s.chunk_signature(&prev, &hex::encode(Sha256::digest(chunk)));
                out.extend_from_slice(format!("{n:x};chunk-signature={sig}\r\n").as_bytes());
                prev = sig;
            }
            None => out.extend_from_slice(format!("{n:x}\r\n").as_bytes()),
        }
        if n == 0 {
            break;
        }
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
        rest = tail;
    }
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    if let (Some(s), false) = (signer, trailers.is_empty()) {
        let mut sorted = trailers.to_vec();
        sorted.sort();
        let canonical: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
        let sig = s.trailer_signature(&prev, &hex::encode(Sha256::digest(canonical.as_bytes())));
        out.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// A body of `len` pseudo-random bytes from `seed` (cheaper to generate than a byte vector).
fn body(max: usize) -> impl Strategy<Value = Vec<u8>> {
    (any::<u64>(), 0..max).prop_map(|(seed, len)| {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut b = vec![0u8; len];
        rng.fill(&mut b[..]);
        b
    })
}

fn trailers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("x-amz-[a-z0-9-]{1,20}", "[!-~]([ -~]{0,30}[!-~])?"), 0..4).prop_map(
        |mut t| {
            t.retain(|(n, _)| n != "x-amz-trailer-signature");
            t
        },
    )
}

fn assert_integrity_error(e: IntegrityError) {
    assert_client_error(&S3Error::from(e));
}

proptest! {
    #![proptest_config(config(2000))]

    /// Unsigned: any body, any chunk sizes, any trailers, any read boundaries decode to the body.
    #[test]
    fn unsigned_round_trip(
        body in body(3000),
        sizes in prop::collection::vec(1usize..1500, 1..6),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        trailers in trailers(),
    ) {
        let encoded = encode(&body, &sizes, None, &trailers);
        let (data, got) = decode(&encoded, &cuts, None, true).unwrap();
        prop_assert_eq!(data, body);
        prop_assert_eq!(got, trailers);
    }

    /// Random bytes and chunk-ish text: an end (Ok or a 4xx error), never a panic or a hang.
    #[test]
    fn garbage_ends(
        input in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..3000),
            any_text(300).prop_map(String::into_bytes),
            prop::collection::vec(
                prop_oneof![
                    "[0-9a-fA-F]{0,20}(;chunk-signature=[0-9a-f]{0,70})?\r\n",
                    "[a-z]{0,40}",
                    Just("\r\n".to_string()),
                    Just("0\r\n\r\n".to_string()),
                    "x-amz-[a-z]{1,8}:[a-z]{0,8}\r\n",
                    Just(format!("{}\r\n", "f".repeat(16))),
                    Just("ffffffffffffffff\r\n".to_string()),
                    Just("10000000000000000\r\n".to_string()),
                ],
                0..20,
            ).prop_map(|v| v.concat().into_bytes()),
        ],
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        signed in any::<bool>(),
        trailer in any::<bool>(),
    ) {
        if let Err(e) = decode(&input, &cuts, signed.then(signer), trailer) {
            assert_integrity_error(e);
        }
    }

    /// Valid encodings mutated: an end, and with signatures only ever the original data.
    #[test]
    fn mutated_encodings_end(
        (body, signed, trailers, mutated) in (
            body(20_000),
            any::<bool>(),
            trailers(),
        ).prop_flat_map(|(body, signed, trailers)| {
            let s = signer();
            let encoded = encode(&body, &[8192], signed.then_some(&*s), &trailers);
            (Just(body), Just(signed), Just(trailers), mutate(encoded))
        }),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let trailer = !trailers.is_empty();
        match decode(&mutated, &cuts, signed.then(signer), trailer) {
            Ok((data, _)) if signed => prop_assert_eq!(data, body, "a tampered signed body was accepted"),
            Ok(_) => {}
            Err(e) => assert_integrity_error(e),
        }
    }

    /// The integrity headers of any request: expectations, or a 4xx error.
    #[test]
    fn integrity_headers(
        h in header_map(
            vec![
                "content-md5", "content-length", "x-amz-decoded-content-length",
                "x-amz-checksum-crc32", "x-amz-checksum-crc32c", "x-amz-checksum-crc64nvme",
                "x-amz-checksum-sha1", "x-amz-checksum-sha256", "x-amz-checksum-bogus",
                "x-amz-checksum-mode", "x-amz-checksum-algorithm", "x-amz-checksum-type",
                "x-amz-sdk-checksum-algorithm", "x-amz-trailer",
            ],
            prop_oneof![
                header_value(40),
                prop::sample::select(vec![
                    "CRC32", "crc32c", "SHA256", "x-amz-checksum-crc32", "x-amz-checksum-sha1",
                    "1B2M2Y8AsgTpgAmY7PhCfg==", "AAAAAA==", "AAAAAAAAAAA=", "123", "-1",
                    "99999999999999999999999",
                ]).prop_map(http::HeaderValue::from_static),
            ].boxed(),
        ),
        payload in prop::sample::select(vec![0u8, 1, 2, 3]),
    ) {
        let payload = match payload {
            0 => PayloadCheck::Unsigned,
            1 => PayloadCheck::Sha256([7; 32]),
            2 => PayloadCheck::Streaming { signer: None, trailer: true },
            _ => PayloadCheck::Streaming { signer: Some(signer()), trailer: false },
        };
        if let Err(e) = Expectations::from_headers(&h, &payload) {
            assert_integrity_error(e);
        }
    }
}

proptest! {
    // Up to 40 KB signed (two SHA-256 and HMAC chains) per case: fewer cases.
    #![proptest_config(config(500))]

    /// Signed (chunks of 8 KiB or more but the last), with or without trailers.
    #[test]
    fn signed_round_trip(
        body in body(40_000),
        sizes in prop::collection::vec(8192usize..20_000, 1..3),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
        trailers in trailers(),
    ) {
        let s = signer();
        let encoded = encode(&body, &sizes, Some(&s), &trailers);
        let (data, got) = decode(&encoded, &cuts, Some(s), !trailers.is_empty()).unwrap();
        prop_assert_eq!(data, body);
        prop_assert_eq!(got, trailers);
    }
}
