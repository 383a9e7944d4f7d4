//! Server configuration, built from the command line (see `main.rs`) or directly by tests.

use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{CredentialStore, SecretKey};
use crate::crypto::MasterKey;

pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

#[derive(Debug, Clone)]
pub enum StorageMode {
    /// redb metadata + blob files under this directory.
    Dir(PathBuf),
    /// Nothing on disk.
    Memory,
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `--master-key-file`.
    File(PathBuf),
    /// `SEALSTORE_MASTER_KEY`, already parsed.
    Key(MasterKey),
    /// Neither: `DATA_DIR/master.key` (generated at first start), or a random key with `--memory`.
    Default,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub storage: StorageMode,
    pub region: String,
    /// Accept a SigV4 credential scope naming any region, for any bucket (S3 refuses a region
    /// other than the bucket's with AuthorizationHeaderMalformed; this keeps sealstore's old
    /// leniency for setups that mix region settings on purpose).
    pub any_region: bool,
    /// Virtual-hosted-style domain: `<bucket>.<domain>`.
    pub domain: String,
    pub credentials: CredentialStore,
    pub master_key: MasterKeySource,
    /// KMS keys (ids or `alias/NAME`) created at start for every account.
    pub kms_keys: Vec<String>,
    /// Create unknown KMS keys on first use instead of failing with KMS.NotFoundException.
    pub kms_auto_create: bool,
    /// GetBucketEncryption on a bucket without a rule answers the pre-2023 404
    /// `ServerSideEncryptionConfigurationNotFoundError` instead of today's SSE-S3 default.
    pub legacy_encryption_not_found: bool,
    /// New buckets allow SSE-C (S3 before April 2026) instead of blocking it.
    pub allow_ssec_by_default: bool,
    /// Lifetime of S3 Express session credentials (S3: 300 seconds).
    pub session_seconds: i64,
    /// Served over HTTPS (the scheme of the URLs sealstore writes into responses).
    pub https: bool,
    /// General purpose buckets an account may own (`TooManyBuckets` beyond; S3's default quota).
    pub max_buckets: usize,
    /// Directory buckets an account may own in the region (`TooManyBuckets` beyond; S3's quota).
    pub max_directory_buckets: usize,
    /// How long a client may leave a request body idle before `RequestTimeout`.
    pub body_timeout: Duration,
    /// How long a client may take to send a request's header section before the connection closes.
    pub header_timeout: Duration,
}

/// S3's default quota of general purpose buckets per account (raised from 100 in 2024).
pub const DEFAULT_MAX_BUCKETS: usize = 10_000;
/// S3's default quota of directory buckets per account and region.
pub const DEFAULT_MAX_DIRECTORY_BUCKETS: usize = 100;
/// S3 closes a connection idle for about 20 seconds in the middle of a request body.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(20);
/// Time to send a whole request header section (hyper's own default; S3's is not published).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--user must look like ACCESS:SECRET[:ACCOUNT_ID] (account id: 12 digits), got an entry for '{0}'"
    )]
    BadUser(String),
}

impl Config {
    /// A configuration with defaults for everything but storage and credentials.
    pub fn new(storage: StorageMode, credentials: CredentialStore) -> Config {
        Config {
            storage,
            region: "us-east-1".into(),
            any_region: false,
            domain: "localhost".into(),
            credentials,
            master_key: MasterKeySource::Default,
            kms_keys: Vec::new(),
            kms_auto_create: false,
            legacy_encryption_not_found: false,
            allow_ssec_by_default: false,
            session_seconds: crate::auth::session::SESSION_SECS,
            https: false,
            max_buckets: DEFAULT_MAX_BUCKETS,
            max_directory_buckets: DEFAULT_MAX_DIRECTORY_BUCKETS,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }

    /// The default account (`--access-key`/`--secret-key`) plus each `--user ACCESS:SECRET[:ACCOUNT]`.
    pub fn credentials_from(
        access_key: &str,
        secret_key: &str,
        users: &[String],
    ) -> Result<CredentialStore, ConfigError> {
        let mut store = CredentialStore::default();
        store.insert(access_key, SecretKey::new(secret_key), DEFAULT_ACCOUNT_ID);
        for user in users {
            let mut parts = user.splitn(3, ':');
            let (Some(ak), Some(sk)) = (parts.next(), parts.next()) else {
                return Err(ConfigError::BadUser(
                    user.split(':').next().unwrap_or("").to_string(),
                ));
            };
            let account = parts.next().unwrap_or(DEFAULT_ACCOUNT_ID);
            let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            if ak.is_empty() || sk.is_empty() || !valid_account {
                return Err(ConfigError::BadUser(ak.to_string()));
            }
            store.insert(ak, SecretKey::new(sk), account);
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_parse() {
        let s = Config::credentials_from(
            "test",
            "test",
            &["alice:secret:111111111111".into(), "bob:pw".into()],
        )
        .unwrap();
        assert_eq!(s.get("alice").unwrap().account_id, "111111111111");
        assert_eq!(s.get("bob").unwrap().account_id, DEFAULT_ACCOUNT_ID);
        assert_eq!(s.get("test").unwrap().account_id, DEFAULT_ACCOUNT_ID);
        assert!(Config::credentials_from("t", "t", &["nosecret".into()]).is_err());
        assert!(Config::credentials_from("t", "t", &["a:b:12".into()]).is_err());
        let err = Config::credentials_from("t", "t", &["a:topsecret:x".into()])
            .unwrap_err()
            .to_string();
        assert!(!err.contains("topsecret"));
    }
}
