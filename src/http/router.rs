//! Routing: the one place that decides which S3 operation a request is.
//!
//! `Route::from_request` looks at the method, the Host header (virtual-hosted style), the path, the
//! query keywords and the one deciding header (`x-amz-copy-source`). Nothing else in the code base
//! inspects the method or the query to choose an operation.

use http::{HeaderMap, Method};

use crate::error::{S3Error, S3ErrorCode};

/// The decoded query string, in order, with repeated names kept.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    /// Decodes `a=b&c`. `+` is a space, as S3 reads query strings.
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
                .unwrap_or_default(),
        )
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Bucket sub-resources that sealstore answers "never configured" for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSubresource {
    Accelerate,
    Cors,
    Lifecycle,
    Logging,
    Notification,
    OwnershipControls,
    Policy,
    PublicAccessBlock,
    RequestPayment,
    Tagging,
    Versioning,
    Website,
}

const SUBRESOURCES: [(&str, BucketSubresource); 12] = [
    ("accelerate", BucketSubresource::Accelerate),
    ("cors", BucketSubresource::Cors),
    ("lifecycle", BucketSubresource::Lifecycle),
    ("logging", BucketSubresource::Logging),
    ("notification", BucketSubresource::Notification),
    ("ownershipControls", BucketSubresource::OwnershipControls),
    ("policy", BucketSubresource::Policy),
    ("publicAccessBlock", BucketSubresource::PublicAccessBlock),
    ("requestPayment", BucketSubresource::RequestPayment),
    ("tagging", BucketSubresource::Tagging),
    ("versioning", BucketSubresource::Versioning),
    ("website", BucketSubresource::Website),
];

/// Bucket sub-resources sealstore does not implement at all (any method answers 501).
const UNSUPPORTED_BUCKET_KEYWORDS: [(&str, &str); 11] = [
    ("analytics", "BucketAnalyticsConfiguration"),
    ("metrics", "BucketMetricsConfiguration"),
    ("inventory", "BucketInventoryConfiguration"),
    (
        "intelligent-tiering",
        "BucketIntelligentTieringConfiguration",
    ),
    ("object-lock", "ObjectLockConfiguration"),
    ("replication", "BucketReplication"),
    ("policyStatus", "BucketPolicyStatus"),
    ("metadataTable", "BucketMetadataTableConfiguration"),
    ("metadataConfiguration", "BucketMetadataConfiguration"),
    ("abac", "BucketAbac"),
    ("inventoryConfiguration", "BucketInventoryConfiguration"),
];

/// Object sub-resources sealstore does not implement.
const UNSUPPORTED_OBJECT_KEYWORDS: [(&str, &str); 7] = [
    ("tagging", "ObjectTagging"),
    ("attributes", "GetObjectAttributes"),
    ("retention", "ObjectRetention"),
    ("legal-hold", "ObjectLegalHold"),
    ("torrent", "GetObjectTorrent"),
    ("restore", "RestoreObject"),
    ("select", "SelectObjectContent"),
];

/// Every S3 operation sealstore distinguishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    GetBucketAcl,
    PutBucketAcl,
    PutBucketEncryption,
    GetBucketEncryption,
    DeleteBucketEncryption,
    GetBucketSubresource(BucketSubresource),
    ListObjects,
    ListObjectsV2,
    ListObjectVersions,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    GetObjectAcl,
    PutObjectAcl,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    CreateSession,
    ListDirectoryBuckets,
    /// A known S3 operation that sealstore does not implement yet: answered with 501.
    NotImplemented(&'static str),
}

impl Endpoint {
    pub fn name(&self) -> &'static str {
        match self {
            Endpoint::ListBuckets => "ListBuckets",
            Endpoint::CreateBucket => "CreateBucket",
            Endpoint::DeleteBucket => "DeleteBucket",
            Endpoint::HeadBucket => "HeadBucket",
            Endpoint::GetBucketLocation => "GetBucketLocation",
            Endpoint::GetBucketAcl => "GetBucketAcl",
            Endpoint::PutBucketAcl => "PutBucketAcl",
            Endpoint::PutBucketEncryption => "PutBucketEncryption",
            Endpoint::GetBucketEncryption => "GetBucketEncryption",
            Endpoint::DeleteBucketEncryption => "DeleteBucketEncryption",
            Endpoint::GetBucketSubresource(s) => match s {
                BucketSubresource::Accelerate => "GetBucketAccelerateConfiguration",
                BucketSubresource::Cors => "GetBucketCors",
                BucketSubresource::Lifecycle => "GetBucketLifecycleConfiguration",
                BucketSubresource::Logging => "GetBucketLogging",
                BucketSubresource::Notification => "GetBucketNotificationConfiguration",
                BucketSubresource::OwnershipControls => "GetBucketOwnershipControls",
                BucketSubresource::Policy => "GetBucketPolicy",
                BucketSubresource::PublicAccessBlock => "GetPublicAccessBlock",
                BucketSubresource::RequestPayment => "GetBucketRequestPayment",
                BucketSubresource::Tagging => "GetBucketTagging",
                BucketSubresource::Versioning => "GetBucketVersioning",
                BucketSubresource::Website => "GetBucketWebsite",
            },
            Endpoint::ListObjects => "ListObjects",
            Endpoint::ListObjectsV2 => "ListObjectsV2",
            Endpoint::ListObjectVersions => "ListObjectVersions",
            Endpoint::DeleteObjects => "DeleteObjects",
            Endpoint::PutObject => "PutObject",
            Endpoint::CopyObject => "CopyObject",
            Endpoint::GetObject => "GetObject",
            Endpoint::HeadObject => "HeadObject",
            Endpoint::DeleteObject => "DeleteObject",
            Endpoint::GetObjectAcl => "GetObjectAcl",
            Endpoint::PutObjectAcl => "PutObjectAcl",
            Endpoint::CreateMultipartUpload => "CreateMultipartUpload",
            Endpoint::UploadPart => "UploadPart",
            Endpoint::UploadPartCopy => "UploadPartCopy",
            Endpoint::CompleteMultipartUpload => "CompleteMultipartUpload",
            Endpoint::AbortMultipartUpload => "AbortMultipartUpload",
            Endpoint::ListParts => "ListParts",
            Endpoint::ListMultipartUploads => "ListMultipartUploads",
            Endpoint::CreateSession => "CreateSession",
            Endpoint::ListDirectoryBuckets => "ListDirectoryBuckets",
            Endpoint::NotImplemented(name) => name,
        }
    }
}

/// A routed request: the operation plus the bucket and key it addresses.
#[derive(Debug, Clone)]
pub struct Route {
    pub endpoint: Endpoint,
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

impl Route {
    /// Routes a request. `domain` is the virtual-host domain (`--domain`): a Host of
    /// `<bucket>.<domain>` names the bucket, and the whole path is the key.
    pub fn from_request(
        method: &Method,
        raw_path: &str,
        query: &Query,
        headers: &HeaderMap,
        domain: &str,
    ) -> Result<Route, S3Error> {
        let host = headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok());
        let (bucket, key) = split_target(raw_path, host, domain)?;
        if let Some(k) = &key {
            if k.len() > MAX_KEY_BYTES {
                return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
                    .field("MaxSizeAllowed", MAX_KEY_BYTES.to_string())
                    .field("Size", k.len().to_string()));
            }
        }
        let endpoint = match (&bucket, &key) {
            (None, _) => service_endpoint(method, query, headers)?,
            (Some(_), None) => bucket_endpoint(method, query)?,
            (Some(_), Some(_)) => object_endpoint(method, query, headers)?,
        };
        Ok(Route {
            endpoint,
            bucket,
            key,
        })
    }
}

/// Splits host + path into (bucket, key), percent-decoding the path once.
fn split_target(
    raw_path: &str,
    host: Option<&str>,
    domain: &str,
) -> Result<(Option<String>, Option<String>), S3Error> {
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| {
            S3Error::with_message(S3ErrorCode::InvalidURI, "Couldn't parse the specified URI.")
                .field("URI", raw_path)
        })?;
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if let Some(bucket) = host.and_then(|h| virtual_host_bucket(h, domain)) {
        return Ok((Some(bucket), non_empty(path)));
    }
    match path.split_once('/') {
        Some((bucket, key)) => Ok((non_empty(bucket), non_empty(key))),
        None => Ok((non_empty(path), None)),
    }
}

/// `photos.localhost:9000` with domain `localhost` names bucket `photos`.
pub fn virtual_host_bucket(host: &str, domain: &str) -> Option<String> {
    let name = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let bucket = name.strip_suffix(domain)?.strip_suffix('.')?;
    (!bucket.is_empty()).then(|| bucket.to_string())
}

/// The service named in a SigV4 credential scope (header or presigned query).
fn scope_service<'a>(q: &'a Query, headers: &'a HeaderMap) -> Option<&'a str> {
    let credential = match headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        Some(a) => a.split("Credential=").nth(1)?.split([',', ' ']).next()?,
        None => q.get("X-Amz-Credential")?,
    };
    credential.split('/').nth(3)
}

fn service_endpoint(method: &Method, q: &Query, headers: &HeaderMap) -> Result<Endpoint, S3Error> {
    match *method {
        // `GET /` is both ListBuckets and ListDirectoryBuckets: clients sign the latter for the
        // `s3express` service, and boto3 adds `max-directory-buckets`.
        Method::GET
            if q.has("max-directory-buckets") || scope_service(q, headers) == Some("s3express") =>
        {
            Ok(Endpoint::ListDirectoryBuckets)
        }
        Method::GET => Ok(Endpoint::ListBuckets),
        _ => Err(method_not_allowed(method, "SERVICE")),
    }
}

fn bucket_endpoint(method: &Method, q: &Query) -> Result<Endpoint, S3Error> {
    if let Some((_, op)) = UNSUPPORTED_BUCKET_KEYWORDS.iter().find(|(k, _)| q.has(k)) {
        return Ok(Endpoint::NotImplemented(op));
    }
    if q.has("session") {
        return match *method {
            Method::GET => Ok(Endpoint::CreateSession),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if q.has("encryption") {
        return match *method {
            Method::GET => Ok(Endpoint::GetBucketEncryption),
            Method::PUT => Ok(Endpoint::PutBucketEncryption),
            Method::DELETE => Ok(Endpoint::DeleteBucketEncryption),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    let sub = SUBRESOURCES.iter().find(|(k, _)| q.has(k)).map(|(_, s)| *s);
    let ep = match *method {
        Method::GET => match sub {
            Some(s) => Endpoint::GetBucketSubresource(s),
            None if q.has("acl") => Endpoint::GetBucketAcl,
            None if q.has("location") => Endpoint::GetBucketLocation,
            None if q.has("versions") => Endpoint::ListObjectVersions,
            None if q.has("uploads") => Endpoint::ListMultipartUploads,
            None if q.get("list-type") == Some("2") => Endpoint::ListObjectsV2,
            None => Endpoint::ListObjects,
        },
        Method::HEAD => Endpoint::HeadBucket,
        Method::PUT => match sub {
            Some(_) => Endpoint::NotImplemented("PutBucketConfiguration"),
            None if q.has("acl") => Endpoint::PutBucketAcl,
            None => Endpoint::CreateBucket,
        },
        Method::DELETE => match sub {
            Some(_) => Endpoint::NotImplemented("DeleteBucketConfiguration"),
            None => Endpoint::DeleteBucket,
        },
        Method::POST if q.has("delete") => Endpoint::DeleteObjects,
        Method::POST => Endpoint::NotImplemented("PostObject"),
        _ => return Err(method_not_allowed(method, "BUCKET")),
    };
    Ok(ep)
}

fn object_endpoint(method: &Method, q: &Query, headers: &HeaderMap) -> Result<Endpoint, S3Error> {
    if let Some((_, op)) = UNSUPPORTED_OBJECT_KEYWORDS.iter().find(|(k, _)| q.has(k)) {
        return Ok(Endpoint::NotImplemented(op));
    }
    let copy = headers.contains_key("x-amz-copy-source");
    let ep = match *method {
        Method::GET if q.has("acl") => Endpoint::GetObjectAcl,
        Method::GET if q.has("uploadId") => Endpoint::ListParts,
        Method::GET => Endpoint::GetObject,
        Method::HEAD => Endpoint::HeadObject,
        Method::PUT if q.has("uploadId") && copy => Endpoint::UploadPartCopy,
        Method::PUT if q.has("uploadId") => Endpoint::UploadPart,
        Method::PUT if q.has("acl") => Endpoint::PutObjectAcl,
        Method::PUT if copy => Endpoint::CopyObject,
        Method::PUT => Endpoint::PutObject,
        Method::DELETE if q.has("uploadId") => Endpoint::AbortMultipartUpload,
        Method::DELETE => Endpoint::DeleteObject,
        Method::POST if q.has("uploads") => Endpoint::CreateMultipartUpload,
        Method::POST if q.has("uploadId") => Endpoint::CompleteMultipartUpload,
        _ => return Err(method_not_allowed(method, "OBJECT")),
    };
    Ok(ep)
}

fn method_not_allowed(method: &Method, resource_type: &str) -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
        .field("Method", method.as_str())
        .field("ResourceType", resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (Method::GET, "/", Endpoint::ListBuckets, None, None),
            (
                Method::GET,
                "/?max-directory-buckets=10",
                Endpoint::ListDirectoryBuckets,
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
                Endpoint::ListObjectsV2,
                Some("b"),
                None,
            ),
            (
                Method::GET,
                "/b?prefix=J&max-keys=2",
                Endpoint::ListObjects,
                Some("b"),
                None,
            ),
            (
                Method::GET,
                "/b?versions",
                Endpoint::ListObjectVersions,
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
                Endpoint::GetObject,
                Some("b"),
                Some("dir/a b+c~d=e&f%.txt"),
            ),
            (
                Method::GET,
                "/b/k?versionId=null",
                Endpoint::GetObject,
                Some("b"),
                Some("k"),
            ),
            (
                Method::HEAD,
                "/b/k",
                Endpoint::HeadObject,
                Some("b"),
                Some("k"),
            ),
            (
                Method::DELETE,
                "/b/k",
                Endpoint::DeleteObject,
                Some("b"),
                Some("k"),
            ),
            (
                Method::GET,
                "/b/k?acl",
                Endpoint::GetObjectAcl,
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
                Endpoint::UploadPart,
                Some("b"),
                Some("k"),
            ),
            (
                Method::POST,
                "/b/k?uploadId=x",
                Endpoint::CompleteMultipartUpload,
                Some("b"),
                Some("k"),
            ),
            (
                Method::DELETE,
                "/b/k?uploadId=x",
                Endpoint::AbortMultipartUpload,
                Some("b"),
                Some("k"),
            ),
            (
                Method::GET,
                "/b/k?uploadId=x&max-parts=2",
                Endpoint::ListParts,
                Some("b"),
                Some("k"),
            ),
            (
                Method::GET,
                "/b?uploads&prefix=a",
                Endpoint::ListMultipartUploads,
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
        assert_eq!(r.endpoint, Endpoint::ListDirectoryBuckets);
        let r = route(Method::GET, "/", "h", &[("authorization", &sign("s3"))]);
        assert_eq!(r.endpoint, Endpoint::ListBuckets);
    }

    #[test]
    fn copy_header_decides_copy_object() {
        let r = route(Method::PUT, "/b/k", "h", &[("x-amz-copy-source", "src/k")]);
        assert_eq!(r.endpoint, Endpoint::CopyObject);
        let r = route(
            Method::PUT,
            "/b/k?partNumber=2&uploadId=x",
            "h",
            &[("x-amz-copy-source", "src/k")],
        );
        assert_eq!(r.endpoint, Endpoint::UploadPartCopy);
    }

    #[test]
    fn virtual_hosted_style() {
        let r = route(Method::GET, "/", "photos.localhost:9000", &[]);
        assert_eq!(
            (r.endpoint, r.bucket.as_deref(), r.key),
            (Endpoint::ListObjects, Some("photos"), None)
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
}
