//! What each platform knows about its accounts, behind one trait: how to
//! log in (which secrets, which endpoints and scopes, what the login learns),
//! who a credential belongs to (`whoami`), how long a credential lasts and
//! how it is renewed, and what `accounts check` says beyond "it works". Each
//! platform implements [`AccountKind`] in its own `account` module
//! (`platforms/<p>/account.rs`); [`of`] is the one place that maps a
//! platform to it.
//!
//! The terminal, the browser and the loopback redirect are not the
//! platforms' business: a login gets them through a [`LoginKit`], which
//! [`crate::auth`] implements. Credentials are renewed through
//! [`Renewal`], the [`Refresher`] the engine and the commands hand to
//! [`Credentials`], so that `credentials` imports nothing of this layer.

use super::http::{Http, short};
use super::{PlatformError, PlatformKind};
use crate::config::Account;
use crate::credentials::{Credentials, Refresher, Secret, StoredCredential};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Instagram and LinkedIn long-lived tokens last this long.
pub const SIXTY_DAYS: chrono::Duration = chrono::Duration::days(60);

/// Who a credential belongs to, as the platform says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// For people: `@alice.bsky.social`, `@alice@hachyderm.io`, `Alice Example`.
    pub display: String,
    /// The platform's id of the user (DID, member id, user id).
    pub id: Option<String>,
    /// The user name where the platform has one (X, Instagram).
    pub username: Option<String>,
}

/// A secret a login reads (from standard input or the terminal), by kind:
/// what `accounts add` lets the user pipe in for a platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// A Bluesky app password (`--password-stdin`).
    AppPassword,
    /// An existing access token, pasted instead of a browser login (`--token-stdin`).
    AccessToken,
    /// The OAuth app's client secret (`--client-secret-stdin`).
    ClientSecret,
}

/// What the user chose for a login.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoginChoices {
    /// Read the password or token from standard input (`--password-stdin`, `--token-stdin`).
    pub secret_from_stdin: bool,
    /// Paste an existing token instead of the browser flow.
    pub paste_token: bool,
    /// Read the OAuth client secret from standard input.
    pub client_secret_from_stdin: bool,
}

/// A finished login.
pub struct LoggedIn {
    pub credential: StoredCredential,
    pub identity: Identity,
    /// social.toml keys learned while logging in (`username`, `user_id`).
    pub settings: Vec<(&'static str, String)>,
    /// Things the user should know.
    pub warnings: Vec<String>,
}

/// Why a login did not finish.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Missing or contradictory input (exit code 2).
    #[error("{message}")]
    Usage {
        message: String,
        help: Option<String>,
    },
    /// A secret could not be read (exit code 2).
    #[error("{0}")]
    Prompt(String),
    /// The browser did not come back with a code.
    #[error("{0}")]
    Redirect(String),
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

/// A usage error of a login.
pub fn usage(message: impl Into<String>, help: Option<&str>) -> LoginError {
    LoginError::Usage {
        message: message.into(),
        help: help.map(str::to_string),
    }
}

/// An OAuth 2.0 authorization code login through the browser, as a
/// platform describes it.
pub struct OAuthLogin<'a> {
    pub platform: PlatformKind,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub auth_url: String,
    pub token_url: String,
    pub scopes: &'a [&'a str],
    /// Whether the flow uses PKCE (S256).
    pub pkce: bool,
    /// Whether the client secret goes in the token request's body (else Basic auth).
    pub secret_in_body: bool,
    /// What the token request is, for messages: "getting the X token".
    pub what: &'a str,
}

/// The terminal and the browser, as a platform's login needs them.
#[async_trait::async_trait]
pub trait LoginKit: Send + Sync {
    /// The shared HTTP layer.
    fn http(&self) -> &Http;

    /// What the user chose.
    fn choices(&self) -> LoginChoices;

    /// Reads `what` from standard input when `from_stdin`, else from the
    /// terminal without echo (`flag` names the option for scripts).
    fn read_secret(&self, what: &str, from_stdin: bool, flag: &str) -> Result<Secret, LoginError>;

    /// The redirect URI the browser comes back to (a loopback listener,
    /// started on first use): what an app registered on the fly names.
    async fn redirect_uri(&self) -> Result<String, LoginError>;

    /// Sends the user through `login` in the browser and exchanges the
    /// code: the credential with the token answer, the client id and secret.
    async fn authorize(&self, login: OAuthLogin<'_>) -> Result<StoredCredential, LoginError>;
}

/// What `accounts check` says about a working credential besides who it
/// belongs to.
#[derive(Clone, Debug)]
pub enum CheckNote {
    /// A sentence for the user.
    Say(String),
    /// What the account's server said about its limits: kept in
    /// `.social/limits.json` for validation and summed up for the user
    /// under `label` ("instance limits").
    Limits {
        label: &'static str,
        limit: crate::config::ServerLimit,
        facts: crate::config::ServerFacts,
    },
}

/// Everything about an account that belongs to its platform.
#[async_trait::async_trait]
pub trait AccountKind: Send + Sync {
    /// The secrets a login of this platform may read.
    fn secrets(&self) -> &'static [SecretKind];

    /// A check of the settings before anything else of `accounts add`
    /// happens (a setting without which there is nothing to log in to).
    fn before_login(&self, account: &Account) -> Result<(), LoginError> {
        let _ = account;
        Ok(())
    }

    /// Logs in: asks for the secrets, runs the platform's flow, confirms
    /// the identity.
    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError>;

    /// Asks the platform who `secret` belongs to.
    async fn whoami(
        &self,
        http: &Http,
        account: &Account,
        secret: &Secret,
    ) -> Result<Identity, PlatformError>;

    /// What `accounts check` adds for a working `secret`.
    async fn check_notes(&self, http: &Http, account: &Account, secret: Secret) -> Vec<CheckNote> {
        let _ = (http, account, secret);
        Vec::new()
    }

    /// `Ok` when `social` can renew `c` without the user; else why not.
    fn renewable(&self, c: &StoredCredential) -> Result<(), String>;

    /// After this instant the user has to log in again, unless renewed before.
    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>>;

    /// Whether the daemon's daily check renews `c` at `now`.
    fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool {
        let _ = (c, now);
        false
    }

    /// Asks the platform for a fresh credential with `old` (the caller
    /// stores it before anything else happens).
    async fn refresh(
        &self,
        http: &reqwest::Client,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError> {
        let _ = (http, old, now);
        Err(PlatformError::config(format!(
            "{} credentials do not expire and are not refreshed",
            account.platform.display_name()
        )))
    }
}

/// The account knowledge of `platform`. The one place that maps a platform
/// to it.
pub fn of(platform: PlatformKind) -> &'static dyn AccountKind {
    match platform {
        PlatformKind::Bluesky => &super::bluesky::account::Bluesky,
        PlatformKind::Mastodon => &super::mastodon::account::Mastodon,
        PlatformKind::Twitter => &super::twitter::account::Twitter,
        PlatformKind::Linkedin => &super::linkedin::account::Linkedin,
        PlatformKind::Instagram => &super::instagram::account::Instagram,
    }
}

/// Asks `account`'s platform who `secret` belongs to.
pub async fn whoami(
    http: &Http,
    account: &Account,
    secret: &Secret,
) -> Result<Identity, PlatformError> {
    of(account.platform).whoami(http, account, secret).await
}

/// The platforms' renewal of credentials, for [`Credentials`].
pub struct Renewal;

#[async_trait::async_trait]
impl Refresher for Renewal {
    fn renewable(&self, c: &StoredCredential) -> Result<(), String> {
        of(c.platform).renewable(c)
    }

    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
        of(c.platform).login_deadline(c)
    }

    fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool {
        of(c.platform).renew_due(c, now)
    }

    async fn refresh(
        &self,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError> {
        let http = super::oauth::token_http()?;
        of(account.platform).refresh(&http, account, old, now).await
    }
}

/// The credentials of the project at `root`, renewed by the platforms.
pub fn credentials(root: &Path) -> Credentials {
    Credentials::new(root, Arc::new(Renewal))
}

/// A base URL as written, without surrounding space or a trailing `/`.
pub(crate) fn trimmed(u: &str) -> String {
    u.trim().trim_end_matches('/').to_string()
}

/// The API base of an account that talks to one (X, LinkedIn, Instagram):
/// its `api_url`, else the platform's.
pub(crate) fn api_url_or(a: &Account, default: &str) -> String {
    trimmed(a.api_url.as_deref().unwrap_or(default))
}

/// Reads a JSON answer of an account request, turning 401/403 into `Auth`
/// and other failures into typed errors (the body shortened; error bodies
/// carry no tokens).
pub(crate) async fn answer(what: &str, resp: reqwest::Response) -> Result<Value, PlatformError> {
    let status = resp.status();
    let body = resp.text().await.unwrap_or_default();
    if status.is_success() {
        return serde_json::from_str(&body).map_err(|_| {
            PlatformError::unavailable(format!("{what}: the answer is not JSON: {}", short(&body)))
        });
    }
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let detail = [
        v.pointer("/error/message"),
        v.get("error_description"),
        v.get("detail"),
        v.get("message"),
        v.get("error"),
        v.get("title"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str)
    .map(short)
    .unwrap_or_else(|| format!("HTTP {status}"));
    let message = format!("{what}: {detail}");
    let graph_auth = v.pointer("/error/code").and_then(Value::as_i64) == Some(190);
    Err(match status.as_u16() {
        401 => PlatformError::Auth {
            expired: true,
            message,
        },
        403 => PlatformError::Auth {
            expired: false,
            message,
        },
        400 if graph_auth => PlatformError::Auth {
            expired: true,
            message,
        },
        s if s >= 500 => PlatformError::unavailable(message),
        _ => PlatformError::rejected(message),
    })
}

/// The string (or number) at `pointer`, if not empty.
pub(crate) fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `@name`, or nothing without a name.
pub(crate) fn at(username: Option<&str>) -> String {
    username.map(|u| format!("@{u}")).unwrap_or_default()
}

/// A login with a pasted `token`, verified with the platform.
pub(crate) async fn pasted(
    kind: &(impl AccountKind + ?Sized),
    http: &Http,
    account: &Account,
    token: Secret,
    expires_at: Option<DateTime<Utc>>,
) -> Result<LoggedIn, LoginError> {
    let identity = kind.whoami(http, account, &token).await?;
    let mut credential =
        StoredCredential::plain(account.platform, token.expose(), crate::clock::now());
    credential.expires_at = expires_at;
    Ok(LoggedIn {
        credential,
        identity,
        settings: Vec::new(),
        warnings: Vec::new(),
    })
}

/// The client id of an OAuth app, which X and LinkedIn logins need;
/// `help` says where to find it.
pub(crate) fn client_id(account: &Account, help: &str) -> Result<String, LoginError> {
    account.client_id.clone().ok_or_else(|| {
        usage(
            format!(
                "a {} login needs the client id of your app",
                account.platform.display_name()
            ),
            Some(help),
        )
    })
}

#[cfg(test)]
mod tests {
    //! The platforms' renewal rules under the credentials service, against
    //! fake token endpoints.
    use super::*;
    use crate::config::Config;
    use crate::credentials::{AccountsMeta, MemoryStore, Place, RefreshOutcome, Vault};
    use wiremock::matchers::{body_string_contains, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn x_cred(expires_in: chrono::Duration) -> StoredCredential {
        let now = Utc::now();
        let mut c = StoredCredential::plain(PlatformKind::Twitter, "access-1", now);
        c.refresh_token = Some("refresh-1".into());
        c.client_id = Some("cid".into());
        c.expires_at = Some(now + expires_in);
        c
    }

    #[tokio::test]
    async fn the_daily_check_renews_what_is_close_to_expiry() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/2/oauth2/token"))
            .and(body_string_contains("refresh_token=refresh-1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "access-2", "refresh_token": "refresh-2",
                "token_type": "bearer", "expires_in": 7200
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/refresh_access_token"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "ig-2", "token_type": "bearer", "expires_in": 5184000
            })))
            .expect(1)
            .mount(&server)
            .await;
        let root = tempfile::tempdir().unwrap();
        let vault = Vault::new(
            root.path(),
            Arc::new(MemoryStore::default()),
            Arc::new(MemoryStore::default()),
        );
        let creds = Credentials::with_vault(root.path(), vault, Arc::new(Renewal));
        let uri = server.uri();
        let src = format!(
            "[accounts.x]\nplatform = \"twitter\"\napi_url = \"{uri}\"\nclient_id = \"cid\"\n\n[accounts.insta]\nplatform = \"instagram\"\napi_url = \"{uri}\"\n\n[accounts.fresh]\nplatform = \"instagram\"\napi_url = \"{uri}\"\n\n[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"alice.example.com\"\n"
        );
        let config = Config::parse(root.path(), &root.path().join("social.toml"), &src).unwrap();
        creds
            .vault()
            .save("x", &x_cred(chrono::Duration::hours(-3)), Place::Keyring)
            .unwrap();
        let old = Utc::now() - chrono::Duration::days(40);
        let mut ig = StoredCredential::plain(PlatformKind::Instagram, "ig-1", old);
        ig.expires_at = Some(old + SIXTY_DAYS);
        creds.vault().save("insta", &ig, Place::Keyring).unwrap();
        // A fresh Instagram token is left alone, and so is an app password.
        let mut fresh = StoredCredential::plain(PlatformKind::Instagram, "ig-f", Utc::now());
        fresh.expires_at = Some(Utc::now() + SIXTY_DAYS);
        creds.vault().save("fresh", &fresh, Place::Keyring).unwrap();
        let pw = StoredCredential::plain(PlatformKind::Bluesky, "pw", old);
        creds.vault().save("bsky", &pw, Place::Keyring).unwrap();
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
        let x = creds.vault().load("x").0.unwrap().credential;
        assert_eq!(x.refresh_token.as_deref(), Some("refresh-2"));
        assert_eq!(x.previous_refresh_token.as_deref(), Some("refresh-1"));
        let meta = AccountsMeta::load(root.path());
        assert!(meta.accounts["insta"].refreshed_at.is_some());
        // What `accounts refresh` says where nothing can be renewed.
        assert_eq!(
            creds.refresh(&config.accounts["bsky"]).await.unwrap(),
            RefreshOutcome::Skipped("Bluesky app passwords do not expire".into())
        );
    }

    #[test]
    fn how_long_a_login_lasts_per_platform() {
        let now = Utc::now();
        let in_days = |d| Some(now + chrono::Duration::days(d));
        let mut li = StoredCredential::plain(PlatformKind::Linkedin, "t", now);
        li.expires_at = in_days(60);
        assert_eq!(Renewal.login_deadline(&li), in_days(60));
        assert!(
            Renewal
                .renewable(&li)
                .unwrap_err()
                .contains("only approved apps")
        );
        li.refresh_token = Some("r".into());
        li.refresh_expires_at = in_days(365);
        assert_eq!(Renewal.login_deadline(&li), in_days(365));
        assert!(Renewal.renewable(&li).is_ok());
        let mut x = StoredCredential::plain(PlatformKind::Twitter, "t", now);
        x.expires_at = Some(now + chrono::Duration::hours(2));
        assert_eq!(Renewal.login_deadline(&x), None);
        assert_eq!(
            Renewal.renewable(&x).unwrap_err(),
            "X gave no refresh token: log in again"
        );
        let m = StoredCredential::plain(PlatformKind::Mastodon, "t", now);
        assert_eq!(Renewal.login_deadline(&m), None);
        assert_eq!(
            Renewal.renewable(&m).unwrap_err(),
            "Mastodon tokens do not expire"
        );
        let mut ig = StoredCredential::plain(PlatformKind::Instagram, "t", now);
        ig.expires_at = in_days(60);
        assert_eq!(Renewal.login_deadline(&ig), in_days(60));
        assert!(Renewal.renewable(&ig).is_ok());
    }

    /// A kit that records the OAuth login it is asked for and answers with
    /// a token without a refresh token.
    struct ScriptedKit {
        http: Http,
        choices: LoginChoices,
        asked: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl LoginKit for ScriptedKit {
        fn http(&self) -> &Http {
            &self.http
        }
        fn choices(&self) -> LoginChoices {
            self.choices
        }
        fn read_secret(&self, what: &str, _: bool, flag: &str) -> Result<Secret, LoginError> {
            self.asked.lock().unwrap().push(format!("{what} ({flag})"));
            Ok(Secret::new("client-secret"))
        }
        async fn redirect_uri(&self) -> Result<String, LoginError> {
            Ok("http://127.0.0.1:1/callback".into())
        }
        async fn authorize(&self, login: OAuthLogin<'_>) -> Result<StoredCredential, LoginError> {
            self.asked.lock().unwrap().push(format!(
                "{} {} {} {} pkce={} body={} secret={:?}",
                login.platform,
                login.auth_url,
                login.token_url,
                login.scopes.join(" "),
                login.pkce,
                login.secret_in_body,
                login.client_secret
            ));
            let mut c = StoredCredential::plain(login.platform, "access", Utc::now());
            c.client_id = Some(login.client_id);
            Ok(c)
        }
    }

    #[tokio::test]
    async fn oauth_logins_ask_for_their_platforms_endpoints_and_scopes() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/2/users/me"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"data": {"id": "42", "username": "alice"}})),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"sub": "9", "name": "Alice Example"})),
            )
            .mount(&server)
            .await;
        let uri = server.uri();
        let src = format!(
            "[accounts.x]\nplatform = \"twitter\"\napi_url = \"{uri}\"\nclient_id = \"cid\"\n\n[accounts.li]\nplatform = \"linkedin\"\napi_url = \"{uri}\"\nclient_id = \"lid\"\n"
        );
        let config = Config::parse(Path::new("/p"), Path::new("/p/social.toml"), &src).unwrap();
        let kit = |client_secret_from_stdin| ScriptedKit {
            http: Http::new().unwrap(),
            choices: LoginChoices {
                client_secret_from_stdin,
                ..LoginChoices::default()
            },
            asked: Default::default(),
        };

        let x = kit(false);
        let done = of(PlatformKind::Twitter)
            .login(&x, &config.accounts["x"])
            .await
            .unwrap();
        assert_eq!(
            *x.asked.lock().unwrap(),
            [format!(
                "twitter https://x.com/i/oauth2/authorize {uri}/2/oauth2/token \
                 tweet.read tweet.write users.read media.write offline.access pkce=true body=false secret=None"
            )]
        );
        assert_eq!(done.identity.display, "@alice");
        assert_eq!(done.settings, [("username", "alice".to_string())]);
        assert!(done.warnings[0].contains("X sent no refresh token"));

        let li = kit(true);
        let done = of(PlatformKind::Linkedin)
            .login(&li, &config.accounts["li"])
            .await
            .unwrap();
        assert_eq!(
            *li.asked.lock().unwrap(),
            [
                "LinkedIn client secret (--client-secret-stdin)".to_string(),
                "linkedin https://www.linkedin.com/oauth/v2/authorization \
                 https://www.linkedin.com/oauth/v2/accessToken openid profile w_member_social \
                 pkce=false body=true secret=Some(\"client-secret\")"
                    .to_string()
            ]
        );
        assert_eq!(done.identity.display, "Alice Example");
        let c = &done.credential;
        assert_eq!(c.expires_at, Some(c.obtained_at + SIXTY_DAYS));
    }
}
