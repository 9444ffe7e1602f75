//! LinkedIn accounts: OAuth 2.0 authorization code with the app's client id
//! and secret, or a pasted token. Tokens last 60 days; only approved apps
//! get a refresh token.

use super::super::account::{
    AccountKind, CheckNote, Identity, LoggedIn, LoginError, LoginKit, OAuthLogin, SIXTY_DAYS,
    SecretKind, answer, client_id, pasted, text, trimmed,
};
use super::super::http::{Http, Repeat};
use super::super::{Context, PlatformError, PlatformKind};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use chrono::{DateTime, Utc};

/// LinkedIn's OAuth pages (authorization and token) unless `auth_url` says otherwise.
pub const AUTH_URL: &str = "https://www.linkedin.com/oauth/v2";

/// What `social` asks LinkedIn for.
pub const SCOPES: &[&str] = &["openid", "profile", "w_member_social"];

/// LinkedIn's account knowledge.
pub struct Linkedin;

/// The authorization and token endpoints of a LinkedIn account.
pub fn oauth_endpoints(a: &Account) -> (String, String) {
    let auth = trimmed(a.auth_url.as_deref().unwrap_or(AUTH_URL));
    (
        format!("{auth}/authorization"),
        format!("{auth}/accessToken"),
    )
}

#[async_trait::async_trait]
impl AccountKind for Linkedin {
    fn secrets(&self) -> &'static [SecretKind] {
        &[SecretKind::AccessToken, SecretKind::ClientSecret]
    }

    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError> {
        let choices = kit.choices();
        let now = crate::clock::now();
        if choices.paste_token {
            let token = kit.read_secret(
                "LinkedIn access token",
                choices.secret_from_stdin,
                "--token-stdin",
            )?;
            let mut done = pasted(self, kit.http(), account, token, Some(now + SIXTY_DAYS)).await?;
            done.warnings.push(
                "the pasted token's expiry is taken as 60 days from now (LinkedIn does not say)"
                    .into(),
            );
            return Ok(done);
        }
        let client_id = client_id(
            account,
            "pass --client-id ID (from the LinkedIn developer portal: your app's Auth tab)",
        )?;
        let client_secret = kit.read_secret(
            "LinkedIn client secret",
            choices.client_secret_from_stdin,
            "--client-secret-stdin",
        )?;
        let (auth_url, token_url) = oauth_endpoints(account);
        let mut credential = kit
            .authorize(OAuthLogin {
                platform: PlatformKind::Linkedin,
                client_id,
                client_secret: Some(client_secret.expose().to_string()),
                auth_url,
                token_url,
                scopes: SCOPES,
                pkce: false,
                secret_in_body: true,
                what: "getting the LinkedIn token",
            })
            .await?;
        if credential.expires_at.is_none() {
            credential.expires_at = Some(credential.obtained_at + SIXTY_DAYS);
        }
        let identity = self
            .whoami(kit.http(), account, &credential.as_secret())
            .await?;
        Ok(LoggedIn {
            credential,
            identity,
            settings: Vec::new(),
            warnings: Vec::new(),
        })
    }

    async fn whoami(
        &self,
        http: &Http,
        account: &Account,
        secret: &Secret,
    ) -> Result<Identity, PlatformError> {
        let url = format!(
            "{}/v2/userinfo",
            super::super::account::api_url_or(account, super::DEFAULT_API)
        );
        let resp = http
            .send(&account.name, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(secret.expose())
            })
            .await?;
        let v = answer("LinkedIn /v2/userinfo", resp).await?;
        let id = text(&v, "/sub");
        Ok(Identity {
            display: text(&v, "/name")
                .or_else(|| id.clone().map(|s| format!("urn:li:person:{s}")))
                .unwrap_or_default(),
            id,
            username: None,
        })
    }

    async fn check_notes(&self, http: &Http, account: &Account, secret: Secret) -> Vec<CheckNote> {
        let ctx = Context {
            http: http.clone(),
            secret: Some(secret),
            memo: None,
        };
        let probe = match super::Linkedin::new(account, ctx) {
            Ok(client) => client.can_read_posts().await,
            Err(e) => Err(e),
        };
        match probe {
            Ok(true) => Vec::new(),
            Ok(false) => vec![CheckNote::Say(format!(
                "{}; posting works",
                super::READ_PERMISSION_NOTE
            ))],
            Err(e) => vec![CheckNote::Say(format!(
                "could not tell whether the token has r_member_social (needed to check what a crashed run posted): {e}"
            ))],
        }
    }

    fn renewable(&self, c: &StoredCredential) -> Result<(), String> {
        match c.refresh_token {
            Some(_) => Ok(()),
            None => Err(
                "LinkedIn gave no refresh token (only approved apps get one): log in again before the token expires"
                    .into(),
            ),
        }
    }

    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
        match c.refresh_token {
            Some(_) => c.refresh_expires_at,
            None => c.expires_at,
        }
    }

    fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool {
        c.refresh_token.is_some()
            && c.expires_at
                .is_some_and(|t| t - now <= crate::credentials::meta::WARN_BEFORE)
    }

    async fn refresh(
        &self,
        http: &reqwest::Client,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError> {
        let (auth, token) = oauth_endpoints(account);
        super::super::oauth::refresh_grant(http, account, old, (&auth, &token), true, now).await
    }
}
