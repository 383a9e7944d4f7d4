//! Every response document pinned to the bytes it had before the documents moved here
//! (captured from the previous definitions), so a change to a field, its order or its
//! serialization shows up as a failing test, not as a client surprise.

use super::attributes::*;
use super::buckets::*;
use super::delete::*;
use super::directory::*;
use super::elements::*;
use super::listing::*;
use super::multipart::*;
use super::{S3_XMLNS as NS, to_xml};
use crate::integrity::checksum::ChecksumAlgorithm;

fn pin<T: serde::Serialize>(doc: &T, expected: &str) {
    let xml = to_xml(doc).unwrap();
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .unwrap();
    assert_eq!(body, expected);
}

fn owner() -> Owner {
    Owner {
        id: "c0ffee".into(),
        display_name: "acct<1>".into(),
    }
}

fn contents() -> Vec<Contents> {
    vec![
        Contents {
            key: "a/b".into(),
            last_modified: "2026-01-02T03:04:05.000Z".into(),
            etag: "\"e1\"".into(),
            size: 5,
            owner: Some(owner()),
            storage_class: "STANDARD",
        },
        Contents {
            key: "c".into(),
            last_modified: "2026-01-02T03:04:06.000Z".into(),
            etag: "\"e2\"".into(),
            size: 0,
            owner: None,
            storage_class: "STANDARD",
        },
    ]
}

fn prefixes() -> Vec<CommonPrefix> {
    vec![CommonPrefix {
        prefix: "p/".into(),
    }]
}

#[test]
fn list_buckets() {
    pin(
        &ListAllMyBucketsResult {
            xmlns: NS,
            owner: owner(),
            buckets: Buckets {
                bucket: vec![
                    BucketEntry {
                        name: "a".into(),
                        creation_date: "2026-01-02T03:04:05.000Z".into(),
                        bucket_region: "us-east-1".into(),
                    },
                    BucketEntry {
                        name: "b&c".into(),
                        creation_date: "2026-01-02T03:04:06.000Z".into(),
                        bucket_region: "eu-west-1".into(),
                    },
                ],
            },
            continuation_token: None,
            prefix: None,
        },
        r#"<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><Buckets><Bucket><Name>a</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket><Bucket><Name>b&amp;c</Name><CreationDate>2026-01-02T03:04:06.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>"#,
    );
}

/// A paginated page: the token of the next page and the prefix asked for follow the buckets.
#[test]
fn list_buckets_page() {
    pin(
        &ListAllMyBucketsResult {
            xmlns: NS,
            owner: owner(),
            buckets: Buckets {
                bucket: vec![BucketEntry {
                    name: "ab".into(),
                    creation_date: "2026-01-02T03:04:05.000Z".into(),
                    bucket_region: "us-east-1".into(),
                }],
            },
            continuation_token: Some("YWI".into()),
            prefix: Some("a<".into()),
        },
        r#"<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><Buckets><Bucket><Name>ab</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion></Bucket></Buckets><ContinuationToken>YWI</ContinuationToken><Prefix>a&lt;</Prefix></ListAllMyBucketsResult>"#,
    );
}

#[test]
fn list_buckets_empty() {
    pin(
        &ListAllMyBucketsResult {
            xmlns: NS,
            owner: owner(),
            buckets: Buckets { bucket: vec![] },
            continuation_token: None,
            prefix: Some(String::new()),
        },
        r#"<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><Buckets/><Prefix/></ListAllMyBucketsResult>"#,
    );
}

#[test]
fn location_empty() {
    pin(
        &LocationConstraint {
            xmlns: NS,
            value: String::new(),
        },
        r#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
    );
}

#[test]
fn delete_result() {
    pin(
        &DeleteResult {
            xmlns: NS,
            deleted: vec![
                Deleted {
                    key: "k1".into(),
                    version_id: None,
                    delete_marker: Some(true),
                    delete_marker_version_id: Some("0006a1b2c3d4e5f60123456789abcdef".into()),
                },
                Deleted {
                    key: "k2".into(),
                    version_id: Some("null".into()),
                    delete_marker: None,
                    delete_marker_version_id: None,
                },
            ],
            errors: vec![DeleteError {
                key: "k3".into(),
                version_id: Some("v".into()),
                code: "NoSuchVersion".into(),
                message: "The specified version does not exist.".into(),
            }],
        },
        r#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>k1</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>0006a1b2c3d4e5f60123456789abcdef</DeleteMarkerVersionId></Deleted><Deleted><Key>k2</Key><VersionId>null</VersionId></Deleted><Error><Key>k3</Key><VersionId>v</VersionId><Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message></Error></DeleteResult>"#,
    );
}

#[test]
fn delete_result_empty() {
    pin(
        &DeleteResult {
            xmlns: NS,
            deleted: vec![],
            errors: vec![],
        },
        r#"<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#,
    );
}

#[test]
fn create_session() {
    pin(
        &CreateSessionResult {
            xmlns: NS,
            credentials: CredentialsXml {
                session_token: "tok".into(),
                secret_access_key: "sec".into(),
                access_key_id: "akid".into(),
                expiration: "2026-11-25T15:22:43Z".into(),
            },
        },
        r#"<CreateSessionResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Credentials><SessionToken>tok</SessionToken><SecretAccessKey>sec</SecretAccessKey><AccessKeyId>akid</AccessKeyId><Expiration>2026-11-25T15:22:43Z</Expiration></Credentials></CreateSessionResult>"#,
    );
}

#[test]
fn list_directory() {
    pin(
        &ListDirectoryBucketsResult {
            xmlns: NS,
            buckets: DirectoryBuckets {
                bucket: vec![DirectoryBucketEntry {
                    name: "d--use1-az4--x-s3".into(),
                    creation_date: "2026-01-02T03:04:05.000Z".into(),
                    bucket_region: "us-east-1".into(),
                    bucket_arn: "arn:aws:s3express:us-east-1:0:bucket/d--use1-az4--x-s3".into(),
                }],
            },
            continuation_token: Some("d--use1-az4--x-s3".into()),
        },
        r#"<ListAllMyDirectoryBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Bucket><Name>d--use1-az4--x-s3</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate><BucketRegion>us-east-1</BucketRegion><BucketArn>arn:aws:s3express:us-east-1:0:bucket/d--use1-az4--x-s3</BucketArn></Bucket></Buckets><ContinuationToken>d--use1-az4--x-s3</ContinuationToken></ListAllMyDirectoryBucketsResult>"#,
    );
}

#[test]
fn list_v2() {
    pin(
        &ListBucketResultV2 {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "".into(),
            delimiter: Some("/".into()),
            max_keys: 2,
            encoding_type: Some("url"),
            key_count: 3,
            is_truncated: true,
            continuation_token: Some("tok".into()),
            next_continuation_token: Some("next".into()),
            start_after: Some("s".into()),
            contents: contents(),
            common_prefixes: prefixes(),
        },
        r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix/><Delimiter>/</Delimiter><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><KeyCount>3</KeyCount><IsTruncated>true</IsTruncated><ContinuationToken>tok</ContinuationToken><NextContinuationToken>next</NextContinuationToken><StartAfter>s</StartAfter><Contents><Key>a/b</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>"e1"</ETag><Size>5</Size><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>c</Key><LastModified>2026-01-02T03:04:06.000Z</LastModified><ETag>"e2"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"#,
    );
}

#[test]
fn list_v2_min() {
    pin(
        &ListBucketResultV2 {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "x".into(),
            delimiter: None,
            max_keys: 1000,
            encoding_type: None,
            key_count: 0,
            is_truncated: false,
            continuation_token: None,
            next_continuation_token: None,
            start_after: None,
            contents: vec![],
            common_prefixes: vec![],
        },
        r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>x</Prefix><MaxKeys>1000</MaxKeys><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"#,
    );
}

#[test]
fn list_v1() {
    pin(
        &ListBucketResultV1 {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "".into(),
            marker: "m".into(),
            next_marker: Some("n".into()),
            max_keys: 2,
            delimiter: Some("/".into()),
            is_truncated: true,
            encoding_type: None,
            contents: contents(),
            common_prefixes: prefixes(),
        },
        r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix/><Marker>m</Marker><NextMarker>n</NextMarker><MaxKeys>2</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><Contents><Key>a/b</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>"e1"</ETag><Size>5</Size><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>c</Key><LastModified>2026-01-02T03:04:06.000Z</LastModified><ETag>"e2"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"#,
    );
}

#[test]
fn list_versions() {
    pin(
        &ListVersionsResult {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "".into(),
            key_marker: "".into(),
            version_id_marker: "".into(),
            next_key_marker: Some("a/b".into()),
            next_version_id_marker: Some("null".into()),
            max_keys: 1,
            delimiter: None,
            is_truncated: true,
            encoding_type: Some("url"),
            versions: vec![
                VersionEntry::Version(Version {
                    key: "a/b".into(),
                    version_id: "null".into(),
                    is_latest: true,
                    last_modified: "2026-01-02T03:04:05.000Z".into(),
                    etag: "\"e1\"".into(),
                    size: 5,
                    owner: owner(),
                    storage_class: "STANDARD",
                }),
                VersionEntry::DeleteMarker(DeleteMarkerEntry {
                    key: "a/c".into(),
                    version_id: "0006a1b2c3d4e5f60123456789abcdef".into(),
                    is_latest: false,
                    last_modified: "2026-01-02T03:04:06.000Z".into(),
                    owner: owner(),
                }),
            ],
            common_prefixes: prefixes(),
        },
        r#"<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix/><KeyMarker/><VersionIdMarker/><NextKeyMarker>a/b</NextKeyMarker><NextVersionIdMarker>null</NextVersionIdMarker><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType><Version><Key>a/b</Key><VersionId>null</VersionId><IsLatest>true</IsLatest><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>"e1"</ETag><Size>5</Size><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Version><DeleteMarker><Key>a/c</Key><VersionId>0006a1b2c3d4e5f60123456789abcdef</VersionId><IsLatest>false</IsLatest><LastModified>2026-01-02T03:04:06.000Z</LastModified><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner></DeleteMarker><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListVersionsResult>"#,
    );
}

#[test]
fn initiate() {
    pin(
        &InitiateResult {
            xmlns: NS,
            bucket: "bkt".into(),
            key: "k".into(),
            upload_id: "u1".into(),
        },
        r#"<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>"#,
    );
}

/// The checksum element (one of five, or none) stands where the five optional fields stood.
#[test]
fn checksum_elements() {
    let complete = |checksum, checksum_type| CompleteResult {
        xmlns: NS,
        location: "http://h/bkt/k".into(),
        bucket: "bkt".into(),
        key: "k".into(),
        etag: "\"e-2\"".into(),
        checksum,
        checksum_type,
    };
    let crc64 = ChecksumXml::new(ChecksumAlgorithm::Crc64Nvme, "AAAAAAAAAAA=".into());
    pin(
        &complete(Some(crc64), Some("FULL_OBJECT")),
        r#"<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://h/bkt/k</Location><Bucket>bkt</Bucket><Key>k</Key><ETag>"e-2"</ETag><ChecksumCRC64NVME>AAAAAAAAAAA=</ChecksumCRC64NVME><ChecksumType>FULL_OBJECT</ChecksumType></CompleteMultipartUploadResult>"#,
    );
    let sha1 = ChecksumXml::new(ChecksumAlgorithm::Sha1, "s1".into());
    pin(
        &complete(Some(sha1), Some("COMPOSITE")),
        r#"<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://h/bkt/k</Location><Bucket>bkt</Bucket><Key>k</Key><ETag>"e-2"</ETag><ChecksumSHA1>s1</ChecksumSHA1><ChecksumType>COMPOSITE</ChecksumType></CompleteMultipartUploadResult>"#,
    );
    pin(
        &complete(None, None),
        r#"<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://h/bkt/k</Location><Bucket>bkt</Bucket><Key>k</Key><ETag>"e-2"</ETag></CompleteMultipartUploadResult>"#,
    );
    let copy_part = |checksum| CopyPartResult {
        xmlns: NS,
        etag: "\"e\"".into(),
        last_modified: "2026-01-02T03:04:05.000Z".into(),
        checksum,
    };
    let crc32c = ChecksumXml::new(ChecksumAlgorithm::Crc32c, "yZRlqg==".into());
    pin(
        &copy_part(Some(crc32c)),
        r#"<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"e"</ETag><LastModified>2026-01-02T03:04:05.000Z</LastModified><ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></CopyPartResult>"#,
    );
    pin(
        &copy_part(None),
        r#"<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>"e"</ETag><LastModified>2026-01-02T03:04:05.000Z</LastModified></CopyPartResult>"#,
    );
}

#[test]
fn list_parts() {
    pin(
        &ListPartsResult {
            xmlns: NS,
            bucket: "bkt".into(),
            key: "k".into(),
            upload_id: "u1".into(),
            part_number_marker: 0,
            next_part_number_marker: 2,
            max_parts: 2,
            is_truncated: true,
            parts: vec![
                PartEntry {
                    number: 1,
                    last_modified: "2026-01-02T03:04:05.000Z".into(),
                    etag: "\"p1\"".into(),
                    size: 5242880,
                    checksum: Some(ChecksumXml::new(ChecksumAlgorithm::Crc32, "c1".into())),
                },
                PartEntry {
                    number: 2,
                    last_modified: "2026-01-02T03:04:06.000Z".into(),
                    etag: "\"p2\"".into(),
                    size: 1,
                    checksum: Some(ChecksumXml::new(ChecksumAlgorithm::Sha256, "s2".into())),
                },
                PartEntry {
                    number: 3,
                    last_modified: "2026-01-02T03:04:07.000Z".into(),
                    etag: "\"p3\"".into(),
                    size: 1,
                    checksum: None,
                },
            ],
            initiator: owner(),
            owner: owner(),
            storage_class: "STANDARD",
            checksum_algorithm: Some("CRC32"),
            checksum_type: Some("COMPOSITE"),
        },
        r#"<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><Key>k</Key><UploadId>u1</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>1</PartNumber><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>"p1"</ETag><Size>5242880</Size><ChecksumCRC32>c1</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><LastModified>2026-01-02T03:04:06.000Z</LastModified><ETag>"p2"</ETag><Size>1</Size><ChecksumSHA256>s2</ChecksumSHA256></Part><Part><PartNumber>3</PartNumber><LastModified>2026-01-02T03:04:07.000Z</LastModified><ETag>"p3"</ETag><Size>1</Size></Part><Initiator><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Initiator><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><StorageClass>STANDARD</StorageClass><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType></ListPartsResult>"#,
    );
}

#[test]
fn list_uploads() {
    pin(
        &ListUploadsResult {
            xmlns: NS,
            bucket: "bkt".into(),
            key_marker: "".into(),
            upload_id_marker: "".into(),
            next_key_marker: Some("k".into()),
            next_upload_id_marker: Some("u1".into()),
            delimiter: Some("/".into()),
            prefix: "".into(),
            encoding_type: None,
            max_uploads: 1,
            is_truncated: true,
            uploads: vec![UploadEntry {
                key: "k".into(),
                upload_id: "u1".into(),
                initiator: owner(),
                owner: owner(),
                storage_class: "STANDARD",
                initiated: "2026-01-02T03:04:05.000Z".into(),
                checksum_algorithm: Some("SHA256"),
                checksum_type: Some("COMPOSITE"),
            }],
            common_prefixes: prefixes(),
        },
        r#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><KeyMarker/><UploadIdMarker/><NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u1</NextUploadIdMarker><Delimiter>/</Delimiter><Prefix/><MaxUploads>1</MaxUploads><IsTruncated>true</IsTruncated><Upload><Key>k</Key><UploadId>u1</UploadId><Initiator><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Initiator><Owner><ID>c0ffee</ID><DisplayName>acct&lt;1&gt;</DisplayName></Owner><StorageClass>STANDARD</StorageClass><Initiated>2026-01-02T03:04:05.000Z</Initiated><ChecksumAlgorithm>SHA256</ChecksumAlgorithm><ChecksumType>COMPOSITE</ChecksumType></Upload><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListMultipartUploadsResult>"#,
    );
}

#[test]
fn list_v1_url() {
    pin(
        &ListBucketResultV1 {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "p%2F".into(),
            marker: "".into(),
            next_marker: None,
            max_keys: 0,
            delimiter: None,
            is_truncated: false,
            encoding_type: Some("url"),
            contents: vec![],
            common_prefixes: vec![],
        },
        r#"<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>p%2F</Prefix><Marker/><MaxKeys>0</MaxKeys><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType></ListBucketResult>"#,
    );
}

#[test]
fn list_versions_delimiter() {
    pin(
        &ListVersionsResult {
            xmlns: NS,
            name: "bkt".into(),
            prefix: "".into(),
            key_marker: "k".into(),
            version_id_marker: "null".into(),
            next_key_marker: None,
            next_version_id_marker: None,
            max_keys: 1000,
            delimiter: Some("/".into()),
            is_truncated: false,
            encoding_type: None,
            versions: vec![],
            common_prefixes: vec![],
        },
        r#"<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix/><KeyMarker>k</KeyMarker><VersionIdMarker>null</VersionIdMarker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated></ListVersionsResult>"#,
    );
}

#[test]
fn list_uploads_url() {
    pin(
        &ListUploadsResult {
            xmlns: NS,
            bucket: "bkt".into(),
            key_marker: "k".into(),
            upload_id_marker: "u".into(),
            next_key_marker: None,
            next_upload_id_marker: None,
            delimiter: None,
            prefix: "a%20b".into(),
            encoding_type: Some("url"),
            max_uploads: 0,
            is_truncated: false,
            uploads: vec![],
            common_prefixes: vec![],
        },
        r#"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>bkt</Bucket><KeyMarker>k</KeyMarker><UploadIdMarker>u</UploadIdMarker><Prefix>a%20b</Prefix><EncodingType>url</EncodingType><MaxUploads>0</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"#,
    );
}

/// A Complete document's parts read as with five optional checksum fields: every element by its
/// name, an empty one as given and empty, unknown ones skipped; a repeated element, a nested one
/// or a missing PartNumber is an error.
#[test]
fn complete_request_reads_as_before() {
    let doc = |part: &str| {
        format!("<CompleteMultipartUpload><Part>{part}</Part></CompleteMultipartUpload>")
    };
    let parse = |part: &str| super::from_xml::<CompleteRequest>(doc(part).as_bytes());
    let r = parse(
        "<PartNumber>7</PartNumber><ChecksumCRC32>a</ChecksumCRC32><ChecksumCRC32C>b</ChecksumCRC32C><Other><x/></Other><ChecksumCRC64NVME><![CDATA[c]]></ChecksumCRC64NVME><ChecksumSHA1> d </ChecksumSHA1><ChecksumSHA256/><ETag>\"e\"</ETag>",
    )
    .unwrap();
    let part = &r.parts[0];
    assert_eq!((part.number, part.etag.as_deref()), (7, Some("\"e\"")));
    let got: Vec<Option<&str>> = ChecksumAlgorithm::ALL
        .iter()
        .map(|a| part.checksum(*a))
        .collect();
    assert_eq!(got, [Some("a"), Some("b"), Some("c"), Some("d"), Some("")]);
    for bad in [
        "<PartNumber>1</PartNumber><ChecksumCRC32>a</ChecksumCRC32><ChecksumCRC32>b</ChecksumCRC32>",
        "<PartNumber>1</PartNumber><ChecksumSHA1><x>a</x></ChecksumSHA1>",
        "<PartNumber>1</PartNumber><PartNumber>2</PartNumber>",
        "<ETag>x</ETag>",
        "<PartNumber>x</PartNumber>",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn object_attributes() {
    let sha = |v: &str| ChecksumXml::new(ChecksumAlgorithm::Sha256, v.into());
    pin(
        &GetObjectAttributesResponse {
            xmlns: NS,
            etag: Some("e-3".into()),
            checksum: Some(ObjectChecksum {
                value: sha("whole"),
                checksum_type: "COMPOSITE",
            }),
            object_parts: Some(ObjectParts {
                parts_count: 3,
                part_number_marker: Some(1),
                next_part_number_marker: Some(2),
                max_parts: Some(1),
                is_truncated: Some(true),
                parts: vec![ObjectPart {
                    part_number: 2,
                    size: 5242880,
                    checksum: Some(sha("p2")),
                }],
            }),
            storage_class: Some("STANDARD"),
            object_size: Some(11534343),
        },
        r#"<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>e-3</ETag><Checksum><ChecksumSHA256>whole</ChecksumSHA256><ChecksumType>COMPOSITE</ChecksumType></Checksum><ObjectParts><PartsCount>3</PartsCount><PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated><Part><PartNumber>2</PartNumber><Size>5242880</Size><ChecksumSHA256>p2</ChecksumSHA256></Part></ObjectParts><StorageClass>STANDARD</StorageClass><ObjectSize>11534343</ObjectSize></GetObjectAttributesResponse>"#,
    );
    pin(
        &GetObjectAttributesResponse {
            xmlns: NS,
            etag: None,
            checksum: None,
            object_parts: Some(ObjectParts {
                parts_count: 2,
                part_number_marker: None,
                next_part_number_marker: None,
                max_parts: None,
                is_truncated: None,
                parts: Vec::new(),
            }),
            storage_class: None,
            object_size: None,
        },
        r#"<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectParts><PartsCount>2</PartsCount></ObjectParts></GetObjectAttributesResponse>"#,
    );
}
