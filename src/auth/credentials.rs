//! Access keys, secret keys and the accounts they belong to.

use std::collections::HashMap;

use zeroize::Zeroize;

/// A secret access key. Never printed: `Debug` is redacted and the bytes are wiped on drop.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn new(s: impl Into<String>) -> Self {
        SecretKey(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Credential {
    pub secret: SecretKey,
    pub account_id: String,
}

/// The users the server accepts, by access key.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    users: HashMap<String, Credential>,
}

impl CredentialStore {
    pub fn insert(
        &mut self,
        access_key: impl Into<String>,
        secret: SecretKey,
        account_id: impl Into<String>,
    ) {
        self.users.insert(
            access_key.into(),
            Credential {
                secret,
                account_id: account_id.into(),
            },
        );
    }

    pub fn get(&self, access_key: &str) -> Option<&Credential> {
        self.users.get(access_key)
    }

    /// Every account id, once each, sorted.
    pub fn accounts(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.users.values().map(|c| c.account_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let s = SecretKey::new("wJalrXUtnFEMI");
        assert_eq!(format!("{s:?}"), "SecretKey(<redacted>)");
        let mut store = CredentialStore::default();
        store.insert("AK", s, "000000000000");
        assert!(!format!("{store:?}").contains("wJalr"));
    }
}
