//! No plaintext on disk for completed and in-progress multipart uploads.

use super::*;

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
