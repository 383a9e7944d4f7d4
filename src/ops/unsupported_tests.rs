//! The table of refused headers: each row refuses on its endpoints, accepts its no-op values,
//! and names only real operations.

use super::{TABLE, check, find};
use crate::error::S3ErrorCode;
use crate::http::router::{Endpoint, Route};
use crate::test_headers::header_map;

/// The operations the table may name: each parsed by the router from a real request.
fn routed_name(method: &str, uri: &str, headers: &[(&str, &str)]) -> &'static str {
    let req = http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost");
    let req = headers.iter().fold(req, |r, (k, v)| r.header(*k, *v));
    let (parts, ()) = req.body(()).expect("a valid request").into_parts();
    let route = Route::from_parts(&parts, "");
    route.map(|r| r.endpoint.name()).unwrap_or("routing failed")
}

#[test]
fn every_named_endpoint_is_a_real_operation() {
    let real = [
        routed_name("PUT", "/b/k", &[]),
        routed_name("PUT", "/b/k", &[("x-amz-copy-source", "/b/src")]),
        routed_name("POST", "/b/k?uploads", &[]),
        routed_name("PUT", "/b", &[]),
    ];
    assert_eq!(
        real,
        [
            "PutObject",
            "CopyObject",
            "CreateMultipartUpload",
            "CreateBucket"
        ]
    );
    for row in TABLE {
        for ep in row.endpoints {
            assert!(real.contains(ep), "{} names {ep}", row.header);
        }
    }
    let _ = Endpoint::PutObject.name();
}

#[test]
fn each_row_refuses_on_its_endpoints_and_accepts_no_ops() {
    for row in TABLE {
        let name = if row.prefix {
            format!("{}read", row.header)
        } else {
            row.header.to_owned()
        };
        let refused = header_map(&[(name.as_str(), "something")]);
        for ep in row.endpoints {
            let err = check(ep, &refused).err();
            let err = err.unwrap_or_else(|| panic!("{name} on {ep} accepted"));
            assert_eq!(err.code, S3ErrorCode::NotImplemented);
            assert!(err.message.contains(&name), "{}", err.message);
        }
        // Not refused on an operation the row does not name, such as GetObject.
        assert!(find("GetObject", &refused).is_none());
        for ok in row.no_op {
            assert!(find(row.endpoints[0], &header_map(&[(name.as_str(), ok)])).is_none());
            let lower = ok.to_ascii_lowercase();
            assert!(find(row.endpoints[0], &header_map(&[(name.as_str(), &lower)])).is_none());
        }
    }
}

#[test]
fn the_issue_cases() {
    // Tags are implemented (ops/tagging.rs): no longer refused.
    let tagging = header_map(&[
        ("x-amz-tagging", "a=b"),
        ("x-amz-tagging-directive", "REPLACE"),
    ]);
    for ep in ["PutObject", "CopyObject", "CreateMultipartUpload"] {
        assert!(find(ep, &tagging).is_none());
    }
    let lock = header_map(&[("x-amz-object-lock-mode", "GOVERNANCE")]);
    assert!(find("CreateMultipartUpload", &lock).is_some());
    let grant = header_map(&[("x-amz-grant-full-control", "id=abc")]);
    assert!(find("CreateBucket", &grant).is_some());
    // ACL operations refuse grants themselves (ops/acl.rs).
    assert!(find("PutObjectAcl", &grant).is_none());
    let plain = header_map(&[("x-amz-meta-a", "b"), ("content-type", "text/plain")]);
    for ep in [
        "PutObject",
        "CopyObject",
        "CreateMultipartUpload",
        "CreateBucket",
    ] {
        assert!(find(ep, &plain).is_none());
    }
}

#[test]
fn storage_classes() {
    let class = |v: &str| check("PutObject", &header_map(&[("x-amz-storage-class", v)]));
    assert!(class("STANDARD").is_ok());
    assert!(class("EXPRESS_ONEZONE").is_ok());
    let code = |v: &str| class(v).err().map(|e| e.code);
    assert_eq!(code("GLACIER"), Some(S3ErrorCode::NotImplemented));
    assert_eq!(
        code("REDUCED_REDUNDANCY"),
        Some(S3ErrorCode::NotImplemented)
    );
    assert_eq!(code("standard"), Some(S3ErrorCode::InvalidStorageClass));
    assert_eq!(code("NOPE"), Some(S3ErrorCode::InvalidStorageClass));
    // Only on the object writes.
    let glacier = header_map(&[("x-amz-storage-class", "GLACIER")]);
    assert!(check("UploadPart", &glacier).is_ok());
    assert!(check("CopyObject", &glacier).is_err());
    assert!(check("CreateMultipartUpload", &glacier).is_err());
}
