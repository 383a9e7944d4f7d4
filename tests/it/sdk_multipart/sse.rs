//! SSE-KMS and SSE-C multipart objects read whole, by part number and by ranges spanning parts.

use super::*;

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

/// UploadPart with an SSE header (the upload's encryption was chosen at its creation): 400
/// InvalidArgument as S3, and no part is stored.
#[tokio::test(flavor = "multi_thread")]
async fn upload_part_refuses_sse_headers() {
    use aws_sdk_s3::error::ProvideErrorMetadata;
    let server = server_with_kms_and_ssec();
    let c = server.client();
    let b = new_bucket(&c, "mpu-part-sse").await;
    let created = c
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id(KMS_ID)
        .send()
        .await
        .unwrap();
    let id = created.upload_id().unwrap();
    for (name, value) in [
        ("x-amz-server-side-encryption", "aws:kms"),
        ("x-amz-server-side-encryption-bucket-key-enabled", "true"),
    ] {
        let err = c
            .upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(id)
            .part_number(1)
            .body(ByteStream::from_static(b"part"))
            .customize()
            .mutate_request(move |req| {
                req.headers_mut().insert(name, value);
            })
            .send()
            .await
            .unwrap_err();
        let raw = err.raw_response().expect("a response");
        assert_eq!(raw.status().as_u16(), 400, "{name}");
        assert_eq!(err.code(), Some("InvalidArgument"), "{name}");
        assert_eq!(
            err.message().map(str::to_string),
            Some(format!(
                "{name} header is not supported for this operation."
            )),
        );
    }
    let parts = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(id)
        .send()
        .await
        .unwrap();
    assert!(parts.parts().is_empty(), "nothing stored");
}
