//! Versioning through aws-sdk-s3: Put/GetBucketVersioning, versions and delete markers on every
//! write path, reads and deletes by version id, ListObjectVersions, DeleteBucket while versions
//! remain, and what survives a restart.

mod listing;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier,
    VersioningConfiguration,
};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use aws_sdk_s3::Client;

use crate::common::*;

pub async fn set_versioning(s3: &Client, bucket: &str, status: BucketVersioningStatus) {
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .unwrap();
}

pub async fn put_v(s3: &Client, bucket: &str, key: &str, body: &[u8]) -> Option<String> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .unwrap()
        .version_id
}

/// Code, status, `x-amz-delete-marker` and `x-amz-version-id` of a failed call.
fn marker_err<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    res: Result<T, SdkError<E, HttpResponse>>,
) -> (Option<String>, u16, Option<String>, Option<String>) {
    let err = res.expect_err("expected an error");
    let raw = err.raw_response().expect("a response");
    let header = |n: &str| raw.headers().get(n).map(str::to_string);
    (
        err.code().map(str::to_string),
        raw.status().as_u16(),
        header("x-amz-delete-marker"),
        header("x-amz-version-id"),
    )
}

async fn get_version(s3: &Client, bucket: &str, key: &str, v: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .version_id(v)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn bucket_versioning_states_and_errors() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-state").await;
    // Never set: no Status.
    let got = s3.get_bucket_versioning().bucket(&b).send().await.unwrap();
    assert_eq!(got.status, None);
    assert_eq!(got.mfa_delete, None);
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let got = s3.get_bucket_versioning().bucket(&b).send().await.unwrap();
    assert_eq!(got.status, Some(BucketVersioningStatus::Enabled));
    set_versioning(&s3, &b, BucketVersioningStatus::Suspended).await;
    let got = s3.get_bucket_versioning().bucket(&b).send().await.unwrap();
    assert_eq!(got.status, Some(BucketVersioningStatus::Suspended));

    // A status S3 does not define is MalformedXML; MFA delete is refused, never ignored; the
    // state is unchanged after each.
    let bad = s3
        .put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::from("Disabled"))
                .build(),
        )
        .send()
        .await;
    assert_err(bad, "MalformedXML", 400);
    let mfa = s3
        .put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(aws_sdk_s3::types::MfaDelete::Enabled)
                .build(),
        )
        .send()
        .await;
    assert_err(mfa, "NotImplemented", 501);
    let got = s3.get_bucket_versioning().bucket(&b).send().await.unwrap();
    assert_eq!(got.status, Some(BucketVersioningStatus::Suspended));
    // MFADelete Disabled is what a bucket without MFA has: accepted.
    s3.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .mfa_delete(aws_sdk_s3::types::MfaDelete::Disabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_err(
        s3.get_bucket_versioning()
            .bucket("no-such-bucket-ver")
            .send()
            .await,
        "NoSuchBucket",
        404,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_write_makes_a_version_and_each_reads_back() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-writes").await;
    // Before versioning: no version header; the object is the null version.
    assert_eq!(put_v(&s3, &b, "k", b"null-body").await, None);
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put_v(&s3, &b, "k", b"one").await.unwrap();
    let v2 = put_v(&s3, &b, "k", b"two").await.unwrap();
    assert_ne!(v1, v2);
    assert_eq!(v1.len(), 32);
    // Copy from a version.
    let copy = s3
        .copy_object()
        .bucket(&b)
        .key("k")
        .copy_source(format!("{b}/k?versionId={v1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(copy.copy_source_version_id.as_deref(), Some(v1.as_str()));
    let v3 = copy.version_id.unwrap();
    // Multipart.
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap();
    let id = up.upload_id.unwrap();
    let part = s3
        .upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"four"))
        .send()
        .await
        .unwrap();
    let done = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag.unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let v4 = done.version_id.unwrap();

    assert_eq!(get_bytes(&s3, &b, "k").await, b"four");
    assert_eq!(get_version(&s3, &b, "k", "null").await, b"null-body");
    assert_eq!(get_version(&s3, &b, "k", &v1).await, b"one");
    assert_eq!(get_version(&s3, &b, "k", &v2).await, b"two");
    assert_eq!(get_version(&s3, &b, "k", &v3).await, b"one");
    assert_eq!(get_version(&s3, &b, "k", &v4).await, b"four");
    let head = s3
        .head_object()
        .bucket(&b)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id.as_deref(), Some(v2.as_str()));
    assert_eq!(head.e_tag.as_deref(), Some(etag_of(b"two").as_str()));
    let current = s3.get_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(current.version_id.as_deref(), Some(v4.as_str()));
    let attrs = s3
        .get_object_attributes()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::ObjectSize)
        .object_attributes(aws_sdk_s3::types::ObjectAttributes::Etag)
        .send()
        .await
        .unwrap();
    assert_eq!(attrs.object_size, Some(3));
    assert_eq!(attrs.version_id.as_deref(), Some(v1.as_str()));
    assert_eq!(
        attrs.e_tag.map(|e| format!("\"{e}\"")),
        Some(etag_of(b"one"))
    );

    // Each version has its own tags; tagging an older version by id leaves the current one alone.
    let tag = aws_sdk_s3::types::Tag::builder()
        .key("gen")
        .value("first")
        .build()
        .unwrap();
    let tagged = s3
        .put_object_tagging()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.version_id.as_deref(), Some(v1.as_str()));
    let got = s3
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.tag_set().len(), 1);
    assert_eq!(got.version_id.as_deref(), Some(v1.as_str()));
    let current = s3
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(current.tag_set().is_empty());
    assert_eq!(get_version(&s3, &b, "k", &v1).await, b"one");

    // UploadPartCopy from an older version.
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("pc")
        .send()
        .await
        .unwrap();
    let pc = s3
        .upload_part_copy()
        .bucket(&b)
        .key("pc")
        .upload_id(up.upload_id.unwrap())
        .part_number(1)
        .copy_source(format!("{b}/k?versionId={v2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pc.copy_source_version_id.as_deref(), Some(v2.as_str()));
    assert_eq!(
        pc.copy_part_result.unwrap().e_tag.as_deref(),
        Some(etag_of(b"two").as_str())
    );

    // Unknown and malformed version ids.
    let unknown = format!("{}0", &v1[..31]);
    assert_err(
        s3.get_object()
            .bucket(&b)
            .key("k")
            .version_id(&unknown)
            .send()
            .await,
        "NoSuchVersion",
        404,
    );
    assert_err(
        s3.get_object()
            .bucket(&b)
            .key("k")
            .version_id("not-a-version")
            .send()
            .await,
        "InvalidArgument",
        400,
    );
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("x")
            .copy_source(format!("{b}/k?versionId={unknown}"))
            .send()
            .await,
        "NoSuchVersion",
        404,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_markers_hide_and_deleting_by_id_is_permanent() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-delete").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put_v(&s3, &b, "k", b"one").await.unwrap();
    let del = s3.delete_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(del.delete_marker, Some(true));
    let marker = del.version_id.unwrap();
    assert_ne!(marker, v1);

    // The key is hidden: 404 NoSuchKey with the marker headers.
    let (code, status, dm, vid) = marker_err(s3.get_object().bucket(&b).key("k").send().await);
    assert_eq!((code.as_deref(), status), (Some("NoSuchKey"), 404));
    assert_eq!(
        (dm.as_deref(), vid.as_deref()),
        (Some("true"), Some(marker.as_str()))
    );
    // The marker by id: 405 MethodNotAllowed, with the marker headers.
    let (code, status, dm, _) = marker_err(
        s3.get_object()
            .bucket(&b)
            .key("k")
            .version_id(&marker)
            .send()
            .await,
    );
    assert_eq!((code.as_deref(), status), (Some("MethodNotAllowed"), 405));
    assert_eq!(dm.as_deref(), Some("true"));
    let (_, status, dm, _) = marker_err(s3.head_object().bucket(&b).key("k").send().await);
    assert_eq!((status, dm.as_deref()), (404, Some("true")));
    // Listings of current objects skip the key; the older version still reads.
    let listed = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(listed.key_count, Some(0));
    assert_eq!(get_version(&s3, &b, "k", &v1).await, b"one");
    // DeleteBucket refuses while versions remain.
    assert_err(
        s3.delete_bucket().bucket(&b).send().await,
        "BucketNotEmpty",
        409,
    );

    // Deleting the marker by id brings v1 back.
    let del = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .unwrap();
    assert_eq!(del.delete_marker, Some(true));
    assert_eq!(del.version_id.as_deref(), Some(marker.as_str()));
    assert_eq!(get_bytes(&s3, &b, "k").await, b"one");
    // Deleting v1 by id removes it for good; nothing is left.
    let v2 = put_v(&s3, &b, "k", b"two").await.unwrap();
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"one");
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_err(
        s3.get_object()
            .bucket(&b)
            .key("k")
            .version_id(&v1)
            .send()
            .await,
        "NoSuchVersion",
        404,
    );
    assert_err(
        s3.head_object().bucket(&b).key("k").send().await,
        "NotFound",
        404,
    );
    s3.delete_bucket().bucket(&b).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn suspended_buckets_replace_the_null_version() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-susp").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put_v(&s3, &b, "k", b"one").await.unwrap();
    set_versioning(&s3, &b, BucketVersioningStatus::Suspended).await;
    assert_eq!(put_v(&s3, &b, "k", b"n1").await.as_deref(), Some("null"));
    assert_eq!(put_v(&s3, &b, "k", b"n2").await.as_deref(), Some("null"));
    // One null version (the latest write), v1 kept.
    let listed = s3.list_object_versions().bucket(&b).send().await.unwrap();
    let ids: Vec<_> = listed
        .versions()
        .iter()
        .map(|v| (v.version_id().unwrap().to_string(), v.is_latest().unwrap()))
        .collect();
    assert_eq!(ids, vec![("null".to_string(), true), (v1.clone(), false)]);
    assert_eq!(get_version(&s3, &b, "k", "null").await, b"n2");
    // A delete in a suspended bucket: a null delete marker replaces the null version.
    let del = s3.delete_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(del.delete_marker, Some(true));
    assert_eq!(del.version_id.as_deref(), Some("null"));
    let listed = s3.list_object_versions().bucket(&b).send().await.unwrap();
    assert_eq!(listed.versions().len(), 1);
    assert_eq!(listed.delete_markers().len(), 1);
    assert_eq!(listed.delete_markers()[0].version_id(), Some("null"));
    assert_eq!(get_version(&s3, &b, "k", &v1).await, b"one");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_with_version_ids() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-multi").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put_v(&s3, &b, "a", b"1").await.unwrap();
    let v2 = put_v(&s3, &b, "a", b"2").await.unwrap();
    put_v(&s3, &b, "b", b"b").await.unwrap();
    let ids = [
        ObjectIdentifier::builder()
            .key("a")
            .version_id(&v1)
            .build()
            .unwrap(),
        ObjectIdentifier::builder().key("b").build().unwrap(),
        ObjectIdentifier::builder()
            .key("a")
            .version_id("bad")
            .build()
            .unwrap(),
    ];
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .set_objects(Some(ids.to_vec()))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deleted = out.deleted();
    assert_eq!(deleted.len(), 2);
    assert_eq!(deleted[0].version_id(), Some(v1.as_str()));
    assert_eq!(deleted[1].delete_marker(), Some(true));
    assert!(deleted[1].delete_marker_version_id().is_some());
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].code(), Some("InvalidArgument"));
    assert_err(
        s3.get_object()
            .bucket(&b)
            .key("a")
            .version_id(&v1)
            .send()
            .await,
        "NoSuchVersion",
        404,
    );
    assert_eq!(get_version(&s3, &b, "a", &v2).await, b"2");
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_and_markers_survive_a_restart() {
    let mut server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-restart").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    let v1 = put_v(&s3, &b, "k", &pattern(200_000, 1)).await.unwrap();
    let v2 = put_v(&s3, &b, "k", b"small").await.unwrap();
    let marker = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    server.crash_and_restart();
    let s3 = server.client();
    assert_eq!(get_version(&s3, &b, "k", &v1).await, pattern(200_000, 1));
    assert_eq!(get_version(&s3, &b, "k", &v2).await, b"small");
    let listed = s3.list_object_versions().bucket(&b).send().await.unwrap();
    assert_eq!(listed.versions().len(), 2);
    assert_eq!(
        listed.delete_markers()[0].version_id(),
        Some(marker.as_str())
    );
    assert_eq!(listed.delete_markers()[0].is_latest(), Some(true));
    let got = s3.get_bucket_versioning().bucket(&b).send().await.unwrap();
    assert_eq!(got.status, Some(BucketVersioningStatus::Enabled));
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_writes_see_through_delete_markers() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ver-cond").await;
    set_versioning(&s3, &b, BucketVersioningStatus::Enabled).await;
    put_v(&s3, &b, "k", b"one").await.unwrap();
    assert_err(
        s3.put_object()
            .bucket(&b)
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .if_none_match("*")
            .send()
            .await,
        "PreconditionFailed",
        412,
    );
    s3.delete_object().bucket(&b).key("k").send().await.unwrap();
    // The current version is a marker: the key does not exist for If-None-Match.
    s3.put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"two"))
        .if_none_match("*")
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "k").await, b"two");
}
