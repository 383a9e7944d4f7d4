//! S3 Express session credentials (CreateSession on directory buckets), kept stateless: the session
//! token is its own record — account, bucket, mode, expiry and a nonce — with an HMAC under a
//! server key, and the session's access key and secret are HMACs of that record. Nothing is stored,
//! sessions survive a restart (the key derives from the master key), and a token that was edited
//! in any way fails its MAC. The token carries no secret: the secret is recomputed from it.

use base64::Engine;
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::crypto::DataKey;

/// How long session credentials last (S3: five minutes, not extendable).
pub const SESSION_SECS: i64 = 5 * 60;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub access_key: String,
    pub account_id: String,
    pub bucket: String,
    pub read_only: bool,
    pub expires_secs: i64,
}

/// Credentials as CreateSession hands them out.
pub struct Issued {
    pub session: Session,
    pub secret: String,
    pub token: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Invalid,
    Expired,
}

/// The server key that MACs session tokens, and the lifetime of new sessions.
pub struct SessionKeys {
    key: DataKey,
    lifetime_secs: i64,
}

impl SessionKeys {
    pub fn new(key: DataKey) -> SessionKeys {
        SessionKeys::with_lifetime(key, SESSION_SECS)
    }

    pub fn with_lifetime(key: DataKey, lifetime_secs: i64) -> SessionKeys {
        SessionKeys { key, lifetime_secs }
    }

    pub fn issue(&self, account_id: &str, bucket: &str, read_only: bool, now_secs: i64) -> Issued {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let expires_secs = now_secs + self.lifetime_secs;
        let mode = if read_only { "ReadOnly" } else { "ReadWrite" };
        let record = format!(
            "v1\n{account_id}\n{bucket}\n{mode}\n{expires_secs}\n{}",
            hex::encode(nonce)
        );
        let tag = self.key.mac(&[b"token", record.as_bytes()]);
        let token = format!("{}.{}", B64.encode(&record), B64.encode(tag));
        Issued {
            session: Session {
                access_key: self.access_key(&record),
                account_id: account_id.to_string(),
                bucket: bucket.to_string(),
                read_only,
                expires_secs,
            },
            secret: self.secret(&record),
            token,
        }
    }

    /// Checks a token's MAC and expiry; returns the session and its secret.
    pub fn open(&self, token: &str, now_secs: i64) -> Result<(Session, String), TokenError> {
        let (record_b64, tag_b64) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let record = B64.decode(record_b64).map_err(|_| TokenError::Invalid)?;
        let tag = B64.decode(tag_b64).map_err(|_| TokenError::Invalid)?;
        let expected = self.key.mac(&[b"token", &record]);
        if !bool::from(expected.as_slice().ct_eq(tag.as_slice())) {
            return Err(TokenError::Invalid);
        }
        let record = String::from_utf8(record).map_err(|_| TokenError::Invalid)?;
        let fields: Vec<&str> = record.split('\n').collect();
        let [version, account, bucket, mode, expires, _nonce] = fields.as_slice() else {
            return Err(TokenError::Invalid);
        };
        if *version != "v1" {
            return Err(TokenError::Invalid);
        }
        let expires_secs: i64 = expires.parse().map_err(|_| TokenError::Invalid)?;
        if now_secs >= expires_secs {
            return Err(TokenError::Expired);
        }
        Ok((
            Session {
                access_key: self.access_key(&record),
                account_id: account.to_string(),
                bucket: bucket.to_string(),
                read_only: *mode == "ReadOnly",
                expires_secs,
            },
            self.secret(&record),
        ))
    }

    fn access_key(&self, record: &str) -> String {
        let mac = self.key.mac(&[b"access-key", record.as_bytes()]);
        format!("ASIA{}", hex::encode_upper(&mac[..8]))
    }

    fn secret(&self, record: &str) -> String {
        let mac = self.key.mac(&[b"secret", record.as_bytes()]);
        base64::engine::general_purpose::STANDARD.encode(&mac[..30])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_until_they_expire_and_not_when_edited() {
        let keys = SessionKeys::new(DataKey::generate());
        let issued = keys.issue("000000000000", "d--use1-az4--x-s3", false, 1000);
        assert!(issued.session.access_key.starts_with("ASIA"));
        assert_eq!(issued.session.access_key.len(), 20);
        assert_eq!(issued.secret.len(), 40);
        let (s, secret) = keys.open(&issued.token, 1001).unwrap();
        assert_eq!(s, issued.session);
        assert_eq!(secret, issued.secret);
        assert_eq!(
            keys.open(&issued.token, 1000 + SESSION_SECS),
            Err(TokenError::Expired)
        );
        // Another bucket, the same MAC: refused.
        let (record, tag) = issued.token.split_once('.').unwrap();
        let edited = String::from_utf8(B64.decode(record).unwrap())
            .unwrap()
            .replace("d--use1", "e--use1");
        let forged = format!("{}.{tag}", B64.encode(edited));
        assert_eq!(keys.open(&forged, 1001), Err(TokenError::Invalid));
        assert_eq!(keys.open("garbage", 1001), Err(TokenError::Invalid));
        let other = SessionKeys::new(DataKey::generate());
        assert_eq!(other.open(&issued.token, 1001), Err(TokenError::Invalid));
        // The secret is never in the token.
        assert!(!issued.token.contains(&issued.secret));
    }
}
