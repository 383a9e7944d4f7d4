//! Routing: the AWS documentation's examples, path and virtual-hosted style.

use super::*;

fn listing(prefix: &str, max_keys: usize) -> ListParams {
    ListParams {
        prefix: prefix.into(),
        delimiter: None,
        max_keys,
        url_encode: false,
    }
}

fn part(upload_id: &str, part_number: u32) -> Part {
    Part {
        upload_id: upload_id.into(),
        part_number,
    }
}

fn source(bucket: &str, key: &str) -> CopySourceRef {
    CopySourceRef {
        bucket: bucket.into(),
        key: key.into(),
        version_id: None,
    }
}

fn route(method: Method, uri: &str, host: &str, extra: &[(&str, &str)]) -> Route {
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let mut h = HeaderMap::new();
    h.insert("host", host.parse().unwrap());
    for (k, v) in extra {
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    Route::from_request(&method, path, &Query::parse(query), &h, "localhost").unwrap()
}

#[test]
fn aws_doc_examples_path_style() {
    let h = "127.0.0.1:9000";
    type Case<'a> = (Method, &'a str, Endpoint, Option<&'a str>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/",
            Endpoint::ListBuckets(all_buckets()),
            None,
            None,
        ),
        (
            Method::GET,
            "/?max-directory-buckets=10",
            Endpoint::ListDirectoryBuckets(DirectoryListing {
                max: 10,
                after: String::new(),
            }),
            None,
            None,
        ),
        (
            Method::GET,
            "/d--use1-az4--x-s3?session",
            Endpoint::CreateSession,
            Some("d--use1-az4--x-s3"),
            None,
        ),
        (Method::PUT, "/b", Endpoint::CreateBucket, Some("b"), None),
        (Method::PUT, "/b/", Endpoint::CreateBucket, Some("b"), None),
        (Method::HEAD, "/b", Endpoint::HeadBucket, Some("b"), None),
        (
            Method::DELETE,
            "/b",
            Endpoint::DeleteBucket,
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?location",
            Endpoint::GetBucketLocation,
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?list-type=2&prefix=J",
            Endpoint::ListObjectsV2(ListV2 {
                list: listing("J", 1000),
                ..ListV2::default()
            }),
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?prefix=J&max-keys=2",
            Endpoint::ListObjects(ListV1 {
                list: listing("J", 2),
                marker: String::new(),
            }),
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?versions",
            Endpoint::ListObjectVersions(ListVersions {
                list: listing("", 1000),
                ..ListVersions::default()
            }),
            Some("b"),
            None,
        ),
        (
            Method::POST,
            "/b?delete",
            Endpoint::DeleteObjects,
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?acl",
            Endpoint::GetBucketAcl,
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?cors",
            Endpoint::GetBucketSubresource(BucketSubresource::Cors),
            Some("b"),
            None,
        ),
        (
            Method::PUT,
            "/b?cors",
            Endpoint::NotImplemented("PutBucketConfiguration"),
            Some("b"),
            None,
        ),
        (
            Method::GET,
            "/b?encryption",
            Endpoint::GetBucketEncryption,
            Some("b"),
            None,
        ),
        (
            Method::PUT,
            "/b/k",
            Endpoint::PutObject,
            Some("b"),
            Some("k"),
        ),
        (
            Method::PUT,
            "/b/k?x-id=PutObject",
            Endpoint::PutObject,
            Some("b"),
            Some("k"),
        ),
        (
            Method::GET,
            "/b/dir/a%20b%2Bc~d%3De%26f%25.txt",
            Endpoint::GetObject(Read::default()),
            Some("b"),
            Some("dir/a b+c~d=e&f%.txt"),
        ),
        (
            Method::GET,
            "/b/k?versionId=null",
            Endpoint::GetObject(Read {
                version_id: Some("null".into()),
                ..Read::default()
            }),
            Some("b"),
            Some("k"),
        ),
        (
            Method::HEAD,
            "/b/k",
            Endpoint::HeadObject(Read::default()),
            Some("b"),
            Some("k"),
        ),
        (
            Method::DELETE,
            "/b/k",
            Endpoint::DeleteObject { version_id: None },
            Some("b"),
            Some("k"),
        ),
        (
            Method::GET,
            "/b/k?acl",
            Endpoint::GetObjectAcl { version_id: None },
            Some("b"),
            Some("k"),
        ),
        (
            Method::POST,
            "/b/k?uploads",
            Endpoint::CreateMultipartUpload,
            Some("b"),
            Some("k"),
        ),
        (
            Method::PUT,
            "/b/k?partNumber=1&uploadId=x",
            Endpoint::UploadPart(part("x", 1)),
            Some("b"),
            Some("k"),
        ),
        (
            Method::POST,
            "/b/k?uploadId=x",
            Endpoint::CompleteMultipartUpload {
                upload_id: "x".into(),
            },
            Some("b"),
            Some("k"),
        ),
        (
            Method::DELETE,
            "/b/k?uploadId=x",
            Endpoint::AbortMultipartUpload {
                upload_id: "x".into(),
            },
            Some("b"),
            Some("k"),
        ),
        (
            Method::GET,
            "/b/k?uploadId=x&max-parts=2",
            Endpoint::ListParts(ListParts {
                upload_id: "x".into(),
                max_parts: 2,
                part_number_marker: 0,
            }),
            Some("b"),
            Some("k"),
        ),
        (
            Method::GET,
            "/b?uploads&prefix=a",
            Endpoint::ListMultipartUploads(ListUploads {
                prefix: "a".into(),
                max_uploads: 1000,
                ..ListUploads::default()
            }),
            Some("b"),
            None,
        ),
        (
            Method::PUT,
            "/b/../x",
            Endpoint::PutObject,
            Some("b"),
            Some("../x"),
        ),
    ];
    for (m, uri, ep, b, k) in cases {
        let r = route(m.clone(), uri, h, &[]);
        assert_eq!(r.endpoint, ep, "{m} {uri}");
        assert_eq!(r.bucket.as_deref(), b, "{m} {uri}");
        assert_eq!(r.key.as_deref(), k, "{m} {uri}");
    }
}

#[test]
fn credential_scope_service_decides_list_directory_buckets() {
    let sign = |service: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
        )
    };
    let r = route(
        Method::GET,
        "/",
        "h",
        &[("authorization", &sign("s3express"))],
    );
    assert_eq!(
        r.endpoint,
        Endpoint::ListDirectoryBuckets(DirectoryListing {
            max: 1000,
            after: String::new()
        })
    );
    let r = route(Method::GET, "/", "h", &[("authorization", &sign("s3"))]);
    assert_eq!(r.endpoint, Endpoint::ListBuckets(all_buckets()));
}

/// The input of a plain `GET /`: every bucket, in one answer.
fn all_buckets() -> BucketListing {
    BucketListing {
        page: usize::MAX,
        ..Default::default()
    }
}

/// ListBuckets' 2024 parameters: a page of 1..=10000, an opaque token, prefix and region; any
/// of them makes the request paginated (S3's default page of 10,000).
#[test]
fn list_buckets_pagination_inputs() {
    let listing = |uri: &str| match route(Method::GET, uri, "h", &[]) {
        Route {
            endpoint: Endpoint::ListBuckets(l),
            invalid_input: None,
            ..
        } => l,
        other => panic!("{uri}: {other:?}"),
    };
    assert_eq!(listing("/?max-buckets=1").page, 1);
    assert_eq!(listing("/?max-buckets=10000").page, 10_000);
    let l = listing("/?prefix=ab&bucket-region=eu-west-1&continuation-token=YWJj");
    assert_eq!(
        l,
        BucketListing {
            page: 10_000,
            after: "abc".into(),
            prefix: Some("ab".into()),
            bucket_region: Some("eu-west-1".into()),
        }
    );
    assert_eq!(listing("/?prefix=").page, 10_000);
    type Bad<'a> = (&'a str, &'a str);
    let cases: [Bad; 6] = [
        ("/?max-buckets=0", "between 1 and 10000"),
        ("/?max-buckets=10001", "between 1 and 10000"),
        ("/?max-buckets=-3", "between 1 and 10000"),
        (
            "/?max-buckets=abc",
            "not an integer or within integer range",
        ),
        (
            "/?max-buckets=2147483648",
            "not an integer or within integer range",
        ),
        (
            "/?continuation-token=%25%25",
            "continuation token provided is incorrect",
        ),
    ];
    for (uri, text) in cases {
        let r = route(Method::GET, uri, "h", &[]);
        assert!(matches!(r.endpoint, Endpoint::ListBuckets(_)), "{uri}");
        let e = r.invalid_input.expect(uri);
        assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{uri}");
        assert!(e.message.contains(text), "{uri}: {}", e.message);
    }
}

#[test]
fn copy_header_decides_copy_object() {
    let r = route(Method::PUT, "/b/k", "h", &[("x-amz-copy-source", "src/k")]);
    assert_eq!(r.endpoint, Endpoint::CopyObject(source("src", "k")));
    let r = route(
        Method::PUT,
        "/b/k?partNumber=2&uploadId=x",
        "h",
        &[("x-amz-copy-source", "src/k")],
    );
    assert_eq!(
        r.endpoint,
        Endpoint::UploadPartCopy(part("x", 2), source("src", "k"))
    );
}

#[test]
fn virtual_hosted_style() {
    let r = route(Method::GET, "/", "photos.localhost:9000", &[]);
    assert_eq!(
        (r.endpoint, r.bucket.as_deref(), r.key),
        (
            Endpoint::ListObjects(ListV1 {
                list: listing("", 1000),
                marker: String::new()
            }),
            Some("photos"),
            None
        )
    );
    let r = route(Method::PUT, "/a/b.txt", "photos.localhost", &[]);
    assert_eq!(r.bucket.as_deref(), Some("photos"));
    assert_eq!(r.key.as_deref(), Some("a/b.txt"));
    let r = route(Method::GET, "/photos", "localhost:9000", &[]);
    assert_eq!(r.bucket.as_deref(), Some("photos"));
}

#[test]
fn long_keys_and_bad_methods() {
    let key = "k".repeat(1025);
    let mut h = HeaderMap::new();
    h.insert("host", "h".parse().unwrap());
    let err = Route::from_request(
        &Method::PUT,
        &format!("/b/{key}"),
        &Query::default(),
        &h,
        "localhost",
    )
    .unwrap_err();
    assert_eq!(err.code, S3ErrorCode::KeyTooLongError);
    let err = Route::from_request(&Method::PATCH, "/b/k", &Query::default(), &h, "localhost")
        .unwrap_err();
    assert_eq!(err.code, S3ErrorCode::MethodNotAllowed);
}

/// A malformed input routes (S3 answers for the bucket first) and is kept for `ops::access`.
#[test]
fn malformed_inputs_are_kept_for_after_the_bucket_check() {
    for (m, uri) in [
        (Method::GET, "/b/k?partNumber=0"),
        (Method::GET, "/b/k?versionId=abc"),
        (Method::DELETE, "/b/k?versionId=abc"),
        (Method::PUT, "/b/k?partNumber=10001&uploadId=x"),
        (Method::GET, "/b?max-keys=-1"),
        (Method::GET, "/b?list-type=2&continuation-token=%25"),
        (Method::GET, "/b?uploads&encoding-type=xml"),
        (Method::GET, "/b/k?uploadId=x&part-number-marker=z"),
        (Method::GET, "/?max-directory-buckets=1001"),
    ] {
        let r = route(m.clone(), uri, "h", &[]);
        let e = r.invalid_input.expect(uri);
        assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{m} {uri}");
    }
    let r = route(Method::PUT, "/b/k", "h", &[("x-amz-copy-source", "nokey")]);
    assert_eq!(r.endpoint, Endpoint::CopyObject(CopySourceRef::default()));
    assert_eq!(
        r.invalid_input.map(|e| e.code),
        Some(S3ErrorCode::InvalidArgument)
    );
    let r = route(
        Method::GET,
        "/b/k?partNumber=1",
        "h",
        &[("range", "bytes=0-1")],
    );
    assert_eq!(
        r.invalid_input.map(|e| e.code),
        Some(S3ErrorCode::InvalidRequest)
    );
}

#[test]
fn copy_sources() {
    assert_eq!(parse_copy_source("b/k").unwrap(), ("b".into(), "k".into()));
    assert_eq!(
        parse_copy_source("/b/dir/a%20b%2Bc").unwrap(),
        ("b".into(), "dir/a b+c".into())
    );
    assert_eq!(
        parse_copy_source("b/k?versionId=null").unwrap(),
        ("b".into(), "k".into())
    );
    assert_eq!(
        parse_copy_source("b").unwrap_err().code,
        S3ErrorCode::InvalidArgument
    );
    assert_eq!(
        parse_copy_source("b/k?versionId=abc").unwrap_err().code,
        S3ErrorCode::InvalidArgument
    );
    let id = "0006a1b2c3d4e5f60123456789abcdef";
    let with_version = parse_copy_source_version(&format!("b/k?versionId={id}")).unwrap();
    assert_eq!(with_version.version_id.as_deref(), Some(id));
    assert_eq!(
        route(
            Method::DELETE,
            &format!("/b/k?versionId={id}"),
            "localhost",
            &[]
        )
        .endpoint,
        Endpoint::DeleteObject {
            version_id: Some(id.into())
        }
    );
    assert_eq!(
        route(Method::DELETE, "/b/k?versionId=abc", "localhost", &[])
            .invalid_input
            .map(|e| e.code),
        Some(S3ErrorCode::InvalidArgument)
    );
}

/// GetObjectAttributes: only GET, the attribute list from the header (all lines, commas, spaces),
/// the page of parts capped at 1000, and S3's errors kept for after the bucket check.
#[test]
fn object_attributes() {
    let attrs = |list: &str, extra: &[(&str, &str)]| {
        let mut h = vec![("x-amz-object-attributes", list)];
        h.extend_from_slice(extra);
        route(Method::GET, "/b/k?attributes", "h", &h)
    };
    let r = attrs("ETag, ObjectSize,", &[]);
    assert!(r.invalid_input.is_none());
    assert_eq!(
        r.endpoint,
        Endpoint::GetObjectAttributes(Attributes {
            etag: true,
            object_size: true,
            max_parts: 1000,
            ..Attributes::default()
        })
    );
    let all = "ETag,Checksum,ObjectParts,StorageClass,ObjectSize";
    let r = attrs(
        all,
        &[
            ("x-amz-max-parts", "5000"),
            ("x-amz-part-number-marker", "7"),
        ],
    );
    assert_eq!(
        r.endpoint,
        Endpoint::GetObjectAttributes(Attributes {
            version_id: None,
            etag: true,
            checksum: true,
            object_parts: true,
            storage_class: true,
            object_size: true,
            max_parts: 1000,
            part_number_marker: 7,
        })
    );
    let r = route(Method::GET, "/b/k?attributes&versionId=null", "h", &[]);
    assert_eq!(
        r.invalid_input.map(|e| (e.code, e.message)),
        Some((
            S3ErrorCode::InvalidRequest,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty".to_string()
        ))
    );
    for (list, extra) in [
        ("etag", &[][..]),
        ("ETag,Owner", &[][..]),
        ("ETag", &[("x-amz-max-parts", "-1")][..]),
        ("ETag", &[("x-amz-max-parts", "ten")][..]),
        ("ETag", &[("x-amz-part-number-marker", "-1")][..]),
        ("ETag", &[("x-amz-part-number-marker", "2147483648")][..]),
    ] {
        let e = attrs(list, extra).invalid_input.expect(list);
        assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{list} {extra:?}");
    }
    let e = attrs("ETag,Owner", &[]).invalid_input.unwrap();
    assert_eq!(e.message, "Invalid attribute name specified.");
    let e = route(Method::GET, "/b/k?attributes&versionId=v1", "h", &[])
        .invalid_input
        .unwrap();
    assert_eq!(e.message, "Invalid version id specified");
    // Bytes that are no UTF-8 name no attribute; two header lines are one list.
    let mut h = HeaderMap::new();
    h.insert("host", "h".parse().unwrap());
    h.insert(
        "x-amz-object-attributes",
        http::HeaderValue::from_bytes(b"ETag,\xff").unwrap(),
    );
    let r = Route::from_request(
        &Method::GET,
        "/b/k",
        &Query::parse(Some("attributes")),
        &h,
        "localhost",
    )
    .unwrap();
    assert_eq!(
        r.invalid_input.map(|e| e.code),
        Some(S3ErrorCode::InvalidArgument)
    );
    h.insert("x-amz-object-attributes", "ETag".parse().unwrap());
    h.append("x-amz-object-attributes", "Checksum".parse().unwrap());
    let r = Route::from_request(
        &Method::GET,
        "/b/k",
        &Query::parse(Some("attributes")),
        &h,
        "localhost",
    )
    .unwrap();
    assert_eq!(
        r.endpoint,
        Endpoint::GetObjectAttributes(Attributes {
            etag: true,
            checksum: true,
            max_parts: 1000,
            ..Attributes::default()
        })
    );
    // Never another operation that would ignore the keyword.
    let mut h = HeaderMap::new();
    h.insert("host", "h".parse().unwrap());
    for m in [Method::PUT, Method::HEAD, Method::POST, Method::DELETE] {
        let err = Route::from_request(
            &m,
            "/b/k",
            &Query::parse(Some("attributes")),
            &h,
            "localhost",
        )
        .unwrap_err();
        assert_eq!(err.code, S3ErrorCode::MethodNotAllowed, "{m}");
    }
}

/// `?tagging` on an object is the tagging API by method; its `versionId` is checked as
/// GetObject's is.
#[test]
fn object_tagging() {
    for (m, ep) in [
        (Method::PUT, Endpoint::PutObjectTagging { version_id: None }),
        (Method::GET, Endpoint::GetObjectTagging { version_id: None }),
        (
            Method::DELETE,
            Endpoint::DeleteObjectTagging { version_id: None },
        ),
    ] {
        let r = route(m.clone(), "/b/k?tagging", "h", &[]);
        assert_eq!(r.endpoint, ep);
        assert!(r.invalid_input.is_none());
        let r = route(m.clone(), "/b/k?tagging&versionId=null", "h", &[]);
        assert!(r.invalid_input.is_none());
        let r = route(m, "/b/k?tagging&versionId=abc", "h", &[]);
        assert_eq!(r.endpoint, ep);
        assert_eq!(
            r.invalid_input.map(|e| e.code),
            Some(S3ErrorCode::InvalidArgument)
        );
    }
    let mut h = HeaderMap::new();
    h.insert("host", "h".parse().unwrap());
    let err = Route::from_request(
        &Method::POST,
        "/b/k",
        &Query::parse(Some("tagging")),
        &h,
        "localhost",
    )
    .unwrap_err();
    assert_eq!(err.code, S3ErrorCode::MethodNotAllowed);
    // The bucket's `?tagging` is still GetBucketTagging's "never configured".
    let r = route(Method::GET, "/b?tagging", "h", &[]);
    assert_eq!(r.endpoint.name(), "GetBucketTagging");
}

/// A header that changes what is stored, moved into the query string by a presigner: refused
/// (501), never dropped; the auth parameters and ordinary ones are not headers.
#[test]
fn storing_headers_in_the_query_are_refused() {
    for q in [
        "x-amz-tagging=a%3Db",
        "X-Amz-Meta-Color=red",
        "x-amz-server-side-encryption=aws%3Akms",
        "x-amz-storage-class=GLACIER",
    ] {
        let r = route(Method::PUT, &format!("/b/k?{q}"), "localhost", &[]);
        let e = r.invalid_input.expect(q);
        assert_eq!(e.code, S3ErrorCode::NotImplemented, "{q}");
    }
    let ok = route(
        Method::PUT,
        "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&x-id=PutObject",
        "localhost",
        &[],
    );
    assert!(ok.invalid_input.is_none());
}
