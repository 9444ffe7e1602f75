//! Mastodon accounts: an app registered on the instance for the loopback
//! redirect, then the authorization code flow with PKCE; or a pasted token.
//! Mastodon tokens do not expire. `accounts check` reads the instance's
//! limits for validation.

use super::super::account::{
    AccountKind, CheckNote, Identity, LoggedIn, LoginError, LoginKit, OAuthLogin, SecretKind,
    answer, pasted, text, trimmed,
};
use super::super::http::{Http, Repeat};
use super::super::{Context, PlatformError, PlatformKind};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use chrono::{DateTime, Utc};

/// What `social` asks a Mastodon instance for: writing posts and media, and
/// reading its own account, statuses and search (to check what a crashed run
/// posted and to reply to a post given by URL).
pub const SCOPES: &str = "write:statuses write:media read:statuses read:accounts read:search";

/// Mastodon's account knowledge.
pub struct Mastodon;

/// The instance of an account, as a base URL.
pub fn base(a: &Account) -> String {
    let i = trimmed(a.instance.as_deref().unwrap_or_default());
    if i.starts_with("http://") || i.starts_with("https://") {
        i
    } else {
        format!("https://{i}")
    }
}

#[async_trait::async_trait]
impl AccountKind for Mastodon {
    fn secrets(&self) -> &'static [SecretKind] {
        &[SecretKind::AccessToken]
    }

    fn before_login(&self, account: &Account) -> Result<(), LoginError> {
        match account.instance {
            Some(_) => Ok(()),
            None => Err(super::super::account::usage(
                "a Mastodon account needs its instance",
                Some("pass --instance https://mastodon.social"),
            )),
        }
    }

    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError> {
        let choices = kit.choices();
        if choices.paste_token {
            let token = kit.read_secret(
                "Mastodon access token",
                choices.secret_from_stdin,
                "--token-stdin",
            )?;
            return pasted(self, kit.http(), account, token, None).await;
        }
        let base = base(account);
        let redirect = kit.redirect_uri().await?;
        // Register an app of our own on the instance, for this redirect URI.
        let url = format!("{base}/api/v1/apps");
        let form = [
            ("client_name", "social"),
            ("redirect_uris", redirect.as_str()),
            ("scopes", SCOPES),
            ("website", "https://crates.io/crates/social"),
        ];
        let resp = kit
            .http()
            .send(&account.name, Repeat::Unsafe, |c| c.post(&url).form(&form))
            .await?;
        let app = answer("registering the app on the instance", resp).await?;
        let (Some(client_id), Some(client_secret)) =
            (text(&app, "/client_id"), text(&app, "/client_secret"))
        else {
            return Err(PlatformError::unavailable(
                "registering the app on the instance: the answer has no client_id/client_secret",
            )
            .into());
        };
        let scopes: Vec<&str> = SCOPES.split(' ').collect();
        let credential = kit
            .authorize(OAuthLogin {
                platform: PlatformKind::Mastodon,
                client_id,
                client_secret: Some(client_secret),
                auth_url: format!("{base}/oauth/authorize"),
                token_url: format!("{base}/oauth/token"),
                scopes: &scopes,
                pkce: true,
                secret_in_body: true,
                what: "getting the Mastodon token",
            })
            .await?;
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
        let base = base(account);
        let url = format!("{base}/api/v1/accounts/verify_credentials");
        let resp = http
            .send(&account.name, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(secret.expose())
            })
            .await?;
        let v = answer("Mastodon verify_credentials", resp).await?;
        let host = reqwest::Url::parse(&base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let acct = text(&v, "/acct")
            .or_else(|| text(&v, "/username"))
            .unwrap_or_default();
        let full = if acct.contains('@') || host.is_empty() {
            acct.clone()
        } else {
            format!("{acct}@{host}")
        };
        Ok(Identity {
            display: format!("@{full}"),
            id: text(&v, "/id"),
            username: text(&v, "/username"),
        })
    }

    async fn check_notes(&self, http: &Http, account: &Account, secret: Secret) -> Vec<CheckNote> {
        let ctx = Context {
            http: http.clone(),
            secret: Some(secret),
            memo: None,
        };
        let limits = match super::Mastodon::new(account, ctx) {
            Ok(client) => client.instance_limits().await,
            Err(e) => Err(e),
        };
        vec![match limits {
            Ok(l) => {
                let (limit, facts) = l.for_validation();
                CheckNote::Limits {
                    label: "instance limits",
                    limit,
                    facts,
                }
            }
            Err(e) => CheckNote::Say(format!("could not read the instance's limits: {e}")),
        }]
    }

    fn renewable(&self, _: &StoredCredential) -> Result<(), String> {
        Err("Mastodon tokens do not expire".into())
    }

    fn login_deadline(&self, _: &StoredCredential) -> Option<DateTime<Utc>> {
        None
    }
}
