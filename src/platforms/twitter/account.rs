//! X accounts: OAuth 2.0 authorization code with PKCE and the user's own
//! client id (and, for a confidential "Web App", its secret). Access tokens
//! last 2 hours; the refresh token rotates on every use.

use super::super::account::{
    AccountKind, Identity, LoggedIn, LoginError, LoginKit, OAuthLogin, SecretKind, answer, at,
    client_id, text, trimmed, usage,
};
use super::super::http::{Http, Repeat};
use super::super::{PlatformError, PlatformKind};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use chrono::{DateTime, Utc};

/// X's authorization pages unless the account sets `auth_url`.
pub const AUTH_URL: &str = "https://x.com/i/oauth2";

/// What `social` asks X for: posting, media, reading the user, and a refresh token.
pub const SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "offline.access",
];

/// X's account knowledge.
pub struct Twitter;

fn api(a: &Account) -> String {
    super::super::account::api_url_or(a, super::DEFAULT_API_URL)
}

/// The authorization and token endpoints of an X account.
pub fn oauth_endpoints(a: &Account) -> (String, String) {
    let auth = trimmed(a.auth_url.as_deref().unwrap_or(AUTH_URL));
    (
        format!("{auth}/authorize"),
        format!("{}/2/oauth2/token", api(a)),
    )
}

#[async_trait::async_trait]
impl AccountKind for Twitter {
    fn secrets(&self) -> &'static [SecretKind] {
        &[SecretKind::ClientSecret]
    }

    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError> {
        let choices = kit.choices();
        if choices.paste_token {
            return Err(usage(
                "X needs the browser login: a pasted X token would stop working within 2 hours",
                Some("leave out --token-stdin"),
            ));
        }
        let client_id = client_id(
            account,
            "pass --client-id ID (from the X developer portal: your app's OAuth 2.0 client id)",
        )?;
        // A confidential client (an X "Web App") also has a secret; a public one has none.
        let client_secret = if choices.client_secret_from_stdin {
            Some(kit.read_secret("X client secret", true, "--client-secret-stdin")?)
        } else {
            None
        };
        let (auth_url, token_url) = oauth_endpoints(account);
        let credential = kit
            .authorize(OAuthLogin {
                platform: PlatformKind::Twitter,
                client_id,
                client_secret: client_secret.map(|s| s.expose().to_string()),
                auth_url,
                token_url,
                scopes: SCOPES,
                pkce: true,
                secret_in_body: false,
                what: "getting the X token",
            })
            .await?;
        let mut warnings = Vec::new();
        if credential.refresh_token.is_none() {
            warnings.push(
                "X sent no refresh token (is `offline.access` allowed for your app?): this login lasts 2 hours".into(),
            );
        }
        let identity = self
            .whoami(kit.http(), account, &credential.as_secret())
            .await?;
        let mut settings = Vec::new();
        if let Some(u) = &identity.username
            && account.username.as_deref() != Some(u.as_str())
        {
            settings.push(("username", u.clone()));
        }
        Ok(LoggedIn {
            credential,
            identity,
            settings,
            warnings,
        })
    }

    async fn whoami(
        &self,
        http: &Http,
        account: &Account,
        secret: &Secret,
    ) -> Result<Identity, PlatformError> {
        let url = format!("{}/2/users/me", api(account));
        let resp = http
            .send(&account.name, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(secret.expose())
            })
            .await?;
        let v = answer("X /2/users/me", resp).await?;
        let username = text(&v, "/data/username");
        Ok(Identity {
            display: at(username.as_deref()),
            id: text(&v, "/data/id"),
            username,
        })
    }

    fn renewable(&self, c: &StoredCredential) -> Result<(), String> {
        match c.refresh_token {
            Some(_) => Ok(()),
            None => Err("X gave no refresh token: log in again".into()),
        }
    }

    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
        c.refresh_expires_at
    }

    fn renew_due(&self, c: &StoredCredential, _: DateTime<Utc>) -> bool {
        // Access tokens last 2 hours: renewing once a day keeps the chain in use.
        c.refresh_token.is_some()
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError> {
        let (auth, token) = oauth_endpoints(account);
        super::super::oauth::refresh_grant(http, account, old, (&auth, &token), false, now).await
    }
}
