//! The `x-amz-*` header names, one constant each, grouped by purpose. A leaf module: it
//! imports nothing from the crate, so every layer can use it. A name is the header's in
//! upper snake case; one ending in `_PREFIX` ends in `-` and is completed by the code that
//! uses it. A new header gets its constant here, in its group, not a literal at its use.

// Signing: read by auth/ to check a request's signature (SigV4, SigV2, S3 Express sessions).
pub const X_AMZ_PREFIX: &str = "x-amz-";
pub const X_AMZ_DATE: &str = "x-amz-date";
pub const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";
pub const X_AMZ_S3SESSION_TOKEN: &str = "x-amz-s3session-token";

// Payload framing: how an aws-chunked body is framed and what its trailer carries (integrity/).
pub const X_AMZ_DECODED_CONTENT_LENGTH: &str = "x-amz-decoded-content-length";
pub const X_AMZ_TRAILER: &str = "x-amz-trailer";
pub const X_AMZ_TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";

// Checksums: one header per flexible-checksum algorithm (values in integrity::checksum), the
// algorithm the SDK declares, and the multipart checksum type; GetObject's checksum mode.
pub const X_AMZ_CHECKSUM_PREFIX: &str = "x-amz-checksum-";
pub const X_AMZ_CHECKSUM_CRC32: &str = "x-amz-checksum-crc32";
pub const X_AMZ_CHECKSUM_CRC32C: &str = "x-amz-checksum-crc32c";
pub const X_AMZ_CHECKSUM_CRC64NVME: &str = "x-amz-checksum-crc64nvme";
pub const X_AMZ_CHECKSUM_SHA1: &str = "x-amz-checksum-sha1";
pub const X_AMZ_CHECKSUM_SHA256: &str = "x-amz-checksum-sha256";
pub const X_AMZ_CHECKSUM_ALGORITHM: &str = "x-amz-checksum-algorithm";
pub const X_AMZ_SDK_CHECKSUM_ALGORITHM: &str = "x-amz-sdk-checksum-algorithm";
pub const X_AMZ_CHECKSUM_TYPE: &str = "x-amz-checksum-type";
pub const X_AMZ_CHECKSUM_MODE: &str = "x-amz-checksum-mode";

// Server-side encryption: SSE-S3, SSE-KMS and DSSE request and response headers, and the SSE-C
// customer-key headers of the object and of a copy source (the prefixes are completed with
// `algorithm`, `key` and `key-md5`).
pub const X_AMZ_SERVER_SIDE_ENCRYPTION: &str = "x-amz-server-side-encryption";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID: &str =
    "x-amz-server-side-encryption-aws-kms-key-id";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_CONTEXT: &str = "x-amz-server-side-encryption-context";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED: &str =
    "x-amz-server-side-encryption-bucket-key-enabled";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX: &str =
    "x-amz-server-side-encryption-customer-";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM: &str =
    "x-amz-server-side-encryption-customer-algorithm";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY: &str =
    "x-amz-server-side-encryption-customer-key";
pub const X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5: &str =
    "x-amz-server-side-encryption-customer-key-md5";
pub const X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_PREFIX: &str =
    "x-amz-copy-source-server-side-encryption-customer-";
pub const X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM: &str =
    "x-amz-copy-source-server-side-encryption-customer-algorithm";
pub const X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY: &str =
    "x-amz-copy-source-server-side-encryption-customer-key";
pub const X_AMZ_COPY_SOURCE_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5: &str =
    "x-amz-copy-source-server-side-encryption-customer-key-md5";

// Copies: CopyObject and UploadPartCopy: the source, its range, its conditionals (the prefix is
// completed with `if-match`, ...), its owner, and what the copy's metadata is.
pub const X_AMZ_COPY_SOURCE: &str = "x-amz-copy-source";
pub const X_AMZ_COPY_SOURCE_PREFIX: &str = "x-amz-copy-source-";
pub const X_AMZ_COPY_SOURCE_RANGE: &str = "x-amz-copy-source-range";
pub const X_AMZ_COPY_SOURCE_IF_MATCH: &str = "x-amz-copy-source-if-match";
pub const X_AMZ_COPY_SOURCE_IF_NONE_MATCH: &str = "x-amz-copy-source-if-none-match";
pub const X_AMZ_COPY_SOURCE_IF_MODIFIED_SINCE: &str = "x-amz-copy-source-if-modified-since";
pub const X_AMZ_COPY_SOURCE_IF_UNMODIFIED_SINCE: &str = "x-amz-copy-source-if-unmodified-since";
pub const X_AMZ_SOURCE_EXPECTED_BUCKET_OWNER: &str = "x-amz-source-expected-bucket-owner";
pub const X_AMZ_METADATA_DIRECTIVE: &str = "x-amz-metadata-directive";

// Requests: other request headers: user metadata (prefix), ACLs, storage class, the expected bucket
// owner, directory buckets' session mode, and a Complete's announced object size.
pub const X_AMZ_META_PREFIX: &str = "x-amz-meta-";
pub const X_AMZ_ACL: &str = "x-amz-acl";
pub const X_AMZ_GRANT_PREFIX: &str = "x-amz-grant-";
pub const X_AMZ_STORAGE_CLASS: &str = "x-amz-storage-class";
pub const X_AMZ_EXPECTED_BUCKET_OWNER: &str = "x-amz-expected-bucket-owner";
pub const X_AMZ_CREATE_SESSION_MODE: &str = "x-amz-create-session-mode";
pub const X_AMZ_MP_OBJECT_SIZE: &str = "x-amz-mp-object-size";

// GetObjectAttributes: the attributes asked for and the page of parts.
pub const X_AMZ_OBJECT_ATTRIBUTES: &str = "x-amz-object-attributes";
pub const X_AMZ_MAX_PARTS: &str = "x-amz-max-parts";
pub const X_AMZ_PART_NUMBER_MARKER: &str = "x-amz-part-number-marker";

// Object tags (ops/tagging.rs): the tags of a write, CopyObject's directive, GET/HEAD's count.
pub const X_AMZ_TAGGING: &str = "x-amz-tagging";
pub const X_AMZ_TAGGING_DIRECTIVE: &str = "x-amz-tagging-directive";
pub const X_AMZ_TAGGING_COUNT: &str = "x-amz-tagging-count";

// Not implemented yet: request headers S3 defines that ops/unsupported.rs refuses (object lock,
// website redirects, appends, object ownership).
pub const X_AMZ_OBJECT_LOCK_MODE: &str = "x-amz-object-lock-mode";
pub const X_AMZ_OBJECT_LOCK_RETAIN_UNTIL_DATE: &str = "x-amz-object-lock-retain-until-date";
pub const X_AMZ_OBJECT_LOCK_LEGAL_HOLD: &str = "x-amz-object-lock-legal-hold";
pub const X_AMZ_BUCKET_OBJECT_LOCK_ENABLED: &str = "x-amz-bucket-object-lock-enabled";
pub const X_AMZ_OBJECT_OWNERSHIP: &str = "x-amz-object-ownership";
pub const X_AMZ_WEBSITE_REDIRECT_LOCATION: &str = "x-amz-website-redirect-location";
pub const X_AMZ_WRITE_OFFSET_BYTES: &str = "x-amz-write-offset-bytes";

// Responses: headers only sealstore sends: request ids, bucket location, a multipart object's part
// count, and x-amz-unknown, the name a stored content header sealstore no longer knows would be
// sent under.
pub const X_AMZ_REQUEST_ID: &str = "x-amz-request-id";
pub const X_AMZ_ID_2: &str = "x-amz-id-2";
pub const X_AMZ_BUCKET_REGION: &str = "x-amz-bucket-region";
pub const X_AMZ_ACCESS_POINT_ALIAS: &str = "x-amz-access-point-alias";
pub const X_AMZ_BUCKET_LOCATION_TYPE: &str = "x-amz-bucket-location-type";
pub const X_AMZ_BUCKET_LOCATION_NAME: &str = "x-amz-bucket-location-name";
pub const X_AMZ_MP_PARTS_COUNT: &str = "x-amz-mp-parts-count";
pub const X_AMZ_UNKNOWN: &str = "x-amz-unknown";

// -- conditional deletes (directory buckets' conditions beyond If-Match) --
pub const X_AMZ_IF_MATCH_LAST_MODIFIED_TIME: &str = "x-amz-if-match-last-modified-time";
pub const X_AMZ_IF_MATCH_SIZE: &str = "x-amz-if-match-size";

// -- versioning --
pub const X_AMZ_VERSION_ID: &str = "x-amz-version-id";
pub const X_AMZ_DELETE_MARKER: &str = "x-amz-delete-marker";
pub const X_AMZ_COPY_SOURCE_VERSION_ID: &str = "x-amz-copy-source-version-id";
pub const X_AMZ_MFA: &str = "x-amz-mfa";
