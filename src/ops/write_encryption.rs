//! Which encryption an object write gets, decided in one place for PutObject, CopyObject and
//! CreateMultipartUpload: the request's SSE headers (`sse_request`), then the bucket's rules — a
//! directory bucket's writes may only repeat its default; a general purpose bucket completes the
//! request with its default rule and refuses SSE-C when it blocks it.

use base64::Engine;

use super::ReqCtx;
use super::sse_request;
use crate::crypto::{SseAlgorithm, SseRequest};
use crate::error::{S3Error, S3ErrorCode, Unverified};
use crate::store::BucketMeta;

/// The encryption of one object write.
pub struct WriteEncryption {
    /// Whether the request sent SSE headers of its own (a copy of an object onto itself is
    /// allowed when it changes the encryption).
    pub explicit: bool,
    /// What the write gets: the request completed by the bucket's rules.
    pub request: SseRequest,
}

/// The encryption a new object of `bucket` gets. Errors in this order: the SSE headers
/// themselves (S3's checks), then the bucket's rules.
pub async fn for_write(ctx: &ReqCtx<'_>, bucket: &BucketMeta) -> Result<WriteEncryption, S3Error> {
    let asked = sse_request::parse_write(&ctx.parts.headers)?;
    let explicit = !matches!(asked, SseRequest::Default);
    let request = if bucket.is_directory() {
        directory_rule(ctx, bucket, asked).await?
    } else {
        apply_bucket_rule(bucket, asked)?
    };
    Ok(WriteEncryption { explicit, request })
}

/// What an object write gets: its own SSE request, or the bucket's rule when it asked for none
/// (and the rule's key / Bucket Key setting where the request left them out). SSE-C writes to a
/// bucket that blocks SSE-C are refused.
pub fn apply_bucket_rule(bucket: &BucketMeta, request: SseRequest) -> Result<SseRequest, S3Error> {
    let rule = bucket.encryption_rule.as_ref();
    Ok(match request {
        SseRequest::Customer(_) if bucket.blocks_ssec() => {
            return Err(S3Error::new(S3ErrorCode::AccessDenied));
        }
        SseRequest::Default => match rule {
            None => SseRequest::S3,
            Some(r) => match r.sse_algorithm {
                SseAlgorithm::Kms => SseRequest::Kms {
                    key: r.kms_master_key_id.clone(),
                    context: None,
                    bucket_key: Some(r.bucket_key_enabled),
                },
                SseAlgorithm::KmsDsse => SseRequest::Dsse {
                    key: r.kms_master_key_id.clone(),
                    context: None,
                },
                SseAlgorithm::Aes256 => SseRequest::S3,
            },
        },
        SseRequest::Kms {
            key,
            context,
            bucket_key,
        } => {
            let same = rule.filter(|r| r.sse_algorithm == SseAlgorithm::Kms);
            SseRequest::Kms {
                key: key.or_else(|| same.and_then(|r| r.kms_master_key_id.clone())),
                context,
                bucket_key: bucket_key.or_else(|| rule.map(|r| r.bucket_key_enabled)),
            }
        }
        SseRequest::Dsse { key, context } => {
            let same = rule.filter(|r| r.sse_algorithm == SseAlgorithm::KmsDsse);
            SseRequest::Dsse {
                key: key.or_else(|| same.and_then(|r| r.kms_master_key_id.clone())),
                context,
            }
        }
        other => other,
    })
}

/// An object write (or session) of a directory bucket: it gets the bucket default; SSE headers
/// may only repeat it (the same algorithm, the bucket's own key, the bucket-ARN context). DSSE
/// and SSE-C are not supported.
pub async fn directory_rule(
    ctx: &ReqCtx<'_>,
    bucket: &BucketMeta,
    request: SseRequest,
) -> Result<SseRequest, S3Error> {
    let refuse = || Unverified::DirectoryObjectEncryption.error();
    let rule = bucket
        .encryption_rule
        .as_ref()
        .filter(|r| r.sse_algorithm == SseAlgorithm::Kms);
    let bucket_key = rule.and_then(|r| r.kms_master_key_id.clone());
    match (request, bucket_key) {
        (SseRequest::Default | SseRequest::S3, None) => Ok(SseRequest::S3),
        (SseRequest::Default, Some(key)) => Ok(SseRequest::Kms {
            key: Some(key),
            context: None,
            bucket_key: Some(true),
        }),
        (SseRequest::Kms { key, context, .. }, Some(bucket_key)) => {
            if let Some(k) = key {
                if is_alias(&k) {
                    return Err(refuse());
                }
                let keyring = &ctx.state.crypto.keyring;
                let store = &ctx.state.store;
                let account = &ctx.verified.account_id;
                let asked = keyring.resolve(store, account, Some(&k)).await?;
                let own = keyring.resolve(store, account, Some(&bucket_key)).await?;
                if asked.id != own.id {
                    return Err(refuse());
                }
            }
            if let Some(c) = &context {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(c)
                    .ok()
                    .and_then(|raw| serde_json::from_slice::<serde_json::Value>(&raw).ok());
                if decoded.as_ref() != Some(&default_context(bucket)) {
                    return Err(refuse());
                }
            }
            Ok(SseRequest::Kms {
                key: Some(bucket_key),
                context,
                bucket_key: Some(true),
            })
        }
        _ => Err(refuse()),
    }
}

/// A KMS key named by an alias (`alias/NAME` or an alias ARN), which a directory bucket refuses.
pub(super) fn is_alias(key: &str) -> bool {
    key.starts_with("alias/") || key.contains(":alias/")
}

/// The bucket-ARN encryption context S3 uses for a directory bucket's SSE-KMS objects.
pub(super) fn default_context(bucket: &BucketMeta) -> serde_json::Value {
    serde_json::json!({ "aws:s3express:bucket-arn": bucket.arn() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EncryptionRule;

    fn bucket(rule: Option<EncryptionRule>, blocked: &[&str]) -> BucketMeta {
        BucketMeta {
            encryption_rule: rule,
            blocked_encryption_types: blocked
                .iter()
                .map(|s| crate::store::EncryptionType::parse(s).unwrap())
                .collect(),
            ..BucketMeta::for_tests("b", "0")
        }
    }

    #[test]
    fn rules_apply_to_writes_without_sse_headers() {
        let kms = EncryptionRule {
            sse_algorithm: SseAlgorithm::Kms,
            kms_master_key_id: Some("k1".into()),
            bucket_key_enabled: true,
        };
        let b = bucket(Some(kms), &[]);
        assert!(
            matches!(apply_bucket_rule(&b, SseRequest::Default).unwrap(), SseRequest::Kms { key: Some(ref k), bucket_key: Some(true), .. } if k == "k1")
        );
        assert!(matches!(
            apply_bucket_rule(&b, SseRequest::S3).unwrap(),
            SseRequest::S3
        ));
        let explicit = SseRequest::Kms {
            key: None,
            context: None,
            bucket_key: Some(false),
        };
        assert!(matches!(
            apply_bucket_rule(&b, explicit).unwrap(),
            SseRequest::Kms {
                key: Some(_),
                bucket_key: Some(false),
                ..
            }
        ));
        assert!(matches!(
            apply_bucket_rule(&bucket(None, &[]), SseRequest::Default).unwrap(),
            SseRequest::S3
        ));
    }

    #[test]
    fn blocked_ssec_is_refused() {
        let c = crate::crypto::ssec::CustomerKey::from_bytes(&[1; 32]).unwrap();
        let e = apply_bucket_rule(&bucket(None, &["SSE-C"]), SseRequest::Customer(c.clone()));
        assert_eq!(e.unwrap_err().code, S3ErrorCode::AccessDenied);
        assert!(apply_bucket_rule(&bucket(None, &[]), SseRequest::Customer(c)).is_ok());
    }
}
