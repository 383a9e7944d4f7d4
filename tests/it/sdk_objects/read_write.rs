//! Put/get/head/delete, metadata and content headers, ranges, conditionals and response-* overrides.

use super::*;

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
