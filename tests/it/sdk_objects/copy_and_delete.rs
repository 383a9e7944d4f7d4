//! CopyObject (copy and replace, onto itself, encoded source keys, errors and source conditionals)
//! and DeleteObjects.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn copy_object_copy_and_replace() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copy").await;
    let b2 = new_bucket(&s3, "copy-dst").await;
    let body = pattern(200_000, 9);
    s3.put_object()
        .bucket(&b)
        .key("src")
        .body(body.clone().into())
        .content_type("image/png")
        .metadata("origin", "camera")
        .send()
        .await
        .unwrap();

    // COPY (the default directive) keeps metadata and content headers, across buckets too.
    let out = s3
        .copy_object()
        .bucket(&b2)
        .key("dst-copy")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .unwrap();
    let result = out.copy_object_result().expect("CopyObjectResult");
    assert_eq!(result.e_tag(), Some(etag_of(&body).as_str()));
    assert!(result.last_modified().is_some());
    let head = s3
        .head_object()
        .bucket(&b2)
        .key("dst-copy")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/png"));
    assert_eq!(head.metadata(), Some(&meta(&[("origin", "camera")])));
    assert!(get_bytes(&s3, &b2, "dst-copy").await == body);

    // Metadata supplied with COPY is ignored.
    s3.copy_object()
        .bucket(&b)
        .key("dst-copy2")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Copy)
        .metadata("ignored", "yes")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("dst-copy2")
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata(), Some(&meta(&[("origin", "camera")])));

    // REPLACE takes the request's metadata and content headers.
    s3.copy_object()
        .bucket(&b)
        .key("dst-replace")
        .copy_source(format!("{b}/src"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/x-new")
        .metadata("fresh", "1")
        .send()
        .await
        .unwrap();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("dst-replace")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/x-new"));
    assert_eq!(head.metadata(), Some(&meta(&[("fresh", "1")])));
    assert_eq!(head.e_tag(), Some(etag_of(&body).as_str()));
    // The source is unchanged.
    let src = s3.head_object().bucket(&b).key("src").send().await.unwrap();
    assert_eq!(src.metadata(), Some(&meta(&[("origin", "camera")])));
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_onto_itself_needs_replace() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "selfcopy").await;
    s3.put_object()
        .bucket(&b)
        .key("me")
        .body(b"self".to_vec().into())
        .metadata("v", "1")
        .send()
        .await
        .unwrap();
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("me")
            .copy_source(format!("{b}/me"))
            .send()
            .await,
        "InvalidRequest",
        400,
    );
    s3.copy_object()
        .bucket(&b)
        .key("me")
        .copy_source(format!("{b}/me"))
        .metadata_directive(MetadataDirective::Replace)
        .metadata("v", "2")
        .send()
        .await
        .unwrap();
    let head = s3.head_object().bucket(&b).key("me").send().await.unwrap();
    assert_eq!(head.metadata(), Some(&meta(&[("v", "2")])));
    assert_eq!(get_bytes(&s3, &b, "me").await, b"self");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_source_url_encoded_key() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copyenc").await;
    let key = "dir one/ünï cødé+plus%25 & ?q=1#frag.txt";
    put(&s3, &b, key, "weird").await;
    // Clients URL-encode the key in x-amz-copy-source, with or without a leading slash.
    s3.copy_object()
        .bucket(&b)
        .key("plain-dst")
        .copy_source(format!("{b}/{}", url_encode_path(key)))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "plain-dst").await, b"weird");
    s3.copy_object()
        .bucket(&b)
        .key(format!("{key} copy"))
        .copy_source(format!("/{b}/{}", url_encode_path(key)))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, &format!("{key} copy")).await, b"weird");
}

#[tokio::test(flavor = "multi_thread")]
async fn copy_errors_and_source_conditionals() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "copyerr").await;
    let etag = put(&s3, &b, "src", "conditional source").await;
    let lm = *s3
        .head_object()
        .bucket(&b)
        .key("src")
        .send()
        .await
        .unwrap()
        .last_modified()
        .unwrap();
    let earlier = shifted(&lm, -86_400);
    let copy = || {
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/src"))
    };

    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/missing"))
            .send()
            .await,
        "NoSuchKey",
        404,
    );
    assert_err(
        s3.copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source("no-such-source-bucket/src")
            .send()
            .await,
        "NoSuchBucket",
        404,
    );
    assert_err(
        copy().copy_source_if_match("\"0000\"").send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_none_match(&etag).send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_unmodified_since(earlier).send().await,
        "PreconditionFailed",
        412,
    );
    assert_err(
        copy().copy_source_if_modified_since(lm).send().await,
        "PreconditionFailed",
        412,
    );
    assert_status(s3.head_object().bucket(&b).key("dst").send().await, 404);

    copy().copy_source_if_match(&etag).send().await.unwrap();
    copy()
        .copy_source_if_none_match("\"0000\"")
        .send()
        .await
        .unwrap();
    copy()
        .copy_source_if_modified_since(earlier)
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&s3, &b, "dst").await, b"conditional source");
}

fn ids(keys: &[&str]) -> Delete {
    Delete::builder()
        .set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
                .collect(),
        ))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_verbose_and_quiet() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "batch").await;
    for k in ["a", "b", "c", "d", "e/f g"] {
        put(&s3, &b, k, k).await;
    }

    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["a", "b", "never-existed"]))
        .send()
        .await
        .unwrap();
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["a", "b", "never-existed"]);
    assert!(out.errors().is_empty(), "{:?}", out.errors());

    let quiet = Delete::builder()
        .objects(ObjectIdentifier::builder().key("c").build().unwrap())
        .objects(ObjectIdentifier::builder().key("e/f g").build().unwrap())
        .quiet(true)
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(quiet)
        .send()
        .await
        .unwrap();
    assert!(out.deleted().is_empty(), "Quiet mode lists no deletions");
    assert!(out.errors().is_empty());

    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    let keys: Vec<_> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["d"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_objects_accepts_null_version_and_bypass_governance() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "batch-null").await;
    put(&s3, &b, "x", "1").await;
    put(&s3, &b, "y", "2").await;
    let del = Delete::builder()
        .objects(
            ObjectIdentifier::builder()
                .key("x")
                .version_id("null")
                .build()
                .unwrap(),
        )
        .objects(
            ObjectIdentifier::builder()
                .key("y")
                .version_id("null")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(del)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap();
    assert!(out.errors().is_empty(), "{:?}", out.errors());
    let mut deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, vec!["x", "y"]);
    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(left.key_count(), Some(0));
    s3.delete_bucket().bucket(&b).send().await.unwrap();
}
