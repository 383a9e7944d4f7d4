//! PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption (what the rule does to object
//! writes is `write_encryption`).

use super::{ReqCtx, empty_response, xml_response};
use crate::crypto::SseAlgorithm;
use crate::error::{S3Error, S3ErrorCode};
use crate::http::body::{Digest, read_required_xml_body};
use crate::http::xml::S3_XMLNS;
use crate::http::xml::encryption::{ConfigurationXml, RuleXml};
use crate::store::{BucketMeta, EncryptionRule, EncryptionType};
use crate::xml_text::escape;
use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

const ROOT: &str = "ServerSideEncryptionConfiguration";

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

/// The root element's name, which serde does not check.
pub(super) fn root_name(xml: &[u8]) -> Option<String> {
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
) -> Result<(EncryptionRule, Option<Vec<EncryptionType>>), S3Error> {
    if root_name(xml).as_deref() != Some(ROOT) {
        return Err(malformed());
    }
    let doc: ConfigurationXml = crate::http::xml::from_xml(xml)?;
    let [rule] = <[RuleXml; 1]>::try_from(doc.rules).map_err(|_| malformed())?;
    let apply = rule.apply.ok_or_else(malformed)?;
    let algorithm = apply
        .sse_algorithm
        .as_deref()
        .and_then(SseAlgorithm::parse)
        .ok_or_else(malformed)?;
    if apply.kms_master_key_id.is_some() && algorithm == SseAlgorithm::Aes256 {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse",
        )
        .field("ArgumentName", "ApplyServerSideEncryptionByDefault"));
    }
    let blocked = match rule.blocked {
        None => None,
        Some(b) if !b.types.is_empty() => {
            let types = b.types.iter().map(|t| EncryptionType::parse(t));
            Some(types.collect::<Option<Vec<_>>>().ok_or_else(malformed)?)
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
    let xml = read_required_xml_body(
        &ctx.parts.headers,
        &ctx.verified.payload,
        body,
        Digest::Required,
    )
    .await?;
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
        sse_algorithm: SseAlgorithm::Aes256,
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
            .map(|t| format!("<EncryptionType>{}</EncryptionType>", t.as_str()))
            .collect();
        format!("<BlockedEncryptionTypes>{types}</BlockedEncryptionTypes>")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{ROOT} xmlns=\"{S3_XMLNS}\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>{}</SSEAlgorithm>{key}</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>{}</BucketKeyEnabled>{blocked}</Rule></{ROOT}>",
        rule.sse_algorithm.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(xml: &str) -> Result<(EncryptionRule, Option<Vec<String>>), S3ErrorCode> {
        let (rule, blocked) = parse_configuration(xml.as_bytes()).map_err(|e| e.code)?;
        let names = |v: Vec<EncryptionType>| v.iter().map(|t| t.as_str().to_string()).collect();
        Ok((rule, blocked.map(names)))
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
            blocked_encryption_types: blocked
                .iter()
                .map(|s| crate::store::EncryptionType::parse(s).unwrap())
                .collect(),
            default_blocked_encryption_types: vec![],
            directory: None,
            incarnation: String::new(),
            versioning: None,
        }
    }

    #[test]
    fn default_document_matches_s3() {
        assert_eq!(
            configuration_xml(&bucket(None, &["SSE-C"])),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule></ServerSideEncryptionConfiguration>"
        );
    }
}
