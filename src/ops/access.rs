//! Access: what each endpoint must be allowed before its handler runs, in one table
//! (`Endpoint::access`), and `check`, the one place that enforces it. `dispatch` calls `check`
//! before any handler and hands the handler the checked bucket records (`Granted`); handlers never
//! load the addressed bucket or a copy source's bucket themselves. Bucket policies and ACLs plug in
//! here.

use super::{ReqCtx, directory};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_EXPECTED_BUCKET_OWNER, X_AMZ_SOURCE_EXPECTED_BUCKET_OWNER};
use crate::http::router::Endpoint;
use crate::store::BucketMeta;

/// An access requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No bucket is addressed: the SigV4 scope must name a region (any region).
    Service,
    /// CreateBucket: a session credential only for the bucket it names and never ReadOnly; the
    /// scope is checked by `new_bucket_scope` once the body has named the bucket's region.
    NewBucket,
    /// CreateSession: no session credentials; the bucket may not exist yet (a directory bucket
    /// name), and if it does it must be the caller's directory bucket in the scope's region.
    Session,
    /// The addressed bucket: it exists, the scope names its region (and `s3express` only for a
    /// directory bucket), the caller's account owns it, `x-amz-expected-bucket-owner` matches,
    /// and a directory bucket's request rules hold (`directory::check_request`).
    Bucket,
    /// As `Bucket`, from any region: GetBucketLocation is how a client finds the right one.
    BucketAnyRegion,
    /// An object in the addressed bucket: as `Bucket` (kept apart for object-level policies).
    Object,
    /// As `Object` for the destination, then the copy source's bucket: it exists, the caller's
    /// account owns it, `x-amz-source-expected-bucket-owner` matches.
    CopyInto,
    /// A 501 operation: the addressed bucket as `Bucket` when there is one, so a typo still
    /// reads NoSuchBucket.
    BucketIfNamed,
}

impl Endpoint {
    /// THE access table. An exhaustive match: a new endpoint does not compile without its rule.
    pub fn access(&self) -> Access {
        match self {
            Endpoint::ListBuckets(_) | Endpoint::ListDirectoryBuckets(_) => Access::Service,
            Endpoint::CreateBucket => Access::NewBucket,
            Endpoint::CreateSession => Access::Session,
            Endpoint::GetBucketLocation => Access::BucketAnyRegion,
            Endpoint::DeleteBucket
            | Endpoint::HeadBucket
            | Endpoint::GetBucketAcl
            | Endpoint::PutBucketAcl
            | Endpoint::PutBucketEncryption
            | Endpoint::GetBucketEncryption
            | Endpoint::DeleteBucketEncryption
            | Endpoint::PutBucketVersioning
            | Endpoint::GetBucketVersioning
            | Endpoint::GetBucketSubresource(_)
            | Endpoint::ListObjects(_)
            | Endpoint::ListObjectsV2(_)
            | Endpoint::ListObjectVersions(_)
            | Endpoint::ListMultipartUploads(_)
            | Endpoint::DeleteObjects => Access::Bucket,
            Endpoint::PutObject
            | Endpoint::GetObject(_)
            | Endpoint::HeadObject(_)
            | Endpoint::GetObjectAttributes(_)
            | Endpoint::DeleteObject { .. }
            | Endpoint::GetObjectAcl { .. }
            | Endpoint::PutObjectAcl { .. }
            | Endpoint::CreateMultipartUpload
            | Endpoint::UploadPart(_)
            | Endpoint::CompleteMultipartUpload { .. }
            | Endpoint::AbortMultipartUpload { .. }
            | Endpoint::ListParts(_)
            | Endpoint::PutObjectTagging { .. }
            | Endpoint::GetObjectTagging { .. }
            | Endpoint::DeleteObjectTagging { .. } => Access::Object,
            Endpoint::CopyObject(_) | Endpoint::UploadPartCopy(..) => Access::CopyInto,
            Endpoint::NotImplemented(_) => Access::BucketIfNamed,
        }
    }
}

/// A copy source the caller may read: its bucket (checked) and key. The object itself is loaded
/// by the handler (`object_common::load_copy_source`), after the checks S3 makes first.
pub struct CopySource {
    pub bucket: BucketMeta,
    pub key: String,
    /// `?versionId=` of the copy source.
    pub version_id: Option<String>,
}

/// What `check` found: the records the handler works on.
#[derive(Default)]
pub struct Granted {
    bucket: Option<BucketMeta>,
    source: Option<CopySource>,
}

impl Granted {
    /// The checked addressed bucket. The table gives every bucket endpoint one; a mismatch
    /// between the table and `dispatch` is a bug (500), never an unchecked request.
    pub fn bucket(&mut self) -> Result<BucketMeta, S3Error> {
        self.bucket
            .take()
            .ok_or_else(|| S3Error::internal("access table gave no bucket"))
    }

    /// CreateSession's bucket, which may not exist yet.
    pub fn existing_bucket(&mut self) -> Option<BucketMeta> {
        self.bucket.take()
    }

    /// The checked copy source.
    pub fn source(&mut self) -> Result<CopySource, S3Error> {
        self.source
            .take()
            .ok_or_else(|| S3Error::internal("access table gave no copy source"))
    }
}

/// Enforces the endpoint's row of the table. Runs before the handler, so a refused request
/// reads no body and changes nothing. A malformed input the router kept comes right after the
/// addressed bucket's checks (S3 answers for the bucket first), before a copy source's.
pub async fn check(ctx: &ReqCtx<'_>) -> Result<Granted, S3Error> {
    let bucket = match ctx.route.endpoint.access() {
        Access::Service => {
            check_scope_region_name(ctx)?;
            None
        }
        Access::NewBucket => {
            if let Some(session) = &ctx.verified.session {
                if session.bucket != ctx.bucket_name() || session.read_only {
                    return Err(crate::error::Unverified::SessionNotAllowed.error());
                }
            }
            None
        }
        Access::Session => session_bucket(ctx).await?,
        Access::Bucket | Access::Object => Some(addressed_bucket(ctx, true).await?),
        Access::BucketAnyRegion => Some(addressed_bucket(ctx, false).await?),
        Access::CopyInto => {
            let bucket = addressed_bucket(ctx, true).await?;
            check_input(ctx)?;
            let source = match &ctx.route.endpoint {
                Endpoint::CopyObject(s) | Endpoint::UploadPartCopy(_, s) => s,
                _ => return Err(S3Error::internal("copy access without a copy source")),
            };
            let owner_header = X_AMZ_SOURCE_EXPECTED_BUCKET_OWNER;
            return Ok(Granted {
                bucket: Some(bucket),
                source: Some(CopySource {
                    bucket: owned_bucket(ctx, &source.bucket, owner_header).await?,
                    key: source.key.clone(),
                    version_id: source.version_id.clone(),
                }),
            });
        }
        Access::BucketIfNamed => match ctx.route.bucket {
            Some(_) => Some(addressed_bucket(ctx, true).await?),
            None => None,
        },
    };
    check_input(ctx)?;
    Ok(Granted {
        bucket,
        source: None,
    })
}

/// The malformed input the router kept, if any (see `http::router::inputs`).
fn check_input(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    match &ctx.route.invalid_input {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

/// The addressed bucket, checked (see `Access::Bucket`); `scoped` is false only for
/// `Access::BucketAnyRegion`.
async fn addressed_bucket(ctx: &ReqCtx<'_>, scoped: bool) -> Result<BucketMeta, S3Error> {
    let bucket = load_bucket(ctx, ctx.bucket_name()).await?;
    if scoped {
        check_scope(ctx, &bucket.region, bucket.is_directory())?;
    }
    check_owner(ctx, &bucket, X_AMZ_EXPECTED_BUCKET_OWNER)?;
    directory::check_request(ctx, &bucket)?;
    if let Some(expected) = ctx.header(X_AMZ_EXPECTED_BUCKET_OWNER) {
        if expected != bucket.owner {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
    }
    Ok(bucket)
}

/// A bucket the caller owns (a copy source): it must exist, belong to the caller's account, and
/// match `expected_owner_header` when that is sent.
async fn owned_bucket(
    ctx: &ReqCtx<'_>,
    name: &str,
    expected_owner_header: &str,
) -> Result<BucketMeta, S3Error> {
    let bucket = load_bucket(ctx, name).await?;
    check_owner(ctx, &bucket, expected_owner_header)?;
    Ok(bucket)
}

/// CreateSession (`Access::Session`). It succeeds for a directory bucket that does not exist
/// yet, because the SDKs ask for a session before CreateBucket when an endpoint URL is set.
async fn session_bucket(ctx: &ReqCtx<'_>) -> Result<Option<BucketMeta>, S3Error> {
    use crate::error::Unverified;
    if ctx.verified.session.is_some() {
        return Err(Unverified::SessionNotAllowed.error());
    }
    let name = ctx.bucket_name();
    let existing = ctx.state.store.bucket(name).await?;
    match &existing {
        Some(b) if b.owner != ctx.verified.account_id => {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
        Some(b) if !b.is_directory() => return Err(Unverified::SessionOnGeneralBucket.error()),
        Some(b) => check_scope(ctx, &b.region, true)?,
        None if !directory::is_directory_name(name) => return Err(S3Error::no_such_bucket(name)),
        None => {}
    }
    Ok(existing)
}

async fn load_bucket(ctx: &ReqCtx<'_>, name: &str) -> Result<BucketMeta, S3Error> {
    ctx.state
        .store
        .bucket(name)
        .await?
        .ok_or_else(|| S3Error::no_such_bucket(name))
}

fn check_owner(
    ctx: &ReqCtx<'_>,
    bucket: &BucketMeta,
    expected_owner_header: &str,
) -> Result<(), S3Error> {
    if bucket.owner != ctx.verified.account_id {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    if let Some(expected) = ctx.header(expected_owner_header) {
        if expected != bucket.owner && !bucket.is_directory() {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
    }
    Ok(())
}

/// The one check of a SigV4 credential scope against the resource a request addresses:
/// `s3express` only for directory buckets, and the region must be `region` (the addressed
/// bucket's). S3 answers a wrong or invalid region with 400 AuthorizationHeaderMalformed
/// "the region 'X' is wrong; expecting 'Y'" (AuthorizationQueryParametersError for a presigned
/// URL), `<Region>Y</Region>` and `x-amz-bucket-region: Y`. `--any-region` skips the region
/// part. SigV2 requests have no scope.
fn check_scope(ctx: &ReqCtx<'_>, region: &str, directory: bool) -> Result<(), S3Error> {
    let Some(scope) = &ctx.verified.scope else {
        return Ok(());
    };
    if scope.service == crate::auth::SERVICE_S3_EXPRESS && !directory {
        return Err(scope.incorrect_service().into());
    }
    if !ctx.state.config.any_region && scope.region != region {
        return Err(scope.wrong_region(region).into());
    }
    Ok(())
}

/// For a request that addresses no bucket (ListBuckets, ListDirectoryBuckets): any region is
/// accepted, but it must be a region name; anything else reads as wrong for the server's.
fn check_scope_region_name(ctx: &ReqCtx<'_>) -> Result<(), S3Error> {
    let Some(scope) = &ctx.verified.scope else {
        return Ok(());
    };
    let ours = &ctx.state.config.region;
    if !ctx.state.config.any_region
        && !crate::auth::is_region_name(&scope.region)
        && scope.region != *ours
    {
        return Err(scope.wrong_region(ours).into());
    }
    Ok(())
}

/// CreateBucket's scope rule (`Access::NewBucket`), checked once the body has named the region.
/// sealstore's one endpoint plays S3's global endpoint for signatures scoped to us-east-1, which
/// accepts any LocationConstraint (that is what boto3 and `aws s3 mb` send from a us-east-1
/// client), and a regional endpoint for any other region, which accepts only its own region:
/// anything else answers 400 IllegalLocationConstraintException "The X location constraint is
/// incompatible for the region specific endpoint this request was sent to." (AWS docs,
/// CreateBucket; the wording botocore's `S3RegionRedirector` matches).
pub fn new_bucket_scope(
    ctx: &ReqCtx<'_>,
    region: &str,
    constraint: Option<&str>,
    is_directory: bool,
) -> Result<(), S3Error> {
    const US_EAST_1: &str = "us-east-1";
    let Some(scope) = &ctx.verified.scope else {
        return Ok(());
    };
    if scope.region == US_EAST_1 || scope.region == region || ctx.state.config.any_region {
        return check_scope(ctx, &scope.region, is_directory);
    }
    if !crate::auth::is_region_name(&scope.region) {
        return Err(scope.wrong_region(region).into());
    }
    Err(S3Error::with_message(
        S3ErrorCode::IllegalLocationConstraintException,
        format!(
            "The {} location constraint is incompatible for the region specific endpoint this request was sent to.",
            constraint.unwrap_or("unspecified")
        ),
    ))
}
