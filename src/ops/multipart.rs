//! The multipart upload API: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads.
//!
//! CreateMultipartUpload fixes everything about the future object: its metadata, its checksum
//! algorithm and type, and its encryption — fresh data keys sealed for the upload id exactly as a
//! PutObject seals them for its blob. Each part is sealed under keys derived from those for the
//! part's own blob and recorded in one metadata write; Complete checks the part list and makes the
//! object (which refers to the part blobs, no byte is copied) visible in one transaction.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use super::bucket::Owner;
use super::object_get::check_customer_key;
use super::object_put::{content_headers, customer_md5, object_request, parse_copy_source};
use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::crypto::ssec::{self, CustomerKey};
use crate::crypto::{DataKey, Encryption, ObjectRef, sse};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::{Digest, MAX_LARGE_XML_BODY, read_xml_body_limited};
use crate::http::headers::{
    ByteRange, Conditionals, Precondition, check_user_metadata_size, iso8601, now_millis,
    user_metadata,
};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::integrity::checksum::{Checksum, ChecksumAlgorithm};
use crate::integrity::verify::PromisedChecksum;
use crate::integrity::{Expectations, RequestBody};
use crate::object_io::{self, WrittenPart};
use crate::store::{BodyRef, ChecksumType, ObjectMeta, PartBody, PartMeta, StoreError, UploadMeta};

/// S3's limits.
pub const MAX_PART_NUMBER: u32 = 10_000;
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
const MAX_LIST: usize = 1000;

/// A new upload id: the initiation time first, so one key's uploads list in initiation order,
/// then 128 random bits.
fn new_upload_id() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    format!("{:012x}{}", now_millis(), hex::encode(raw))
}

fn upload_id(ctx: &ReqCtx<'_>) -> String {
    ctx.query.get("uploadId").unwrap_or("").to_string()
}

fn no_such_upload(id: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchUpload).field("UploadId", id)
}

async fn load_upload(ctx: &ReqCtx<'_>) -> Result<UploadMeta, S3Error> {
    let id = upload_id(ctx);
    ctx.state
        .store
        .upload(ctx.bucket_name(), ctx.key(), &id)
        .await?
        .ok_or_else(|| no_such_upload(&id))
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload, with S3's rules
/// for which algorithm allows which type.
fn parse_checksum_request(
    ctx: &ReqCtx<'_>,
) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, S3Error> {
    let invalid = |m: String| S3Error::with_message(S3ErrorCode::InvalidRequest, m);
    let kind = match ctx.header("x-amz-checksum-type") {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("COMPOSITE") => Some(ChecksumType::Composite),
        Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => Some(ChecksumType::FullObject),
        Some(t) => {
            return Err(S3Error::invalid_argument(
                "Value for x-amz-checksum-type header is invalid.",
                "x-amz-checksum-type",
                t,
            ));
        }
    };
    let Some(name) = ctx.header("x-amz-checksum-algorithm") else {
        return match kind {
            Some(_) => Err(invalid(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.".into(),
            )),
            None => Ok(None),
        };
    };
    let alg = ChecksumAlgorithm::from_name(name).ok_or_else(|| {
        invalid("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]".into())
    })?;
    let lower = alg.name().to_ascii_lowercase();
    match (alg, kind) {
        (ChecksumAlgorithm::Crc64Nvme, Some(ChecksumType::Composite)) => Err(invalid(format!(
            "The COMPOSITE checksum type cannot be used with the {lower} checksum algorithm."
        ))),
        (ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256, Some(ChecksumType::FullObject)) => {
            Err(invalid(format!(
                "The FULL_OBJECT checksum type cannot be used with the {lower} checksum algorithm."
            )))
        }
        (ChecksumAlgorithm::Crc64Nvme, None) => Ok(Some((alg, ChecksumType::FullObject))),
        (_, None) => Ok(Some((alg, ChecksumType::Composite))),
        (_, Some(k)) => Ok(Some((alg, k))),
    }
}

/// The SSE response headers of an upload (and of its parts).
fn sse_headers(res: &mut Response, enc: &Encryption, customer_md5: Option<&str>) {
    for (name, value) in sse::response_headers(enc, customer_md5, false) {
        set_header(res, name, &value);
    }
}

#[derive(Serialize)]
#[serde(rename = "InitiateMultipartUploadResult")]
struct InitiateResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
}

pub async fn create_multipart_upload(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    let bucket = ctx.bucket().await?;
    ctx.check_canned_acl()?;
    check_user_metadata_size(&ctx.parts.headers)?;
    let checksum = parse_checksum_request(ctx)?;
    let request = object_request(ctx, &bucket, sse::parse_write(&ctx.parts.headers)?).await?;
    let md5 = customer_md5(&request);
    let store = &ctx.state.store;
    let plan = ctx
        .state
        .crypto
        .plan(store, &ctx.verified.account_id, ctx.bucket_name(), request)
        .await?;
    let upload_id = new_upload_id();
    let encryption = ctx.state.crypto.seal(
        &plan,
        &ObjectRef {
            bucket: ctx.bucket_name(),
            key: ctx.key(),
            blob_id: &upload_id,
        },
    )?;
    let h = &ctx.parts.headers;
    let upload = UploadMeta {
        upload_id: upload_id.clone(),
        key: ctx.key().to_string(),
        initiated_millis: now_millis(),
        owner: ctx.verified.account_id.clone(),
        content_headers: content_headers(h),
        user_metadata: user_metadata(h),
        checksum,
        encryption,
    };
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&InitiateResult {
            xmlns: S3_XMLNS,
            bucket: ctx.bucket_name().to_string(),
            key: ctx.key().to_string(),
            upload_id,
        })?,
    );
    for (name, value) in sse::response_headers(&upload.encryption, md5.as_deref(), true) {
        set_header(&mut res, name, &value);
    }
    if let Some((alg, kind)) = checksum {
        set_header(&mut res, "x-amz-checksum-algorithm", alg.name());
        set_header(&mut res, "x-amz-checksum-type", kind.as_str());
    }
    store.create_upload(ctx.bucket_name(), upload).await?;
    Ok(res)
}

/// `partNumber`: an integer in 1..=10000.
fn part_number(ctx: &ReqCtx<'_>) -> Result<u32, S3Error> {
    let raw = ctx.query.get("partNumber").unwrap_or("");
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

/// A part request's SSE-C headers against its upload: an SSE-C upload needs the same key on
/// every part; other uploads take none.
fn check_part_customer_key(
    upload: &UploadMeta,
    customer: Option<&CustomerKey>,
) -> Result<(), S3Error> {
    let initiate = || {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.",
        )
    };
    match (&upload.encryption, customer) {
        (Encryption::SseC { verifier, .. }, Some(c)) if c.matches(verifier) => Ok(()),
        (Encryption::SseC { .. }, Some(_)) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The provided encryption parameters did not match the ones used originally.",
        )),
        (Encryption::SseC { .. }, None) | (_, Some(_)) => Err(initiate()),
        (_, None) => Ok(()),
    }
}

/// Stores a written part and answers with its ETag, checksum and the upload's SSE headers.
struct PartOutcome {
    etag: String,
    /// The checksum to report: the request's, or the upload's algorithm's.
    reported: Option<Checksum>,
    last_modified_millis: i64,
}

async fn record_part(
    ctx: &ReqCtx<'_>,
    upload: &UploadMeta,
    keys: &[DataKey],
    number: u32,
    written: WrittenPart,
    client_sent_checksum: bool,
) -> Result<PartOutcome, S3Error> {
    let part_alg = upload.part_algorithm();
    let stored = if written.checksum.algorithm == part_alg {
        written.checksum.clone()
    } else {
        written
            .extra
            .clone()
            .ok_or_else(|| S3Error::internal("part checksum in the upload's algorithm missing"))?
    };
    let first = keys
        .first()
        .ok_or_else(|| S3Error::internal("upload without a data key"))?;
    let etag = sse::etag(&upload.encryption, Some(&written.md5), first);
    let reported = if client_sent_checksum {
        Some(written.checksum)
    } else if upload.checksum.is_some() {
        Some(stored.clone())
    } else {
        None
    };
    let last_modified_millis = now_millis();
    let part = PartMeta {
        blob: written.blob,
        size: written.size,
        etag: etag.clone(),
        last_modified_millis,
        checksum: stored,
    };
    ctx.state
        .store
        .put_part(ctx.bucket_name(), upload, number, part)
        .await?;
    Ok(PartOutcome {
        etag,
        reported,
        last_modified_millis,
    })
}

/// Refuses a part whose length is missing or over 5 GiB before reading it.
fn check_part_length(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    let length = match ctx.header("content-length") {
        Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid Content-Length")
                .field("ArgumentName", "Content-Length")
        })?),
        None if ctx.parts.headers.contains_key("transfer-encoding") => None,
        None => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
    };
    // aws-chunked: the payload is x-amz-decoded-content-length, the framing aside.
    let decoded = ctx
        .header("x-amz-decoded-content-length")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(proposed) = decoded.or(length) else {
        return Ok(());
    };
    if proposed > MAX_PART_SIZE {
        return Err(S3Error::with_message(
            S3ErrorCode::EntityTooLarge,
            "Your proposed upload exceeds the maximum allowed size",
        )
        .field("ProposedSize", proposed.to_string())
        .field("MaxSizeAllowed", MAX_PART_SIZE.to_string()));
    }
    Ok(())
}

pub async fn upload_part(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let number = part_number(ctx)?;
    let upload = load_upload(ctx).await?;
    let customer = ssec::parse(&ctx.parts.headers, ssec::OBJECT)?;
    check_part_customer_key(&upload, customer.as_ref())?;
    check_part_length(ctx)?;
    let expect = Expectations::from_headers(&ctx.parts.headers, &ctx.verified.payload)?;
    let client_sent_checksum = expect.checksum != PromisedChecksum::None;
    if let (Some((alg, _)), true) = (upload.checksum, client_sent_checksum) {
        let sent = expect.stored_algorithm();
        if sent != alg {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                    alg.name().to_ascii_lowercase(),
                    sent.name().to_ascii_lowercase()
                ),
            ));
        }
    }
    let keys = object_io::upload_keys(
        ctx.state,
        &ctx.verified.account_id,
        ctx.bucket_name(),
        &upload,
        customer.as_ref(),
    )
    .await?;
    let body = RequestBody::new(body.into_data_stream(), expect, MAX_PART_SIZE)
        .also_compute(upload.part_algorithm());
    let written = object_io::write_part(ctx.state, &keys, body).await?;
    let outcome = record_part(ctx, &upload, &keys, number, written, client_sent_checksum).await?;
    let mut res = empty_response(StatusCode::OK);
    set_header(&mut res, "etag", &format!("\"{}\"", outcome.etag));
    if let Some(c) = &outcome.reported {
        set_header(&mut res, c.algorithm.header(), &c.base64());
    }
    sse_headers(
        &mut res,
        &upload.encryption,
        customer.as_ref().map(|c| c.md5_base64.as_str()),
    );
    Ok(res)
}

/// `x-amz-copy-source-range: bytes=first-last`, inside the source.
fn copy_source_range(ctx: &ReqCtx<'_>, size: u64) -> Result<Option<ByteRange>, S3Error> {
    ctx.header("x-amz-copy-source-range")
        .map(|raw| parse_copy_source_range(raw, size))
        .transpose()
}

/// Parses `x-amz-copy-source-range` against the source's size.
pub(super) fn parse_copy_source_range(raw: &str, size: u64) -> Result<ByteRange, S3Error> {
    let parsed = raw.trim().strip_prefix("bytes=").and_then(|r| {
        let (a, b) = r.split_once('-')?;
        Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?))
    });
    let Some((start, end)) = parsed.filter(|(a, b)| a <= b) else {
        return Err(S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            raw,
        ));
    };
    if end >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            format!("Range specified is not valid for source object of size: {size}"),
        )
        .field("RangeRequested", raw)
        .field("ActualObjectSize", size.to_string()));
    }
    Ok(ByteRange { start, end })
}

#[derive(Serialize)]
#[serde(rename = "CopyPartResult")]
struct CopyPartResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

/// The five optional checksum elements S3 documents carry, one of them filled.
#[derive(Default)]
struct ChecksumFields {
    crc32: Option<String>,
    crc32c: Option<String>,
    crc64nvme: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
}

impl ChecksumFields {
    fn of(alg: ChecksumAlgorithm, value: String) -> ChecksumFields {
        let mut f = ChecksumFields::default();
        let slot = match alg {
            ChecksumAlgorithm::Crc32 => &mut f.crc32,
            ChecksumAlgorithm::Crc32c => &mut f.crc32c,
            ChecksumAlgorithm::Crc64Nvme => &mut f.crc64nvme,
            ChecksumAlgorithm::Sha1 => &mut f.sha1,
            ChecksumAlgorithm::Sha256 => &mut f.sha256,
        };
        *slot = Some(value);
        f
    }
}

pub async fn upload_part_copy(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let number = part_number(ctx)?;
    let upload = load_upload(ctx).await?;
    let customer = ssec::parse(&ctx.parts.headers, ssec::OBJECT)?;
    check_part_customer_key(&upload, customer.as_ref())?;
    let (src_bucket, src_key) = parse_copy_source(ctx.header("x-amz-copy-source").unwrap_or(""))?;
    ctx.owned_bucket(&src_bucket, "x-amz-source-expected-bucket-owner")
        .await?;
    let store = &ctx.state.store;
    let source = store
        .object(&src_bucket, &src_key)
        .await?
        .ok_or_else(|| S3Error::no_such_key(&src_key))?;
    let source_key = ssec::parse(&ctx.parts.headers, ssec::COPY_SOURCE)?;
    check_customer_key(&source, source_key.as_ref())?;
    let conditions = Conditionals::from_headers(&ctx.parts.headers, "x-amz-copy-source-");
    if conditions.evaluate(&source.etag, source.last_modified_millis) != Precondition::Proceed {
        return Err(S3Error::new(S3ErrorCode::PreconditionFailed)
            .field("Condition", "x-amz-copy-source-If-Match"));
    }
    let range = copy_source_range(ctx, source.size)?;
    let len = range.map(|r| r.len()).unwrap_or(source.size);
    if len > MAX_PART_SIZE {
        return Err(S3Error::invalid_argument(
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
            "x-amz-copy-source",
            ctx.header("x-amz-copy-source").unwrap_or(""),
        ));
    }
    let account = &ctx.verified.account_id;
    let keys = object_io::upload_keys(
        ctx.state,
        account,
        ctx.bucket_name(),
        &upload,
        customer.as_ref(),
    )
    .await?;
    let bytes = object_io::read_body(
        ctx.state,
        account,
        &src_bucket,
        &src_key,
        &source,
        range,
        source_key.as_ref(),
    )
    .await?;
    let part_alg = upload.part_algorithm();
    let body = RequestBody::new(bytes, Expectations::internal(len, part_alg), MAX_PART_SIZE);
    let written = object_io::write_part(ctx.state, &keys, body).await?;
    let outcome = record_part(ctx, &upload, &keys, number, written, false).await?;
    let fields = match &outcome.reported {
        Some(c) => ChecksumFields::of(c.algorithm, c.base64()),
        None => ChecksumFields::default(),
    };
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&CopyPartResult {
            xmlns: S3_XMLNS,
            etag: format!("\"{}\"", outcome.etag),
            last_modified: iso8601(outcome.last_modified_millis),
            crc32: fields.crc32,
            crc32c: fields.crc32c,
            crc64nvme: fields.crc64nvme,
            sha1: fields.sha1,
            sha256: fields.sha256,
        })?,
    );
    sse_headers(
        &mut res,
        &upload.encryption,
        customer.as_ref().map(|c| c.md5_base64.as_str()),
    );
    Ok(res)
}

pub async fn abort_multipart_upload(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let id = upload_id(ctx);
    ctx.state
        .store
        .abort_upload(ctx.bucket_name(), ctx.key(), &id)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

// ---------------------------------------------------------------------------------------------
// CompleteMultipartUpload

#[derive(Deserialize, Debug)]
pub(super) struct CompleteRequest {
    #[serde(rename = "Part", default)]
    pub(super) parts: Vec<CompletedPart>,
}

/// A CompleteMultipartUpload document: blank, without parts or off the schema is MalformedXML;
/// part numbers not strictly ascending are InvalidPartOrder.
pub(super) fn parse_complete(raw: &[u8], upload_id: &str) -> Result<CompleteRequest, S3Error> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    let request: CompleteRequest = from_xml(raw)?;
    if request.parts.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ));
    }
    if request.parts.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(S3Error::new(S3ErrorCode::InvalidPartOrder).field("UploadId", upload_id));
    }
    Ok(request)
}

#[derive(Deserialize, Debug)]
pub(super) struct CompletedPart {
    #[serde(rename = "PartNumber")]
    pub(super) number: u32,
    #[serde(rename = "ETag", default)]
    pub(super) etag: Option<String>,
    #[serde(rename = "ChecksumCRC32")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    sha256: Option<String>,
}

impl CompletedPart {
    fn checksum(&self, alg: ChecksumAlgorithm) -> Option<&str> {
        match alg {
            ChecksumAlgorithm::Crc32 => self.crc32.as_deref(),
            ChecksumAlgorithm::Crc32c => self.crc32c.as_deref(),
            ChecksumAlgorithm::Crc64Nvme => self.crc64nvme.as_deref(),
            ChecksumAlgorithm::Sha1 => self.sha1.as_deref(),
            ChecksumAlgorithm::Sha256 => self.sha256.as_deref(),
        }
        .map(str::trim)
    }
}

#[derive(Serialize)]
#[serde(rename = "CompleteMultipartUploadResult")]
struct CompleteResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Location")]
    location: String,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

/// The answer to a Complete (also to a retried Complete of an upload already completed).
fn complete_response(ctx: &ReqCtx<'_>, meta: &ObjectMeta) -> Result<Response, S3Error> {
    let enc = meta.encryption.as_ref();
    // S3 leaves the checksum out of a KMS object's Complete response.
    let kms = matches!(
        enc,
        Some(Encryption::SseKms { .. } | Encryption::Dsse { .. })
    );
    let view = meta.checksum_view().filter(|_| !kms);
    let fields = match &view {
        Some((alg, value, _)) => ChecksumFields::of(*alg, value.clone()),
        None => ChecksumFields::default(),
    };
    let host = ctx.header("host").unwrap_or("localhost");
    let scheme = if ctx.state.config.https {
        "https"
    } else {
        "http"
    };
    let path_key = percent_encoding::utf8_percent_encode(ctx.key(), KEY_SET);
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&CompleteResult {
            xmlns: S3_XMLNS,
            location: format!("{scheme}://{host}/{}/{path_key}", ctx.bucket_name()),
            bucket: ctx.bucket_name().to_string(),
            key: ctx.key().to_string(),
            etag: format!("\"{}\"", meta.etag),
            crc32: fields.crc32,
            crc32c: fields.crc32c,
            crc64nvme: fields.crc64nvme,
            sha1: fields.sha1,
            sha256: fields.sha256,
            checksum_type: view.map(|(_, _, t)| t),
        })?,
    );
    // SSE-C objects answer Complete without any SSE header; the others with their usual ones.
    if let Some(
        enc @ (Encryption::SseS3 { .. } | Encryption::SseKms { .. } | Encryption::Dsse { .. }),
    ) = enc
    {
        sse_headers(&mut res, enc, None);
    }
    Ok(res)
}

const KEY_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

fn invalid_part(upload_id: &str, number: u32, etag: &str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidPart)
        .field("UploadId", upload_id)
        .field("PartNumber", number.to_string())
        .field("ETag", etag)
}

fn bad_digest(message: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::BadDigest, message)
}

pub async fn complete_multipart_upload(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let id = upload_id(ctx);
    let store = &ctx.state.store;
    let Some(upload) = store.upload(ctx.bucket_name(), ctx.key(), &id).await? else {
        return retried_complete(ctx, &id).await;
    };
    let customer = ssec::parse(&ctx.parts.headers, ssec::OBJECT)?;
    if let (Encryption::SseC { verifier, .. }, Some(c)) = (&upload.encryption, &customer) {
        if !c.matches(verifier) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The provided encryption parameters did not match the ones used originally.",
            ));
        }
    }
    // On a Complete, `x-amz-checksum-<alg>` is the whole object's checksum (checked in
    // `object_checksum`), not a checksum of this XML body.
    let mut body_headers = ctx.parts.headers.clone();
    for alg in ChecksumAlgorithm::ALL {
        body_headers.remove(alg.header());
    }
    let raw = read_xml_body_limited(
        &body_headers,
        &ctx.verified.payload,
        body,
        Digest::Optional,
        MAX_LARGE_XML_BODY,
    )
    .await?;
    let request = parse_complete(&raw, &id)?;
    check_checksum_mode(ctx, &upload)?;
    let stored = store.parts(&id, 0, MAX_PART_NUMBER as usize).await?;
    // Every listed part must exist with the listed ETag.
    let mut chosen: Vec<(&CompletedPart, &PartMeta)> = Vec::with_capacity(request.parts.len());
    for p in &request.parts {
        let etag = p.etag.as_deref().unwrap_or("").trim().trim_matches('"');
        let part = stored
            .binary_search_by_key(&p.number, |(n, _)| *n)
            .ok()
            .and_then(|i| stored.get(i))
            .map(|(_, part)| part)
            .filter(|part| part.etag == etag)
            .ok_or_else(|| invalid_part(&id, p.number, etag))?;
        chosen.push((p, part));
    }
    let last = chosen.len() - 1;
    for (i, (p, part)) in chosen.iter().enumerate() {
        if i < last && part.size < MIN_PART_SIZE {
            return Err(S3Error::new(S3ErrorCode::EntityTooSmall)
                .field("ProposedSize", part.size.to_string())
                .field("MinSizeAllowed", MIN_PART_SIZE.to_string())
                .field("PartNumber", p.number.to_string())
                .field("ETag", part.etag.as_str()));
        }
    }
    let checksum = object_checksum(ctx, &upload, &chosen)?;
    let size: u64 = chosen.iter().map(|(_, part)| part.size).sum();
    if let Some(v) = ctx.header("x-amz-mp-object-size") {
        if v.trim().parse::<u64>().ok() != Some(size) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "The provided 'x-amz-mp-object-size' header value {v} does not match what was computed: {size}"
                ),
            ));
        }
    }
    let mut md5s = Md5::new();
    for (_, part) in &chosen {
        md5s.update(hex::decode(&part.etag).map_err(S3Error::internal)?);
    }
    let meta = ObjectMeta {
        size,
        etag: format!("{}-{}", hex::encode(md5s.finalize()), chosen.len()),
        last_modified_millis: now_millis(),
        content_headers: upload.content_headers.clone(),
        user_metadata: upload.user_metadata.clone(),
        checksum: Some(checksum),
        composite_checksum: matches!(upload.checksum, Some((_, ChecksumType::Composite))),
        encryption: Some(upload.encryption.clone()),
        body: BodyRef::Parts {
            upload_id: id.clone(),
            parts: chosen
                .iter()
                .map(|(p, part)| PartBody {
                    number: p.number,
                    blob: part.blob.clone(),
                    size: part.size,
                    checksum: Some(part.checksum.clone()),
                })
                .collect(),
        },
    };
    match store
        .complete_upload(ctx.bucket_name(), ctx.key(), &id, meta.clone())
        .await
    {
        Ok(()) => complete_response(ctx, &meta),
        // Completed by a concurrent request meanwhile: answer as for a retry.
        Err(StoreError::NoSuchUpload(_)) => retried_complete(ctx, &id).await,
        Err(StoreError::PartChanged(n)) => Err(invalid_part(&id, n, "")),
        Err(e) => Err(e.into()),
    }
}

/// A Complete of an upload that no longer exists: if it is the one that made the current object,
/// S3 answers as it did the first time; otherwise the upload is unknown.
async fn retried_complete(ctx: &ReqCtx<'_>, id: &str) -> Result<Response, S3Error> {
    let current = ctx.state.store.object(ctx.bucket_name(), ctx.key()).await?;
    match current {
        Some(meta) if matches!(&meta.body, BodyRef::Parts { upload_id, .. } if upload_id == id) => {
            complete_response(ctx, &meta)
        }
        _ => Err(no_such_upload(id)),
    }
}

/// `x-amz-checksum-type` on a Complete must repeat the upload's.
fn check_checksum_mode(ctx: &ReqCtx<'_>, upload: &UploadMeta) -> Result<(), S3Error> {
    let Some(asked) = ctx.header("x-amz-checksum-type") else {
        return Ok(());
    };
    let created = upload.checksum.map(|(_, k)| k.as_str());
    if created.is_some_and(|c| c.eq_ignore_ascii_case(asked)) {
        return Ok(());
    }
    Err(S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        format!(
            "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
            created.unwrap_or("null")
        ),
    ))
}

/// The completed object's checksum: COMPOSITE (of the part checksums, each of which the request
/// must repeat), FULL_OBJECT (the part CRCs combined), or, for an upload created without an
/// algorithm, the CRC64NVME of the whole object, as S3 gives every object.
fn object_checksum(
    ctx: &ReqCtx<'_>,
    upload: &UploadMeta,
    chosen: &[(&CompletedPart, &PartMeta)],
) -> Result<Checksum, S3Error> {
    let alg = upload.part_algorithm();
    let lower = alg.name().to_ascii_lowercase();
    if let Some((alg, kind)) = upload.checksum {
        for (p, part) in chosen {
            match p.checksum(alg) {
                None if kind == ChecksumType::Composite => {
                    return Err(S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!(
                            "The upload was created using a {lower} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                            p.number
                        ),
                    ));
                }
                Some(given)
                    if alg.decode(given).as_deref() != Some(part.checksum.value.as_slice()) =>
                {
                    return Err(bad_digest(format!(
                        "The {lower} you specified for part {} did not match what we received.",
                        p.number
                    )));
                }
                _ => {}
            }
        }
    }
    let checksum = match upload.checksum {
        Some((alg, ChecksumType::Composite)) => {
            let parts: Vec<&Checksum> = chosen.iter().map(|(_, part)| &part.checksum).collect();
            Checksum::composite(alg, &parts)
        }
        _ => {
            let parts: Vec<(&Checksum, u64)> = chosen
                .iter()
                .map(|(_, part)| (&part.checksum, part.size))
                .collect();
            Checksum::combine(&parts)
                .ok_or_else(|| S3Error::internal("part checksums do not combine"))?
        }
    };
    // A whole-object checksum sent with the Complete must match (a COMPOSITE one may carry its
    // `-<parts>` suffix).
    if let (Some(_), Some(given)) = (upload.checksum, ctx.header(alg.header())) {
        let value = match upload.checksum {
            Some((_, ChecksumType::Composite)) => given.trim().split('-').next().unwrap_or(""),
            _ => given.trim(),
        };
        if alg.decode(value).as_deref() != Some(checksum.value.as_slice()) {
            return Err(bad_digest(format!(
                "The {lower} you specified did not match the calculated checksum."
            )));
        }
    }
    Ok(checksum)
}

// ---------------------------------------------------------------------------------------------
// ListParts and ListMultipartUploads

/// A non-negative integer query parameter, capped at 1000.
fn list_limit(ctx: &ReqCtx<'_>, name: &str) -> Result<usize, S3Error> {
    match ctx.query.get(name) {
        None => Ok(MAX_LIST),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| (n as usize).min(MAX_LIST))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    format!("Provided {name} not an integer or within integer range"),
                    name,
                    v,
                )
            }),
    }
}

#[derive(Serialize)]
struct PartEntry {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "LastModified")]
    last_modified: String,
    #[serde(rename = "ETag")]
    etag: String,
    #[serde(rename = "Size")]
    size: u64,
    #[serde(rename = "ChecksumCRC32", skip_serializing_if = "Option::is_none")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C", skip_serializing_if = "Option::is_none")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME", skip_serializing_if = "Option::is_none")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1", skip_serializing_if = "Option::is_none")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

#[derive(Serialize)]
#[serde(rename = "ListPartsResult")]
struct ListPartsResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "PartNumberMarker")]
    part_number_marker: u32,
    #[serde(rename = "NextPartNumberMarker")]
    next_part_number_marker: u32,
    #[serde(rename = "MaxParts")]
    max_parts: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Part")]
    parts: Vec<PartEntry>,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: &'static str,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

pub async fn list_parts(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let upload = load_upload(ctx).await?;
    let max_parts = list_limit(ctx, "max-parts")?;
    let marker = match ctx.query.get("part-number-marker") {
        None => 0,
        Some(v) => v.parse::<u32>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                v,
            )
        })?,
    };
    let mut parts = ctx
        .state
        .store
        .parts(&upload.upload_id, marker, max_parts + 1)
        .await?;
    let is_truncated = parts.len() > max_parts;
    parts.truncate(max_parts);
    let next = parts.last().map(|(n, _)| *n).unwrap_or(0);
    let entries = parts
        .into_iter()
        .map(|(number, part)| {
            // Part checksums show only for uploads created with an algorithm, as in S3.
            let f = match upload.checksum {
                Some(_) => ChecksumFields::of(part.checksum.algorithm, part.checksum.base64()),
                None => ChecksumFields::default(),
            };
            PartEntry {
                number,
                last_modified: iso8601(part.last_modified_millis),
                etag: format!("\"{}\"", part.etag),
                size: part.size,
                crc32: f.crc32,
                crc32c: f.crc32c,
                crc64nvme: f.crc64nvme,
                sha1: f.sha1,
                sha256: f.sha256,
            }
        })
        .collect();
    let xml = to_xml(&ListPartsResult {
        xmlns: S3_XMLNS,
        bucket: ctx.bucket_name().to_string(),
        key: ctx.key().to_string(),
        upload_id: upload.upload_id.clone(),
        part_number_marker: marker,
        next_part_number_marker: next,
        max_parts,
        is_truncated,
        parts: entries,
        initiator: Owner::of(&upload.owner),
        owner: Owner::of(&upload.owner),
        storage_class: "STANDARD",
        checksum_algorithm: upload.checksum.map(|(a, _)| a.name()),
        checksum_type: upload.checksum.map(|(_, k)| k.as_str()),
    })?;
    let mut res = xml_response(StatusCode::OK, xml);
    if let Some((alg, _)) = upload.checksum {
        set_header(&mut res, "x-amz-checksum-algorithm", alg.name());
    }
    Ok(res)
}

#[derive(Serialize)]
struct UploadEntry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "UploadId")]
    upload_id: String,
    #[serde(rename = "Initiator")]
    initiator: Owner,
    #[serde(rename = "Owner")]
    owner: Owner,
    #[serde(rename = "StorageClass")]
    storage_class: &'static str,
    #[serde(rename = "Initiated")]
    initiated: String,
    #[serde(rename = "ChecksumAlgorithm", skip_serializing_if = "Option::is_none")]
    checksum_algorithm: Option<&'static str>,
    #[serde(rename = "ChecksumType", skip_serializing_if = "Option::is_none")]
    checksum_type: Option<&'static str>,
}

#[derive(Serialize)]
struct CommonPrefix {
    #[serde(rename = "Prefix")]
    prefix: String,
}

#[derive(Serialize)]
#[serde(rename = "ListMultipartUploadsResult")]
struct ListUploadsResult {
    #[serde(rename = "@xmlns")]
    xmlns: &'static str,
    #[serde(rename = "Bucket")]
    bucket: String,
    #[serde(rename = "KeyMarker")]
    key_marker: String,
    #[serde(rename = "UploadIdMarker")]
    upload_id_marker: String,
    #[serde(rename = "NextKeyMarker", skip_serializing_if = "Option::is_none")]
    next_key_marker: Option<String>,
    #[serde(rename = "NextUploadIdMarker", skip_serializing_if = "Option::is_none")]
    next_upload_id_marker: Option<String>,
    #[serde(rename = "Delimiter", skip_serializing_if = "Option::is_none")]
    delimiter: Option<String>,
    #[serde(rename = "Prefix")]
    prefix: String,
    #[serde(rename = "EncodingType", skip_serializing_if = "Option::is_none")]
    encoding_type: Option<&'static str>,
    #[serde(rename = "MaxUploads")]
    max_uploads: usize,
    #[serde(rename = "IsTruncated")]
    is_truncated: bool,
    #[serde(rename = "Upload")]
    uploads: Vec<UploadEntry>,
    #[serde(rename = "CommonPrefixes")]
    common_prefixes: Vec<CommonPrefix>,
}

enum Listed {
    Upload(Box<UploadMeta>),
    Prefix(String),
}

pub async fn list_multipart_uploads(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    ctx.bucket().await?;
    let q = ctx.query;
    let max = list_limit(ctx, "max-uploads")?;
    let url_encode = match q.get("encoding-type") {
        None => false,
        Some("url") => true,
        Some(v) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                v,
            ));
        }
    };
    let enc = |s: &str| {
        if url_encode {
            percent_encoding::utf8_percent_encode(s, KEY_SET).to_string()
        } else {
            s.to_string()
        }
    };
    let prefix = q.get("prefix").unwrap_or("").to_string();
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let key_marker = q.get("key-marker").unwrap_or("").to_string();
    let id_marker = q.get("upload-id-marker").unwrap_or("").to_string();
    let mut after = match (key_marker.is_empty(), id_marker.is_empty()) {
        (true, _) => None,
        (false, true) => Some((key_marker.clone(), None)),
        (false, false) => Some((key_marker.clone(), Some(id_marker.clone()))),
    };
    // A key marker that names a common prefix resumes past the whole prefix.
    if let (Some((k, None)), Some(d)) = (&after, delimiter) {
        if k.ends_with(d) && k.starts_with(&prefix) {
            after = Some((format!("{k}{}", char::MAX), None));
        }
    }
    let mut listed: Vec<Listed> = Vec::new();
    let mut is_truncated = false;
    'scan: loop {
        if max == 0 {
            break;
        }
        let page = ctx
            .state
            .store
            .uploads(ctx.bucket_name(), &prefix, after.clone(), MAX_LIST)
            .await?;
        if page.is_empty() {
            break;
        }
        for upload in page {
            after = Some((upload.key.clone(), Some(upload.upload_id.clone())));
            let folded = delimiter.and_then(|d| {
                let rest = upload.key.get(prefix.len()..)?;
                rest.find(d)
                    .map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
            });
            if listed.len() >= max {
                is_truncated = true;
                break 'scan;
            }
            match folded {
                Some(cp) => {
                    after = Some((format!("{cp}{}", char::MAX), None));
                    listed.push(Listed::Prefix(cp));
                    continue 'scan;
                }
                None => listed.push(Listed::Upload(Box::new(upload))),
            }
        }
    }
    let (next_key, next_id) = match (is_truncated, listed.last()) {
        (true, Some(Listed::Upload(u))) => (Some(enc(&u.key)), Some(u.upload_id.clone())),
        (true, Some(Listed::Prefix(p))) => (Some(enc(p)), None),
        _ => (None, None),
    };
    let mut uploads = Vec::new();
    let mut common_prefixes = Vec::new();
    for l in listed {
        match l {
            Listed::Upload(u) => uploads.push(UploadEntry {
                key: enc(&u.key),
                upload_id: u.upload_id.clone(),
                initiator: Owner::of(&u.owner),
                owner: Owner::of(&u.owner),
                storage_class: "STANDARD",
                initiated: iso8601(u.initiated_millis),
                checksum_algorithm: u.checksum.map(|(a, _)| a.name()),
                checksum_type: u.checksum.map(|(_, k)| k.as_str()),
            }),
            Listed::Prefix(p) => common_prefixes.push(CommonPrefix { prefix: enc(&p) }),
        }
    }
    let xml = to_xml(&ListUploadsResult {
        xmlns: S3_XMLNS,
        bucket: ctx.bucket_name().to_string(),
        key_marker: enc(&key_marker),
        upload_id_marker: id_marker,
        next_key_marker: next_key,
        next_upload_id_marker: next_id,
        delimiter: delimiter.map(&enc),
        prefix: enc(&prefix),
        encoding_type: url_encode.then_some("url"),
        max_uploads: max,
        is_truncated,
        uploads,
        common_prefixes,
    })?;
    Ok(xml_response(StatusCode::OK, xml))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_request_parses_botocore_body() {
        let body = br#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"f9e6a444695485f2efcf16142fc4f554"</ETag><PartNumber>1</PartNumber><ChecksumCRC32>kfT3Vw==</ChecksumCRC32></Part><Part><ETag>"607727bb67615865b1ba5263bb5a7780"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>"#;
        let r: CompleteRequest = from_xml(body).unwrap();
        assert_eq!(r.parts.len(), 2);
        assert_eq!(r.parts[0].number, 1);
        assert_eq!(
            r.parts[0].checksum(ChecksumAlgorithm::Crc32),
            Some("kfT3Vw==")
        );
        assert_eq!(r.parts[1].checksum(ChecksumAlgorithm::Crc32), None);
        assert_eq!(
            r.parts[1].etag.as_deref(),
            Some("\"607727bb67615865b1ba5263bb5a7780\"")
        );
        assert!(from_xml::<CompleteRequest>(b"<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>").is_err());
    }

    #[test]
    fn upload_ids_sort_by_initiation() {
        let a = new_upload_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_upload_id();
        assert!(a < b);
        assert_eq!(a.len(), 44);
    }
}
