//! ListObjects (v1), ListObjectsV2 and ListObjectVersions. The current-object walker serves the
//! first two, the version walker the third; both fold keys into common prefixes and stop after
//! `max-keys` entries.

use axum::response::Response;
use base64::Engine;
use http::StatusCode;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{ReqCtx, xml_response};
use crate::clock::iso8601;
use crate::error::S3Error;
use crate::http::router::{ListParams, ListV1, ListV2, ListVersions};
use crate::http::xml::elements::{CommonPrefix, Owner};
use crate::http::xml::listing::{
    Contents, DeleteMarkerEntry, ListBucketResultV1, ListBucketResultV2, ListVersionsResult,
    Version, VersionEntry,
};
use crate::http::xml::{S3_XMLNS, to_xml};
use crate::store::{
    BucketMeta, NULL_VERSION, ObjectAddr, ObjectMeta, PageQuery, Store, VersionCursor,
    VersionRecord,
};

/// Keys are fetched from the store in pages of this many.
const SCAN_PAGE: usize = 1000;
/// Sorts after every continuation of a prefix, so scanning after `prefix + SKIP` skips all of it.
const SKIP: char = char::MAX;
const URL_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

enum Entry {
    Object(String, Box<ObjectMeta>),
    Prefix(String),
}

struct Walk {
    entries: Vec<Entry>,
    truncated: bool,
}

impl Walk {
    /// The position to resume after: the last key, or past the last common prefix.
    fn resume_after(&self) -> Option<String> {
        match self.entries.last()? {
            Entry::Object(k, _) => Some(k.clone()),
            Entry::Prefix(p) => Some(format!("{p}{SKIP}")),
        }
    }

    fn last_marker(&self) -> Option<String> {
        match self.entries.last()? {
            Entry::Object(k, _) | Entry::Prefix(k) => Some(k.clone()),
        }
    }
}

/// The common prefix `key` folds into: through the first `delimiter` after `prefix`.
fn common_prefix(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter?;
    key[prefix.len()..]
        .find(d)
        .map(|i| key[..prefix.len() + i + d.len()].to_string())
}

/// Walks `bucket` from after `after`, folding on `delimiter`, until `max` entries; one entry more
/// tells whether the listing is truncated.
async fn walk(
    store: &Store,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    after: Option<String>,
    max: usize,
) -> Result<Walk, S3Error> {
    let mut entries = Vec::new();
    let mut cursor = after;
    loop {
        // After a fold the scan restarts past the prefix, so short pages waste less.
        let page_size = if delimiter.is_some() {
            64
        } else {
            SCAN_PAGE.min(max - entries.len() + 1)
        };
        let page = store
            .scan(PageQuery {
                bucket,
                prefix,
                after: cursor.as_deref(),
                limit: page_size,
            })
            .await?;
        let full = page.len() == page_size;
        let mut folded_any = false;
        for (key, meta) in page {
            if entries.len() == max {
                return Ok(Walk {
                    entries,
                    truncated: true,
                });
            }
            let folded = common_prefix(&key, prefix, delimiter);
            match folded {
                Some(cp) => {
                    cursor = Some(format!("{cp}{SKIP}"));
                    entries.push(Entry::Prefix(cp));
                    folded_any = true;
                    break;
                }
                None => {
                    cursor = Some(key.clone());
                    entries.push(Entry::Object(key, Box::new(meta)));
                }
            }
        }
        if !folded_any && !full {
            return Ok(Walk {
                entries,
                truncated: false,
            });
        }
    }
}

impl ListParams {
    fn enc(&self, s: &str) -> String {
        if self.url_encode {
            utf8_percent_encode(s, URL_SET).to_string()
        } else {
            s.to_string()
        }
    }

    fn encoding_type(&self) -> Option<&'static str> {
        self.url_encode.then_some("url")
    }

    /// A marker that names a common prefix resumes past that whole prefix.
    fn resume_from(&self, marker: Option<&str>) -> Option<String> {
        let m = marker.filter(|m| !m.is_empty())?;
        match &self.delimiter {
            Some(d) if m.ends_with(d.as_str()) && m.starts_with(&self.prefix) => {
                Some(format!("{m}{SKIP}"))
            }
            _ => Some(m.to_string()),
        }
    }

    async fn run(&self, ctx: &ReqCtx<'_>, after: Option<String>) -> Result<Walk, S3Error> {
        if self.max_keys == 0 {
            return Ok(Walk {
                entries: Vec::new(),
                truncated: false,
            });
        }
        walk(
            &ctx.state.store,
            ctx.bucket_name(),
            &self.prefix,
            self.delimiter.as_deref(),
            after,
            self.max_keys,
        )
        .await
    }
}

fn split_entries(
    p: &ListParams,
    walk: Walk,
    owner: Option<&str>,
    storage_class: &'static str,
) -> (Vec<Contents>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut prefixes = Vec::new();
    for e in walk.entries {
        match e {
            Entry::Object(key, meta) => contents.push(Contents {
                key: p.enc(&key),
                last_modified: iso8601(meta.last_modified_millis),
                etag: format!("\"{}\"", meta.etag),
                size: meta.size,
                owner: owner.map(Owner::of),
                storage_class,
            }),
            Entry::Prefix(cp) => prefixes.push(CommonPrefix { prefix: p.enc(&cp) }),
        }
    }
    (contents, prefixes)
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
}

pub async fn list_objects_v2(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &ListV2,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        super::directory::check_listing(&input.list)?;
    }
    let p = &input.list;
    let token = input.continuation_token.as_deref();
    let start_after = input.start_after.as_deref();
    let after = match &input.token_key {
        Some(key) => Some(key.clone()),
        None => p.resume_from(start_after),
    };
    let walk = p.run(ctx, after).await?;
    let next = walk
        .truncated
        .then(|| walk.resume_after())
        .flatten()
        .map(|a| b64().encode(a));
    let truncated = walk.truncated;
    let fetch_owner = input.fetch_owner;
    let (contents, common_prefixes) = split_entries(
        p,
        walk,
        fetch_owner.then_some(bucket.owner.as_str()),
        storage_class(&bucket),
    );
    let doc = ListBucketResultV2 {
        xmlns: S3_XMLNS,
        name: bucket.name,
        prefix: p.enc(&p.prefix),
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        max_keys: p.max_keys,
        encoding_type: p.encoding_type(),
        key_count: contents.len() + common_prefixes.len(),
        is_truncated: truncated,
        continuation_token: token.map(str::to_string),
        next_continuation_token: next,
        start_after: start_after.map(|s| p.enc(s)),
        contents,
        common_prefixes,
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}

/// The storage class objects of a bucket list with.
pub fn storage_class(bucket: &BucketMeta) -> &'static str {
    if bucket.is_directory() {
        super::directory::STORAGE_CLASS
    } else {
        "STANDARD"
    }
}

pub async fn list_objects(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &ListV1,
) -> Result<Response, S3Error> {
    if bucket.is_directory() {
        return Err(crate::error::Unverified::DirectoryListV1.error());
    }
    let p = &input.list;
    let marker = input.marker.as_str();
    let walk = p.run(ctx, p.resume_from(Some(marker))).await?;
    // S3 returns NextMarker only when a delimiter was given; without one, clients use the last key.
    let next_marker = (walk.truncated && p.delimiter.is_some())
        .then(|| walk.last_marker())
        .flatten()
        .map(|m| p.enc(&m));
    let truncated = walk.truncated;
    let (contents, common_prefixes) =
        split_entries(p, walk, Some(bucket.owner.as_str()), storage_class(&bucket));
    let doc = ListBucketResultV1 {
        xmlns: S3_XMLNS,
        name: bucket.name,
        prefix: p.enc(&p.prefix),
        marker: p.enc(marker),
        next_marker,
        max_keys: p.max_keys,
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        is_truncated: truncated,
        encoding_type: p.encoding_type(),
        contents,
        common_prefixes,
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}

/// One entry of a ListObjectVersions walk.
enum VersionItem {
    Version(Box<crate::store::ListedVersion>),
    Prefix(String),
}

/// Walks the versions of `bucket` from `after`, folding keys on `delimiter`, until `max` entries
/// (each version and each common prefix counts one); one entry more tells truncation. Pages
/// of the store are bounded, so a key with any number of versions lists in bounded memory.
async fn walk_versions(
    store: &Store,
    bucket: &str,
    p: &ListParams,
    mut cursor: Option<VersionCursor>,
) -> Result<(Vec<VersionItem>, bool), S3Error> {
    let max = p.max_keys;
    let mut items: Vec<VersionItem> = Vec::new();
    if max == 0 {
        return Ok((items, false));
    }
    loop {
        let limit = if p.delimiter.is_some() {
            64
        } else {
            SCAN_PAGE.min(max - items.len() + 1)
        };
        let page = store
            .version_page(bucket, &p.prefix, cursor.as_ref(), limit)
            .await?;
        let full = page.len() == limit;
        let mut folded_any = false;
        for v in page {
            if items.len() == max {
                return Ok((items, true));
            }
            let folded = common_prefix(&v.key, &p.prefix, p.delimiter.as_deref());
            match folded {
                Some(cp) => {
                    cursor = Some(VersionCursor {
                        key: format!("{cp}{SKIP}"),
                        order: None,
                    });
                    items.push(VersionItem::Prefix(cp));
                    folded_any = true;
                    break;
                }
                None => {
                    cursor = Some(VersionCursor {
                        key: v.key.clone(),
                        order: Some(v.version.order()),
                    });
                    items.push(VersionItem::Version(Box::new(v)));
                }
            }
        }
        if !folded_any && !full {
            return Ok((items, false));
        }
    }
}

/// Where a ListObjectVersions request starts: after `key-marker` (all its versions), or after
/// its version `version-id-marker`.
async fn version_cursor(
    ctx: &ReqCtx<'_>,
    p: &ListParams,
    key_marker: &str,
    version_marker: &str,
) -> Result<Option<VersionCursor>, S3Error> {
    let Some(key) = p.resume_from(Some(key_marker)) else {
        return Ok(None);
    };
    if version_marker.is_empty() || key != key_marker {
        return Ok(Some(VersionCursor { key, order: None }));
    }
    let order = match crate::store::version_order(version_marker) {
        Some(o) => Some(o),
        // `null` has no order in its id: the key's null version's.
        None if version_marker == NULL_VERSION => ctx
            .state
            .store
            .object_version(
                ObjectAddr {
                    bucket: ctx.bucket_name(),
                    key: key_marker,
                },
                Some(NULL_VERSION),
            )
            .await?
            .map(|v| v.order()),
        None => {
            return Err(S3Error::invalid_argument(
                "Invalid version id specified",
                "version-id-marker",
                version_marker,
            ));
        }
    };
    Ok(Some(VersionCursor { key, order }))
}

pub async fn list_object_versions(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
    input: &ListVersions,
) -> Result<Response, S3Error> {
    let p = &input.list;
    let key_marker = input.key_marker.as_str();
    let version_marker = input.version_id_marker.as_str();
    let cursor = version_cursor(ctx, p, key_marker, version_marker).await?;
    let (items, truncated) = walk_versions(&ctx.state.store, ctx.bucket_name(), p, cursor).await?;
    let (next_key_marker, next_version_id_marker) = match items.last() {
        Some(VersionItem::Version(v)) if truncated => (
            Some(p.enc(&v.key)),
            Some(v.version.version_id().unwrap_or(NULL_VERSION).to_string()),
        ),
        Some(VersionItem::Prefix(cp)) if truncated => (Some(p.enc(cp)), None),
        _ => (None, None),
    };
    let class = storage_class(&bucket);
    let mut versions = Vec::new();
    let mut common_prefixes = Vec::new();
    for item in items {
        match item {
            VersionItem::Prefix(cp) => common_prefixes.push(CommonPrefix { prefix: p.enc(&cp) }),
            VersionItem::Version(v) => versions.push(match v.version {
                VersionRecord::Object(m) => VersionEntry::Version(Version {
                    key: p.enc(&v.key),
                    version_id: m.version_label().to_string(),
                    is_latest: v.is_latest,
                    last_modified: iso8601(m.last_modified_millis),
                    etag: format!("\"{}\"", m.etag),
                    size: m.size,
                    owner: Owner::of(&bucket.owner),
                    storage_class: class,
                }),
                VersionRecord::Marker(d) => VersionEntry::DeleteMarker(DeleteMarkerEntry {
                    key: p.enc(&v.key),
                    version_id: d.version_id.unwrap_or_else(|| NULL_VERSION.to_string()),
                    is_latest: v.is_latest,
                    last_modified: iso8601(d.last_modified_millis),
                    owner: Owner::of(&bucket.owner),
                }),
            }),
        }
    }
    let doc = ListVersionsResult {
        xmlns: S3_XMLNS,
        name: bucket.name.clone(),
        prefix: p.enc(&p.prefix),
        key_marker: p.enc(key_marker),
        version_id_marker: version_marker.to_string(),
        next_key_marker,
        next_version_id_marker,
        max_keys: p.max_keys,
        delimiter: p.delimiter.as_deref().map(|d| p.enc(d)),
        is_truncated: truncated,
        encoding_type: p.encoding_type(),
        versions,
        common_prefixes,
    };
    Ok(xml_response(StatusCode::OK, to_xml(&doc)?))
}
