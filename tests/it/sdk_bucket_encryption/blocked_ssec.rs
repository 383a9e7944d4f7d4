//! SSE-C blocked on new buckets until unblocked, and the server switches for the legacy behaviour.

use super::*;

#[tokio::test]
async fn ssec_blocked_on_new_buckets_until_unblocked() {
    let srv = server(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-ssec").await;
    put(&c, &b, "plain", b"plain body".to_vec()).await;
    let k = customer_key(7);
    assert_err(
        put_ssec(&c, &b, "c1", b"secret", &k).await,
        "AccessDenied",
        403,
    );
    let res = c
        .copy_object()
        .bucket(&b)
        .key("c2")
        .copy_source(format!("{b}/plain"))
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.0)
        .sse_customer_key_md5(&k.1)
        .send()
        .await;
    assert_err(res, "AccessDenied", 403);
    assert_status(c.head_object().bucket(&b).key("c1").send().await, 404);

    put_blocked(&c, &b, BLOCK_NONE).await;
    let p = put_ssec(&c, &b, "c1", b"secret", &k)
        .await
        .expect("SSE-C put once unblocked");
    assert_eq!(
        (p.sse_customer_algorithm(), p.sse_customer_key_md5()),
        (Some("AES256"), Some(k.1.as_str()))
    );
    // A rule without BlockedEncryptionTypes leaves SSE-C unblocked.
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            Some(KMS_ID),
            None,
        ))
        .send()
        .await
        .expect("put kms rule");
    put_ssec(&c, &b, "c2", b"second", &k)
        .await
        .expect("still unblocked");

    put_blocked(&c, &b, BLOCK_SSEC).await;
    assert_err(
        put_ssec(&c, &b, "c3", b"third", &k).await,
        "AccessDenied",
        403,
    );
    // Existing SSE-C objects stay readable and listed.
    let g = c
        .get_object()
        .bucket(&b)
        .key("c1")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&k.0)
        .sse_customer_key_md5(&k.1)
        .send()
        .await
        .expect("read SSE-C object in a blocking bucket");
    let data = g.body.collect().await.expect("body").into_bytes();
    assert_eq!(&data[..], b"secret");
    let listed: Vec<String> = c
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect();
    assert_eq!(listed, ["c1", "c2", "plain"]);
}

#[tokio::test]
async fn server_switches_legacy_not_found_and_allow_ssec() {
    let srv = server(&["--legacy-encryption-not-found", "--allow-ssec-by-default"]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-legacy").await;
    assert_err(
        c.get_bucket_encryption().bucket(&b).send().await,
        "ServerSideEncryptionConfigurationNotFoundError",
        404,
    );
    // SSE-C is allowed on new buckets with --allow-ssec-by-default.
    put_ssec(&c, &b, "c", b"allowed", &customer_key(3))
        .await
        .expect("SSE-C on a new bucket");
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            Some(KMS_ID),
            None,
        ))
        .send()
        .await
        .expect("put rule");
    assert_eq!(
        get_rule(&c, &b).await,
        ("aws:kms".into(), Some(KMS_ID.into()), Some(false))
    );
    c.delete_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    assert_err(
        c.get_bucket_encryption().bucket(&b).send().await,
        "ServerSideEncryptionConfigurationNotFoundError",
        404,
    );
}
