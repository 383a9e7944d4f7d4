//! aws-sdk-s3 against multipart uploads (issue 7): FULL_OBJECT CRC32 and CRC64NVME uploads whose
//! object checksum is the CRC of all bytes, COMPOSITE CRC32C and SHA256 uploads (the checksum of
//! the part checksums, `-3`), the Complete checksum errors, SSE-KMS and SSE-C multipart objects
//! read whole, by part number and by ranges spanning parts, every error of the part API with its
//! exact code and status, and no plaintext on disk for completed and in-progress uploads.
//!
//! Expected checksums are computed here with crc32fast / crc32c / crc64fast-nvme / sha2.

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::upload_part::builders::UploadPartFluentBuilder;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::builders::CompletedPartBuilder;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
    ServerSideEncryption,
};
use base64::Engine;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::common::*;

const MIB: usize = 1024 * 1024;
const KMS_ID: &str = "testkey-1";
/// The three parts of most uploads here: 5 MiB, 5 MiB, 1 MiB + 7 bytes.
const SIZES: [usize; 3] = [5 * MIB, 5 * MIB, MIB + 7];
/// A string that must never reach the disk in plaintext.
pub(crate) const MARKER: &[u8] = b"<<sealstore-PLAINTEXT-marker:7f3a9c>>";

pub(crate) fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn crc32_raw(d: &[u8]) -> Vec<u8> {
    crc32fast::hash(d).to_be_bytes().to_vec()
}

fn crc32c_raw(d: &[u8]) -> Vec<u8> {
    crc32c::crc32c(d).to_be_bytes().to_vec()
}

fn crc64nvme_raw(d: &[u8]) -> Vec<u8> {
    let mut h = crc64fast_nvme::Digest::new();
    h.write(d);
    h.sum64().to_be_bytes().to_vec()
}

fn sha256_raw(d: &[u8]) -> Vec<u8> {
    Sha256::digest(d).to_vec()
}

/// The raw checksum of `alg` over `d`.
pub(crate) fn raw_checksum(alg: &ChecksumAlgorithm, d: &[u8]) -> Vec<u8> {
    match alg {
        ChecksumAlgorithm::Crc32 => crc32_raw(d),
        ChecksumAlgorithm::Crc32C => crc32c_raw(d),
        ChecksumAlgorithm::Crc64Nvme => crc64nvme_raw(d),
        ChecksumAlgorithm::Sha256 => sha256_raw(d),
        ChecksumAlgorithm::Sha1 => {
            use sha1::Digest as _;
            sha1::Sha1::digest(d).to_vec()
        }
        other => panic!("no oracle for {other:?}"),
    }
}

pub(crate) fn checksum(alg: &ChecksumAlgorithm, d: &[u8]) -> String {
    b64(&raw_checksum(alg, d))
}

/// UploadPart with the part's checksum of `alg` given explicitly.
pub(crate) fn part_checksum(
    req: UploadPartFluentBuilder,
    alg: &ChecksumAlgorithm,
    value: String,
) -> UploadPartFluentBuilder {
    match alg {
        ChecksumAlgorithm::Crc32 => req.checksum_crc32(value),
        ChecksumAlgorithm::Crc32C => req.checksum_crc32_c(value),
        ChecksumAlgorithm::Crc64Nvme => req.checksum_crc64_nvme(value),
        ChecksumAlgorithm::Sha1 => req.checksum_sha1(value),
        ChecksumAlgorithm::Sha256 => req.checksum_sha256(value),
        other => panic!("unexpected algorithm {other:?}"),
    }
}

/// A CompletedPart with its checksum of `alg`.
pub(crate) fn completed_checksum(
    b: CompletedPartBuilder,
    alg: &ChecksumAlgorithm,
    value: String,
) -> CompletedPartBuilder {
    match alg {
        ChecksumAlgorithm::Crc32 => b.checksum_crc32(value),
        ChecksumAlgorithm::Crc32C => b.checksum_crc32_c(value),
        ChecksumAlgorithm::Crc64Nvme => b.checksum_crc64_nvme(value),
        ChecksumAlgorithm::Sha1 => b.checksum_sha1(value),
        ChecksumAlgorithm::Sha256 => b.checksum_sha256(value),
        other => panic!("unexpected algorithm {other:?}"),
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

/// A body of `len` bytes whose every 64-byte block starts with [`MARKER`].
pub(crate) fn marked(len: usize, seed: u8) -> Vec<u8> {
    let noise = pattern(len, seed);
    let mut out = Vec::with_capacity(len);
    for (i, chunk) in noise.chunks(64).enumerate() {
        let start = out.len();
        out.extend_from_slice(chunk);
        if i % 2 == 0 {
            let n = MARKER.len().min(chunk.len());
            out[start..start + n].copy_from_slice(&MARKER[..n]);
        }
    }
    out
}

/// The three parts of [`SIZES`], distinct per seed.
fn three_parts(seed: u8) -> Vec<Vec<u8>> {
    SIZES
        .iter()
        .enumerate()
        .map(|(i, n)| pattern(*n, seed.wrapping_mul(3).wrapping_add(i as u8)))
        .collect()
}

/// `"<hex md5 of the concatenated part MD5s>-<n>"`: the ETag of an SSE-S3 multipart object.
fn multipart_etag(parts: &[Vec<u8>]) -> String {
    let mut h = Md5::new();
    for p in parts {
        h.update(Md5::digest(p));
    }
    format!("\"{}-{}\"", hex::encode(h.finalize()), parts.len())
}

/// SSE-C request headers: (base64 key, base64 MD5 of the key).
#[derive(Clone, Debug)]
struct CustomerKey {
    key: String,
    md5: String,
}

fn customer_key(seed: u8) -> CustomerKey {
    let raw: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(11).wrapping_add(seed))
        .collect();
    CustomerKey {
        key: b64(&raw),
        md5: b64(&Md5::digest(&raw)),
    }
}

/// How the parts of an upload are sent.
#[derive(Clone, Debug, Default)]
struct PartOpts {
    /// Send this checksum of each part (and repeat it in the Complete list).
    alg: Option<ChecksumAlgorithm>,
    ssec: Option<CustomerKey>,
}

/// Uploads `parts` as parts 1..=n and returns the CompletedPart list for them.
async fn upload_parts(
    c: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[Vec<u8>],
    opts: &PartOpts,
) -> Vec<CompletedPart> {
    let mut done = Vec::new();
    for (i, data) in parts.iter().enumerate() {
        let n = i as i32 + 1;
        let mut req = c
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(n)
            .body(ByteStream::from(data.clone()));
        if let Some(alg) = &opts.alg {
            req = part_checksum(req, alg, checksum(alg, data));
        }
        if let Some(k) = &opts.ssec {
            req = req
                .sse_customer_algorithm("AES256")
                .sse_customer_key(&k.key)
                .sse_customer_key_md5(&k.md5);
        }
        let out = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload part {n} of {key}: {e:?}"));
        let etag = out.e_tag().expect("UploadPart returns an ETag").to_string();
        let mut part = CompletedPart::builder().part_number(n).e_tag(etag);
        if let Some(alg) = &opts.alg {
            let want = checksum(alg, data);
            assert_eq!(
                checksum_of!(out, alg),
                Some(want.as_str()),
                "part {n} of {key}"
            );
            part = completed_checksum(part, alg, want);
        }
        done.push(part.build());
    }
    done
}

fn completed(parts: Vec<CompletedPart>) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(parts))
        .build()
}

async fn create(
    c: &Client,
    bucket: &str,
    key: &str,
    alg: Option<ChecksumAlgorithm>,
    kind: Option<ChecksumType>,
) -> String {
    let out = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .set_checksum_algorithm(alg.clone())
        .set_checksum_type(kind.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("create upload {key}: {e:?}"));
    assert_eq!(out.checksum_algorithm(), alg.as_ref(), "{key}");
    if alg.is_some() {
        let want = kind.clone().unwrap_or(match alg {
            Some(ChecksumAlgorithm::Crc64Nvme) => ChecksumType::FullObject,
            _ => ChecksumType::Composite,
        });
        assert_eq!(out.checksum_type(), Some(&want), "{key}");
    }
    out.upload_id().expect("an upload id").to_string()
}

async fn body_of(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body
        .collect()
        .await
        .expect("read body")
        .into_bytes()
        .to_vec()
}

fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A short, readable diff for large bodies.
#[track_caller]
fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: got {} bytes, want {}; first difference at byte {first}",
            got.len(),
            want.len()
        );
    }
}

async fn get_object_status(c: &Client, b: &str, k: &str) -> u16 {
    match c.get_object().bucket(b).key(k).send().await {
        Ok(_) => 200,
        Err(e) => e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
    }
}

fn server_with_kms_and_ssec() -> Server {
    Server::start_with(
        Options::default()
            .args(&["--kms-key", KMS_ID])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    )
}

/// Does `needle` occur in `hay`? (std's substring search is optimised even in debug builds;
/// ASCII bytes survive the lossy UTF-8 conversion unchanged.)
pub(crate) fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    let needle = std::str::from_utf8(needle).expect("ASCII needle");
    const CHUNK: usize = 4 * MIB;
    let mut start = 0;
    while start < hay.len() {
        let end = (start + CHUNK + needle.len()).min(hay.len());
        if String::from_utf8_lossy(&hay[start..end]).contains(needle) {
            return true;
        }
        start += CHUNK;
    }
    false
}

/// Every file under `dir` (relative path) that contains `needle`, and how many bytes were read.
pub(crate) fn files_containing(dir: &std::path::Path, needle: &[u8]) -> (Vec<String>, u64) {
    let mut hits = Vec::new();
    let mut total = 0u64;
    for rel in files_under(dir) {
        let path = dir.join(&rel);
        // A file may vanish while a live server frees it.
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        total += bytes.len() as u64;
        if contains_bytes(&bytes, needle) {
            hits.push(rel.display().to_string());
        }
    }
    (hits, total)
}

// Declared last: the children use the checksum macros above (textual scope).
mod attributes;
mod checksums;
mod on_disk;
mod part_errors;
mod sse;
