//! The `object_store` crate (what Rust applications such as Delta-style logs and DataFusion use)
//! against sealstore: `PutMode::Create` is S3's `If-None-Match: *` and `PutMode::Update` its
//! `If-Match`; a lost race must surface as the crate's `AlreadyExists` / `Precondition`, never as a
//! silent overwrite. Also in a versioned bucket, where each update's version id comes back.

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Error, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion,
};

use crate::common::*;

fn store(server: &Server, bucket: &str) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_bucket_name(bucket)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .unwrap()
}

fn mode(m: PutMode) -> PutOptions {
    PutOptions {
        mode: m,
        ..PutOptions::default()
    }
}

async fn body(s: &AmazonS3, p: &Path) -> Vec<u8> {
    s.get(p).await.unwrap().bytes().await.unwrap().to_vec()
}

async fn create_and_update(s: &AmazonS3) {
    let p = Path::from("log/00000.json");
    let first = s
        .put_opts(&p, PutPayload::from_static(b"one"), mode(PutMode::Create))
        .await
        .unwrap();
    // Create again: AlreadyExists, and the object is unchanged.
    let again = s
        .put_opts(&p, PutPayload::from_static(b"two"), mode(PutMode::Create))
        .await;
    assert!(
        matches!(again, Err(Error::AlreadyExists { .. })),
        "{again:?}"
    );
    assert_eq!(body(s, &p).await, b"one");

    // Update against the version read: succeeds; against a stale one: Precondition.
    let current = UpdateVersion {
        e_tag: first.e_tag.clone(),
        version: None,
    };
    let second = s
        .put_opts(
            &p,
            PutPayload::from_static(b"two"),
            mode(PutMode::Update(current.clone())),
        )
        .await
        .unwrap();
    assert_ne!(second.e_tag, first.e_tag);
    let stale = s
        .put_opts(
            &p,
            PutPayload::from_static(b"three"),
            mode(PutMode::Update(current)),
        )
        .await;
    assert!(
        matches!(stale, Err(Error::Precondition { .. })),
        "{stale:?}"
    );
    assert_eq!(body(s, &p).await, b"two");
}

#[tokio::test(flavor = "multi_thread")]
async fn put_mode_create_and_update() {
    let server = Server::start(&[]);
    let b = new_bucket(&server.client(), "objstore").await;
    create_and_update(&store(&server, &b)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn put_mode_create_and_update_in_a_versioned_bucket() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "objstore-ver").await;
    crate::sdk_versioning::set_versioning(
        &s3,
        &b,
        aws_sdk_s3::types::BucketVersioningStatus::Enabled,
    )
    .await;
    let s = store(&server, &b);
    create_and_update(&s).await;
    // Every successful write is a version of its own.
    let listed = s3.list_object_versions().bucket(&b).send().await.unwrap();
    assert_eq!(listed.versions().len(), 2);
    // A key whose current version is a delete marker can be created again.
    let p = Path::from("log/00000.json");
    s.delete(&p).await.unwrap();
    s.put_opts(&p, PutPayload::from_static(b"new"), mode(PutMode::Create))
        .await
        .unwrap();
    assert_eq!(body(&s, &p).await, b"new");
}

/// Of many concurrent `PutMode::Create` writers of one path exactly one wins.
#[tokio::test(flavor = "multi_thread")]
async fn one_of_many_concurrent_creates_wins() {
    let server = Server::start(&[]);
    let b = new_bucket(&server.client(), "objstore-race").await;
    let s = std::sync::Arc::new(store(&server, &b));
    let p = Path::from("lock");
    let tasks: Vec<_> = (0..16u8)
        .map(|i| {
            let (s, p) = (s.clone(), p.clone());
            tokio::spawn(async move {
                s.put_opts(&p, PutPayload::from(vec![i]), mode(PutMode::Create))
                    .await
            })
        })
        .collect();
    let mut won = Vec::new();
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.unwrap() {
            Ok(_) => won.push(i as u8),
            Err(Error::AlreadyExists { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won.len(), 1);
    assert_eq!(body(&s, &p).await, won);
}
