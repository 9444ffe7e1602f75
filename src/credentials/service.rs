//! The one service the engine, the daemon and `accounts` ask for a valid
//! credential, and the only code that refreshes tokens.
//!
//! Refresh tokens may rotate on every use (X's do, and a replayed old one
//! can retire the whole chain), so a refresh is done under a lock (per
//! account, across processes), re-reads what is stored first (another
//! process may have refreshed already), marks the stored credential as
//! "refresh in flight" before the request, and stores the answer in one
//! atomic write before the new token is used for anything: the old pair is
//! replaced only by a complete new one, never deleted first. A crash before
//! that write leaves the old pair and the marker; the next run tries the old
//! pair once and, if the server has retired it, says exactly that.

use super::{
    Found, Place, Secret, Source, StoreError, StoredCredential, Vault, meta::AccountsMeta,
};
use crate::config::{Account, Config};
use crate::platforms::{PlatformError, PlatformKind};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A token expiring sooner than this is refreshed before use.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// Environment variable that makes the process abort at a named point, so
/// that tests can prove a crash there loses nothing. Points:
/// `refresh-marked` (the in-flight marker is stored, the request not sent),
/// `token-received` (the refresh answer is in memory, not stored),
/// `token-stored` (the answer is stored, not yet used).
pub const CRASH_ENV: &str = "SOCIAL_TEST_CRASH_AT";

/// Aborts the process when [`CRASH_ENV`] names `point`.
pub fn crash_point(point: &str) {
    if std::env::var(CRASH_ENV).is_ok_and(|v| v == point) {
        eprintln!("social: aborting at `{point}` ({CRASH_ENV})");
        std::process::abort();
    }
}

/// What `accounts refresh` did for one account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new token was stored.
    Renewed { expires_at: Option<DateTime<Utc>> },
    /// Nothing to do, and why.
    Skipped(String),
}

/// Why a refresh is attempted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Why<'a> {
    /// The token expires within the margin.
    Expiring,
    /// The platform refused this token (401).
    Unauthorized(&'a str),
    /// `accounts refresh` or the daemon's daily check.
    Asked,
}

/// The credentials of one project's accounts.
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    vault: Vault,
    /// Renewed credentials that could not be stored, kept for this process.
    unsaved: Mutex<HashMap<String, (Place, StoredCredential)>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn store_error(e: StoreError) -> PlatformError {
    PlatformError::config(e.to_string())
}

impl Credentials {
    /// The credentials of the project at `root`, in the OS keyring and the insecure file.
    pub fn new(root: &Path) -> Credentials {
        Self::with_vault(root, Vault::for_project(root))
    }

    /// Over a given vault (tests use memory stores).
    pub fn with_vault(root: &Path, vault: Vault) -> Credentials {
        Credentials {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                vault,
                unsaved: Mutex::default(),
                locks: Mutex::default(),
            }),
        }
    }

    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    /// Where `name`'s credential comes from, and the stored one if any.
    pub fn lookup(&self, name: &str) -> (Source, Option<Found>, Option<StoreError>) {
        let (found, problem) = self.load(name);
        let source = if super::secret(name).is_some() {
            Source::Environment
        } else {
            found.as_ref().map_or(Source::None, |f| f.place.into())
        };
        (source, found, problem)
    }

    /// The stored credential, or one renewed by this process that could not be stored.
    fn load(&self, name: &str) -> (Option<Found>, Option<StoreError>) {
        let (found, problem) = self.inner.vault.load(name);
        if let Ok(unsaved) = self.inner.unsaved.lock()
            && let Some((place, c)) = unsaved.get(name)
            && found
                .as_ref()
                .is_none_or(|f| f.credential.obtained_at < c.obtained_at)
        {
            return (
                Some(Found {
                    place: *place,
                    credential: c.clone(),
                }),
                problem,
            );
        }
        (found, problem)
    }

    fn missing(&self, account: &Account, problem: Option<StoreError>) -> PlatformError {
        let why = problem.map(|p| format!(" ({p})")).unwrap_or_default();
        PlatformError::config(format!(
            "no credential for account `{}`{why}: log in with `social accounts add {} --platform {}`, or set {}",
            account.name,
            account.name,
            account.platform,
            super::env_var(&account.name)
        ))
    }

    /// The secret to send for `account`: `SOCIAL_<NAME>_TOKEN` when set,
    /// else the stored one, refreshed first when it expires within five
    /// minutes. An error when there is none, or it expired for good.
    pub async fn token(&self, account: &Account) -> Result<Secret, PlatformError> {
        if let Some(s) = super::secret(&account.name) {
            return Ok(s);
        }
        let (found, problem) = self.load(&account.name);
        let Some(found) = found else {
            return Err(self.missing(account, problem));
        };
        let c = found.credential;
        let now = crate::clock::now();
        let expiring = c.expires_at.is_some_and(|t| t - now <= REFRESH_MARGIN);
        if !expiring {
            return Ok(c.as_secret());
        }
        if c.refreshable() {
            match self.renew(account, Why::Expiring).await {
                Ok(Some(new)) => return Ok(new.as_secret()),
                Ok(None) => {}
                // Still valid for a few minutes: use it, and say why it was not renewed.
                Err(e) if c.expires_at.is_some_and(|t| t > now) => {
                    tracing::warn!(account = %account.name, error = %e, "refreshing the token failed; using it while it lasts");
                    return Ok(c.as_secret());
                }
                Err(e) => return Err(e),
            }
        }
        match c.expires_at {
            Some(t) if t <= now => Err(PlatformError::Auth {
                expired: false,
                message: format!(
                    "the {} login of account `{}` expired on {}; log in again with `social accounts add {}`",
                    account.platform.display_name(),
                    account.name,
                    t.format("%Y-%m-%d %H:%M UTC"),
                    account.name
                ),
            }),
            _ => Ok(c.as_secret()),
        }
    }

    /// After the platform refused `used` (401): a renewed secret to retry
    /// with once, or `None` when there is nothing to renew (a token from the
    /// environment, a platform without refresh).
    pub async fn after_unauthorized(
        &self,
        account: &Account,
        used: &Secret,
    ) -> Result<Option<Secret>, PlatformError> {
        if super::secret(&account.name).is_some() {
            return Ok(None);
        }
        Ok(self
            .renew(account, Why::Unauthorized(used.expose()))
            .await?
            .map(|c| c.as_secret()))
    }

    /// Renews `account`'s token now (`accounts refresh`).
    pub async fn refresh(&self, account: &Account) -> Result<RefreshOutcome, PlatformError> {
        if super::secret(&account.name).is_some() {
            return Ok(RefreshOutcome::Skipped(format!(
                "its token comes from {}; renew it where it is made",
                super::env_var(&account.name)
            )));
        }
        let (found, problem) = self.load(&account.name);
        let Some(found) = found else {
            return Err(self.missing(account, problem));
        };
        if !found.credential.refreshable() {
            return Ok(RefreshOutcome::Skipped(not_refreshable(&found.credential)));
        }
        match self.renew(account, Why::Asked).await? {
            Some(c) => Ok(RefreshOutcome::Renewed {
                expires_at: c.expires_at,
            }),
            None => Ok(RefreshOutcome::Skipped("nothing to renew".into())),
        }
    }

    /// The daemon's daily check: renews tokens close to expiry, warns about
    /// logins that run out and accounts without a credential.
    pub async fn maintain(
        &self,
        config: &Config,
    ) -> Vec<(String, Result<RefreshOutcome, PlatformError>)> {
        let now = crate::clock::now();
        let mut out = Vec::new();
        for account in config.accounts.values() {
            let name = &account.name;
            if super::secret(name).is_some() {
                continue;
            }
            let (found, problem) = self.load(name);
            let Some(found) = found else {
                tracing::warn!(account = %name, "{}", self.missing(account, problem));
                continue;
            };
            let c = &found.credential;
            let due = match c.platform {
                // Access tokens last 2 hours: renewing once a day keeps the chain in use.
                PlatformKind::Twitter => c.refresh_token.is_some(),
                PlatformKind::Linkedin => {
                    c.refresh_token.is_some()
                        && c.expires_at
                            .is_some_and(|t| t - now <= super::meta::WARN_BEFORE)
                }
                // Instagram renews a token at least a day old; do it in its last month.
                PlatformKind::Instagram => {
                    now - c.obtained_at >= chrono::Duration::days(1)
                        && c.expires_at
                            .is_none_or(|t| t - now <= chrono::Duration::days(30))
                }
                PlatformKind::Bluesky | PlatformKind::Mastodon => false,
            };
            if due {
                let r = self.renew(account, Why::Asked).await.map(|c| match c {
                    Some(c) => RefreshOutcome::Renewed {
                        expires_at: c.expires_at,
                    },
                    None => RefreshOutcome::Skipped("nothing to renew".into()),
                });
                out.push((name.clone(), r));
            } else if let Some(w) = super::meta::warning(
                name,
                account.platform,
                &meta_of(c, &AccountsMeta::load(&self.inner.root), name),
                now,
            ) {
                tracing::warn!(account = %name, "{}", w.message);
            }
        }
        out
    }

    fn lock_for(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.inner.locks.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(name.to_string()).or_default().clone()
    }

    /// Takes the project-wide lock of `name`'s credential (other processes).
    async fn file_lock(&self, name: &str) -> Result<std::fs::File, PlatformError> {
        let dir = self.inner.root.join(".social");
        let path = dir.join(format!("credential-{name}.lock"));
        let open = || -> std::io::Result<std::fs::File> {
            std::fs::create_dir_all(&dir)?;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        };
        let f = open()
            .map_err(|e| PlatformError::config(format!("cannot lock {}: {e}", path.display())))?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(f),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => {
                    return Err(PlatformError::unavailable(format!(
                        "another social process holds {}: {e}",
                        path.display()
                    )));
                }
            }
        }
    }

    /// Refreshes `account`'s token unless another process just did; returns
    /// the credential to use, or `None` when it cannot be renewed.
    async fn renew(
        &self,
        account: &Account,
        why: Why<'_>,
    ) -> Result<Option<StoredCredential>, PlatformError> {
        let name = &account.name;
        let lock = self.lock_for(name);
        let _in_process = lock.lock().await;
        let _across_processes = self.file_lock(name).await?;
        let (found, problem) = self.load(name);
        let Some(Found {
            place,
            credential: cred,
        }) = found
        else {
            return Err(self.missing(account, problem));
        };
        let now = crate::clock::now();
        // Someone renewed it while we waited for the lock?
        match why {
            Why::Expiring if cred.expires_at.is_none_or(|t| t - now > REFRESH_MARGIN) => {
                return Ok(Some(cred));
            }
            Why::Unauthorized(used) if cred.secret != used => return Ok(Some(cred)),
            _ => {}
        }
        if !cred.refreshable() {
            return Ok(None);
        }
        let interrupted = cred.refreshing_since;
        let mut marked = cred.clone();
        marked.refreshing_since = Some(now);
        // Without a place to put the answer, do not ask for one: it would be lost.
        self.inner
            .vault
            .save(name, &marked, place)
            .map_err(store_error)?;
        crash_point("refresh-marked");
        let http = crate::auth::oauth::token_http()?;
        match crate::auth::refresh_request(&http, account, &cred, now).await {
            Ok(new) => {
                crash_point("token-received");
                let stored = self.inner.vault.save(name, &new, place);
                crash_point("token-stored");
                match stored {
                    Ok(()) => {
                        if let Ok(mut u) = self.inner.unsaved.lock() {
                            u.remove(name);
                        }
                    }
                    Err(e) => {
                        tracing::error!(account = %name, error = %e, "the renewed token could not be stored; this process keeps it in memory, and the account needs `social accounts add` after it exits unless a later store succeeds");
                        if let Ok(mut u) = self.inner.unsaved.lock() {
                            u.insert(name.clone(), (place, new.clone()));
                        }
                    }
                }
                let _ = AccountsMeta::update(&self.inner.root, name, |m| {
                    fill_meta(m, &new);
                    m.refreshed_at = Some(now);
                });
                tracing::info!(account = %name, expires_at = ?new.expires_at, "token renewed");
                Ok(Some(new))
            }
            Err(PlatformError::Auth { message, .. }) => {
                // A definite refusal: the marker goes; the stored pair stays for the record.
                let _ = self.inner.vault.save(name, &cred, place);
                let platform = account.platform.display_name();
                let message = match interrupted {
                    Some(t) => format!(
                        "{message}. A refresh started at {} did not finish storing its answer (the process stopped), and {platform} has retired the token it replaced; log in again with `social accounts add {name}`",
                        t.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                    None => format!("{message}; log in again with `social accounts add {name}`"),
                };
                Err(PlatformError::Auth {
                    expired: false,
                    message,
                })
            }
            // Unclear (the request may have arrived): the marker stays, the old pair too.
            Err(e) => Err(e),
        }
    }
}

fn not_refreshable(c: &StoredCredential) -> String {
    match c.platform {
        PlatformKind::Bluesky => "Bluesky app passwords do not expire".into(),
        PlatformKind::Mastodon => "Mastodon tokens do not expire".into(),
        PlatformKind::Linkedin => {
            "LinkedIn gave no refresh token (only approved apps get one): log in again before the token expires".into()
        }
        PlatformKind::Twitter => "X gave no refresh token: log in again".into(),
        PlatformKind::Instagram => "nothing to renew".into(),
    }
}

/// Copies what a credential says about expiry into an account's record.
pub fn fill_meta(m: &mut super::AccountMeta, c: &StoredCredential) {
    m.platform = Some(c.platform);
    m.expires_at = c.expires_at;
    m.login_deadline = c.login_deadline();
    m.refreshable = c.refreshable();
}

fn meta_of(c: &StoredCredential, all: &AccountsMeta, name: &str) -> super::AccountMeta {
    let mut m = all.accounts.get(name).cloned().unwrap_or_default();
    fill_meta(&mut m, c);
    m
}
