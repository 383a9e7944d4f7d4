//! ListObjectVersions of a versioned bucket: S3's order (keys ascending, each key newest first,
//! markers among versions), IsLatest, key-marker/version-id-marker pages, prefix and delimiter.

use aws_sdk_s3::types::BucketVersioningStatus;

use super::{put_v, set_versioning};
use aws_sdk_s3::Client;

use crate::common::*;

/// (key, version id, is latest, is marker) of every entry, following every page.
async fn all_entries(
    s3: &Client,
    bucket: &str,
    max_keys: i32,
) -> (Vec<(String, String, bool, bool)>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .max_keys(max_keys)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        // Versions and markers come as two lists in the SDK; merge them back by the listing
        // order (key, then newest first), which is what the XML interleaves.
        let mut entries: Vec<(String, String, bool, bool, i64)> = Vec::new();
        for v in page.versions() {
            entries.push((
                v.key().unwrap().into(),
                v.version_id().unwrap().into(),
                v.is_latest().unwrap(),
                false,
                v.last_modified().unwrap().as_nanos() as i64,
            ));
        }
        for m in page.delete_markers() {
            entries.push((
                m.key().unwrap().into(),
                m.version_id().unwrap().into(),
                m.is_latest().unwrap(),
                true,
                m.last_modified().unwrap().as_nanos() as i64,
            ));
        }
        assert!(entries.len() <= max_keys as usize);
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(b.4.cmp(&a.4)).then(b.1.cmp(&a.1)));
        out.extend(entries.into_iter().map(|(k, v, l, m, _)| (k, v, l, m)));
        if !page.is_truncated().unwrap_or(false) {
            return (out, pages);
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
        assert!(key_marker.is_some());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_list_in_order_and_page_by_markers() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-list").await;
    put_v(&s3, &b, "a", b"a-null").await;
    // The null version's LastModified must differ from the next write's (the helper orders by
    // it).
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let mut a_versions = Vec::new();
    for i in 0..5 {
        a_versions.push(
            put_v(&s3, &b, "a", format!("a{i}").as_bytes())
                .await
                .unwrap(),
        );
    }
    let b_v = put_v(&s3, &b, "b", b"b").await.unwrap();
    let marker = s3
        .delete_object()
        .bucket(&b)
        .key("b")
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let c_v = put_v(&s3, &b, "c", b"c").await.unwrap();

    let mut expected = Vec::new();
    for (i, v) in a_versions.iter().enumerate().rev() {
        expected.push(("a".to_string(), v.clone(), i == 4, false));
    }
    expected.push(("a".into(), "null".into(), false, false));
    expected.push(("b".into(), marker.clone(), true, true));
    expected.push(("b".into(), b_v.clone(), false, false));
    expected.push(("c".into(), c_v.clone(), true, false));

    for max in [1000, 1, 2, 3] {
        let (got, pages) = all_entries(&s3, &b, max).await;
        // Same-millisecond versions sort by id in the helper; compare as sets per key order.
        assert_eq!(got.len(), expected.len(), "max-keys {max}");
        assert_eq!(
            got.iter().map(|e| (&e.0, e.2, e.3)).collect::<Vec<_>>(),
            expected
                .iter()
                .map(|e| (&e.0, e.2, e.3))
                .collect::<Vec<_>>(),
            "max-keys {max}"
        );
        let mut ids: Vec<_> = got.iter().map(|e| e.1.clone()).collect();
        let mut want: Vec<_> = expected.iter().map(|e| e.1.clone()).collect();
        ids.sort();
        want.sort();
        assert_eq!(ids, want, "max-keys {max}");
        assert_eq!(pages, expected.len().div_ceil(max as usize).max(1));
    }

    // The key-marker alone skips every version of that key.
    let page = s3
        .list_object_versions()
        .bucket(&b)
        .key_marker("a")
        .send()
        .await
        .unwrap();
    assert_eq!(page.versions().len(), 2);
    assert_eq!(page.delete_markers().len(), 1);
    // Current-object listings never show older versions or markers.
    let v2 = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    let keys: Vec<_> = v2.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, vec!["a", "c"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_fold_on_the_delimiter() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-delim").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    for key in ["d/1", "d/2", "d/2", "e", "e"] {
        put_v(&s3, &b, key, b"x").await.unwrap();
    }
    let page = s3
        .list_object_versions()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<_> = page
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(prefixes, vec!["d/"]);
    assert_eq!(page.versions().len(), 2);
    let page = s3
        .list_object_versions()
        .bucket(&b)
        .prefix("d/")
        .send()
        .await
        .unwrap();
    assert_eq!(page.versions().len(), 3);
}

/// A key with many versions lists page by page; each page holds at most max-keys entries.
#[tokio::test(flavor = "multi_thread")]
async fn a_key_with_many_versions_pages() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-many").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let mut ids = Vec::new();
    for i in 0..300u32 {
        ids.push(put_v(&s3, &b, "hot", &i.to_be_bytes()).await.unwrap());
    }
    let (got, pages) = all_entries(&s3, &b, 100).await;
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 300);
    assert_eq!(got.iter().filter(|e| e.2).count(), 1);
    let mut listed: Vec<_> = got.into_iter().map(|e| e.1).collect();
    listed.sort();
    ids.sort();
    assert_eq!(listed, ids);
}
