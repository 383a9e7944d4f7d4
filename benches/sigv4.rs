//! Cost of authenticating one request: `sealstore::auth::verify` on realistic SigV4-signed heads.
//!
//! Run: `cargo bench --bench sigv4` (about 25 s; results also land in `target/criterion/`).
//! `cargo test --all-targets` runs every benchmark once, as a smoke test.
//!
//! Requests are signed once, in setup, with the `aws-sigv4` crate (S3 settings: single percent
//! encoding, no path normalisation, `x-amz-content-sha256`) at a fixed time; `AuthContext::now` is
//! that signing time, so the 15-minute skew check passes. Each iteration verifies the same
//! `http::request::Parts`: parse the Authorization header (or query), look up the secret,
//! canonicalise, derive the signing key (4 HMAC-SHA256), sign and compare.
//!
//! Groups:
//! - `sigv4_verify`: a boto3-like PutObject head (host, content-type, content-length, content-md5,
//!   `x-amz-checksum-crc32`, `x-amz-sdk-checksum-algorithm`, x-amz-date, x-amz-content-sha256,
//!   user-agent) with `UNSIGNED-PAYLOAD` and with a hex payload hash; a presigned GET URL; the head
//!   of an aws-chunked upload (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: the seed signature, plus the
//!   chunk signer `verify` derives for the body) and of a `STREAMING-UNSIGNED-PAYLOAD-TRAILER` one;
//! - `sigv4_parts`: the pieces — the signing-key derivation and one HMAC signature over a string to
//!   sign (`sealstore::auth::{signing_key, v4_signature}`), and one aws-chunked chunk signature
//!   (`ChunkSigner::chunk_signature`, paid per chunk of a signed streaming body).

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::request::Parts;
use sealstore::auth::{AuthContext, CredentialStore, PayloadCheck, signing_key, v4_signature};
use sealstore::config::Config;
use sha2::{Digest, Sha256};

const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const HOST: &str = "127.0.0.1:9000";
const PATH: &str = "/bench-bucket/photos/2025/06/15/IMG_0042.jpg";
/// 2025-06-15T12:26:40Z.
const SIGNING_SECS: u64 = 1_749_990_400;

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

fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(SIGNING_SECS)
}

fn s3_settings() -> SigningSettings {
    let mut s = SigningSettings::default();
    s.percent_encoding_mode = PercentEncodingMode::Single;
    s.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    s.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    s
}

/// Signs `method PATH` with `headers` in the Authorization header; returns the request head.
fn header_signed(method: &str, headers: &[(&str, &str)], body: SignableBody<'_>) -> Parts {
    let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
    let params = ok(v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(signing_time())
        .settings(s3_settings())
        .build())
    .into();
    let url = format!("http://{HOST}{PATH}");
    let req = ok(SignableRequest::new(
        method,
        &url,
        headers.iter().copied(),
        body,
    ));
    let (instructions, _) = ok(sign(req, &params)).into_parts();
    let mut b = http::Request::builder().method(method).uri(PATH);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    for (k, v) in instructions.headers() {
        b = b.header(k, v);
    }
    ok(b.body(())).into_parts().0
}

/// A presigned GET of PATH (expires in an hour), as `generate_presigned_url` / the SDK presigner.
fn presigned_get() -> Parts {
    let identity = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench").into();
    let mut settings = s3_settings();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    settings.expires_in = Some(Duration::from_secs(3600));
    let params = ok(v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(signing_time())
        .settings(settings)
        .build())
    .into();
    let url = format!("http://{HOST}{PATH}");
    let headers = [("host", HOST)];
    let req = ok(SignableRequest::new(
        "GET",
        &url,
        headers.into_iter(),
        SignableBody::UnsignedPayload,
    ));
    let (instructions, _) = ok(sign(req, &params)).into_parts();
    const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let query: Vec<String> = instructions
        .params()
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                percent_encoding::utf8_percent_encode(v, QUERY_VALUE)
            )
        })
        .collect();
    let uri = format!("{PATH}?{}", query.join("&"));
    ok(http::Request::builder()
        .method("GET")
        .uri(uri)
        .header("host", HOST)
        .header("user-agent", "Mozilla/5.0")
        .body(()))
    .into_parts()
    .0
}

fn verify(c: &mut Criterion) {
    let creds = ok(Config::credentials_from(ACCESS_KEY, SECRET_KEY, &[]));
    let ctx = AuthContext {
        credentials: &creds,
        virtual_host_bucket: None,
        now: signing_time(),
        sessions: None,
    };

    let body = vec![0x5au8; 1024 * 1024];
    let md5 = {
        use base64::Engine;
        use md5::Md5;
        base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body))
    };
    let crc32 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&body).to_be_bytes())
    };
    let length = body.len().to_string();
    let put_headers = [
        ("host", HOST),
        ("content-type", "image/jpeg"),
        ("content-length", length.as_str()),
        ("content-md5", md5.as_str()),
        ("x-amz-checksum-crc32", crc32.as_str()),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
        (
            "user-agent",
            "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8 md/arch#x86_64 lang/python#3.12.3",
        ),
    ];
    let put_unsigned = header_signed("PUT", &put_headers, SignableBody::UnsignedPayload);
    let put_signed = header_signed("PUT", &put_headers, SignableBody::Bytes(&body));
    let presigned = presigned_get();

    // 16 chunks of 64 KiB ("10000;chunk-signature=<64 hex>\r\n" ... "\r\n") and the final empty one.
    let encoded_length = (body.len() + 16 * 90 + 86).to_string();
    let streaming_headers = [
        ("host", HOST),
        ("content-type", "image/jpeg"),
        ("content-encoding", "aws-chunked"),
        ("content-length", encoded_length.as_str()),
        ("x-amz-decoded-content-length", length.as_str()),
    ];
    let streaming_signed = header_signed(
        "PUT",
        &streaming_headers,
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
    );
    let trailer_headers = [
        ("host", HOST),
        ("content-type", "image/jpeg"),
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", length.as_str()),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-sdk-checksum-algorithm", "CRC32"),
    ];
    let streaming_unsigned_trailer = header_signed(
        "PUT",
        &trailer_headers,
        SignableBody::StreamingUnsignedPayloadTrailer,
    );

    // Every head verifies, and says what the body must prove, before anything is timed.
    let check = |parts: &Parts, what: fn(&PayloadCheck) -> bool| {
        let v = ok(sealstore::auth::verify(parts, &ctx));
        assert!(what(&v.payload), "unexpected payload check {:?}", v.payload);
    };
    check(&put_unsigned, |p| matches!(p, PayloadCheck::Unsigned));
    check(&put_signed, |p| matches!(p, PayloadCheck::Sha256(_)));
    check(&presigned, |p| matches!(p, PayloadCheck::Unsigned));
    check(&streaming_signed, |p| {
        matches!(
            p,
            PayloadCheck::Streaming {
                signer: Some(_),
                trailer: false
            }
        )
    });
    check(&streaming_unsigned_trailer, |p| {
        matches!(
            p,
            PayloadCheck::Streaming {
                signer: None,
                trailer: true
            }
        )
    });

    let mut g = c.benchmark_group("sigv4_verify");
    g.throughput(Throughput::Elements(1));
    for (name, parts) in [
        ("put_header_unsigned_payload", &put_unsigned),
        ("put_header_signed_payload_sha256", &put_signed),
        ("get_presigned_query", &presigned),
        ("put_streaming_signed_seed", &streaming_signed),
        (
            "put_streaming_unsigned_trailer",
            &streaming_unsigned_trailer,
        ),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(ok(sealstore::auth::verify(black_box(parts), &ctx))))
        });
    }
    g.finish();
}

fn pieces(c: &mut Criterion) {
    let mut g = c.benchmark_group("sigv4_parts");
    g.throughput(Throughput::Elements(1));
    g.bench_function("signing_key_derivation", |b| {
        b.iter(|| {
            black_box(ok(signing_key(
                black_box(SECRET_KEY),
                "20250615",
                "us-east-1",
                "s3",
            )))
        })
    });
    let key = ok(signing_key(SECRET_KEY, "20250615", "us-east-1", "s3"));
    let sts = format!(
        "AWS4-HMAC-SHA256\n20250615T122640Z\n20250615/us-east-1/s3/aws4_request\n{}",
        hex::encode(Sha256::digest(b"a canonical request"))
    );
    g.bench_function("hmac_signature_of_string_to_sign", |b| {
        b.iter(|| black_box(v4_signature(key.as_ref(), black_box(&sts))))
    });

    // The chunk signer `verify` returns for a signed aws-chunked upload.
    let creds: CredentialStore = ok(Config::credentials_from(ACCESS_KEY, SECRET_KEY, &[]));
    let ctx = AuthContext {
        credentials: &creds,
        virtual_host_bucket: None,
        now: signing_time(),
        sessions: None,
    };
    let parts = header_signed(
        "PUT",
        &[
            ("host", HOST),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "65536"),
        ],
        SignableBody::Precomputed("STREAMING-AWS4-HMAC-SHA256-PAYLOAD".into()),
    );
    let signer = match ok(sealstore::auth::verify(&parts, &ctx)).payload {
        PayloadCheck::Streaming {
            signer: Some(s), ..
        } => s,
        other => panic!("expected a chunk signer, got {other:?}"),
    };
    let chunk_sha = hex::encode(Sha256::digest(vec![0u8; 64 * 1024]));
    let seed = signer.seed().to_string();
    g.bench_function("aws_chunked_chunk_signature", |b| {
        b.iter(|| black_box(signer.chunk_signature(black_box(&seed), &chunk_sha)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify, pieces
}
criterion_main!(benches);
