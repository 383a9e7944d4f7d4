//! Listing through aws-sdk-s3: ListObjectsV2, ListObjects (v1) and ListObjectVersions on an
//! unversioned bucket.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::EncodingType;

use crate::common::*;

async fn bucket_with(s3: &Client, tag: &str, keys: &[&str]) -> String {
    let b = new_bucket(s3, tag).await;
    for k in keys {
        put(s3, &b, k, k.as_bytes().to_vec()).await;
    }
    b
}

fn numbered(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("obj-{i:03}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v2_paginates_with_continuation_tokens() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let keys = numbered(25);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let b = bucket_with(&s3, "pages", &refs).await;

    let mut got = Vec::new();
    let mut counts = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&b)
            .max_keys(10)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(page.name(), Some(b.as_str()));
        assert_eq!(page.max_keys(), Some(10));
        assert_eq!(page.continuation_token(), token.as_deref());
        counts.push(page.key_count().unwrap());
        for o in page.contents() {
            got.push(o.key().unwrap().to_string());
            assert_eq!(o.size(), Some(o.key().unwrap().len() as i64));
            assert_eq!(
                o.e_tag(),
                Some(etag_of(o.key().unwrap().as_bytes()).as_str())
            );
            assert!(o.last_modified().is_some());
            assert!(o.owner().is_none(), "no Owner without fetch-owner");
        }
        let truncated = page.is_truncated().unwrap();
        token = page.next_continuation_token().map(str::to_string);
        assert_eq!(truncated, token.is_some());
        if !truncated {
            break;
        }
    }
    assert_eq!(counts, vec![10, 10, 5]);
    assert_eq!(got, keys);

    // The SDK paginator walks the same pages.
    let pages: Vec<_> = s3
        .list_objects_v2()
        .bucket(&b)
        .max_keys(7)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let via_paginator: Vec<String> = pages
        .into_iter()
        .flat_map(|p| {
            p.unwrap()
                .contents()
                .iter()
                .map(|o| o.key().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(via_paginator, keys);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v2_delimiter_prefix_and_common_prefixes() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = bucket_with(
        &s3,
        "delim",
        &["a/1", "a/2", "b/1", "c", "d/e/f", "d/e/g", "d/h"],
    )
    .await;

    let top = s3
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    let keys: Vec<_> = top.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(prefixes, vec!["a/", "b/", "d/"]);
    assert_eq!(keys, vec!["c"]);
    assert_eq!(
        top.key_count(),
        Some(4),
        "KeyCount counts keys and prefixes"
    );
    assert_eq!(top.delimiter(), Some("/"));
    assert_eq!(top.is_truncated(), Some(false));

    let d = s3
        .list_objects_v2()
        .bucket(&b)
        .prefix("d/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = d
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    let keys: Vec<_> = d.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(prefixes, vec!["d/e/"]);
    assert_eq!(keys, vec!["d/h"]);
    assert_eq!(d.prefix(), Some("d/"));

    // Prefix without delimiter: everything under it.
    let all_d = s3
        .list_objects_v2()
        .bucket(&b)
        .prefix("d/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = all_d.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["d/e/f", "d/e/g", "d/h"]);

    // No match.
    let none = s3
        .list_objects_v2()
        .bucket(&b)
        .prefix("zzz")
        .send()
        .await
        .unwrap();
    assert_eq!(none.key_count(), Some(0));
    assert!(none.contents().is_empty());
    assert_eq!(none.is_truncated(), Some(false));

    // Pagination counts a common prefix as one entry, and never repeats it.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&b)
            .delimiter("/")
            .max_keys(1)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        assert_eq!(page.key_count(), Some(1));
        seen.extend(
            page.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_string)),
        );
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, vec!["a/", "b/", "c", "d/"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v2_start_after_and_fetch_owner() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = bucket_with(&s3, "startafter", &["a", "b", "c", "d"]).await;
    let out = s3
        .list_objects_v2()
        .bucket(&b)
        .start_after("b")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["c", "d"]);
    assert_eq!(out.start_after(), Some("b"));
    let out = s3
        .list_objects_v2()
        .bucket(&b)
        .start_after("bb")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["c", "d"]);

    let owned = s3
        .list_objects_v2()
        .bucket(&b)
        .fetch_owner(true)
        .send()
        .await
        .unwrap();
    let acl = s3.get_bucket_acl().bucket(&b).send().await.unwrap();
    let owner_id = acl.owner().and_then(|o| o.id()).unwrap();
    for o in owned.contents() {
        assert_eq!(o.owner().and_then(|w| w.id()), Some(owner_id), "{o:?}");
    }
    assert_eq!(owned.contents().len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v2_encoding_type_url() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let keys = ["plain", "sp ace/ü+plus", "amp&lt<gt>", "pct%41"];
    let b = bucket_with(&s3, "enc", &keys).await;
    let out = s3
        .list_objects_v2()
        .bucket(&b)
        .encoding_type(EncodingType::Url)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    let raw: Vec<_> = out
        .contents()
        .iter()
        .filter_map(|o| o.key())
        .chain(out.common_prefixes().iter().filter_map(|p| p.prefix()))
        .collect();
    for k in &raw {
        assert!(
            k.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"%+-_.~*/".contains(&c)),
            "not URL-encoded: {k:?}"
        );
    }
    let mut decoded: Vec<_> = raw.iter().map(|k| url_decode_s3(k)).collect();
    decoded.sort();
    assert_eq!(decoded, vec!["amp&lt<gt>", "pct%41", "plain", "sp ace/"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_v1_marker_and_next_marker() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let keys = numbered(12);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let b = bucket_with(&s3, "v1", &refs).await;

    // Without a delimiter S3 omits NextMarker; clients continue from the last key.
    let mut got = Vec::new();
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_objects()
            .bucket(&b)
            .max_keys(5)
            .set_marker(marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert_eq!(page.max_keys(), Some(5));
        assert_eq!(page.marker().unwrap_or(""), marker.as_deref().unwrap_or(""));
        let page_keys: Vec<String> = page
            .contents()
            .iter()
            .map(|o| o.key().unwrap().to_string())
            .collect();
        assert!(page_keys.len() <= 5);
        got.extend(page_keys.iter().cloned());
        if !page.is_truncated().unwrap() {
            break;
        }
        marker = Some(
            page.next_marker()
                .map(str::to_string)
                .unwrap_or_else(|| page_keys.last().unwrap().clone()),
        );
    }
    assert_eq!(pages, 3);
    assert_eq!(got, keys);

    // With a delimiter, a truncated page carries NextMarker.
    let b2 = bucket_with(&s3, "v1-delim", &["a/1", "a/2", "b/1", "c", "d"]).await;
    let page = s3
        .list_objects()
        .bucket(&b2)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.is_truncated(), Some(true));
    let prefixes: Vec<_> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, vec!["a/", "b/"]);
    assert_eq!(page.next_marker(), Some("b/"));
    let page = s3
        .list_objects()
        .bucket(&b2)
        .delimiter("/")
        .max_keys(2)
        .marker("b/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = page.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["c", "d"]);
    assert!(page.common_prefixes().is_empty());
    assert_eq!(page.is_truncated(), Some(false));

    // v1 always includes Owner.
    let full = s3.list_objects().bucket(&b2).send().await.unwrap();
    assert!(full.contents().iter().all(|o| o.owner().is_some()));
    assert_eq!(full.contents().len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_object_versions_unversioned_paginated() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let keys = numbered(7);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let b = bucket_with(&s3, "versions", &refs).await;

    let mut got = Vec::new();
    let mut key_marker: Option<String> = None;
    let mut vid_marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(&b)
            .max_keys(3)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(vid_marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.delete_markers().is_empty());
        assert!(page.versions().len() <= 3);
        for v in page.versions() {
            let k = v.key().unwrap();
            assert_eq!(v.version_id(), Some("null"), "{v:?}");
            assert_eq!(v.is_latest(), Some(true));
            assert_eq!(v.size(), Some(k.len() as i64));
            assert_eq!(v.e_tag(), Some(etag_of(k.as_bytes()).as_str()));
            assert!(v.last_modified().is_some());
            got.push(k.to_string());
        }
        if !page.is_truncated().unwrap() {
            assert_eq!(page.next_key_marker(), None);
            break;
        }
        let last = page.versions().last().unwrap().key().unwrap();
        assert_eq!(page.next_key_marker(), Some(last));
        key_marker = page.next_key_marker().map(str::to_string);
        vid_marker = page.next_version_id_marker().map(str::to_string);
    }
    assert_eq!(pages, 3);
    assert_eq!(got, keys);

    // Prefix and encoding-type=url.
    put(&s3, &b, "sp ace/ü", "x").await;
    let out = s3
        .list_object_versions()
        .bucket(&b)
        .prefix("sp ")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.versions().len(), 1);
    let raw = out.versions()[0].key().unwrap();
    assert_ne!(raw, "sp ace/ü", "key is URL-encoded");
    assert_eq!(url_decode_s3(raw), "sp ace/ü");
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_a_bucket_like_teardown_tools() {
    // What Terraform's force_destroy and test teardowns do: list versions, batch delete, delete.
    let server = Server::start(&[]);
    let s3 = server.client();
    let keys = numbered(30);
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let b = bucket_with(&s3, "teardown", &refs).await;
    loop {
        let page = s3
            .list_object_versions()
            .bucket(&b)
            .max_keys(8)
            .send()
            .await
            .unwrap();
        if page.versions().is_empty() {
            break;
        }
        let mut del = aws_sdk_s3::types::Delete::builder().quiet(true);
        for v in page.versions() {
            del = del.objects(
                aws_sdk_s3::types::ObjectIdentifier::builder()
                    .key(v.key().unwrap())
                    .set_version_id(v.version_id().map(str::to_string))
                    .build()
                    .unwrap(),
            );
        }
        let out = s3
            .delete_objects()
            .bucket(&b)
            .delete(del.build().unwrap())
            .bypass_governance_retention(true)
            .send()
            .await
            .unwrap();
        assert!(out.errors().is_empty(), "{:?}", out.errors());
    }
    s3.delete_bucket().bucket(&b).send().await.unwrap();
    assert_status(s3.head_bucket().bucket(&b).send().await, 404);
}
