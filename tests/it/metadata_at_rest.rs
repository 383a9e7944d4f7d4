//! Issue 18 item 8: nothing computed from an object's plaintext is readable in the data dir. Small
//! objects are written in every encryption mode (inline and blob bodies, multipart with checksums,
//! an upload left in progress) in a versioned bucket, each overwritten once (older versions) and
//! one deleted (a delete marker), then every byte of the data dir but the master key is scanned for
//! every checksum of every body (all five algorithms), every MD5, and every ETag and checksum the
//! server answered, in every encoding the metadata could hold them (base64, hex, the JSON byte
//! array serde writes, and the raw bytes). The wire answers stay S3's: checked on the same objects.
//! Object tags are sealed too: no tag key or value is anywhere in the data dir.

use std::collections::HashMap;
use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
    Tag, Tagging,
};
use base64::Engine;
use md5::{Digest, Md5};

use crate::common::{Options, Server, new_bucket, pattern};

const KMS_ID: &str = "testkey-1";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    S3,
    Kms,
    KmsBucketKey,
    Dsse,
    SseC,
}

const MODES: [Mode; 5] = [
    Mode::S3,
    Mode::Kms,
    Mode::KmsBucketKey,
    Mode::Dsse,
    Mode::SseC,
];

fn customer() -> (String, String) {
    let raw: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(11).wrapping_add(3))
        .collect();
    (B64.encode(&raw), B64.encode(Md5::digest(&raw)))
}

/// The SSE parameters of a write in `mode` (PutObject, CreateMultipartUpload).
macro_rules! sse_write {
    ($b:expr, $m:expr) => {{
        let (key, md5) = customer();
        match $m {
            Mode::S3 => $b.server_side_encryption(ServerSideEncryption::Aes256),
            Mode::Kms => $b
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(KMS_ID),
            Mode::KmsBucketKey => $b
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(KMS_ID)
                .bucket_key_enabled(true),
            Mode::Dsse => $b
                .server_side_encryption(ServerSideEncryption::AwsKmsDsse)
                .ssekms_key_id(KMS_ID),
            Mode::SseC => $b
                .sse_customer_algorithm("AES256")
                .sse_customer_key(key)
                .sse_customer_key_md5(md5),
        }
    }};
}

/// The SSE-C headers a later request on an SSE-C object or upload carries.
macro_rules! sse_c {
    ($b:expr, $m:expr) => {{
        let (key, md5) = customer();
        match $m {
            Mode::SseC => $b
                .sse_customer_algorithm("AES256")
                .sse_customer_key(key)
                .sse_customer_key_md5(md5),
            _ => $b,
        }
    }};
}

/// Every digest of `body` a record could have held: the five checksums and the MD5.
fn digests(body: &[u8]) -> Vec<Vec<u8>> {
    let mut crc64 = crc64fast_nvme::Digest::new();
    crc64.write(body);
    vec![
        crc32fast::hash(body).to_be_bytes().to_vec(),
        crc32c::crc32c(body).to_be_bytes().to_vec(),
        crc64.sum64().to_be_bytes().to_vec(),
        sha1::Sha1::digest(body).to_vec(),
        sha2::Sha256::digest(body).to_vec(),
        Md5::digest(body).to_vec(),
    ]
}

/// A value as the server answered it: an ETag (hex, maybe `-N`) or a checksum (base64, maybe `-N`).
fn answered(value: Option<&str>) -> Option<Vec<u8>> {
    let v = value?.trim_matches('"');
    let v = v.split('-').next().unwrap_or(v);
    hex::decode(v)
        .ok()
        .filter(|_| v.len() == 32)
        .or_else(|| B64.decode(v).ok())
}

/// The encodings a record could hold `value` in. Raw bytes only from 8 bytes on: a 4-byte CRC
/// turns up by chance in megabytes of ciphertext.
fn encodings(value: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![
        B64.encode(value).into_bytes(),
        hex::encode(value).into_bytes(),
        serde_json::to_vec(&value.to_vec()).unwrap_or_default(),
    ];
    if value.len() >= 8 {
        out.push(value.to_vec());
    }
    out
}

/// Every needle found in the files under `dir` (but the master key), with the file.
fn scan(dir: &Path, needles: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut by_prefix: HashMap<[u8; 8], Vec<usize>> = HashMap::new();
    for (i, (_, n)) in needles.iter().enumerate() {
        let prefix: [u8; 8] = n[..8].try_into().unwrap();
        by_prefix.entry(prefix).or_default().push(i);
    }
    let mut found = Vec::new();
    let mut scanned = Vec::new();
    for file in crate::common::files_under(dir) {
        if file.file_name().is_some_and(|n| n == "master.key") {
            continue;
        }
        let file = dir.join(file);
        let bytes = std::fs::read(&file).unwrap();
        scanned.push(file.clone());
        for pos in 0..bytes.len().saturating_sub(7) {
            let prefix: [u8; 8] = bytes[pos..pos + 8].try_into().unwrap();
            for &i in by_prefix.get(&prefix).into_iter().flatten() {
                let (what, n) = &needles[i];
                if bytes[pos..].starts_with(n) {
                    found.push(format!("{what} in {}", file.display()));
                }
            }
        }
    }
    // The scan cannot pass by reading nothing: the database and blob files were read.
    assert!(
        scanned.iter().any(|f| f.ends_with("meta.redb")),
        "{scanned:?}"
    );
    assert!(scanned.len() > 5, "{scanned:?}");
    found
}

struct Needles(Vec<(String, Vec<u8>)>);

impl Needles {
    fn add(&mut self, what: &str, value: &[u8]) {
        for e in encodings(value) {
            self.0.push((what.to_string(), e));
        }
    }
    fn body(&mut self, what: &str, body: &[u8]) {
        for d in digests(body) {
            self.add(what, &d);
        }
    }
    fn answer(&mut self, what: &str, value: Option<&str>) {
        if let Some(v) = answered(value) {
            self.add(what, &v);
        }
    }
}

/// Round 0 writes, round 1 overwrites (the first round's objects stay as older versions).
async fn put_objects(c: &Client, b: &str, m: Mode, needles: &mut Needles, round: u8) {
    // 8 bytes (inline, as the reviewer's `PW=hunt2`) and 100 KiB (a blob file).
    let small = format!("PW=hunt{}", 2 + round).into_bytes();
    for (i, body) in [small, pattern(100 * 1024, m as u8 + 16 * round)]
        .into_iter()
        .enumerate()
    {
        let key = format!("{m:?}-{i}");
        let alg = [ChecksumAlgorithm::Sha256, ChecksumAlgorithm::Crc64Nvme][i].clone();
        let put = sse_write!(c.put_object().bucket(b).key(&key), m)
            .checksum_algorithm(alg)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
        needles.body(&key, &body);
        needles.answer(&key, put.e_tag());
        needles.answer(&key, put.checksum_sha256());
        needles.answer(&key, put.checksum_crc64_nvme());
        // The wire answer is unchanged: HEAD shows the checksum PutObject reported.
        let head = sse_c!(c.head_object().bucket(b).key(&key), m)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        assert_eq!(head.e_tag(), put.e_tag(), "{key}");
        assert_eq!(head.checksum_sha256(), put.checksum_sha256(), "{key}");
        assert_eq!(
            head.checksum_crc64_nvme(),
            put.checksum_crc64_nvme(),
            "{key}"
        );
        assert!(
            head.checksum_sha256()
                .or(head.checksum_crc64_nvme())
                .is_some()
        );
    }
}

async fn multipart(c: &Client, b: &str, m: Mode, needles: &mut Needles, complete: bool) {
    let key = format!("{m:?}-mpu-{complete}");
    let create = sse_write!(c.create_multipart_upload().bucket(b).key(&key), m)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let id = create.upload_id().unwrap();
    // SSE-C gets two parts (the first at S3's 5 MiB minimum); one small part elsewhere.
    let mut bodies = vec![format!("{key} part").into_bytes()];
    if m == Mode::SseC && complete {
        bodies.insert(0, pattern(5 * 1024 * 1024, 9));
    }
    let mut done = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let n = i as i32 + 1;
        let up = sse_c!(
            c.upload_part()
                .bucket(b)
                .key(&key)
                .upload_id(id)
                .part_number(n),
            m
        )
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
        needles.body(&format!("{key} part {n}"), body);
        needles.answer(&key, up.e_tag());
        needles.answer(&key, up.checksum_crc32());
        done.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(up.e_tag().map(str::to_string))
                .set_checksum_crc32(up.checksum_crc32().map(str::to_string))
                .build(),
        );
    }
    let parts = sse_c!(c.list_parts().bucket(b).key(&key).upload_id(id), m)
        .send()
        .await
        .unwrap();
    for (p, d) in parts.parts().iter().zip(&done) {
        assert_eq!(p.checksum_crc32(), d.checksum_crc32(), "{key}: ListParts");
        assert_eq!(p.e_tag(), d.e_tag(), "{key}: ListParts");
    }
    if !complete {
        return;
    }
    let whole: Vec<u8> = bodies.concat();
    needles.body(&key, &whole);
    let done = sse_c!(
        c.complete_multipart_upload()
            .bucket(b)
            .key(&key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build()
            ),
        m
    )
    .send()
    .await
    .unwrap();
    needles.answer(&key, done.e_tag());
    needles.answer(&key, done.checksum_crc32());
    let head = sse_c!(c.head_object().bucket(b).key(&key), m)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), done.e_tag(), "{key}");
    assert!(
        head.checksum_crc32()
            .is_some_and(|v| v.ends_with(&format!("-{}", bodies.len())))
    );
    needles.answer(&key, head.checksum_crc32());
}

#[tokio::test]
async fn data_dir_without_the_keys_holds_no_checksum_or_md5() {
    let mut srv = Server::start_with(
        Options::default()
            .args(&["--kms-key", KMS_ID])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    );
    let c = srv.client();
    let b = new_bucket(&c, "at-rest").await;
    // Versioned: older versions and delete markers are scanned too.
    c.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut needles = Needles(Vec::new());
    for m in MODES {
        put_objects(&c, &b, m, &mut needles, 0).await;
        put_objects(&c, &b, m, &mut needles, 1).await;
        multipart(&c, &b, m, &mut needles, true).await;
        multipart(&c, &b, m, &mut needles, false).await;
    }
    c.delete_object()
        .bucket(&b)
        .key("S3-1")
        .send()
        .await
        .unwrap();
    // Listings answer the same ETags as the writes.
    let listed = c.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(listed.contents().len(), 14);
    let versions = c.list_object_versions().bucket(&b).send().await.unwrap();
    assert_eq!(versions.versions().len(), 25);
    assert_eq!(versions.delete_markers().len(), 1);
    assert!(needles.0.iter().all(|(_, n)| n.len() >= 8));
    srv.restart_after(|dir| {
        let found = scan(dir, &needles.0);
        assert!(
            found.is_empty(),
            "plaintext-derived values readable on disk:\n{}",
            found.join("\n")
        );
    });
}

/// A tag of `what` in mode `m`: a key and a value no other bytes in the data dir would hold.
fn tag_of(what: &str, m: Mode) -> (String, String) {
    (
        format!("tagkey-{what}-{m:?}"),
        format!("tag value {what} {m:?} secret"),
    )
}

/// `x-amz-tagging` for one tag (a space as `+`, as form encoding writes it).
fn header_of((k, v): &(String, String)) -> String {
    format!("{k}={}", v.replace(' ', "+"))
}

/// Completes `key`'s upload `id` with one small part.
async fn complete_one_part(c: &Client, b: &str, key: &str, id: &str, m: Mode) {
    let up = sse_c!(
        c.upload_part()
            .bucket(b)
            .key(key)
            .upload_id(id)
            .part_number(1),
        m
    )
    .body(ByteStream::from(b"part".to_vec()))
    .send()
    .await
    .unwrap();
    let part = CompletedPart::builder()
        .part_number(1)
        .set_e_tag(up.e_tag().map(str::to_string))
        .build();
    let parts = CompletedMultipartUpload::builder().parts(part).build();
    sse_c!(
        c.complete_multipart_upload()
            .bucket(b)
            .key(key)
            .upload_id(id)
            .multipart_upload(parts),
        m
    )
    .send()
    .await
    .unwrap();
}

/// Tags are sealed like the ETag: written in every mode (PutObject's `x-amz-tagging`,
/// PutObjectTagging, a completed upload and one still in progress, CopyObject REPLACE), no tag
/// key or value is in any byte of the data dir, and every tag is there after the restart (the
/// upload's too, once it completes).
#[tokio::test]
async fn data_dir_holds_no_tag_key_or_value() {
    let mut srv = Server::start_with(
        Options::default()
            .args(&["--kms-key", KMS_ID])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    );
    let c = srv.client();
    let b = new_bucket(&c, "tags-at-rest").await;
    let mut expected: Vec<(String, (String, String))> = Vec::new();
    let mut pending = Vec::new();
    for m in MODES {
        let key = format!("{m:?}-put");
        let t = tag_of("put", m);
        sse_write!(c.put_object().bucket(&b).key(&key), m)
            .tagging(header_of(&t))
            .body(ByteStream::from(b"x".to_vec()))
            .send()
            .await
            .unwrap();
        expected.push((key, t));

        // PutObjectTagging takes no SSE-C key.
        let key = format!("{m:?}-retag");
        sse_write!(c.put_object().bucket(&b).key(&key), m)
            .body(ByteStream::from(pattern(100 * 1024, 3)))
            .send()
            .await
            .unwrap();
        let t = tag_of("retag", m);
        let tag = Tag::builder().key(&t.0).value(&t.1).build().unwrap();
        let tagging = Tagging::builder().tag_set(tag).build().unwrap();
        c.put_object_tagging()
            .bucket(&b)
            .key(&key)
            .tagging(tagging)
            .send()
            .await
            .unwrap();
        expected.push((key, t));

        for complete in [true, false] {
            let key = format!("{m:?}-mpu-{complete}");
            let t = tag_of(&format!("mpu-{complete}"), m);
            let create = sse_write!(c.create_multipart_upload().bucket(&b).key(&key), m)
                .tagging(header_of(&t))
                .send()
                .await
                .unwrap();
            let id = create.upload_id().unwrap().to_string();
            if complete {
                complete_one_part(&c, &b, &key, &id, m).await;
            } else {
                pending.push((key.clone(), id, m));
            }
            expected.push((key, t));
        }
    }
    let t = tag_of("copy", Mode::S3);
    c.copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/S3-put"))
        .tagging_directive(aws_sdk_s3::types::TaggingDirective::Replace)
        .tagging(header_of(&t))
        .send()
        .await
        .unwrap();
    expected.push(("copy".into(), t));

    let needles: Vec<(String, Vec<u8>)> = expected
        .iter()
        .flat_map(|(key, (k, v))| {
            [
                (format!("{key}: tag key"), k.clone().into_bytes()),
                (format!("{key}: tag value"), v.clone().into_bytes()),
            ]
        })
        .collect();
    srv.restart_after(|dir| {
        let found = scan(dir, &needles);
        assert!(
            found.is_empty(),
            "tags readable on disk:\n{}",
            found.join("\n")
        );
    });
    let c = srv.client();
    for (key, id, m) in &pending {
        complete_one_part(&c, &b, key, id, *m).await;
    }
    for (key, (k, v)) in &expected {
        let got = c
            .get_object_tagging()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .unwrap();
        let tags: Vec<(&str, &str)> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(tags, [(k.as_str(), v.as_str())], "{key}");
    }
}
