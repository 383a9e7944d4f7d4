//! Server-side encryption as the client asks for it: parsing the SSE request headers with S3's
//! validation, turning a request into a plan (fresh data keys + how they will be sealed), the
//! `Encryption` record stored with each object, and the response headers for each mode.

use serde::{Deserialize, Serialize};

use super::bucket_keys::BucketKeys;
use super::envelope::{self, KeyContext, SealedKey};
use super::error::CryptoError;
use super::key_store::KeyStore;
use super::keys::DataKey;
use super::kms::{Keyring, KmsKey};
use super::ssec::{CustomerKey, Verifier};
use crate::header_names::{
    X_AMZ_SERVER_SIDE_ENCRYPTION, X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID,
    X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED, X_AMZ_SERVER_SIDE_ENCRYPTION_CONTEXT,
    X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM, X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5,
};

pub const SSE: &str = X_AMZ_SERVER_SIDE_ENCRYPTION;
pub const SSE_KMS_KEY_ID: &str = X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID;
pub const SSE_CONTEXT: &str = X_AMZ_SERVER_SIDE_ENCRYPTION_CONTEXT;
pub const SSE_BUCKET_KEY: &str = X_AMZ_SERVER_SIDE_ENCRYPTION_BUCKET_KEY_ENABLED;

/// An SSE algorithm, as S3 names it in headers and configurations and as bucket records store
/// it (the same strings: no migration). An unknown stored value fails to decode, so a record
/// never falls back to SSE-S3 silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SseAlgorithm {
    #[serde(rename = "AES256")]
    Aes256,
    #[serde(rename = "aws:kms")]
    Kms,
    #[serde(rename = "aws:kms:dsse")]
    KmsDsse,
}

impl SseAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            SseAlgorithm::Aes256 => "AES256",
            SseAlgorithm::Kms => "aws:kms",
            SseAlgorithm::KmsDsse => "aws:kms:dsse",
        }
    }

    /// The algorithm S3 names `name` (exactly, case included), if any.
    pub fn parse(name: &str) -> Option<SseAlgorithm> {
        [
            SseAlgorithm::Aes256,
            SseAlgorithm::Kms,
            SseAlgorithm::KmsDsse,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
    }
}

/// What a write request asked for.
#[derive(Debug, Clone)]
pub enum SseRequest {
    /// No SSE headers: the bucket default applies (SSE-S3 today).
    Default,
    S3,
    Kms {
        key: Option<String>,
        context: Option<String>,
        bucket_key: Option<bool>,
    },
    Dsse {
        key: Option<String>,
        context: Option<String>,
    },
    Customer(CustomerKey),
}

/// How an object is encrypted, as stored in its metadata. Sealed keys only: no key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    SseS3 {
        key: SealedKey,
    },
    SseKms {
        key_id: String,
        arn: String,
        context: Option<String>,
        bucket_key: bool,
        /// With S3 Bucket Keys: the bucket key that sealed `key` (itself sealed by the KMS key).
        #[serde(default)]
        bucket_key_id: Option<String>,
        key: SealedKey,
    },
    Dsse {
        key_id: String,
        arn: String,
        context: Option<String>,
        keys: [SealedKey; 2],
    },
    SseC {
        key: SealedKey,
        verifier: Verifier,
    },
}

/// Everything needed to encrypt one write: fresh data keys and what will seal them.
pub struct Plan {
    pub keys: Vec<DataKey>,
    sealer: Sealer,
}

impl Plan {
    /// Whether the object's ETag is the MD5 of its content (SSE-S3, as in S3); SSE-KMS, DSSE-KMS
    /// and SSE-C ETags are not, so those bodies need MD5 only to check a Content-MD5.
    pub fn etag_is_md5(&self) -> bool {
        matches!(self.sealer, Sealer::S3)
    }
}

enum Sealer {
    S3,
    Kms {
        kms: KmsKey,
        context: Option<String>,
        bucket_key: Option<(String, DataKey)>,
    },
    Dsse {
        kms: KmsKey,
        context: Option<String>,
    },
    Customer(CustomerKey),
}

/// Where an object lives, for binding its sealed keys.
pub struct ObjectRef<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub blob_id: &'a str,
}

impl<'a> ObjectRef<'a> {
    /// What one of the object's data keys is sealed to: `purpose` and `extra` as in [`KeyContext`].
    pub fn key_context(&self, purpose: &'a str, extra: &'a str) -> KeyContext<'a> {
        KeyContext {
            purpose,
            bucket: self.bucket,
            key: self.key,
            object_id: self.blob_id,
            extra,
        }
    }
}

/// The crypto half of the server state.
pub struct Crypto {
    /// Seals SSE-S3 data keys (itself sealed under the master key, see `system`).
    pub sse_s3: DataKey,
    pub keyring: Keyring,
    pub bucket_keys: BucketKeys,
}

impl Crypto {
    /// Turns a request into a plan; unknown KMS keys fail here, before any byte is read. A bucket
    /// key, when asked for, is made (or reused) here too.
    pub async fn plan(
        &self,
        store: &impl KeyStore,
        account: &str,
        bucket: &str,
        request: SseRequest,
    ) -> Result<Plan, CryptoError> {
        let one = || vec![DataKey::generate()];
        Ok(match request {
            SseRequest::Default | SseRequest::S3 => Plan {
                keys: one(),
                sealer: Sealer::S3,
            },
            SseRequest::Kms {
                key,
                context,
                bucket_key,
            } => {
                let kms = self.keyring.resolve(store, account, key.as_deref()).await?;
                let bucket_key = match bucket_key {
                    Some(true) => Some(
                        self.bucket_keys
                            .for_write(store, &self.keyring, account, bucket, &kms)
                            .await?,
                    ),
                    _ => None,
                };
                Plan {
                    keys: one(),
                    sealer: Sealer::Kms {
                        kms,
                        context,
                        bucket_key,
                    },
                }
            }
            SseRequest::Dsse { key, context } => {
                let kms = self.keyring.resolve(store, account, key.as_deref()).await?;
                Plan {
                    keys: vec![DataKey::generate(), DataKey::generate()],
                    sealer: Sealer::Dsse { kms, context },
                }
            }
            SseRequest::Customer(c) => Plan {
                keys: one(),
                sealer: Sealer::Customer(c),
            },
        })
    }

    /// Seals the plan's data keys for the object just written.
    pub fn seal(&self, plan: &Plan, obj: &ObjectRef<'_>) -> Result<Encryption, CryptoError> {
        let ctx = |purpose, extra| obj.key_context(purpose, extra);
        let first = plan
            .keys
            .first()
            .ok_or(CryptoError::Integrity("plan without a data key"))?;
        Ok(match &plan.sealer {
            Sealer::S3 => Encryption::SseS3 {
                key: envelope::seal(&self.sse_s3, first, &ctx("sse-s3", ""))?,
            },
            Sealer::Kms {
                kms,
                context,
                bucket_key,
            } => {
                let extra = context.as_deref().unwrap_or("");
                let (bucket_key_id, key) = match bucket_key {
                    Some((id, bk)) => (
                        Some(id.clone()),
                        envelope::seal(bk, first, &ctx("sse-kms/bucket-key", extra))?,
                    ),
                    None => {
                        self.keyring.count_operation();
                        (
                            None,
                            envelope::seal(kms.material(), first, &ctx("sse-kms", extra))?,
                        )
                    }
                };
                Encryption::SseKms {
                    key_id: kms.id.clone(),
                    arn: kms.arn.clone(),
                    context: context.clone(),
                    bucket_key: bucket_key_id.is_some(),
                    bucket_key_id,
                    key,
                }
            }
            Sealer::Dsse { kms, context } => {
                self.keyring.count_operation();
                let extra = context.as_deref().unwrap_or("");
                let second = plan
                    .keys
                    .get(1)
                    .ok_or(CryptoError::Integrity("DSSE needs two data keys"))?;
                Encryption::Dsse {
                    key_id: kms.id.clone(),
                    arn: kms.arn.clone(),
                    context: context.clone(),
                    keys: [
                        envelope::seal(kms.material(), first, &ctx("dsse-kms/1", extra))?,
                        envelope::seal(kms.material(), second, &ctx("dsse-kms/2", extra))?,
                    ],
                }
            }
            Sealer::Customer(c) => Encryption::SseC {
                key: envelope::seal(&c.key, first, &ctx("sse-c", ""))?,
                verifier: c.verifier(),
            },
        })
    }

    /// Opens an object's data keys. SSE-C objects need the customer key (checked by the caller).
    pub async fn open(
        &self,
        store: &impl KeyStore,
        account: &str,
        enc: &Encryption,
        obj: &ObjectRef<'_>,
        customer: Option<&CustomerKey>,
    ) -> Result<Vec<DataKey>, CryptoError> {
        let ctx = |purpose, extra| obj.key_context(purpose, extra);
        Ok(match enc {
            Encryption::SseS3 { key } => {
                vec![envelope::unseal(&self.sse_s3, key, &ctx("sse-s3", ""))?]
            }
            Encryption::SseKms {
                key_id,
                context,
                key,
                bucket_key_id,
                ..
            } => {
                let extra = context.as_deref().unwrap_or("");
                match bucket_key_id {
                    Some(id) => {
                        let bk = self
                            .bucket_keys
                            .for_read(store, &self.keyring, account, obj.bucket, key_id, id)
                            .await?;
                        vec![envelope::unseal(
                            &bk,
                            key,
                            &ctx("sse-kms/bucket-key", extra),
                        )?]
                    }
                    None => {
                        let kms = self.keyring.resolve(store, account, Some(key_id)).await?;
                        self.keyring.count_operation();
                        vec![envelope::unseal(
                            kms.material(),
                            key,
                            &ctx("sse-kms", extra),
                        )?]
                    }
                }
            }
            Encryption::Dsse {
                key_id,
                context,
                keys,
                ..
            } => {
                let kms = self.keyring.resolve(store, account, Some(key_id)).await?;
                self.keyring.count_operation();
                let extra = context.as_deref().unwrap_or("");
                vec![
                    envelope::unseal(kms.material(), &keys[0], &ctx("dsse-kms/1", extra))?,
                    envelope::unseal(kms.material(), &keys[1], &ctx("dsse-kms/2", extra))?,
                ]
            }
            Encryption::SseC { key, .. } => {
                let c = customer.ok_or(CryptoError::Integrity(
                    "SSE-C object opened without its key",
                ))?;
                vec![envelope::unseal(&c.key, key, &ctx("sse-c", ""))?]
            }
        })
    }
}

/// The keys of one part of a multipart upload, derived from the upload's data keys for the part's
/// own blob and part number: no two blobs share a key, a part file moved under another name does
/// not open, and neither does a part moved to another number. Its position in the completed
/// object (which parts, in which order) is fixed by the object record's MAC (`store::sealed`).
pub fn part_keys(upload_keys: &[DataKey], blob_id: &str, number: u32) -> Vec<DataKey> {
    upload_keys
        .iter()
        .map(|k| k.derive(&format!("multipart-part/v2/{number}/{blob_id}")))
        .collect()
}

/// The ETag: the plaintext MD5 for SSE-S3; for the other modes S3's is not the MD5, so an opaque
/// value derived from the MD5 under the object's data key.
pub fn etag(enc: &Encryption, md5: Option<&[u8; 16]>, first_key: &DataKey) -> String {
    match (enc, md5) {
        (Encryption::SseS3 { .. }, Some(md5)) => hex::encode(md5),
        // Opaque, as S3's: a MAC under the object's own (fresh, random) data key.
        (_, Some(md5)) => hex::encode(&first_key.mac(&[b"sealstore/etag", md5])[..16]),
        (_, None) => hex::encode(&first_key.mac(&[b"sealstore/etag"])[..16]),
    }
}

/// The SSE response headers of an object, exactly as S3 sends them per mode.
pub fn response_headers(
    enc: &Encryption,
    customer_md5: Option<&str>,
    echo_context: bool,
) -> Vec<(&'static str, String)> {
    match enc {
        Encryption::SseS3 { .. } => vec![(SSE, SseAlgorithm::Aes256.as_str().into())],
        Encryption::SseKms {
            arn,
            context,
            bucket_key,
            ..
        } => {
            let mut h = vec![
                (SSE, SseAlgorithm::Kms.as_str().to_string()),
                (SSE_KMS_KEY_ID, arn.clone()),
            ];
            if *bucket_key {
                h.push((SSE_BUCKET_KEY, "true".into()));
            }
            if let (true, Some(c)) = (echo_context, context) {
                h.push((SSE_CONTEXT, c.clone()));
            }
            h
        }
        Encryption::Dsse { arn, context, .. } => {
            let mut h = vec![
                (SSE, SseAlgorithm::KmsDsse.as_str().to_string()),
                (SSE_KMS_KEY_ID, arn.clone()),
            ];
            if let (true, Some(c)) = (echo_context, context) {
                h.push((SSE_CONTEXT, c.clone()));
            }
            h
        }
        Encryption::SseC { .. } => {
            let mut h = vec![(
                X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM,
                "AES256".to_string(),
            )];
            if let Some(md5) = customer_md5 {
                h.push((
                    X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_KEY_MD5,
                    md5.to_string(),
                ));
            }
            h
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_store::BucketBinding;
    use crate::crypto::key_store::memory::MemoryKeyStore as Store;

    #[tokio::test]
    async fn every_mode_seals_and_opens_only_for_its_object() {
        let store = Store::memory();
        let bucket = BucketBinding::for_tests("b", "000000000000");
        store.create_bucket(bucket).await.unwrap();
        let keyring = Keyring::load(&store, DataKey::generate(), "us-east-1", true)
            .await
            .unwrap();
        let crypto = Crypto {
            sse_s3: DataKey::generate(),
            keyring,
            bucket_keys: BucketKeys::default(),
        };
        let customer = CustomerKey::from_bytes(&[7; 32]).unwrap();
        let requests = [
            SseRequest::S3,
            SseRequest::Kms {
                key: Some("k1".into()),
                context: None,
                bucket_key: Some(true),
            },
            SseRequest::Dsse {
                key: None,
                context: None,
            },
            SseRequest::Customer(customer.clone()),
        ];
        for req in requests {
            let plan = crypto.plan(&store, "000000000000", "b", req).await.unwrap();
            let obj = ObjectRef {
                bucket: "b",
                key: "k",
                blob_id: "id1",
            };
            let enc = crypto.seal(&plan, &obj).unwrap();
            let opened = crypto
                .open(&store, "000000000000", &enc, &obj, Some(&customer))
                .await
                .unwrap();
            assert!(opened == plan.keys, "{enc:?}");
            let other = ObjectRef {
                blob_id: "id2",
                ..obj
            };
            assert!(
                crypto
                    .open(&store, "000000000000", &enc, &other, Some(&customer))
                    .await
                    .is_err()
            );
            assert!(!response_headers(&enc, Some("md5"), false).is_empty());
        }
    }
}
