//! A local KMS keyring: symmetric keys with ids, ARNs and aliases, per account, persisted in the
//! metadata store with their material sealed under the master key. The AWS-managed key `aws/s3`
//! of an account is created on first use. Every use of a key's material to seal or open a data key
//! counts as one KMS operation (what S3 Bucket Keys save).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::envelope::{self, KeyContext, SealedKey};
use super::error::CryptoError;
use super::key_store::KeyStore;
use super::keys::DataKey;
use crate::clock::now_millis;

const RECORD_PREFIX: &str = "kms-key/";
pub const AWS_MANAGED_ALIAS: &str = "alias/aws/s3";

/// A key as persisted: everything but the material is plain; the material is sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyRecord {
    id: String,
    account: String,
    region: String,
    aliases: Vec<String>,
    aws_managed: bool,
    created_millis: i64,
    material: SealedKey,
}

/// A usable KMS key.
#[derive(Debug, Clone)]
pub struct KmsKey {
    pub id: String,
    pub arn: String,
    material: DataKey,
}

impl KmsKey {
    pub fn material(&self) -> &DataKey {
        &self.material
    }
}

type KeyMap = HashMap<(String, String), (KeyRecord, DataKey)>;

pub struct Keyring {
    /// Seals every key's material (itself sealed under the master key, see `system`).
    kek: DataKey,
    region: String,
    auto_create: bool,
    keys: Mutex<KeyMap>,
    operations: AtomicU64,
}

fn record_name(account: &str, id: &str) -> String {
    format!("{RECORD_PREFIX}{account}/{id}")
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn new_uuid() -> String {
    let k = DataKey::generate();
    let h = hex::encode(&k.as_bytes()[..16]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// What a request's key reference names.
enum KeyRef<'a> {
    Id(&'a str),
    Alias(String),
}

/// System-key rotation: re-seals every KMS key's material from the keyring key `old` to `new`.
/// A record already under `new` is left as it is, so a rerun after a kill carries on. Returns how
/// many records were re-sealed and how many there are.
pub async fn reseal_keyring(
    store: &impl KeyStore,
    old: &DataKey,
    new: &DataKey,
) -> Result<(usize, usize), CryptoError> {
    let ks = |e: String| CryptoError::KeyStore(e);
    let records = store.key_records(RECORD_PREFIX).await?;
    let total = records.len();
    let mut done = 0;
    for (name, bytes) in records {
        let mut rec: KeyRecord = serde_json::from_slice(&bytes).map_err(|e| ks(e.to_string()))?;
        let ctx = Keyring::context(&rec.account, &rec.id);
        if envelope::unseal(new, &rec.material, &ctx).is_ok() {
            continue;
        }
        let material = envelope::unseal(old, &rec.material, &ctx)?;
        rec.material = envelope::seal(new, &material, &ctx)?;
        let bytes = serde_json::to_vec(&rec).map_err(|e| ks(e.to_string()))?;
        store.put_key_record(&name, bytes).await?;
        done += 1;
    }
    Ok((done, total))
}

impl Keyring {
    /// Loads every persisted key, opening its material with the master key.
    pub async fn load(
        store: &impl KeyStore,
        kek: DataKey,
        region: &str,
        auto_create: bool,
    ) -> Result<Keyring, CryptoError> {
        let ring = Keyring {
            kek,
            region: region.to_string(),
            auto_create,
            keys: Mutex::new(HashMap::new()),
            operations: AtomicU64::new(0),
        };
        let records = store.key_records(RECORD_PREFIX).await?;
        let mut keys = HashMap::new();
        for (_, bytes) in records {
            let rec: KeyRecord =
                serde_json::from_slice(&bytes).map_err(|e| CryptoError::KeyStore(e.to_string()))?;
            let material = envelope::unseal(
                &ring.kek,
                &rec.material,
                &Self::context(&rec.account, &rec.id),
            )?;
            keys.insert((rec.account.clone(), rec.id.clone()), (rec, material));
        }
        *ring.lock()? = keys;
        Ok(ring)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, KeyMap>, CryptoError> {
        self.keys
            .lock()
            .map_err(|_| CryptoError::KeyStore("keyring lock poisoned".into()))
    }

    fn context<'a>(account: &'a str, id: &'a str) -> KeyContext<'a> {
        KeyContext {
            purpose: "kms-key",
            bucket: account,
            key: id,
            object_id: "",
            extra: "",
        }
    }

    pub fn arn(&self, account: &str, id: &str) -> String {
        format!("arn:aws:kms:{}:{account}:key/{id}", self.region)
    }

    /// KMS operations so far (data keys sealed or opened with a KMS key).
    pub fn operations(&self) -> u64 {
        self.operations.load(Ordering::Relaxed)
    }

    /// Counts one KMS operation and hands out the key's material for it.
    pub fn count_operation(&self) {
        self.operations.fetch_add(1, Ordering::Relaxed);
    }

    /// Creates a key (with an optional alias) unless it exists; used for `--kms-key`.
    pub async fn ensure(
        &self,
        store: &impl KeyStore,
        account: &str,
        reference: &str,
    ) -> Result<KmsKey, CryptoError> {
        match self.find(account, reference)? {
            Some(k) => Ok(k),
            None => self.create(store, account, reference, false).await,
        }
    }

    /// Resolves a request's key reference (key id, key ARN, alias, alias ARN, or none for the
    /// AWS-managed key) to a key of `account`, as S3 + KMS would.
    pub async fn resolve(
        &self,
        store: &impl KeyStore,
        account: &str,
        reference: Option<&str>,
    ) -> Result<KmsKey, CryptoError> {
        let Some(reference) = reference else {
            return match self.find(account, AWS_MANAGED_ALIAS)? {
                Some(k) => Ok(k),
                None => self.create(store, account, AWS_MANAGED_ALIAS, true).await,
            };
        };
        // An ARN must name this region and the caller's account: another key with the same id is
        // never used in its place.
        self.check_reference(account, reference)?;
        if let Some(k) = self.find(account, reference)? {
            return Ok(k);
        }
        if self.auto_create {
            return self.create(store, account, reference, false).await;
        }
        Err(self.not_found(account, reference))
    }

    /// A key that refers to the wrong region is an error even with auto-create.
    fn check_reference(&self, account: &str, reference: &str) -> Result<(), CryptoError> {
        if let Some(rest) = reference.strip_prefix("arn:aws:kms:") {
            let region = rest.split(':').next().unwrap_or("");
            if region != self.region {
                return Err(CryptoError::KmsNotFound {
                    message: format!("Invalid arn {region}"),
                });
            }
            let acct = rest.split(':').nth(1).unwrap_or("");
            if acct != account {
                return Err(self.not_found(account, reference));
            }
        }
        Ok(())
    }

    fn not_found(&self, account: &str, reference: &str) -> CryptoError {
        // The message names the account the reference names (an ARN's), not the caller's.
        let account = reference
            .strip_prefix("arn:aws:kms:")
            .and_then(|rest| rest.split(':').nth(1))
            .unwrap_or(account);
        let message = match Self::parse_ref(reference) {
            KeyRef::Alias(a) => format!(
                "Alias arn:aws:kms:{}:{account}:{a} is not found.",
                self.region
            ),
            KeyRef::Id(id) if is_uuid(id) || reference.starts_with("arn:") => {
                format!("Key '{}' does not exist", self.arn(account, id))
            }
            KeyRef::Id(_) => format!("Invalid keyId '{reference}'"),
        };
        CryptoError::KmsNotFound { message }
    }

    fn parse_ref(reference: &str) -> KeyRef<'_> {
        let tail = match reference.strip_prefix("arn:aws:kms:") {
            Some(rest) => rest.splitn(3, ':').nth(2).unwrap_or(""),
            None => reference,
        };
        match tail.strip_prefix("key/") {
            Some(id) => KeyRef::Id(id),
            None if tail.starts_with("alias/") => KeyRef::Alias(tail.to_string()),
            None => KeyRef::Id(tail),
        }
    }

    fn find(&self, account: &str, reference: &str) -> Result<Option<KmsKey>, CryptoError> {
        let keys = self.lock()?;
        let found = match Self::parse_ref(reference) {
            KeyRef::Id(id) => keys.get(&(account.to_string(), id.to_string())),
            KeyRef::Alias(alias) => keys
                .values()
                .find(|(r, _)| r.account == account && r.aliases.contains(&alias)),
        };
        Ok(found.map(|(r, m)| KmsKey {
            id: r.id.clone(),
            arn: self.arn(account, &r.id),
            material: m.clone(),
        }))
    }

    async fn create(
        &self,
        store: &impl KeyStore,
        account: &str,
        reference: &str,
        aws_managed: bool,
    ) -> Result<KmsKey, CryptoError> {
        let (id, aliases) = match Self::parse_ref(reference) {
            KeyRef::Id(id) => (id.to_string(), Vec::new()),
            KeyRef::Alias(alias) => (new_uuid(), vec![alias]),
        };
        let material = DataKey::generate();
        let sealed = envelope::seal(&self.kek, &material, &Self::context(account, &id))?;
        let rec = KeyRecord {
            id: id.clone(),
            account: account.to_string(),
            region: self.region.clone(),
            aliases,
            aws_managed,
            created_millis: now_millis(),
            material: sealed,
        };
        let bytes = serde_json::to_vec(&rec).map_err(|e| CryptoError::KeyStore(e.to_string()))?;
        store
            .put_key_record(&record_name(account, &id), bytes)
            .await?;
        self.lock()?
            .insert((account.to_string(), id.clone()), (rec, material.clone()));
        Ok(KmsKey {
            arn: self.arn(account, &id),
            id,
            material,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_store::memory::MemoryKeyStore as Store;

    #[tokio::test]
    async fn keys_resolve_by_id_arn_and_alias_and_persist() {
        let store = Store::memory();
        let master = DataKey::generate();
        let ring = Keyring::load(&store, master.clone(), "us-east-1", false)
            .await
            .unwrap();
        let k = ring
            .ensure(&store, "000000000000", "testkey-1")
            .await
            .unwrap();
        assert_eq!(k.arn, "arn:aws:kms:us-east-1:000000000000:key/testkey-1");
        let by_arn = ring
            .resolve(&store, "000000000000", Some(&k.arn))
            .await
            .unwrap();
        assert_eq!(by_arn.material(), k.material());
        let aliased = ring
            .ensure(&store, "000000000000", "alias/app")
            .await
            .unwrap();
        assert!(is_uuid(&aliased.id), "{}", aliased.id);
        let by_alias = ring
            .resolve(
                &store,
                "000000000000",
                Some("arn:aws:kms:us-east-1:000000000000:alias/app"),
            )
            .await
            .unwrap();
        assert_eq!(by_alias.id, aliased.id);
        let managed = ring.resolve(&store, "000000000000", None).await.unwrap();
        assert_eq!(
            ring.resolve(&store, "000000000000", Some("alias/aws/s3"))
                .await
                .unwrap()
                .id,
            managed.id
        );
        assert_ne!(
            ring.resolve(&store, "111111111111", None).await.unwrap().id,
            managed.id,
            "per account"
        );
        // Reload: same keys, same material.
        let again = Keyring::load(&store, master, "us-east-1", false)
            .await
            .unwrap();
        assert_eq!(
            again
                .resolve(&store, "000000000000", Some("testkey-1"))
                .await
                .unwrap()
                .material(),
            k.material()
        );
        // A wrong master key cannot open the keyring.
        assert!(
            Keyring::load(&store, DataKey::generate(), "us-east-1", false)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn unknown_keys_fail_like_kms() {
        let store = Store::memory();
        let ring = Keyring::load(&store, DataKey::generate(), "us-east-1", false)
            .await
            .unwrap();
        let msg = |r: Result<KmsKey, CryptoError>| match r {
            Err(CryptoError::KmsNotFound { message }) => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg(ring
                .resolve(&store, "000000000000", Some("fake-key-id"))
                .await),
            "Invalid keyId 'fake-key-id'"
        );
        let uuid = "1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(
            msg(ring.resolve(&store, "000000000000", Some(uuid)).await),
            format!("Key 'arn:aws:kms:us-east-1:000000000000:key/{uuid}' does not exist")
        );
        assert_eq!(
            msg(ring
                .resolve(
                    &store,
                    "000000000000",
                    Some(&format!("arn:aws:kms:eu-west-1:000000000000:key/{uuid}"))
                )
                .await),
            "Invalid arn eu-west-1"
        );
        let auto = Keyring::load(&store, DataKey::generate(), "us-east-1", true).await;
        assert!(auto.is_ok());
        let auto = Keyring {
            auto_create: true,
            ..ring
        };
        assert!(
            auto.resolve(&store, "000000000000", Some("new-key"))
                .await
                .is_ok()
        );
    }
}
