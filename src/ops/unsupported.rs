//! THE table of request headers S3 defines that sealstore does not implement yet, checked once
//! per request by `dispatch` right after the access check (a wrong bucket answers NoSuchBucket or
//! AccessDenied first, as S3 does) and before any handler runs: a refused request has read no
//! body and changed nothing. "Never accept and ignore": a header that would be silently dropped
//! (object lock, grants, ...) answers 501 NotImplemented naming it, unless its value is one S3
//! itself treats as a no-op (`x-amz-object-lock-legal-hold: OFF`, ...). Tags are implemented
//! (ops/tagging.rs).
//! Not here, because they drop nothing: `x-amz-bypass-governance-retention` and `x-amz-mfa` on
//! deletes only grant what a bucket without object lock or MFA delete (every sealstore bucket)
//! does not ask for, and the delete happens as requested, as on such a bucket in S3.

use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{
    X_AMZ_BUCKET_OBJECT_LOCK_ENABLED, X_AMZ_GRANT_PREFIX, X_AMZ_OBJECT_LOCK_LEGAL_HOLD,
    X_AMZ_OBJECT_LOCK_MODE, X_AMZ_OBJECT_LOCK_RETAIN_UNTIL_DATE, X_AMZ_OBJECT_OWNERSHIP,
    X_AMZ_STORAGE_CLASS, X_AMZ_WEBSITE_REDIRECT_LOCATION, X_AMZ_WRITE_OFFSET_BYTES,
};
use http::HeaderMap;

/// One row: a header (or a family, by prefix), the operations S3 defines it on, the values that
/// are no-ops sealstore may accept, and what is not implemented.
pub struct Unsupported {
    pub header: &'static str,
    /// The header is a prefix (`x-amz-grant-` for every grant header).
    pub prefix: bool,
    /// `Endpoint::name` of each operation the header is refused on.
    pub endpoints: &'static [&'static str],
    /// Values accepted because they ask for what sealstore does anyway (compared ignoring case).
    pub no_op: &'static [&'static str],
    pub what: &'static str,
}

/// The object writes that take object lock, grants and a website redirect.
const OBJECT_WRITES: &[&str] = &["PutObject", "CopyObject", "CreateMultipartUpload"];

pub const TABLE: &[Unsupported] = &[
    Unsupported {
        header: X_AMZ_OBJECT_LOCK_MODE,
        prefix: false,
        endpoints: OBJECT_WRITES,
        no_op: &[],
        what: "Object lock",
    },
    Unsupported {
        header: X_AMZ_OBJECT_LOCK_RETAIN_UNTIL_DATE,
        prefix: false,
        endpoints: OBJECT_WRITES,
        no_op: &[],
        what: "Object lock",
    },
    Unsupported {
        header: X_AMZ_OBJECT_LOCK_LEGAL_HOLD,
        prefix: false,
        endpoints: OBJECT_WRITES,
        // OFF is what an object without a legal hold has.
        no_op: &["OFF"],
        what: "Object lock (legal hold)",
    },
    Unsupported {
        header: X_AMZ_WEBSITE_REDIRECT_LOCATION,
        prefix: false,
        endpoints: OBJECT_WRITES,
        no_op: &[],
        what: "Website redirect locations",
    },
    Unsupported {
        header: X_AMZ_WRITE_OFFSET_BYTES,
        prefix: false,
        endpoints: &["PutObject"],
        no_op: &[],
        what: "Appending to an object (x-amz-write-offset-bytes)",
    },
    // PutBucketAcl and PutObjectAcl refuse grants themselves (ops/acl.rs).
    Unsupported {
        header: X_AMZ_GRANT_PREFIX,
        prefix: true,
        endpoints: &[
            "PutObject",
            "CopyObject",
            "CreateMultipartUpload",
            "CreateBucket",
        ],
        no_op: &[],
        what: "ACL grants (sealstore keeps every resource private)",
    },
    Unsupported {
        header: X_AMZ_BUCKET_OBJECT_LOCK_ENABLED,
        prefix: false,
        endpoints: &["CreateBucket"],
        no_op: &["false"],
        what: "Object lock",
    },
    Unsupported {
        header: X_AMZ_OBJECT_OWNERSHIP,
        prefix: false,
        endpoints: &["CreateBucket"],
        // S3's default since 2023, and what sealstore does: ACLs off, the bucket owner owns all.
        no_op: &["BucketOwnerEnforced"],
        what: "Object ownership other than BucketOwnerEnforced",
    },
];

/// The first row the request hits: the header it names and the row. Pure, for the unit test.
pub fn find(endpoint: &str, headers: &HeaderMap) -> Option<(String, &'static Unsupported)> {
    for row in TABLE.iter().filter(|r| r.endpoints.contains(&endpoint)) {
        for (name, value) in headers {
            let hit = if row.prefix {
                name.as_str().starts_with(row.header)
            } else {
                name.as_str() == row.header
            };
            if !hit {
                continue;
            }
            let no_op = value
                .to_str()
                .is_ok_and(|v| row.no_op.iter().any(|ok| ok.eq_ignore_ascii_case(v.trim())));
            if !no_op {
                return Some((name.as_str().to_owned(), row));
            }
        }
    }
    None
}

/// The storage classes S3 defines besides the two sealstore stores in (STANDARD, and
/// EXPRESS_ONEZONE in directory buckets).
const OTHER_STORAGE_CLASSES: &[&str] = &[
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "FSX_OPENZFS",
    "FSX_ONTAP",
];

/// `x-amz-storage-class` on the object writes: STANDARD and EXPRESS_ONEZONE are what sealstore
/// stores; another class S3 defines would be silently dropped (501); anything else is not a
/// storage class (S3's 400 InvalidStorageClass). Case-sensitive, as S3's enum values are.
fn check_storage_class(endpoint: &str, headers: &HeaderMap) -> Result<(), S3Error> {
    if !OBJECT_WRITES.contains(&endpoint) {
        return Ok(());
    }
    let Some(value) = headers.get(X_AMZ_STORAGE_CLASS) else {
        return Ok(());
    };
    match value.to_str().unwrap_or("") {
        "STANDARD" | "EXPRESS_ONEZONE" => Ok(()),
        class if OTHER_STORAGE_CLASSES.contains(&class) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!(
                "Storage class {class} is not implemented by sealstore (objects are stored as STANDARD); the request header {X_AMZ_STORAGE_CLASS} is refused rather than ignored."
            ),
        )),
        _ => Err(S3Error::new(S3ErrorCode::InvalidStorageClass)),
    }
}

/// 501 NotImplemented naming the header, for the first row the request hits; then the storage
/// class.
pub fn check(endpoint: &str, headers: &HeaderMap) -> Result<(), S3Error> {
    check_storage_class(endpoint, headers)?;
    match find(endpoint, headers) {
        None => Ok(()),
        Some((name, row)) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!(
                "{} is not implemented by sealstore; the request header {name} is refused rather than ignored.",
                row.what
            ),
        )),
    }
}

#[cfg(test)]
#[path = "unsupported_tests.rs"]
mod tests;
