//! CreateBucket, DeleteBucket, HeadBucket, ListBuckets, GetBucketLocation.

use super::{ReqCtx, directory, empty_response, set_header, xml_response};
use crate::clock::{iso8601, now_millis};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_ACCESS_POINT_ALIAS, X_AMZ_BUCKET_LOCATION_NAME, X_AMZ_BUCKET_LOCATION_TYPE,
    X_AMZ_BUCKET_REGION,
};
use crate::http::body::{Digest, read_xml_body};
use crate::http::router::BucketListing;
use crate::http::xml::buckets::{
    BucketEntry, Buckets, CreateBucketConfiguration, ListAllMyBucketsResult, LocationConstraint,
};
use crate::http::xml::elements::Owner;
use crate::http::xml::{S3_XMLNS, from_xml, to_xml};
use crate::store::{BucketMeta, EncryptionType, StoreError};
use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

const US_EAST_1: &str = "us-east-1";

/// A CreateBucket body: blank is no configuration; otherwise it must fit the schema
/// (MalformedXML).
pub(super) fn parse_create_configuration(xml: &[u8]) -> Result<CreateBucketConfiguration, S3Error> {
    if xml.iter().all(u8::is_ascii_whitespace) {
        Ok(CreateBucketConfiguration::default())
    } else {
        from_xml(xml)
    }
}

/// S3's naming rules for general purpose buckets.
pub fn validate_bucket_name(name: &str) -> Result<(), S3Error> {
    let b = name.as_bytes();
    let edge_ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let looks_like_ip = name.split('.').count() == 4
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    let valid = (3..=63).contains(&b.len())
        && b.iter().all(|&c| edge_ok(c) || c == b'.' || c == b'-')
        && b.first().copied().is_some_and(edge_ok)
        && b.last().copied().is_some_and(edge_ok)
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && !looks_like_ip
        && !["xn--", "sthree-", "amzn-s3-demo-"]
            .iter()
            .any(|p| name.starts_with(p))
        && !["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
            .iter()
            .any(|s| name.ends_with(s));
    if valid {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::InvalidBucketName).field("BucketName", name))
    }
}

/// ListBuckets: the caller's general purpose buckets in name order, filtered by `prefix` and
/// `bucket-region`, one page after the continuation token (URL-safe base64 of the last name
/// of the previous page) when the request is paginated.
pub async fn list_buckets(ctx: &ReqCtx<'_>, input: &BucketListing) -> Result<Response, S3Error> {
    use base64::Engine;
    let account = &ctx.verified.account_id;
    let prefix = input.prefix.as_deref().unwrap_or("");
    let mut buckets: Vec<BucketMeta> = ctx
        .state
        .store
        .buckets()
        .await?
        .into_iter()
        .filter(|b| {
            &b.owner == account
                && !b.is_directory()
                && b.name.starts_with(prefix)
                && b.name.as_str() > input.after.as_str()
                && input.bucket_region.as_ref().is_none_or(|r| *r == b.region)
        })
        .collect();
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let more = buckets.len() > input.page;
    buckets.truncate(input.page);
    let continuation_token = match buckets.last() {
        Some(last) if more => {
            Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.name.as_bytes()))
        }
        _ => None,
    };
    let doc = ListAllMyBucketsResult {
        xmlns: S3_XMLNS,
        owner: Owner::of(account),
        buckets: Buckets {
            bucket: buckets
                .into_iter()
                .map(|b| BucketEntry {
                    name: b.name,
                    creation_date: iso8601(b.created_millis),
                    bucket_region: b.region,
                })
                .collect(),
        },
        continuation_token,
        prefix: input.prefix.clone(),
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}

pub async fn create_bucket(ctx: &ReqCtx<'_>, body: Body) -> Result<Response, S3Error> {
    let name = ctx.bucket_name().to_string();
    let is_directory = directory::is_directory_name(&name);
    if !is_directory {
        validate_bucket_name(&name)?;
    }
    if is_directory {
        directory::refuse_content_md5(ctx)?;
    }
    ctx.check_canned_acl()?;
    let xml = read_xml_body(
        &ctx.parts.headers,
        &ctx.verified.payload,
        body,
        Digest::Optional,
    )
    .await?;
    let config = parse_create_configuration(&xml)?;
    let constraint = config.location_constraint.filter(|c| !c.is_empty());
    let directory = if is_directory {
        Some(directory::directory_info(
            &name,
            config.location,
            config.bucket,
            constraint.as_deref(),
        )?)
    } else {
        if config
            .bucket
            .as_ref()
            .is_some_and(|b| b.kind.as_deref() == Some("Directory"))
        {
            return Err(crate::error::Unverified::DirectoryConfigOnGeneralName.error());
        }
        None
    };
    if constraint.as_deref() == Some(US_EAST_1) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidLocationConstraint,
            "The specified location-constraint is not valid",
        )
        .field("LocationConstraint", US_EAST_1));
    }
    let region = constraint
        .clone()
        .unwrap_or_else(|| ctx.state.config.region.clone());
    super::access::new_bucket_scope(ctx, &region, constraint.as_deref(), is_directory)?;
    // Since April 2026 S3 blocks SSE-C on every new bucket until its owner unblocks it (directory
    // buckets do not support SSE-C at all, so they carry no such setting).
    let creation_blocked = if ctx.state.config.allow_ssec_by_default || is_directory {
        Vec::new()
    } else {
        vec![EncryptionType::SseC]
    };
    let meta = BucketMeta {
        name: name.clone(),
        owner: ctx.verified.account_id.clone(),
        region: region.clone(),
        location_constraint: constraint,
        created_millis: now_millis(),
        encryption_rule: None,
        blocked_encryption_types: creation_blocked.clone(),
        default_blocked_encryption_types: creation_blocked,
        directory,
        incarnation: BucketMeta::new_incarnation(),
        versioning: None,
    };
    // S3's quotas: general purpose buckets per account, directory buckets per account and region.
    // The store counts inside the creating transaction (TooManyBuckets beyond).
    let quota = if is_directory {
        ctx.state.config.max_directory_buckets
    } else {
        ctx.state.config.max_buckets
    };
    match ctx.state.store.create_bucket(meta, quota).await {
        Ok(()) => {}
        Err(StoreError::BucketExists { owner, .. }) if owner == ctx.verified.account_id => {
            // S3 keeps a legacy quirk: in us-east-1, re-creating your own bucket succeeds.
            let existing = ctx.state.store.bucket(&name).await?;
            let legacy = region == US_EAST_1 && existing.is_some_and(|b| b.region == US_EAST_1);
            if !legacy {
                return Err(
                    S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou).field("BucketName", name)
                );
            }
        }
        Err(e) => return Err(e.into()),
    }
    let mut res = empty_response(StatusCode::OK);
    set_header(&mut res, "location", &format!("/{name}"));
    Ok(res)
}

pub async fn delete_bucket(ctx: &ReqCtx<'_>, meta: BucketMeta) -> Result<Response, S3Error> {
    ctx.state.store.delete_bucket(&meta).await?;
    // Its stored bucket keys went with it (see `WriteOp::DeleteBucket`); the cache follows.
    let keys = &ctx.state.crypto.bucket_keys;
    keys.forget_bucket(&ctx.state.store, &meta.key_binding())
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn head_bucket(bucket: BucketMeta) -> Result<Response, S3Error> {
    let mut res = empty_response(StatusCode::OK);
    set_header(&mut res, X_AMZ_BUCKET_REGION, &bucket.region);
    set_header(&mut res, X_AMZ_ACCESS_POINT_ALIAS, "false");
    if let Some(d) = &bucket.directory {
        set_header(&mut res, X_AMZ_BUCKET_LOCATION_TYPE, &d.location_type);
        set_header(&mut res, X_AMZ_BUCKET_LOCATION_NAME, &d.location_name);
    }
    Ok(res)
}

pub async fn get_bucket_location(bucket: BucketMeta) -> Result<Response, S3Error> {
    // us-east-1 is reported as an empty constraint, as S3 does.
    let value = if bucket.region == US_EAST_1 {
        String::new()
    } else {
        bucket.region
    };
    Ok(xml_response(
        StatusCode::OK,
        to_xml(&LocationConstraint {
            xmlns: S3_XMLNS,
            value,
        })?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my-bucket.v2", "a1b", &"a".repeat(63), "192.168.5.x"] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Abc",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.5.4",
            "xn--abc",
            "abc-s3alias",
            "abc--x-s3",
            "a.-b",
            "ab c",
        ] {
            assert_eq!(
                validate_bucket_name(bad).unwrap_err().code,
                S3ErrorCode::InvalidBucketName,
                "{bad}"
            );
        }
    }
}
