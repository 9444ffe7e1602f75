//! The OS keyring through the `keyring` crate: the Secret Service over D-Bus
//! (with the kernel keyring as its cache) on Linux, the Keychain on macOS,
//! the Credential Manager on Windows.
//!
//! Every call runs on a thread of its own: the Secret Service client drives
//! its own async runtime and deadlocks when called from inside ours. Entries
//! are kept once made, so that keyring's mock backend (which keeps a secret
//! only in the entry object) also works across calls in tests.

use super::{SecretStore, StoreError};
use keyring::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The OS keyring.
#[derive(Default)]
pub struct KeyringStore {
    entries: Mutex<HashMap<(String, String), Arc<Entry>>>,
}

impl KeyringStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn entry(&self, service: &str, user: &str) -> Result<Arc<Entry>, StoreError> {
        let key = (service.to_string(), user.to_string());
        let mut map = self
            .entries
            .lock()
            .map_err(|_| StoreError::Other("keyring: poisoned lock".into()))?;
        if let Some(e) = map.get(&key) {
            return Ok(e.clone());
        }
        let entry = Arc::new(Entry::new(service, user).map_err(map_error)?);
        map.insert(key, entry.clone());
        Ok(entry)
    }
}

/// Runs `f` on a fresh thread and waits for it.
fn off_thread<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, StoreError> {
    std::thread::scope(|s| {
        s.spawn(f)
            .join()
            .map_err(|_| StoreError::Other("the keyring call failed unexpectedly".into()))
    })
}

fn map_error(e: keyring::Error) -> StoreError {
    match e {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            StoreError::Unavailable(inner.to_string())
        }
        // These carry no secret: names, lengths, the entries' own descriptions.
        other => StoreError::Other(format!("keyring: {other}")),
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, StoreError> {
        let entry = self.entry(service, user)?;
        off_thread(move || match entry.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_error(e)),
        })?
    }

    fn set(&self, service: &str, user: &str, value: &str) -> Result<(), StoreError> {
        let entry = self.entry(service, user)?;
        off_thread(move || entry.set_password(value).map_err(map_error))?
    }

    fn delete(&self, service: &str, user: &str) -> Result<bool, StoreError> {
        let entry = self.entry(service, user)?;
        off_thread(move || match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_error(e)),
        })?
    }
}

/// Makes the `keyring` crate use its mock backend (process-wide, before any entry is made).
#[cfg(test)]
pub(crate) fn use_mock_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock() {
        use_mock_keyring();
    }

    #[test]
    fn keeps_secrets_across_calls_with_the_mock_backend() {
        mock();
        let k = KeyringStore::new();
        assert_eq!(k.get("social:test", "x").unwrap(), None);
        k.set("social:test", "x", "{\"v\":1}").unwrap();
        assert_eq!(
            k.get("social:test", "x").unwrap().as_deref(),
            Some("{\"v\":1}")
        );
        k.set("social:test", "x", "{\"v\":2}").unwrap();
        assert_eq!(
            k.get("social:test", "x").unwrap().as_deref(),
            Some("{\"v\":2}")
        );
        assert!(k.delete("social:test", "x").unwrap());
        assert!(!k.delete("social:test", "x").unwrap());
        assert_eq!(k.get("social:test", "x").unwrap(), None);
    }

    #[test]
    fn platform_failures_read_as_no_keyring() {
        mock();
        let k = KeyringStore::new();
        let entry = k.entry("social:test", "broken").unwrap();
        let m: &keyring::mock::MockCredential = entry.get_credential().downcast_ref().unwrap();
        m.set_error(keyring::Error::NoStorageAccess(
            "no D-Bus session bus".into(),
        ));
        let e = k.get("social:test", "broken").unwrap_err();
        assert!(
            matches!(e, StoreError::Unavailable(ref m) if m.contains("D-Bus")),
            "{e:?}"
        );
    }
}
