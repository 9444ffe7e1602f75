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
use crate::model::{PlatformError, PlatformKind};
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
        // Without a keyring here, the login that works is the file store.
        let insecure = if matches!(problem, Some(StoreError::Unavailable(_))) {
            " --insecure-storage"
        } else {
            ""
        };
        let why = problem.map(|p| format!(" ({p})")).unwrap_or_default();
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

#[cfg(test)]
mod tests {
    //! The service over the OS keyring's code path, with keyring's mock
    //! backend underneath, against a fake token endpoint.
    use super::*;
    use crate::credentials::{KeyringStore, MemoryStore, keyring_store::use_mock_keyring};
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn x_account(uri: &str) -> Account {
        let src = format!(
            "[accounts.x]\nplatform = \"twitter\"\napi_url = \"{uri}\"\nclient_id = \"cid\"\n\n[accounts.insta]\nplatform = \"instagram\"\napi_url = \"{uri}\"\n"
        );
        let c = Config::parse(Path::new("/p"), Path::new("/p/social.toml"), &src).unwrap();
        c.accounts["x"].clone()
    }

    fn setup() -> (tempfile::TempDir, Credentials) {
        use_mock_keyring();
        let root = tempfile::tempdir().unwrap();
        let vault = Vault::new(
            root.path(),
            Arc::new(KeyringStore::new()),
            Arc::new(MemoryStore::default()),
        );
        let creds = Credentials::with_vault(root.path(), vault);
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

    async fn token_endpoint(server: &MockServer, from: &str, to: u32, times: u64) {
        Mock::given(method("POST"))
            .and(path("/2/oauth2/token"))
            .and(body_string_contains(format!("refresh_token={from}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": format!("access-{to}"), "refresh_token": format!("refresh-{to}"),
                "token_type": "bearer", "expires_in": 7200
            })))
            .expect(times)
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn a_token_expiring_within_five_minutes_is_renewed_and_stored_first() {
        let server = MockServer::start().await;
        token_endpoint(&server, "refresh-1", 2, 1).await;
        let (_root, creds) = setup();
        let acc = x_account(&server.uri());
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
        assert_eq!(
            stored.credential.previous_refresh_token.as_deref(),
            Some("refresh-1")
        );
        assert!(stored.credential.refreshing_since.is_none());
        // Fresh now: no second request.
        assert_eq!(creds.token(&acc).await.unwrap().expose(), "access-2");
    }

    #[tokio::test]
    async fn a_401_renews_once_unless_another_process_already_did() {
        let server = MockServer::start().await;
        token_endpoint(&server, "refresh-1", 2, 1).await;
        let (_root, creds) = setup();
        let acc = x_account(&server.uri());
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
    }

    #[tokio::test]
    async fn the_environment_wins_and_is_never_refreshed() {
        let (_root, creds) = setup();
        // An account name no other test uses: the variable is process-wide.
        let mut acc = x_account("http://127.0.0.1:9");
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
    }

    #[tokio::test]
    async fn an_unstorable_answer_is_not_asked_for() {
        // A keyring that is not there: the refresh is not sent (its answer would be lost).
        let server = MockServer::start().await;
        token_endpoint(&server, "refresh-1", 2, 0).await;
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
        let creds = Credentials::with_vault(root.path(), broken);
        let acc = x_account(&server.uri());
        // Still valid for a minute: used as it is, with a warning.
        assert_eq!(creds.token(&acc).await.unwrap().expose(), "access-1");
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
    async fn the_daily_check_renews_what_is_close_to_expiry() {
        let server = MockServer::start().await;
        token_endpoint(&server, "refresh-1", 2, 1).await;
        Mock::given(method("GET"))
            .and(path("/refresh_access_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "ig-2", "token_type": "bearer", "expires_in": 5184000
            })))
            .expect(1)
            .mount(&server)
            .await;
        let (root, creds) = setup();
        let uri = server.uri();
        let src = format!(
            "[accounts.x]\nplatform = \"twitter\"\napi_url = \"{uri}\"\nclient_id = \"cid\"\n\n[accounts.insta]\nplatform = \"instagram\"\napi_url = \"{uri}\"\n\n[accounts.fresh]\nplatform = \"instagram\"\napi_url = \"{uri}\"\n"
        );
        let config = Config::parse(root.path(), &root.path().join("social.toml"), &src).unwrap();
        creds
            .vault()
            .save("x", &x_cred(chrono::Duration::hours(-3)), Place::Keyring)
            .unwrap();
        let old = Utc::now() - chrono::Duration::days(40);
        let mut ig = StoredCredential::plain(PlatformKind::Instagram, "ig-1", old);
        ig.expires_at = Some(old + crate::auth::SIXTY_DAYS);
        creds.vault().save("insta", &ig, Place::Keyring).unwrap();
        // A fresh Instagram token is left alone.
        let mut fresh = StoredCredential::plain(PlatformKind::Instagram, "ig-f", Utc::now());
        fresh.expires_at = Some(Utc::now() + crate::auth::SIXTY_DAYS);
        creds.vault().save("fresh", &fresh, Place::Keyring).unwrap();
        let results = creds.maintain(&config).await;
        let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["insta", "x"]);
        assert!(
            results
                .iter()
                .all(|(_, r)| matches!(r, Ok(RefreshOutcome::Renewed { .. })))
        );
        assert_eq!(
            creds.vault().load("insta").0.unwrap().credential.secret,
            "ig-2"
        );
        let meta = AccountsMeta::load(root.path());
        assert!(meta.accounts["insta"].refreshed_at.is_some());
    }
}
