//! Request headers sealstore does not implement yet (src/ops/unsupported.rs), through the Rust
//! SDK: 501 NotImplemented, and nothing written.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ObjectLockMode, StorageClass};

use crate::common::*;

#[tokio::test(flavor = "multi_thread")]
async fn refused_headers_write_nothing() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "unsup").await;

    let res = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .website_redirect_location("/other")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await;
    assert_err(res, "NotImplemented", 501);
    assert_status(s3.head_object().bucket(&b).key("k").send().await, 404);

    let res = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .object_lock_mode(ObjectLockMode::Governance)
        .send()
        .await;
    assert_err(res, "NotImplemented", 501);
    let uploads = s3.list_multipart_uploads().bucket(&b).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "{uploads:?}");

    s3.put_object()
        .bucket(&b)
        .key("src")
        .body(ByteStream::from_static(b"data"))
        .send()
        .await
        .unwrap();
    let res = s3
        .copy_object()
        .bucket(&b)
        .key("dst")
        .copy_source(format!("{b}/src"))
        .object_lock_legal_hold_status(aws_sdk_s3::types::ObjectLockLegalHoldStatus::On)
        .send()
        .await;
    assert_err(res, "NotImplemented", 501);
    let res = s3
        .copy_object()
        .bucket(&b)
        .key("dst")
        .copy_source(format!("{b}/src"))
        .storage_class(StorageClass::Glacier)
        .send()
        .await;
    assert_err(res, "NotImplemented", 501);
    assert_status(s3.head_object().bucket(&b).key("dst").send().await, 404);
}
