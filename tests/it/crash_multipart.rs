//! Crash safety of multipart uploads: concurrent clients create uploads, upload parts and
//! complete them while the server is SIGKILLed; after each restart on the same data dir every
//! object reads back exactly as written (no torn object), every acknowledged Complete survived,
//! every surviving upload still lists its (whole) parts and can be completed or aborted, no
//! plaintext reached the disk, and once everything is deleted no blob file is left.
//!
//! Object contents are a function of the key, so what an object must contain is known without
//! any bookkeeping from the clients that were killed mid-request.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};
use futures_util::StreamExt;
use md5::{Digest as _, Md5};

use crate::common::*;
use crate::sdk_multipart::{
    MARKER, checksum, completed_checksum, files_containing, part_checksum, raw_checksum,
};

const MIB: usize = 1024 * 1024;
/// Every part but the last is this big (S3's minimum); the last is smaller.
const PART: usize = 5 * MIB;
const TASKS: usize = 4;
/// How long the clients run before each SIGKILL (varied, so the kill lands at different points).
const RUN_BEFORE_KILL: [Duration; 3] = [
    Duration::from_millis(4500),
    Duration::from_millis(3500),
    Duration::from_millis(5500),
];
/// Concurrent reads while verifying.
const READERS: usize = 4;

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The bytes of object `key`: a quarter of the objects are a full 5 MiB part and a shorter last
/// part, the others one short part (a debug build of the server moves only a few MB/s); every
/// 64-byte block starts with [`MARKER`], then the key's hash and the block number, then noise.
fn content(key: &str) -> Vec<u8> {
    let h = fnv(key);
    let last = 16 * 1024 + (h >> 8) as usize % (512 * 1024);
    let len = if h % 4 == 0 { PART + last } else { last };
    let mut out = vec![0u8; len];
    let mut x = h | 1;
    for (i, block) in out.chunks_mut(64).enumerate() {
        let mut tmp = [0u8; 64];
        tmp[..MARKER.len()].copy_from_slice(MARKER);
        tmp[40..48].copy_from_slice(&h.to_be_bytes());
        tmp[48..56].copy_from_slice(&(i as u64).to_be_bytes());
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        tmp[56..64].copy_from_slice(&x.to_le_bytes());
        block.copy_from_slice(&tmp[..block.len()]);
    }
    out
}

/// The bytes of part `n` (1-based) of `key`.
fn part_bytes(data: &[u8], n: usize) -> &[u8] {
    let start = (n - 1) * PART;
    &data[start..(start + PART).min(data.len())]
}

fn parts_of(data: &[u8]) -> usize {
    data.len().div_ceil(PART)
}

/// How object `key` is uploaded: no checksum, CRC32 FULL_OBJECT, or CRC32C COMPOSITE.
fn checksum_mode(key: &str) -> Option<(ChecksumAlgorithm, ChecksumType)> {
    match fnv(key) % 3 {
        0 => None,
        1 => Some((ChecksumAlgorithm::Crc32, ChecksumType::FullObject)),
        _ => Some((ChecksumAlgorithm::Crc32C, ChecksumType::Composite)),
    }
}

fn md5_hex(d: &[u8]) -> String {
    hex::encode(Md5::digest(d))
}

/// The SSE-S3 ETag of a multipart object made of `parts`.
fn multipart_etag<'a>(parts: impl Iterator<Item = &'a [u8]>) -> String {
    let mut h = Md5::new();
    let mut n = 0;
    for p in parts {
        h.update(Md5::digest(p));
        n += 1;
    }
    format!("\"{}-{n}\"", hex::encode(h.finalize()))
}

/// What the clients learned before the crash.
#[derive(Default)]
struct Acked {
    /// Keys whose Complete answered 200 (they must survive).
    completed: BTreeSet<String>,
}

/// One client's loop: upload objects `c{cycle}/t{task}/o{j}` until `stop`. Any error before
/// `stop` is a test failure; after it, the client just ends.
async fn client_loop(
    c: Client,
    bucket: String,
    cycle: usize,
    task: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Acked>>,
) -> Result<usize, String> {
    let mut j = 0;
    loop {
        if stop.load(Ordering::SeqCst) {
            return Ok(j);
        }
        let key = format!("c{cycle}/t{task}/o{j}");
        match upload_one(&c, &bucket, &key, j).await {
            Ok(()) => {
                acked
                    .lock()
                    .expect("acked lock")
                    .completed
                    .insert(key.clone());
            }
            Err(_) if stop.load(Ordering::SeqCst) => return Ok(j),
            Err(e) => return Err(format!("{key}: {e}")),
        }
        j += 1;
    }
}

async fn upload_one(c: &Client, bucket: &str, key: &str, j: usize) -> Result<(), String> {
    let data = content(key);
    let mode = checksum_mode(key);
    let id = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .set_checksum_algorithm(mode.as_ref().map(|m| m.0.clone()))
        .set_checksum_type(mode.as_ref().map(|m| m.1.clone()))
        .send()
        .await
        .map_err(|e| format!("create: {e:?}"))?
        .upload_id()
        .ok_or("no upload id")?
        .to_string();
    let mut done = Vec::new();
    for n in 1..=parts_of(&data) {
        let bytes = part_bytes(&data, n);
        // Every third object sends its first part twice (the second replaces the first).
        let sends = if j % 3 == 2 && n == 1 { 2 } else { 1 };
        let mut etag = String::new();
        for _ in 0..sends {
            let mut req = c
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(&id)
                .part_number(n as i32)
                .body(ByteStream::from(bytes.to_vec()));
            if let Some((alg, _)) = &mode {
                req = part_checksum(req, alg, checksum(alg, bytes));
            }
            let out = req.send().await.map_err(|e| format!("part {n}: {e:?}"))?;
            etag = out.e_tag().ok_or("no part ETag")?.to_string();
        }
        if etag != format!("\"{}\"", md5_hex(bytes)) {
            return Err(format!("part {n} ETag {etag} is not the MD5 of the part"));
        }
        let mut p = CompletedPart::builder().part_number(n as i32).e_tag(etag);
        if let Some((alg, _)) = &mode {
            p = completed_checksum(p, alg, checksum(alg, bytes));
        }
        done.push(p.build());
    }
    let out = c
        .complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("complete: {e:?}"))?;
    let want = multipart_etag((1..=parts_of(&data)).map(|n| part_bytes(&data, n)));
    if out.e_tag() != Some(want.as_str()) {
        return Err(format!("Complete ETag {:?}, want {want}", out.e_tag()));
    }
    Ok(())
}

/// All keys of the bucket with their size and ETag.
async fn list_objects(c: &Client, bucket: &str) -> BTreeMap<String, (i64, String)> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token.clone())
            .send()
            .await
            .expect("list objects");
        for o in page.contents() {
            out.insert(
                o.key().expect("key").to_string(),
                (
                    o.size().expect("size"),
                    o.e_tag().expect("etag").to_string(),
                ),
            );
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return out,
        }
    }
}

/// All in-progress uploads of the bucket as (key, upload id).
async fn list_uploads(c: &Client, bucket: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = c
            .list_multipart_uploads()
            .bucket(bucket)
            .set_key_marker(key_marker.clone())
            .set_upload_id_marker(id_marker.clone())
            .send()
            .await
            .expect("list uploads");
        for u in page.uploads() {
            out.push((
                u.key().expect("key").to_string(),
                u.upload_id().expect("id").to_string(),
            ));
        }
        if page.is_truncated() != Some(true) {
            return out;
        }
        key_marker = page.next_key_marker().map(str::to_string);
        id_marker = page.next_upload_id_marker().map(str::to_string);
    }
}

/// Reads `key` (with checksum mode, so the SDK validates a FULL_OBJECT checksum) and compares it
/// to the expected bytes, size and ETag.
async fn verify_object(c: &Client, bucket: &str, key: &str, want: &[u8], listed: (i64, &str)) {
    let nparts = parts_of(want);
    let etag = multipart_etag((1..=nparts).map(|n| part_bytes(want, n)));
    assert_eq!(
        listed,
        (want.len() as i64, etag.as_str()),
        "{key}: listed size/ETag"
    );
    let got = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"));
    assert_eq!(got.content_length(), Some(want.len() as i64), "{key}");
    assert_eq!(got.e_tag(), Some(etag.as_str()), "{key}");
    let mode = checksum_mode(key);
    match &mode {
        Some((ChecksumAlgorithm::Crc32, _)) => {
            assert_eq!(
                got.checksum_crc32(),
                Some(checksum(&ChecksumAlgorithm::Crc32, want).as_str()),
                "{key}"
            );
            assert_eq!(got.checksum_type(), Some(&ChecksumType::FullObject));
        }
        Some((alg, _)) => {
            let raw: Vec<u8> = (1..=nparts)
                .flat_map(|n| raw_checksum(alg, part_bytes(want, n)))
                .collect();
            let composite = format!(
                "{}-{nparts}",
                crate::sdk_multipart::b64(&raw_checksum(alg, &raw))
            );
            assert_eq!(got.checksum_crc32_c(), Some(composite.as_str()), "{key}");
            assert_eq!(got.checksum_type(), Some(&ChecksumType::Composite));
        }
        None => {
            // No algorithm asked: the CRC64NVME of the whole object.
            assert_eq!(
                got.checksum_crc64_nvme(),
                Some(checksum(&ChecksumAlgorithm::Crc64Nvme, want).as_str()),
                "{key}"
            );
        }
    }
    let bytes = got
        .body
        .collect()
        .await
        .unwrap_or_else(|e| panic!("read {key}: {e:?}"))
        .into_bytes();
    if bytes[..] != want[..] {
        let first = bytes
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(bytes.len().min(want.len()));
        panic!(
            "{key}: torn object: {} bytes, want {}; first difference at {first}",
            bytes.len(),
            want.len()
        );
    }
}

/// A cheaper check for objects verified whole in an earlier cycle: the listed size and ETag, and
/// the first bytes of every part and the last bytes of the object (every part blob is still there
/// and decrypts).
async fn verify_object_light(
    c: &Client,
    bucket: &str,
    key: &str,
    want: &[u8],
    listed: (i64, &str),
) {
    let nparts = parts_of(want);
    let etag = multipart_etag((1..=nparts).map(|n| part_bytes(want, n)));
    assert_eq!(
        listed,
        (want.len() as i64, etag.as_str()),
        "{key}: listed size/ETag"
    );
    let mut spans: Vec<(usize, usize)> = (0..nparts)
        .map(|i| (i * PART, (i * PART + 63).min(want.len() - 1)))
        .collect();
    spans.push((want.len().saturating_sub(64), want.len() - 1));
    for (first, last) in spans {
        let got = c
            .get_object()
            .bucket(bucket)
            .key(key)
            .range(format!("bytes={first}-{last}"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("get {key} {first}-{last}: {e:?}"));
        let bytes = got.body.collect().await.expect("read range").into_bytes();
        assert!(
            bytes[..] == want[first..=last],
            "{key}: bytes {first}-{last} differ"
        );
    }
}

/// Verifies `objects` with [`READERS`] concurrent readers; `whole` picks the keys read in full.
async fn verify_objects(
    c: &Client,
    bucket: &str,
    objects: &BTreeMap<String, (i64, String)>,
    lengths: &HashMap<String, usize>,
    whole: impl Fn(&str) -> bool,
) {
    futures_util::stream::iter(objects.iter())
        .map(|(key, (size, etag))| {
            let full_read = whole(key);
            async move {
                let full = content(key);
                let want = lengths.get(key).map_or(&full[..], |len| &full[..*len]);
                if full_read {
                    verify_object(c, bucket, key, want, (*size, etag.as_str())).await;
                } else {
                    verify_object_light(c, bucket, key, want, (*size, etag.as_str())).await;
                }
            }
        })
        .buffer_unordered(READERS)
        .collect::<Vec<()>>()
        .await;
}

/// Checks an upload that survived a crash: its parts are whole and right; then completes it (if
/// it has parts; every other one is aborted instead) and returns the completed object's length.
async fn settle_upload(
    c: &Client,
    bucket: &str,
    key: &str,
    id: &str,
    complete: bool,
) -> Option<usize> {
    let data = content(key);
    let mode = checksum_mode(key);
    let lp = c
        .list_parts()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .send()
        .await
        .unwrap_or_else(|e| panic!("list parts of {key} {id}: {e:?}"));
    assert_eq!(
        lp.checksum_algorithm(),
        mode.as_ref().map(|m| &m.0),
        "{key}"
    );
    let mut done = Vec::new();
    let mut expected_numbers = 1..;
    for p in lp.parts() {
        let n = p.part_number().expect("part number") as usize;
        // Parts are uploaded in order, each after the previous one was acknowledged.
        assert_eq!(Some(n), expected_numbers.next(), "{key}: part numbers");
        let bytes = part_bytes(&data, n);
        assert_eq!(p.size(), Some(bytes.len() as i64), "{key} part {n}: size");
        let etag = format!("\"{}\"", md5_hex(bytes));
        assert_eq!(p.e_tag(), Some(etag.as_str()), "{key} part {n}: ETag");
        let mut cp = CompletedPart::builder().part_number(n as i32).e_tag(etag);
        if let Some((alg, _)) = &mode {
            let want = checksum(alg, bytes);
            let listed = match alg {
                ChecksumAlgorithm::Crc32 => p.checksum_crc32(),
                _ => p.checksum_crc32_c(),
            };
            assert_eq!(listed, Some(want.as_str()), "{key} part {n}: checksum");
            // Repeat the listed checksum, as a client resuming an upload would.
            cp = completed_checksum(cp, alg, want);
        }
        done.push(cp.build());
    }
    if done.is_empty() || !complete {
        c.abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("abort {key} {id}: {e:?}"));
        assert_err(
            c.list_parts()
                .bucket(bucket)
                .key(key)
                .upload_id(id)
                .send()
                .await,
            "NoSuchUpload",
            404,
        );
        return None;
    }
    let nparts = done.len();
    c.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete surviving upload {key} {id}: {e:?}"));
    Some(((nparts - 1) * PART + part_bytes(&data, nparts).len()).min(data.len()))
}

/// After a restart: every object is whole (those of `cycle` are read in full), every acknowledged
/// object is there, every upload is settled. `lengths` holds the length of objects completed
/// from surviving uploads.
async fn verify_all(
    c: &Client,
    bucket: &str,
    cycle: usize,
    acked: &Acked,
    lengths: &mut HashMap<String, usize>,
) -> (usize, usize, usize) {
    // Settle surviving uploads first (their keys then become objects, or nothing).
    let uploads = list_uploads(c, bucket).await;
    let (mut completed, mut aborted) = (0, 0);
    for (i, (key, id)) in uploads.iter().enumerate() {
        assert!(
            !acked.completed.contains(key),
            "{key}: an acknowledged Complete left its upload {id} behind"
        );
        match settle_upload(c, bucket, key, id, i % 2 == 0).await {
            Some(len) => {
                completed += 1;
                lengths.insert(key.clone(), len);
            }
            None => aborted += 1,
        }
    }
    assert!(list_uploads(c, bucket).await.is_empty(), "uploads left");

    let objects = list_objects(c, bucket).await;
    for key in &acked.completed {
        assert!(
            objects.contains_key(key),
            "{key}: Complete answered 200 before the crash, but the object is gone"
        );
    }
    let this_cycle = format!("c{cycle}/");
    verify_objects(c, bucket, &objects, lengths, |k| k.starts_with(&this_cycle)).await;
    (objects.len(), completed, aborted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "full tier: about 70 s of uploads and kills; tests/run runs it"]
async fn sigkill_during_multipart_uploads() {
    let t0 = Instant::now();
    let mut server = Server::start(&[]);
    let dir = server.data_dir().expect("data dir").to_path_buf();
    let bucket = new_bucket(&server.client(), "crash-mpu").await;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut lengths: HashMap<String, usize> = HashMap::new();

    for (cycle, run) in RUN_BEFORE_KILL.iter().enumerate() {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| {
                tokio::spawn(client_loop(
                    server.client(),
                    bucket.clone(),
                    cycle,
                    task,
                    stop.clone(),
                    acked.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(*run).await;
        // Stop first, so errors from here on are the crash's; then SIGKILL with requests in
        // flight (the clients never pause).
        stop.store(true, Ordering::SeqCst);
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &server.pid().to_string()])
            .status()
            .expect("run kill -KILL");
        assert!(killed.success());
        let mut started = 0;
        for t in tasks {
            started += t
                .await
                .expect("client task")
                .unwrap_or_else(|e| panic!("client failed before the crash: {e}"));
        }
        // What the crash left on disk (before start-up removes orphans) is ciphertext too.
        let (hits, _) = files_containing(&dir, MARKER);
        assert!(hits.is_empty(), "plaintext after SIGKILL in {hits:?}");

        // Reaps the killed process and starts again on the same data dir (and master.key).
        server.crash_and_restart();
        let c = server.client();
        let acked_now = std::mem::take(&mut *acked.lock().expect("acked lock"));
        let n_acked = acked_now.completed.len();
        let (objects, completed, aborted) =
            verify_all(&c, &bucket, cycle, &acked_now, &mut lengths).await;
        eprintln!(
            "cycle {cycle}: {started} objects finished by clients ({n_acked} acknowledged \
             this cycle), after restart {objects} objects, surviving uploads: {completed} \
             completed, {aborted} aborted ({:?} elapsed)",
            t0.elapsed()
        );
        assert!(
            n_acked > 0,
            "no upload completed in {run:?}: the clients did no work"
        );
        let (hits, _) = files_containing(&dir, MARKER);
        assert!(hits.is_empty(), "plaintext after restart in {hits:?}");
    }

    // Everything read back once more after a clean restart.
    server.restart();
    let c = server.client();
    let objects = list_objects(&c, &bucket).await;
    verify_objects(&c, &bucket, &objects, &lengths, |_| true).await;
    // No upload is left, so the blobs are exactly the objects' parts: nothing orphaned survived a
    // start-up, nothing referenced was collected.
    let want_blobs: usize = objects
        .iter()
        .map(|(key, (size, _))| {
            assert_eq!(
                lengths.get(key).copied().unwrap_or(content(key).len()) as i64,
                *size,
                "{key}"
            );
            (*size as usize).div_ceil(PART)
        })
        .sum();
    let blob_files = files_under(&dir.join("blobs"));
    assert_eq!(
        blob_files.len(),
        want_blobs,
        "blob files after a clean restart vs parts of the {} objects",
        objects.len()
    );

    // Delete everything: no blob may remain (after one more start-up's garbage collection at
    // the latest).
    for key in objects.keys() {
        c.delete_object()
            .bucket(&bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete {key}: {e:?}"));
    }
    for (key, id) in list_uploads(&c, &bucket).await {
        c.abort_multipart_upload()
            .bucket(&bucket)
            .key(&key)
            .upload_id(&id)
            .send()
            .await
            .expect("abort");
    }
    let blobs = dir.join("blobs");
    let before_gc = files_under(&blobs);
    server.restart();
    let left = files_under(&blobs);
    assert!(
        left.is_empty(),
        "blob files left after deleting everything and restarting: {left:?}"
    );
    assert!(
        before_gc.is_empty(),
        "blob files left after deleting everything (before a restart): {before_gc:?}"
    );
    server
        .client()
        .delete_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("bucket empty: delete it");
    eprintln!("crash test done in {:?}", t0.elapsed());
}
