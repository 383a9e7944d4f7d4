//! Uploads of keys that contain NUL: found exactly, and freed with their bucket.

use super::*;
use crate::store::model::{ObjectAddr, UploadAddr};

/// Upload `upload_id` of `key` in bucket `b`.
fn in_b<'a>(key: &'a str, upload_id: &'a str) -> UploadAddr<'a> {
    UploadAddr {
        object: ObjectAddr { bucket: "b", key },
        upload_id,
    }
}

fn upload(key: &str, upload_id: &str) -> UploadMeta {
    use crate::crypto::Encryption;
    use crate::crypto::envelope::SealedKey;
    UploadMeta {
        upload_id: upload_id.into(),
        key: key.into(),
        initiated_millis: 1,
        owner: "000000000000".into(),
        content_headers: Vec::new(),
        user_metadata: Vec::new(),
        checksum: None,
        encryption: Encryption::SseS3 {
            key: SealedKey {
                nonce: [0; 12],
                ciphertext: Vec::new(),
            },
        },
        tags: Vec::new(),
        seal: None,
    }
}

fn part(blob: &str) -> Box<PartMeta> {
    use crate::integrity::checksum::{Checksum, ChecksumAlgorithm};
    Box::new(PartMeta {
        blob: blob.into(),
        size: 1,
        etag: "e".into(),
        last_modified_millis: 1,
        checksum: Some(Checksum {
            algorithm: ChecksumAlgorithm::Crc64Nvme,
            value: vec![0; 8],
        }),
        seal: None,
    })
}

/// Keys may contain NUL: a bucket deleted with an upload of `a NUL b` in progress frees that
/// upload's parts (its id was once split from the table key at the first NUL, giving `b NUL
/// id` and leaving the parts behind), and key `a` with upload id `b NUL id` never reaches it.
#[tokio::test]
async fn uploads_of_keys_with_nul_are_found_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let stores = [
        MetaStore::Redb(RedbMeta::open(&dir.path().join("meta.redb")).unwrap()),
        MetaStore::Memory(MemoryMeta::default()),
    ];
    for meta in stores {
        let id = "0000000000010123456789abcdef";
        meta.write(WriteOp::CreateBucket {
            meta: BucketMeta::for_tests("b", "000000000000"),
            quota: usize::MAX,
        })
        .await
        .unwrap();
        meta.write(WriteOp::CreateUpload {
            bucket: "b".into(),
            upload: Box::new(upload("a\0b", id)),
        })
        .await
        .unwrap();
        for n in 1..=2 {
            meta.write(WriteOp::PutPart {
                bucket: "b".into(),
                key: "a\0b".into(),
                upload_id: id.into(),
                number: n,
                part: part(&format!("blob{n}")),
            })
            .await
            .unwrap();
        }
        // The same table key, spelt as key `a` and upload id `b NUL id`: not that upload.
        let alias = format!("b\0{id}");
        assert!(meta.upload(in_b("a", &alias)).await.unwrap().is_none());
        for op in [
            WriteOp::AbortUpload {
                bucket: "b".into(),
                key: "a".into(),
                upload_id: alias.clone(),
            },
            WriteOp::PutPart {
                bucket: "b".into(),
                key: "a".into(),
                upload_id: alias.clone(),
                number: 3,
                part: part("blob3"),
            },
        ] {
            assert!(matches!(
                meta.write(op).await,
                Err(StoreError::NoSuchUpload(_))
            ));
        }
        assert!(meta.upload(in_b("a\0b", id)).await.unwrap().is_some());
        assert_eq!(meta.parts(id, 0, 10).await.unwrap().len(), 2);

        // Another incarnation of the name (a fresh random one) is not this bucket.
        let stale = WriteOp::DeleteBucket {
            name: "b".into(),
            incarnation: BucketMeta::for_tests("b", "x").incarnation_id(),
        };
        assert!(matches!(
            meta.write(stale).await,
            Err(StoreError::NoSuchBucket(_))
        ));
        let incarnation = meta.bucket("b").await.unwrap().unwrap().incarnation_id();
        let freed = meta
            .write(WriteOp::DeleteBucket {
                name: "b".into(),
                incarnation,
            })
            .await
            .unwrap();
        let mut blobs: Vec<_> = freed.freed.iter().flat_map(|b| b.blobs()).collect();
        blobs.sort();
        assert_eq!(blobs, ["blob1", "blob2"]);
        assert!(meta.parts(id, 0, 10).await.unwrap().is_empty());
        assert!(meta.referenced_blobs().await.unwrap().is_empty());
    }
}
