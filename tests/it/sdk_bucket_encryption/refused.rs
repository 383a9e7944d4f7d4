//! The refused configurations, missing buckets, wrong owners and other accounts.

use super::*;

#[tokio::test]
async fn refused_configurations_leave_the_rule_alone() {
    let srv = server(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "bucket-enc-bad").await;
    c.put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            Some("prev-key"),
            Some(true),
        ))
        .send()
        .await
        .expect("put previous rule");
    let prev = (
        "aws:kms".to_string(),
        Some("prev-key".to_string()),
        Some(true),
    );

    // Through the SDK's own model.
    let apply_aes = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::Aes256)
        .build()
        .expect("apply");
    let two_rules = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(apply_aes.clone())
                .build(),
        )
        .rules(
            ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(apply_aes)
                .build(),
        )
        .build()
        .expect("two rules");
    let no_apply = ServerSideEncryptionConfiguration::builder()
        .rules(
            ServerSideEncryptionRule::builder()
                .bucket_key_enabled(true)
                .build(),
        )
        .build()
        .expect("rule without apply");
    let model_cases = [
        (
            configuration(ServerSideEncryption::from("AES512"), None, None),
            "MalformedXML",
        ),
        (two_rules, "MalformedXML"),
        (no_apply, "MalformedXML"),
        (
            configuration(ServerSideEncryption::Aes256, Some("some-key"), None),
            "InvalidArgument",
        ),
    ];
    for (conf, code) in model_cases {
        let res = c
            .put_bucket_encryption()
            .bucket(&b)
            .server_side_encryption_configuration(conf.clone())
            .send()
            .await;
        assert_err(res, code, 400);
        assert_eq!(get_rule(&c, &b).await, prev, "{conf:?}");
    }

    // Documents the model cannot express, sent by the SDK with its XML extended.
    let rewrites = [
        (
            "</SSEAlgorithm>",
            "</SSEAlgorithm><SSEAlgorithm>aws:kms</SSEAlgorithm>",
        ),
        ("</Rule>", "<Bogus>1</Bogus></Rule>"),
        (
            "</Rule>",
            "<BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType></BlockedEncryptionTypes></Rule>",
        ),
        (
            "</ApplyServerSideEncryptionByDefault>",
            "<Extra/></ApplyServerSideEncryptionByDefault>",
        ),
    ];
    for (from, to) in rewrites {
        let res = c
            .put_bucket_encryption()
            .bucket(&b)
            .server_side_encryption_configuration(configuration(
                ServerSideEncryption::Aes256,
                None,
                None,
            ))
            .customize()
            .mutate_request(rewrite_body(from, to))
            .send()
            .await;
        assert_err(res, "MalformedXML", 400);
        assert_eq!(get_rule(&c, &b).await, prev, "{to}");
    }
}

#[tokio::test]
async fn missing_bucket_wrong_owner_and_other_account() {
    let srv = server(&[]);
    let c = srv.client();
    let alice = srv.alice();
    let b = new_bucket(&c, "bucket-enc-owner").await;
    let conf = configuration(ServerSideEncryption::Aes256, None, None);

    let missing = bucket_name("bucket-enc-missing");
    let res = c
        .put_bucket_encryption()
        .bucket(&missing)
        .server_side_encryption_configuration(conf.clone())
        .send()
        .await;
    assert_err(res, "NoSuchBucket", 404);
    assert_err(
        c.get_bucket_encryption().bucket(&missing).send().await,
        "NoSuchBucket",
        404,
    );
    assert_err(
        c.delete_bucket_encryption().bucket(&missing).send().await,
        "NoSuchBucket",
        404,
    );

    let res = c
        .put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(configuration(
            ServerSideEncryption::AwsKms,
            None,
            None,
        ))
        .expected_bucket_owner(ALICE.2)
        .send()
        .await;
    assert_err(res, "AccessDenied", 403);
    let res = c
        .get_bucket_encryption()
        .bucket(&b)
        .expected_bucket_owner(ALICE.2)
        .send()
        .await;
    assert_err(res, "AccessDenied", 403);
    let res = c
        .delete_bucket_encryption()
        .bucket(&b)
        .expected_bucket_owner(ALICE.2)
        .send()
        .await;
    assert_err(res, "AccessDenied", 403);

    let res = alice
        .put_bucket_encryption()
        .bucket(&b)
        .server_side_encryption_configuration(conf)
        .send()
        .await;
    assert_err(res, "AccessDenied", 403);
    assert_err(
        alice.get_bucket_encryption().bucket(&b).send().await,
        "AccessDenied",
        403,
    );
    assert_err(
        alice.delete_bucket_encryption().bucket(&b).send().await,
        "AccessDenied",
        403,
    );
    assert_eq!(get_rule(&c, &b).await, default_rule());
}
