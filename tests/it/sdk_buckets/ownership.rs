//! `x-amz-expected-bucket-owner` (also on copy sources) and other accounts.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn expected_bucket_owner_is_checked() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "owner-check").await;
    put(&s3, &b, "k", "v").await;

    // Matching owner: everything works.
    s3.head_bucket()
        .bucket(&b)
        .expected_bucket_owner(DEFAULT_ACCOUNT)
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .expected_bucket_owner(DEFAULT_ACCOUNT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().as_ref(),
        b"v"
    );

    // Mismatch: 403 AccessDenied on bucket and object operations.
    let wrong = "999999999999";
    assert_status(
        s3.head_bucket()
            .bucket(&b)
            .expected_bucket_owner(wrong)
            .send()
            .await,
        403,
    );
    assert_err(
        s3.get_bucket_location()
            .bucket(&b)
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        s3.list_objects_v2()
            .bucket(&b)
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        s3.get_object()
            .bucket(&b)
            .key("k")
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_status(
        s3.head_object()
            .bucket(&b)
            .key("k")
            .expected_bucket_owner(wrong)
            .send()
            .await,
        403,
    );
    assert_err(
        s3.put_object()
            .bucket(&b)
            .key("k")
            .body(b"overwritten".to_vec().into())
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        s3.delete_object()
            .bucket(&b)
            .key("k")
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        s3.delete_bucket()
            .bucket(&b)
            .expected_bucket_owner(wrong)
            .send()
            .await,
        "AccessDenied",
        403,
    );
    // Nothing changed.
    assert_eq!(get_bytes(&s3, &b, "k").await, b"v");
}

#[tokio::test(flavor = "multi_thread")]
async fn expected_bucket_owner_on_copy_source_and_alice_account_id() {
    let server = Server::start_with_alice();
    let alice = server.alice();
    let b = new_bucket(&alice, "alice-owned").await;
    put(&alice, &b, "src", "data").await;
    // Alice's own account id matches.
    alice
        .head_bucket()
        .bucket(&b)
        .expected_bucket_owner(ALICE.2)
        .send()
        .await
        .unwrap();
    // The default account id does not.
    assert_status(
        alice
            .head_bucket()
            .bucket(&b)
            .expected_bucket_owner(DEFAULT_ACCOUNT)
            .send()
            .await,
        403,
    );
    assert_err(
        alice
            .copy_object()
            .bucket(&b)
            .key("dst")
            .copy_source(format!("{b}/src"))
            .expected_bucket_owner(DEFAULT_ACCOUNT)
            .send()
            .await,
        "AccessDenied",
        403,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_account_is_access_denied() {
    let server = Server::start_with_alice();
    let s3 = server.client();
    let alice = server.alice();
    let b = new_bucket(&s3, "private").await;
    put(&s3, &b, "secret.txt", "mine").await;

    assert_status(alice.head_bucket().bucket(&b).send().await, 403);
    assert_err(
        alice.list_objects_v2().bucket(&b).send().await,
        "AccessDenied",
        403,
    );
    assert_err(
        alice.get_object().bucket(&b).key("secret.txt").send().await,
        "AccessDenied",
        403,
    );
    assert_status(
        alice
            .head_object()
            .bucket(&b)
            .key("secret.txt")
            .send()
            .await,
        403,
    );
    assert_err(
        alice
            .put_object()
            .bucket(&b)
            .key("secret.txt")
            .body(b"theirs".to_vec().into())
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        alice
            .delete_object()
            .bucket(&b)
            .key("secret.txt")
            .send()
            .await,
        "AccessDenied",
        403,
    );
    assert_err(
        alice.delete_bucket().bucket(&b).send().await,
        "AccessDenied",
        403,
    );
    assert_err(
        alice.get_bucket_acl().bucket(&b).send().await,
        "AccessDenied",
        403,
    );
    // Alice cannot copy out of it into her own bucket either.
    let hers = new_bucket(&alice, "alice-dst").await;
    assert_err(
        alice
            .copy_object()
            .bucket(&hers)
            .key("stolen")
            .copy_source(format!("{b}/secret.txt"))
            .send()
            .await,
        "AccessDenied",
        403,
    );
    // ListBuckets shows each account only its own buckets.
    let mine: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|x| x.name().map(str::to_string))
        .collect();
    assert_eq!(mine, vec![b.clone()]);
    let theirs: Vec<_> = alice
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|x| x.name().map(str::to_string))
        .collect();
    assert_eq!(theirs, vec![hers]);
    // The owner's object is untouched.
    assert_eq!(get_bytes(&s3, &b, "secret.txt").await, b"mine");
}
