//! Issue 18 item 11: `sealstore rotate-system-keys` replaces the SSE-S3 key, the keyring key and
//! the metadata key and re-seals every record under them; killed (SIGKILL) at random points and
//! run again, it completes, and every object (every mode, inline, blob, multipart, an upload in
//! progress) reads back exactly.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, ServerSideEncryption,
};
use base64::Engine;
use md5::{Digest, Md5};
use redb::{Database, ReadableTable, TableDefinition};

use crate::common::{BIN, Options, Server, get_bytes, new_bucket, pattern, run_to_exit};

const CONFIG: TableDefinition<&str, &[u8]> = TableDefinition::new("config");

fn system_record(dir: &std::path::Path) -> serde_json::Value {
    let db = Database::open(dir.join("meta.redb")).unwrap();
    let txn = db.begin_read().unwrap();
    let t = txn.open_table(CONFIG).unwrap();
    let v = t.get("system-keys").unwrap().unwrap();
    serde_json::from_slice(v.value()).unwrap()
}

#[tokio::test]
async fn system_key_rotation_survives_kills_and_rotates() {
    let mut srv = Server::start_with(
        Options::default()
            .args(&["--kms-key", "testkey-1"])
            .env("SEALSTORE_ALLOW_SSEC_BY_DEFAULT", "true"),
    );
    let c = srv.client();
    let b = new_bucket(&c, "rotate").await;
    let b64 = base64::engine::general_purpose::STANDARD;
    let raw = [7u8; 32];
    let (ck, cmd5) = (b64.encode(raw), b64.encode(Md5::digest(raw)));
    let mut expected = Vec::new();
    for i in 0..150 {
        let body = format!("object {i}").into_bytes();
        crate::common::put(&c, &b, &format!("s3-{i}"), body.clone()).await;
        expected.push((format!("s3-{i}"), body));
    }
    let blob = pattern(200 * 1024, 5);
    crate::common::put(&c, &b, "blob", blob.clone()).await;
    expected.push(("blob".into(), blob));
    for (key, sse, bk) in [
        ("kms", ServerSideEncryption::AwsKms, false),
        ("kms-bk", ServerSideEncryption::AwsKms, true),
        ("dsse", ServerSideEncryption::AwsKmsDsse, false),
    ] {
        c.put_object()
            .bucket(&b)
            .key(key)
            .server_side_encryption(sse)
            .ssekms_key_id("testkey-1")
            .bucket_key_enabled(bk)
            .body(ByteStream::from(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
        expected.push((key.into(), key.as_bytes().to_vec()));
    }
    c.put_object()
        .bucket(&b)
        .key("ssec")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&ck)
        .sse_customer_key_md5(&cmd5)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .tagging("who=customer")
        .body(ByteStream::from(b"customer".to_vec()))
        .send()
        .await
        .unwrap();
    let mut uploads = Vec::new();
    for key in ["mpu", "open"] {
        let id = c
            .create_multipart_upload()
            .bucket(&b)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .tagging(format!("upload={key}"))
            .send()
            .await
            .unwrap()
            .upload_id()
            .unwrap()
            .to_string();
        let up = c
            .upload_part()
            .bucket(&b)
            .key(key)
            .upload_id(&id)
            .part_number(1)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(format!("{key} part").into_bytes()))
            .send()
            .await
            .unwrap();
        uploads.push((key, id, up));
    }
    let part = |up: &aws_sdk_s3::operation::upload_part::UploadPartOutput| {
        CompletedPart::builder()
            .part_number(1)
            .set_e_tag(up.e_tag().map(str::to_string))
            .set_checksum_crc32(up.checksum_crc32().map(str::to_string))
            .build()
    };
    let (_, mpu_id, mpu_part) = &uploads[0];
    let done = c
        .complete_multipart_upload()
        .bucket(&b)
        .key("mpu")
        .upload_id(mpu_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(part(mpu_part))
                .build(),
        )
        .send()
        .await
        .unwrap();
    expected.push(("mpu".into(), b"mpu part".to_vec()));

    let mut outputs = String::new();
    srv.restart_after(|dir| {
        let before = system_record(dir);
        let d = dir.to_str().unwrap();
        let mut interrupted = 0;
        // Kill the rotation at random points, from its start to (most likely) after its end.
        for i in 0..10u64 {
            let mut child = Command::new(BIN)
                .args(["rotate-system-keys", "--data-dir", d])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(rand::random_range(0..20 + 40 * i)));
            let _ = child.kill();
            let _ = child.wait();
            interrupted += usize::from(system_record(dir).get("next").is_some());
        }
        // Most kills land mid-pass (the pass commits one record per transaction).
        assert!(interrupted >= 1, "no kill interrupted a rotation");
        let (status, out, err) = run_to_exit(&["rotate-system-keys", "--data-dir", d]);
        assert!(status.success(), "{out}\n{err}");
        assert!(
            out.contains("re-sealed of") && out.contains("system keys rotated"),
            "{out}"
        );
        outputs = out;
        let after = system_record(dir);
        assert!(after.get("next").is_none(), "{after}");
        assert!(after["generation"].as_u64().unwrap_or(0) >= 1, "{after}");
        for k in ["sse_s3", "keyring", "metadata"] {
            assert_ne!(before[k], after[k], "{k} re-sealed");
        }
    });
    let c = srv.client();
    for (key, body) in &expected {
        assert_eq!(&get_bytes(&c, &b, key).await, body, "{key}\n{outputs}");
    }
    let g = c
        .get_object()
        .bucket(&b)
        .key("ssec")
        .sse_customer_algorithm("AES256")
        .sse_customer_key(&ck)
        .sse_customer_key_md5(&cmd5)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert!(g.checksum_sha256().is_some());
    assert_eq!(g.body.collect().await.unwrap().to_vec(), b"customer");
    let h = c
        .head_object()
        .bucket(&b)
        .key("mpu")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(h.checksum_crc32(), done.checksum_crc32());
    assert_eq!(h.e_tag(), done.e_tag());
    let (_, open_id, open_part) = &uploads[1];
    let lp = c
        .list_parts()
        .bucket(&b)
        .key("open")
        .upload_id(open_id)
        .send()
        .await
        .unwrap();
    assert_eq!(lp.parts()[0].e_tag(), open_part.e_tag());
    assert_eq!(lp.parts()[0].checksum_crc32(), open_part.checksum_crc32());
    c.complete_multipart_upload()
        .bucket(&b)
        .key("open")
        .upload_id(open_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(part(open_part))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, &b, "open").await, b"open part");
    // Tags, sealed in object and upload records, were re-sealed with them.
    for (key, tag) in [
        ("ssec", ("who", "customer")),
        ("mpu", ("upload", "mpu")),
        ("open", ("upload", "open")),
    ] {
        let got = c
            .get_object_tagging()
            .bucket(&b)
            .key(key)
            .send()
            .await
            .unwrap();
        let tags: Vec<(&str, &str)> = got.tag_set().iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(tags, [tag], "{key}");
    }
}

/// An unfinished rotation (the system record still holds the next generation's keys): `serve`
/// and `rotate-master-key` refuse to start and say what to do, and nothing is served meanwhile.
#[tokio::test]
async fn serve_refuses_an_unfinished_rotation() {
    let mut srv = Server::start(&[]);
    let c = srv.client();
    let b = new_bucket(&c, "pending").await;
    crate::common::put(&c, &b, "k", b"v".to_vec()).await;
    let _ = srv.terminate();
    let dir = srv.data_dir().unwrap().to_path_buf();
    {
        let db = Database::open(dir.join("meta.redb")).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(CONFIG).unwrap();
            let mut rec: serde_json::Value =
                serde_json::from_slice(t.get("system-keys").unwrap().unwrap().value()).unwrap();
            rec["next"] = serde_json::json!({
                "sse_s3": rec["sse_s3"].clone(),
                "keyring": rec["keyring"].clone(),
                "metadata": rec["metadata"].clone(),
            });
            t.insert("system-keys", serde_json::to_vec(&rec).unwrap().as_slice())
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let d = dir.to_str().unwrap();
    let (status, out, err) = run_to_exit(&["serve", "--listen", "127.0.0.1:0", "--data-dir", d]);
    assert!(!status.success(), "{out}{err}");
    assert!(
        err.contains("system-key rotation is unfinished") && err.contains("rotate-system-keys"),
        "{err}"
    );
    let new_key = dir.join("new.key");
    std::fs::write(&new_key, b64_key()).unwrap();
    let (status, _, err) = run_to_exit(&[
        "rotate-master-key",
        "--data-dir",
        d,
        "--new-key-file",
        new_key.to_str().unwrap(),
    ]);
    assert!(!status.success() && err.contains("unfinished"), "{err}");
}

fn b64_key() -> String {
    base64::engine::general_purpose::STANDARD.encode([9u8; 32])
}
