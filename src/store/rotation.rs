//! System-key rotation of the records (`sealstore rotate-system-keys`, server stopped): every
//! object, upload and part record is re-sealed from the current generation's keys to the next
//! one's, one record per transaction, so a kill at any point leaves each record whole under one
//! generation or the other; a rerun skips the records already done. Bodies are never touched.

use super::Store;
use super::error::StoreError;
use super::meta::WriteOp;
use super::sealed::{self, Rekey};

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
                if let Some(meta) = sealed::rekey_object(r, &bucket, &key, meta)? {
                    let op = WriteOp::PutObject {
                        bucket,
                        key,
                        meta: Box::new(meta),
                        inline: None,
                    };
                    // Same body: nothing is released (`meta::release` keeps it).
                    self.meta.write(op).await?;
                    done += 1;
                }
            }
            progress("objects", done, seen);
        }
        let total = done;
        let (mut done, mut seen) = (0, 0);
        for b in self.meta.buckets().await? {
            for upload in self.meta.uploads(&b.name, "", None, usize::MAX).await? {
                seen += 1;
                let id = upload.upload_id.clone();
                let key = upload.key.clone();
                if let Some(u) = sealed::rekey_upload(r, &b.name, upload)? {
                    let op = WriteOp::CreateUpload {
                        bucket: b.name.clone(),
                        upload: Box::new(u),
                    };
                    self.meta.write(op).await?;
                    done += 1;
                }
                for (number, part) in self.meta.parts(&id, 0, usize::MAX).await? {
                    seen += 1;
                    if let Some(p) = sealed::rekey_part(r, &id, number, part)? {
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
