//! The S3 requests loadgen sends: PUT, GET, ListObjectsV2, DELETE, the bucket's set-up.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use bytes::Bytes;
use http::Method;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::args::*;
use crate::conn::*;
use crate::ctx::*;
use crate::pattern::*;
use crate::{BoxError, PRINTED_ERRORS};

impl Ctx {
    /// PUTs version `version` of `key` (its size and SSE mode follow from both); returns the
    /// body size.
    pub async fn put(&self, conn: &mut Conn, key: u64, version: u64) -> Result<u64, ReqError> {
        let size = self.size_of(key, version);
        let mode = self.sse_of(key, version);
        let hash = self.payload_hash(|| self.pattern.sha256_hex(key, version, size));
        let body = ReqBody::Pattern(self.pattern.body(key, version, size));
        let req = self.build(
            Method::PUT,
            &self.object_path(key),
            &self.headers_of(mode).0,
            &hash,
            body,
        )?;
        let headers = self.exchange_timed(conn, req, Sink::Discard).await?;
        if self.sse == Sse::Mixed {
            check_sse_answer(&headers, mode).map_err(|e| {
                ReqError::Mismatch(format!("PUT obj-{key} version {version} ({mode:?}): {e}"))
            })?;
        }
        Ok(size)
    }

    /// GETs `key` and, when verifying, checks it is one of the `accepted` versions (and, with
    /// several SSE modes, that the answer names the version's mode). SSE-C headers are sent when
    /// the latest accepted version needs them. Returns the version read when verified, and the
    /// bytes received.
    pub async fn get(
        &self,
        conn: &mut Conn,
        key: u64,
        accepted: &[u64],
    ) -> Result<(Option<u64>, u64), ReqError> {
        let hash = self.payload_hash(|| self.empty_sha256.clone());
        let mode = accepted.last().map_or(self.sse, |&v| self.sse_of(key, v));
        let req = self.build(
            Method::GET,
            &self.object_path(key),
            &self.headers_of(mode).1,
            &hash,
            ReqBody::Empty,
        )?;
        if !self.verify {
            let headers = self.exchange_timed(conn, req, Sink::Discard).await?;
            let len = headers
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            return Ok((None, len));
        }
        if accepted.is_empty() {
            self.exchange_timed(conn, req, Sink::Discard).await?;
            return Err(ReqError::Mismatch(format!(
                "obj-{key}: deleted, but GET answered 2xx"
            )));
        }
        let sized: Vec<(u64, u64)> = accepted
            .iter()
            .map(|&v| (v, self.size_of(key, v)))
            .collect();
        let mut v = Verifier::with_sizes(&self.pattern, key, &sized);
        let headers = self.exchange_timed(conn, req, Sink::Verify(&mut v)).await?;
        let version = v
            .finish()
            .map_err(|e| ReqError::Mismatch(format!("obj-{key}: {e}")))?;
        if self.sse == Sse::Mixed {
            let mode = self.sse_of(key, version);
            check_sse_answer(&headers, mode).map_err(|e| {
                ReqError::Mismatch(format!("GET obj-{key} version {version} ({mode:?}): {e}"))
            })?;
        }
        Ok((Some(version), self.size_of(key, version)))
    }

    /// A small request with an in-memory body (bucket set-up).
    pub(crate) async fn simple(
        &self,
        conn: &mut Conn,
        method: Method,
        path_query: &str,
        extra: &[(&'static str, String)],
        bytes: Bytes,
    ) -> Result<(), ReqError> {
        let hash = self.payload_hash(|| hex::encode(Sha256::digest(&bytes)));
        let req = self.build(
            method,
            path_query,
            extra,
            &hash,
            ReqBody::Bytes(Some(bytes)),
        )?;
        self.exchange_timed(conn, req, Sink::Discard)
            .await
            .map(|_| ())
    }

    /// Creates the bucket (an existing bucket of ours is fine) and, for SSE-C, lifts the SSE-C
    /// block of new buckets with a PutBucketEncryption whose rule has
    /// `BlockedEncryptionTypes` = `NONE`.
    pub(crate) async fn set_up_bucket(&self, conn: &mut Conn, sse: Sse) -> Result<(), BoxError> {
        let config = if self.region == "us-east-1" {
            Bytes::new()
        } else {
            Bytes::from(format!(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                 <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                self.region
            ))
        };
        let path = format!("/{}", self.bucket);
        match self.simple(conn, Method::PUT, &path, &[], config).await {
            Ok(()) => {}
            Err(ReqError::Status(409, body)) if body.contains("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(format!("CreateBucket {}: {e}", self.bucket).into()),
        }
        if matches!(sse, Sse::Customer | Sse::Mixed) {
            const RULE: &[u8] = b"<ServerSideEncryptionConfiguration \
                xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>\
                <ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>\
                </ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes>\
                <EncryptionType>NONE</EncryptionType></BlockedEncryptionTypes></Rule>\
                </ServerSideEncryptionConfiguration>";
            let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(RULE));
            let path = format!("/{}?encryption", self.bucket);
            if let Err(e) = self
                .simple(
                    conn,
                    Method::PUT,
                    &path,
                    &[("content-md5", md5)],
                    Bytes::from_static(RULE),
                )
                .await
            {
                // Servers without SSE-C blocking (e.g. moto) may refuse the element: go on, and
                // let the PUTs tell whether SSE-C works.
                eprintln!("loadgen: warning: PutBucketEncryption (unblock SSE-C) failed: {e}");
            }
        }
        Ok(())
    }

    /// DeleteObject of `key`: any 2xx is success.
    pub async fn delete_object(&self, conn: &mut Conn, key: u64) -> Result<(), ReqError> {
        self.simple(
            conn,
            Method::DELETE,
            &self.object_path(key),
            &[],
            Bytes::new(),
        )
        .await
    }

    /// ListObjectsV2 of `prefix`, every page, checked for well-formedness: the bucket's name and
    /// the prefix echoed, KeyCount equal to the entries, every key under the prefix, keys strictly
    /// ascending across pages, a continuation token whenever truncated, an ETag and a
    /// LastModified for every entry. Returns (key, size) of every entry.
    pub async fn list(
        &self,
        conn: &mut Conn,
        prefix: &str,
        max_keys: u32,
    ) -> Result<Vec<(String, u64)>, ReqError> {
        let bad = |e: String| ReqError::Mismatch(format!("ListObjectsV2 prefix {prefix:?}: {e}"));
        let enc = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
        let mut out: Vec<(String, u64)> = Vec::new();
        let mut token: Option<String> = None;
        for _page in 0..10_000 {
            let mut path = format!(
                "/{}?list-type=2&max-keys={max_keys}&prefix={}",
                self.bucket,
                enc(prefix)
            );
            if let Some(t) = &token {
                path.push_str("&continuation-token=");
                path.push_str(&enc(t));
            }
            let hash = self.payload_hash(|| self.empty_sha256.clone());
            let req = self.build(Method::GET, &path, &[], &hash, ReqBody::Empty)?;
            let mut body = Vec::new();
            self.exchange_timed(conn, req, Sink::Collect(&mut body))
                .await?;
            let text = std::str::from_utf8(&body).map_err(|e| bad(format!("not UTF-8: {e}")))?;
            if !text.contains("<ListBucketResult") {
                return Err(bad("no ListBucketResult element".into()));
            }
            let page: ListBucketResult =
                quick_xml::de::from_str(text).map_err(|e| bad(format!("malformed XML: {e}")))?;
            if page.name != self.bucket {
                return Err(bad(format!("Name is {:?}", page.name)));
            }
            if page.prefix.as_deref().unwrap_or("") != prefix {
                return Err(bad(format!("Prefix is {:?}", page.prefix)));
            }
            if page.key_count != Some(page.contents.len()) {
                return Err(bad(format!(
                    "KeyCount {:?} but {} entries",
                    page.key_count,
                    page.contents.len()
                )));
            }
            if page.contents.len() > max_keys as usize {
                return Err(bad(format!(
                    "{} entries > max-keys {max_keys}",
                    page.contents.len()
                )));
            }
            for e in page.contents {
                if !e.key.starts_with(prefix) {
                    return Err(bad(format!("key {:?} is not under the prefix", e.key)));
                }
                if out.last().is_some_and(|(last, _)| *last >= e.key) {
                    return Err(bad(format!("key {:?} out of order", e.key)));
                }
                if e.e_tag.is_empty() || e.last_modified.is_empty() {
                    return Err(bad(format!("key {:?} without ETag or LastModified", e.key)));
                }
                out.push((e.key, e.size));
            }
            if !page.is_truncated {
                return Ok(out);
            }
            match page.next_continuation_token {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Err(bad("truncated without NextContinuationToken".into())),
            }
        }
        Err(bad("more than 10,000 pages".into()))
    }

    pub(crate) async fn delete(&self, conn: &mut Conn, path: &str) -> Result<(), ReqError> {
        match self
            .simple(conn, Method::DELETE, path, &[], Bytes::new())
            .await
        {
            Err(ReqError::Status(404, _)) => Ok(()),
            r => r,
        }
    }

    pub(crate) fn report_error(&self, what: &str, e: &ReqError) {
        let n = self.printed.fetch_add(1, Ordering::Relaxed);
        if n < PRINTED_ERRORS {
            eprintln!("loadgen: error: {what}: {e}");
        } else if n == PRINTED_ERRORS {
            eprintln!("loadgen: (further errors are counted, not printed)");
        }
    }
}
