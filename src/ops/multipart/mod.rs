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
use bytes::Bytes;
use futures_util::Stream;
use http::StatusCode;

use super::access::CopySource;
use super::object_common::{check_body_length, content_headers, customer_md5, load_copy_source};
use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::byte_range::ByteRange;
use crate::clock::{iso8601, now_millis};
use crate::crypto::ssec::CustomerKey;
use crate::crypto::{DataKey, Encryption, ObjectRef, sse};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_CHECKSUM_ALGORITHM, X_AMZ_CHECKSUM_TYPE, X_AMZ_COPY_SOURCE, X_AMZ_COPY_SOURCE_RANGE,
    X_AMZ_COPY_SOURCE_VERSION_ID,
};
use crate::http::headers::{check_user_metadata_size, user_metadata};
use crate::http::router::Part;
use crate::http::xml::elements::ChecksumXml;
use crate::http::xml::multipart::{CopyPartResult, InitiateResult};
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::integrity::checksum::{Checksum, ChecksumAlgorithm};
use crate::integrity::verify::PromisedChecksum;
use crate::integrity::{Expectations, RequestBody};
use crate::object_io::{self, ObjectRead, WrittenPart};
use crate::ops::{sse_request, write_encryption};
use crate::store::{BucketMeta, ChecksumType, ObjectAddr, PartMeta, UploadAddr, UploadMeta};

const KEY_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

mod complete;
mod list;

pub use complete::complete_multipart_upload;
#[cfg(test)]
pub(super) use complete::parse_complete;
pub use list::{list_multipart_uploads, list_parts};

/// S3's limits.
pub const MAX_PART_NUMBER: u32 = 10_000;
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// A new upload id: the initiation time first, so one key's uploads list in initiation order,
/// then 128 random bits.
fn new_upload_id() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    format!("{:012x}{}", now_millis(), hex::encode(raw))
}

fn no_such_upload(id: &str) -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchUpload).field("UploadId", id)
}

async fn load_upload(ctx: &ReqCtx<'_>, id: &str) -> Result<UploadMeta, S3Error> {
    ctx.state
        .store
        .upload(UploadAddr {
            object: ctx.object_addr(),
            upload_id: id,
        })
        .await?
        .ok_or_else(|| no_such_upload(id))
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload, with S3's rules
/// for which algorithm allows which type.
fn parse_checksum_request(
    ctx: &ReqCtx<'_>,
) -> Result<Option<(ChecksumAlgorithm, ChecksumType)>, S3Error> {
    let invalid = |m: String| S3Error::with_message(S3ErrorCode::InvalidRequest, m);
    let kind = match ctx.header(X_AMZ_CHECKSUM_TYPE) {
        None => None,
        Some(t) if t.eq_ignore_ascii_case("COMPOSITE") => Some(ChecksumType::Composite),
        Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => Some(ChecksumType::FullObject),
        Some(t) => {
            return Err(S3Error::invalid_argument(
                "Value for x-amz-checksum-type header is invalid.",
                X_AMZ_CHECKSUM_TYPE,
                t,
            ));
        }
    };
    let Some(name) = ctx.header(X_AMZ_CHECKSUM_ALGORITHM) else {
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

pub async fn create_multipart_upload(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
) -> Result<Response, S3Error> {
    ctx.check_canned_acl()?;
    check_user_metadata_size(&ctx.parts.headers)?;
    let checksum = parse_checksum_request(ctx)?;
    let tags = super::tagging::for_write(&ctx.parts.headers, &bucket)?;
    let request = write_encryption::for_write(ctx, &bucket).await?.request;
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
        tags,
        seal: None,
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
        set_header(&mut res, X_AMZ_CHECKSUM_ALGORITHM, alg.name());
        set_header(&mut res, X_AMZ_CHECKSUM_TYPE, kind.as_str());
    }
    store.create_upload(ctx.bucket_name(), upload).await?;
    Ok(res)
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

/// The part an UploadPart or UploadPartCopy writes: its upload, its number, the upload's data keys
/// and the SSE-C key the request sent.
struct PartWrite<'a> {
    upload: &'a UploadMeta,
    number: u32,
    keys: Vec<DataKey>,
    customer: Option<&'a CustomerKey>,
}

impl<'a> PartWrite<'a> {
    /// Opens the upload's data keys (the SSE-C key already checked against the upload's).
    async fn open(
        ctx: &ReqCtx<'_>,
        upload: &'a UploadMeta,
        number: u32,
        customer: Option<&'a CustomerKey>,
    ) -> Result<PartWrite<'a>, S3Error> {
        let account = &ctx.verified.account_id;
        let keys =
            object_io::upload_keys(ctx.state, account, ctx.bucket_name(), upload, customer).await?;
        Ok(PartWrite {
            upload,
            number,
            keys,
            customer,
        })
    }

    /// Encrypts and stores the part's body, then records it.
    async fn write<S, E>(
        &self,
        ctx: &ReqCtx<'_>,
        body: RequestBody<S>,
        client_sent_checksum: bool,
    ) -> Result<PartOutcome, S3Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::error::Error + 'static,
    {
        let written = object_io::write_part(ctx.state, &self.keys, self.number, body).await?;
        self.record(ctx, written, client_sent_checksum).await
    }

    /// Records the written part in the upload (one metadata write).
    async fn record(
        &self,
        ctx: &ReqCtx<'_>,
        written: WrittenPart,
        client_sent_checksum: bool,
    ) -> Result<PartOutcome, S3Error> {
        let part_alg = self.upload.part_algorithm();
        let stored = if written.checksum.algorithm == part_alg {
            written.checksum.clone()
        } else {
            written.extra.clone().ok_or_else(|| {
                S3Error::internal("part checksum in the upload's algorithm missing")
            })?
        };
        let first = self
            .keys
            .first()
            .ok_or_else(|| S3Error::internal("upload without a data key"))?;
        let etag = sse::etag(&self.upload.encryption, Some(&written.md5), first);
        let reported = if client_sent_checksum {
            Some(written.checksum)
        } else if self.upload.checksum.is_some() {
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
            checksum: Some(stored),
            seal: None,
        };
        ctx.state
            .store
            .put_part(
                ctx.bucket_name(),
                self.upload,
                self.number,
                part,
                self.customer,
            )
            .await?;
        Ok(PartOutcome {
            etag,
            reported,
            last_modified_millis,
        })
    }

    /// The upload's SSE response headers (with the MD5 of the request's SSE-C key).
    fn sse_headers(&self, res: &mut Response) {
        let customer_md5 = self.customer.map(|c| c.md5_base64.as_str());
        sse_headers(res, &self.upload.encryption, customer_md5);
    }
}

pub async fn upload_part(ctx: &ReqCtx<'_>, part: &Part, body: Body) -> Result<Response, S3Error> {
    let number = part.part_number;
    // The upload's encryption was chosen when it was created: S3 refuses the SSE headers here.
    sse_request::refuse_write_only(&ctx.parts.headers)?;
    let upload = load_upload(ctx, &part.upload_id).await?;
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?;
    check_part_customer_key(&upload, customer.as_ref())?;
    check_body_length(ctx, MAX_PART_SIZE)?;
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
    let target = PartWrite::open(ctx, &upload, number, customer.as_ref()).await?;
    let body = RequestBody::new(body.into_data_stream(), expect, MAX_PART_SIZE)
        .also_compute(upload.part_algorithm());
    let outcome = target.write(ctx, body, client_sent_checksum).await?;
    let mut res = empty_response(StatusCode::OK);
    set_header(&mut res, "etag", &format!("\"{}\"", outcome.etag));
    if let Some(c) = &outcome.reported {
        set_header(&mut res, c.algorithm.header(), &c.base64());
    }
    target.sse_headers(&mut res);
    Ok(res)
}

/// `x-amz-copy-source-range: bytes=first-last`, inside the source.
fn copy_source_range(ctx: &ReqCtx<'_>, size: u64) -> Result<Option<ByteRange>, S3Error> {
    ctx.header(X_AMZ_COPY_SOURCE_RANGE)
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
            X_AMZ_COPY_SOURCE_RANGE,
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

pub async fn upload_part_copy(
    ctx: &ReqCtx<'_>,
    part: &Part,
    source: CopySource,
) -> Result<Response, S3Error> {
    let number = part.part_number;
    let upload = load_upload(ctx, &part.upload_id).await?;
    let customer = sse_request::customer_key(&ctx.parts.headers, sse_request::OBJECT)?;
    check_part_customer_key(&upload, customer.as_ref())?;
    let src = load_copy_source(ctx, source).await?;
    let (source, source_key) = (&src.meta, &src.customer);
    let addr = ObjectAddr {
        bucket: &src.bucket,
        key: &src.key,
    };
    let range = copy_source_range(ctx, source.size)?;
    let len = range.map(|r| r.len()).unwrap_or(source.size);
    if len > MAX_PART_SIZE {
        return Err(S3Error::invalid_argument(
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
            X_AMZ_COPY_SOURCE,
            ctx.header(X_AMZ_COPY_SOURCE).unwrap_or(""),
        ));
    }
    let target = PartWrite::open(ctx, &upload, number, customer.as_ref()).await?;
    let read = ObjectRead {
        account: &ctx.verified.account_id,
        addr,
        meta: source,
        range,
        customer: source_key.as_ref(),
    };
    let bytes = object_io::read_body(ctx.state, &read).await?;
    let part_alg = upload.part_algorithm();
    let body = RequestBody::new(bytes, Expectations::internal(len, part_alg), MAX_PART_SIZE);
    let outcome = target.write(ctx, body, false).await?;
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&CopyPartResult {
            xmlns: S3_XMLNS,
            etag: format!("\"{}\"", outcome.etag),
            last_modified: iso8601(outcome.last_modified_millis),
            checksum: outcome
                .reported
                .as_ref()
                .map(|c| ChecksumXml::new(c.algorithm, c.base64())),
        })?,
    );
    target.sse_headers(&mut res);
    if let Some(v) = &src.version_header {
        set_header(&mut res, X_AMZ_COPY_SOURCE_VERSION_ID, v);
    }
    Ok(res)
}

pub async fn abort_multipart_upload(ctx: &ReqCtx<'_>, id: &str) -> Result<Response, S3Error> {
    ctx.state
        .store
        .abort_upload(ctx.bucket_name(), ctx.key(), id)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_ids_sort_by_initiation() {
        let a = new_upload_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_upload_id();
        assert!(a < b);
        assert_eq!(a.len(), 44);
    }
}
