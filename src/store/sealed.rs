//! Records as stored: the values computed from an object's plaintext (the ETag, which is the MD5
//! for SSE-S3; the checksums of the object and of its parts) and its tags leave the record and are
//! sealed, and a
//! MAC covers the whole record and binds it to its place (bucket, key, version, body or upload id,
//! part number). A record that fails is refused with a log line, never served.
//!
//! The rest of the server sees records open (`ObjectMeta` with its ETag and checksum); only the
//! store's front (`Store`) closes them on write and opens them on read. An SSE-C record opens
//! without its checksums (they are sealed under the customer's key) until `unlock_object`.

use serde::{Deserialize, Serialize};

use super::error::StoreError;
use super::model::{BodyRef, ObjectMeta, PartMeta, RecordSeal, UploadMeta};
use crate::crypto::Encryption;
use crate::crypto::records::{self, RecordKeys, SealedValue};
use crate::crypto::ssec::CustomerKey;
use crate::integrity::checksum::Checksum;

/// What an object record seals.
#[derive(Serialize, Deserialize, Default)]
struct ObjectSecrets {
    etag: String,
    checksum: Option<Checksum>,
    /// The checksum of each part, in the order of `BodyRef::Parts`.
    parts: Vec<Option<Checksum>>,
    /// The object's tags: always here, under the metadata key (GetObjectTagging takes no SSE-C
    /// key). Absent in records written before tags existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    tags: Vec<(String, String)>,
}

/// What an upload record seals: the tags its object will get.
#[derive(Serialize, Deserialize, Default)]
struct UploadSecrets {
    tags: Vec<(String, String)>,
}

/// What a part record seals.
#[derive(Serialize, Deserialize, Default)]
struct PartSecrets {
    etag: String,
    checksum: Option<Checksum>,
}

pub(super) fn tampered(what: &str, bucket: &str, key: &str) -> StoreError {
    // The bucket and key only: no value of the record, no key material.
    tracing::error!(
        bucket,
        key,
        record = what,
        "metadata record failed authentication (edited or corrupted on disk); refusing to serve it"
    );
    StoreError::Tampered(format!("{what} record of {bucket}/{key}"))
}

pub(super) fn sealing(e: crate::crypto::CryptoError) -> StoreError {
    StoreError::Db(e.to_string())
}

pub(super) fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StoreError> {
    Ok(serde_json::to_vec(v)?)
}

/// The record's canonical bytes for its MAC: the record as stored, with a zero MAC.
pub(super) fn mac_input<T: Serialize + Clone>(
    record: &T,
    with_zero_mac: impl FnOnce(&mut T),
) -> Result<Vec<u8>, StoreError> {
    let mut r = record.clone();
    with_zero_mac(&mut r);
    encode(&r)
}

/// What an object record's MAC and seals are bound to: its bucket, key, version (`null` for the
/// null version) and body.
pub(super) fn object_binding<'a>(
    bucket: &'a str,
    key: &'a str,
    version: &'a str,
    body_id: &'a str,
) -> [&'a [u8]; 5] {
    [
        b"object",
        bucket.as_bytes(),
        key.as_bytes(),
        version.as_bytes(),
        body_id.as_bytes(),
    ]
}

fn is_ssec(enc: &Encryption) -> bool {
    matches!(enc, Encryption::SseC { .. })
}

/// Closes an object record for storage. `customer` is the SSE-C key of an SSE-C object (its
/// checksums are sealed under it); without it an SSE-C object is stored without checksums.
pub fn close_object(
    keys: &RecordKeys,
    bucket: &str,
    key: &str,
    mut meta: ObjectMeta,
    customer: Option<&CustomerKey>,
) -> Result<ObjectMeta, StoreError> {
    let mut part_sums = Vec::new();
    if let BodyRef::Parts { parts, .. } = &mut meta.body {
        for p in parts.iter_mut() {
            part_sums.push(p.checksum.take());
        }
    }
    let mut secrets = ObjectSecrets {
        etag: std::mem::take(&mut meta.etag),
        checksum: meta.checksum.take(),
        parts: part_sums,
        tags: std::mem::take(&mut meta.tags),
    };
    let body_id = meta.body.id().to_string();
    let version = meta.version_label().to_string();
    let binding = object_binding(bucket, key, &version, &body_id);
    let customer_sealed = match (is_ssec(&meta.encryption), customer) {
        (true, Some(c)) => {
            let theirs = ObjectSecrets {
                etag: String::new(),
                checksum: secrets.checksum.take(),
                parts: std::mem::take(&mut secrets.parts),
                tags: Vec::new(),
            };
            Some(
                records::seal_with(&records::customer_key(c), &binding, &encode(&theirs)?)
                    .map_err(sealing)?,
            )
        }
        (true, None) => {
            secrets.checksum = None;
            secrets.parts.clear();
            None
        }
        _ => None,
    };
    let sealed = keys.seal(&binding, &encode(&secrets)?).map_err(sealing)?;
    meta.seal = Some(RecordSeal {
        secrets: Some(sealed),
        customer: customer_sealed,
        mac: [0; 32],
    });
    let mac = keys.mac(&binding, &encode(&meta)?);
    if let Some(s) = meta.seal.as_mut() {
        s.mac = mac;
    }
    Ok(meta)
}

/// Closes again a record read back and opened (PutObjectTagging: new tags, the same body). What
/// the metadata key opened is sealed afresh; an SSE-C record's customer-sealed checksums, which
/// only the customer's key opens, are kept as they were (bound to the same place and body).
pub fn reclose_object(
    keys: &RecordKeys,
    bucket: &str,
    key: &str,
    mut meta: ObjectMeta,
) -> Result<ObjectMeta, StoreError> {
    let customer = meta.seal.take().and_then(|s| s.customer);
    let mut closed = close_object(keys, bucket, key, meta, None)?;
    if customer.is_none() {
        return Ok(closed);
    }
    if let Some(s) = closed.seal.as_mut() {
        s.customer = customer;
        s.mac = [0; 32];
    }
    let body_id = closed.body.id().to_string();
    let version = closed.version_label().to_string();
    let mac = keys.mac(
        &object_binding(bucket, key, &version, &body_id),
        &encode(&closed)?,
    );
    if let Some(s) = closed.seal.as_mut() {
        s.mac = mac;
    }
    Ok(closed)
}

/// Checks a stored object record and opens what the metadata key opens (an SSE-C record's
/// checksums stay sealed: see [`unlock_object`]).
pub fn open_object(
    keys: &RecordKeys,
    bucket: &str,
    key: &str,
    mut meta: ObjectMeta,
) -> Result<ObjectMeta, StoreError> {
    let bad = || tampered("object", bucket, key);
    let seal = meta.seal.clone().ok_or_else(bad)?;
    let input = mac_input(&meta, |r| {
        if let Some(s) = r.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    let body_id = meta.body.id().to_string();
    let version = meta.version_label().to_string();
    let binding = object_binding(bucket, key, &version, &body_id);
    if !keys.verify(&binding, &input, &seal.mac) || !consistent(&meta) {
        return Err(bad());
    }
    let sealed = seal.secrets.as_ref().ok_or_else(bad)?;
    let plain = keys.open(&binding, sealed).map_err(|_| bad())?;
    let secrets: ObjectSecrets = serde_json::from_slice(&plain).map_err(|_| bad())?;
    apply_object_secrets(&mut meta, secrets);
    Ok(meta)
}

/// Opens an SSE-C record's checksums with the customer's key (already checked against the
/// record's verifier by the caller). Nothing to do for other records.
pub fn unlock_object(
    bucket: &str,
    key: &str,
    meta: &mut ObjectMeta,
    customer: &CustomerKey,
) -> Result<(), StoreError> {
    let Some(sealed) = meta.seal.as_ref().and_then(|s| s.customer.clone()) else {
        return Ok(());
    };
    let body_id = meta.body.id().to_string();
    let version = meta.version_label().to_string();
    let binding = object_binding(bucket, key, &version, &body_id);
    let plain = records::open_with(&records::customer_key(customer), &binding, &sealed)
        .map_err(|_| tampered("object", bucket, key))?;
    let secrets: ObjectSecrets =
        serde_json::from_slice(&plain).map_err(|_| tampered("object", bucket, key))?;
    let etag = std::mem::take(&mut meta.etag);
    apply_object_secrets(meta, secrets);
    meta.etag = etag;
    Ok(())
}

fn apply_object_secrets(meta: &mut ObjectMeta, secrets: ObjectSecrets) {
    if !secrets.etag.is_empty() {
        meta.etag = secrets.etag;
    }
    if secrets.checksum.is_some() {
        meta.checksum = secrets.checksum;
    }
    if !secrets.tags.is_empty() {
        meta.tags = secrets.tags;
    }
    if let BodyRef::Parts { parts, .. } = &mut meta.body {
        for (p, c) in parts.iter_mut().zip(secrets.parts) {
            p.checksum = c;
        }
    }
}

/// What the MAC already guarantees, checked again where a slip would serve the wrong bytes: the
/// parts are in ascending order without repeats and add up to the size; an empty body is empty.
fn consistent(meta: &ObjectMeta) -> bool {
    match &meta.body {
        BodyRef::Empty => meta.size == 0,
        BodyRef::Parts { parts, .. } => {
            parts.windows(2).all(|w| w[0].number < w[1].number)
                && parts.iter().map(|p| p.size).sum::<u64>() == meta.size
        }
        _ => true,
    }
}

fn upload_binding<'a>(bucket: &'a str, upload: &'a UploadMeta) -> [&'a [u8]; 4] {
    [
        b"upload",
        bucket.as_bytes(),
        upload.key.as_bytes(),
        upload.upload_id.as_bytes(),
    ]
}

/// Closes an upload record: its tags sealed (it holds nothing computed from plaintext), and a MAC.
pub fn close_upload(
    keys: &RecordKeys,
    bucket: &str,
    mut upload: UploadMeta,
) -> Result<UploadMeta, StoreError> {
    let tags = std::mem::take(&mut upload.tags);
    let secrets = match tags.is_empty() {
        true => None,
        false => {
            let plain = encode(&UploadSecrets { tags })?;
            let binding = upload_binding(bucket, &upload);
            Some(keys.seal(&binding, &plain).map_err(sealing)?)
        }
    };
    upload.seal = Some(RecordSeal {
        secrets,
        customer: None,
        mac: [0; 32],
    });
    let mac = keys.mac(&upload_binding(bucket, &upload), &encode(&upload)?);
    if let Some(s) = upload.seal.as_mut() {
        s.mac = mac;
    }
    Ok(upload)
}

/// Checks an upload record read at `bucket`/`key`/`upload_id`.
pub fn open_upload(
    keys: &RecordKeys,
    bucket: &str,
    key: &str,
    upload_id: &str,
    mut upload: UploadMeta,
) -> Result<UploadMeta, StoreError> {
    let mac = upload.seal.as_ref().map(|s| s.mac);
    let input = mac_input(&upload, |r| {
        if let Some(s) = r.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    let placed = upload.key == key && upload.upload_id == upload_id;
    let bad = || tampered("upload", bucket, key);
    match mac {
        Some(m) if placed && keys.verify(&upload_binding(bucket, &upload), &input, &m) => {}
        _ => return Err(bad()),
    }
    let sealed = upload.seal.as_ref().and_then(|s| s.secrets.clone());
    if let Some(sealed) = sealed {
        let plain = keys
            .open(&upload_binding(bucket, &upload), &sealed)
            .map_err(|_| bad())?;
        let secrets: UploadSecrets = serde_json::from_slice(&plain).map_err(|_| bad())?;
        upload.tags = secrets.tags;
    }
    Ok(upload)
}

pub(super) fn part_binding(upload_id: &str, number: u32) -> [Vec<u8>; 3] {
    [
        b"part".to_vec(),
        upload_id.as_bytes().to_vec(),
        number.to_be_bytes().to_vec(),
    ]
}

pub(super) fn refs(b: &[Vec<u8>; 3]) -> [&[u8]; 3] {
    [&b[0], &b[1], &b[2]]
}

/// Closes a part record of `upload`: ETag and checksum sealed (an SSE-C upload's checksum under
/// the customer's key), bound to the upload id and part number.
pub fn close_part(
    keys: &RecordKeys,
    upload: &UploadMeta,
    number: u32,
    mut part: PartMeta,
    customer: Option<&CustomerKey>,
) -> Result<PartMeta, StoreError> {
    let owned = part_binding(&upload.upload_id, number);
    let binding = refs(&owned);
    let mut secrets = PartSecrets {
        etag: std::mem::take(&mut part.etag),
        checksum: part.checksum.take(),
    };
    let customer_sealed = match (is_ssec(&upload.encryption), customer) {
        (true, Some(c)) => {
            let theirs = PartSecrets {
                etag: String::new(),
                checksum: secrets.checksum.take(),
            };
            Some(
                records::seal_with(&records::customer_key(c), &binding, &encode(&theirs)?)
                    .map_err(sealing)?,
            )
        }
        (true, None) => {
            secrets.checksum = None;
            None
        }
        _ => None,
    };
    part.seal = Some(RecordSeal {
        secrets: Some(keys.seal(&binding, &encode(&secrets)?).map_err(sealing)?),
        customer: customer_sealed,
        mac: [0; 32],
    });
    let mac = keys.mac(&binding, &encode(&part)?);
    if let Some(s) = part.seal.as_mut() {
        s.mac = mac;
    }
    Ok(part)
}

/// Checks a stored part record and opens it; an SSE-C part's checksum opens only with `customer`.
pub fn open_part(
    keys: &RecordKeys,
    upload_id: &str,
    number: u32,
    mut part: PartMeta,
    customer: Option<&CustomerKey>,
) -> Result<PartMeta, StoreError> {
    let bad = || tampered("part", upload_id, &number.to_string());
    let seal = part.seal.clone().ok_or_else(bad)?;
    let owned = part_binding(upload_id, number);
    let binding = refs(&owned);
    let input = mac_input(&part, |r| {
        if let Some(s) = r.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    if !keys.verify(&binding, &input, &seal.mac) {
        return Err(bad());
    }
    let open = |key: Option<&crate::crypto::DataKey>, sealed: &SealedValue| {
        let plain = match key {
            Some(k) => records::open_with(k, &binding, sealed),
            None => keys.open(&binding, sealed),
        };
        plain
            .ok()
            .and_then(|p| serde_json::from_slice::<PartSecrets>(&p).ok())
    };
    let secrets = open(None, seal.secrets.as_ref().ok_or_else(bad)?).ok_or_else(bad)?;
    part.etag = secrets.etag;
    part.checksum = secrets.checksum;
    if let (Some(sealed), Some(c)) = (&seal.customer, customer) {
        let k = records::customer_key(c);
        part.checksum = open(Some(&k), sealed).ok_or_else(bad)?.checksum;
    }
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::DataKey;
    use crate::crypto::envelope::SealedKey;
    use crate::integrity::checksum::ChecksumAlgorithm;
    use crate::store::model::PartBody;

    fn meta(enc: Encryption) -> ObjectMeta {
        ObjectMeta {
            size: 10,
            etag: "0123456789abcdef0123456789abcdef".into(),
            last_modified_millis: 1,
            content_headers: Vec::new(),
            user_metadata: Vec::new(),
            checksum: Some(Checksum {
                algorithm: ChecksumAlgorithm::Crc32,
                value: vec![1, 2, 3, 4],
            }),
            composite_checksum: true,
            tags: vec![("team".into(), "blue".into())],
            encryption: enc,
            body: BodyRef::Parts {
                upload_id: "u1".into(),
                parts: [(1, 4), (2, 6)]
                    .into_iter()
                    .map(|(n, size)| PartBody {
                        number: n,
                        blob: format!("blob{n}"),
                        size,
                        checksum: Some(Checksum {
                            algorithm: ChecksumAlgorithm::Crc32,
                            value: vec![n as u8; 4],
                        }),
                    })
                    .collect(),
            },
            seal: None,
            version_id: None,
            seq: 0,
        }
    }

    fn sealed_key() -> SealedKey {
        SealedKey {
            nonce: [0; 12],
            ciphertext: vec![0; 48],
        }
    }

    #[test]
    fn object_records_round_trip_and_refuse_any_edit() {
        let keys = RecordKeys::new(&DataKey::generate());
        let open = meta(Encryption::SseS3 { key: sealed_key() });
        let closed = close_object(&keys, "b", "k", open.clone(), None).unwrap();
        assert!(closed.etag.is_empty() && closed.checksum.is_none() && closed.tags.is_empty());
        let json = String::from_utf8(serde_json::to_vec(&closed).unwrap()).unwrap();
        assert!(!json.contains("0123456789abcdef"), "{json}");
        assert!(!json.contains("team") && !json.contains("blue"), "{json}");
        let mut back = open_object(&keys, "b", "k", closed.clone()).unwrap();
        back.seal = None;
        assert_eq!(back, open);
        assert!(open_object(&keys, "b", "k2", closed.clone()).is_err());
        let mut edited = closed.clone();
        edited.size = 11;
        assert!(open_object(&keys, "b", "k", edited).is_err());
        let mut swapped = closed.clone();
        if let BodyRef::Parts { parts, .. } = &mut swapped.body {
            parts.swap(0, 1);
        }
        assert!(open_object(&keys, "b", "k", swapped).is_err());
        let mut unsealed = closed;
        unsealed.seal = None;
        assert!(open_object(&keys, "b", "k", unsealed).is_err());
    }

    #[test]
    fn ssec_checksums_open_only_with_the_customer_key() {
        let keys = RecordKeys::new(&DataKey::generate());
        let customer = CustomerKey {
            key: DataKey::generate(),
            md5_base64: String::new(),
        };
        let enc = Encryption::SseC {
            key: sealed_key(),
            verifier: customer.verifier(),
        };
        let open = meta(enc);
        let closed = close_object(&keys, "b", "k", open.clone(), Some(&customer)).unwrap();
        let mut locked = open_object(&keys, "b", "k", closed).unwrap();
        assert_eq!(locked.etag, open.etag);
        assert_eq!(locked.checksum, None);
        // Tags open under the metadata key alone (GetObjectTagging takes no SSE-C key).
        assert_eq!(locked.tags, open.tags);
        // Re-closed with new tags and no customer key, the customer-sealed checksums survive.
        let mut retagged = locked.clone();
        retagged.tags = vec![("k2".into(), "v2".into())];
        let reclosed = reclose_object(&keys, "b", "k", retagged).unwrap();
        let mut again = open_object(&keys, "b", "k", reclosed).unwrap();
        assert_eq!(again.tags, vec![("k2".to_string(), "v2".to_string())]);
        assert_eq!(again.etag, open.etag);
        unlock_object("b", "k", &mut again, &customer).unwrap();
        assert_eq!(again.checksum, open.checksum);
        unlock_object("b", "k", &mut locked, &customer).unwrap();
        assert_eq!(locked.checksum, open.checksum);
        assert_eq!(locked.body, open.body);
        assert_eq!(locked.tags, open.tags);
    }

    /// A record written before tags existed (no `tags` in its secrets) still opens, untagged.
    #[test]
    fn records_without_tags_open() {
        let keys = RecordKeys::new(&DataKey::generate());
        let mut open = meta(Encryption::SseS3 { key: sealed_key() });
        open.tags.clear();
        let closed = close_object(&keys, "b", "k", open, None).unwrap();
        let back = open_object(&keys, "b", "k", closed).unwrap();
        assert!(back.tags.is_empty());
    }

    #[test]
    fn part_records_are_bound_to_their_number() {
        let keys = RecordKeys::new(&DataKey::generate());
        let upload = UploadMeta {
            upload_id: "u1".into(),
            key: "k".into(),
            initiated_millis: 1,
            owner: "o".into(),
            content_headers: Vec::new(),
            user_metadata: Vec::new(),
            checksum: None,
            encryption: Encryption::SseS3 { key: sealed_key() },
            tags: vec![("team".into(), "blue-upload".into())],
            seal: None,
        };
        let part = PartMeta {
            blob: "blob".into(),
            size: 3,
            etag: "ab".into(),
            last_modified_millis: 1,
            checksum: None,
            seal: None,
        };
        let closed = close_part(&keys, &upload, 2, part.clone(), None).unwrap();
        assert_eq!(
            open_part(&keys, "u1", 2, closed.clone(), None)
                .unwrap()
                .etag,
            "ab"
        );
        assert!(open_part(&keys, "u1", 3, closed.clone(), None).is_err());
        assert!(open_part(&keys, "u2", 2, closed, None).is_err());
        let u = close_upload(&keys, "b", upload.clone()).unwrap();
        // The tags are sealed: not in the record as stored, back when it opens.
        assert!(u.tags.is_empty());
        let json = String::from_utf8(serde_json::to_vec(&u).unwrap()).unwrap();
        assert!(!json.contains("blue-upload"), "{json}");
        let back = open_upload(&keys, "b", "k", "u1", u.clone()).unwrap();
        assert_eq!(back.tags, upload.tags);
        assert!(open_upload(&keys, "b2", "k", "u1", u).is_err());
    }
}
