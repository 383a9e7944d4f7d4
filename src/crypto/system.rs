//! The keys the master key protects directly: the SSE-S3 key-encryption key, the keyring key and
//! the metadata key (which seals and authenticates object records, see [`super::records`]),
//! stored sealed in one metadata record together with the master key's check value. Because the
//! master key seals only this record, rotating it re-seals one record in one transaction: object
//! bodies and their sealed data keys are untouched, and no state in between is ever visible.

use serde::{Deserialize, Serialize};

use super::envelope::{self, KeyContext, SealedKey};
use super::error::CryptoError;
use super::key_store::KeyStore;
use super::keys::{DataKey, MasterKey};

const RECORD: &str = "system-keys";

#[derive(Serialize, Deserialize)]
struct Record {
    check_value: [u8; 32],
    sse_s3: SealedKey,
    keyring: SealedKey,
    /// Absent in data dirs written before records were sealed (metadata format 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<SealedKey>,
    /// How many system-key rotations have completed.
    #[serde(default)]
    generation: u32,
    /// The next generation's keys while a system-key rotation is under way (`rotate-system-keys`):
    /// records are re-sealed one by one from the current keys to these, then these become current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<NextKeys>,
}

#[derive(Serialize, Deserialize)]
struct NextKeys {
    sse_s3: SealedKey,
    keyring: SealedKey,
    metadata: SealedKey,
}

/// The unsealed system keys.
pub struct SystemKeys {
    pub sse_s3: DataKey,
    pub keyring: DataKey,
    /// Seals and authenticates object, upload and part records (metadata format 2).
    pub metadata: DataKey,
}

fn ctx(purpose: &str) -> KeyContext<'_> {
    KeyContext {
        purpose,
        bucket: "",
        key: "",
        object_id: "",
        extra: "",
    }
}

/// Purposes of the current keys' seals; the next generation's are these under `system/next/`.
const CURRENT: [&str; 3] = ["system/sse-s3", "system/keyring", "system/metadata"];
const NEXT: [&str; 3] = [
    "system/next/sse-s3",
    "system/next/keyring",
    "system/next/metadata",
];

impl SystemKeys {
    fn generate() -> SystemKeys {
        SystemKeys {
            sse_s3: DataKey::generate(),
            keyring: DataKey::generate(),
            metadata: DataKey::generate(),
        }
    }

    /// The three keys sealed under `kek`, each for its purpose in `purposes`.
    fn seal(&self, kek: &DataKey, purposes: [&str; 3]) -> Result<NextKeys, CryptoError> {
        Ok(NextKeys {
            sse_s3: envelope::seal(kek, &self.sse_s3, &ctx(purposes[0]))?,
            keyring: envelope::seal(kek, &self.keyring, &ctx(purposes[1]))?,
            metadata: envelope::seal(kek, &self.metadata, &ctx(purposes[2]))?,
        })
    }
}

/// The three keys opened with `kek`, each for its purpose in `purposes`.
fn open_keys(
    kek: &DataKey,
    sse_s3: &SealedKey,
    keyring: &SealedKey,
    metadata: &SealedKey,
    purposes: [&str; 3],
) -> Result<SystemKeys, CryptoError> {
    Ok(SystemKeys {
        sse_s3: envelope::unseal(kek, sse_s3, &ctx(purposes[0]))?,
        keyring: envelope::unseal(kek, keyring, &ctx(purposes[1]))?,
        metadata: envelope::unseal(kek, metadata, &ctx(purposes[2]))?,
    })
}

fn seal_record(
    master: &MasterKey,
    keys: &SystemKeys,
    generation: u32,
    next: Option<&SystemKeys>,
) -> Result<Vec<u8>, CryptoError> {
    let kek = master.kek("system");
    let next = next.map(|n| n.seal(&kek, NEXT)).transpose()?;
    let current = keys.seal(&kek, CURRENT)?;
    let record = Record {
        generation,
        next,
        check_value: master.check_value(),
        sse_s3: current.sse_s3,
        keyring: current.keyring,
        metadata: Some(current.metadata),
    };
    serde_json::to_vec(&record).map_err(|e| CryptoError::KeyStore(e.to_string()))
}

/// Writes the system-keys record (one write: the record is always whole).
async fn write_record(store: &impl KeyStore, bytes: Vec<u8>) -> Result<(), CryptoError> {
    store.put_key_record(RECORD, bytes).await
}

async fn read_record(store: &impl KeyStore) -> Result<Option<Record>, CryptoError> {
    let found = store.key_records(RECORD).await?;
    found
        .into_iter()
        .find(|(name, _)| name == RECORD)
        .map(|(_, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| CryptoError::KeyStore(e.to_string()))
        })
        .transpose()
}

/// Whether the store already holds system keys, that is data sealed under some master key.
pub async fn initialised(store: &impl KeyStore) -> Result<bool, CryptoError> {
    Ok(read_record(store).await?.is_some())
}

/// Opens the system keys with `master`, creating them on first start. A different master key than
/// the one the data was written with fails here, before anything is served, and so does a data
/// dir whose object records predate sealed, authenticated records (see `CryptoError::OldFormat`).
pub async fn load_or_init(
    store: &impl KeyStore,
    master: &MasterKey,
) -> Result<SystemKeys, CryptoError> {
    match read_record(store).await? {
        Some(rec) => {
            if rec.check_value != master.check_value() {
                return Err(CryptoError::WrongMasterKey);
            }
            if rec.next.is_some() {
                return Err(CryptoError::RotationPending);
            }
            let kek = master.kek("system");
            if let Some(m) = &rec.metadata {
                return open_keys(&kek, &rec.sse_s3, &rec.keyring, m, CURRENT);
            }
            // Format 1: unauthenticated records cannot be trusted after the fact (an edit made
            // before an upgrade would be signed by it), so a data dir holding any is refused;
            // one holding only buckets and keys gains its metadata key now.
            if store.holds_object_records().await? {
                return Err(CryptoError::OldFormat);
            }
            let keys = SystemKeys {
                sse_s3: envelope::unseal(&kek, &rec.sse_s3, &ctx(CURRENT[0]))?,
                keyring: envelope::unseal(&kek, &rec.keyring, &ctx(CURRENT[1]))?,
                metadata: DataKey::generate(),
            };
            write_record(store, seal_record(master, &keys, rec.generation, None)?).await?;
            Ok(keys)
        }
        None => {
            let keys = SystemKeys::generate();
            write_record(store, seal_record(master, &keys, 0, None)?).await?;
            Ok(keys)
        }
    }
}

/// A system-key rotation under way: the current keys and the next generation's.
pub struct Rotation {
    pub old: SystemKeys,
    pub new: SystemKeys,
    /// The generation `new` becomes.
    pub generation: u32,
}

/// Starts a system-key rotation, or picks up the one a kill interrupted: the next generation's
/// keys are generated once and stored (sealed by the master key) beside the current ones, in one
/// write, before any record changes.
pub async fn begin_rotation(
    store: &impl KeyStore,
    master: &MasterKey,
) -> Result<Rotation, CryptoError> {
    let rec = read_record(store)
        .await?
        .ok_or_else(|| CryptoError::KeyStore("no system keys: nothing to rotate".into()))?;
    if rec.check_value != master.check_value() {
        return Err(CryptoError::WrongMasterKey);
    }
    let kek = master.kek("system");
    let metadata = rec.metadata.as_ref().ok_or(CryptoError::OldFormat)?;
    let old = open_keys(&kek, &rec.sse_s3, &rec.keyring, metadata, CURRENT)?;
    let new = match &rec.next {
        Some(n) => open_keys(&kek, &n.sse_s3, &n.keyring, &n.metadata, NEXT)?,
        None => {
            let new = SystemKeys::generate();
            write_record(
                store,
                seal_record(master, &old, rec.generation, Some(&new))?,
            )
            .await?;
            new
        }
    };
    Ok(Rotation {
        old,
        new,
        generation: rec.generation + 1,
    })
}

/// Ends a rotation once every record is re-sealed: the next keys become current, in one write.
pub async fn finish_rotation(
    store: &impl KeyStore,
    master: &MasterKey,
    rotation: &Rotation,
) -> Result<(), CryptoError> {
    write_record(
        store,
        seal_record(master, &rotation.new, rotation.generation, None)?,
    )
    .await
}

/// Re-seals the system keys under `new` (after checking `old`), in one write.
pub async fn rotate(
    store: &impl KeyStore,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<(), CryptoError> {
    let keys = load_or_init(store, old).await?;
    let generation = read_record(store).await?.map(|r| r.generation).unwrap_or(0);
    write_record(store, seal_record(new, &keys, generation, None)?).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::key_store::memory::MemoryKeyStore as Store;

    #[tokio::test]
    async fn wrong_master_key_is_refused_and_rotation_keeps_keys() {
        let store = Store::memory();
        let m1 = MasterKey::generate();
        let first = load_or_init(&store, &m1).await.unwrap();
        assert_eq!(
            load_or_init(&store, &m1).await.unwrap().sse_s3,
            first.sse_s3
        );
        assert!(matches!(
            load_or_init(&store, &MasterKey::generate()).await,
            Err(CryptoError::WrongMasterKey)
        ));
        let m2 = MasterKey::generate();
        rotate(&store, &m1, &m2).await.unwrap();
        let after = load_or_init(&store, &m2).await.unwrap();
        assert_eq!(after.sse_s3, first.sse_s3);
        assert_eq!(after.keyring, first.keyring);
        assert_eq!(after.metadata, first.metadata);
        assert!(matches!(
            load_or_init(&store, &m1).await,
            Err(CryptoError::WrongMasterKey)
        ));
        assert!(
            rotate(&store, &m1, &m2).await.is_err(),
            "rotation needs the current key"
        );
    }

    /// A format-1 system record (no metadata key): gains one when the data dir holds no object or
    /// upload record; refused, with the format named, when it does.
    #[tokio::test]
    async fn format_1_data_dirs_upgrade_only_when_empty_of_records() {
        let master = MasterKey::generate();
        let old_record = |keys: &SystemKeys| {
            let kek = master.kek("system");
            serde_json::to_vec(&Record {
                check_value: master.check_value(),
                sse_s3: envelope::seal(&kek, &keys.sse_s3, &ctx("system/sse-s3")).unwrap(),
                keyring: envelope::seal(&kek, &keys.keyring, &ctx("system/keyring")).unwrap(),
                metadata: None,
                generation: 0,
                next: None,
            })
            .unwrap()
        };
        let empty = Store::memory();
        let keys = load_or_init(&empty, &master).await.unwrap();
        empty.put_config(RECORD, old_record(&keys)).await.unwrap();
        let upgraded = load_or_init(&empty, &master).await.unwrap();
        assert_eq!(upgraded.sse_s3, keys.sse_s3);
        assert_eq!(
            load_or_init(&empty, &master).await.unwrap().metadata,
            upgraded.metadata
        );

        let full = Store::memory();
        let keys = load_or_init(&full, &master).await.unwrap();
        full.add_object_record();
        full.put_config(RECORD, old_record(&keys)).await.unwrap();
        let refused = load_or_init(&full, &master).await;
        assert!(matches!(refused, Err(CryptoError::OldFormat)));
        assert!(
            CryptoError::OldFormat
                .to_string()
                .contains("metadata format 1")
        );
    }
}
