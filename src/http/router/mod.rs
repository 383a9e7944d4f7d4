//! Routing: the one place that decides which S3 operation a request is.
//!
//! `Route::from_request` looks at the method, the Host header (virtual-hosted style), the path, the
//! query keywords and the one deciding header (`x-amz-copy-source`). Nothing else in the code base
//! inspects the method or the query to choose an operation.

use http::{HeaderMap, Method};

use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::X_AMZ_COPY_SOURCE;

mod endpoint;
mod inputs;
#[cfg(test)]
mod tests;

pub use endpoint::{BucketSubresource, Endpoint};
use endpoint::{SUBRESOURCES, UNSUPPORTED_BUCKET_KEYWORDS, UNSUPPORTED_OBJECT_KEYWORDS};
use inputs::Inputs;
pub use inputs::{
    Attributes, BucketListing, CopySourceRef, DirectoryListing, ListParams, ListParts, ListUploads,
    ListV1, ListV2, ListVersions, MAX_PAGE, Part, Read, parse_copy_source,
    parse_copy_source_version,
};

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

/// A routed request: the operation (with its inputs) plus the bucket and key it addresses.
#[derive(Debug)]
pub struct Route {
    pub endpoint: Endpoint,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// The first malformed input, with S3's error: raised by `ops::access` once the addressed
    /// bucket is checked, as S3 answers for the bucket first (see `inputs.rs`).
    pub invalid_input: Option<S3Error>,
}

/// The longest key S3 accepts, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

impl Route {
    /// Routes a request from its head: the query string decoded, then as [`Route::from_request`].
    pub fn from_parts(parts: &http::request::Parts, domain: &str) -> Result<Route, S3Error> {
        let query = Query::parse(parts.uri.query());
        Route::from_request(
            &parts.method,
            parts.uri.path(),
            &query,
            &parts.headers,
            domain,
        )
    }

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
        let mut inputs = Inputs::default();
        let endpoint = match (&bucket, &key) {
            (None, _) => service_endpoint(method, query, headers, &mut inputs)?,
            (Some(_), None) => bucket_endpoint(method, query, &mut inputs)?,
            (Some(_), Some(_)) => object_endpoint(method, query, headers, &mut inputs)?,
        };
        inputs.take(inputs::headers_in_query(query));
        Ok(Route {
            endpoint,
            bucket,
            key,
            invalid_input: inputs.error,
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

fn service_endpoint(
    method: &Method,
    q: &Query,
    headers: &HeaderMap,
    inputs: &mut Inputs,
) -> Result<Endpoint, S3Error> {
    match *method {
        // `GET /` is both ListBuckets and ListDirectoryBuckets: clients sign the latter for the
        // `s3express` service, and boto3 adds `max-directory-buckets`.
        Method::GET
            if q.has("max-directory-buckets") || scope_service(q, headers) == Some("s3express") =>
        {
            Ok(Endpoint::ListDirectoryBuckets(
                inputs.take(inputs::directory_listing(q)),
            ))
        }
        Method::GET => Ok(Endpoint::ListBuckets(
            inputs.take(inputs::bucket_listing(q)),
        )),
        _ => Err(method_not_allowed(method, "SERVICE")),
    }
}

fn bucket_endpoint(method: &Method, q: &Query, inputs: &mut Inputs) -> Result<Endpoint, S3Error> {
    if let Some((_, op)) = UNSUPPORTED_BUCKET_KEYWORDS.iter().find(|(k, _)| q.has(k)) {
        return Ok(Endpoint::NotImplemented(op));
    }
    if q.has("session") {
        return match *method {
            Method::GET => Ok(Endpoint::CreateSession),
            _ => Err(method_not_allowed(method, "BUCKET")),
        };
    }
    if q.has("versioning") {
        return match *method {
            Method::GET => Ok(Endpoint::GetBucketVersioning),
            Method::PUT => Ok(Endpoint::PutBucketVersioning),
            // S3 has no DeleteBucketVersioning: a bucket never returns to unversioned.
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
            None if q.has("versions") => {
                Endpoint::ListObjectVersions(inputs.take(inputs::list_versions(q)))
            }
            None if q.has("uploads") => {
                Endpoint::ListMultipartUploads(inputs.take(inputs::list_uploads(q)))
            }
            None if q.get("list-type") == Some("2") => {
                Endpoint::ListObjectsV2(inputs.take(inputs::list_v2(q)))
            }
            None => Endpoint::ListObjects(inputs.take(inputs::list_v1(q))),
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

fn object_endpoint(
    method: &Method,
    q: &Query,
    headers: &HeaderMap,
    inputs: &mut Inputs,
) -> Result<Endpoint, S3Error> {
    if let Some((_, op)) = UNSUPPORTED_OBJECT_KEYWORDS.iter().find(|(k, _)| q.has(k)) {
        return Ok(Endpoint::NotImplemented(op));
    }
    if q.has("attributes") {
        return match *method {
            Method::GET => Ok(Endpoint::GetObjectAttributes(
                inputs.take(inputs::attributes(q, headers)),
            )),
            // Never another operation that ignores the keyword (a PUT must not store an object).
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    if q.has("tagging") {
        let version_id = inputs.take(inputs::version_id(q));
        return match *method {
            Method::PUT => Ok(Endpoint::PutObjectTagging { version_id }),
            Method::GET => Ok(Endpoint::GetObjectTagging { version_id }),
            Method::DELETE => Ok(Endpoint::DeleteObjectTagging { version_id }),
            _ => Err(method_not_allowed(method, "OBJECT")),
        };
    }
    let copy = headers.contains_key(X_AMZ_COPY_SOURCE);
    let upload_id = || inputs::upload_id(q);
    let ep = match *method {
        Method::GET if q.has("acl") => Endpoint::GetObjectAcl {
            version_id: inputs.take(inputs::version_id(q)),
        },
        Method::GET if q.has("uploadId") => Endpoint::ListParts(inputs.take(inputs::list_parts(q))),
        Method::GET => Endpoint::GetObject(inputs.take(inputs::read(q, headers))),
        Method::HEAD => Endpoint::HeadObject(inputs.take(inputs::read(q, headers))),
        Method::PUT if q.has("uploadId") && copy => {
            let part = inputs.take(inputs::part(q));
            Endpoint::UploadPartCopy(part, inputs.take(inputs::copy_source(headers)))
        }
        Method::PUT if q.has("uploadId") => Endpoint::UploadPart(inputs.take(inputs::part(q))),
        Method::PUT if q.has("acl") => Endpoint::PutObjectAcl {
            version_id: inputs.take(inputs::version_id(q)),
        },
        Method::PUT if copy => Endpoint::CopyObject(inputs.take(inputs::copy_source(headers))),
        Method::PUT => Endpoint::PutObject,
        Method::DELETE if q.has("uploadId") => Endpoint::AbortMultipartUpload {
            upload_id: upload_id(),
        },
        Method::DELETE => Endpoint::DeleteObject {
            version_id: inputs.take(inputs::version_id(q)),
        },
        Method::POST if q.has("uploads") => Endpoint::CreateMultipartUpload,
        Method::POST if q.has("uploadId") => Endpoint::CompleteMultipartUpload {
            upload_id: upload_id(),
        },
        _ => return Err(method_not_allowed(method, "OBJECT")),
    };
    Ok(ep)
}

fn method_not_allowed(method: &Method, resource_type: &str) -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
        .field("Method", method.as_str())
        .field("ResourceType", resource_type)
}
