//! Issue 18 items 9 and 10: object, upload and part records are authenticated. Records are edited in
//! `meta.redb` with the redb crate while the server is stopped (a size, swapped sealed keys and
//! body refs, a changed encryption kind, a record without encryption, multipart parts reordered,
//! dropped or duplicated, an upload's and a part's record): every edited object answers 500
//! InternalError to GET, HEAD, CopyObject and UploadPartCopy and is never served; the untouched
//! object still reads back.

use std::path::Path;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use redb::{Database, ReadableTable, TableDefinition};
use serde_json::Value;

use crate::common::{Server, assert_err, get_bytes, new_bucket, pattern, put};

const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
const UPLOADS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("uploads");
const PARTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("parts");
const MIB: usize = 1024 * 1024;

fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    [bucket.as_bytes(), &[0], key.as_bytes()].concat()
}

/// Edits the JSON records of `table` whose keys start with `prefix`: `f` gets them all at once.
fn edit(
    dir: &Path,
    table: TableDefinition<&[u8], &[u8]>,
    keys: &[Vec<u8>],
    f: impl FnOnce(&mut Vec<Value>),
) {
    let db = Database::open(dir.join("meta.redb")).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let mut t = txn.open_table(table).unwrap();
        let mut values: Vec<Value> = keys
            .iter()
            .map(|k| {
                let v = t.get(k.as_slice()).unwrap().expect("record present");
                serde_json::from_slice(v.value()).unwrap()
            })
            .collect();
        f(&mut values);
        for (k, v) in keys.iter().zip(values) {
            t.insert(k.as_slice(), serde_json::to_vec(&v).unwrap().as_slice())
                .unwrap();
        }
    }
    txn.commit().unwrap();
}

/// The keys of every record in `table` whose key starts with `prefix`.
fn keys_with_prefix(
    dir: &Path,
    table: TableDefinition<&[u8], &[u8]>,
    prefix: &[u8],
) -> Vec<Vec<u8>> {
    let db = Database::open(dir.join("meta.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(table).unwrap();
    t.iter()
        .unwrap()
        .map(|e| e.unwrap().0.value().to_vec())
        .filter(|k| k.starts_with(prefix))
        .collect()
}

async fn multipart(c: &Client, b: &str, key: &str, sizes: &[usize]) -> String {
    let id = c
        .create_multipart_upload()
        .bucket(b)
        .key(key)
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_string();
    let mut parts = Vec::new();
    for (i, size) in sizes.iter().enumerate() {
        let n = i as i32 + 1;
        let up = c
            .upload_part()
            .bucket(b)
            .key(key)
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(pattern(*size, n as u8)))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(up.e_tag().map(str::to_string))
                .build(),
        );
    }
    c.complete_multipart_upload()
        .bucket(b)
        .key(key)
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap();
    id
}

/// GET, HEAD, CopyObject and UploadPartCopy of `key` all answer 500 InternalError.
async fn refused(c: &Client, b: &str, key: &str, upload: &str) {
    let get = c.get_object().bucket(b).key(key).send().await;
    assert_err(get, "InternalError", 500);
    let head = c.head_object().bucket(b).key(key).send().await;
    assert_eq!(
        head.unwrap_err()
            .raw_response()
            .map(|r| r.status().as_u16()),
        Some(500),
        "HEAD {key}"
    );
    let copy = c
        .copy_object()
        .bucket(b)
        .key(format!("{key}-copy"))
        .copy_source(format!("{b}/{key}"))
        .send()
        .await;
    assert_err(copy, "InternalError", 500);
    let part_copy = c
        .upload_part_copy()
        .bucket(b)
        .key("target")
        .upload_id(upload)
        .part_number(1)
        .copy_source(format!("{b}/{key}"))
        .send()
        .await;
    assert_err(part_copy, "InternalError", 500);
    let copied = c
        .head_object()
        .bucket(b)
        .key(format!("{key}-copy"))
        .send()
        .await;
    assert!(copied.is_err(), "{key}: nothing copied");
}

fn parts_of(v: &mut Value) -> &mut Vec<Value> {
    v["body"]["Parts"]["parts"]
        .as_array_mut()
        .expect("a multipart body")
}

#[tokio::test]
async fn edited_records_are_refused_never_served() {
    let mut srv = Server::start(&["--kms-key", "testkey-1"]);
    let c = srv.client();
    let b = new_bucket(&c, "tamper").await;
    for k in [
        "size",
        "swap-key-1",
        "swap-key-2",
        "swap-body-1",
        "swap-body-2",
        "kind",
        "plain",
        "mtime",
        "keep",
    ] {
        put(&c, &b, k, pattern(3000, k.len() as u8)).await;
    }
    c.put_object()
        .bucket(&b)
        .key("kms")
        .server_side_encryption(ServerSideEncryption::AwsKms)
        .ssekms_key_id("testkey-1")
        .body(ByteStream::from(b"kms object".to_vec()))
        .send()
        .await
        .unwrap();
    for k in ["reorder", "drop", "duplicate"] {
        multipart(&c, &b, k, &[5 * MIB, 5 * MIB, 100]).await;
    }
    let mut open_ids = Vec::new();
    for k in ["in-progress", "in-progress-2"] {
        let open = c
            .create_multipart_upload()
            .bucket(&b)
            .key(k)
            .send()
            .await
            .unwrap();
        let id = open.upload_id().unwrap().to_string();
        c.upload_part()
            .bucket(&b)
            .key(k)
            .upload_id(&id)
            .part_number(1)
            .body(ByteStream::from(b"part".to_vec()))
            .send()
            .await
            .unwrap();
        open_ids.push(id);
    }
    let (open_id, open_id_2) = (open_ids[0].clone(), open_ids[1].clone());
    let target = c
        .create_multipart_upload()
        .bucket(&b)
        .key("target")
        .send()
        .await
        .unwrap();
    let target_id = target.upload_id().unwrap().to_string();

    let ok = |k: &str| object_key(&b, k);
    srv.restart_after(|dir| {
        edit(dir, OBJECTS, &[ok("size")], |v| {
            v[0]["size"] = Value::from(2999)
        });
        edit(dir, OBJECTS, &[ok("swap-key-1"), ok("swap-key-2")], |v| {
            let e = v[0]["encryption"].clone();
            v[0]["encryption"] = v[1]["encryption"].clone();
            v[1]["encryption"] = e;
        });
        edit(dir, OBJECTS, &[ok("swap-body-1"), ok("swap-body-2")], |v| {
            let e = v[0]["body"].clone();
            v[0]["body"] = v[1]["body"].clone();
            v[1]["body"] = e;
        });
        edit(dir, OBJECTS, &[ok("kind"), ok("kms")], |v| {
            let key = v[1]["encryption"]["SseKms"]["key"].clone();
            v[1]["encryption"] = serde_json::json!({ "SseS3": { "key": key } });
            v[0]["encryption"] = serde_json::json!({ "SseC": {
                "key": v[0]["encryption"]["SseS3"]["key"].clone(),
                "verifier": { "salt": vec![0u8; 16], "mac": vec![0u8; 32] } } });
        });
        edit(dir, OBJECTS, &[ok("plain")], |v| {
            v[0].as_object_mut().unwrap().remove("encryption");
        });
        edit(dir, OBJECTS, &[ok("mtime")], |v| {
            v[0]["last_modified_millis"] = Value::from(0);
        });
        edit(dir, OBJECTS, &[ok("reorder")], |v| {
            parts_of(&mut v[0]).swap(0, 1)
        });
        edit(dir, OBJECTS, &[ok("drop")], |v| {
            parts_of(&mut v[0]).remove(1);
            v[0]["size"] = Value::from(5 * MIB + 100);
        });
        edit(dir, OBJECTS, &[ok("duplicate")], |v| {
            let parts = parts_of(&mut v[0]);
            let mut second = parts[0].clone();
            second["number"] = Value::from(2);
            parts[1] = second;
        });
        // The in-progress upload: its record and its part's.
        let upload = keys_with_prefix(dir, UPLOADS, &object_key(&b, "in-progress"));
        edit(dir, UPLOADS, &upload, |v| {
            v[0]["owner"] = Value::from("111111111111")
        });
        let part = keys_with_prefix(dir, PARTS, open_id_2.as_bytes());
        edit(dir, PARTS, &part, |v| v[0]["size"] = Value::from(3));
    });
    let c = srv.client();
    assert_eq!(get_bytes(&c, &b, "keep").await, pattern(3000, 4));
    for k in [
        "size",
        "swap-key-1",
        "swap-key-2",
        "swap-body-1",
        "swap-body-2",
        "kind",
        "kms",
        "plain",
        "mtime",
        "reorder",
        "drop",
        "duplicate",
    ] {
        refused(&c, &b, k, &target_id).await;
    }
    let up = c
        .upload_part()
        .bucket(&b)
        .key("in-progress")
        .upload_id(&open_id)
        .part_number(2)
        .body(ByteStream::from(b"more".to_vec()))
        .send()
        .await;
    assert_err(up, "InternalError", 500);
    let lp = c
        .list_parts()
        .bucket(&b)
        .key("in-progress-2")
        .upload_id(&open_id_2)
        .send()
        .await;
    assert_err(lp, "InternalError", 500);
    let uploads = c.list_multipart_uploads().bucket(&b).send().await;
    assert_err(uploads, "InternalError", 500);
    // A listing never shows a record that fails: it fails whole (and the log names the object).
    let listed = c.list_objects_v2().bucket(&b).send().await;
    assert_err(listed, "InternalError", 500);
    assert!(
        srv.stderr()
            .contains("metadata record failed authentication"),
        "logged"
    );
    assert!(!srv.stderr().contains("PW="), "no value in the log");
}
