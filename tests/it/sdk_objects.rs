//! Objects through aws-sdk-s3: put/get/head/delete, metadata and content headers, ranges,
//! conditionals, response-* overrides, CopyObject, DeleteObjects, awkward keys, concurrency,
//! restart durability and `--memory`.

use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{Delete, MetadataDirective, ObjectIdentifier};
use aws_smithy_types::date_time::Format;

use crate::common::*;

fn http_date(dt: &DateTime) -> String {
    dt.fmt(Format::HttpDate).unwrap()
}

fn shifted(dt: &DateTime, secs: i64) -> DateTime {
    DateTime::from_secs(dt.secs() + secs)
}

#[tokio::test(flavor = "multi_thread")]
async fn put_get_head_keep_metadata_and_content_headers() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "meta").await;
    let body = b"hello, sealstore".to_vec();
    let expires = DateTime::from_secs(2_100_000_000);

    let put = s3
        .put_object()
        .bucket(&b)
        .key("doc.txt")
        .body(body.clone().into())
        .content_type("text/plain; charset=utf-8")
        .cache_control("max-age=3600")
        .content_disposition("attachment; filename=\"doc.txt\"")
        .content_encoding("gzip")
        .content_language("en-GB")
        .expires(expires)
        .metadata("color", "blue")
        .metadata("Mixed-Case", "Value With Spaces")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(etag_of(&body).as_str()));

    let want_meta = meta(&[("color", "blue"), ("mixed-case", "Value With Spaces")]);
    let get = s3
        .get_object()
        .bucket(&b)
        .key("doc.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(get.e_tag(), Some(etag_of(&body).as_str()));
    assert_eq!(get.content_length(), Some(body.len() as i64));
    assert_eq!(get.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(get.cache_control(), Some("max-age=3600"));
    assert_eq!(
        get.content_disposition(),
        Some("attachment; filename=\"doc.txt\"")
    );
    assert_eq!(get.content_encoding(), Some("gzip"));
    assert_eq!(get.content_language(), Some("en-GB"));
    assert_eq!(get.expires_string(), Some(http_date(&expires).as_str()));
    assert_eq!(get.metadata(), Some(&want_meta));
    assert_eq!(get.accept_ranges(), Some("bytes"));
    assert!(get.last_modified().is_some());
    let got = get.body.collect().await.unwrap().into_bytes();
    assert_eq!(got.as_ref(), body.as_slice());

    let head = s3
        .head_object()
        .bucket(&b)
        .key("doc.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.e_tag(), Some(etag_of(&body).as_str()));
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(head.cache_control(), Some("max-age=3600"));
    assert_eq!(
        head.content_disposition(),
        Some("attachment; filename=\"doc.txt\"")
    );
    assert_eq!(head.content_encoding(), Some("gzip"));
    assert_eq!(head.content_language(), Some("en-GB"));
    assert_eq!(head.expires_string(), Some(http_date(&expires).as_str()));
    assert_eq!(head.metadata(), Some(&want_meta));
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_object_and_default_content_type() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "empty").await;
    let put = s3
        .put_object()
        .bucket(&b)
        .key("empty")
        .body(Vec::new().into())
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
    let get = s3
        .get_object()
        .bucket(&b)
        .key("empty")
        .send()
        .await
        .unwrap();
    assert_eq!(get.content_length(), Some(0));
    assert!(get.body.collect().await.unwrap().into_bytes().is_empty());

    // A PUT without any Content-Type header (the SDK always sends one, so use a presigned URL
    // and a bare HTTP client): S3 stores binary/octet-stream.
    let req = s3
        .put_object()
        .bucket(&b)
        .key("untyped")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                300,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    let resp = http()
        .put(req.uri())
        .body(b"no type".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let head = s3
        .head_object()
        .bucket(&b)
        .key("untyped")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("binary/octet-stream"));
}

#[tokio::test(flavor = "multi_thread")]
async fn large_object_round_trip_and_overwrite() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "large").await;
    let big = pattern(6 * 1024 * 1024 + 123, 7);
    let etag = put(&s3, &b, "big.bin", big.clone()).await;
    assert_eq!(etag, etag_of(&big));
    let got = get_bytes(&s3, &b, "big.bin").await;
    assert_eq!(got.len(), big.len());
    assert!(got == big, "6 MiB body differs after round trip");

    let small = b"now small".to_vec();
    let etag2 = put(&s3, &b, "big.bin", small.clone()).await;
    assert_eq!(etag2, etag_of(&small));
    assert_eq!(get_bytes(&s3, &b, "big.bin").await, small);
    let head = s3
        .head_object()
        .bucket(&b)
        .key("big.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(small.len() as i64));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_object_is_idempotent() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "del").await;
    put(&s3, &b, "k", "v").await;
    let rec = StatusRecorder::default();
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .customize()
        .interceptor(rec.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rec.get(), 204);
    assert_err(
        s3.get_object().bucket(&b).key("k").send().await,
        "NoSuchKey",
        404,
    );
    let rec = StatusRecorder::default();
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .customize()
        .interceptor(rec.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rec.get(), 204, "deleting a missing key is 204 too");
    // versionId=null addresses the current object on an unversioned bucket.
    put(&s3, &b, "k2", "v").await;
    let got = s3
        .get_object()
        .bucket(&b)
        .key("k2")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"v"
    );
    s3.delete_object()
        .bucket(&b)
        .key("k2")
        .version_id("null")
        .send()
        .await
        .unwrap();
    assert_status(s3.head_object().bucket(&b).key("k2").send().await, 404);
}

async fn ranged(
    s3: &aws_sdk_s3::Client,
    b: &str,
    key: &str,
    range: &str,
) -> (u16, Option<String>, Option<i64>, Vec<u8>) {
    let rec = StatusRecorder::default();
    let out = s3
        .get_object()
        .bucket(b)
        .key(key)
        .range(range)
        .customize()
        .interceptor(rec.clone())
        .send()
        .await
        .unwrap_or_else(|e| panic!("range {range}: {e:?}"));
    let cr = out.content_range().map(str::to_string);
    let len = out.content_length();
    let body = out.body.collect().await.unwrap().into_bytes().to_vec();
    (rec.get(), cr, len, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn range_reads() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ranges").await;
    let body: Vec<u8> = (0..100u8).collect();
    put(&s3, &b, "r", body.clone()).await;

    let cases: [(&str, usize, usize); 6] = [
        ("bytes=10-19", 10, 19),
        ("bytes=0-0", 0, 0),
        ("bytes=90-", 90, 99),
        ("bytes=-5", 95, 99),
        ("bytes=95-1000", 95, 99), // last byte past the end is clamped
        ("bytes=-500", 0, 99),     // suffix longer than the object is the whole object
    ];
    for (range, first, last) in cases {
        let (status, cr, len, got) = ranged(&s3, &b, "r", range).await;
        assert_eq!(status, 206, "{range}");
        assert_eq!(cr, Some(format!("bytes {first}-{last}/100")), "{range}");
        assert_eq!(len, Some((last - first + 1) as i64), "{range}");
        assert_eq!(got, body[first..=last].to_vec(), "{range}");
    }

    // No Range: 200, no Content-Range.
    let rec = StatusRecorder::default();
    let out = s3
        .get_object()
        .bucket(&b)
        .key("r")
        .customize()
        .interceptor(rec.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(rec.get(), 200);
    assert_eq!(out.content_range(), None);

    for range in ["bytes=100-", "bytes=200-300"] {
        assert_err(
            s3.get_object()
                .bucket(&b)
                .key("r")
                .range(range)
                .send()
                .await,
            "InvalidRange",
            416,
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn large_range_read() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "bigrange").await;
    let body = pattern(3 * 1024 * 1024, 3);
    put(&s3, &b, "big", body.clone()).await;
    let (first, last) = (65_530usize, 2 * 1024 * 1024 + 17);
    let (status, cr, _, got) = ranged(&s3, &b, "big", &format!("bytes={first}-{last}")).await;
    assert_eq!(status, 206);
    assert_eq!(cr, Some(format!("bytes {first}-{last}/{}", body.len())));
    assert!(got == body[first..=last], "range content differs");
}

#[tokio::test(flavor = "multi_thread")]
async fn conditional_get_and_head() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "cond").await;
    let etag = put(&s3, &b, "c", "conditional").await;
    let head = s3.head_object().bucket(&b).key("c").send().await.unwrap();
    let lm = *head.last_modified().expect("Last-Modified");
    let earlier = shifted(&lm, -86_400);

    let ok = |r: Result<_, _>| {
        let out: aws_sdk_s3::operation::get_object::GetObjectOutput =
            r.unwrap_or_else(|e| panic!("expected 200: {e:?}"));
        assert_eq!(out.e_tag(), Some(etag.as_str()));
    };
    let get = || s3.get_object().bucket(&b).key("c");

    // If-Match
    ok(get().if_match(&etag).send().await);
    ok(get().if_match("*").send().await);
    assert_err(
        get().if_match("\"0000\"").send().await,
        "PreconditionFailed",
        412,
    );
    // If-None-Match
    assert_status(get().if_none_match(&etag).send().await, 304);
    assert_status(get().if_none_match("*").send().await, 304);
    ok(get().if_none_match("\"0000\"").send().await);
    // If-Modified-Since
    assert_status(get().if_modified_since(lm).send().await, 304);
    ok(get().if_modified_since(earlier).send().await);
    // If-Unmodified-Since
    assert_err(
        get().if_unmodified_since(earlier).send().await,
        "PreconditionFailed",
        412,
    );
    ok(get().if_unmodified_since(lm).send().await);
    // Precedence as S3 documents it (RFC 7232).
    ok(get()
        .if_match(&etag)
        .if_unmodified_since(earlier)
        .send()
        .await);
    assert_status(
        get()
            .if_none_match(&etag)
            .if_modified_since(earlier)
            .send()
            .await,
        304,
    );
    assert_err(
        get()
            .if_match("\"0000\"")
            .if_none_match("\"1111\"")
            .send()
            .await,
        "PreconditionFailed",
        412,
    );

    // HEAD: same statuses, no body.
    let headc = || s3.head_object().bucket(&b).key("c");
    assert_status(headc().if_none_match(&etag).send().await, 304);
    assert_status(headc().if_match("\"0000\"").send().await, 412);
    assert_status(headc().if_modified_since(lm).send().await, 304);
    assert_status(headc().if_unmodified_since(earlier).send().await, 412);
    headc().if_match(&etag).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn response_header_overrides() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "overrides").await;
    s3.put_object()
        .bucket(&b)
        .key("o")
        .content_type("text/plain")
        .body(b"override me".to_vec().into())
        .send()
        .await
        .unwrap();
    let expires = DateTime::from_secs(2_000_000_000);
    let out = s3
        .get_object()
        .bucket(&b)
        .key("o")
        .response_content_type("application/x-override")
        .response_content_disposition("attachment; filename=\"o.bin\"")
        .response_cache_control("no-store")
        .response_content_language("fr")
        .response_content_encoding("identity")
        .response_expires(expires)
        .send()
        .await
        .unwrap();
    assert_eq!(out.content_type(), Some("application/x-override"));
    assert_eq!(
        out.content_disposition(),
        Some("attachment; filename=\"o.bin\"")
    );
    assert_eq!(out.cache_control(), Some("no-store"));
    assert_eq!(out.content_language(), Some("fr"));
    assert_eq!(out.content_encoding(), Some("identity"));
    assert_eq!(out.expires_string(), Some(http_date(&expires).as_str()));
    assert_eq!(
        out.body.collect().await.unwrap().into_bytes().as_ref(),
        b"override me"
    );
    // The stored headers are unchanged.
    let head = s3.head_object().bucket(&b).key("o").send().await.unwrap();
    assert_eq!(head.content_type(), Some("text/plain"));
    assert_eq!(head.cache_control(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_object_copy_and_replace() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copy").await;
    let b2 = new_bucket(&s3, "copy-dst").await;
    let body = pattern(200_000, 9);
    s3.put_object()
        .bucket(&b)
        .key("src")
        .body(body.clone().into())
        .content_type("image/png")
        .metadata("origin", "camera")
        .send()
        .await
        .unwrap();

    // COPY (the default directive) keeps metadata and content headers, across buckets too.
    let out = s3
        .copy_object()
        .bucket(&b2)
        .key("dst-copy")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .unwrap();
    let result = out.copy_object_result().expect("CopyObjectResult");
    assert_eq!(result.e_tag(), Some(etag_of(&body).as_str()));
    assert!(result.last_modified().is_some());
    let head = s3
        .head_object()
        .bucket(&b2)
        .key("dst-copy")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    assert_eq!(head.metadata(), Some(&meta(&[("origin", "camera")])));
    assert!(get_bytes(&s3, &b2, "dst-copy").await == body);

    // Metadata supplied with COPY is ignored.
    s3.copy_object()
        .bucket(&b)
        .key("dst-copy2")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Copy)
        .metadata("ignored", "yes")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("dst-copy2")
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata(), Some(&meta(&[("origin", "camera")])));

    // REPLACE takes the request's metadata and content headers.
    s3.copy_object()
        .bucket(&b)
        .key("dst-replace")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/x-new")
        .metadata("fresh", "1")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("dst-replace")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/x-new"));
    assert_eq!(head.metadata(), Some(&meta(&[("fresh", "1")])));
    assert_eq!(head.e_tag(), Some(etag_of(&body).as_str()));
    // The source is unchanged.
    let src = s3.head_object().bucket(&b).key("src").send().await.unwrap();
    assert_eq!(src.metadata(), Some(&meta(&[("origin", "camera")])));
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_onto_itself_needs_replace() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "selfcopy").await;
    s3.put_object()
        .bucket(&b)
        .key("me")
        .body(b"self".to_vec().into())
        .metadata("v", "1")
        .send()
        .await
        .unwrap();
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("me")
            .copy_source(format!("{b}/me"))
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    s3.copy_object()
        .bucket(&b)
        .key("me")
        .copy_source(format!("{b}/me"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("v", "2")
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket(&b).key("me").send().await.unwrap();
    assert_eq!(head.metadata(), Some(&meta(&[("v", "2")])));
    assert_eq!(get_bytes(&s3, &b, "me").await, b"self");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_source_url_encoded_key() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copyenc").await;
    let key = "dir one/ünï cødé+plus%25 & ?q=1#frag.txt";
    put(&s3, &b, key, "weird").await;
    // Clients URL-encode the key in x-amz-copy-source, with or without a leading slash.
    s3.copy_object()
        .bucket(&b)
        .key("plain-dst")
        .copy_source(format!("{b}/{}", url_encode_path(key)))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "plain-dst").await, b"weird");
    s3.copy_object()
        .bucket(&b)
        .key(format!("{key} copy"))
        .copy_source(format!("/{b}/{}", url_encode_path(key)))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, &format!("{key} copy")).await, b"weird");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_errors_and_source_conditionals() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copyerr").await;
    let etag = put(&s3, &b, "src", "conditional source").await;
    let lm = *s3
        .head_object()
        .bucket(&b)
        .key("src")
        .send()
        .await
        .unwrap()
        .last_modified()
        .unwrap();
    let earlier = shifted(&lm, -86_400);
    let copy = || {
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/src"))
    };

    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/missing"))
            .send()
            .await,
        "NoSuchKey",
        404,
    );
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source("no-such-source-bucket/src")
            .send()
            .await,
        "NoSuchBucket",
        404,
    );
    assert_err(
        copy().copy_source_if_match("\"0000\"").send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_none_match(&etag).send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_unmodified_since(earlier).send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_modified_since(lm).send().await,
        "PreconditionFailed",
        412,
    );
    assert_status(s3.head_object().bucket(&b).key("dst").send().await, 404);

    copy().copy_source_if_match(&etag).send().await.unwrap();
    copy()
        .copy_source_if_none_match("\"0000\"")
        .send()
        .await
        .unwrap();
    copy()
        .copy_source_if_modified_since(earlier)
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "dst").await, b"conditional source");
}

fn ids(keys: &[&str]) -> Delete {
    Delete::builder()
        .set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                .collect(),
        ))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_verbose_and_quiet() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "batch").await;
    for k in ["a", "b", "c", "d", "e/f g"] {
        put(&s3, &b, k, k).await;
    }

    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["a", "b", "never-existed"]))
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["a", "b", "never-existed"]);
    assert!(out.errors().is_empty(), "{:?}", out.errors());

    let quiet = Delete::builder()
        .objects(ObjectIdentifier::builder().key("c").build().unwrap())
        .objects(ObjectIdentifier::builder().key("e/f g").build().unwrap())
        .quiet(true)
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(quiet)
        .send()
        .await
        .unwrap();
    assert!(out.deleted().is_empty(), "Quiet mode lists no deletions");
    assert!(out.errors().is_empty());

    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    let keys: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["d"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_accepts_null_version_and_bypass_governance() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "batch-null").await;
    put(&s3, &b, "x", "1").await;
    put(&s3, &b, "y", "2").await;
    let del = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key("x")
                .version_id("null")
                .build()
                .unwrap(),
        )
        .objects(
            ObjectIdentifier::builder()
                .key("y")
                .version_id("null")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(del)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["x", "y"]);
    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(left.key_count(), Some(0));
    s3.delete_bucket().bucket(&b).send().await.unwrap();
}

const AWKWARD_KEYS: &[&str] = &[
    "with space",
    "plus+sign",
    "percent%20literal",
    "percent%",
    "ünïcødé/日本語/😀",
    "../escape-attempt",
    "../../etc/passwd",
    "a/../b",
    "./dot",
    "double//slash",
    "trailing/",
    "q?mark=1&x=y",
    "hash#tag",
    "semi;colon,comma",
    "tilde~star*paren()",
    "back\\slash",
    "quote\"apos'",
    "tab\there",
    "<xml>&amp;",
];

#[tokio::test(flavor = "multi_thread")]
async fn awkward_keys_round_trip_without_escaping() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "keys").await;
    let long_key = format!("{}/{}", "k".repeat(500), "é".repeat(261)); // 1023 bytes
    let mut keys: Vec<String> = AWKWARD_KEYS.iter().map(|s| s.to_string()).collect();
    keys.push(long_key.clone());
    keys.push(format!("{long_key}x")); // exactly 1024 bytes
    assert_eq!(keys.last().unwrap().len(), 1024);

    for k in &keys {
        put(&s3, &b, k, k.as_bytes().to_vec()).await;
    }
    for k in &keys {
        assert_eq!(get_bytes(&s3, &b, k).await, k.as_bytes(), "key {k:?}");
    }
    let mut want = keys.clone();
    want.sort();
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&b)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        got.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(got, want, "listing returns the exact keys, sorted by bytes");

    // Nothing escaped the data dir.
    let parent = server.data_dir().unwrap().parent().unwrap();
    assert!(!parent.join("escape-attempt").exists());

    // Over 1024 bytes: KeyTooLongError.
    assert_err(
        s3.put_object()
            .bucket(&b)
            .key("x".repeat(1025))
            .body(b"x".to_vec().into())
            .send()
            .await,
        "KeyTooLongError",
        400,
    );

    // Every key can be deleted by name.
    for k in &keys {
        s3.delete_object().bucket(&b).key(k).send().await.unwrap();
    }
    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(left.key_count(), Some(0), "{:?}", left.contents());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_puts_last_writer_wins_never_mixed() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "race").await;
    const WRITERS: u8 = 8;
    const LEN: usize = 512 * 1024;
    let bodies: Vec<Vec<u8>> = (0..WRITERS).map(|i| pattern(LEN, i + 1)).collect();
    put(&s3, &b, "hot", bodies[0].clone()).await;

    let mut tasks = Vec::new();
    for body in &bodies {
        let body = body.clone();
        let s3 = s3.clone();
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                put(&s3, &b, "hot", body.clone()).await;
            }
        }));
    }
    // Readers during the writes: every read is one complete body.
    let mut readers = Vec::new();
    for _ in 0..2 {
        let s3 = s3.clone();
        let b = b.clone();
        let bodies = bodies.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..10 {
                let got = get_bytes(&s3, &b, "hot").await;
                assert!(
                    bodies.contains(&got),
                    "read a body of {} bytes that matches no writer",
                    got.len()
                );
            }
        }));
    }
    for t in tasks.into_iter().chain(readers) {
        t.await.unwrap();
    }
    let fin = s3.get_object().bucket(&b).key("hot").send().await.unwrap();
    let etag = fin.e_tag().unwrap().to_string();
    let got = fin.body.collect().await.unwrap().into_bytes().to_vec();
    let idx = bodies
        .iter()
        .position(|x| *x == got)
        .expect("final body equals one writer's body completely");
    assert_eq!(etag, etag_of(&bodies[idx]), "ETag matches the body");
    let list = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(list.key_count(), Some(1));
    assert_eq!(list.contents()[0].size(), Some(LEN as i64));
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_buckets_and_objects() {
    let mut server = Server::start(&["--user", ALICE_USER_ARG]);
    let s3 = server.client();
    let b = new_bucket(&s3, "durable").await;
    let big = pattern(1024 * 1024 + 5, 42);
    s3.put_object()
        .bucket(&b)
        .key("big")
        .body(big.clone().into())
        .content_type("application/x-big")
        .metadata("kept", "yes")
        .send()
        .await
        .unwrap();
    put(&s3, &b, "ünï/small", "small").await;
    put(&s3, &b, "deleted", "gone").await;
    s3.delete_object()
        .bucket(&b)
        .key("deleted")
        .send()
        .await
        .unwrap();
    let alice_bucket = new_bucket(&server.alice(), "alice-durable").await;

    server.restart();
    let s3 = server.client();

    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|x| x.name().map(str::to_string))
        .collect();
    assert_eq!(names, vec![b.clone()]);
    let head = s3.head_object().bucket(&b).key("big").send().await.unwrap();
    assert_eq!(head.content_type(), Some("application/x-big"));
    assert_eq!(head.metadata(), Some(&meta(&[("kept", "yes")])));
    assert_eq!(head.e_tag(), Some(etag_of(&big).as_str()));
    assert!(get_bytes(&s3, &b, "big").await == big);
    assert_eq!(get_bytes(&s3, &b, "ünï/small").await, b"small");
    assert_status(s3.head_object().bucket(&b).key("deleted").send().await, 404);
    // Ownership survives too.
    assert_status(server.alice().head_bucket().bucket(&b).send().await, 403);
    server
        .alice()
        .head_bucket()
        .bucket(&alice_bucket)
        .send()
        .await
        .unwrap();

    // And a second restart after more writes.
    put(&s3, &b, "after-restart", "x").await;
    server.restart();
    let s3 = server.client();
    let list = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    let keys: Vec<_> = list.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["after-restart", "big", "ünï/small"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_mode_works_and_forgets_on_restart() {
    let mut server = Server::start_memory(&[]);
    assert!(server.data_dir().is_none());
    let s3 = server.client();
    let b = new_bucket(&s3, "mem").await;
    let body = pattern(300_000, 1);
    let etag = put(&s3, &b, "m", body.clone()).await;
    assert_eq!(etag, etag_of(&body));
    assert!(get_bytes(&s3, &b, "m").await == body);
    let (_, cr, _, part) = ranged(&s3, &b, "m", "bytes=5-9").await;
    assert_eq!(cr.as_deref(), Some("bytes 5-9/300000"));
    assert_eq!(part, body[5..=9].to_vec());
    s3.copy_object()
        .bucket(&b)
        .key("m2")
        .copy_source(format!("{b}/m"))
        .send()
        .await
        .unwrap();
    assert!(get_bytes(&s3, &b, "m2").await == body);
    assert_err(
        s3.delete_bucket().bucket(&b).send().await,
        "BucketNotEmpty",
        409,
    );

    server.restart();
    let s3 = server.client();
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty(), "--memory keeps nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_mode_writes_nothing_to_cwd() {
    // --memory must not create the default ./sealstore-data (or anything) in the working dir.
    let cwd = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(Options::default().memory().cwd(cwd.path()));
    let s3 = server.client();
    let b = new_bucket(&s3, "mem-cwd").await;
    put(&s3, &b, "k", "v").await;
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status}");
    let entries: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(entries.is_empty(), "--memory wrote {entries:?}");
}
