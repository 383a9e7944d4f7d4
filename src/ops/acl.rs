//! ACLs: every sealstore resource is private to its owner, so reads answer the owner's
//! FULL_CONTROL grant and writes accept only the canned ACL `private`.

use axum::response::Response;
use http::StatusCode;

use super::versioning::{find_object, set_version_header};
use super::{ReqCtx, empty_response, xml_response};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_ACL, X_AMZ_GRANT_PREFIX};
use crate::http::xml::S3_XMLNS;
use crate::http::xml::elements::canonical_user_id;
use crate::store::BucketMeta;
use crate::xml_text::escape;

fn owner_full_control(account_id: &str) -> String {
    let id = canonical_user_id(account_id);
    let name = escape(account_id);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AccessControlPolicy xmlns=\"{S3_XMLNS}\"><Owner><ID>{id}</ID><DisplayName>{name}</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>{id}</ID><DisplayName>{name}</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>"
    )
}

pub async fn get_bucket_acl(bucket: BucketMeta) -> Result<Response, S3Error> {
    Ok(xml_response(
        StatusCode::OK,
        owner_full_control(&bucket.owner),
    ))
}

pub async fn get_object_acl(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    version: Option<&str>,
) -> Result<Response, S3Error> {
    let meta = find_object(&ctx.state.store, ctx.object_addr(), version).await?;
    let mut res = xml_response(StatusCode::OK, owner_full_control(&bucket.owner));
    set_version_header(&mut res, &bucket, &meta);
    Ok(res)
}

/// Accepts `x-amz-acl: private` with no grant document; anything else is not implemented.
fn check_acl_write(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    let has_grants = ctx
        .parts
        .headers
        .keys()
        .any(|k| k.as_str().starts_with(X_AMZ_GRANT_PREFIX));
    let has_body = ctx.header("content-length").is_some_and(|l| l != "0");
    if has_grants || has_body || ctx.header(X_AMZ_ACL).is_none() {
        return Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "sealstore keeps every resource private; only the canned ACL 'private' is accepted.",
        ));
    }
    ctx.check_canned_acl()
}

pub async fn put_bucket_acl(ctx: &ReqCtx<'_>) -> Result<Response, S3Error> {
    check_acl_write(ctx)?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn put_object_acl(ctx: &ReqCtx<'_>, version: Option<&str>) -> Result<Response, S3Error> {
    find_object(&ctx.state.store, ctx.object_addr(), version).await?;
    check_acl_write(ctx)?;
    Ok(empty_response(StatusCode::OK))
}
