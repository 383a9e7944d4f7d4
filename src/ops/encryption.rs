//! PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption, and applying the bucket's
//! rule (and its blocked encryption types) to object writes.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;

use super::{ReqCtx, empty_response, xml_response};
use crate::crypto::SseRequest;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::{Digest, read_xml_body};
use crate::http::xml::S3_XMLNS;
use crate::store::{BucketMeta, EncryptionRule};
use crate::xml_text::escape;

const ALGORITHMS: [&str; 3] = ["AES256", "aws:kms", "aws:kms:dsse"];
const ROOT: &str = "ServerSideEncryptionConfiguration";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigurationXml {
    #[serde(rename = "@xmlns", default)]
    _xmlns: Option<String>,
    #[serde(rename = "Rule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleXml {
    #[serde(rename = "ApplyServerSideEncryptionByDefault")]
    apply: Option<ApplyXml>,
    #[serde(rename = "BucketKeyEnabled")]
    bucket_key_enabled: Option<bool>,
    #[serde(rename = "BlockedEncryptionTypes")]
    blocked: Option<BlockedXml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplyXml {
    #[serde(rename = "SSEAlgorithm")]
    sse_algorithm: Option<String>,
    #[serde(rename = "KMSMasterKeyID")]
    kms_master_key_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockedXml {
    #[serde(rename = "EncryptionType", default)]
    types: Vec<String>,
}

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// The root element's name, which serde does not check.
fn root_name(xml: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
            }
            quick_xml::events::Event::Eof => return None,
            _ => buf.clear(),
        }
    }
}

/// Validates a configuration document as S3 does: exactly one rule with a known algorithm
/// (`MalformedXML` otherwise), and no KMS key with AES256 (`InvalidArgument`).
pub(super) fn parse_configuration(
    xml: &[u8],
) -> Result<(EncryptionRule, Option<Vec<String>>), S3Error> {
    if root_name(xml).as_deref() != Some(ROOT) {
        return Err(malformed());
    }
    let doc: ConfigurationXml = crate::http::xml::from_xml(xml)?;
    let [rule] = <[RuleXml; 1]>::try_from(doc.rules).map_err(|_| malformed())?;
    let apply = rule.apply.ok_or_else(malformed)?;
    let algorithm = apply
        .sse_algorithm
        .filter(|a| ALGORITHMS.contains(&a.as_str()))
        .ok_or_else(malformed)?;
    if apply.kms_master_key_id.is_some() && algorithm == "AES256" {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
        )
        .field("ArgumentName", "ApplyServerSideEncryptionByDefault"));
    }
    let blocked = match rule.blocked {
        None => None,
        Some(b) if !b.types.is_empty() && b.types.iter().all(|t| t == "NONE" || t == "SSE-C") => {
            Some(b.types)
        }
        Some(_) => return Err(malformed()),
    };
    let rule = EncryptionRule {
        sse_algorithm: algorithm,
        kms_master_key_id: apply.kms_master_key_id,
        bucket_key_enabled: rule.bucket_key_enabled.unwrap_or(false),
    };
    Ok((rule, blocked))
}

pub async fn put_bucket_encryption(
    ctx: &ReqCtx<'_>,
    mut bucket: BucketMeta,
    body: Body,
) -> Result<Response, S3Error> {
    let xml = read_xml_body(
        &ctx.parts.headers,
        &ctx.verified.payload,
        body,
        Digest::Required,
    )
    .await?;
    if xml.iter().all(u8::is_ascii_whitespace) {
        return Err(S3Error::with_message(
            S3ErrorCode::MissingRequestBodyError,
            "Request body is empty.",
        ));
    }
    let (mut rule, blocked) = parse_configuration(&xml)?;
    if bucket.is_directory() {
        super::directory::check_rule(ctx, &mut bucket, &mut rule, blocked.as_ref()).await?;
    }
    bucket.encryption_rule = Some(rule);
    // Leaving BlockedEncryptionTypes out keeps the bucket's current setting: unblocking SSE-C
    // takes an explicit NONE, as on AWS.
    if let Some(types) = blocked {
        bucket.blocked_encryption_types = types;
    }
    ctx.state.store.update_bucket(bucket).await?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get_bucket_encryption(
    ctx: &ReqCtx<'_>,
    bucket: BucketMeta,
) -> Result<Response, S3Error> {
    if bucket.encryption_rule.is_none() && ctx.state.config.legacy_encryption_not_found {
        return Err(
            S3Error::new(S3ErrorCode::ServerSideEncryptionConfigurationNotFoundError)
                .field("BucketName", bucket.name),
        );
    }
    Ok(xml_response(StatusCode::OK, configuration_xml(&bucket)))
}

/// The document S3 returns: the rule (SSE-S3 when none was set), `BucketKeyEnabled` always, then
/// `BlockedEncryptionTypes` when set.
fn configuration_xml(bucket: &BucketMeta) -> String {
    let default = EncryptionRule {
        sse_algorithm: "AES256".into(),
        kms_master_key_id: None,
        bucket_key_enabled: false,
    };
    let rule = bucket.encryption_rule.as_ref().unwrap_or(&default);
    let key = rule
        .kms_master_key_id
        .as_deref()
        .map(|k| format!("<KMSMasterKeyID>{}</KMSMasterKeyID>", escape(k)))
        .unwrap_or_default();
    let blocked: String = if bucket.blocked_encryption_types.is_empty() || bucket.is_directory() {
        String::new()
    } else {
        let types: String = bucket
            .blocked_encryption_types
            .iter()
            .map(|t| format!("<EncryptionType>{}</EncryptionType>", escape(t)))
            .collect();
        format!("<BlockedEncryptionTypes>{types}</BlockedEncryptionTypes>")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{ROOT} xmlns=\"{S3_XMLNS}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>{}</BucketKeyEnabled>{blocked}</Rule></{ROOT}>",
        escape(&rule.sse_algorithm),
        rule.bucket_key_enabled
    )
}

/// Back to SSE-S3. A directory bucket keeps its locked key id (in `directory`) all the same.
pub async fn delete_bucket_encryption(
    ctx: &ReqCtx<'_>,
    mut bucket: BucketMeta,
) -> Result<Response, S3Error> {
    bucket.encryption_rule = None;
    bucket.blocked_encryption_types = bucket.default_blocked_encryption_types.clone();
    ctx.state.store.update_bucket(bucket).await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
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
            Some(r) => match r.sse_algorithm.as_str() {
                "aws:kms" => SseRequest::Kms {
                    key: r.kms_master_key_id.clone(),
                    context: None,
                    bucket_key: Some(r.bucket_key_enabled),
                },
                "aws:kms:dsse" => SseRequest::Dsse {
                    key: r.kms_master_key_id.clone(),
                    context: None,
                },
                _ => SseRequest::S3,
            },
        },
        SseRequest::Kms {
            key,
            context,
            bucket_key,
        } => {
            let same = rule.filter(|r| r.sse_algorithm == "aws:kms");
            SseRequest::Kms {
                key: key.or_else(|| same.and_then(|r| r.kms_master_key_id.clone())),
                context,
                bucket_key: bucket_key.or_else(|| rule.map(|r| r.bucket_key_enabled)),
            }
        }
        SseRequest::Dsse { key, context } => {
            let same = rule.filter(|r| r.sse_algorithm == "aws:kms:dsse");
            SseRequest::Dsse {
                key: key.or_else(|| same.and_then(|r| r.kms_master_key_id.clone())),
                context,
            }
        }
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<(EncryptionRule, Option<Vec<String>>), S3ErrorCode> {
        parse_configuration(xml.as_bytes()).map_err(|e| e.code)
    }

    const NS: &str = "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";

    #[test]
    fn captured_bodies_parse() {
        let (r, b) = parse(&format!("<ServerSideEncryptionConfiguration {NS}><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>alias/my-key</KMSMasterKeyID></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>")).unwrap();
        assert_eq!(
            (
                r.sse_algorithm.as_str(),
                r.kms_master_key_id.as_deref(),
                r.bucket_key_enabled,
                b
            ),
            ("aws:kms", Some("alias/my-key"), true, None)
        );
        let (r, b) = parse(&format!("<ServerSideEncryptionConfiguration {NS}><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>")).unwrap();
        assert_eq!(
            (r.sse_algorithm.as_str(), b),
            ("AES256", Some(vec!["SSE-C".to_string()]))
        );
    }

    #[test]
    fn invalid_documents() {
        let rule = |inner: &str| {
            format!(
                "<ServerSideEncryptionConfiguration {NS}>{inner}</ServerSideEncryptionConfiguration>"
            )
        };
        let apply = |inner: &str| {
            rule(&format!(
                "<Rule><ApplyServerSideEncryptionByDefault>{inner}</ApplyServerSideEncryptionByDefault></Rule>"
            ))
        };
        let malformed = [
            rule(""),
            rule(
                "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>",
            ),
            rule("<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>"),
            apply(""),
            apply("<SSEAlgorithm>AES512</SSEAlgorithm>"),
            apply("<SSEAlgorithm>AES256</SSEAlgorithm><SSEAlgorithm>aws:kms</SSEAlgorithm>"),
            apply("<SSEAlgorithm>AES256</SSEAlgorithm><Bogus>1</Bogus>"),
            rule(
                "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-KMS</EncryptionType></BlockedEncryptionTypes></Rule>",
            ),
            rule(
                "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>maybe</BucketKeyEnabled></Rule>",
            ),
            "<Other><Rule/></Other>".to_string(),
            "not xml".to_string(),
        ];
        for doc in malformed {
            assert_eq!(parse(&doc).unwrap_err(), S3ErrorCode::MalformedXML, "{doc}");
        }
        assert_eq!(
            parse(&apply(
                "<SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>k</KMSMasterKeyID>"
            ))
            .unwrap_err(),
            S3ErrorCode::InvalidArgument
        );
    }

    fn bucket(rule: Option<EncryptionRule>, blocked: &[&str]) -> BucketMeta {
        BucketMeta {
            name: "b".into(),
            owner: "0".into(),
            region: "us-east-1".into(),
            location_constraint: None,
            created_millis: 0,
            encryption_rule: rule,
            blocked_encryption_types: blocked.iter().map(|s| s.to_string()).collect(),
            default_blocked_encryption_types: vec![],
            directory: None,
            incarnation: String::new(),
        }
    }

    #[test]
    fn default_document_matches_s3() {
        assert_eq!(
            configuration_xml(&bucket(None, &["SSE-C"])),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>"
        );
    }

    #[test]
    fn rules_apply_to_writes_without_sse_headers() {
        let kms = EncryptionRule {
            sse_algorithm: "aws:kms".into(),
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
}
