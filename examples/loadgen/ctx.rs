//! What the workers share (endpoint, signing, SSE headers), and building, signing and sending
//! one request.

use std::fmt;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SigningParams as HttpSigningParams,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use http::{Method, Request};
use http_body::Body;
use http_body_util::BodyExt as _;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use tokio::net::TcpStream;

use crate::args::*;
use crate::conn::*;
use crate::pattern::*;
use crate::{BoxError, SSEC_KEY, UNSIGNED_PAYLOAD};

/// Everything the workers share.
pub struct Ctx {
    pub(crate) base_url: String,
    pub(crate) authority: String,
    pub(crate) connect_addr: String,
    pub(crate) bucket: String,
    /// Body sizes: one, or the --sizes list (picked per key version).
    pub(crate) sizes: Vec<u64>,
    pub(crate) sse: Sse,
    pub(crate) identity: Identity,
    pub(crate) region: String,
    pub(crate) sign_payload: bool,
    pub(crate) verify: bool,
    pub(crate) timeout: Duration,
    /// PUT and GET headers of each mode in `SSE_MODES` order.
    pub(crate) sse_headers: Vec<SseHeaders>,
    pub(crate) pattern: Pattern,
    pub(crate) printed: AtomicUsize,
    pub(crate) empty_sha256: String,
}

impl Ctx {
    pub(crate) fn new(args: &Args, bucket: String) -> Result<Ctx, BoxError> {
        let uri: http::Uri = args
            .endpoint
            .parse()
            .map_err(|e| format!("invalid --endpoint {:?}: {e}", args.endpoint))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "--endpoint must be http://HOST:PORT, got {:?}",
                args.endpoint
            )
            .into());
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--endpoint {:?} has no host", args.endpoint))?
            .clone();
        let port = authority.port_u16().unwrap_or(80);
        let host = authority.host().to_string();
        let connect_addr = format!("{host}:{port}");
        let creds = Credentials::new(&args.access_key, &args.secret_key, None, None, "loadgen");
        let ssec = || {
            let b64 = base64::engine::general_purpose::STANDARD;
            vec![
                (
                    "x-amz-server-side-encryption-customer-algorithm",
                    "AES256".to_string(),
                ),
                (
                    "x-amz-server-side-encryption-customer-key",
                    b64.encode(SSEC_KEY),
                ),
                (
                    "x-amz-server-side-encryption-customer-key-md5",
                    b64.encode(Md5::digest(SSEC_KEY)),
                ),
            ]
        };
        let kms = |alg: &str| {
            let mut h = vec![("x-amz-server-side-encryption", alg.to_string())];
            if let Some(k) = &args.kms_key_id {
                h.push(("x-amz-server-side-encryption-aws-kms-key-id", k.clone()));
            }
            h
        };
        let sse_headers = SSE_MODES
            .iter()
            .map(|mode| match mode {
                Sse::None | Sse::Mixed => (vec![], vec![]),
                Sse::S3 => (
                    vec![("x-amz-server-side-encryption", "AES256".to_string())],
                    vec![],
                ),
                Sse::Kms => (kms("aws:kms"), vec![]),
                Sse::Dsse => (kms("aws:kms:dsse"), vec![]),
                Sse::Customer => (ssec(), ssec()),
            })
            .collect();
        let sizes = match &args.sizes {
            Some(list) if !list.is_empty() => list.clone(),
            _ => vec![args.size],
        };
        Ok(Ctx {
            base_url: format!("http://{authority}"),
            authority: authority.to_string(),
            connect_addr,
            bucket,
            sizes,
            sse: args.sse,
            identity: creds.into(),
            region: args.region.clone(),
            sign_payload: args.sign_payload,
            verify: !args.no_verify,
            timeout: Duration::from_secs_f64(args.timeout),
            sse_headers,
            pattern: Pattern::new(),
            printed: AtomicUsize::new(0),
            empty_sha256: hex::encode(Sha256::digest(b"")),
        })
    }

    pub(crate) fn object_path(&self, key: u64) -> String {
        format!("/{}/obj-{key}", self.bucket)
    }

    /// The size of the body of (key, version).
    pub fn size_of(&self, key: u64, version: u64) -> u64 {
        match self.sizes.as_slice() {
            [one] => *one,
            list => {
                let h = mix(key.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ mix(version ^ 0x51CE));
                list.get((h % list.len().max(1) as u64) as usize)
                    .copied()
                    .unwrap_or(0)
            }
        }
    }

    /// The SSE mode of (key, version): the --sse mode, or with `mixed` one of `SSE_MODES`.
    pub fn sse_of(&self, key: u64, version: u64) -> Sse {
        if self.sse != Sse::Mixed {
            return self.sse;
        }
        let h = mix(key.wrapping_mul(0x9FB2_1C65_1E98_DF25) ^ mix(version ^ 0x55E));
        SSE_MODES[(h % SSE_MODES.len() as u64) as usize]
    }

    pub(crate) fn headers_of(&self, mode: Sse) -> &SseHeaders {
        let i = SSE_MODES.iter().position(|&m| m == mode).unwrap_or(0);
        &self.sse_headers[i]
    }

    /// Builds and signs a request; `path_query` is origin-form (`/bucket/key?query`).
    pub(crate) fn build(
        &self,
        method: Method,
        path_query: &str,
        extra: &[(&'static str, String)],
        payload_hash: &str,
        body: ReqBody,
    ) -> Result<Request<ReqBody>, ReqError> {
        let err = |e: &dyn fmt::Display| ReqError::Build(e.to_string());
        let content_length = body.size_hint().exact();
        let base = [
            ("host", self.authority.as_str()),
            ("x-amz-content-sha256", payload_hash),
        ];
        let headers = base
            .iter()
            .copied()
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let url = format!("{}{}", self.base_url, path_query);
        let signable_body = if payload_hash == UNSIGNED_PAYLOAD {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Precomputed(payload_hash.to_string())
        };
        let signable = SignableRequest::new(method.as_str(), url, headers, signable_body)
            .map_err(|e| err(&e))?;
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let params: HttpSigningParams<'_> = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| err(&e))?
            .into();
        let (instructions, _signature) = sign(signable, &params).map_err(|e| err(&e))?.into_parts();
        let (signed, _query) = instructions.into_parts();
        let has_body = matches!(method, Method::PUT | Method::POST);
        let mut b = Request::builder().method(method).uri(path_query);
        for (k, v) in base
            .iter()
            .copied()
            .chain(extra.iter().map(|(k, v)| (*k, v.as_str())))
        {
            b = b.header(k, v);
        }
        for h in &signed {
            b = b.header(h.name(), h.value());
        }
        if let Some(n) = content_length.filter(|&n| n > 0 || has_body) {
            b = b.header("content-length", n);
        }
        b.body(body).map_err(|e| err(&e))
    }

    pub(crate) async fn connect(&self) -> Result<SendRequest<ReqBody>, ReqError> {
        let stream = TcpStream::connect(&self.connect_addr)
            .await
            .map_err(|e| ReqError::Connect(format!("{}: {e}", self.connect_addr)))?;
        stream
            .set_nodelay(true)
            .map_err(|e| ReqError::Connect(e.to_string()))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| ReqError::Connect(e.to_string()))?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes the connection.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends `req` on the worker's connection and reads the whole response body, feeding it to
    /// `verifier` when given. A non-2xx answer is an error carrying (the start of) its body.
    pub(crate) async fn exchange(
        &self,
        conn: &mut Conn,
        req: Request<ReqBody>,
        mut sink: Sink<'_>,
    ) -> Result<http::HeaderMap, ReqError> {
        let reusable = match conn.sender.as_mut() {
            Some(s) => !s.is_closed() && s.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            conn.sender = Some(self.connect().await?);
        }
        let Some(sender) = conn.sender.as_mut() else {
            return Err(ReqError::Connect("no connection".into()));
        };
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => {
                conn.sender = None;
                return Err(ReqError::Transport(e.to_string()));
            }
        };
        let status = resp.status();
        let (parts, mut body) = resp.into_parts();
        let mut text = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = match frame {
                Ok(f) => f,
                Err(e) => {
                    conn.sender = None;
                    return Err(ReqError::Transport(format!("reading body: {e}")));
                }
            };
            if let Ok(data) = frame.into_data() {
                if !status.is_success() {
                    let room = 2048usize.saturating_sub(text.len());
                    text.extend_from_slice(&data[..data.len().min(room)]);
                } else {
                    match &mut sink {
                        Sink::Discard => {}
                        Sink::Verify(v) => v.feed(&data),
                        Sink::Collect(buf) => buf.extend_from_slice(&data),
                    }
                }
            }
        }
        if status.is_success() {
            Ok(parts.headers)
        } else {
            Err(ReqError::Status(
                status.as_u16(),
                String::from_utf8_lossy(&text).into_owned(),
            ))
        }
    }

    /// `exchange` under the per-request timeout; a timed-out connection is dropped.
    pub(crate) async fn exchange_timed(
        &self,
        conn: &mut Conn,
        req: Request<ReqBody>,
        sink: Sink<'_>,
    ) -> Result<http::HeaderMap, ReqError> {
        match tokio::time::timeout(self.timeout, self.exchange(conn, req, sink)).await {
            Ok(r) => r,
            Err(_) => {
                conn.sender = None;
                Err(ReqError::Timeout)
            }
        }
    }

    pub(crate) fn payload_hash(&self, body: impl FnOnce() -> String) -> String {
        if self.sign_payload {
            body()
        } else {
            UNSIGNED_PAYLOAD.to_string()
        }
    }
}
