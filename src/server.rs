//! The HTTP server: state, the axum app (one fallback handler), and `run` (plain HTTP) /
//! `run_tls` (HTTPS) with graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Config, MasterKeySource, StorageMode};
use crate::crypto::kms::Keyring;
use crate::crypto::{Crypto, CryptoError, MasterKey};
use crate::store::{Store, StoreError};

pub struct AppState {
    pub store: Store,
    pub config: Config,
    pub crypto: Crypto,
    /// MACs S3 Express session tokens (derived from the master key, so sessions outlive a restart).
    pub sessions: crate::auth::session::SessionKeys,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Crypto(#[from] CryptoError),
}

/// The file a generated master key lives in, beside the data.
pub const GENERATED_MASTER_KEY: &str = "master.key";

/// The master key the configuration names (generating one at first start when none is given).
pub fn master_key(config: &Config) -> Result<MasterKey, CryptoError> {
    match (&config.master_key, &config.storage) {
        (MasterKeySource::File(path), _) => MasterKey::load(path),
        (MasterKeySource::Key(key), _) => Ok(key.clone()),
        (MasterKeySource::Default, StorageMode::Memory) => Ok(MasterKey::generate()),
        (MasterKeySource::Default, StorageMode::Dir(dir)) => {
            let path = dir.join(GENERATED_MASTER_KEY);
            if path.exists() {
                return MasterKey::load(&path);
            }
            crate::fsmode::create_private_dir_all(dir)
                .map_err(|e| CryptoError::MasterKey(e.to_string()))?;
            let key = MasterKey::write_new(&path)?;
            tracing::warn!(
                path = %path.display(),
                "generated a master key beside the data it protects; use --master-key-file (or SEALSTORE_MASTER_KEY) to keep it elsewhere"
            );
            Ok(key)
        }
    }
}

impl AppState {
    /// Opens the storage and the key hierarchy the configuration names.
    pub async fn open(config: Config) -> Result<AppState, OpenError> {
        let store = match &config.storage {
            StorageMode::Dir(dir) => Store::open_dir(dir).await?,
            StorageMode::Memory => Store::memory(),
        };
        let master = master_key(&config)?;
        let system = crate::crypto::system::load_or_init(&store, &master).await?;
        let keyring = Keyring::load(
            &store,
            system.keyring.clone(),
            &config.region,
            config.kms_auto_create,
        )
        .await?;
        for account in config.credentials.accounts() {
            for key in &config.kms_keys {
                keyring.ensure(&store, &account, key).await?;
            }
        }
        let crypto = Crypto {
            sse_s3: system.sse_s3.clone(),
            keyring,
            bucket_keys: Default::default(),
        };
        let sessions = crate::auth::session::SessionKeys::with_lifetime(
            system.sse_s3.derive("s3express-session"),
            config.session_seconds,
        );
        Ok(AppState {
            store,
            config,
            crypto,
            sessions,
        })
    }
}

/// The router: every request goes to `http::entry::entry`, which routes by S3's rules.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .fallback(crate::http::entry::entry)
        .with_state(state)
}

/// Serves until `shutdown` resolves, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
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
    let router = app(state);
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
        let service = TowerToHyperService::new(router.clone());
        let stop = stop_rx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            serve_tls_connection(acceptor, tcp, peer, service, stop).await;
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

async fn serve_tls_connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    service: TowerToHyperService<Router>,
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
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .with_upgrades();
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
