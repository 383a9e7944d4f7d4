//! Every endpoint, driven through `dispatch` in process: an account that may not use the addressed
//! bucket (another account's; a copy source of another account's) and a missing bucket are refused
//! with the exact error before the handler runs: the body is never read and the store is unchanged.

use std::task::Poll;

use axum::body::{Body, Bytes};
use http::{HeaderMap, Method, Request};

use super::{ReqCtx, dispatch};
use crate::auth::session::Session;
use crate::auth::{PayloadCheck, SignedScope, Verified};
use crate::config::{Config, DEFAULT_ACCOUNT_ID, StorageMode};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::request_id::RequestId;
use crate::http::router::{Endpoint, Query, Route};
use crate::state::AppState;

const ALICE: &str = "111111111111";
/// The owner's (DEFAULT_ACCOUNT_ID) bucket, with object `k` and an upload of `mp`.
const THEIRS: &str = "theirs";
/// Alice's bucket, with an upload of `mp` (a copy destination whose source is the owner's).
const MINE: &str = "mine";
const MISSING: &str = "missing";

/// The index of each variant. An exhaustive match: a new variant does not compile until it has
/// an index, and the test fails until a row reaches it.
fn variant_index(ep: &Endpoint) -> usize {
    match ep {
        Endpoint::ListBuckets(_) => 0,
        Endpoint::CreateBucket => 1,
        Endpoint::DeleteBucket => 2,
        Endpoint::HeadBucket => 3,
        Endpoint::GetBucketLocation => 4,
        Endpoint::GetBucketAcl => 5,
        Endpoint::PutBucketAcl => 6,
        Endpoint::PutBucketEncryption => 7,
        Endpoint::GetBucketEncryption => 8,
        Endpoint::DeleteBucketEncryption => 9,
        Endpoint::GetBucketSubresource(_) => 10,
        Endpoint::ListObjects(_) => 11,
        Endpoint::ListObjectsV2(_) => 12,
        Endpoint::ListObjectVersions(_) => 13,
        Endpoint::DeleteObjects => 14,
        Endpoint::PutObject => 15,
        Endpoint::CopyObject(_) => 16,
        Endpoint::GetObject(_) => 17,
        Endpoint::HeadObject(_) => 18,
        Endpoint::DeleteObject { .. } => 19,
        Endpoint::GetObjectAcl { .. } => 20,
        Endpoint::PutObjectAcl { .. } => 21,
        Endpoint::CreateMultipartUpload => 22,
        Endpoint::UploadPart(_) => 23,
        Endpoint::UploadPartCopy(..) => 24,
        Endpoint::CompleteMultipartUpload { .. } => 25,
        Endpoint::AbortMultipartUpload { .. } => 26,
        Endpoint::ListParts(_) => 27,
        Endpoint::ListMultipartUploads(_) => 28,
        Endpoint::CreateSession => 29,
        Endpoint::ListDirectoryBuckets(_) => 30,
        Endpoint::NotImplemented(_) => 31,
        Endpoint::PutBucketVersioning => 32,
        Endpoint::GetBucketVersioning => 33,
        Endpoint::GetObjectAttributes(_) => 34,
        Endpoint::PutObjectTagging { .. } => 35,
        Endpoint::GetObjectTagging { .. } => 36,
        Endpoint::DeleteObjectTagging { .. } => 37,
    }
}
const VARIANTS: usize = 38;

/// One request per variant: method, path (`{b}` the bucket, `{uid}` its upload), headers (`{s}`
/// the copy source's bucket).
/// Method, path, headers.
type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const ROWS: &[Row] = &[
    ("GET", "/", &[]),
    ("PUT", "/{b}", &[]),
    ("DELETE", "/{b}", &[]),
    ("HEAD", "/{b}", &[]),
    ("GET", "/{b}?location", &[]),
    ("GET", "/{b}?acl", &[]),
    ("PUT", "/{b}?acl", &[("x-amz-acl", "private")]),
    ("PUT", "/{b}?encryption", &[("content-length", "10")]),
    ("GET", "/{b}?encryption", &[]),
    ("DELETE", "/{b}?encryption", &[]),
    ("GET", "/{b}?cors", &[]),
    ("GET", "/{b}", &[]),
    ("GET", "/{b}?list-type=2", &[]),
    ("GET", "/{b}?versions", &[]),
    ("POST", "/{b}?delete", &[("content-length", "10")]),
    ("PUT", "/{b}/k", &[("content-length", "10")]),
    ("PUT", "/{b}/copy", &[("x-amz-copy-source", "/{s}/k")]),
    ("GET", "/{b}/k", &[]),
    ("HEAD", "/{b}/k", &[]),
    ("DELETE", "/{b}/k", &[]),
    ("GET", "/{b}/k?acl", &[]),
    ("PUT", "/{b}/k?acl", &[("x-amz-acl", "private")]),
    ("POST", "/{b}/mp?uploads", &[]),
    (
        "PUT",
        "/{b}/mp?partNumber=1&uploadId={uid}",
        &[("content-length", "10")],
    ),
    (
        "PUT",
        "/{b}/mp?partNumber=1&uploadId={uid}",
        &[("x-amz-copy-source", "/{s}/k")],
    ),
    (
        "POST",
        "/{b}/mp?uploadId={uid}",
        &[("content-length", "10")],
    ),
    ("DELETE", "/{b}/mp?uploadId={uid}", &[]),
    ("GET", "/{b}/mp?uploadId={uid}", &[]),
    ("GET", "/{b}?uploads", &[]),
    ("GET", "/{b}?session", &[]),
    ("GET", "/?max-directory-buckets=10", &[]),
    ("GET", "/{b}?analytics", &[]),
    ("PUT", "/{b}?versioning", &[("content-length", "10")]),
    ("GET", "/{b}?versioning", &[]),
    (
        "GET",
        "/{b}/k?attributes",
        &[("x-amz-object-attributes", "ETag")],
    ),
    ("PUT", "/{b}/k?tagging", &[("content-length", "10")]),
    ("GET", "/{b}/k?tagging", &[]),
    ("DELETE", "/{b}/k?tagging", &[]),
];

fn verified(account: &str) -> Verified {
    Verified {
        access_key: "test".into(),
        account_id: account.into(),
        payload: PayloadCheck::Unsigned,
        session: None,
        scope: None,
    }
}

struct Call<'a> {
    method: &'a str,
    path: String,
    headers: Vec<(&'a str, String)>,
    verified: Verified,
    body: Body,
}

async fn call(state: &AppState, c: Call<'_>) -> Result<(Endpoint, http::Response<Body>), S3Error> {
    let mut req = Request::builder()
        .method(c.method)
        .uri(&c.path)
        .header("host", "127.0.0.1");
    for (k, v) in &c.headers {
        req = req.header(*k, v);
    }
    let (parts, ()) = req.body(()).expect("test request").into_parts();
    let route = Route::from_parts(&parts, "localhost")?;
    let endpoint = route.endpoint.clone();
    let ctx = ReqCtx {
        state,
        parts: &parts,
        route: &route,
        verified: c.verified,
        request_id: &RequestId::generate(),
    };
    let res = dispatch(ctx, c.body).await?;
    Ok((endpoint, res))
}

/// A body that fails the test if a handler ever reads it.
fn untouchable() -> Body {
    Body::from_stream(futures_util::stream::poll_fn(
        |_| -> Poll<Option<Result<Bytes, std::io::Error>>> {
            panic!("the handler of a refused request read its body")
        },
    ))
}

async fn setup(state: &AppState, account: &str, bucket: &str, object: bool) -> String {
    let ok =
        |method, path: String, headers: Vec<(&'static str, String)>, body: &'static str| Call {
            method,
            path,
            headers,
            verified: verified(account),
            body: Body::from(body),
        };
    call(state, ok("PUT", format!("/{bucket}"), vec![], ""))
        .await
        .expect("create bucket");
    if object {
        let h = vec![("content-length", "5".to_string())];
        call(state, ok("PUT", format!("/{bucket}/k"), h, "hello"))
            .await
            .expect("put object");
    }
    let (_, res) = call(
        state,
        ok("POST", format!("/{bucket}/mp?uploads"), vec![], ""),
    )
    .await
    .expect("create upload");
    let xml = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .expect("upload xml");
    let xml = String::from_utf8_lossy(&xml);
    let id = xml
        .split("<UploadId>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("an upload id");
    id.to_string()
}

/// Everything a refused request could have changed.
async fn snapshot(state: &AppState) -> String {
    let s = &state.store;
    let mut out = format!("{:?}", s.buckets().await.expect("buckets"));
    for b in [THEIRS, MINE] {
        out += &format!(
            "{:?}",
            s.object(crate::store::ObjectAddr {
                bucket: b,
                key: "k"
            })
            .await
            .expect("object")
        );
        out += &format!(
            "{:?}",
            s.uploads(crate::store::PageQuery::first(b, 100))
                .await
                .expect("uploads")
        );
    }
    out
}

#[tokio::test]
async fn every_endpoint_refuses_before_its_handler_runs() {
    let credentials = Config::credentials_from("test", "secret-secret", &[]).expect("creds");
    let state = AppState::open(Config::new(StorageMode::Memory, credentials))
        .await
        .expect("state");
    let their_upload = setup(&state, DEFAULT_ACCOUNT_ID, THEIRS, true).await;
    let my_upload = setup(&state, ALICE, MINE, false).await;
    let before = snapshot(&state).await;
    let denied = (S3ErrorCode::AccessDenied, 403);
    let missing = (S3ErrorCode::NoSuchBucket, 404);
    let mut seen = [false; VARIANTS];
    for (method, path, headers) in ROWS {
        // (bucket, copy source bucket, caller, expected error)
        let mut cases = vec![(THEIRS, THEIRS, verified(ALICE), denied)];
        let endpoint = route_of(method, path, headers);
        match endpoint {
            Endpoint::ListBuckets(_) | Endpoint::ListDirectoryBuckets(_) => {
                // No bucket: the scope must name a region.
                let mut v = verified(ALICE);
                v.scope = Some(SignedScope {
                    region: "not a region".into(),
                    service: "s3".into(),
                    presigned: false,
                });
                cases = vec![(
                    THEIRS,
                    THEIRS,
                    v,
                    (S3ErrorCode::AuthorizationHeaderMalformed, 400),
                )];
            }
            Endpoint::CreateBucket => {
                // A session credential is good only for its own bucket.
                let mut v = verified(ALICE);
                v.session = Some(Session {
                    access_key: "s".into(),
                    account_id: ALICE.into(),
                    bucket: "another".into(),
                    read_only: false,
                    expires_secs: i64::MAX,
                });
                cases = vec![("new-bucket", THEIRS, v, denied)];
            }
            Endpoint::CopyObject(_) | Endpoint::UploadPartCopy(..) => {
                cases.push((MINE, THEIRS, verified(ALICE), denied));
                cases.push((MISSING, THEIRS, verified(ALICE), missing));
                cases.push((MINE, MISSING, verified(ALICE), missing));
            }
            _ => cases.push((MISSING, THEIRS, verified(ALICE), missing)),
        }
        for (bucket, source, caller, (code, status)) in cases {
            let upload = if bucket == MINE {
                &my_upload
            } else {
                &their_upload
            };
            let path = path.replace("{b}", bucket).replace("{uid}", upload);
            let headers = headers
                .iter()
                .map(|(k, v)| (*k, v.replace("{s}", source)))
                .collect();
            let what = format!("{method} {path} {headers:?}");
            let call = Call {
                method,
                path,
                headers,
                verified: caller,
                body: untouchable(),
            };
            let err = match self::call(&state, call).await {
                Ok((_, res)) => panic!("{what}: answered {}", res.status()),
                Err(e) => e,
            };
            assert_eq!(
                (err.code, err.code.status().as_u16()),
                (code, status),
                "{what}"
            );
            assert_eq!(snapshot(&state).await, before, "{what} changed the store");
        }
        seen[variant_index(&endpoint)] = true;
    }
    let untested: Vec<usize> = (0..VARIANTS).filter(|i| !seen[*i]).collect();
    assert!(untested.is_empty(), "variants without a row: {untested:?}");
    assert_eq!(ROWS.len(), VARIANTS, "one row per variant");
}

/// A malformed input to a bucket the caller may not use reads as the bucket's refusal: S3 answers
/// for the bucket first.
#[tokio::test]
async fn the_bucket_is_answered_before_malformed_inputs() {
    let credentials = Config::credentials_from("test", "secret-secret", &[]).expect("creds");
    let state = AppState::open(Config::new(StorageMode::Memory, credentials))
        .await
        .expect("state");
    setup(&state, DEFAULT_ACCOUNT_ID, THEIRS, true).await;
    for (method, path, expected) in [
        ("GET", "/theirs/k?partNumber=0", S3ErrorCode::AccessDenied),
        ("GET", "/theirs?max-keys=-1", S3ErrorCode::AccessDenied),
        (
            "PUT",
            "/theirs/k?partNumber=0&uploadId=u",
            S3ErrorCode::AccessDenied,
        ),
        ("GET", "/missing/k?versionId=x", S3ErrorCode::NoSuchBucket),
        ("GET", "/theirs/k?versionId=x", S3ErrorCode::InvalidArgument),
    ] {
        let caller = if expected == S3ErrorCode::InvalidArgument {
            DEFAULT_ACCOUNT_ID
        } else {
            ALICE
        };
        let c = Call {
            method,
            path: path.to_string(),
            headers: vec![("content-length", "1".to_string())],
            verified: verified(caller),
            body: untouchable(),
        };
        let err = call(&state, c).await.err().map(|e| e.code);
        assert_eq!(err, Some(expected), "{method} {path}");
    }
}

/// The endpoint a row routes to (with any bucket and upload id).
fn route_of(method: &str, path: &str, headers: &[(&str, &str)]) -> Endpoint {
    let (p, q) = path.split_once('?').unwrap_or((path, ""));
    let mut h = HeaderMap::new();
    h.insert("host", http::HeaderValue::from_static("127.0.0.1"));
    for (k, v) in headers {
        let v = v.replace("{s}", THEIRS);
        h.insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("header name"),
            v.parse().expect("header value"),
        );
    }
    Route::from_request(
        &method.parse::<Method>().expect("method"),
        &p.replace("{b}", THEIRS),
        &Query::parse(Some(&q.replace("{uid}", "u"))),
        &h,
        "localhost",
    )
    .expect("route")
    .endpoint
}
