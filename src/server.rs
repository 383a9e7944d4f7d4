//! The HTTP server: state, the axum app (one fallback handler), and `run` with graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use crate::config::{Config, StorageMode};
use crate::store::{Store, StoreError};

pub struct AppState {
    pub store: Store,
    pub config: Config,
}

impl AppState {
    /// Opens the storage the configuration names.
    pub async fn open(config: Config) -> Result<AppState, StoreError> {
        let store = match &config.storage {
            StorageMode::Dir(dir) => Store::open_dir(dir).await?,
            StorageMode::Memory => Store::memory(),
        };
        Ok(AppState { store, config })
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
