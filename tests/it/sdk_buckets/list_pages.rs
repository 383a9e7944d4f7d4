//! ListBuckets pagination as S3 added it in 2024: `max-buckets`, `continuation-token`, `prefix`,
//! `bucket-region`, `BucketRegion` in each entry, and S3's InvalidArgument for a bad page size
//! or token.

use aws_sdk_s3::config::http::HttpRequest;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::operation::list_buckets::ListBucketsOutput;

use super::*;

fn names(out: &ListBucketsOutput) -> Vec<&str> {
    out.buckets().iter().filter_map(|b| b.name()).collect()
}

/// Creates `names` (in us-east-1) and `eu` in eu-west-1 (S3's global endpoint takes any
/// LocationConstraint from a us-east-1 client).
async fn make_buckets(s3: &aws_sdk_s3::Client, names: &[&str], eu: &[&str]) {
    for n in names {
        s3.create_bucket().bucket(*n).send().await.unwrap();
    }
    for n in eu {
        s3.create_bucket()
            .bucket(*n)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::EuWest1)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_follow_the_continuation_token() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    make_buckets(&s3, &["pg-a", "pg-b", "pg-c", "other-x"], &["pg-eu"]).await;

    // Unpaginated: every bucket, no token, no prefix, each with its region.
    let all = s3.list_buckets().send().await.unwrap();
    assert_eq!(names(&all), ["other-x", "pg-a", "pg-b", "pg-c", "pg-eu"]);
    assert_eq!(all.continuation_token(), None);
    assert_eq!(all.prefix(), None);
    let regions: Vec<_> = all
        .buckets()
        .iter()
        .filter_map(|b| b.bucket_region())
        .collect();
    assert_eq!(
        regions,
        [
            "us-east-1",
            "us-east-1",
            "us-east-1",
            "us-east-1",
            "eu-west-1"
        ]
    );

    // Two per page, by hand.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = s3
            .list_buckets()
            .max_buckets(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.buckets().len() <= 2);
        seen.extend(names(&out).into_iter().map(str::to_string));
        match out.continuation_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["other-x", "pg-a", "pg-b", "pg-c", "pg-eu"]);

    // An exact fit ends without a token.
    let out = s3.list_buckets().max_buckets(5).send().await.unwrap();
    assert_eq!(out.buckets().len(), 5);
    assert_eq!(out.continuation_token(), None);

    // Prefix: echoed back; the token carries on inside the prefix.
    let out = s3
        .list_buckets()
        .prefix("pg-")
        .max_buckets(1)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["pg-a"]);
    assert_eq!(out.prefix(), Some("pg-"));
    let token = out
        .continuation_token()
        .expect("more pg- buckets")
        .to_string();
    let out = s3
        .list_buckets()
        .prefix("pg-")
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["pg-b", "pg-c", "pg-eu"]);
    assert_eq!(out.continuation_token(), None);

    // bucket-region filters.
    let out = s3
        .list_buckets()
        .bucket_region("eu-west-1")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["pg-eu"]);
    assert_eq!(out.buckets()[0].bucket_region(), Some("eu-west-1"));
    let out = s3
        .list_buckets()
        .bucket_region("ap-south-1")
        .send()
        .await
        .unwrap();
    assert!(out.buckets().is_empty());
    assert_eq!(out.continuation_token(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_paginator_lists_every_bucket() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let want: Vec<String> = (0..7).map(|i| format!("pager-{i:02}")).collect();
    for n in &want {
        s3.create_bucket().bucket(n).send().await.unwrap();
    }
    let pages: Vec<ListBucketsOutput> = s3
        .list_buckets()
        .max_buckets(3)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let got: Vec<&str> = pages.iter().flat_map(names).collect();
    assert_eq!(got, want);
    // The items paginator, with a prefix.
    let got: Vec<String> = s3
        .list_buckets()
        .prefix("pager-0")
        .max_buckets(2)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|b| b.name)
        .collect();
    assert_eq!(got, want);
}

/// Rewrites the request's query string before signing (the SDK cannot send a non-integer page).
fn with_query(query: &str) -> impl Fn(&mut HttpRequest) + Send + Sync + 'static {
    let query = query.to_string();
    move |req: &mut HttpRequest| {
        let base = req.uri().split('?').next().unwrap_or("").to_string();
        req.set_uri(format!("{base}?{query}")).expect("a valid URI");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_page_sizes_and_tokens_are_invalid_argument() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    s3.create_bucket()
        .bucket("kept-bucket")
        .send()
        .await
        .unwrap();
    let out_of_range = "Argument max-buckets must be an integer between 1 and 10000.";
    let not_integer = "Provided max-buckets not an integer or within integer range";
    let bad_token = "The continuation token provided is incorrect";
    let cases = [
        ("max-buckets=0", "max-buckets", "0", out_of_range),
        ("max-buckets=10001", "max-buckets", "10001", out_of_range),
        ("max-buckets=-3", "max-buckets", "-3", out_of_range),
        ("max-buckets=ten", "max-buckets", "ten", not_integer),
        (
            "max-buckets=4294967296",
            "max-buckets",
            "4294967296",
            not_integer,
        ),
        (
            "continuation-token=%2A%2A",
            "continuation-token",
            "**",
            bad_token,
        ),
    ];
    for (query, name, value, message) in cases {
        let err = s3
            .list_buckets()
            .max_buckets(1)
            .customize()
            .mutate_request(with_query(query))
            .send()
            .await
            .expect_err(query);
        let raw = err.raw_response().expect("a response");
        assert_eq!(raw.status().as_u16(), 400, "{query}");
        let body = std::str::from_utf8(raw.body().bytes().unwrap_or_default())
            .unwrap()
            .to_string();
        assert_eq!(err.code(), Some("InvalidArgument"), "{query}");
        assert_eq!(err.message(), Some(message), "{query}");
        assert_eq!(xml_field(&body, "ArgumentName").as_deref(), Some(name));
        assert_eq!(xml_field(&body, "ArgumentValue").as_deref(), Some(value));
    }
    // The SDK's own out-of-range values reach the server and get the same answer.
    assert_err(
        s3.list_buckets().max_buckets(0).send().await,
        "InvalidArgument",
        400,
    );
    // Nothing changed.
    let all = s3.list_buckets().send().await.unwrap();
    assert_eq!(names(&all), ["kept-bucket"]);
    // 10000 is the largest page.
    let out = s3.list_buckets().max_buckets(10_000).send().await.unwrap();
    assert_eq!(names(&out), ["kept-bucket"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn other_accounts_buckets_stay_out_of_pages() {
    let server = Server::start_memory(&["--user", ALICE_USER_ARG]);
    let s3 = server.client();
    s3.create_bucket().bucket("mine-1").send().await.unwrap();
    s3.create_bucket().bucket("mine-2").send().await.unwrap();
    server
        .alice()
        .create_bucket()
        .bucket("mine-alice")
        .send()
        .await
        .unwrap();
    let out = s3
        .list_buckets()
        .prefix("mine-")
        .max_buckets(1)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["mine-1"]);
    let token = out.continuation_token().unwrap().to_string();
    let out = s3
        .list_buckets()
        .prefix("mine-")
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&out), ["mine-2"]);
    assert_eq!(out.continuation_token(), None);
}
