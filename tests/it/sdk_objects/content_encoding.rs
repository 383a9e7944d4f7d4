//! Content-Encoding comes back as the client sent it, minus the `aws-chunked` token (transfer
//! framing) and the separator next to it, on PutObject, CopyObject (REPLACE and COPY) and
//! CreateMultipartUpload; `aws-chunked` alone stores none, as S3.

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use super::*;

/// (sent, returned)
const CASES: [(&str, Option<&str>); 9] = [
    ("deflate, gzip", Some("deflate, gzip")),
    ("deflate,gzip", Some("deflate,gzip")),
    ("gzip", Some("gzip")),
    ("aws-chunked, gzip", Some("gzip")),
    ("aws-chunked,gzip", Some("gzip")),
    ("gzip,aws-chunked", Some("gzip")),
    ("gzip, aws-chunked, br", Some("gzip, br")),
    ("aws-chunked", None),
    ("x-custom;q=1", Some("x-custom;q=1")),
];

/// GET and HEAD both return `want`, and the raw GET response header is exactly it.
async fn assert_encoding(s3: &aws_sdk_s3::Client, b: &str, key: &str, want: Option<&str>) {
    let head = s3.head_object().bucket(b).key(key).send().await.unwrap();
    assert_eq!(head.content_encoding(), want, "HEAD {key}");
    let got = s3.get_object().bucket(b).key(key).send().await.unwrap();
    assert_eq!(got.content_encoding(), want, "GET {key}");
    let url = s3
        .get_object()
        .bucket(b)
        .key(key)
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .unwrap(),
        )
        .await
        .unwrap();
    let raw = http().get(url.uri()).send().await.unwrap();
    let values: Vec<_> = raw
        .headers()
        .get_all("content-encoding")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        values,
        want.map(str::to_string).into_iter().collect::<Vec<_>>(),
        "raw GET {key}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn put_object_keeps_the_spelling() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ce-put").await;
    for (i, (sent, want)) in CASES.iter().enumerate() {
        let key = format!("k{i}");
        s3.put_object()
            .bucket(&b)
            .key(&key)
            .content_encoding(*sent)
            .body(b"not really compressed".to_vec().into())
            .send()
            .await
            .unwrap();
        assert_encoding(&s3, &b, &key, *want).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_and_multipart_keep_the_spelling() {
    let server = Server::start_memory(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "ce-copy").await;
    s3.put_object()
        .bucket(&b)
        .key("src")
        .content_encoding("deflate, gzip")
        .body(b"source".to_vec().into())
        .send()
        .await
        .unwrap();
    // COPY keeps the source's header as stored.
    s3.copy_object()
        .bucket(&b)
        .key("copied")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .unwrap();
    assert_encoding(&s3, &b, "copied", Some("deflate, gzip")).await;
    // REPLACE takes the request's, aws-chunked dropped.
    s3.copy_object()
        .bucket(&b)
        .key("replaced")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_encoding("br, aws-chunked, gzip")
        .send()
        .await
        .unwrap();
    assert_encoding(&s3, &b, "replaced", Some("br, gzip")).await;
    // CreateMultipartUpload: the completed object carries the upload's header.
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .content_encoding("deflate, gzip")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let part = s3
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .part_number(1)
        .body(b"one part".to_vec().into())
        .send()
        .await
        .unwrap();
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part.e_tag().unwrap())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_encoding(&s3, &b, "mp", Some("deflate, gzip")).await;
}
