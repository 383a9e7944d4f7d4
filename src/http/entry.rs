//! The single axum handler: request id, routing, authentication, dispatch, error rendering, and
//! the one log line per request.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use http::{HeaderValue, Method, header};

use super::drain::{Returning, drain};
use super::framing::AmbiguousFraming;
use super::request_id::RequestId;
use super::router::{Route, virtual_host_bucket};
use super::timeout::IdleTimeout;
use crate::auth::{self, AuthContext};
use crate::error::{S3Error, S3ErrorCode};
use crate::header_names::{X_AMZ_ID_2, X_AMZ_REQUEST_ID};
use crate::ops::{self, ReqCtx};
use crate::state::AppState;

pub async fn entry(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let started = Instant::now();
    let rid = RequestId::generate();
    let (parts, body) = req.into_parts();
    // The idle timer sits under `Returning`: a body that timed out stays failed, so the drain
    // below gives up at once instead of waiting for a client that sends nothing.
    let body = Body::new(IdleTimeout::new(body, state.config.body_timeout));
    let (body, mut unread) = Returning::new(body);
    let body = Body::new(body);
    if parts.method == Method::GET && parts.uri.path() == METRICS_PATH {
        // Not an S3 resource: `_` cannot start a bucket name, so this never hides a bucket.
        let mut res = metrics(&state);
        finish_response(&mut res, parts.uri.path(), &rid, false);
        return res;
    }
    let is_head = parts.method == Method::HEAD;
    let route = Route::from_parts(&parts, &state.config.domain);
    let vhost = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| virtual_host_bucket(h, &state.config.domain));
    let ctx = AuthContext {
        credentials: &state.config.credentials,
        virtual_host_bucket: vhost.as_deref(),
        now: SystemTime::now(),
        sessions: Some(&state.sessions),
    };
    // S3 authenticates before it decides whether it can serve the operation; an oversized header
    // section is refused before either.
    let ambiguous = parts.extensions.get::<AmbiguousFraming>().is_some();
    let verified = match check_header_section(&parts).and_then(|()| check_framing(ambiguous)) {
        Ok(()) => auth::verify(&parts, &ctx).map_err(S3Error::from),
        Err(e) => Err(e),
    };
    let (op_name, bucket, key) = match &route {
        Ok(r) => (r.endpoint.name(), r.bucket.clone(), r.key.clone()),
        Err(_) => ("Unknown", None, None),
    };
    let result = match (verified, route) {
        (Err(e), _) | (Ok(_), Err(e)) => {
            drop(body); // unread: `unread` below gets it back
            Err(e)
        }
        (Ok(verified), Ok(route)) => {
            let rctx = ReqCtx {
                state: &state,
                parts: &parts,
                route: &route,
                verified,
                request_id: &rid,
            };
            // A panic in a handler (a bug) answers 500 InternalError and leaves the server and
            // this connection serving; the panic message goes to the log through the panic hook.
            match AssertUnwindSafe(ops::dispatch(rctx, body))
                .catch_unwind()
                .await
            {
                Ok(result) => result,
                Err(_) => Err(S3Error::internal(format_args!(
                    "a handler panicked ({op_name})"
                ))),
            }
        }
    };
    let mut res = result.unwrap_or_else(IntoResponse::into_response);
    // A refused request's unread body is read to its end (within limits) so the client, which may
    // still be sending it, sees the error; the connection then stays usable. Not when the client
    // waits for `100 Continue`: it has sent nothing and sends nothing more.
    let mut body_unread = false;
    if let Ok(rest) = unread.try_recv() {
        // An ambiguously framed body is not read at all: the connection closes (RFC 9112 §6.1).
        body_unread = ambiguous || expects_continue(&parts.headers) || !drain(rest).await;
    }
    let bytes_in = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    finish_response(&mut res, parts.uri.path(), &rid, is_head);
    if must_close(&parts.headers, body_unread || ambiguous) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let bytes_out = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info!(
        method = %parts.method,
        bucket = bucket.as_deref().unwrap_or("-"),
        key = key.as_deref().unwrap_or("-"),
        op = op_name,
        status = res.status().as_u16(),
        bytes_in = %bytes_in,
        bytes_out = %bytes_out,
        ms = format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        request_id = %rid.id,
    );
    res
}

/// The largest request header section S3 accepts: request line plus header lines, in bytes.
pub const MAX_HEADER_SECTION: usize = 8 * 1024;

/// Refuses a request whose header section (as sent: request line, `name: value` lines, CRLFs)
/// is over [`MAX_HEADER_SECTION`]. Sections hyper itself refuses (over about 400 KiB, or more than
/// 100 header lines) never get here: hyper answers those with a bare 431 and closes.
fn check_header_section(parts: &http::request::Parts) -> Result<(), S3Error> {
    let target = parts.uri.path_and_query().map_or(1, |pq| pq.as_str().len());
    // "METHOD target HTTP/1.1\r\n" and the blank line that ends the section.
    let mut size = parts.method.as_str().len() + 1 + target + 11 + 2;
    for (name, value) in &parts.headers {
        size += name.as_str().len() + 2 + value.len() + 2;
    }
    if size > MAX_HEADER_SECTION {
        return Err(S3Error::new(S3ErrorCode::RequestHeaderSectionTooLarge)
            .field("MaxSizeAllowed", MAX_HEADER_SECTION.to_string()));
    }
    Ok(())
}

/// Refuses a request that carried both `Content-Length` and `Transfer-Encoding` (marked by
/// `framing`): RFC 9112 §6.1/§6.3 make it an error for a server that may sit behind a proxy (a
/// request smuggling attempt), answered as S3 answers a request it cannot parse, before
/// authentication. The connection is closed after the answer (`must_close`).
fn check_framing(ambiguous: bool) -> Result<(), S3Error> {
    if ambiguous {
        return Err(S3Error::new(S3ErrorCode::BadRequest));
    }
    Ok(())
}

/// Where the server's own counters are served (Prometheus text format, no authentication: they
/// hold no data and no secret).
pub const METRICS_PATH: &str = "/_sealstore/metrics";

fn metrics(state: &AppState) -> Response {
    let text = format!(
        "# HELP sealstore_kms_operations_total Uses of a KMS key: data keys sealed or opened with it, bucket keys made or opened.\n# TYPE sealstore_kms_operations_total counter\nsealstore_kms_operations_total {}\n",
        state.crypto.keyring.operations()
    );
    let mut res = Response::new(Body::from(text));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    res
}

/// Whether this connection must close after the response, announced with `Connection: close`:
/// - the client asked for `100 Continue` and did not get it (hyper sends it only for a non-empty
///   body the handler reads): botocore then keeps the final status line it saw instead of `100` for
///   the *next* request on that connection (boto/botocore#3755);
/// - the request's body was left unread (see `drain`): hyper cannot reuse the connection then,
///   and clients that keep connections must be told rather than find out.
fn must_close(req: &http::HeaderMap, body_unread: bool) -> bool {
    let empty = req
        .get(header::CONTENT_LENGTH)
        .is_none_or(|v| v.as_bytes() == b"0")
        && !req.contains_key(header::TRANSFER_ENCODING);
    (expects_continue(req) && empty) || body_unread
}

fn expects_continue(req: &http::HeaderMap) -> bool {
    req.get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"))
}

/// Adds the request id headers, and renders an `S3Error` carried by the response as XML (HEAD
/// responses carry no body).
fn finish_response(res: &mut Response, resource: &str, rid: &RequestId, is_head: bool) {
    if let Some(err) = res.extensions_mut().remove::<Arc<S3Error>>() {
        if let Some(cause) = &err.internal {
            tracing::error!(request_id = %rid.id, cause = %cause, "internal error");
        }
        let xml = err.to_xml(resource, &rid.id, &rid.host_id);
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if is_head {
            *res.body_mut() = Body::empty();
        } else {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(xml.len()));
            *res.body_mut() = Body::from(xml);
        }
    }
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&rid.id) {
        h.insert(X_AMZ_REQUEST_ID, v);
    }
    if let Ok(v) = HeaderValue::from_str(&rid.host_id) {
        h.insert(X_AMZ_ID_2, v);
    }
    h.insert(header::SERVER, HeaderValue::from_static("sealstore"));
}
