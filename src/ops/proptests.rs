//! Property tests of every XML request body (PutBucketEncryption, DeleteObjects,
//! CompleteMultipartUpload, CreateBucket configuration incl. directory buckets) and of the
//! copy-source headers: random bytes, XML-ish text and mutated valid documents (truncated,
//! duplicated elements, huge numbers, deep nesting) give a value or a 4xx S3 error, never a
//! panic; valid documents round-trip.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

use super::bucket::parse_create_configuration;
use super::directory::directory_info;
use super::encryption::parse_configuration;
use super::multipart::{parse_complete, parse_copy_source_range};
use super::object_delete::{MAX_DELETE_KEYS, parse_delete};
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::MAX_XML_BODY;
use crate::http::router::parse_copy_source;
use crate::proptest_support::{any_text, assert_client_error, config, mutate, nested, xmlish};
use crate::xml_text::escape;

const XMLNS: &str = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

/// Checks an XML parse outcome: a value, or a 4xx (MalformedXML and friends).
fn ok_or_client_error<T>(r: Result<T, S3Error>) {
    if let Err(e) = r {
        assert_client_error(&e);
    }
}

fn encryption_doc(alg: &str, key: Option<&str>, bucket_key: Option<bool>) -> String {
    let key = key
        .map(|k| format!("<KMSMasterKeyID>{}</KMSMasterKeyID>", escape(k)))
        .unwrap_or_default();
    let bk = bucket_key
        .map(|b| format!("<BucketKeyEnabled>{b}</BucketKeyEnabled>"))
        .unwrap_or_default();
    format!(
        "<ServerSideEncryptionConfiguration {XMLNS}><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{alg}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault>{bk}</Rule></ServerSideEncryptionConfiguration>"
    )
}

fn delete_doc(keys: &[(String, Option<String>)], quiet: Option<bool>) -> String {
    let mut s = format!("<Delete {XMLNS}>");
    if let Some(q) = quiet {
        s.push_str(&format!("<Quiet>{q}</Quiet>"));
    }
    for (k, v) in keys {
        s.push_str(&format!("<Object><Key>{}</Key>", escape(k)));
        if let Some(v) = v {
            s.push_str(&format!("<VersionId>{}</VersionId>", escape(v)));
        }
        s.push_str("</Object>");
    }
    s.push_str("</Delete>");
    s
}

fn complete_doc(parts: &[(u32, String)]) -> String {
    let mut s = format!("<CompleteMultipartUpload {XMLNS}>");
    for (n, etag) in parts {
        s.push_str(&format!(
            "<Part><ETag>&quot;{etag}&quot;</ETag><PartNumber>{n}</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"
        ));
    }
    s.push_str("</CompleteMultipartUpload>");
    s
}

fn create_doc(constraint: &str) -> String {
    format!(
        "<CreateBucketConfiguration {XMLNS}><LocationConstraint>{constraint}</LocationConstraint></CreateBucketConfiguration>"
    )
}

const DIRECTORY_DOC: &str = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Location><Type>AvailabilityZone</Type><Name>use1-az4</Name></Location><Bucket><DataRedundancy>SingleAvailabilityZone</DataRedundancy><Type>Directory</Type></Bucket></CreateBucketConfiguration>";

/// Every document parser on one input.
fn parse_all(xml: &[u8]) {
    ok_or_client_error(parse_configuration(xml));
    ok_or_client_error(parse_delete(xml));
    ok_or_client_error(parse_complete(xml, "upload"));
    ok_or_client_error(parse_create_configuration(xml).and_then(|c| {
        directory_info(
            "bucket--use1-az4--x-s3",
            c.location,
            c.bucket,
            c.location_constraint.as_deref(),
        )
    }));
}

fn element_names() -> Vec<&'static str> {
    vec![
        "ServerSideEncryptionConfiguration",
        "Rule",
        "ApplyServerSideEncryptionByDefault",
        "SSEAlgorithm",
        "KMSMasterKeyID",
        "BucketKeyEnabled",
        "BlockedEncryptionTypes",
        "EncryptionType",
        "Delete",
        "Object",
        "Key",
        "VersionId",
        "Quiet",
        "CompleteMultipartUpload",
        "Part",
        "PartNumber",
        "ETag",
        "ChecksumCRC32",
        "CreateBucketConfiguration",
        "LocationConstraint",
        "Location",
        "Bucket",
        "Type",
        "Name",
        "DataRedundancy",
    ]
}

/// Valid documents of every kind, to mutate.
fn valid_doc() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(encryption_doc("aws:kms", Some("alias/k"), Some(true))),
        Just(encryption_doc("AES256", None, None)),
        Just(delete_doc(
            &[("a".into(), None), ("b/c".into(), Some("null".into()))],
            Some(true)
        )),
        Just(complete_doc(&[
            (1, "0123456789abcdef0123456789abcdef".into()),
            (2, "fedcba9876543210fedcba9876543210".into())
        ])),
        Just(create_doc("eu-west-1")),
        Just(DIRECTORY_DOC.to_string()),
    ]
    .prop_map(String::into_bytes)
}

/// Copy-source values are encoded like URL paths (`/` kept).
const COPY_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn xml_random_bytes(xml in prop::collection::vec(any::<u8>(), 0..400)) {
        parse_all(&xml);
    }

    #[test]
    fn xml_random_xmlish(xml in xmlish(element_names())) {
        parse_all(&xml);
    }

    /// Valid documents truncated, with spans duplicated or cut, bytes replaced, tokens inserted.
    #[test]
    fn xml_mutated(xml in valid_doc().prop_flat_map(mutate)) {
        parse_all(&xml);
    }

    /// Documents nested deeper than any schema (closed or not) are refused, not a crash.
    #[test]
    fn xml_nested(
        name in prop::sample::select(element_names()),
        depth in 0usize..600,
        closed in any::<bool>(),
        root in prop::sample::select(vec!["Delete", "CompleteMultipartUpload", "ServerSideEncryptionConfiguration", "CreateBucketConfiguration"]),
    ) {
        let mut xml = format!("<{root}>").into_bytes();
        xml.extend(nested(name, depth, "1", closed));
        xml.extend(format!("</{root}>").into_bytes());
        parse_all(&xml);
    }

    /// PutBucketEncryption documents round-trip; AES256 with a key is InvalidArgument (400);
    /// an unknown algorithm is MalformedXML (400).
    #[test]
    fn encryption_round_trip(
        alg in prop::sample::select(vec!["AES256", "aws:kms", "aws:kms:dsse", "aws:kms:x", "aes256", ""]),
        key in prop::option::of("[ -~]{1,40}".prop_filter("trimmed", |k| k.trim() == k)),
        bucket_key in prop::option::of(any::<bool>()),
    ) {
        let r = parse_configuration(encryption_doc(alg, key.as_deref(), bucket_key).as_bytes());
        match (alg, &key) {
            ("AES256", Some(_)) => prop_assert_eq!(r.err().map(|e| e.code), Some(S3ErrorCode::InvalidArgument)),
            ("AES256" | "aws:kms" | "aws:kms:dsse", _) => {
                let (rule, blocked) = r.unwrap();
                prop_assert_eq!(rule.sse_algorithm.as_str(), alg);
                prop_assert_eq!(rule.kms_master_key_id, key);
                prop_assert_eq!(rule.bucket_key_enabled, bucket_key.unwrap_or(false));
                prop_assert!(blocked.is_none());
            }
            _ => prop_assert_eq!(r.err().map(|e| e.code), Some(S3ErrorCode::MalformedXML)),
        }
    }

    /// DeleteObjects documents round-trip (keys and version ids escaped as XML); none or more
    /// than 1000 objects are MalformedXML (400).
    #[test]
    fn delete_round_trip(
        keys in prop::collection::vec(
            ("[^\\p{Cc}]{1,40}".prop_filter("trimmed", |k| k.trim() == k), prop::option::of("[0-9a-zA-Z._-]{1,20}")),
            0..6,
        ),
        quiet in prop::option::of(any::<bool>()),
        many in prop::bool::weighted(0.01),
    ) {
        let mut keys = keys;
        if many {
            keys = (0..=MAX_DELETE_KEYS).map(|i| (format!("k{i}"), None)).collect();
        }
        let r = parse_delete(delete_doc(&keys, quiet).as_bytes());
        if keys.is_empty() || keys.len() > MAX_DELETE_KEYS {
            let e = r.err().unwrap();
            prop_assert_eq!(e.code, S3ErrorCode::MalformedXML);
            prop_assert_eq!(e.code.status().as_u16(), 400);
        } else {
            let d = r.unwrap();
            prop_assert_eq!(d.quiet, quiet);
            let got: Vec<(String, Option<String>)> = d.objects.into_iter().map(|o| (o.key, o.version_id)).collect();
            prop_assert_eq!(got, keys);
        }
    }

    /// CompleteMultipartUpload documents round-trip; part numbers out of order are
    /// InvalidPartOrder (400); numbers beyond u32 are MalformedXML (400).
    #[test]
    fn complete_round_trip(
        numbers in prop::collection::vec(1u32..=10_000, 1..20),
        etag in "[0-9a-f]{32}",
        huge in "[1-9][0-9]{10,30}",
    ) {
        let parts: Vec<(u32, String)> = numbers.iter().map(|n| (*n, etag.clone())).collect();
        let r = parse_complete(complete_doc(&parts).as_bytes(), "u");
        if numbers.windows(2).all(|w| w[0] < w[1]) {
            let c = r.unwrap();
            let got: Vec<u32> = c.parts.iter().map(|p| p.number).collect();
            prop_assert_eq!(got, numbers);
            let quoted = format!("\"{etag}\"");
            prop_assert!(c.parts.iter().all(|p| p.etag.as_deref() == Some(quoted.as_str())));
        } else {
            let e = r.err().unwrap();
            prop_assert_eq!(e.code, S3ErrorCode::InvalidPartOrder);
            prop_assert_eq!(e.code.status().as_u16(), 400);
        }
        let doc = format!("<CompleteMultipartUpload><Part><ETag>x</ETag><PartNumber>{huge}</PartNumber></Part></CompleteMultipartUpload>");
        prop_assert_eq!(parse_complete(doc.as_bytes(), "u").err().map(|e| e.code), Some(S3ErrorCode::MalformedXML));
    }

    /// CreateBucket's LocationConstraint round-trips; directory configurations are checked
    /// against the name.
    #[test]
    fn create_bucket_round_trip(
        constraint in "[a-z0-9-]{1,20}",
        zone in "[a-z0-9-]{1,12}",
        base in "[a-z0-9][a-z0-9-]{0,20}[a-z0-9]",
    ) {
        let c = parse_create_configuration(create_doc(&constraint).as_bytes()).unwrap();
        prop_assert_eq!(c.location_constraint, Some(constraint));
        let c = parse_create_configuration(DIRECTORY_DOC.as_bytes()).unwrap();
        let name = format!("{base}--{zone}--x-s3");
        let r = directory_info(&name, c.location, c.bucket, None);
        if name.len() > 63 {
            prop_assert_eq!(r.err().map(|e| e.code), Some(S3ErrorCode::InvalidBucketName));
        } else if zone == "use1-az4" {
            prop_assert_eq!(r.unwrap().location_name, zone);
        } else {
            let e = r.err().unwrap();
            assert_client_error(&e);
        }
    }

    /// `x-amz-copy-source`: any value gives (bucket, key) or InvalidArgument (400).
    #[test]
    fn copy_source_never_panics(v in prop_oneof![
        any_text(120),
        "/?[a-z0-9.-]{0,10}/?(%[0-9a-fA-F]{2}|[a-z/?=%])*(\\?versionId=[a-z]{0,6})?",
    ]) {
        match parse_copy_source(&v) {
            Ok((b, k)) => prop_assert!(!b.is_empty() && !k.is_empty()),
            Err(e) => {
                prop_assert_eq!(e.code, S3ErrorCode::InvalidArgument);
                prop_assert_eq!(e.code.status().as_u16(), 400);
            }
        }
    }

    /// Encoded bucket/key (with or without a leading `/` and `?versionId=null`) round-trip.
    #[test]
    fn copy_source_round_trip(
        bucket in "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
        key in any_text(200).prop_filter("non-empty", |k| !k.is_empty()),
        slash in any::<bool>(),
        null_version in any::<bool>(),
    ) {
        let mut v = format!("{}{bucket}/{}", if slash { "/" } else { "" }, utf8_percent_encode(&key, COPY_SET));
        if null_version {
            v.push_str("?versionId=null");
        }
        prop_assert_eq!(parse_copy_source(&v).unwrap(), (bucket, key));
    }

    /// `x-amz-copy-source-range`: a range inside the source, InvalidArgument or InvalidRange.
    #[test]
    fn copy_source_range(
        raw in prop_oneof![any_text(40), " ?bytes= ?[0-9+-]{0,22} ?- ?[0-9+-]{0,22}"],
        a in any::<u64>(), b in any::<u64>(),
        size in prop_oneof![Just(0u64), 0u64..100_000, any::<u64>()],
    ) {
        for raw in [raw, format!("bytes={a}-{b}")] {
            match parse_copy_source_range(&raw, size) {
                Ok(r) => prop_assert!(r.start <= r.end && r.end < size),
                Err(e) => {
                    prop_assert!(matches!(e.code, S3ErrorCode::InvalidArgument | S3ErrorCode::InvalidRange), "{:?}", e.code);
                    assert_client_error(&e);
                }
            }
        }
    }
}

/// Bodies as large as the XML limit, nested as deep as that allows (about 350,000 levels):
/// refused with a 4xx, without exhausting the stack.
#[test]
fn xml_nested_to_the_body_limit() {
    let depth = MAX_XML_BODY as usize / 3;
    for name in ["Object", "Rule"] {
        for closed in [false, true] {
            let mut xml = nested(name, depth / if closed { 2 } else { 1 }, "1", closed);
            xml.truncate(MAX_XML_BODY as usize);
            parse_all(&xml);
        }
    }
}
