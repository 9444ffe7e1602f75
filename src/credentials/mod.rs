//! Secrets of accounts: where they live and how the engine gets a valid one.
//!
//! Lookup order for account NAME: the environment variable
//! `SOCIAL_<NAME>_TOKEN` (CI; NAME upper-cased, other characters as `_`),
//! then the explicit insecure file (`--insecure-storage`), then the OS
//! keyring. What is stored is one JSON document per account
//! ([`StoredCredential`]: the token or app password, a refresh token, expiry,
//! a client secret), keyed by project (a hash of its canonical root) and
//! account name. Nothing secret goes anywhere else: not social.toml, not the
//! state store, not `.social/accounts.json` (which holds only what
//! `accounts list` and `validate` show: identity, expiry, last check).
//!
//! [`Credentials`] is the one service the engine asks for a valid token; it
//! refreshes tokens that expire within five minutes or that a platform just
//! refused, through the [`Refresher`] it is built with (each platform's
//! `account` module knows how its tokens last and are renewed). This module
//! imports only the model and the configuration.

mod file_store;
mod keyring_store;
mod memory_store;
pub mod meta;
mod service;

pub use file_store::{FileStore, insecure_file_path};
pub use keyring_store::KeyringStore;
pub use memory_store::MemoryStore;
pub use meta::{AccountMeta, AccountsMeta, CheckResult, ExpiryWarning, expiry_warnings};
pub use service::{Credentials, REFRESH_MARGIN, RefreshOutcome, Refresher};

use crate::model::PlatformKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// A secret value that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…")
    }
}

/// The environment variable holding account `name`'s secret.
pub fn env_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("SOCIAL_{upper}_TOKEN")
}

/// The secret of account `name` from the environment, if set there.
pub fn secret(name: &str) -> Option<Secret> {
    std::env::var(env_var(name))
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Secret(s.trim().to_string()))
}

/// Where an account's credential comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `SOCIAL_<NAME>_TOKEN` (overrides everything stored).
    Environment,
    /// The OS keyring.
    Keyring,
    /// The insecure file (`--insecure-storage`).
    File,
    /// Nowhere.
    None,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Environment => "environment",
            Source::Keyring => "keyring",
            Source::File => "file",
            Source::None => "none",
        })
    }
}

/// Where a stored credential is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Keyring,
    File,
}

impl From<Place> for Source {
    fn from(p: Place) -> Source {
        match p {
            Place::Keyring => Source::Keyring,
            Place::File => Source::File,
        }
    }
}

/// Everything secret about one account, stored as one JSON document so that
/// a token set (access + refresh + expiry) is replaced in one atomic write.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCredential {
    pub platform: PlatformKind,
    /// The app password (Bluesky) or the access token (the others).
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When `secret` stops working (access tokens), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the refresh token stops working, if the platform said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_expires_at: Option<DateTime<Utc>>,
    /// The OAuth client the token was issued to (a registered Mastodon app,
    /// the X or LinkedIn app): refreshing needs the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub obtained_at: DateTime<Utc>,
    /// Set while a refresh request is out: if it is still set when the
    /// credential is read again, a run stopped between sending the refresh
    /// and storing its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshing_since: Option<DateTime<Utc>>,
    /// The refresh token this one replaced (kept one generation, for servers
    /// that still accept it briefly and for diagnosis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_refresh_token: Option<String>,
}

impl fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCredential")
            .field("platform", &self.platform)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("expires_at", &self.expires_at)
            .field("obtained_at", &self.obtained_at)
            .finish_non_exhaustive()
    }
}

impl StoredCredential {
    /// A credential holding only `secret` (an app password or a pasted token).
    pub fn plain(platform: PlatformKind, secret: impl Into<String>, now: DateTime<Utc>) -> Self {
        StoredCredential {
            platform,
            secret: secret.into(),
            refresh_token: None,
            expires_at: None,
            refresh_expires_at: None,
            client_id: None,
            client_secret: None,
            obtained_at: now,
            refreshing_since: None,
            previous_refresh_token: None,
        }
    }

    /// The secret as the platform clients take it.
    pub fn as_secret(&self) -> Secret {
        Secret::new(self.secret.clone())
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    fn from_json(s: &str) -> Result<Self, StoreError> {
        serde_json::from_str(s).map_err(|e| {
            // serde's message may quote the input: say only where it broke.
            StoreError::Other(format!(
                "the stored credential cannot be read (line {}, column {}); log in again",
                e.line(),
                e.column()
            ))
        })
    }
}

/// A failure of a secret store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// There is no keyring service to talk to (a headless machine).
    #[error("no OS keyring is available here ({0})")]
    Unavailable(String),
    #[error("{0}")]
    Other(String),
}

/// A place that keeps secrets by (service, user): the OS keyring, the
/// insecure file, or memory in tests.
pub trait SecretStore: Send + Sync {
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, StoreError>;
    /// Replaces the value in one step: a reader sees the old or the new one.
    fn set(&self, service: &str, user: &str, value: &str) -> Result<(), StoreError>;
    /// Deletes the value; `Ok(false)` when there was none.
    fn delete(&self, service: &str, user: &str) -> Result<bool, StoreError>;
}

/// A project's key in the secret stores: a hash of its canonical root, so
/// that two projects may both have an account called `x`.
pub fn project_key(root: &Path) -> String {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("social:{hex}")
}

/// The secrets of one project: its keyring entries and its part of the
/// insecure file.
#[derive(Clone)]
pub struct Vault {
    service: String,
    keyring: Arc<dyn SecretStore>,
    file: Arc<dyn SecretStore>,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// A stored credential and where it was found.
#[derive(Clone, Debug)]
pub struct Found {
    pub place: Place,
    pub credential: StoredCredential,
}

impl Vault {
    /// The vault of the project at `root`: the OS keyring and the insecure file.
    pub fn for_project(root: &Path) -> Vault {
        Vault::new(
            root,
            Arc::new(KeyringStore::new()),
            Arc::new(FileStore::new(insecure_file_path())),
        )
    }

    /// A vault over the given stores (tests put a [`MemoryStore`] here).
    pub fn new(root: &Path, keyring: Arc<dyn SecretStore>, file: Arc<dyn SecretStore>) -> Vault {
        Vault {
            service: project_key(root),
            keyring,
            file,
        }
    }

    fn store(&self, place: Place) -> &dyn SecretStore {
        match place {
            Place::Keyring => self.keyring.as_ref(),
            Place::File => self.file.as_ref(),
        }
    }

    /// Whether the keyring can be used here; the reason when it cannot.
    pub fn keyring_available(&self) -> Result<(), StoreError> {
        self.keyring
            .get(&self.service, "__probe__")
            .map(|_| ())
            .map_err(|e| match e {
                StoreError::Other(m) => StoreError::Unavailable(m),
                u => u,
            })
    }

    /// The stored credential of `account`: the insecure file first (it needs
    /// no service), then the keyring. A keyring that is not there counts as
    /// empty; its error is returned alongside for messages.
    pub fn load(&self, account: &str) -> (Option<Found>, Option<StoreError>) {
        let mut problem = None;
        for place in [Place::File, Place::Keyring] {
            match self.store(place).get(&self.service, account) {
                Ok(Some(json)) => match StoredCredential::from_json(&json) {
                    Ok(credential) => return (Some(Found { place, credential }), problem),
                    Err(e) => problem = Some(e),
                },
                Ok(None) => {}
                Err(e) => problem = Some(e),
            }
        }
        (None, problem)
    }

    /// Stores `credential` for `account` at `place` in one write, then drops
    /// any copy in the other place.
    pub fn save(
        &self,
        account: &str,
        credential: &StoredCredential,
        place: Place,
    ) -> Result<(), StoreError> {
        self.store(place)
            .set(&self.service, account, &credential.to_json())?;
        let other = match place {
            Place::Keyring => Place::File,
            Place::File => Place::Keyring,
        };
        let _ = self.store(other).delete(&self.service, account);
        Ok(())
    }

    /// Deletes `account`'s secrets everywhere; says where there were some.
    pub fn delete(&self, account: &str) -> (Vec<Place>, Option<StoreError>) {
        let mut gone = Vec::new();
        let mut problem = None;
        for place in [Place::File, Place::Keyring] {
            match self.store(place).delete(&self.service, account) {
                Ok(true) => gone.push(place),
                Ok(false) => {}
                Err(e) => problem = Some(e),
            }
        }
        (gone, problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_redaction() {
        assert_eq!(env_var("my-bsky.2"), "SOCIAL_MY_BSKY_2_TOKEN");
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(…) …");
        let mut c =
            StoredCredential::plain(PlatformKind::Twitter, "access-hunter2", chrono::Utc::now());
        c.refresh_token = Some("refresh-hunter2".into());
        c.client_secret = Some("client-hunter2".into());
        let d = format!("{c:?}");
        assert!(!d.contains("hunter2"), "{d}");
    }

    #[test]
    fn projects_are_keyed_apart() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        assert_ne!(project_key(a.path()), project_key(b.path()));
        assert_eq!(project_key(a.path()), project_key(a.path()));
        // The same directory reached through `..` is the same project.
        let sub = a.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert_eq!(project_key(a.path()), project_key(&sub.join("..")));
    }

    #[test]
    fn vault_saves_in_one_place_and_deletes_everywhere() {
        let root = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryStore::default());
        let file = Arc::new(MemoryStore::default());
        let v = Vault::new(root.path(), keyring.clone(), file.clone());
        let c = StoredCredential::plain(PlatformKind::Mastodon, "tok", chrono::Utc::now());
        v.save("fedi", &c, Place::File).unwrap();
        assert_eq!(v.load("fedi").0.unwrap().place, Place::File);
        v.save("fedi", &c, Place::Keyring).unwrap();
        let found = v.load("fedi").0.unwrap();
        assert_eq!(found.place, Place::Keyring);
        assert_eq!(found.credential, c);
        assert_eq!(file.len(), 0, "the file copy is dropped");
        assert_eq!(v.delete("fedi").0, vec![Place::Keyring]);
        assert!(v.load("fedi").0.is_none());
    }

    #[test]
    fn an_unreadable_entry_says_so_without_quoting_it() {
        let root = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryStore::default());
        let v = Vault::new(
            root.path(),
            keyring.clone(),
            Arc::new(MemoryStore::default()),
        );
        keyring
            .set(&project_key(root.path()), "x", "{\"secret\": \"hunter2\"")
            .unwrap();
        let (found, problem) = v.load("x");
        assert!(found.is_none());
        let msg = problem.unwrap().to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
