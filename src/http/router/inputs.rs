//! The inputs each endpoint takes from the query string (and the copy-source header), parsed once
//! with S3's errors, so no handler reads the query.
//!
//! A malformed input does not fail routing: S3 answers for the bucket first (NoSuchBucket,
//! AccessDenied), so the router keeps the first input error in `Route::invalid_input` and
//! `ops::access` raises it right after the addressed bucket is checked. The endpoint then carries
//! default inputs, which no handler sees.

use http::HeaderMap;

use super::Query;
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_COPY_SOURCE, X_AMZ_MAX_PARTS, X_AMZ_OBJECT_ATTRIBUTES, X_AMZ_PART_NUMBER_MARKER,
};

/// The most entries one page of a listing returns (S3's cap for max-keys, max-parts,
/// max-uploads).
pub const MAX_PAGE: usize = 1000;

/// The most part number S3 accepts.
const MAX_PART_NUMBER: u32 = 10_000;

/// What the three object listings share.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListParams {
    pub prefix: String,
    /// Never empty: an empty delimiter is none.
    pub delimiter: Option<String>,
    pub max_keys: usize,
    /// `encoding-type=url`.
    pub url_encode: bool,
}

/// ListObjects.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListV1 {
    pub list: ListParams,
    pub marker: String,
}

/// ListObjectsV2.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListV2 {
    pub list: ListParams,
    /// The token as sent (echoed back), and the key it decodes to.
    pub continuation_token: Option<String>,
    pub token_key: Option<String>,
    /// Never empty.
    pub start_after: Option<String>,
    pub fetch_owner: bool,
}

/// ListObjectVersions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListVersions {
    pub list: ListParams,
    pub key_marker: String,
    pub version_id_marker: String,
}

/// ListMultipartUploads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListUploads {
    pub prefix: String,
    /// Never empty.
    pub delimiter: Option<String>,
    pub key_marker: String,
    pub upload_id_marker: String,
    pub max_uploads: usize,
    pub url_encode: bool,
}

/// ListParts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListParts {
    pub upload_id: String,
    pub max_parts: usize,
    pub part_number_marker: u32,
}

/// UploadPart and UploadPartCopy: the upload and the part number (1..=10000).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Part {
    pub upload_id: String,
    pub part_number: u32,
}

/// `x-amz-copy-source`, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CopySourceRef {
    pub bucket: String,
    pub key: String,
    /// `?versionId=` (`null` or an id sealstore could have issued).
    pub version_id: Option<String>,
}

/// GetObject and HeadObject.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Read {
    /// `versionId`.
    pub version_id: Option<String>,
    /// `partNumber` (1..=10000; never with a Range header).
    pub part_number: Option<u32>,
    /// `response-*` overrides: the header and its value.
    pub overrides: Vec<(&'static str, String)>,
}

/// GetObjectAttributes: which attributes `x-amz-object-attributes` asks for (at least one), and
/// the page of parts (`x-amz-max-parts`, capped at [`MAX_PAGE`]; `x-amz-part-number-marker`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    /// `versionId`.
    pub version_id: Option<String>,
    pub etag: bool,
    pub checksum: bool,
    pub object_parts: bool,
    pub storage_class: bool,
    pub object_size: bool,
    pub max_parts: usize,
    pub part_number_marker: u32,
}

/// The most buckets one ListBuckets page holds, and the page size S3 applies when a paginated
/// request names none.
pub const MAX_BUCKET_PAGE: usize = 10_000;

/// ListBuckets. Without any of its four parameters S3 lists every bucket in one answer;
/// `continuation-token`, `prefix` or `bucket-region` alone make it a paginated request with
/// S3's default page of 10,000.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BucketListing {
    /// The page size: `max-buckets`, 10,000, or `usize::MAX` for an unpaginated request.
    pub page: usize,
    /// The last bucket name of the previous page ("" for the first), decoded from the token.
    pub after: String,
    /// `prefix` as sent (echoed back when present).
    pub prefix: Option<String>,
    pub bucket_region: Option<String>,
}

/// ListDirectoryBuckets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectoryListing {
    pub max: usize,
    /// The last bucket name of the previous page ("" for the first).
    pub after: String,
}

/// `response-*` query parameters and the header each overrides.
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

/// Collects the first input error while the router builds the endpoint.
#[derive(Default)]
pub(super) struct Inputs {
    pub(super) error: Option<S3Error>,
}

impl Inputs {
    /// The parsed value, or the default after keeping the error (the first one wins).
    pub(super) fn take<T: Default>(&mut self, parsed: Result<T, S3Error>) -> T {
        parsed.unwrap_or_else(|e| {
            self.error.get_or_insert(e);
            T::default()
        })
    }
}

pub(super) fn upload_id(q: &Query) -> String {
    q.get("uploadId").unwrap_or("").to_string()
}

/// `versionId`: `null` or an id sealstore could have issued; anything else is S3's
/// InvalidArgument (a well-formed id no version has is the handler's NoSuchVersion).
pub(super) fn version_id(q: &Query) -> Result<Option<String>, S3Error> {
    match q.get("versionId") {
        None => Ok(None),
        Some(v) if crate::store::is_version_id(v) => Ok(Some(v.to_string())),
        Some(v) => Err(invalid_version(v)),
    }
}

fn invalid_version(v: &str) -> S3Error {
    S3Error::invalid_argument("Invalid version id specified", "versionId", v)
}

fn part_number_value(raw: &str) -> Result<u32, S3Error> {
    raw.parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                raw,
            )
        })
}

pub(super) fn part(q: &Query) -> Result<Part, S3Error> {
    Ok(Part {
        upload_id: upload_id(q),
        part_number: part_number_value(q.get("partNumber").unwrap_or(""))?,
    })
}

/// GetObject/HeadObject: the version id, then `partNumber`, never together with a Range header.
pub(super) fn read(q: &Query, headers: &HeaderMap) -> Result<Read, S3Error> {
    let version_id = version_id(q)?;
    let part_number = match q.get("partNumber") {
        None => None,
        Some(raw) => {
            let n = part_number_value(raw)?;
            if headers.contains_key(http::header::RANGE) {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Cannot specify both Range header and partNumber query parameter",
                ));
            }
            Some(n)
        }
    };
    let overrides = OVERRIDES
        .iter()
        .filter_map(|(param, name)| Some((*name, q.get(param)?.to_string())))
        .collect();
    Ok(Read {
        version_id,
        part_number,
        overrides,
    })
}

/// GetObjectAttributes: the version id, then the attribute list (every `x-amz-object-attributes`
/// line, comma-separated; names are case-sensitive, as S3's enum values are), then the page of
/// parts. A missing or empty list is S3's 400 InvalidRequest; an unknown name its 400
/// InvalidArgument "Invalid attribute name specified." (public S3 implementations agree on both).
pub(super) fn attributes(q: &Query, headers: &HeaderMap) -> Result<Attributes, S3Error> {
    let mut out = Attributes {
        version_id: version_id(q)?,
        ..Attributes::default()
    };
    let mut any = false;
    let lines: Vec<String> = headers
        .get_all(X_AMZ_OBJECT_ATTRIBUTES)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let names = lines.iter().flat_map(|l| l.split(',')).map(str::trim);
    // An empty item (`ETag,`) asks for nothing, so skipping it drops nothing.
    for name in names.filter(|n| !n.is_empty()) {
        let wanted = match name {
            "ETag" => &mut out.etag,
            "Checksum" => &mut out.checksum,
            "ObjectParts" => &mut out.object_parts,
            "StorageClass" => &mut out.storage_class,
            "ObjectSize" => &mut out.object_size,
            _ => {
                return Err(S3Error::invalid_argument(
                    "Invalid attribute name specified.",
                    X_AMZ_OBJECT_ATTRIBUTES,
                    name,
                ));
            }
        };
        *wanted = true;
        any = true;
    }
    if !any {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty",
        ));
    }
    out.max_parts = count_header(headers, X_AMZ_MAX_PARTS)?
        .map_or(MAX_PAGE, |n| n.min(MAX_PAGE as u64) as usize);
    out.part_number_marker = match count_header(headers, X_AMZ_PART_NUMBER_MARKER)? {
        None => 0,
        // A marker past the last part number lists nothing, as one at it does.
        Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
    };
    Ok(out)
}

/// A non-negative integer header (`x-amz-max-parts`, `x-amz-part-number-marker`), or
/// InvalidArgument naming it, as the query-string counts of ListParts answer.
fn count_header(headers: &HeaderMap, name: &str) -> Result<Option<u64>, S3Error> {
    let Some(raw) = headers.get(name) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(raw.as_bytes());
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| i32::try_from(*n).is_ok())
        .map(Some)
        .ok_or_else(|| {
            S3Error::invalid_argument(
                format!("Provided {name} not an integer or within integer range"),
                name,
                text.as_ref(),
            )
        })
}

/// `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally `?versionId=`.
pub fn parse_copy_source(value: &str) -> Result<(String, String), S3Error> {
    parse_copy_source_version(value).map(|c| (c.bucket, c.key))
}

/// [`parse_copy_source`] with the version id.
pub fn parse_copy_source_version(value: &str) -> Result<CopySourceRef, S3Error> {
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .field("ArgumentName", X_AMZ_COPY_SOURCE)
        .field("ArgumentValue", value)
    };
    let (path, version) = match value.split_once('?') {
        Some((p, q)) => (p, q.strip_prefix("versionId=")),
        None => (value, None),
    };
    if let Some(v) = version.filter(|v| !crate::store::is_version_id(v)) {
        return Err(invalid_version(v));
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok(CopySourceRef {
            bucket: b.to_string(),
            key: k.to_string(),
            version_id: version.map(str::to_string),
        }),
        _ => Err(invalid()),
    }
}

pub(super) fn copy_source(headers: &HeaderMap) -> Result<CopySourceRef, S3Error> {
    let value = headers
        .get(X_AMZ_COPY_SOURCE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    parse_copy_source_version(value)
}

/// A page-size query parameter (`max-keys`, `max-parts`, `max-uploads`): `cap` when absent, a
/// non-negative integer capped at `cap`, InvalidArgument otherwise.
fn count(q: &Query, name: &str, cap: usize) -> Result<usize, S3Error> {
    match q.get(name) {
        None => Ok(cap),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(cap))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Provided {name} not an integer or within integer range"),
                    name,
                    v,
                )
            }),
    }
}

/// `encoding-type`: absent, or `url`.
fn url_encode(q: &Query) -> Result<bool, S3Error> {
    match q.get("encoding-type") {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(v) => Err(S3Error::invalid_argument(
            "Invalid Encoding Method specified in Request",
            "encoding-type",
            v,
        )),
    }
}

fn delimiter(q: &Query) -> Option<String> {
    q.get("delimiter")
        .filter(|d| !d.is_empty())
        .map(str::to_string)
}

fn list_params(q: &Query) -> Result<ListParams, S3Error> {
    let max_keys = count(q, "max-keys", MAX_PAGE)?;
    let url_encode = url_encode(q)?;
    Ok(ListParams {
        prefix: q.get("prefix").unwrap_or("").to_string(),
        delimiter: delimiter(q),
        max_keys,
        url_encode,
    })
}

pub(super) fn list_v1(q: &Query) -> Result<ListV1, S3Error> {
    Ok(ListV1 {
        list: list_params(q)?,
        marker: q.get("marker").unwrap_or("").to_string(),
    })
}

/// A `continuation-token` (of ListObjectsV2 or ListBuckets): URL-safe base64 of the name the
/// previous page ended with; anything else is S3's InvalidArgument.
fn decode_token(t: &str) -> Result<String, S3Error> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                t,
            )
        })
}

pub(super) fn list_v2(q: &Query) -> Result<ListV2, S3Error> {
    let list = list_params(q)?;
    let continuation_token = q.get("continuation-token").map(str::to_string);
    let token_key = continuation_token
        .as_deref()
        .map(decode_token)
        .transpose()?;
    Ok(ListV2 {
        list,
        continuation_token,
        token_key,
        start_after: q
            .get("start-after")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        fetch_owner: q.get("fetch-owner") == Some("true"),
    })
}

pub(super) fn list_versions(q: &Query) -> Result<ListVersions, S3Error> {
    let list = list_params(q)?;
    let key_marker = q.get("key-marker").unwrap_or("").to_string();
    let version_id_marker = q.get("version-id-marker").unwrap_or("").to_string();
    if !version_id_marker.is_empty() && key_marker.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "A version-id marker cannot be specified without a key marker.",
        )
        .field("ArgumentName", "version-id-marker")
        .field("ArgumentValue", version_id_marker));
    }
    Ok(ListVersions {
        list,
        key_marker,
        version_id_marker,
    })
}

pub(super) fn list_uploads(q: &Query) -> Result<ListUploads, S3Error> {
    let max_uploads = count(q, "max-uploads", MAX_PAGE)?;
    let url_encode = url_encode(q)?;
    Ok(ListUploads {
        prefix: q.get("prefix").unwrap_or("").to_string(),
        delimiter: delimiter(q),
        key_marker: q.get("key-marker").unwrap_or("").to_string(),
        upload_id_marker: q.get("upload-id-marker").unwrap_or("").to_string(),
        max_uploads,
        url_encode,
    })
}

pub(super) fn list_parts(q: &Query) -> Result<ListParts, S3Error> {
    let max_parts = count(q, "max-parts", MAX_PAGE)?;
    let part_number_marker = match q.get("part-number-marker") {
        None => 0,
        Some(v) => v.parse::<u32>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                v,
            )
        })?,
    };
    Ok(ListParts {
        upload_id: upload_id(q),
        max_parts,
        part_number_marker,
    })
}

/// ListBuckets: `max-buckets` must be an integer from 1 to 10,000 (S3 words a value that is no
/// 32-bit integer differently from one out of that range).
pub(super) fn bucket_listing(q: &Query) -> Result<BucketListing, S3Error> {
    const NAME: &str = "max-buckets";
    let max = match q.get(NAME) {
        None => None,
        Some(v) => {
            let n = v.parse::<i32>().map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-buckets not an integer or within integer range",
                    NAME,
                    v,
                )
            })?;
            let n = usize::try_from(n)
                .ok()
                .filter(|n| (1..=MAX_BUCKET_PAGE).contains(n))
                .ok_or_else(|| {
                    S3Error::invalid_argument(
                        "Argument max-buckets must be an integer between 1 and 10000.",
                        NAME,
                        v,
                    )
                })?;
            Some(n)
        }
    };
    let token = q.get("continuation-token");
    let after = token.map(decode_token).transpose()?.unwrap_or_default();
    let prefix = q.get("prefix").map(str::to_string);
    let bucket_region = q.get("bucket-region").map(str::to_string);
    let paginated = max.is_some() || token.is_some() || prefix.is_some() || bucket_region.is_some();
    let page = match max {
        Some(n) => n,
        None if paginated => MAX_BUCKET_PAGE,
        None => usize::MAX,
    };
    Ok(BucketListing {
        page,
        after,
        prefix,
        bucket_region,
    })
}

pub(super) fn directory_listing(q: &Query) -> Result<DirectoryListing, S3Error> {
    let max = match q.get("max-directory-buckets") {
        None => MAX_PAGE,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_PAGE)
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "max-directory-buckets must be an integer between 0 and 1000",
                    "max-directory-buckets",
                    v,
                )
            })?,
    };
    Ok(DirectoryListing {
        max,
        after: q.get("continuation-token").unwrap_or("").to_string(),
    })
}

/// Request headers that change what a write stores. Some presigners (the JavaScript SDK's, by
/// default) move such headers into the query string of a presigned URL, where S3 reads them as
/// headers; sealstore reads headers only, so one sent that way is refused (501) rather than
/// silently dropped (a tag, an SSE mode or metadata lost while the request succeeds).
const STORING_HEADER_PREFIXES: [&str; 9] = [
    "x-amz-tagging",
    "x-amz-meta-",
    "x-amz-server-side-encryption",
    "x-amz-storage-class",
    "x-amz-acl",
    "x-amz-grant-",
    "x-amz-object-lock-",
    "x-amz-website-redirect-location",
    "x-amz-metadata-directive",
];

pub(super) fn headers_in_query(q: &Query) -> Result<(), S3Error> {
    for (name, _) in &q.0 {
        let lower = name.to_ascii_lowercase();
        if STORING_HEADER_PREFIXES.iter().any(|p| lower.starts_with(p)) {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                format!(
                    "The request header {lower} sent as a query parameter (a presigned URL that \
                     hoists headers) is not implemented by sealstore; send it as a signed header. \
                     It is refused rather than ignored."
                ),
            )
            .field("Header", lower));
        }
    }
    Ok(())
}
