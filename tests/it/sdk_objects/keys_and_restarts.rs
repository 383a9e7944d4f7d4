//! Awkward keys, concurrent writers, restart durability and `--memory`.

use super::*;

const AWKWARD_KEYS: &[&str] = &[
    "with space",
    "plus+sign",
    "percent%20literal",
    "percent%",
    "ünïcødé/日本語/😀",
    "../escape-attempt",
    "../../etc/passwd",
    "a/../b",
    "./dot",
    "double//slash",
    "trailing/",
    "q?mark=1&x=y",
    "hash#tag",
    "semi;colon,comma",
    "tilde~star*paren()",
    "back\\slash",
    "quote\"apos'",
    "tab\there",
    "<xml>&amp;",
];

#[tokio::test(flavor = "multi_thread")]
async fn awkward_keys_round_trip_without_escaping() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "keys").await;
    let long_key = format!("{}/{}", "k".repeat(500), "é".repeat(261)); // 1023 bytes
    let mut keys: Vec<String> = AWKWARD_KEYS.iter().map(|s| s.to_string()).collect();
    keys.push(long_key.clone());
    keys.push(format!("{long_key}x")); // exactly 1024 bytes
    assert_eq!(keys.last().unwrap().len(), 1024);

    for k in &keys {
        put(&s3, &b, k, k.as_bytes().to_vec()).await;
    }
    for k in &keys {
        assert_eq!(get_bytes(&s3, &b, k).await, k.as_bytes(), "key {k:?}");
    }
    let mut want = keys.clone();
    want.sort();
    let mut got = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&b)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        got.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(got, want, "listing returns the exact keys, sorted by bytes");

    // Nothing escaped the data dir.
    let parent = server.data_dir().unwrap().parent().unwrap();
    assert!(!parent.join("escape-attempt").exists());

    // Over 1024 bytes: KeyTooLongError.
    assert_err(
        s3.put_object()
            .bucket(&b)
            .key("x".repeat(1025))
            .body(b"x".to_vec().into())
            .send()
            .await,
        "KeyTooLongError",
        400,
    );

    // Every key can be deleted by name.
    for k in &keys {
        s3.delete_object().bucket(&b).key(k).send().await.unwrap();
    }
    let left = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(left.key_count(), Some(0), "{:?}", left.contents());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_puts_last_writer_wins_never_mixed() {
    let server = Server::start(&[]);
    let s3 = server.client();
    let b = new_bucket(&s3, "race").await;
    const WRITERS: u8 = 8;
    const LEN: usize = 512 * 1024;
    let bodies: Vec<Vec<u8>> = (0..WRITERS).map(|i| pattern(LEN, i + 1)).collect();
    put(&s3, &b, "hot", bodies[0].clone()).await;

    let mut tasks = Vec::new();
    for body in &bodies {
        let body = body.clone();
        let s3 = s3.clone();
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..3 {
                put(&s3, &b, "hot", body.clone()).await;
            }
        }));
    }
    // Readers during the writes: every read is one complete body.
    let mut readers = Vec::new();
    for _ in 0..2 {
        let s3 = s3.clone();
        let b = b.clone();
        let bodies = bodies.clone();
        readers.push(tokio::spawn(async move {
            for _ in 0..10 {
                let got = get_bytes(&s3, &b, "hot").await;
                assert!(
                    bodies.contains(&got),
                    "read a body of {} bytes that matches no writer",
                    got.len()
                );
            }
        }));
    }
    for t in tasks.into_iter().chain(readers) {
        t.await.unwrap();
    }
    let fin = s3.get_object().bucket(&b).key("hot").send().await.unwrap();
    let etag = fin.e_tag().unwrap().to_string();
    let got = fin.body.collect().await.unwrap().into_bytes().to_vec();
    let idx = bodies
        .iter()
        .position(|x| *x == got)
        .expect("final body equals one writer's body completely");
    assert_eq!(etag, etag_of(&bodies[idx]), "ETag matches the body");
    let list = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    assert_eq!(list.key_count(), Some(1));
    assert_eq!(list.contents()[0].size(), Some(LEN as i64));
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_keeps_buckets_and_objects() {
    let mut server = Server::start(&["--user", ALICE_USER_ARG]);
    let s3 = server.client();
    let b = new_bucket(&s3, "durable").await;
    let big = pattern(1024 * 1024 + 5, 42);
    s3.put_object()
        .bucket(&b)
        .key("big")
        .body(big.clone().into())
        .content_type("application/x-big")
        .metadata("kept", "yes")
        .send()
        .await
        .unwrap();
    put(&s3, &b, "ünï/small", "small").await;
    put(&s3, &b, "deleted", "gone").await;
    s3.delete_object()
        .bucket(&b)
        .key("deleted")
        .send()
        .await
        .unwrap();
    let alice_bucket = new_bucket(&server.alice(), "alice-durable").await;

    server.restart();
    let s3 = server.client();

    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|x| x.name().map(str::to_string))
        .collect();
    assert_eq!(names, vec![b.clone()]);
    let head = s3.head_object().bucket(&b).key("big").send().await.unwrap();
    assert_eq!(head.content_type(), Some("application/x-big"));
    assert_eq!(head.metadata(), Some(&meta(&[("kept", "yes")])));
    assert_eq!(head.e_tag(), Some(etag_of(&big).as_str()));
    assert!(get_bytes(&s3, &b, "big").await == big);
    assert_eq!(get_bytes(&s3, &b, "ünï/small").await, b"small");
    assert_status(s3.head_object().bucket(&b).key("deleted").send().await, 404);
    // Ownership survives too.
    assert_status(server.alice().head_bucket().bucket(&b).send().await, 403);
    server
        .alice()
        .head_bucket()
        .bucket(&alice_bucket)
        .send()
        .await
        .unwrap();

    // And a second restart after more writes.
    put(&s3, &b, "after-restart", "x").await;
    server.restart();
    let s3 = server.client();
    let list = s3.list_objects_v2().bucket(&b).send().await.unwrap();
    let keys: Vec<_> = list.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, vec!["after-restart", "big", "ünï/small"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_mode_works_and_forgets_on_restart() {
    let mut server = Server::start_memory(&[]);
    assert!(server.data_dir().is_none());
    let s3 = server.client();
    let b = new_bucket(&s3, "mem").await;
    let body = pattern(300_000, 1);
    let etag = put(&s3, &b, "m", body.clone()).await;
    assert_eq!(etag, etag_of(&body));
    assert!(get_bytes(&s3, &b, "m").await == body);
    let (_, cr, _, part) = ranged(&s3, &b, "m", "bytes=5-9").await;
    assert_eq!(cr.as_deref(), Some("bytes 5-9/300000"));
    assert_eq!(part, body[5..=9].to_vec());
    s3.copy_object()
        .bucket(&b)
        .key("m2")
        .copy_source(format!("{b}/m"))
        .send()
        .await
        .unwrap();
    assert!(get_bytes(&s3, &b, "m2").await == body);
    assert_err(
        s3.delete_bucket().bucket(&b).send().await,
        "BucketNotEmpty",
        409,
    );

    server.restart();
    let s3 = server.client();
    let listed = s3.list_buckets().send().await.unwrap();
    assert!(listed.buckets().is_empty(), "--memory keeps nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_mode_writes_nothing_to_cwd() {
    // --memory must not create the default ./sealstore-data (or anything) in the working dir.
    let cwd = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(Options::default().memory().cwd(cwd.path()));
    let s3 = server.client();
    let b = new_bucket(&s3, "mem-cwd").await;
    put(&s3, &b, "k", "v").await;
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status}");
    let entries: Vec<_> = std::fs::read_dir(cwd.path()).unwrap().collect();
    assert!(entries.is_empty(), "--memory wrote {entries:?}");
}
