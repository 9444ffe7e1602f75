//! Secrets in memory: the stand-in for the keyring in tests.

use super::{SecretStore, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;

/// A [`SecretStore`] in a map; optionally "unavailable" like a headless keyring.
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<(String, String), String>>,
    unavailable: Option<String>,
}

impl MemoryStore {
    /// A store that fails every call as a missing keyring service does.
    pub fn unavailable(reason: &str) -> Self {
        MemoryStore {
            map: Mutex::default(),
            unavailable: Some(reason.to_string()),
        }
    }

    /// How many secrets it holds.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn check(&self) -> Result<(), StoreError> {
        match &self.unavailable {
            Some(r) => Err(StoreError::Unavailable(r.clone())),
            None => Ok(()),
        }
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, StoreError> {
        self.check()?;
        let map = self
            .map
            .lock()
            .map_err(|_| StoreError::Other("poisoned".into()))?;
        Ok(map.get(&(service.to_string(), user.to_string())).cloned())
    }

    fn set(&self, service: &str, user: &str, value: &str) -> Result<(), StoreError> {
        self.check()?;
        let mut map = self
            .map
            .lock()
            .map_err(|_| StoreError::Other("poisoned".into()))?;
        map.insert((service.to_string(), user.to_string()), value.to_string());
        Ok(())
    }

    fn delete(&self, service: &str, user: &str) -> Result<bool, StoreError> {
        self.check()?;
        let mut map = self
            .map
            .lock()
            .map_err(|_| StoreError::Other("poisoned".into()))?;
        Ok(map
            .remove(&(service.to_string(), user.to_string()))
            .is_some())
    }
}
