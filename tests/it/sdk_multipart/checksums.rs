//! Multipart checksums: FULL_OBJECT CRC32/CRC64NVME uploads (the CRC of all bytes), COMPOSITE
//! CRC32C and SHA256 uploads (the checksum of the part checksums), and the Complete checksum errors.

use super::*;

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
