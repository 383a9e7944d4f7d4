//! A SigV4 signer for tests that must control what aws-sigv4 does not let one choose: the
//! `SignedHeaders` list (without `host`), the scope's service, the signing time, and presigned
//! URLs with any of them; and a SigV2 query-string signer.

use std::time::SystemTime;

use super::{send, sha256_hex};
use crate::common::*;

/// `YYYYMMDDTHHMMSSZ` for a time.
pub fn amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    let d = time::OffsetDateTime::from_unix_timestamp(secs).unwrap();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        d.year(),
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    )
}

pub fn split_url(url: &str) -> (String, String, String) {
    let rest = url.split("://").nth(1).unwrap();
    let (host, path_query) = rest.split_at(rest.find('/').unwrap());
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    (host.to_string(), path.to_string(), query.to_string())
}

/// What a hand-made SigV4 signature covers: scope, time, and exactly which headers are signed.
pub struct Hand<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// Headers sent besides host, x-amz-date and x-amz-content-sha256.
    pub extra: Vec<(&'a str, &'a str)>,
    /// The `SignedHeaders` list (sorted by the caller).
    pub signed: Vec<&'a str>,
    pub payload: String,
    pub time: SystemTime,
    pub region: &'a str,
    pub service: &'a str,
}

impl<'a> Hand<'a> {
    pub fn new(method: &'a str, url: &'a str) -> Hand<'a> {
        Hand {
            method,
            url,
            extra: Vec::new(),
            signed: vec!["host", "x-amz-content-sha256", "x-amz-date"],
            payload: sha256_hex(b""),
            time: SystemTime::now(),
            region: "us-east-1",
            service: "s3",
        }
    }

    fn signature(
        &self,
        query: &str,
        headers: &http::HeaderMap,
        payload: &str,
        skip: Option<&str>,
    ) -> String {
        let (_, path, _) = split_url(self.url);
        let date = amz_date(self.time);
        let cr = sealstore::auth::canonical_request(
            self.method,
            &path,
            query,
            headers,
            &self.signed,
            payload,
            skip,
        );
        let scope = format!(
            "{}/{}/{}/aws4_request",
            &date[..8],
            self.region,
            self.service
        );
        let sts = sealstore::auth::string_to_sign(&date, &scope, &cr);
        let key =
            sealstore::auth::signing_key("test", &date[..8], self.region, self.service).unwrap();
        sealstore::auth::v4_signature(key, &sts)
    }

    /// Header auth: the headers to send (reqwest adds the same `host`).
    pub fn headers(&self) -> Vec<(String, String)> {
        let (host, _, query) = split_url(self.url);
        let date = amz_date(self.time);
        let mut all = vec![
            ("x-amz-date".to_string(), date.clone()),
            ("x-amz-content-sha256".to_string(), self.payload.clone()),
        ];
        all.extend(
            self.extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let mut map = http::HeaderMap::new();
        map.insert("host", host.parse().unwrap());
        for (k, v) in &all {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let sig = self.signature(&query, &map, &self.payload, None);
        all.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential=test/{}/{}/{}/aws4_request, SignedHeaders={}, Signature={sig}",
                &date[..8],
                self.region,
                self.service,
                self.signed.join(";")
            ),
        ));
        all
    }

    /// A presigned URL valid for `expires` seconds; `extra` headers must be sent with it.
    pub fn presign(&self, expires: u64) -> String {
        let (host, _, query) = split_url(self.url);
        let date = amz_date(self.time);
        let mut q = if query.is_empty() {
            String::new()
        } else {
            format!("{query}&")
        };
        q.push_str(&format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%2F{}%2F{}%2F{}%2Faws4_request&X-Amz-Date={date}&X-Amz-Expires={expires}&X-Amz-SignedHeaders={}",
            &date[..8],
            self.region,
            self.service,
            self.signed.join("%3B")
        ));
        let mut map = http::HeaderMap::new();
        map.insert("host", host.parse().unwrap());
        for (k, v) in &self.extra {
            map.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        let sig = self.signature(&q, &map, "UNSIGNED-PAYLOAD", Some("X-Amz-Signature"));
        let base = self.url.split('?').next().unwrap();
        format!("{base}?{q}&X-Amz-Signature={sig}")
    }
}

/// A SigV2 query-string URL (`AWSAccessKeyId`, `Expires`, `Signature`) for `GET /bucket/key`.
pub fn sigv2_url(endpoint: &str, bucket: &str, key: &str, expires: u64) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let sts = format!("GET\n\n\n{expires}\n/{bucket}/{key}");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"test").unwrap();
    mac.update(sts.as_bytes());
    let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sig: String = form_urlencoded::byte_serialize(sig.as_bytes()).collect();
    format!("{endpoint}/{bucket}/{key}?AWSAccessKeyId=test&Expires={expires}&Signature={sig}")
}

/// An error's Message, with the XML character references for quotes undone.
pub fn message(body: &str) -> Option<String> {
    xml_field(body, "Message").map(|m| m.replace("&apos;", "'").replace("&quot;", "\""))
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub async fn send_hand(method: &str, url: &str, h: &Hand<'_>, body: &[u8]) -> reqwest::Response {
    send(method, url, &h.headers(), body).await
}
