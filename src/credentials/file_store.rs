//! The insecure file (`--insecure-storage`): secrets in plain text in a file
//! only its owner may read (0600, in a 0700 directory), for machines without
//! a keyring service. The GitHub CLI does the same with a warning.
//!
//! Path: `$XDG_CONFIG_HOME/social/credentials.toml` when that variable is an
//! absolute path, else `~/.config/social/credentials.toml`. Writes take a
//! lock file, write a temporary file, sync it and rename it over the old one:
//! a reader (or a crash) sees the old file or the new one, never half.

use super::{SecretStore, StoreError};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the insecure file lives.
pub fn insecure_file_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from(".config"));
    base.join("social").join("credentials.toml")
}

const HEADER: &str = "\
# Secrets of `social` accounts, kept here because they were stored with
# --insecure-storage (no OS keyring). Anyone who can read this file can post
# as these accounts: keep it private (mode 0600) and out of backups you share.
# Remove an account with `social accounts remove NAME`.
";

/// Project key → account → the credential's JSON.
type Contents = BTreeMap<String, BTreeMap<String, String>>;

/// The insecure file.
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(path: PathBuf) -> Self {
        FileStore { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Other(format!("{}: {what}: {e}", self.path.display()))
    }

    fn read(&self) -> Result<Contents, StoreError> {
        match std::fs::read_to_string(&self.path) {
            Ok(s) => toml::from_str(&s).map_err(|e| {
                // The TOML error would quote the line: name only the place.
                let at = e
                    .span()
                    .map(|r| format!(" at byte {}", r.start))
                    .unwrap_or_default();
                self.err("cannot read", format!("not valid TOML{at}"))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Contents::new()),
            Err(e) => Err(self.err("cannot read", e)),
        }
    }

    /// Runs `change` on the contents under the lock and writes them back.
    fn update<T>(&self, change: impl FnOnce(&mut Contents) -> T) -> Result<T, StoreError> {
        let dir = self
            .path
            .parent()
            .ok_or_else(|| self.err("cannot write", "no parent directory"))?;
        create_private_dir(dir).map_err(|e| self.err("cannot create its directory", e))?;
        let lock_path = self.path.with_extension("toml.lock");
        let lock = private_file(&lock_path, false).map_err(|e| self.err("cannot lock", e))?;
        lock.lock().map_err(|e| self.err("cannot lock", e))?;
        let mut contents = self.read()?;
        let out = change(&mut contents);
        contents.retain(|_, accounts| !accounts.is_empty());
        let mut text = String::from(HEADER);
        text.push('\n');
        text.push_str(
            &toml::to_string(&contents).map_err(|e| self.err("cannot write", e.to_string()))?,
        );
        let tmp = self
            .path
            .with_extension(format!("toml.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = private_file(&tmp, true)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)?;
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        };
        let r = write();
        if r.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        r.map_err(|e| self.err("cannot write", e))?;
        Ok(out)
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Opens (creating with mode 0600) a file only its owner can read.
fn private_file(path: &Path, truncate: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).write(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}

impl SecretStore for FileStore {
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, StoreError> {
        Ok(self.read()?.get(service).and_then(|a| a.get(user)).cloned())
    }

    fn set(&self, service: &str, user: &str, value: &str) -> Result<(), StoreError> {
        self.update(|c| {
            c.entry(service.to_string())
                .or_default()
                .insert(user.to_string(), value.to_string());
        })
    }

    fn delete(&self, service: &str, user: &str) -> Result<bool, StoreError> {
        if self.get(service, user)?.is_none() {
            return Ok(false);
        }
        self.update(|c| {
            c.get_mut(service)
                .map(|a| a.remove(user).is_some())
                .unwrap_or(false)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir
            .path()
            .join("cfg")
            .join("social")
            .join("credentials.toml");
        let f = FileStore::new(path.clone());
        assert_eq!(f.get("social:a", "x").unwrap(), None);
        f.set("social:a", "x", "{\"secret\":\"s1\"}").unwrap();
        f.set("social:b", "x", "{\"secret\":\"s2\"}").unwrap();
        assert_eq!(
            f.get("social:a", "x").unwrap().as_deref(),
            Some("{\"secret\":\"s1\"}")
        );
        assert_eq!(
            f.get("social:b", "x").unwrap().as_deref(),
            Some("{\"secret\":\"s2\"}")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let dmode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(dmode, 0o700);
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Secrets of `social` accounts"));
        assert!(f.delete("social:a", "x").unwrap());
        assert!(!f.delete("social:a", "x").unwrap());
        assert_eq!(f.get("social:a", "x").unwrap(), None);
        assert!(!std::fs::read_to_string(&path).unwrap().contains("social:a"));
    }

    #[test]
    fn xdg_config_home_only_when_absolute() {
        // Read the rule, not the process environment (tests run in parallel).
        let p = insecure_file_path();
        assert!(p.ends_with("social/credentials.toml"), "{}", p.display());
    }
}
