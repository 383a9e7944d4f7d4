//! Bucket versioning: Put/GetBucketVersioning, and what the object handlers share to address a
//! version (`versionId`) and to show one (`x-amz-version-id`, `x-amz-delete-marker`).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::{ReqCtx, empty_response, set_header, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_DELETE_MARKER, X_AMZ_MFA, X_AMZ_VERSION_ID};
use crate::http::body::{Digest, read_required_xml_body};
use crate::http::xml::versioning::{VersioningConfigurationXml, VersioningResult};
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::store::{
    BucketMeta, DeleteMarker, ObjectAddr, ObjectMeta, Store, VersionRecord, Versioning,
};

fn directory_refusal() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        "Directory buckets do not support versioning.",
    )
}

/// `Status` `Enabled` or `Suspended` (a bucket never returns to unversioned); `MfaDelete`
/// `Disabled` only, as for a bucket without an MFA device (enabling it needs one: refused rather
/// than ignored).
pub async fn put_bucket_versioning(
    ctx: &ReqCtx<'_>,
    mut bucket: BucketMeta,
    body: Body,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(directory_refusal());
    }
    let xml = read_required_xml_body(
        &ctx.parts.headers,
        &ctx.verified.payload,
        body,
        // S3 requires Content-MD5 (or a checksum) on PutBucketVersioning.
        Digest::Required,
    )
    .await?;
    let config: VersioningConfigurationXml = from_xml(&xml)?;
    let status = match config.status.as_deref() {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        _ => return Err(S3Error::new(S3ErrorCode::MalformedXML)),
    };
    match config.mfa_delete.as_deref() {
        None | Some("Disabled") => {}
        Some("Enabled") => {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "MFA delete is not implemented by sealstore; MfaDelete Enabled is refused rather than ignored.",
            )
            .field("Header", X_AMZ_MFA));
        }
        Some(_) => return Err(S3Error::new(S3ErrorCode::MalformedXML)),
    }
    bucket.versioning = Some(status);
    ctx.state.store.update_bucket(bucket).await?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_bucket_versioning(bucket: BucketMeta) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(directory_refusal());
    }
    let doc = VersioningResult {
        xmlns: S3_XMLNS,
        status: bucket.versioning.map(Versioning::as_str),
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}

/// `x-amz-version-id` of an object version: shown once the bucket has a versioning state (a
/// bucket never versioned shows none), `null` for the null version.
pub fn set_version_header(res: &mut Response, bucket: &BucketMeta, meta: &ObjectMeta) {
    if bucket.versioning.is_some() || meta.version_id.is_some() {
        set_header(res, X_AMZ_VERSION_ID, meta.version_label());
    }
}

fn marker_label(m: &DeleteMarker) -> &str {
    m.version_id
        .as_deref()
        .unwrap_or(crate::store::NULL_VERSION)
}

/// The object version a request addresses, or S3's error: no current object → NoSuchKey (with
/// `x-amz-delete-marker: true` and the marker's id when a marker hides the key); a version id
/// no version has → NoSuchVersion; a delete marker by id → 405 MethodNotAllowed with the
/// marker headers (it has no object to read).
pub async fn find_object(
    store: &Store,
    addr: ObjectAddr<'_>,
    version: Option<&str>,
) -> Result<ObjectMeta, S3Error> {
    match store.object_version(addr, version).await? {
        Some(VersionRecord::Object(m)) => Ok(m),
        Some(VersionRecord::Marker(m)) => match version {
            None => Err(S3Error::no_such_key(addr.key)
                .header(X_AMZ_DELETE_MARKER, "true")
                .header(X_AMZ_VERSION_ID, marker_label(&m))),
            Some(_) => Err(S3Error::new(S3ErrorCode::MethodNotAllowed)
                .field("Method", "GET")
                .field("ResourceType", "DeleteMarker")
                .header(X_AMZ_DELETE_MARKER, "true")
                .header(X_AMZ_VERSION_ID, marker_label(&m))
                .header(
                    "last-modified",
                    crate::clock::http_date(m.last_modified_millis),
                )),
        },
        None => match version {
            None => Err(S3Error::no_such_key(addr.key)),
            Some(v) => Err(S3Error::new(S3ErrorCode::NoSuchVersion)
                .field("Key", addr.key)
                .field("VersionId", v)),
        },
    }
}
