//! S3's tag rules, each error pinned to its code, message and fields; the header's encoding; the
//! PutObjectTagging document.

use super::{Tags, for_copy, for_write, from_header, parse_document, validate};
use crate::error::{S3Error, S3ErrorCode};
use crate::store::BucketMeta;
use crate::test_headers::header_map;

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field<'a>(e: &'a S3Error, name: &str) -> Option<&'a str> {
    e.fields
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn refused(t: Tags) -> S3Error {
    validate(t).expect_err("refused")
}

#[test]
fn valid_sets_come_back_ordered_by_key() {
    let ok = validate(tags(&[("b", "2"), ("a", ""), ("Ünï 文 9", "+-=._:/@ x")])).unwrap();
    assert_eq!(
        ok,
        tags(&[("a", ""), ("b", "2"), ("Ünï 文 9", "+-=._:/@ x")])
    );
    let ten: Tags = (0..10).map(|i| (format!("k{i}"), String::new())).collect();
    assert_eq!(validate(ten).unwrap().len(), 10);
    // 128 and 256 UTF-16 units are the limits.
    assert!(validate(tags(&[(&"k".repeat(128), &"v".repeat(256))])).is_ok());
    assert!(validate(Tags::new()).unwrap().is_empty());
}

#[test]
fn more_than_ten_tags_is_bad_request() {
    let eleven: Tags = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
    let e = refused(eleven);
    assert_eq!(e.code, S3ErrorCode::BadRequest);
    assert_eq!(e.code.status().as_u16(), 400);
    assert_eq!(e.message, "Object tags cannot be greater than 10");
}

#[test]
fn each_invalid_tag_names_itself() {
    let e = refused(tags(&[("a", "1"), ("a", "2")]));
    assert_eq!(e.code, S3ErrorCode::InvalidTag);
    assert_eq!(e.code.status().as_u16(), 400);
    assert_eq!(e.message, "Cannot provide multiple Tags with the same key");
    assert_eq!(field(&e, "TagKey"), Some("a"));

    let e = refused(tags(&[("aws:cost", "1")]));
    assert_eq!(e.code, S3ErrorCode::InvalidTag);
    assert_eq!(e.message, "Your TagKey cannot be prefixed with aws:");
    assert_eq!(field(&e, "TagKey"), Some("aws:cost"));

    for key in [
        "", "a,b", "a;b", "a?b", "a!b", "a*b", "a#b", "a%b", "a\tb", "😀", "a\nb",
    ] {
        let e = refused(tags(&[(key, "v")]));
        assert_eq!(e.code, S3ErrorCode::InvalidTag, "{key:?}");
        assert_eq!(e.message, "The TagKey you have provided is invalid");
        assert_eq!(field(&e, "TagKey"), Some(key));
    }
    let long = "k".repeat(129);
    assert_eq!(
        refused(tags(&[(&long, "")])).message,
        "The TagKey you have provided is invalid"
    );
    // UTF-16: an astral character takes two units, so 64 of them fill a key.
    assert!(validate(tags(&[(&"𝒜".repeat(64), "")])).is_ok());
    assert!(validate(tags(&[(&"𝒜".repeat(65), "")])).is_err());

    for value in ["a,b", "a\tb", "😀", &"v".repeat(257)] {
        let e = refused(tags(&[("k", value)]));
        assert_eq!(e.code, S3ErrorCode::InvalidTag);
        assert_eq!(e.message, "The TagValue you have provided is invalid");
        assert_eq!(field(&e, "TagKey"), Some("k"));
        assert_eq!(field(&e, "TagValue"), Some(value));
    }
}

#[test]
fn the_header_is_url_query_encoded() {
    let h = |v: &str| from_header(&header_map(&[("x-amz-tagging", v)]));
    assert_eq!(h("a=1&b=2").unwrap(), Some(tags(&[("a", "1"), ("b", "2")])));
    assert_eq!(h("b&a=").unwrap(), Some(tags(&[("a", ""), ("b", "")])));
    assert_eq!(
        h("a%20b=c%2Bd&e+f=g").unwrap(),
        Some(tags(&[("a b", "c+d"), ("e f", "g")]))
    );
    assert_eq!(h("%C3%BC=%E6%96%87").unwrap(), Some(tags(&[("ü", "文")])));
    assert_eq!(h("").unwrap(), Some(Tags::new()));
    assert_eq!(from_header(&header_map(&[])).unwrap(), None);
    for bad in ["a=1&a=2", "=1", "a=%FF", "a=%zz", "a=%4", "a=b=c"] {
        let e = h(bad).expect_err(bad);
        assert_eq!(e.code, S3ErrorCode::InvalidArgument, "{bad}");
        assert_eq!(
            e.message,
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."
        );
        assert_eq!(field(&e, "ArgumentName"), Some("x-amz-tagging"));
        assert_eq!(field(&e, "ArgumentValue"), Some(bad));
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("k{i}=")).collect();
    assert_eq!(
        h(&eleven.join("&")).unwrap_err().code,
        S3ErrorCode::BadRequest
    );
    assert_eq!(h("a%2Cb=1").unwrap_err().code, S3ErrorCode::InvalidTag);
    assert_eq!(h("aws:x=1").unwrap_err().code, S3ErrorCode::InvalidTag);
}

fn directory_bucket() -> BucketMeta {
    let mut b = BucketMeta::for_tests("d--use1-az4--x-s3", "o");
    b.directory = Some(crate::store::DirectoryInfo {
        location_type: "AvailabilityZone".into(),
        location_name: "use1-az4".into(),
        data_redundancy: "SingleAvailabilityZone".into(),
        kms_key_id: None,
    });
    b
}

#[test]
fn directory_buckets_take_only_the_empty_set() {
    let dir = directory_bucket();
    let general = BucketMeta::for_tests("g", "o");
    let tagged = header_map(&[("x-amz-tagging", "a=1")]);
    let e = for_write(&tagged, &dir).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::NotImplemented);
    assert_eq!(e.code.status().as_u16(), 501);
    assert!(for_write(&header_map(&[("x-amz-tagging", "")]), &dir).is_ok());
    assert!(for_write(&header_map(&[]), &dir).is_ok());
    assert_eq!(for_write(&tagged, &general).unwrap(), tags(&[("a", "1")]));
    // A copy into a directory bucket: the source's tags (COPY) or the header's (REPLACE).
    let source = tags(&[("s", "1")]);
    assert!(for_copy(&header_map(&[]), &dir, &source).is_err());
    assert!(for_copy(&header_map(&[]), &dir, &[]).is_ok());
    let replace_empty = header_map(&[("x-amz-tagging-directive", "REPLACE")]);
    assert!(for_copy(&replace_empty, &dir, &source).unwrap().is_empty());
}

#[test]
fn copy_directives() {
    let b = BucketMeta::for_tests("g", "o");
    let source = tags(&[("s", "1")]);
    // COPY (the default) keeps the source's tags; S3 then ignores x-amz-tagging.
    let copy = header_map(&[("x-amz-tagging", "a=1")]);
    assert_eq!(for_copy(&copy, &b, &source).unwrap(), source);
    let copy = header_map(&[
        ("x-amz-tagging-directive", "COPY"),
        ("x-amz-tagging", "a=1"),
    ]);
    assert_eq!(for_copy(&copy, &b, &source).unwrap(), source);
    let replace = header_map(&[
        ("x-amz-tagging-directive", "REPLACE"),
        ("x-amz-tagging", "a=1"),
    ]);
    assert_eq!(
        for_copy(&replace, &b, &source).unwrap(),
        tags(&[("a", "1")])
    );
    let e = for_copy(
        &header_map(&[("x-amz-tagging-directive", "MOVE")]),
        &b,
        &source,
    )
    .unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidArgument);
    assert_eq!(field(&e, "ArgumentName"), Some("x-amz-tagging-directive"));
}

#[test]
fn the_document() {
    let doc = |s: &str| parse_document(s.as_bytes());
    assert_eq!(
        doc("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag><Key>b</Key><Value>2</Value></Tag><Tag><Key>a</Key><Value></Value></Tag></TagSet></Tagging>").unwrap(),
        tags(&[("a", ""), ("b", "2")])
    );
    assert_eq!(doc("<Tagging><TagSet/></Tagging>").unwrap(), Tags::new());
    assert_eq!(
        doc("<Tagging><TagSet></TagSet></Tagging>").unwrap(),
        Tags::new()
    );
    assert_eq!(
        doc("<Tagging><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>").unwrap(),
        tags(&[("k", "")])
    );
    for bad in [
        "<Tagging><TagSet>",
        "<Tagging></Tagging>",
        "<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>",
        "<Tagging><TagSet><Tag><Value>a</Value></Tag></TagSet></Tagging>",
        "<Tags><TagSet></TagSet></Tags>",
        "<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value><Extra/></Tag></TagSet></Tagging>",
        "not xml",
    ] {
        assert_eq!(
            doc(bad).unwrap_err().code,
            S3ErrorCode::MalformedXML,
            "{bad}"
        );
    }
    assert_eq!(
        doc("<Tagging><TagSet><Tag><Key>aws:x</Key><Value>b</Value></Tag></TagSet></Tagging>")
            .unwrap_err()
            .code,
        S3ErrorCode::InvalidTag
    );
}
