//! Crash safety of multipart uploads: concurrent clients create uploads, upload parts and
//! complete them while the server is SIGKILLed; after each restart on the same data dir every
//! object reads back exactly as written (no torn object), every acknowledged Complete survived,
//! every surviving upload still lists its (whole) parts and can be completed or aborted, no
//! plaintext reached the disk, and once everything is deleted no blob file is left.
//!
//! Object contents are a function of the key, so what an object must contain is known without
//! any bookkeeping from the clients that were killed mid-request.

mod verify;
use verify::{list_objects, list_uploads, verify_all, verify_objects};

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
