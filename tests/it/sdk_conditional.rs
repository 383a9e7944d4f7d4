//! Conditional writes through aws-sdk-s3: `If-None-Match: *` and `If-Match` on PutObject and
//! CompleteMultipartUpload, `If-Match` on DeleteObject; refusals change nothing; of 32 concurrent
//! create-only writers exactly one wins.

use std::sync::Arc;

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn put_object_if_none_match_and_if_match() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "cond-put").await;
    let put = |key: &str, body: &[u8]| {
        s3.put_object()
            .bucket(&b)
            .key(key)
            .body(body.to_vec().into())
    };

    // Create-only: the first write wins, the second is 412 and changes nothing.
    let first = put("k", b"one").if_none_match("*").send().await.unwrap();
    assert_eq!(first.e_tag(), Some(etag_of(b"one").as_str()));
    assert_err(
        put("k", b"two").if_none_match("*").send().await,
        "PreconditionFailed",
        412,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"one");

    // If-Match: a stale ETag is 412 and changes nothing; the current one replaces.
    assert_err(
        put("k", b"two").if_match(etag_of(b"other")).send().await,
        "PreconditionFailed",
        412,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"one");
    put("k", b"two")
        .if_match(etag_of(b"one"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"two");

    // If-Match on a key with no object: 404 NoSuchKey, and no object appears.
    assert_err(
        put("absent", b"x").if_match(etag_of(b"x")).send().await,
        "NoSuchKey",
        404,
    );
    assert_err(
        s3.head_object().bucket(&b).key("absent").send().await,
        "NotFound",
        404,
    );

    // S3 supports only `*` in If-None-Match, and not both headers together: 501.
    assert_err(
        put("k", b"three")
            .if_none_match(etag_of(b"one"))
            .send()
            .await,
        "NotImplemented",
        501,
    );
    assert_err(
        put("new", b"three")
            .if_none_match("*")
            .if_match(etag_of(b"two"))
            .send()
            .await,
        "NotImplemented",
        501,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"two");
    assert_err(
        s3.head_object().bucket(&b).key("new").send().await,
        "NotFound",
        404,
    );

    // A refused write leaves no blob behind: the data directory holds only what it held.
    let dir = server.data_dir().expect("data dir").to_path_buf();
    let big = pattern(300_000, 3);
    put("big", &big).send().await.unwrap();
    let before = files_under(&dir);
    for _ in 0..3 {
        assert_err(
            put("big", &pattern(300_000, 4))
                .if_none_match("*")
                .send()
                .await,
            "PreconditionFailed",
            412,
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let blobs = |s: &std::collections::BTreeSet<std::path::PathBuf>| {
        s.iter()
            .filter(|p| !p.to_string_lossy().contains("meta.redb"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(blobs(&files_under(&dir)), blobs(&before));
    assert!(get_bytes(&s3, &b, "big").await == big);
}

/// Of 32 concurrent `If-None-Match: *` writers of one key exactly one wins, and the object holds
/// the winner's body; the others get 412.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_create_only_writers_one_wins() {
    for server in [Server::start(&[]), Server::start_memory(&[])] {
        let s3 = Arc::new(server.client());
        let b = Arc::new(new_bucket(&s3, "cond-race").await);
        let tasks: Vec<_> = (0..32u8)
            .map(|i| {
                let (s3, b) = (s3.clone(), b.clone());
                tokio::spawn(async move {
                    let body = pattern(10_000 + usize::from(i), i);
                    let res = s3
                        .put_object()
                        .bucket(b.as_str())
                        .key("lock")
                        .if_none_match("*")
                        .body(body.clone().into())
                        .send()
                        .await;
                    (body, res)
                })
            })
            .collect();
        let mut winners = Vec::new();
        for t in tasks {
            let (body, res) = t.await.unwrap();
            match res {
                Ok(_) => winners.push(body),
                Err(e) => {
                    let (code, status) = err_of::<(), _>(Err(e));
                    assert_eq!((code.as_deref(), status), (Some("PreconditionFailed"), 412));
                }
            }
        }
        assert_eq!(winners.len(), 1, "exactly one create-only writer wins");
        assert!(get_bytes(&s3, &b, "lock").await == winners[0]);
    }
}

async fn one_part_upload(
    s3: &aws_sdk_s3::Client,
    b: &str,
    key: &str,
    body: &[u8],
) -> (String, CompletedMultipartUpload) {
    let id = s3
        .create_multipart_upload()
        .bucket(b)
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let part = s3
        .upload_part()
        .bucket(b)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap();
    let done = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .e_tag(part.e_tag().unwrap())
                .build(),
        )
        .build();
    (id, done)
}

#[tokio::test(flavor = "multi_thread")]
async fn complete_multipart_upload_with_conditions() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "cond-mpu").await;
    let complete = |id: &str, done: &CompletedMultipartUpload| {
        s3.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(id)
            .multipart_upload(done.clone())
    };

    // If-Match with no object: 404 NoSuchKey; the upload stays and completes later.
    let (id, done) = one_part_upload(&s3, &b, "k", b"first").await;
    assert_err(
        complete(&id, &done).if_match(etag_of(b"x")).send().await,
        "NoSuchKey",
        404,
    );
    let first = complete(&id, &done)
        .if_none_match("*")
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"first");

    // If-None-Match: * on an existing key: 412, the object unchanged, the upload kept.
    let (id, done) = one_part_upload(&s3, &b, "k", b"second").await;
    assert_err(
        complete(&id, &done).if_none_match("*").send().await,
        "PreconditionFailed",
        412,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"first");
    let parts = s3
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        parts.parts().len(),
        1,
        "a refused Complete keeps the upload"
    );

    // If-Match: a stale ETag is 412; the current one completes.
    assert_err(
        complete(&id, &done)
            .if_match(etag_of(b"first"))
            .send()
            .await,
        "PreconditionFailed",
        412,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"first");
    complete(&id, &done)
        .if_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"second");

    // Other If-None-Match values: 501.
    let (id, done) = one_part_upload(&s3, &b, "k", b"third").await;
    assert_err(
        complete(&id, &done).if_none_match("\"abc\"").send().await,
        "NotImplemented",
        501,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"second");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_object_if_match() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "cond-del").await;
    let etag = put(&s3, &b, "k", b"body".to_vec()).await;
    assert_err(
        s3.delete_object()
            .bucket(&b)
            .key("k")
            .if_match(etag_of(b"stale"))
            .send()
            .await,
        "PreconditionFailed",
        412,
    );
    assert_eq!(get_bytes(&s3, &b, "k").await, b"body");
    assert_err(
        s3.delete_object()
            .bucket(&b)
            .key("absent")
            .if_match("*")
            .send()
            .await,
        "NoSuchKey",
        404,
    );
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .unwrap();
    assert_err(
        s3.head_object().bucket(&b).key("k").send().await,
        "NotFound",
        404,
    );

    // DeleteObjects: an entry's ETag is its condition; a failed one is reported, the others go.
    put(&s3, &b, "a", b"a".to_vec()).await;
    put(&s3, &b, "c", b"c".to_vec()).await;
    let entry = |k: &str, e: Option<String>| {
        ObjectIdentifier::builder()
            .key(k)
            .set_e_tag(e)
            .build()
            .unwrap()
    };
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(entry("a", Some(etag_of(b"stale"))))
                .objects(entry("c", Some(etag_of(b"c"))))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 1);
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].key(), Some("a"));
    assert_eq!(out.errors()[0].code(), Some("PreconditionFailed"));
    assert_eq!(get_bytes(&s3, &b, "a").await, b"a");
}
