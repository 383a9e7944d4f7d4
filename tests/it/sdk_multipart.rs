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

/// How a FULL_OBJECT test completes its upload.
#[derive(Clone, Copy, PartialEq, Debug)]
enum WholeChecksum {
    /// Neither `x-amz-checksum-<alg>` nor `x-amz-checksum-type` on the Complete.
    None,
    /// Only `x-amz-checksum-type: FULL_OBJECT`.
    TypeOnly,
    /// The CRC of the whole object and `x-amz-checksum-type: FULL_OBJECT`.
    ValueAndType,
}

/// A 3-part FULL_OBJECT upload of `alg`: the Complete and the checksum-mode GET report the CRC
/// of all bytes as FULL_OBJECT, and the body reads back byte for byte.
async fn full_object_case(
    alg: ChecksumAlgorithm,
    explicit_type: Option<ChecksumType>,
    whole_checksum: WholeChecksum,
    seed: u8,
) {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "mpu-full").await;
    let key = format!("full-{}", alg.as_str());
    let parts = three_parts(seed);
    let whole = concat(&parts);
    let id = create(&c, &b, &key, Some(alg.clone()), explicit_type.clone()).await;

    // Listed while in progress, with its algorithm and type.
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .prefix(&key)
        .send()
        .await
        .expect("list uploads");
    let listed = uploads.uploads();
    assert_eq!(listed.len(), 1, "{key}");
    assert_eq!(listed[0].upload_id(), Some(id.as_str()));
    assert_eq!(listed[0].checksum_algorithm(), Some(&alg));
    assert_eq!(listed[0].checksum_type(), Some(&ChecksumType::FullObject));

    let opts = PartOpts {
        alg: Some(alg.clone()),
        ssec: None,
    };
    let done = upload_parts(&c, &b, &key, &id, &parts, &opts).await;

    // ListParts: sizes, MD5 ETags (SSE-S3), part checksums.
    let lp = c
        .list_parts()
        .bucket(&b)
        .key(&key)
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    assert_eq!(lp.checksum_algorithm(), Some(&alg));
    assert_eq!(lp.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(lp.parts().len(), 3);
    for (p, data) in lp.parts().iter().zip(&parts) {
        assert_eq!(p.size(), Some(data.len() as i64));
        assert_eq!(p.e_tag(), Some(etag_of(data).as_str()));
        assert_eq!(
            checksum_of!(p, &alg),
            Some(checksum(&alg, data).as_str()),
            "listed part {:?}",
            p.part_number()
        );
    }

    let whole_sum = checksum(&alg, &whole);
    let mut req = c
        .complete_multipart_upload()
        .bucket(&b)
        .key(&key)
        .upload_id(&id)
        .multipart_upload(completed(done))
        .mpu_object_size(whole.len() as i64);
    if whole_checksum != WholeChecksum::None {
        req = req.checksum_type(ChecksumType::FullObject);
    }
    if whole_checksum == WholeChecksum::ValueAndType {
        // The client states the whole-object CRC; the server checks it.
        req = match alg {
            ChecksumAlgorithm::Crc32 => req.checksum_crc32(&whole_sum),
            ChecksumAlgorithm::Crc32C => req.checksum_crc32_c(&whole_sum),
            _ => req.checksum_crc64_nvme(&whole_sum),
        };
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete {key}: {e:?}"));
    assert_eq!(out.e_tag(), Some(multipart_etag(&parts).as_str()), "{key}");
    assert_eq!(
        all_checksums!(out),
        vec![(alg.as_str(), whole_sum.clone())],
        "{key}"
    );
    assert_eq!(out.checksum_type(), Some(&ChecksumType::FullObject));

    // The upload is gone.
    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .prefix(&key)
        .send()
        .await
        .expect("list uploads");
    assert!(uploads.uploads().is_empty(), "{key}");

    let got = c
        .get_object()
        .bucket(&b)
        .key(&key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    assert_eq!(got.content_length(), Some(whole.len() as i64));
    assert_eq!(got.e_tag(), Some(multipart_etag(&parts).as_str()));
    assert_eq!(all_checksums!(got), vec![(alg.as_str(), whole_sum.clone())]);
    assert_eq!(got.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(got.parts_count(), None, "no partNumber asked");
    // Collecting validates the FULL_OBJECT checksum in the SDK too.
    assert_same_bytes(&body_of(got).await, &whole, &key);

    let head = c
        .head_object()
        .bucket(&b)
        .key(&key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(all_checksums!(head), vec![(alg.as_str(), whole_sum)]);
    assert_eq!(head.content_length(), Some(whole.len() as i64));
}

/// As a client that knows the whole object's CRC32 sends it: `x-amz-checksum-crc32` (the CRC32
/// of all bytes) and `x-amz-checksum-type: FULL_OBJECT` on the Complete.
#[tokio::test(flavor = "multi_thread")]
async fn full_object_crc32_with_whole_checksum() {
    full_object_case(
        ChecksumAlgorithm::Crc32,
        Some(ChecksumType::FullObject),
        WholeChecksum::ValueAndType,
        1,
    )
    .await;
}

/// The same upload completed with only the checksum type: the server combines the part CRCs.
#[tokio::test(flavor = "multi_thread")]
async fn full_object_crc32_type_only() {
    full_object_case(
        ChecksumAlgorithm::Crc32,
        Some(ChecksumType::FullObject),
        WholeChecksum::TypeOnly,
        2,
    )
    .await;
}

/// CRC64NVME (FULL_OBJECT by default): the object checksum is the CRC64NVME of all bytes.
#[tokio::test(flavor = "multi_thread")]
async fn full_object_crc64nvme() {
    full_object_case(ChecksumAlgorithm::Crc64Nvme, None, WholeChecksum::None, 3).await;
}

/// CRC32C FULL_OBJECT with the whole-object value on the Complete.
#[tokio::test(flavor = "multi_thread")]
async fn full_object_crc32c_with_whole_checksum() {
    full_object_case(
        ChecksumAlgorithm::Crc32C,
        Some(ChecksumType::FullObject),
        WholeChecksum::ValueAndType,
        4,
    )
    .await;
}

/// A 3-part COMPOSITE upload of `alg`: the object checksum is the checksum of the raw part
/// checksums concatenated, with `-3`, and its type COMPOSITE. With `send_value`, the Complete
/// repeats that value (with its suffix) in `x-amz-checksum-<alg>`.
async fn composite_case(
    alg: ChecksumAlgorithm,
    explicit_type: Option<ChecksumType>,
    send_value: bool,
    seed: u8,
) {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "mpu-composite").await;
    let key = format!("composite-{}", alg.as_str());
    let parts = three_parts(seed);
    let whole = concat(&parts);
    let id = create(&c, &b, &key, Some(alg.clone()), explicit_type).await;
    let opts = PartOpts {
        alg: Some(alg.clone()),
        ssec: None,
    };
    let done = upload_parts(&c, &b, &key, &id, &parts, &opts).await;
    let raw_parts: Vec<u8> = parts.iter().flat_map(|p| raw_checksum(&alg, p)).collect();
    let want = format!("{}-3", b64(&raw_checksum(&alg, &raw_parts)));

    let mut req = c
        .complete_multipart_upload()
        .bucket(&b)
        .key(&key)
        .upload_id(&id)
        .multipart_upload(completed(done))
        .checksum_type(ChecksumType::Composite);
    if send_value {
        req = match alg {
            ChecksumAlgorithm::Crc32C => req.checksum_crc32_c(&want),
            _ => req.checksum_sha256(&want),
        };
    }
    let out = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete {key}: {e:?}"));
    assert_eq!(all_checksums!(out), vec![(alg.as_str(), want.clone())]);
    assert_eq!(out.checksum_type(), Some(&ChecksumType::Composite));

    let got = c
        .get_object()
        .bucket(&b)
        .key(&key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    assert_eq!(all_checksums!(got), vec![(alg.as_str(), want.clone())]);
    assert_eq!(got.checksum_type(), Some(&ChecksumType::Composite));
    assert_same_bytes(&body_of(got).await, &whole, &key);

    // A part of a COMPOSITE object carries its own checksum.
    let p2 = c
        .get_object()
        .bucket(&b)
        .key(&key)
        .part_number(2)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get part 2");
    assert_eq!(p2.parts_count(), Some(3));
    assert_eq!(
        checksum_of!(p2, &alg),
        Some(checksum(&alg, &parts[1]).as_str())
    );
    assert_same_bytes(&body_of(p2).await, &parts[1], "part 2");
}

#[tokio::test(flavor = "multi_thread")]
async fn composite_crc32c() {
    composite_case(
        ChecksumAlgorithm::Crc32C,
        Some(ChecksumType::Composite),
        false,
        10,
    )
    .await;
}

/// SHA256 uploads are COMPOSITE by default.
#[tokio::test(flavor = "multi_thread")]
async fn composite_sha256() {
    composite_case(ChecksumAlgorithm::Sha256, None, false, 11).await;
}

/// The composite value (`<base64>-3`) repeated on the Complete is accepted.
#[tokio::test(flavor = "multi_thread")]
async fn composite_crc32c_with_value_on_complete() {
    composite_case(
        ChecksumAlgorithm::Crc32C,
        Some(ChecksumType::Composite),
        true,
        12,
    )
    .await;
}

/// A wrong whole-object checksum is BadDigest, a different checksum type InvalidRequest, a
/// COMPOSITE Complete without a part's checksum InvalidRequest; each leaves the upload
/// completable.
#[tokio::test(flavor = "multi_thread")]
async fn complete_checksum_errors() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "mpu-cksum-err").await;

    // FULL_OBJECT CRC32.
    let parts = three_parts(20);
    let whole = concat(&parts);
    let id = create(
        &c,
        &b,
        "full",
        Some(ChecksumAlgorithm::Crc32),
        Some(ChecksumType::FullObject),
    )
    .await;
    let opts = PartOpts {
        alg: Some(ChecksumAlgorithm::Crc32),
        ssec: None,
    };
    let done = upload_parts(&c, &b, "full", &id, &parts, &opts).await;
    let complete = || {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("full")
            .upload_id(&id)
            .multipart_upload(completed(done.clone()))
    };
    let wrong = b64(&crc32_raw(&whole[1..]));
    assert_err(
        complete().checksum_crc32(&wrong).send().await,
        "BadDigest",
        400,
    );
    assert_err(
        complete()
            .checksum_type(ChecksumType::Composite)
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    // A wrong part checksum in the list is BadDigest too.
    let mut bad_list = done.clone();
    bad_list[1] = CompletedPart::builder()
        .part_number(2)
        .e_tag(done[1].e_tag().expect("etag"))
        .checksum_crc32(b64(&crc32_raw(b"not part two")))
        .build();
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("full")
            .upload_id(&id)
            .multipart_upload(completed(bad_list))
            .send()
            .await,
        "BadDigest",
        400,
    );
    assert_eq!(get_object_status(&c, &b, "full").await, 404, "nothing yet");
    // (Without the whole-object value: see full_object_crc32_with_whole_checksum.)
    let out = complete()
        .checksum_type(ChecksumType::FullObject)
        .send()
        .await
        .expect("complete after the refusals");
    assert_eq!(out.checksum_crc32(), Some(b64(&crc32_raw(&whole)).as_str()));
    assert_same_bytes(&get_bytes(&c, &b, "full").await, &whole, "full");

    // An upload created without an algorithm refuses a FULL_OBJECT Complete.
    let id = create(&c, &b, "plain", None, None).await;
    let small = vec![pattern(1000, 21)];
    let done_plain = upload_parts(&c, &b, "plain", &id, &small, &PartOpts::default()).await;
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("plain")
            .upload_id(&id)
            .multipart_upload(completed(done_plain.clone()))
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await,
        "InvalidRequest",
        400,
    );

    // COMPOSITE CRC32C: every part checksum must be in the list.
    let id = create(
        &c,
        &b,
        "composite",
        Some(ChecksumAlgorithm::Crc32C),
        Some(ChecksumType::Composite),
    )
    .await;
    let opts = PartOpts {
        alg: Some(ChecksumAlgorithm::Crc32C),
        ssec: None,
    };
    let done = upload_parts(&c, &b, "composite", &id, &parts, &opts).await;
    let mut missing = done.clone();
    missing[2] = CompletedPart::builder()
        .part_number(3)
        .e_tag(done[2].e_tag().expect("etag"))
        .build();
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("composite")
            .upload_id(&id)
            .multipart_upload(completed(missing))
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("composite")
            .upload_id(&id)
            .multipart_upload(completed(done.clone()))
            .checksum_type(ChecksumType::FullObject)
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    c.complete_multipart_upload()
        .bucket(&b)
        .key("composite")
        .upload_id(&id)
        .multipart_upload(completed(done))
        .send()
        .await
        .expect("complete composite");
    assert_same_bytes(&get_bytes(&c, &b, "composite").await, &whole, "composite");
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

/// Whole, part-number and cross-part range reads of a completed 3-part object.
async fn check_reads(
    c: &Client,
    b: &str,
    key: &str,
    parts: &[Vec<u8>],
    ssec: Option<&CustomerKey>,
) -> Vec<aws_sdk_s3::operation::get_object::GetObjectOutput> {
    let whole = concat(parts);
    let total = whole.len();
    let get = || {
        let mut g = c.get_object().bucket(b).key(key);
        if let Some(k) = ssec {
            g = g
                .sse_customer_algorithm("AES256")
                .sse_customer_key(&k.key)
                .sse_customer_key_md5(&k.md5);
        }
        g
    };
    let mut outs = Vec::new();

    let mut full = get().send().await.unwrap_or_else(|e| panic!("get: {e:?}"));
    assert_eq!(full.content_length(), Some(total as i64));
    let bytes = body_of_mut(&mut full).await;
    assert_same_bytes(&bytes, &whole, "whole object");
    outs.push(full);

    // partNumber=2: exactly the second part.
    let mut p2 = get()
        .part_number(2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get part 2: {e:?}"));
    let start = parts[0].len();
    let end = start + parts[1].len() - 1;
    assert_eq!(p2.parts_count(), Some(3));
    assert_eq!(p2.content_length(), Some(parts[1].len() as i64));
    assert_eq!(
        p2.content_range(),
        Some(format!("bytes {start}-{end}/{total}").as_str())
    );
    let bytes = body_of_mut(&mut p2).await;
    assert_same_bytes(&bytes, &parts[1], "part 2");
    outs.push(p2);

    // The last part and the first.
    let p3 = get().part_number(3).send().await.expect("get part 3");
    assert_eq!(p3.parts_count(), Some(3));
    assert_eq!(
        p3.content_range(),
        Some(format!("bytes {}-{}/{total}", total - parts[2].len(), total - 1).as_str())
    );
    assert_same_bytes(&body_of(p3).await, &parts[2], "part 3");
    let p1 = get().part_number(1).send().await.expect("get part 1");
    assert_same_bytes(&body_of(p1).await, &parts[0], "part 1");
    assert_err(get().part_number(4).send().await, "InvalidPartNumber", 416);

    // Ranges across part boundaries (and segment boundaries inside parts).
    let p1 = parts[0].len();
    let p12 = p1 + parts[1].len();
    for (first, last) in [
        (p1 - 100, p12 + 50),
        (1, total - 2),
        (p1 - 1, p1),
        (p12 - 1, p12),
        (p12, total - 1),
        (65_530, p12 + 65_540),
    ] {
        let mut r = get()
            .range(format!("bytes={first}-{last}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("range {first}-{last}: {e:?}"));
        assert_eq!(
            r.content_range(),
            Some(format!("bytes {first}-{last}/{total}").as_str())
        );
        assert_eq!(r.content_length(), Some((last - first + 1) as i64));
        let bytes = body_of_mut(&mut r).await;
        assert_same_bytes(
            &bytes,
            &whole[first..=last],
            &format!("range {first}-{last}"),
        );
    }
    // A suffix range in the last part.
    let r = get().range("bytes=-10").send().await.expect("suffix range");
    assert_same_bytes(&body_of(r).await, &whole[total - 10..], "suffix");
    outs
}

async fn body_of_mut(out: &mut aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    let body = std::mem::take(&mut out.body);
    body.collect()
        .await
        .expect("read body")
        .into_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_kms_multipart_round_trip() {
    let server = server_with_kms_and_ssec();
    let c = server.client();
    let b = new_bucket(&c, "mpu-kms").await;
    let arn = format!("arn:aws:kms:us-east-1:{DEFAULT_ACCOUNT}:key/{KMS_ID}");
    let parts = three_parts(30);
    let created = c
        .create_multipart_upload()
        .bucket(&b)
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(KMS_ID)
        .content_type("application/x-test")
        .metadata("owner", "me")
        .send()
        .await
        .expect("create SSE-KMS upload");
    assert_eq!(
        created.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(created.ssekms_key_id(), Some(arn.as_str()));
    let id = created.upload_id().expect("upload id").to_string();
    let done = upload_parts(&c, &b, "kms", &id, &parts, &PartOpts::default()).await;
    for (p, data) in done.iter().zip(&parts) {
        // SSE-KMS ETags are not the plaintext MD5.
        assert_ne!(p.e_tag(), Some(etag_of(data).as_str()));
    }
    let out = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("kms")
        .upload_id(&id)
        .multipart_upload(completed(done))
        .send()
        .await
        .expect("complete");
    assert_eq!(
        out.server_side_encryption(),
        Some(&ServerSideEncryption::AwsKms)
    );
    assert_eq!(out.ssekms_key_id(), Some(arn.as_str()));
    let etag = out.e_tag().expect("etag").to_string();
    assert!(etag.ends_with("-3\""), "{etag}");
    assert_ne!(etag, multipart_etag(&parts));

    for g in check_reads(&c, &b, "kms", &parts, None).await {
        assert_eq!(
            g.server_side_encryption(),
            Some(&ServerSideEncryption::AwsKms)
        );
        assert_eq!(g.ssekms_key_id(), Some(arn.as_str()));
        assert_eq!(g.e_tag(), Some(etag.as_str()));
        assert_eq!(g.content_type(), Some("application/x-test"));
        assert_eq!(
            g.metadata()
                .and_then(|m| m.get("owner"))
                .map(String::as_str),
            Some("me")
        );
    }

    // And after a restart (keys come from the data dir).
    let mut server = server;
    server.restart();
    let c = server.client();
    check_reads(&c, &b, "kms", &parts, None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sse_c_multipart_round_trip() {
    let server = server_with_kms_and_ssec();
    let c = server.client();
    let b = new_bucket(&c, "mpu-ssec").await;
    let k = customer_key(5);
    let other = customer_key(6);
    let parts = three_parts(40);
    let created = c
        .create_multipart_upload()
        .bucket(&b)
        .key("ssec")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.key)
        .sse_customer_key_md5(&k.md5)
        .send()
        .await
        .expect("create SSE-C upload");
    assert_eq!(created.sse_customer_algorithm(), Some("AES256"));
    assert_eq!(created.sse_customer_key_md5(), Some(k.md5.as_str()));
    let id = created.upload_id().expect("upload id").to_string();

    // A part without the key, or with another key, is refused.
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("ssec")
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(parts[0].clone()))
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("ssec")
            .upload_id(&id)
            .part_number(1)
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other.key)
            .sse_customer_key_md5(&other.md5)
            .body(ByteStream::from(parts[0].clone()))
            .send()
            .await,
        "InvalidRequest",
        400,
    );

    let opts = PartOpts {
        alg: None,
        ssec: Some(k.clone()),
    };
    let done = upload_parts(&c, &b, "ssec", &id, &parts, &opts).await;
    let out = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("ssec")
        .upload_id(&id)
        .multipart_upload(completed(done))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.key)
        .sse_customer_key_md5(&k.md5)
        .send()
        .await
        .expect("complete SSE-C");
    let etag = out.e_tag().expect("etag").to_string();
    assert!(etag.ends_with("-3\""), "{etag}");

    for g in check_reads(&c, &b, "ssec", &parts, Some(&k)).await {
        assert_eq!(g.sse_customer_algorithm(), Some("AES256"));
        assert_eq!(g.sse_customer_key_md5(), Some(k.md5.as_str()));
        assert_eq!(g.e_tag(), Some(etag.as_str()));
    }
    // Without the key, or with another, no byte comes back.
    assert_err(
        c.get_object().bucket(&b).key("ssec").send().await,
        "InvalidRequest",
        400,
    );
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("ssec")
            .part_number(2)
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other.key)
            .sse_customer_key_md5(&other.md5)
            .send()
            .await,
        "AccessDenied",
        403,
    );
}

/// A syntactically plausible upload id that was never issued.
const BOGUS_ID: &str = "0000000000000000000000000000000000000000dead";

#[tokio::test(flavor = "multi_thread")]
async fn part_api_error_codes() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "mpu-errors").await;
    let one_part = || {
        completed(vec![
            CompletedPart::builder()
                .part_number(1)
                .e_tag("\"00\"")
                .build(),
        ])
    };

    // NoSuchUpload (404) everywhere an upload id is named.
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .part_number(1)
            .body(ByteStream::from_static(b"data"))
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.abort_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .multipart_upload(one_part())
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // An upload id is bound to its key.
    let id = create(&c, &b, "k", None, None).await;
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("other-key")
            .upload_id(&id)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // Part numbers outside 1..=10000.
    for n in [0, 10_001, -1] {
        assert_err(
            c.upload_part()
                .bucket(&b)
                .key("k")
                .upload_id(&id)
                .part_number(n)
                .body(ByteStream::from_static(b"data"))
                .send()
                .await,
            "InvalidArgument",
            400,
        );
    }
    // 10000 itself is fine.
    c.upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(10_000)
        .body(ByteStream::from_static(b"last"))
        .send()
        .await
        .expect("part 10000");

    let parts = vec![pattern(5 * MIB, 50), pattern(100, 51)];
    let done = upload_parts(&c, &b, "k", &id, &parts, &PartOpts::default()).await;
    let etag1 = done[0].e_tag().expect("etag").to_string();
    let etag2 = done[1].e_tag().expect("etag").to_string();
    let complete = |list: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(completed(list))
            .send()
    };
    let part = |n: i32, etag: &str| CompletedPart::builder().part_number(n).e_tag(etag).build();

    // InvalidPart: a part never uploaded, or a wrong ETag.
    assert_err(
        complete(vec![part(1, &etag1), part(3, &etag2)]).await,
        "InvalidPart",
        400,
    );
    assert_err(
        complete(vec![part(1, &etag1), part(2, &etag1)]).await,
        "InvalidPart",
        400,
    );
    // InvalidPartOrder: descending, or repeated.
    assert_err(
        complete(vec![part(2, &etag2), part(1, &etag1)]).await,
        "InvalidPartOrder",
        400,
    );
    assert_err(
        complete(vec![part(1, &etag1), part(1, &etag1)]).await,
        "InvalidPartOrder",
        400,
    );
    // EntityTooSmall: a part other than the last under 5 MiB (part 2 is 100 bytes).
    assert_err(
        complete(vec![part(1, &etag1), part(2, &etag2), part(10_000, "")]).await,
        "InvalidPart",
        400,
    );
    let lp = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    let etag_last = lp
        .parts()
        .iter()
        .find(|p| p.part_number() == Some(10_000))
        .and_then(|p| p.e_tag())
        .expect("part 10000 listed")
        .to_string();
    assert_eq!(
        lp.parts()
            .iter()
            .map(|p| p.part_number().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![1, 2, 10_000]
    );
    assert_err(
        complete(vec![
            part(1, &etag1),
            part(2, &etag2),
            part(10_000, &etag_last),
        ])
        .await,
        "EntityTooSmall",
        400,
    );
    // Nothing was created by the refusals.
    assert_eq!(get_object_status(&c, &b, "k").await, 404);

    // A good list (parts may be skipped) completes; the skipped part is discarded.
    let out = complete(vec![part(1, &etag1), part(2, &etag2)])
        .await
        .expect("complete 1+2");
    assert_eq!(out.e_tag(), Some(multipart_etag(&parts).as_str()));
    assert_same_bytes(&get_bytes(&c, &b, "k").await, &concat(&parts), "k");
    // A retried Complete answers the same; the upload is otherwise gone.
    let again = complete(vec![part(1, &etag1), part(2, &etag2)])
        .await
        .expect("retried complete");
    assert_eq!(again.e_tag(), out.e_tag());
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .part_number(3)
            .body(ByteStream::from_static(b"late"))
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // Abort: 204, then NoSuchUpload.
    let id2 = create(&c, &b, "k2", None, None).await;
    upload_parts(&c, &b, "k2", &id2, &parts[..1], &PartOpts::default()).await;
    c.abort_multipart_upload()
        .bucket(&b)
        .key("k2")
        .upload_id(&id2)
        .send()
        .await
        .expect("abort");
    assert_err(
        c.abort_multipart_upload()
            .bucket(&b)
            .key("k2")
            .upload_id(&id2)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k2")
            .upload_id(&id2)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_eq!(get_object_status(&c, &b, "k2").await, 404);

    // GetObject partNumber outside 1..=10000.
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("k")
            .part_number(0)
            .send()
            .await,
        "InvalidArgument",
        400,
    );
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("k")
            .part_number(10_001)
            .send()
            .await,
        "InvalidArgument",
        400,
    );
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

#[test]
fn marker_search_finds_the_marker() {
    let mut hay = pattern(9 * MIB, 1);
    assert!(!contains_bytes(&hay, MARKER));
    // Across a chunk boundary, after invalid UTF-8.
    let at = 4 * MIB - 5;
    hay[at - 1] = 0xff;
    hay[at..at + MARKER.len()].copy_from_slice(MARKER);
    assert!(contains_bytes(&hay, MARKER));
    assert!(contains_bytes(&marked(1000, 3), MARKER));
}

/// No byte of plaintext on disk: completed and in-progress uploads of every SSE mode, parts
/// full of a marker string; every file under the data dir (blobs and meta.redb) is scanned.
#[tokio::test(flavor = "multi_thread")]
async fn no_plaintext_on_disk() {
    let mut server = server_with_kms_and_ssec();
    let c = server.client();
    let b = new_bucket(&c, "mpu-disk").await;
    let k = customer_key(9);
    let parts: Vec<Vec<u8>> = SIZES
        .iter()
        .enumerate()
        .map(|(i, n)| marked(*n, 60 + i as u8))
        .collect();
    let mut plaintext_bytes = 0usize;

    // Completed: SSE-S3 with a CRC32 FULL_OBJECT checksum, SSE-KMS, SSE-C.
    for mode in ["s3", "kms", "ssec"] {
        let key = format!("done-{mode}");
        let mut req = c.create_multipart_upload().bucket(&b).key(&key);
        req = match mode {
            "s3" => req
                .checksum_algorithm(ChecksumAlgorithm::Crc32)
                .checksum_type(ChecksumType::FullObject),
            "kms" => req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(KMS_ID),
            _ => req
                .sse_customer_algorithm("AES256")
                .sse_customer_key(&k.key)
                .sse_customer_key_md5(&k.md5),
        };
        let id = req
            .send()
            .await
            .expect("create")
            .upload_id()
            .expect("id")
            .to_string();
        let opts = PartOpts {
            alg: (mode == "s3").then_some(ChecksumAlgorithm::Crc32),
            ssec: (mode == "ssec").then(|| k.clone()),
        };
        let done = upload_parts(&c, &b, &key, &id, &parts, &opts).await;
        let mut req = c
            .complete_multipart_upload()
            .bucket(&b)
            .key(&key)
            .upload_id(&id)
            .multipart_upload(completed(done));
        if mode == "ssec" {
            req = req
                .sse_customer_algorithm("AES256")
                .sse_customer_key(&k.key)
                .sse_customer_key_md5(&k.md5);
        }
        req.send().await.expect("complete");
        plaintext_bytes += SIZES.iter().sum::<usize>();
    }

    // In progress: SSE-S3 with two parts, SSE-C with one, one part replaced.
    let id = create(&c, &b, "open-s3", None, None).await;
    upload_parts(&c, &b, "open-s3", &id, &parts[..2], &PartOpts::default()).await;
    upload_parts(&c, &b, "open-s3", &id, &parts[2..], &PartOpts::default()).await;
    let id = c
        .create_multipart_upload()
        .bucket(&b)
        .key("open-ssec")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.key)
        .sse_customer_key_md5(&k.md5)
        .send()
        .await
        .expect("create")
        .upload_id()
        .expect("id")
        .to_string();
    let opts = PartOpts {
        alg: None,
        ssec: Some(k.clone()),
    };
    upload_parts(&c, &b, "open-ssec", &id, &parts[..1], &opts).await;
    plaintext_bytes += 2 * SIZES[0];

    let uploads = c
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("list uploads");
    assert_eq!(uploads.uploads().len(), 2);

    let dir = server.data_dir().expect("a data dir").to_path_buf();
    let (hits, total) = files_containing(&dir, MARKER);
    assert!(hits.is_empty(), "plaintext marker found in {hits:?}");
    // Stop the server (flushing everything) and look again.
    server.restart();
    server.terminate();
    let (hits, total_after) = files_containing(&dir, MARKER);
    assert!(hits.is_empty(), "plaintext marker found in {hits:?}");
    let files = files_under(&dir);
    assert!(files.iter().any(|f| f.starts_with("blobs")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("meta.redb")), "{files:?}");
    assert!(
        total.min(total_after) >= plaintext_bytes as u64,
        "scanned {total}/{total_after} bytes, less than the {plaintext_bytes} bytes stored"
    );
}
