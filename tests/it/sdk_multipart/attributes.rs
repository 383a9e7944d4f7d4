//! GetObjectAttributes on multipart objects: a COMPOSITE upload shows its checksum without the
//! `-3` HeadObject gives it, and lists its parts (sizes, part checksums) paged by
//! `x-amz-max-parts` / `x-amz-part-number-marker`; a FULL_OBJECT or algorithm-less upload shows
//! only the part count (as S3 answers); an SSE-C upload needs its key.

use aws_sdk_s3::operation::get_object_attributes::GetObjectAttributesOutput;
use aws_sdk_s3::operation::get_object_attributes::builders::GetObjectAttributesFluentBuilder;
use aws_sdk_s3::types::{ObjectAttributes, StorageClass};

use super::*;

fn attrs(c: &Client, b: &str, k: &str) -> GetObjectAttributesFluentBuilder {
    c.get_object_attributes()
        .bucket(b)
        .key(k)
        .set_object_attributes(Some(vec![
            ObjectAttributes::Etag,
            ObjectAttributes::Checksum,
            ObjectAttributes::ObjectParts,
            ObjectAttributes::StorageClass,
            ObjectAttributes::ObjectSize,
        ]))
}

/// The checksum of the part checksums (S3's COMPOSITE value, without `-<parts>`).
fn composite(alg: &ChecksumAlgorithm, parts: &[Vec<u8>]) -> String {
    let raw: Vec<u8> = parts.iter().flat_map(|p| raw_checksum(alg, p)).collect();
    checksum(alg, &raw)
}

/// Uploads and completes the three parts of `seed` with `alg` (none: the SDK's default
/// checksum is left off) and returns them.
async fn complete_upload(
    c: &Client,
    b: &str,
    key: &str,
    alg: Option<ChecksumAlgorithm>,
    kind: Option<ChecksumType>,
    ssec: Option<CustomerKey>,
    seed: u8,
) -> Vec<Vec<u8>> {
    let parts = three_parts(seed);
    let mut req = c
        .create_multipart_upload()
        .bucket(b)
        .key(key)
        .set_checksum_algorithm(alg.clone())
        .set_checksum_type(kind);
    if let Some(k) = &ssec {
        req = req
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&k.key)
            .sse_customer_key_md5(&k.md5);
    }
    let id = req.send().await.expect("create").upload_id.expect("id");
    let opts = PartOpts {
        alg,
        ssec: ssec.clone(),
    };
    let done = upload_parts(c, b, key, &id, &parts, &opts).await;
    let mut req = c
        .complete_multipart_upload()
        .bucket(b)
        .key(key)
        .upload_id(&id)
        .multipart_upload(completed(done));
    if let Some(k) = &ssec {
        req = req
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&k.key)
            .sse_customer_key_md5(&k.md5);
    }
    req.send().await.expect("complete");
    parts
}

/// The part numbers, sizes and `alg` checksums of a listed page.
fn listed(out: &GetObjectAttributesOutput, alg: &ChecksumAlgorithm) -> Vec<(i32, i64, String)> {
    let parts = out.object_parts().expect("ObjectParts").parts();
    parts
        .iter()
        .map(|p| {
            (
                p.part_number().expect("PartNumber"),
                p.size().expect("Size"),
                checksum_of!(p, alg).unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn composite_upload_lists_and_pages_its_parts() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "attrs-composite").await;
    let alg = ChecksumAlgorithm::Sha256;
    let parts = complete_upload(&c, &b, "k", Some(alg.clone()), None, None, 41).await;
    let want_parts: Vec<(i32, i64, String)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (i as i32 + 1, p.len() as i64, checksum(&alg, p)))
        .collect();

    let out = attrs(&c, &b, "k").send().await.expect("attributes");
    let etag = multipart_etag(&parts);
    assert_eq!(
        out.e_tag(),
        Some(etag.trim_matches('"')),
        "unquoted, with -3"
    );
    let sum = out.checksum().expect("checksum");
    assert_eq!(
        sum.checksum_sha256(),
        Some(composite(&alg, &parts).as_str())
    );
    assert_eq!(sum.checksum_type(), Some(&ChecksumType::Composite));
    assert_eq!(out.storage_class(), Some(&StorageClass::Standard));
    assert_eq!(out.object_size(), Some(concat(&parts).len() as i64));
    let op = out.object_parts().expect("ObjectParts");
    assert_eq!(op.total_parts_count(), Some(3));
    assert_eq!(op.part_number_marker(), Some("0"));
    assert_eq!(op.next_part_number_marker(), Some("3"));
    assert_eq!(op.max_parts(), Some(1000));
    assert_eq!(op.is_truncated(), Some(false));
    assert_eq!(listed(&out, &alg), want_parts);
    // HeadObject keeps the `-3` the attributes leave off.
    let head = c
        .head_object()
        .bucket(&b)
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    let with_count = format!("{}-3", composite(&alg, &parts));
    assert_eq!(head.checksum_sha256(), Some(with_count.as_str()));

    // One part a page, following NextPartNumberMarker.
    let mut marker = "0".to_string();
    for n in 1..=3 {
        let out = attrs(&c, &b, "k")
            .max_parts(1)
            .part_number_marker(&marker)
            .send()
            .await
            .expect("page");
        let op = out.object_parts().expect("ObjectParts");
        assert_eq!(op.part_number_marker(), Some(marker.as_str()));
        assert_eq!(op.max_parts(), Some(1));
        assert_eq!(op.is_truncated(), Some(n < 3), "page {n}");
        assert_eq!(
            listed(&out, &alg),
            want_parts[n - 1..n].to_vec(),
            "page {n}"
        );
        marker = op.next_part_number_marker().expect("next").to_string();
        assert_eq!(marker, n.to_string());
    }
    // Past the end: no parts, NextPartNumberMarker 0; max-parts 0 lists none but more remain;
    // a max-parts over 1000 is 1000.
    for (max, marker, truncated, next) in [(5, "3", false, "0"), (0, "1", true, "0")] {
        let out = attrs(&c, &b, "k")
            .max_parts(max)
            .part_number_marker(marker)
            .send()
            .await
            .expect("edge page");
        let op = out.object_parts().expect("ObjectParts");
        assert!(op.parts().is_empty(), "max {max} marker {marker}");
        assert_eq!(op.is_truncated(), Some(truncated));
        assert_eq!(op.next_part_number_marker(), Some(next));
        assert_eq!(op.total_parts_count(), Some(3));
    }
    let out = attrs(&c, &b, "k")
        .max_parts(5000)
        .part_number_marker("2")
        .send()
        .await
        .expect("capped");
    let op = out.object_parts().expect("ObjectParts");
    assert_eq!(op.max_parts(), Some(1000));
    assert_eq!(listed(&out, &alg), want_parts[2..].to_vec());
}

/// FULL_OBJECT uploads (CRC32 asked for, or the CRC64NVME of an upload that named no algorithm)
/// show the whole-object CRC and only the part count.
#[tokio::test]
async fn full_object_uploads_show_only_the_part_count() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "attrs-full").await;
    for (key, alg, kind, seed) in [
        (
            "crc32",
            Some(ChecksumAlgorithm::Crc32),
            Some(ChecksumType::FullObject),
            51,
        ),
        ("default", None, None, 52),
    ] {
        let parts = complete_upload(&c, &b, key, alg.clone(), kind, None, seed).await;
        let shown = alg.clone().unwrap_or(ChecksumAlgorithm::Crc64Nvme);
        let out = attrs(&c, &b, key).send().await.expect("attributes");
        let sum = out.checksum().expect("checksum");
        assert_eq!(
            checksum_of!(sum, &shown),
            Some(checksum(&shown, &concat(&parts)).as_str()),
            "{key}"
        );
        assert_eq!(sum.checksum_type(), Some(&ChecksumType::FullObject));
        let op = out.object_parts().expect("ObjectParts");
        assert_eq!(op.total_parts_count(), Some(3), "{key}");
        assert!(op.parts().is_empty(), "{key}: no Part elements");
        assert_eq!(
            (op.max_parts(), op.is_truncated(), op.part_number_marker()),
            (None, None, None),
            "{key}"
        );
        assert_eq!(out.e_tag(), Some(multipart_etag(&parts).trim_matches('"')));
    }
}

#[tokio::test]
async fn sse_c_composite_upload_needs_its_key() {
    let server = server_with_kms_and_ssec();
    let c = server.client();
    let b = new_bucket(&c, "attrs-mpu-ssec").await;
    let k = customer_key(21);
    let alg = ChecksumAlgorithm::Crc32C;
    let parts = complete_upload(&c, &b, "s", Some(alg.clone()), None, Some(k.clone()), 61).await;
    assert_err(attrs(&c, &b, "s").send().await, "InvalidRequest", 400);
    let other = customer_key(22);
    assert_err(
        attrs(&c, &b, "s")
            .sse_customer_algorithm("AES256")
            .sse_customer_key(&other.key)
            .sse_customer_key_md5(&other.md5)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    let out = attrs(&c, &b, "s")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.key)
        .sse_customer_key_md5(&k.md5)
        .send()
        .await
        .expect("with the key");
    let sum = out.checksum().expect("checksum opened with the key");
    assert_eq!(
        sum.checksum_crc32_c(),
        Some(composite(&alg, &parts).as_str())
    );
    assert_eq!(sum.checksum_type(), Some(&ChecksumType::Composite));
    let want: Vec<(i32, i64, String)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (i as i32 + 1, p.len() as i64, checksum(&alg, p)))
        .collect();
    assert_eq!(listed(&out, &alg), want);
}
