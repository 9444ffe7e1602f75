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
//!
//! What differs per platform (how long a credential lasts, whether and when
//! it is renewed, the renewal request itself) comes from a [`Refresher`]
//! handed in by whoever builds the service, so that this module imports
//! nothing of the platforms or of `auth`.

use super::{
    Found, Place, Secret, Source, StoreError, StoredCredential, Vault, meta::AccountsMeta,
};
use crate::config::{Account, Config};
use crate::model::PlatformError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A token expiring sooner than this is refreshed before use.
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// What the service needs to know about a platform's credentials and cannot
/// know by itself. Each platform's `account` module says it; tests script it.
#[async_trait::async_trait]
pub trait Refresher: Send + Sync {
    /// `Ok` when the platform can renew `c` without the user; else why not,
    /// as `accounts refresh` says it.
    fn renewable(&self, c: &StoredCredential) -> Result<(), String>;

    /// After this instant the user has to log in again (if nothing renews
    /// the credential before): the refresh token's end where there is one,
    /// else the access token's.
    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>>;

    /// Whether the daemon's daily check renews `c` at `now`.
    fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool;

    /// Asks the platform for a fresh credential with `old`. Only the
    /// request: the service stores the answer before anything else happens.
    async fn refresh(
        &self,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError>;
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
    refresher: Arc<dyn Refresher>,
    /// Renewed credentials that could not be stored, kept for this process.
    unsaved: Mutex<HashMap<String, (Place, StoredCredential)>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn store_error(e: StoreError) -> PlatformError {
    PlatformError::config(e.to_string())
}

impl Credentials {
    /// The credentials of the project at `root`, in the OS keyring and the
    /// insecure file, renewed through `refresher`.
    pub fn new(root: &Path, refresher: Arc<dyn Refresher>) -> Credentials {
        Self::with_vault(root, Vault::for_project(root), refresher)
    }

    /// Over a given vault (tests use memory stores).
    pub fn with_vault(root: &Path, vault: Vault, refresher: Arc<dyn Refresher>) -> Credentials {
        Credentials {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                vault,
                refresher,
                unsaved: Mutex::default(),
                locks: Mutex::default(),
            }),
        }
    }

    pub fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    fn renewable(&self, c: &StoredCredential) -> bool {
        self.inner.refresher.renewable(c).is_ok()
    }

    /// Copies what a credential says about expiry into an account's record.
    pub fn fill_meta(&self, m: &mut super::AccountMeta, c: &StoredCredential) {
        m.platform = Some(c.platform);
        m.expires_at = c.expires_at;
        m.login_deadline = self.inner.refresher.login_deadline(c);
        m.refreshable = self.renewable(c);
    }

    fn meta_of(&self, c: &StoredCredential, all: &AccountsMeta, name: &str) -> super::AccountMeta {
        let mut m = all.accounts.get(name).cloned().unwrap_or_default();
        self.fill_meta(&mut m, c);
        m
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
        // Without a keyring here, the login that works is the file store.
        let insecure = if matches!(problem, Some(StoreError::Unavailable(_))) {
            " --insecure-storage"
        } else {
            ""
        };
        // Why the keyring is missing is the keyring's business (`accounts
        // add` says it in full); here it is enough that there is none.
        let why = match problem {
            Some(StoreError::Unavailable(_)) => " (no OS keyring here)".to_string(),
            Some(p) => format!(" ({p})"),
            None => String::new(),
        };
        PlatformError::config(format!(
            "no credential for account `{}`{why}: log in with `social accounts add {} --platform {}{insecure}`, or set {}",
            account.name,
            account.name,
            account.platform.command_name(),
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
        if self.renewable(&c) {
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
        if let Err(why) = self.inner.refresher.renewable(&found.credential) {
            return Ok(RefreshOutcome::Skipped(why));
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
            let due = self.inner.refresher.renew_due(c, now);
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
                &self.meta_of(c, &AccountsMeta::load(&self.inner.root), name),
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
            crate::fsx::private_dir(&dir)?;
            crate::fsx::private_open(&path)
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
        if !self.renewable(&cred) {
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
        match self.inner.refresher.refresh(account, &cred, now).await {
            Ok(new) => {
                match self.inner.vault.save(name, &new, place) {
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
                    self.fill_meta(m, &new);
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

#[cfg(test)]
mod tests {
    //! The service over the OS keyring's code path (keyring's mock backend
    //! underneath) or memory stores, renewing through a scripted token
    //! server. A crash at each step of a refresh is a panic at that step in
    //! an injected refresher or store: nothing after it runs, as when the
    //! process dies there, and the next run is a new service over the same
    //! stores.
    use super::*;
    use crate::credentials::{
        KeyringStore, MemoryStore, SecretStore, keyring_store::use_mock_keyring,
    };
    use crate::model::PlatformKind;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn x_account() -> Account {
        let src = "[accounts.x]\nplatform = \"twitter\"\napi_url = \"http://127.0.0.1:9\"\nclient_id = \"cid\"\n";
        let c = Config::parse(Path::new("/p"), Path::new("/p/social.toml"), src).unwrap();
        c.accounts["x"].clone()
    }

    /// A token server like X's: each refresh token is good once and is
    /// replaced by a new pair. A replaced one is taken again only by a
    /// lenient server (while its successor is unused); a strict one retires
    /// the whole chain on a replay.
    #[derive(Default)]
    struct TokenServer {
        strict: bool,
        state: Mutex<ServerState>,
    }

    #[derive(Default)]
    struct ServerState {
        next: u32,
        valid: HashSet<String>,
        /// Replaced refresh token → its successor.
        retired: HashMap<String, String>,
        /// The refresh tokens presented, in order.
        presented: Vec<String>,
    }

    impl TokenServer {
        fn new(strict: bool) -> Arc<TokenServer> {
            let s = TokenServer {
                strict,
                state: Mutex::default(),
            };
            {
                let mut st = s.state.lock().unwrap();
                st.next = 1;
                st.valid.insert("refresh-1".into());
            }
            Arc::new(s)
        }

        fn presented(&self) -> Vec<String> {
            self.state.lock().unwrap().presented.clone()
        }
    }

    #[async_trait::async_trait]
    impl Refresher for TokenServer {
        fn renewable(&self, c: &StoredCredential) -> Result<(), String> {
            match c.refresh_token {
                Some(_) => Ok(()),
                None => Err("no refresh token: log in again".into()),
            }
        }
        fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
            c.refresh_expires_at
        }
        fn renew_due(&self, c: &StoredCredential, _: DateTime<Utc>) -> bool {
            c.refresh_token.is_some()
        }
        async fn refresh(
            &self,
            _: &Account,
            old: &StoredCredential,
            now: DateTime<Utc>,
        ) -> Result<StoredCredential, PlatformError> {
            let refused = || PlatformError::Auth {
                expired: false,
                message: "refreshing the X token: the server refused (invalid_grant)".into(),
            };
            let rt = old.refresh_token.clone().unwrap_or_default();
            let mut s = self.state.lock().unwrap();
            s.presented.push(rt.clone());
            if !s.valid.remove(&rt) {
                let Some(next) = s.retired.get(&rt).cloned() else {
                    return Err(refused());
                };
                if self.strict || !s.valid.remove(&next) {
                    s.valid.clear();
                    return Err(refused());
                }
            }
            s.next += 1;
            let n = s.next;
            let new_rt = format!("refresh-{n}");
            s.retired.insert(rt, new_rt.clone());
            s.valid.insert(new_rt.clone());
            let mut c = old.clone();
            c.secret = format!("access-{n}");
            c.previous_refresh_token = old.refresh_token.clone();
            c.refresh_token = Some(new_rt);
            c.expires_at = Some(now + chrono::Duration::hours(2));
            c.obtained_at = now;
            c.refreshing_since = None;
            Ok(c)
        }
    }

    /// A refresher that dies before it sends anything.
    struct DiesBeforeSending(Arc<TokenServer>);

    #[async_trait::async_trait]
    impl Refresher for DiesBeforeSending {
        fn renewable(&self, c: &StoredCredential) -> Result<(), String> {
            self.0.renewable(c)
        }
        fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
            self.0.login_deadline(c)
        }
        fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool {
            self.0.renew_due(c, now)
        }
        async fn refresh(
            &self,
            _: &Account,
            _: &StoredCredential,
            _: DateTime<Utc>,
        ) -> Result<StoredCredential, PlatformError> {
            panic!("crash: the marker is stored, the request not sent")
        }
    }

    /// A store that dies at its `nth` write (from 1), before or after writing.
    struct DiesAtWrite {
        inner: Arc<MemoryStore>,
        nth: usize,
        after_writing: bool,
        writes: AtomicUsize,
    }

    impl SecretStore for DiesAtWrite {
        fn get(&self, s: &str, u: &str) -> Result<Option<String>, StoreError> {
            self.inner.get(s, u)
        }
        fn set(&self, s: &str, u: &str, v: &str) -> Result<(), StoreError> {
            let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.nth && !self.after_writing {
                panic!("crash before write {n}");
            }
            self.inner.set(s, u, v)?;
            if n == self.nth {
                panic!("crash after write {n}");
            }
            Ok(())
        }
        fn delete(&self, s: &str, u: &str) -> Result<bool, StoreError> {
            self.inner.delete(s, u)
        }
    }

    fn setup(refresher: Arc<dyn Refresher>) -> (tempfile::TempDir, Credentials) {
        use_mock_keyring();
        let root = tempfile::tempdir().unwrap();
        let vault = Vault::new(
            root.path(),
            Arc::new(KeyringStore::new()),
            Arc::new(MemoryStore::default()),
        );
        let creds = Credentials::with_vault(root.path(), vault, refresher);
        (root, creds)
    }

    fn x_cred(expires_in: chrono::Duration) -> StoredCredential {
        let now = Utc::now();
        let mut c = StoredCredential::plain(PlatformKind::Twitter, "access-1", now);
        c.refresh_token = Some("refresh-1".into());
        c.client_id = Some("cid".into());
        c.expires_at = Some(now + expires_in);
        c
    }

    #[tokio::test]
    async fn a_token_expiring_within_five_minutes_is_renewed_and_stored_first() {
        let server = TokenServer::new(true);
        let (_root, creds) = setup(server.clone());
        let acc = x_account();
        creds
            .vault()
            .save("x", &x_cred(chrono::Duration::minutes(4)), Place::Keyring)
            .unwrap();
        let t = creds.token(&acc).await.unwrap();
        assert_eq!(t.expose(), "access-2");
        let stored = creds.vault().load("x").0.unwrap();
        assert_eq!(stored.place, Place::Keyring);
        assert_eq!(
            stored.credential.refresh_token.as_deref(),
            Some("refresh-2")
        );
        assert!(stored.credential.refreshing_since.is_none());
        // Fresh now: no second request.
        assert_eq!(creds.token(&acc).await.unwrap().expose(), "access-2");
        assert_eq!(server.presented(), ["refresh-1"]);
    }

    #[tokio::test]
    async fn a_401_renews_once_unless_another_process_already_did() {
        let server = TokenServer::new(true);
        let (_root, creds) = setup(server.clone());
        let acc = x_account();
        creds
            .vault()
            .save("x", &x_cred(chrono::Duration::hours(1)), Place::Keyring)
            .unwrap();
        let used = creds.token(&acc).await.unwrap();
        let new = creds
            .after_unauthorized(&acc, &used)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(new.expose(), "access-2");
        // A second client still holding the old token: the stored one is newer, no request.
        let again = creds
            .after_unauthorized(&acc, &used)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.expose(), "access-2");
        assert_eq!(server.presented(), ["refresh-1"]);
    }

    #[tokio::test]
    async fn the_environment_wins_and_is_never_refreshed() {
        let server = TokenServer::new(true);
        let (_root, creds) = setup(server.clone());
        // An account name no other test uses: the variable is process-wide.
        let mut acc = x_account();
        acc.name = "envonly".into();
        // SAFETY: only this test reads SOCIAL_ENVONLY_TOKEN.
        unsafe { std::env::set_var("SOCIAL_ENVONLY_TOKEN", "from-env") };
        assert_eq!(creds.token(&acc).await.unwrap().expose(), "from-env");
        assert_eq!(creds.lookup("envonly").0, Source::Environment);
        let used = Secret::new("from-env");
        assert!(
            creds
                .after_unauthorized(&acc, &used)
                .await
                .unwrap()
                .is_none()
        );
        unsafe { std::env::remove_var("SOCIAL_ENVONLY_TOKEN") };
        assert!(server.presented().is_empty());
    }

    #[tokio::test]
    async fn an_unstorable_answer_is_not_asked_for() {
        // A keyring that is not there: the refresh is not sent (its answer would be lost).
        let server = TokenServer::new(true);
        let root = tempfile::tempdir().unwrap();
        let keyring = Arc::new(MemoryStore::default());
        let vault = Vault::new(
            root.path(),
            keyring.clone(),
            Arc::new(MemoryStore::default()),
        );
        vault
            .save("x", &x_cred(chrono::Duration::minutes(1)), Place::Keyring)
            .unwrap();
        let broken = Vault::new(
            root.path(),
            Arc::new(ReadOnly(keyring)),
            Arc::new(MemoryStore::default()),
        );
        let creds = Credentials::with_vault(root.path(), broken, server.clone());
        let acc = x_account();
        // Still valid for a minute: used as it is, with a warning.
        assert_eq!(creds.token(&acc).await.unwrap().expose(), "access-1");
        assert!(server.presented().is_empty());
    }

    /// A keyring that reads but cannot write (locked).
    struct ReadOnly(Arc<MemoryStore>);

    impl crate::credentials::SecretStore for ReadOnly {
        fn get(&self, s: &str, u: &str) -> Result<Option<String>, StoreError> {
            self.0.get(s, u)
        }
        fn set(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("the keyring is locked".into()))
        }
        fn delete(&self, _: &str, _: &str) -> Result<bool, StoreError> {
            Ok(false)
        }
    }

    #[tokio::test]
    async fn a_credential_without_refresh_says_why_and_asks_nothing() {
        let server = TokenServer::new(true);
        let (_root, creds) = setup(server.clone());
        let mut c = x_cred(chrono::Duration::hours(1));
        c.refresh_token = None;
        creds.vault().save("x", &c, Place::Keyring).unwrap();
        assert_eq!(
            creds.refresh(&x_account()).await.unwrap(),
            RefreshOutcome::Skipped("no refresh token: log in again".into())
        );
        assert!(server.presented().is_empty());
    }

    /// One run of `accounts refresh x` over `store` that dies on the way.
    async fn refresh_dies(root: &Path, store: Arc<dyn SecretStore>, refresher: Arc<dyn Refresher>) {
        let vault = Vault::new(root, store, Arc::new(MemoryStore::default()));
        let creds = Credentials::with_vault(root, vault, refresher);
        let run = tokio::spawn(async move { creds.refresh(&x_account()).await }).await;
        assert!(run.is_err_and(|e| e.is_panic()), "the run was to die");
    }

    /// The next run: a new service over the same keyring.
    fn next_run(root: &Path, keyring: &Arc<MemoryStore>, server: &Arc<TokenServer>) -> Credentials {
        let vault = Vault::new(root, keyring.clone(), Arc::new(MemoryStore::default()));
        Credentials::with_vault(root, vault, server.clone())
    }

    fn stored(creds: &Credentials) -> StoredCredential {
        creds.vault().load("x").0.unwrap().credential
    }

    fn with_x(root: &Path) -> Arc<MemoryStore> {
        let keyring = Arc::new(MemoryStore::default());
        Vault::new(root, keyring.clone(), Arc::new(MemoryStore::default()))
            .save("x", &x_cred(chrono::Duration::hours(1)), Place::Keyring)
            .unwrap();
        keyring
    }

    #[tokio::test]
    async fn a_crash_after_the_marker_before_the_request_spends_nothing() {
        let root = tempfile::tempdir().unwrap();
        let keyring = with_x(root.path());
        let server = TokenServer::new(true);
        refresh_dies(
            root.path(),
            keyring.clone(),
            Arc::new(DiesBeforeSending(server.clone())),
        )
        .await;
        let creds = next_run(root.path(), &keyring, &server);
        let left = stored(&creds);
        assert!(left.refreshing_since.is_some(), "the refresh is marked");
        assert_eq!(left.refresh_token.as_deref(), Some("refresh-1"));
        assert!(server.presented().is_empty(), "nothing was sent");
        // The next run renews with the untouched pair, even on a strict server.
        assert!(matches!(
            creds.refresh(&x_account()).await.unwrap(),
            RefreshOutcome::Renewed { .. }
        ));
        let after = stored(&creds);
        assert!(after.refreshing_since.is_none());
        assert_eq!(after.refresh_token.as_deref(), Some("refresh-2"));
        assert_eq!(server.presented(), ["refresh-1"]);
    }

    #[tokio::test]
    async fn a_crash_between_the_answer_and_its_store_write_keeps_the_old_pair() {
        for strict in [false, true] {
            let root = tempfile::tempdir().unwrap();
            let keyring = with_x(root.path());
            let server = TokenServer::new(strict);
            // Write 1 is the marker, write 2 the answer: die before it.
            let store = DiesAtWrite {
                inner: keyring.clone(),
                nth: 2,
                after_writing: false,
                writes: AtomicUsize::new(0),
            };
            refresh_dies(root.path(), Arc::new(store), server.clone()).await;
            assert_eq!(server.presented(), ["refresh-1"], "the server rotated");
            let creds = next_run(root.path(), &keyring, &server);
            let left = stored(&creds);
            assert_eq!(left.secret, "access-1", "the old pair is intact");
            assert_eq!(left.refresh_token.as_deref(), Some("refresh-1"));
            assert!(left.refreshing_since.is_some(), "the refresh is marked");
            let next = creds.refresh(&x_account()).await;
            assert_eq!(server.presented().len(), 2, "one replay, no retry loop");
            if strict {
                // The server retired the chain with the lost answer: say so.
                let e = next.unwrap_err().to_string();
                assert!(e.contains("did not finish storing its answer"), "{e}");
                assert!(e.contains("social accounts add x"), "{e}");
                assert!(stored(&creds).refresh_token.is_some());
            } else {
                assert!(matches!(next.unwrap(), RefreshOutcome::Renewed { .. }));
                let after = stored(&creds);
                assert!(after.refreshing_since.is_none());
                assert_eq!(after.refresh_token.as_deref(), Some("refresh-3"));
            }
        }
    }

    #[tokio::test]
    async fn a_crash_after_the_answer_is_stored_loses_nothing() {
        let root = tempfile::tempdir().unwrap();
        let keyring = with_x(root.path());
        let server = TokenServer::new(true);
        let store = DiesAtWrite {
            inner: keyring.clone(),
            nth: 2,
            after_writing: true,
            writes: AtomicUsize::new(0),
        };
        refresh_dies(root.path(), Arc::new(store), server.clone()).await;
        let creds = next_run(root.path(), &keyring, &server);
        let left = stored(&creds);
        assert_eq!(left.refresh_token.as_deref(), Some("refresh-2"));
        assert_eq!(left.previous_refresh_token.as_deref(), Some("refresh-1"));
        assert!(left.refreshing_since.is_none());
        // The next run goes on with the new pair against a strict server.
        assert!(matches!(
            creds.refresh(&x_account()).await.unwrap(),
            RefreshOutcome::Renewed { .. }
        ));
        assert_eq!(server.presented(), ["refresh-1", "refresh-2"]);
    }

    #[tokio::test]
    async fn the_daily_check_renews_what_the_platform_says_is_due() {
        let server = TokenServer::new(true);
        let (root, creds) = setup(server.clone());
        let src = "[accounts.x]\nplatform = \"twitter\"\nclient_id = \"cid\"\n\n[accounts.y]\nplatform = \"twitter\"\nclient_id = \"cid\"\n";
        let config = Config::parse(root.path(), &root.path().join("social.toml"), src).unwrap();
        creds
            .vault()
            .save("x", &x_cred(chrono::Duration::hours(-3)), Place::Keyring)
            .unwrap();
        // Not due (no refresh token): left alone.
        let mut y = x_cred(chrono::Duration::hours(1));
        y.refresh_token = None;
        creds.vault().save("y", &y, Place::Keyring).unwrap();
        let results = creds.maintain(&config).await;
        let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["x"]);
        assert!(matches!(results[0].1, Ok(RefreshOutcome::Renewed { .. })));
        assert_eq!(
            creds.vault().load("x").0.unwrap().credential.secret,
            "access-2"
        );
        let meta = AccountsMeta::load(root.path());
        assert!(meta.accounts["x"].refreshed_at.is_some());
    }
}
