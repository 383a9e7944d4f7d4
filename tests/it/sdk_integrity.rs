//! aws-sdk-s3 on its default checksum settings against body integrity (issue 4): uploads of
//! 0 B, 1 B, 64 KiB ± 1 and 20 MiB from memory and from a file, explicit checksum algorithms,
//! `checksum_mode(Enabled)` GETs (the SDK validates the returned checksum while reading), the
//! CRC64NVME stored when no checksum is sent, and refused digests that leave the old object alone.
//!
//! Expected checksum values are computed here with crc32fast / crc32c / crc64fast-nvme / sha1 /
//! sha2, each checked first against its published check value for "123456789".

use std::sync::{Arc, Mutex};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{
    ConfigBag, Intercept, RequestChecksumCalculation, ResponseChecksumValidation, RuntimeComponents,
};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
use base64::Engine;
use sha2::Digest;

use crate::common::*;

const SIZES: [usize; 6] = [0, 1, 65535, 65536, 65537, 20 << 20];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn crc32(d: &[u8]) -> String {
    b64(&crc32fast::hash(d).to_be_bytes())
}

fn crc32c(d: &[u8]) -> String {
    b64(&crc32c::crc32c(d).to_be_bytes())
}

fn crc64nvme(d: &[u8]) -> String {
    let mut h = crc64fast_nvme::Digest::new();
    h.write(d);
    b64(&h.sum64().to_be_bytes())
}

fn sha1(d: &[u8]) -> String {
    b64(&sha1::Sha1::digest(d))
}

fn sha256(d: &[u8]) -> String {
    b64(&sha2::Sha256::digest(d))
}

fn expected(alg: &ChecksumAlgorithm, d: &[u8]) -> String {
    match alg {
        ChecksumAlgorithm::Crc32 => crc32(d),
        ChecksumAlgorithm::Crc32C => crc32c(d),
        ChecksumAlgorithm::Crc64Nvme => crc64nvme(d),
        ChecksumAlgorithm::Sha1 => sha1(d),
        ChecksumAlgorithm::Sha256 => sha256(d),
        other => panic!("no test oracle for {other:?}"),
    }
}

/// The checksum of `alg` from any output with the five `checksum_*` accessors.
macro_rules! checksum_of {
    ($out:expr, $alg:expr) => {
        match $alg {
            ChecksumAlgorithm::Crc32 => $out.checksum_crc32(),
            ChecksumAlgorithm::Crc32C => $out.checksum_crc32_c(),
            ChecksumAlgorithm::Crc64Nvme => $out.checksum_crc64_nvme(),
            ChecksumAlgorithm::Sha1 => $out.checksum_sha1(),
            ChecksumAlgorithm::Sha256 => $out.checksum_sha256(),
            other => panic!("unexpected algorithm {other:?}"),
        }
    };
}

/// Every checksum accessor that is set on an output, as (algorithm name, value).
macro_rules! all_checksums {
    ($out:expr) => {{
        let mut v: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("CRC32", $out.checksum_crc32()),
            ("CRC32C", $out.checksum_crc32_c()),
            ("CRC64NVME", $out.checksum_crc64_nvme()),
            ("SHA1", $out.checksum_sha1()),
            ("SHA256", $out.checksum_sha256()),
        ] {
            if let Some(value) = value {
                v.push((name, value.to_string()));
            }
        }
        v
    }};
}

fn sha256_hex(d: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(d))
}

/// Records the `x-amz-content-sha256` and `content-encoding` of every request the client sends,
/// to show which body encodings the SDK's defaults exercised.
#[derive(Debug, Clone, Default)]
struct SentHeaders(Arc<Mutex<Vec<(String, String)>>>);

impl Intercept for SentHeaders {
    fn name(&self) -> &'static str {
        "SentHeaders"
    }
    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let h = context.request().headers();
        let get = |n: &str| h.get(n).unwrap_or("").to_string();
        if let Ok(mut v) = self.0.lock() {
            v.push((get("x-amz-content-sha256"), get("content-encoding")));
        }
        Ok(())
    }
}

impl SentHeaders {
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// The harness client (default checksum settings) with a [`SentHeaders`] recorder.
fn recording_client(server: &Server) -> (Client, SentHeaders) {
    let rec = SentHeaders::default();
    let conf = server
        .client()
        .config()
        .to_builder()
        .interceptor(rec.clone())
        .build();
    (Client::from_conf(conf), rec)
}

async fn get_checked(s3: &Client, bucket: &str, key: &str, want: &[u8]) {
    let got = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    assert_eq!(got.content_length(), Some(want.len() as i64), "{key}");
    assert_eq!(
        got.checksum_type(),
        Some(&ChecksumType::FullObject),
        "{key}"
    );
    // Collecting makes the SDK validate the returned checksum against the bytes.
    let bytes = got.body.collect().await.expect("read body").into_bytes();
    assert_eq!(bytes.len(), want.len(), "{key}");
    assert_eq!(sha256_hex(&bytes), sha256_hex(want), "{key}");
}

#[test]
fn oracle_check_values() {
    let d = b"123456789";
    assert_eq!(crc32(d), b64(&0xCBF4_3926u32.to_be_bytes()));
    assert_eq!(crc32c(d), b64(&0xE306_9283u32.to_be_bytes()));
    assert_eq!(crc64nvme(d), b64(&0xAE8B_1486_0A79_9888u64.to_be_bytes()));
    assert_eq!(
        sha1(d),
        b64(&hex::decode("f7c3bc1d808e04732adf679965ccc34ca7ae3441").unwrap())
    );
    assert_eq!(
        sha256(d),
        b64(
            &hex::decode("15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225")
                .unwrap()
        )
    );
    assert_eq!(crc64nvme(b"hello world\n"), "D3gOhIHSoh8=");
}

#[tokio::test(flavor = "multi_thread")]
async fn default_settings_upload_and_download_every_size() {
    let server = Server::start(&[]);
    let (s3, sent) = recording_client(&server);
    let b = new_bucket(&s3, "sizes").await;
    let dir = tempfile::tempdir().unwrap();
    let mut encodings = std::collections::BTreeSet::new();
    for (i, size) in SIZES.into_iter().enumerate() {
        let data = pattern(size, i as u8);
        // From memory.
        let key = format!("mem-{size}");
        sent.take();
        let put = s3
            .put_object()
            .bucket(&b)
            .key(&key)
            .body(data.clone().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
        encodings.extend(sent.take());
        assert_eq!(put.e_tag(), Some(etag_of(&data).as_str()), "{key}");
        // The SDK's default request checksum is CRC32, stored and echoed as sent.
        assert_eq!(all_checksums!(put), vec![("CRC32", crc32(&data))], "{key}");
        assert_eq!(put.checksum_type(), Some(&ChecksumType::FullObject));
        get_checked(&s3, &b, &key, &data).await;
        // A plain default GET (the SDK asks for the checksum when it can validate it).
        assert_eq!(get_bytes(&s3, &b, &key).await.len(), size);

        // From a file (a streaming body of known length).
        let path = dir.path().join(format!("f{size}"));
        std::fs::write(&path, &data).unwrap();
        let key = format!("file-{size}");
        let put = s3
            .put_object()
            .bucket(&b)
            .key(&key)
            .body(ByteStream::from_path(&path).await.unwrap())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
        encodings.extend(sent.take());
        assert_eq!(put.e_tag(), Some(etag_of(&data).as_str()), "{key}");
        assert_eq!(put.checksum_crc32(), Some(crc32(&data).as_str()), "{key}");
        get_checked(&s3, &b, &key, &data).await;
    }
    // In-memory bodies go out with a hex payload hash; file bodies as aws-chunked with a CRC32
    // trailer (aws-sdk-s3 1.96 over plain HTTP): both decoders were exercised.
    let chunked = (
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_string(),
        "aws-chunked".to_string(),
    );
    assert!(
        encodings.contains(&chunked),
        "no aws-chunked upload among {encodings:?}"
    );
    assert!(
        encodings
            .iter()
            .any(|(sha, enc)| sha.len() == 64 && enc.is_empty()),
        "no plain signed upload among {encodings:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_checksum_algorithms() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "algs").await;
    let algs = [
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Sha256,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Sha1,
    ];
    for (n, alg) in algs.iter().enumerate() {
        let sizes: &[usize] = if n < 3 {
            &[0, 1, 65537, 20 << 20]
        } else {
            &[0, 65537]
        };
        for &size in sizes {
            let data = pattern(size, 40 + n as u8);
            let key = format!("{}-{size}", alg.as_str());
            let want = expected(alg, &data);
            let put = s3
                .put_object()
                .bucket(&b)
                .key(&key)
                .body(data.clone().into())
                .checksum_algorithm(alg.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
            assert_eq!(checksum_of!(put, alg), Some(want.as_str()), "{key}");
            assert_eq!(all_checksums!(put).len(), 1, "{key}: one checksum echoed");
            get_checked(&s3, &b, &key, &data).await;
            let got = s3
                .get_object()
                .bucket(&b)
                .key(&key)
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .unwrap();
            assert_eq!(checksum_of!(got, alg), Some(want.as_str()), "{key}");
            let head = s3
                .head_object()
                .bucket(&b)
                .key(&key)
                .checksum_mode(ChecksumMode::Enabled)
                .send()
                .await
                .unwrap();
            assert_eq!(all_checksums!(head), vec![(alg.as_str(), want.clone())]);
            assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_checksum_sent_stores_crc64nvme_and_ranges_return_none() {
    let server = Server::start(&[]);
    let quiet = Client::from_conf(
        server
            .client()
            .config()
            .to_builder()
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build(),
    );
    let b = new_bucket(&quiet, "nvme").await;
    let data = pattern(100_000, 7);
    let put = quiet
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .send()
        .await
        .unwrap();
    assert_eq!(all_checksums!(put), vec![("CRC64NVME", crc64nvme(&data))]);

    // Without checksum mode, no checksum comes back.
    let plain = quiet.get_object().bucket(&b).key("k").send().await.unwrap();
    assert!(all_checksums!(plain).is_empty());
    assert_eq!(plain.checksum_type(), None);
    // With it, the stored CRC64NVME; but not for a range.
    let head = quiet
        .head_object()
        .bucket(&b)
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(all_checksums!(head), vec![("CRC64NVME", crc64nvme(&data))]);
    let s3 = server.client();
    let ranged = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .range("bytes=10-1009")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert!(all_checksums!(ranged).is_empty());
    assert_eq!(ranged.checksum_type(), None);
    let bytes = ranged.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], &data[10..1010]);
    get_checked(&s3, &b, "k", &data).await;

    // A copy keeps the source's algorithm, or computes the one asked for.
    let copy = s3
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/k"))
        .send()
        .await
        .unwrap();
    let result = copy.copy_object_result().expect("CopyObjectResult");
    assert_eq!(
        all_checksums!(result),
        vec![("CRC64NVME", crc64nvme(&data))]
    );
    let copy = s3
        .copy_object()
        .bucket(&b)
        .key("copy-sha256")
        .copy_source(format!("{b}/k"))
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .unwrap();
    let result = copy.copy_object_result().expect("CopyObjectResult");
    assert_eq!(all_checksums!(result), vec![("SHA256", sha256(&data))]);
    get_checked(&s3, &b, "copy-sha256", &data).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_digests_keep_the_old_object() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "refused").await;
    let old = pattern(5000, 1);
    put(&s3, &b, "k", old.clone()).await;
    let data = pattern(70_000, 2);

    // A checksum value given by the caller is sent as is.
    let res = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .checksum_crc32_c(crc32c(b"other bytes"))
        .send()
        .await;
    assert_err(res, "BadDigest", 400);
    let res = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .checksum_sha256(sha256(&data[1..]))
        .send()
        .await;
    assert_err(res, "BadDigest", 400);
    let res = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .content_md5(b64(&md5::Md5::digest(b"other bytes")))
        .send()
        .await;
    assert_err(res, "BadDigest", 400);
    let res = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .content_md5("MTIz")
        .send()
        .await;
    assert_err(res, "InvalidDigest", 400);
    assert_eq!(get_bytes(&s3, &b, "k").await, old);

    // The right values are accepted.
    let put = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(data.clone().into())
        .checksum_crc32_c(crc32c(&data))
        .content_md5(b64(&md5::Md5::digest(&data)))
        .send()
        .await
        .unwrap();
    assert_eq!(put.checksum_crc32_c(), Some(crc32c(&data).as_str()));
    get_checked(&s3, &b, "k", &data).await;
}
