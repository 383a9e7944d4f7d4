//! Application state: what every request handler shares (storage, configuration, the key
//! hierarchy, session keys), and how it is opened from a `Config`. It lives below `http/` and
//! `ops/` (not in `server.rs`) so that the layers that use it never import the server.

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

/// The master key the configuration names. A key is generated (at first start) only when the
/// data dir holds no data yet: with `holds_data`, a missing key file is an error, since a new key
/// could not open what is there and would be left behind, named like the right one.
pub fn master_key(config: &Config, holds_data: bool) -> Result<MasterKey, CryptoError> {
    match (&config.master_key, &config.storage) {
        (MasterKeySource::File(path), _) => {
            if !path.exists() {
                return Err(CryptoError::MasterKeyMissing(format!(
                    "{} does not exist",
                    path.display()
                )));
            }
            MasterKey::load(path)
        }
        (MasterKeySource::Key(key), _) => Ok(key.clone()),
        (MasterKeySource::Default, StorageMode::Memory) => Ok(MasterKey::generate()),
        (MasterKeySource::Default, StorageMode::Dir(dir)) => {
            let path = dir.join(GENERATED_MASTER_KEY);
            if path.exists() {
                return MasterKey::load(&path);
            }
            if holds_data {
                return Err(CryptoError::MasterKeyMissing(format!(
                    "{} does not exist, but {} holds data sealed under a master key; restore that file, or name the key with --master-key-file or SEALSTORE_MASTER_KEY",
                    path.display(),
                    dir.display()
                )));
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
        let holds_data = crate::crypto::system::initialised(&store).await?;
        let master = master_key(&config, holds_data)?;
        let system = crate::crypto::system::load_or_init(&store, &master).await?;
        store.set_record_keys(crate::crypto::records::RecordKeys::new(&system.metadata));
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
