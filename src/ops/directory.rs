//! Directory buckets (S3 Express One Zone): their CreateBucketConfiguration, CreateSession,
//! ListDirectoryBuckets, and the rules that differ from general purpose buckets — bucket default
//! encryption (AES256 or one locked customer managed key, Bucket Keys always on), object writes
//! that must match the bucket default, no Content-MD5, and ListObjectsV2's `/`-only listing.
//! Error codes no public source confirms come from `error::Unverified`.

use axum::response::Response;
use http::StatusCode;

use super::write_encryption::is_alias;
use super::{ReqCtx, set_header, xml_response};
use crate::auth::session::SessionKeys;
use crate::clock::{iso8601, now_millis};
use crate::crypto::{SseAlgorithm, SseRequest};
use crate::error::{S3Error, S3ErrorCode, Unverified};
use crate::header_names::{
    X_AMZ_CREATE_SESSION_MODE, X_AMZ_EXPECTED_BUCKET_OWNER, X_AMZ_SERVER_SIDE_ENCRYPTION,
    X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID, X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED,
};
use crate::http::router::{DirectoryListing, Endpoint, ListParams};
use crate::http::xml::buckets::{BucketInfoXml, LocationXml};
use crate::http::xml::directory::{
    CreateSessionResult, CredentialsXml, DirectoryBucketEntry, DirectoryBuckets,
    ListDirectoryBucketsResult,
};
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::store::{BucketMeta, DirectoryInfo, EncryptionRule, EncryptionType};

pub const SUFFIX: &str = "--x-s3";
pub const STORAGE_CLASS: &str = "EXPRESS_ONEZONE";

/// Whether a name is a directory bucket's (`<base>--<zone-id>--x-s3`).
pub fn is_directory_name(name: &str) -> bool {
    name.ends_with(SUFFIX)
}

/// Checks a directory bucket's name and configuration; returns its location record.
pub fn directory_info(
    name: &str,
    location: Option<LocationXml>,
    bucket: Option<BucketInfoXml>,
    location_constraint: Option<&str>,
) -> Result<DirectoryInfo, S3Error> {
    let bad_name = || S3Error::new(S3ErrorCode::InvalidBucketName).field("BucketName", name);
    let stem = name.strip_suffix(SUFFIX).ok_or_else(bad_name)?;
    let (base, zone) = stem.rsplit_once("--").ok_or_else(bad_name)?;
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let valid = (3..=63).contains(&name.len())
        && !base.is_empty()
        && base.bytes().all(|c| edge_ok(c) || c == b'-')
        && base.bytes().next().is_some_and(edge_ok)
        && base.bytes().last().is_some_and(edge_ok)
        && !zone.is_empty()
        && zone.bytes().all(|c| edge_ok(c) || c == b'-');
    if !valid {
        return Err(bad_name());
    }
    if location_constraint.is_some() {
        return Err(Unverified::MissingDirectoryConfiguration.error());
    }
    let (Some(location), Some(bucket)) = (location, bucket) else {
        return Err(Unverified::MissingDirectoryConfiguration.error());
    };
    let (Some(kind), Some(zone_name), Some(btype), Some(redundancy)) = (
        location.kind,
        location.name,
        bucket.kind,
        bucket.data_redundancy,
    ) else {
        return Err(Unverified::MissingDirectoryConfiguration.error());
    };
    if btype != "Directory" {
        return Err(Unverified::MissingDirectoryConfiguration.error());
    }
    let expected_redundancy = match kind.as_str() {
        "AvailabilityZone" => "SingleAvailabilityZone",
        "LocalZone" => "SingleLocalZone",
        _ => return Err(Unverified::MissingDirectoryConfiguration.error()),
    };
    if redundancy != expected_redundancy {
        return Err(Unverified::DataRedundancyMismatch.error());
    }
    if zone_name != zone {
        return Err(Unverified::ZoneMismatch.error());
    }
    Ok(DirectoryInfo {
        location_type: kind,
        location_name: zone_name,
        data_redundancy: redundancy,
        kms_key_id: None,
    })
}

/// The rules every request to a directory bucket passes before its handler: a session is good
/// only for its own bucket and a ReadOnly session only for reads; Content-MD5 is not supported;
/// the encryption operations do not take `x-amz-expected-bucket-owner`.
pub fn check_request(ctx: &ReqCtx<'_>, bucket: &BucketMeta) -> Result<(), S3Error> {
    if let Some(session) = &ctx.verified.session {
        if session.bucket != bucket.name {
            return Err(Unverified::SessionNotAllowed.error());
        }
        if session.read_only && !is_read(&ctx.route.endpoint) {
            return Err(Unverified::SessionNotAllowed.error());
        }
    }
    if !bucket.is_directory() {
        return Ok(());
    }
    refuse_content_md5(ctx)?;
    let encryption_op = matches!(
        ctx.route.endpoint,
        Endpoint::PutBucketEncryption
            | Endpoint::GetBucketEncryption
            | Endpoint::DeleteBucketEncryption
    );
    if encryption_op && ctx.header(X_AMZ_EXPECTED_BUCKET_OWNER).is_some() {
        return Err(Unverified::ExpectedOwnerNotSupported.error());
    }
    Ok(())
}

/// Directory buckets do not take Content-MD5 (the SDKs send a CRC32 checksum instead).
pub fn refuse_content_md5(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    match ctx.header("content-md5") {
        Some(_) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "This bucket does not support Content Md5 header.",
        )),
        None => Ok(()),
    }
}

/// What a ReadOnly session may do.
fn is_read(ep: &Endpoint) -> bool {
    matches!(
        ep,
        Endpoint::GetObject(_)
            | Endpoint::HeadObject(_)
            | Endpoint::GetObjectAttributes(_)
            | Endpoint::ListObjectsV2(_)
            | Endpoint::ListParts(_)
            | Endpoint::ListMultipartUploads(_)
            | Endpoint::HeadBucket
    )
}

/// PutBucketEncryption on a directory bucket: AES256, or aws:kms with a customer managed key
/// named by id or ARN, checked now and locked for the bucket's lifetime; Bucket Keys always on.
pub async fn check_rule(
    ctx: &ReqCtx<'_>,
    bucket: &mut BucketMeta,
    rule: &mut EncryptionRule,
    blocked: Option<&Vec<EncryptionType>>,
) -> Result<(), S3Error> {
    if blocked.is_some() {
        return Err(Unverified::DirectoryBlockedTypes.error());
    }
    match rule.sse_algorithm {
        SseAlgorithm::Aes256 => return Ok(()),
        SseAlgorithm::Kms => {}
        SseAlgorithm::KmsDsse => return Err(Unverified::DirectoryAlgorithm.error()),
    }
    let key = rule
        .kms_master_key_id
        .as_deref()
        .ok_or_else(|| Unverified::DirectoryKmsKeyRequired.error())?;
    if is_alias(key) {
        return Err(Unverified::DirectoryKmsAlias.error());
    }
    let kms = ctx
        .state
        .crypto
        .keyring
        .resolve(&ctx.state.store, &ctx.verified.account_id, Some(key))
        .await?;
    let info = bucket
        .directory
        .as_mut()
        .ok_or_else(|| S3Error::internal("not a directory bucket"))?;
    match &info.kms_key_id {
        Some(locked) if *locked != kms.id => return Err(Unverified::DirectoryKmsKeyLocked.error()),
        _ => info.kms_key_id = Some(kms.id),
    }
    rule.bucket_key_enabled = true;
    Ok(())
}

/// ListObjectsV2 on a directory bucket lists by `/` only.
pub fn check_listing(list: &ListParams) -> Result<(), S3Error> {
    if let Some(d) = &list.delimiter {
        if d != "/" {
            return Err(Unverified::DirectoryDelimiter.error());
        }
    }
    let prefix = &list.prefix;
    if !prefix.is_empty() && !prefix.ends_with('/') {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This bucket does not support a prefix that does not end in a delimiter. Specify a prefix path ending with a delimiter and try again.",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CreateSession

/// CreateSession (`GET /<bucket>?session`): temporary credentials for one directory bucket. It
/// succeeds for a directory bucket that does not exist yet, because the SDKs ask for a session
/// before CreateBucket when an endpoint URL is set.
pub async fn create_session(
    ctx: &ReqCtx<'_>,
    existing: Option<BucketMeta>,
) -> Result<Response, S3Error> {
    let name = ctx.bucket_name();
    let read_only = match ctx.header(X_AMZ_CREATE_SESSION_MODE) {
        None | Some("ReadWrite") => false,
        Some("ReadOnly") => true,
        Some(other) => {
            return Err(S3Error::invalid_argument(
                "Invalid session mode",
                X_AMZ_CREATE_SESSION_MODE,
                other,
            ));
        }
    };
    // Session encryption settings must be the bucket's own.
    let asked = crate::ops::sse_request::parse_write(&ctx.parts.headers)?;
    let effective = match &existing {
        Some(b) => super::write_encryption::directory_rule(ctx, b, asked).await?,
        None => match asked {
            SseRequest::Default | SseRequest::S3 => SseRequest::S3,
            _ => return Err(Unverified::DirectoryObjectEncryption.error()),
        },
    };
    let now_secs = now_millis() / 1000;
    let keys: &SessionKeys = &ctx.state.sessions;
    let issued = keys.issue(&ctx.verified.account_id, name, read_only, now_secs);
    let mut res = xml_response(
        StatusCode::OK,
        to_xml(&CreateSessionResult {
            xmlns: S3_XMLNS,
            credentials: CredentialsXml {
                session_token: issued.token,
                secret_access_key: issued.secret,
                access_key_id: issued.session.access_key.clone(),
                expiration: iso8601_seconds(issued.session.expires_secs),
            },
        })?,
    );
    match effective {
        SseRequest::Kms { key, .. } => {
            set_header(
                &mut res,
                X_AMZ_SERVER_SIDE_ENCRYPTION,
                SseAlgorithm::Kms.as_str(),
            );
            if let Some(k) = key {
                let kms = ctx
                    .state
                    .crypto
                    .keyring
                    .resolve(&ctx.state.store, &ctx.verified.account_id, Some(&k))
                    .await?;
                set_header(
                    &mut res,
                    X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID,
                    &kms.arn,
                );
            }
            set_header(
                &mut res,
                X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED,
                "true",
            );
        }
        _ => set_header(
            &mut res,
            X_AMZ_SERVER_SIDE_ENCRYPTION,
            SseAlgorithm::Aes256.as_str(),
        ),
    }
    Ok(res)
}

/// `2026-11-25T15:22:43Z`.
fn iso8601_seconds(secs: i64) -> String {
    let full = iso8601(secs * 1000);
    match full.split_once('.') {
        Some((head, _)) => format!("{head}Z"),
        None => full,
    }
}

// ---------------------------------------------------------------------------------------------
// ListDirectoryBuckets

pub async fn list_directory_buckets(
    ctx: &ReqCtx<'_>,
    input: &DirectoryListing,
) -> Result<Response, S3Error> {
    let max = input.max;
    let after = input.after.as_str();
    let account = &ctx.verified.account_id;
    let mut buckets: Vec<BucketMeta> = ctx
        .state
        .store
        .buckets()
        .await?
        .into_iter()
        .filter(|b| &b.owner == account && b.is_directory() && b.name.as_str() > after)
        .collect();
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let more = buckets.len() > max;
    buckets.truncate(max);
    let continuation_token = if more {
        buckets.last().map(|b| b.name.clone())
    } else {
        None
    };
    let doc = ListDirectoryBucketsResult {
        xmlns: S3_XMLNS,
        buckets: DirectoryBuckets {
            bucket: buckets
                .into_iter()
                .map(|b| DirectoryBucketEntry {
                    bucket_arn: b.arn(),
                    creation_date: iso8601(b.created_millis),
                    bucket_region: b.region,
                    name: b.name,
                })
                .collect(),
        },
        continuation_token,
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(kind: &str, name: &str) -> Option<LocationXml> {
        Some(LocationXml {
            kind: Some(kind.into()),
            name: Some(name.into()),
        })
    }

    fn dir(redundancy: &str) -> Option<BucketInfoXml> {
        Some(BucketInfoXml {
            kind: Some("Directory".into()),
            data_redundancy: Some(redundancy.into()),
        })
    }

    #[test]
    fn directory_names_and_configurations() {
        let ok = directory_info(
            "cap--use1-az4--x-s3",
            loc("AvailabilityZone", "use1-az4"),
            dir("SingleAvailabilityZone"),
            None,
        )
        .unwrap();
        assert_eq!(ok.location_name, "use1-az4");
        assert!(
            directory_info(
                "lz--usw2-lax1-az1--x-s3",
                loc("LocalZone", "usw2-lax1-az1"),
                dir("SingleLocalZone"),
                None
            )
            .is_ok()
        );
        let code =
            |name: &str, l, b, c: Option<&str>| directory_info(name, l, b, c).unwrap_err().code;
        assert_eq!(
            code(
                "cap--use1-az5--x-s3",
                loc("AvailabilityZone", "use1-az4"),
                dir("SingleAvailabilityZone"),
                None
            ),
            S3ErrorCode::InvalidBucketName
        );
        assert_eq!(
            code("cap--use1-az4--x-s3", None, None, None),
            S3ErrorCode::MalformedXML
        );
        assert_eq!(
            code(
                "cap--use1-az4--x-s3",
                loc("AvailabilityZone", "use1-az4"),
                dir("SingleLocalZone"),
                None
            ),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            code(
                "Cap--use1-az4--x-s3",
                loc("AvailabilityZone", "use1-az4"),
                dir("SingleAvailabilityZone"),
                None
            ),
            S3ErrorCode::InvalidBucketName
        );
        assert_eq!(
            code(
                "cap--x-s3",
                loc("AvailabilityZone", "use1-az4"),
                dir("SingleAvailabilityZone"),
                None
            ),
            S3ErrorCode::InvalidBucketName
        );
        assert_eq!(iso8601_seconds(1_764_000_000), "2025-11-24T16:00:00Z");
    }
}
