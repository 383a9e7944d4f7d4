//! Every error of the part API with its exact code and status.

use super::*;

/// A syntactically plausible upload id that was never issued.
const BOGUS_ID: &str = "0000000000000000000000000000000000000000dead";

#[tokio::test(flavor = "multi_thread")]
async fn part_api_error_codes() {
    let server = Server::start(&[]);
    let c = server.client();
    let b = new_bucket(&c, "mpu-errors").await;
    let one_part = || {
        completed(vec![
            CompletedPart::builder()
                .part_number(1)
                .e_tag("\"00\"")
                .build(),
        ])
    };

    // NoSuchUpload (404) everywhere an upload id is named.
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .part_number(1)
            .body(ByteStream::from_static(b"data"))
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.abort_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(BOGUS_ID)
            .multipart_upload(one_part())
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // An upload id is bound to its key.
    let id = create(&c, &b, "k", None, None).await;
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("other-key")
            .upload_id(&id)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // Part numbers outside 1..=10000.
    for n in [0, 10_001, -1] {
        assert_err(
            c.upload_part()
                .bucket(&b)
                .key("k")
                .upload_id(&id)
                .part_number(n)
                .body(ByteStream::from_static(b"data"))
                .send()
                .await,
            "InvalidArgument",
            400,
        );
    }
    // 10000 itself is fine.
    c.upload_part()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .part_number(10_000)
        .body(ByteStream::from_static(b"last"))
        .send()
        .await
        .expect("part 10000");

    let parts = vec![pattern(5 * MIB, 50), pattern(100, 51)];
    let done = upload_parts(&c, &b, "k", &id, &parts, &PartOpts::default()).await;
    let etag1 = done[0].e_tag().expect("etag").to_string();
    let etag2 = done[1].e_tag().expect("etag").to_string();
    let complete = |list: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .multipart_upload(completed(list))
            .send()
    };
    let part = |n: i32, etag: &str| CompletedPart::builder().part_number(n).e_tag(etag).build();

    // InvalidPart: a part never uploaded, or a wrong ETag.
    assert_err(
        complete(vec![part(1, &etag1), part(3, &etag2)]).await,
        "InvalidPart",
        400,
    );
    assert_err(
        complete(vec![part(1, &etag1), part(2, &etag1)]).await,
        "InvalidPart",
        400,
    );
    // InvalidPartOrder: descending, or repeated.
    assert_err(
        complete(vec![part(2, &etag2), part(1, &etag1)]).await,
        "InvalidPartOrder",
        400,
    );
    assert_err(
        complete(vec![part(1, &etag1), part(1, &etag1)]).await,
        "InvalidPartOrder",
        400,
    );
    // EntityTooSmall: a part other than the last under 5 MiB (part 2 is 100 bytes).
    assert_err(
        complete(vec![part(1, &etag1), part(2, &etag2), part(10_000, "")]).await,
        "InvalidPart",
        400,
    );
    let lp = c
        .list_parts()
        .bucket(&b)
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    let etag_last = lp
        .parts()
        .iter()
        .find(|p| p.part_number() == Some(10_000))
        .and_then(|p| p.e_tag())
        .expect("part 10000 listed")
        .to_string();
    assert_eq!(
        lp.parts()
            .iter()
            .map(|p| p.part_number().unwrap_or(0))
            .collect::<Vec<_>>(),
        vec![1, 2, 10_000]
    );
    assert_err(
        complete(vec![
            part(1, &etag1),
            part(2, &etag2),
            part(10_000, &etag_last),
        ])
        .await,
        "EntityTooSmall",
        400,
    );
    // Nothing was created by the refusals.
    assert_eq!(get_object_status(&c, &b, "k").await, 404);

    // A good list (parts may be skipped) completes; the skipped part is discarded.
    let out = complete(vec![part(1, &etag1), part(2, &etag2)])
        .await
        .expect("complete 1+2");
    assert_eq!(out.e_tag(), Some(multipart_etag(&parts).as_str()));
    assert_same_bytes(&get_bytes(&c, &b, "k").await, &concat(&parts), "k");
    // A retried Complete answers the same; the upload is otherwise gone.
    let again = complete(vec![part(1, &etag1), part(2, &etag2)])
        .await
        .expect("retried complete");
    assert_eq!(again.e_tag(), out.e_tag());
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.upload_part()
            .bucket(&b)
            .key("k")
            .upload_id(&id)
            .part_number(3)
            .body(ByteStream::from_static(b"late"))
            .send()
            .await,
        "NoSuchUpload",
        404,
    );

    // Abort: 204, then NoSuchUpload.
    let id2 = create(&c, &b, "k2", None, None).await;
    upload_parts(&c, &b, "k2", &id2, &parts[..1], &PartOpts::default()).await;
    c.abort_multipart_upload()
        .bucket(&b)
        .key("k2")
        .upload_id(&id2)
        .send()
        .await
        .expect("abort");
    assert_err(
        c.abort_multipart_upload()
            .bucket(&b)
            .key("k2")
            .upload_id(&id2)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_err(
        c.list_parts()
            .bucket(&b)
            .key("k2")
            .upload_id(&id2)
            .send()
            .await,
        "NoSuchUpload",
        404,
    );
    assert_eq!(get_object_status(&c, &b, "k2").await, 404);

    // GetObject partNumber outside 1..=10000.
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("k")
            .part_number(0)
            .send()
            .await,
        "InvalidArgument",
        400,
    );
    assert_err(
        c.get_object()
            .bucket(&b)
            .key("k")
            .part_number(10_001)
            .send()
            .await,
        "InvalidArgument",
        400,
    );
}
