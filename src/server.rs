//! The HTTP server: the axum app (one fallback handler), and `run` (plain HTTP) / `run_tls`
//! (HTTPS) with graceful shutdown. The state it serves is `state::AppState`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::http::framing::{AmbiguousFraming, ConnFraming, Watched};
use crate::state::AppState;

/// The router: every request goes to `http::entry::entry`, which routes by S3's rules.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(crate::http::entry::entry)
        .with_state(state)
}

/// Serves plain HTTP until `shutdown` resolves, then stops accepting, lets in-flight requests
/// finish and closes idle connections.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_loop(listener, state, None, shutdown).await
}

/// How long a client may take to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves HTTPS (HTTP/1.1 over rustls) until `shutdown` resolves, then stops accepting, lets
/// in-flight requests finish and closes idle connections, as [`run`] does. A failed TLS
/// handshake only ends that connection (logged at debug level).
pub async fn run_tls(
    listener: TcpListener,
    state: Arc<AppState>,
    tls_config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config);
    serve_loop(listener, state, Some(acceptor), shutdown).await
}

/// Raises the soft limit of open files to the hard limit, so that many idle connections do not
/// exhaust descriptors long before the system would; returns the limit now in force, if known.
#[cfg(unix)]
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    // An infinite hard limit is left alone: the kernel refuses it for open files anyway.
    let (Some(current), Some(maximum)) = (limit.current, limit.maximum) else {
        return limit.current;
    };
    if current >= maximum {
        return Some(current);
    }
    let raised = rustix::process::Rlimit {
        current: Some(maximum),
        maximum: Some(maximum),
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => Some(maximum),
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open files limit");
            Some(current)
        }
    }
}

#[cfg(not(unix))]
pub fn raise_fd_limit() -> Option<u64> {
    None
}

/// The accept loop of [`run`] and [`run_tls`].
async fn serve_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let http = http1_builder(&state.config);
    let router = app(state);
    let fds = raise_fd_limit();
    tracing::debug!(open_files_limit = ?fds, "serving");
    // `stop_tx.send` tells connection tasks to shut down gracefully; each task holds a clone of
    // `done_rx`, so `done_tx.closed()` resolves once every task has finished.
    let (stop_tx, stop_rx) = watch::channel(());
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    handle_accept_error(e).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        let http = http.clone();
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            match acceptor {
                Some(acceptor) => {
                    serve_tls_connection(acceptor, tcp, peer, http, router, stop).await
                }
                None => serve_connection(tcp, peer, &http, router, stop).await,
            }
            drop(done);
        });
    }
    drop(listener);
    tracing::debug!(
        connections = done_tx.receiver_count().saturating_sub(1),
        "not accepting new connections; waiting for open ones"
    );
    let _ = stop_tx.send(());
    drop(done_rx);
    done_tx.closed().await;
    Ok(())
}

/// The HTTP/1.1 connection settings: from the moment the server waits for a request head (a new
/// connection, or one idle between keep-alive requests), a client gets `header_timeout` to send
/// the whole header section; hyper closes the connection after that, without an answer. Header
/// sections over hyper's buffer (about 400 KiB) or with more than 100 lines get a bare 431.
fn http1_builder(config: &Config) -> hyper::server::conn::http1::Builder {
    let mut b = hyper::server::conn::http1::Builder::new();
    b.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(config.header_timeout);
    b
}

/// Serves one connection until it ends, or gracefully once `stop` fires. Its bytes are watched
/// for requests with both `Content-Length` and `Transfer-Encoding`, which hyper would otherwise
/// hand over as plain chunked requests (see `http::framing`).
async fn serve_connection<IO>(
    io: IO,
    peer: std::net::SocketAddr,
    http: &hyper::server::conn::http1::Builder,
    router: Router,
    mut stop: watch::Receiver<()>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let framing = Arc::new(ConnFraming::default());
    let io = TokioIo::new(Watched::new(io, framing.clone()));
    let inner = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        if framing.next_request_is_ambiguous() {
            req.extensions_mut().insert(AmbiguousFraming);
        }
        hyper::service::Service::call(&inner, req)
    });
    let conn = http.serve_connection(io, service).with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        res = conn.as_mut() => res,
        _ = stop.changed() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

async fn serve_tls_connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    http: hyper::server::conn::http1::Builder,
    router: Router,
    mut stop: watch::Receiver<()>,
) {
    // A connection still in its handshake at shutdown has no request in flight: drop it.
    let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
    let tls = tokio::select! {
        res = handshake => match res {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        _ = stop.changed() => return,
    };
    serve_connection(tls, peer, &http, router, stop).await;
}

/// As axum's `serve`: per-connection errors are ignored; others (e.g. out of file descriptors)
/// are logged and accepting pauses for a second.
async fn handle_accept_error(e: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!("accept error: {e}");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
