//! issue 18 item 4: a SigV4 credential scope must name the service `s3` (`s3express` for
//! directory buckets) and the addressed bucket's region, as S3 requires; `--any-region` keeps
//! the old leniency.

use super::hand::{Hand, message, send_hand};
use super::sha256_hex;
use crate::common::*;
use crate::sdk_errors::assert_xml_error;

async fn new_bucket_in(s3: &aws_sdk_s3::Client, tag: &str, region: &str) -> String {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let name = bucket_name(tag);
    s3.create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        )
        .send()
        .await
        .unwrap();
    name
}

/// issue 18 item 4: the scope's region must be the addressed bucket's. S3 answers 400
/// AuthorizationHeaderMalformed (AuthorizationQueryParametersError when presigned) naming the
/// expected region in `<Region>` and `x-amz-bucket-region`.
#[tokio::test(flavor = "multi_thread")]
async fn scope_region_must_be_the_buckets() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket_in(&s3, "eu-bucket", "eu-west-1").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let mut h = Hand::new("PUT", &url);
    h.payload = sha256_hex(b"v");
    let resp = send_hand("PUT", &url, &h, b"v").await;
    assert_eq!(
        resp.headers()
            .get("x-amz-bucket-region")
            .map(|v| v.to_str().unwrap()),
        Some("eu-west-1")
    );
    let body = assert_xml_error(resp, 400, "AuthorizationHeaderMalformed").await;
    assert_eq!(
        message(&body).as_deref(),
        Some(
            "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
        )
    );
    assert_eq!(xml_field(&body, "Region").as_deref(), Some("eu-west-1"));
    // HEAD: no body, the header says where to go.
    let hh = Hand::new("HEAD", &url);
    let resp = send_hand("HEAD", &url, &hh, b"").await;
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()
            .get("x-amz-bucket-region")
            .map(|v| v.to_str().unwrap()),
        Some("eu-west-1")
    );
    // Presigned: the query form of the same answer.
    let mut g = Hand::new("GET", &url);
    g.signed = vec!["host"];
    let resp = http().get(g.presign(300)).send().await.unwrap();
    let body = assert_xml_error(resp, 400, "AuthorizationQueryParametersError").await;
    assert_eq!(
        message(&body).as_deref(),
        Some(
            "Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'"
        )
    );
    assert_eq!(xml_field(&body, "Region").as_deref(), Some("eu-west-1"));
    // Nothing was stored; signed for eu-west-1 it works.
    h.region = "eu-west-1";
    assert_eq!(
        send_hand("PUT", &url, &h, b"v").await.status().as_u16(),
        200
    );
    g.region = "eu-west-1";
    let resp = http().get(g.presign(300)).send().await.unwrap();
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"v");
    // GetBucketLocation answers from any region: it is how clients find the right one.
    let loc = format!("{}/{b}?location", server.endpoint());
    assert_eq!(
        send_hand("GET", &loc, &Hand::new("GET", &loc), b"")
            .await
            .status()
            .as_u16(),
        200
    );

    // ListBuckets takes any valid region, but not a malformed one.
    let root = format!("{}/", server.endpoint());
    let mut l = Hand::new("GET", &root);
    l.region = "ap-southeast-2";
    assert_eq!(
        send_hand("GET", &root, &l, b"").await.status().as_u16(),
        200
    );
    l.region = "us_east_1";
    let body = assert_xml_error(
        send_hand("GET", &root, &l, b"").await,
        400,
        "AuthorizationHeaderMalformed",
    )
    .await;
    assert_eq!(xml_field(&body, "Region").as_deref(), Some("us-east-1"));
}

/// issue 18 item 4: the scope's service must be `s3` (`s3express` only for directory buckets).
#[tokio::test(flavor = "multi_thread")]
async fn scope_service_must_be_s3() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "service").await;
    put(&s3, &b, "k", "v").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let mut h = Hand::new("GET", &url);
    h.service = "iam";
    let body = assert_xml_error(
        send_hand("GET", &url, &h, b"").await,
        400,
        "AuthorizationHeaderMalformed",
    )
    .await;
    assert_eq!(
        message(&body).as_deref(),
        Some(
            "The authorization header is malformed; incorrect service \"iam\". This endpoint belongs to \"s3\"."
        )
    );
    h.service = "s3express";
    assert_xml_error(
        send_hand("GET", &url, &h, b"").await,
        400,
        "AuthorizationHeaderMalformed",
    )
    .await;
    h.signed = vec!["host"];
    let resp = http().get(h.presign(300)).send().await.unwrap();
    assert_xml_error(resp, 400, "AuthorizationQueryParametersError").await;
}

/// issue 18 item 4: CreateBucket signed for a region other than us-east-1 (S3's global endpoint)
/// must create its bucket in that region, as a regional S3 endpoint requires.
#[tokio::test(flavor = "multi_thread")]
async fn create_bucket_location_must_match_a_regional_scope() {
    let server = Server::start(&[]);
    let name = bucket_name("illegal-loc");
    let url = format!("{}/{name}", server.endpoint());
    let xml = b"<CreateBucketConfiguration><LocationConstraint>eu-central-1</LocationConstraint></CreateBucketConfiguration>";
    let mut h = Hand::new("PUT", &url);
    h.region = "eu-west-1";
    h.payload = sha256_hex(xml);
    let body = assert_xml_error(
        send_hand("PUT", &url, &h, xml).await,
        400,
        "IllegalLocationConstraintException",
    )
    .await;
    assert_eq!(
        message(&body).as_deref(),
        Some(
            "The eu-central-1 location constraint is incompatible for the region specific endpoint this request was sent to."
        )
    );
    h.payload = sha256_hex(b"");
    let body = assert_xml_error(
        send_hand("PUT", &url, &h, b"").await,
        400,
        "IllegalLocationConstraintException",
    )
    .await;
    assert!(
        body.contains("The unspecified location constraint"),
        "{body}"
    );
    let s3 = server.client();
    assert!(s3.list_buckets().send().await.unwrap().buckets().is_empty());
    // Signed for the constraint's region it is created.
    h.region = "eu-central-1";
    h.payload = sha256_hex(xml);
    assert_eq!(send_hand("PUT", &url, &h, xml).await.status().as_u16(), 200);
}

/// `--any-region` keeps the old leniency: any region, any bucket.
#[tokio::test(flavor = "multi_thread")]
async fn any_region_flag_accepts_every_region() {
    let server = Server::start(&["--any-region"]);
    let s3 = server.client();
    let b = new_bucket_in(&s3, "any-region", "eu-west-1").await;
    let url = format!("{}/{b}/k", server.endpoint());
    let mut h = Hand::new("PUT", &url);
    h.region = "ap-southeast-2";
    h.payload = sha256_hex(b"v");
    assert_eq!(
        send_hand("PUT", &url, &h, b"v").await.status().as_u16(),
        200
    );
    // The service is still checked.
    h.service = "iam";
    assert_xml_error(
        send_hand("PUT", &url, &h, b"v").await,
        400,
        "AuthorizationHeaderMalformed",
    )
    .await;
}
