//! Object tags through aws-sdk-s3: Put/Get/DeleteObjectTagging, `x-amz-tagging` on PutObject and
//! CreateMultipartUpload, `x-amz-tagging-directive` on CopyObject, `x-amz-tagging-count` on GET
//! and HEAD; every refusal with S3's code and status, and the object and its tags unchanged.

use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Tag, Tagging,
    TaggingDirective,
};
use base64::Engine;
use md5::{Digest, Md5};

use crate::common::*;

fn tagging(pairs: &[(&str, &str)]) -> Tagging {
    let tags = pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().unwrap());
    Tagging::builder()
        .set_tag_set(Some(tags.collect()))
        .build()
        .unwrap()
}

async fn tags_of(s3: &Client, b: &str, key: &str) -> Vec<(String, String)> {
    let out = s3
        .get_object_tagging()
        .bucket(b)
        .key(key)
        .send()
        .await
        .unwrap();
    out.tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn put_tags(s3: &Client, b: &str, key: &str, pairs: &[(&str, &str)]) {
    s3.put_object_tagging()
        .bucket(b)
        .key(key)
        .tagging(tagging(pairs))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_round_trip_and_leave_the_object_alone() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "tags").await;
    // The header's tags, listed by key; GET and HEAD count them.
    s3.put_object()
        .bucket(&b)
        .key("k")
        .tagging("team=blue&env=prod+eu&empty=")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&s3, &b, "k").await,
        owned(&[("empty", ""), ("env", "prod eu"), ("team", "blue")])
    );
    let head = s3.head_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(head.tag_count(), Some(3));
    let get = s3.get_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(get.tag_count(), Some(3));

    // PutObjectTagging replaces the set; body, ETag and Last-Modified stay.
    put_tags(&s3, &b, "k", &[("a", "1")]).await;
    assert_eq!(tags_of(&s3, &b, "k").await, owned(&[("a", "1")]));
    let after = s3.head_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(after.e_tag(), head.e_tag());
    assert_eq!(after.last_modified(), head.last_modified());
    assert_eq!(after.tag_count(), Some(1));
    assert_eq!(get_bytes(&s3, &b, "k").await, b"hello");

    // DeleteObjectTagging (204) empties it; an object without tags has no count.
    s3.delete_object_tagging()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .unwrap();
    assert!(tags_of(&s3, &b, "k").await.is_empty());
    let head = s3.head_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(head.tag_count(), None);
    // An empty set is how PutObjectTagging deletes too; `versionId=null` names the object.
    put_tags(&s3, &b, "k", &[("a", "1")]).await;
    put_tags(&s3, &b, "k", &[]).await;
    assert!(tags_of(&s3, &b, "k").await.is_empty());
    let out = s3
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert!(out.tag_set().is_empty());
    assert_eq!(get_bytes(&s3, &b, "k").await, b"hello");

    // Overwriting the object drops its tags, as a new object has only those it is written with.
    put_tags(&s3, &b, "k", &[("a", "1")]).await;
    put(&s3, &b, "k", b"again".to_vec()).await;
    assert!(tags_of(&s3, &b, "k").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_tag_sets_change_nothing() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "tags-refused").await;
    put(&s3, &b, "k", b"body".to_vec()).await;
    put_tags(&s3, &b, "k", &[("keep", "me")]).await;
    let before = s3.head_object().bucket(&b).key("k").send().await.unwrap();
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (eleven, "BadRequest"),
        (vec![("a", "1"), ("a", "2")], "InvalidTag"),
        (vec![("aws:cost", "1")], "InvalidTag"),
        (vec![(long_key.as_str(), "")], "InvalidTag"),
        (vec![("k", long_value.as_str())], "InvalidTag"),
        (vec![("a,b", "1")], "InvalidTag"),
        (vec![("k", "a\tb")], "InvalidTag"),
    ];
    for (pairs, code) in cases {
        let res = s3
            .put_object_tagging()
            .bucket(&b)
            .key("k")
            .tagging(tagging(&pairs))
            .send()
            .await;
        assert_err(res, code, 400);
        assert_eq!(tags_of(&s3, &b, "k").await, owned(&[("keep", "me")]));
    }
    let after = s3.head_object().bucket(&b).key("k").send().await.unwrap();
    assert_eq!(after.e_tag(), before.e_tag());
    assert_eq!(get_bytes(&s3, &b, "k").await, b"body");

    // No object, no bucket.
    let res = s3
        .put_object_tagging()
        .bucket(&b)
        .key("missing")
        .tagging(tagging(&[("a", "1")]))
        .send()
        .await;
    assert_err(res, "NoSuchKey", 404);
    assert_status(s3.head_object().bucket(&b).key("missing").send().await, 404);
    let res = s3
        .get_object_tagging()
        .bucket(&b)
        .key("missing")
        .send()
        .await;
    assert_err(res, "NoSuchKey", 404);
    let res = s3
        .delete_object_tagging()
        .bucket(&b)
        .key("missing")
        .send()
        .await;
    assert_err(res, "NoSuchKey", 404);
    let res = s3
        .get_object_tagging()
        .bucket(bucket_name("nope"))
        .key("k")
        .send()
        .await;
    assert_err(res, "NoSuchBucket", 404);
    // A version other than "null" does not exist.
    let res = s3
        .get_object_tagging()
        .bucket(&b)
        .key("k")
        .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
        .send()
        .await;
    assert_err(res, "InvalidArgument", 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_headers_write_nothing() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "tags-header").await;
    put(&s3, &b, "k", b"old".to_vec()).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=v")).collect();
    for (header, code) in [
        ("a=1&a=2", "InvalidArgument"),
        ("=1", "InvalidArgument"),
        ("a=%FF", "InvalidArgument"),
        (eleven.join("&").as_str(), "BadRequest"),
        ("a%2Cb=1", "InvalidTag"),
        ("aws:cost=1", "InvalidTag"),
    ] {
        for key in ["k", "new"] {
            let res = s3
                .put_object()
                .bucket(&b)
                .key(key)
                .tagging(header)
                .body(ByteStream::from_static(b"new"))
                .send()
                .await;
            assert_err(res, code, 400);
        }
        assert_eq!(get_bytes(&s3, &b, "k").await, b"old");
        assert_status(s3.head_object().bucket(&b).key("new").send().await, 404);
        let res = s3
            .create_multipart_upload()
            .bucket(&b)
            .key("mp")
            .tagging(header)
            .send()
            .await;
        assert_err(res, code, 400);
    }
    let uploads = s3.list_multipart_uploads().bucket(&b).send().await.unwrap();
    assert!(uploads.uploads().is_empty(), "{uploads:?}");
    assert!(tags_of(&s3, &b, "k").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_and_multipart_uploads_carry_tags() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "tags-copy").await;
    s3.put_object()
        .bucket(&b)
        .key("src")
        .tagging("s=1")
        .body(ByteStream::from_static(b"src"))
        .send()
        .await
        .unwrap();
    let copy = |dst: &str| {
        s3.copy_object()
            .bucket(&b)
            .key(dst)
            .copy_source(format!("{b}/src"))
    };
    // COPY is the default; S3 ignores x-amz-tagging without REPLACE.
    copy("d1").tagging("x=9").send().await.unwrap();
    assert_eq!(tags_of(&s3, &b, "d1").await, owned(&[("s", "1")]));
    copy("d2")
        .tagging_directive(TaggingDirective::Copy)
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&s3, &b, "d2").await, owned(&[("s", "1")]));
    copy("d3")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("r=2&q=3")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&s3, &b, "d3").await,
        owned(&[("q", "3"), ("r", "2")])
    );
    copy("d4")
        .tagging_directive(TaggingDirective::Replace)
        .send()
        .await
        .unwrap();
    assert!(tags_of(&s3, &b, "d4").await.is_empty());
    // Refused: an unknown directive, REPLACE with a bad set; nothing written.
    let res = copy("d5")
        .tagging_directive(TaggingDirective::from("MOVE"))
        .send()
        .await;
    assert_err(res, "InvalidArgument", 400);
    let res = copy("d5")
        .tagging_directive(TaggingDirective::Replace)
        .tagging("aws:x=1")
        .send()
        .await;
    assert_err(res, "InvalidTag", 400);
    assert_status(s3.head_object().bucket(&b).key("d5").send().await, 404);

    // CreateMultipartUpload's tags land on the completed object.
    let create = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .tagging("m=1&n=2")
        .send()
        .await
        .unwrap();
    let id = create.upload_id().unwrap();
    let up = s3
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    let part = CompletedPart::builder()
        .part_number(1)
        .set_e_tag(up.e_tag().map(str::to_string))
        .build();
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().parts(part).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags_of(&s3, &b, "mp").await,
        owned(&[("m", "1"), ("n", "2")])
    );
    let head = s3.head_object().bucket(&b).key("mp").send().await.unwrap();
    assert_eq!(head.tag_count(), Some(2));
}

/// SSE-C: the tagging operations take no customer key, and re-tagging keeps the checksums sealed
/// under the customer's key.
#[tokio::test(flavor = "multi_thread")]
async fn ssec_objects_are_tagged_without_their_key() {
    let server =
        Server::start_with(Options::default().env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"));
    let s3 = server.client();
    let b = new_bucket(&s3, "tags-ssec").await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let raw = [7u8; 32];
    let (key, md5) = (b64.encode(raw), b64.encode(Md5::digest(raw)));
    let put = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .tagging("a=1")
        .body(ByteStream::from_static(b"secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&s3, &b, "k").await, owned(&[("a", "1")]));
    put_tags(&s3, &b, "k", &[("b", "2")]).await;
    assert_eq!(tags_of(&s3, &b, "k").await, owned(&[("b", "2")]));
    let head = s3
        .head_object()
        .bucket(&b)
        .key("k")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&key)
        .sse_customer_key_md5(&md5)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(head.checksum_sha256(), put.checksum_sha256());
    assert_eq!(head.e_tag(), put.e_tag());
    assert_eq!(head.tag_count(), Some(1));
}

/// Tagging races overwrites: it never puts an older record back (whose body the overwrite freed);
/// when overwrites keep winning it answers S3's 409 OperationAborted.
#[tokio::test(flavor = "multi_thread")]
async fn tagging_never_undoes_a_concurrent_overwrite() {
    let server = Server::start(&[]);
    let s3 = Arc::new(server.client());
    let b = Arc::new(new_bucket(&s3, "tags-race").await);
    put(&s3, &b, "k", pattern(300 * 1024, 0)).await;
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let (c, bk) = (s3.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            put(&c, &bk, "k", pattern(300 * 1024, i + 1)).await;
        }));
        let (c, bk) = (s3.clone(), b.clone());
        tasks.push(tokio::spawn(async move {
            let v = i.to_string();
            let res = c
                .put_object_tagging()
                .bucket(bk.as_str())
                .key("k")
                .tagging(tagging(&[("round", v.as_str())]))
                .send()
                .await;
            if res.is_err() {
                assert_err(res, "OperationAborted", 409);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let body = get_bytes(&s3, &b, "k").await;
    assert!((1..=16u8).any(|i| body == pattern(300 * 1024, i)));
    assert!(tags_of(&s3, &b, "k").await.len() <= 1);
}
