//! What a deleted bucket leaves behind: nothing. Its bucket keys (cached and stored) go with it, so
//! a bucket created again under the same name, by another account or the same, never seals under
//! the old owner's bucket key; and uploads in progress go with it, whatever their keys hold.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use sealstore::store::Store;

use crate::common::*;

const KMS_ID: &str = "lifecycle-key";

/// Makes SSE-KMS under [`KMS_ID`] with S3 Bucket Keys the bucket's default encryption.
async fn kms_bucket_key_default(s3: &Client, bucket: &str) {
    let apply = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::AwsKms)
        .kms_master_key_id(KMS_ID)
        .build()
        .unwrap();
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(apply)
        .bucket_key_enabled(true)
        .build();
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap();
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .unwrap();
}

/// The stored bucket-key records (name, JSON) of a stopped server's data dir.
async fn bucket_key_records(dir: &Path) -> Vec<(String, serde_json::Value)> {
    let store = Store::open_dir(dir).await.unwrap();
    let all = store.config("").await.unwrap();
    all.into_iter()
        .filter(|(name, _)| name.contains("bucket-key/"))
        .map(|(name, v)| (name, serde_json::from_slice(&v).unwrap()))
        .collect()
}

/// Account A writes under a bucket key, then deletes its objects and the bucket; account B (alice)
/// creates the name again with the same default (a KMS key of the same id in its own keyring) and
/// writes. B's object must be sealed under a bucket key of B's own, and A's record must be gone:
/// before bucket keys were bound to the bucket's incarnation, B's objects were sealed under A's
/// cached bucket key (and so under A's KMS key), and A's record stayed forever.
#[tokio::test(flavor = "multi_thread")]
async fn a_recreated_bucket_never_uses_the_old_owners_bucket_key() {
    let mut server = Server::start(&["--kms-key", KMS_ID, "--user", ALICE_USER_ARG]);
    let a = server.client();
    let name = new_bucket(&a, "bkeys").await;
    kms_bucket_key_default(&a, &name).await;
    for key in ["one", "two"] {
        let out = a
            .put_object()
            .bucket(&name)
            .key(key)
            .body(ByteStream::from_static(b"A's object"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.bucket_key_enabled(), Some(true));
        a.delete_object()
            .bucket(&name)
            .key(key)
            .send()
            .await
            .unwrap();
    }
    a.delete_bucket().bucket(&name).send().await.unwrap();

    let b = server.alice();
    b.create_bucket().bucket(&name).send().await.unwrap();
    kms_bucket_key_default(&b, &name).await;
    put(&b, &name, "b", "B's object").await;
    assert_eq!(get_bytes(&b, &name, "b").await, b"B's object");
    // After a restart the bucket key is opened from its record (with its owner checked).
    server.restart();
    let b = server.alice();
    assert_eq!(get_bytes(&b, &name, "b").await, b"B's object");
    assert!(server.terminate().success());

    let records = bucket_key_records(server.data_dir().unwrap()).await;
    assert_eq!(
        records.len(),
        1,
        "A's record dropped, B's kept: {records:?}"
    );
    let (_, rec) = &records[0];
    assert_eq!(
        rec["account"], ALICE.2,
        "B's object sealed under A's bucket key"
    );
    assert_eq!(rec["bucket"], name.as_str());
}

/// S3's DeleteBucket refuses only a bucket that still holds objects; uploads in progress are
/// aborted with it (AWS docs: DeleteBucket, "All objects ... must be deleted before the bucket
/// itself can be deleted"). An upload of key `a NUL b` once lost its upload id there (the id was
/// split from `bucket NUL key NUL id` at the first NUL), so its part records and blobs stayed.
#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_bucket_frees_an_upload_whose_key_holds_nul() {
    let mut server = Server::start(&[]);
    let s3 = server.client();
    let bucket = new_bucket(&s3, "nulkey").await;
    let key = "a\0b";
    let up = s3
        .create_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_string();
    for n in 1..=2 {
        s3.upload_part()
            .bucket(&bucket)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(pattern(100_000, n as u8)))
            .send()
            .await
            .unwrap();
    }
    let blobs = server.data_dir().unwrap().join("blobs");
    assert_eq!(files_under(&blobs).len(), 2, "one blob per part");

    s3.delete_bucket().bucket(&bucket).send().await.unwrap();
    // Blobs are removed just after the commit: poll.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !files_under(&blobs).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(server.terminate().success());
    assert_eq!(
        files_under(&blobs),
        Default::default(),
        "part blobs left behind"
    );
    // The part records, read from meta.redb itself (the store would need the record keys).
    let db = redb::Database::open(server.data_dir().unwrap().join("meta.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let parts: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("parts");
    let left = match txn.open_table(parts) {
        Ok(t) => redb::ReadableTableMetadata::len(&t).unwrap(),
        Err(redb::TableError::TableDoesNotExist(_)) => 0,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(left, 0, "part records left behind (upload {id})");
}
