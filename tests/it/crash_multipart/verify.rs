//! After a restart: every object, listing and surviving upload checked against what was written.

use super::*;

/// All keys of the bucket with their size and ETag.
pub(super) async fn list_objects(c: &Client, bucket: &str) -> BTreeMap<String, (i64, String)> {
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
pub(super) async fn list_uploads(c: &Client, bucket: &str) -> Vec<(String, String)> {
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
pub(super) async fn verify_objects(
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
pub(super) async fn verify_all(
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
