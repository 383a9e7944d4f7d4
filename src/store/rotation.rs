//! System-key rotation of the records (`sealstore rotate-system-keys`, server stopped): every
//! object, upload and part record is re-sealed from the current generation's keys to the next
//! one's, one record per transaction, so a kill at any point leaves each record whole under one
//! generation or the other; a rerun skips the records already done. Bodies are never touched.

use super::Store;
use super::error::StoreError;
use super::meta::{PageQuery, WriteOp};
use serde::Serialize;

use super::model::{ObjectMeta, PartMeta, RecordSeal, UploadMeta, VersionRecord};
use super::sealed::{encode, mac_input, object_binding, part_binding, refs, sealing, tampered};
use crate::crypto::envelope::{self, KeyContext};
use crate::crypto::records::RecordKeys;
use crate::crypto::{DataKey, Encryption, ObjectRef};

/// How far a pass has got: (what, records re-sealed, records seen).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize);

/// Records read per page of the object scan.
const PAGE: usize = 256;

impl Store {
    /// Re-seals every object, upload and part record under the rotation's new keys; returns how
    /// many records were re-sealed.
    pub async fn rekey_records(
        &self,
        r: &Rekey<'_>,
        progress: Progress<'_>,
    ) -> Result<usize, StoreError> {
        let (mut done, mut seen) = (0, 0);
        let mut after = None;
        loop {
            let page = self.meta.all_objects(after.clone(), PAGE).await?;
            let Some((b, k, _)) = page.last() else { break };
            after = Some(super::meta::object_key(b, k));
            for (bucket, key, meta) in page {
                seen += 1;
                if let Some(meta) = rekey_object(r, &bucket, &key, meta)? {
                    // In place, wherever the version lives; same body, nothing released.
                    let op = WriteOp::RewriteVersion {
                        bucket,
                        key,
                        meta: Box::new(meta),
                        expect: None,
                    };
                    self.meta.write(op).await?;
                    done += 1;
                }
            }
            progress("objects", done, seen);
        }
        // Older versions (delete markers hold nothing sealed).
        let mut after = None;
        loop {
            let page = self.meta.all_versions(after.clone(), PAGE).await?;
            let Some((last, ..)) = page.last() else { break };
            after = Some(last.clone());
            for (_, bucket, key, rec) in page {
                let VersionRecord::Object(meta) = rec else {
                    continue;
                };
                seen += 1;
                if let Some(meta) = rekey_object(r, &bucket, &key, meta)? {
                    let op = WriteOp::RewriteVersion {
                        bucket,
                        key,
                        meta: Box::new(meta),
                        expect: None,
                    };
                    self.meta.write(op).await?;
                    done += 1;
                }
            }
            progress("objects", done, seen);
        }
        let total = done;
        let (mut done, mut seen) = (0, 0);
        for b in self.meta.buckets().await? {
            for upload in self
                .meta
                .uploads(PageQuery::first(&b.name, usize::MAX))
                .await?
            {
                seen += 1;
                let id = upload.upload_id.clone();
                let key = upload.key.clone();
                if let Some(u) = rekey_upload(r, &b.name, upload)? {
                    let op = WriteOp::CreateUpload {
                        bucket: b.name.clone(),
                        upload: Box::new(u),
                    };
                    self.meta.write(op).await?;
                    done += 1;
                }
                for (number, part) in self.meta.parts(&id, 0, usize::MAX).await? {
                    seen += 1;
                    if let Some(p) = rekey_part(r, &id, number, part)? {
                        let op = WriteOp::PutPart {
                            bucket: b.name.clone(),
                            key: key.clone(),
                            upload_id: id.clone(),
                            number,
                            part: Box::new(p),
                        };
                        // The "replaced" part is this same blob: never freed here.
                        self.meta.write(op).await?;
                        done += 1;
                    }
                }
            }
            progress("uploads and parts", done, seen);
        }
        Ok(total + done)
    }
}

/// The keys of a system-key rotation, from the current generation to the next.
pub struct Rekey<'a> {
    pub old: &'a RecordKeys,
    pub new: &'a RecordKeys,
    pub old_sse_s3: &'a DataKey,
    pub new_sse_s3: &'a DataKey,
}

impl Rekey<'_> {
    /// An SSE-S3 data key re-sealed from the old SSE-S3 key to the new one (other modes' data
    /// keys are sealed by KMS keys or the customer's, which do not change).
    fn data_key(&self, enc: &mut Encryption, ctx: &KeyContext<'_>) -> Result<(), StoreError> {
        if let Encryption::SseS3 { key } = enc {
            let dk = envelope::unseal(self.old_sse_s3, key, ctx).map_err(sealing)?;
            *key = envelope::seal(self.new_sse_s3, &dk, ctx).map_err(sealing)?;
        }
        Ok(())
    }

    /// The sealed values re-sealed and the MAC recomputed under the new keys.
    fn remac<T: Serialize + Clone>(
        &self,
        binding: &[&[u8]],
        record: &mut T,
        seal: impl Fn(&mut T) -> Option<&mut RecordSeal>,
    ) -> Result<(), StoreError> {
        if let Some(s) = seal(record) {
            if let Some(v) = &s.secrets {
                let plain = self.old.open(binding, v).map_err(sealing)?;
                s.secrets = Some(self.new.seal(binding, &plain).map_err(sealing)?);
            }
            s.mac = [0; 32];
        }
        let mac = self.new.mac(binding, &encode(record)?);
        if let Some(s) = seal(record) {
            s.mac = mac;
        }
        Ok(())
    }
}

/// The context `Crypto::seal` bound an SSE-S3 data key to (built by the same method).
fn sse_s3_ctx<'a>(bucket: &'a str, key: &'a str, id: &'a str) -> KeyContext<'a> {
    let obj = ObjectRef {
        bucket,
        key,
        blob_id: id,
    };
    obj.key_context("sse-s3", "")
}

/// Rotation of one stored object record: `None` when it is already under the new keys (a rerun
/// after a kill), else the record re-sealed. A record neither generation vouches for is refused.
pub fn rekey_object(
    r: &Rekey<'_>,
    bucket: &str,
    key: &str,
    mut meta: ObjectMeta,
) -> Result<Option<ObjectMeta>, StoreError> {
    let mac = meta
        .seal
        .as_ref()
        .map(|s| s.mac)
        .ok_or_else(|| tampered("object", bucket, key))?;
    let input = mac_input(&meta, |m| {
        if let Some(s) = m.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    let body_id = meta.body.id().to_string();
    let version = meta.version_label().to_string();
    let binding = object_binding(bucket, key, &version, &body_id);
    if r.new.verify(&binding, &input, &mac) {
        return Ok(None);
    }
    if !r.old.verify(&binding, &input, &mac) {
        return Err(tampered("object", bucket, key));
    }
    r.data_key(&mut meta.encryption, &sse_s3_ctx(bucket, key, &body_id))?;
    r.remac(&binding, &mut meta, |m| m.seal.as_mut())?;
    Ok(Some(meta))
}

/// Rotation of one upload record (see [`rekey_object`]).
pub fn rekey_upload(
    r: &Rekey<'_>,
    bucket: &str,
    mut upload: UploadMeta,
) -> Result<Option<UploadMeta>, StoreError> {
    let key = upload.key.clone();
    let id = upload.upload_id.clone();
    let mac = upload
        .seal
        .as_ref()
        .map(|s| s.mac)
        .ok_or_else(|| tampered("upload", bucket, &key))?;
    let input = mac_input(&upload, |u| {
        if let Some(s) = u.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    let binding: [&[u8]; 4] = [b"upload", bucket.as_bytes(), key.as_bytes(), id.as_bytes()];
    if r.new.verify(&binding, &input, &mac) {
        return Ok(None);
    }
    if !r.old.verify(&binding, &input, &mac) {
        return Err(tampered("upload", bucket, &key));
    }
    r.data_key(&mut upload.encryption, &sse_s3_ctx(bucket, &key, &id))?;
    r.remac(&binding, &mut upload, |u| u.seal.as_mut())?;
    Ok(Some(upload))
}

/// Rotation of one part record (see [`rekey_object`]); its data keys derive from the upload's.
pub fn rekey_part(
    r: &Rekey<'_>,
    upload_id: &str,
    number: u32,
    mut part: PartMeta,
) -> Result<Option<PartMeta>, StoreError> {
    let owned = part_binding(upload_id, number);
    let binding = refs(&owned);
    let bad = || tampered("part", upload_id, &number.to_string());
    let mac = part.seal.as_ref().map(|s| s.mac).ok_or_else(bad)?;
    let input = mac_input(&part, |p| {
        if let Some(s) = p.seal.as_mut() {
            s.mac = [0; 32];
        }
    })?;
    if r.new.verify(&binding, &input, &mac) {
        return Ok(None);
    }
    if !r.old.verify(&binding, &input, &mac) {
        return Err(bad());
    }
    r.remac(&binding, &mut part, |p| p.seal.as_mut())?;
    Ok(Some(part))
}
