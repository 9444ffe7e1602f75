//! Logging in and renewing: each platform's login flow (an app password, a
//! pasted token, or OAuth 2.0 through the system browser with a loopback
//! redirect), the question "who does this credential belong to?", and token
//! refresh. Secrets go to [`crate::credentials`]; nothing here stores them.

pub mod browser;
pub mod login;
pub mod loopback;
pub mod oauth;
pub mod prompt;
pub mod settings;

use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use crate::platforms::http::{Http, Repeat, short};
use crate::platforms::{PlatformError, PlatformKind};
use chrono::{DateTime, Utc};
use oauth2::{RefreshToken, TokenResponse};
use serde_json::Value;

/// X's authorization pages unless the account sets `auth_url`.
pub const X_AUTH_URL: &str = "https://x.com/i/oauth2";
/// LinkedIn's OAuth pages (authorization and token) unless `auth_url` says otherwise.
pub const LINKEDIN_AUTH_URL: &str = "https://www.linkedin.com/oauth/v2";
/// What `social` asks X for: posting, media, reading the user, and a refresh token.
pub const X_SCOPES: &[&str] = &[
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "offline.access",
];
/// What `social` asks a Mastodon instance for: writing posts and media, and
/// reading its own account, statuses and search (to check what a crashed run
/// posted and to reply to a post given by URL).
pub const MASTODON_SCOPES: &str =
    "write:statuses write:media read:statuses read:accounts read:search";
/// What `social` asks LinkedIn for.
pub const LINKEDIN_SCOPES: &[&str] = &["openid", "profile", "w_member_social"];
/// Instagram (and LinkedIn) long-lived tokens last this long.
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

fn trimmed(u: &str) -> String {
    u.trim().trim_end_matches('/').to_string()
}

/// The Bluesky PDS of an account.
pub fn bluesky_service(a: &Account) -> String {
    trimmed(
        a.service
            .as_deref()
            .unwrap_or(crate::platforms::bluesky::DEFAULT_SERVICE),
    )
}

/// The Mastodon instance of an account.
pub fn mastodon_base(a: &Account) -> String {
    let i = trimmed(a.instance.as_deref().unwrap_or_default());
    if i.starts_with("http://") || i.starts_with("https://") {
        i
    } else {
        format!("https://{i}")
    }
}

/// The API base of an X, LinkedIn or Instagram account.
pub fn api_base(a: &Account) -> String {
    let default = match a.platform {
        PlatformKind::Twitter => crate::platforms::twitter::DEFAULT_API_URL,
        PlatformKind::Linkedin => crate::platforms::linkedin::DEFAULT_API,
        _ => crate::platforms::instagram::DEFAULT_API,
    };
    trimmed(a.api_url.as_deref().unwrap_or(default))
}

/// The authorization and token endpoints of an OAuth platform.
pub fn oauth_endpoints(a: &Account) -> (String, String) {
    match a.platform {
        PlatformKind::Twitter => {
            let auth = trimmed(a.auth_url.as_deref().unwrap_or(X_AUTH_URL));
            (
                format!("{auth}/authorize"),
                format!("{}/2/oauth2/token", api_base(a)),
            )
        }
        PlatformKind::Linkedin => {
            let auth = trimmed(a.auth_url.as_deref().unwrap_or(LINKEDIN_AUTH_URL));
            (
                format!("{auth}/authorization"),
                format!("{auth}/accessToken"),
            )
        }
        _ => {
            let base = mastodon_base(a);
            (
                format!("{base}/oauth/authorize"),
                format!("{base}/oauth/token"),
            )
        }
    }
}

/// Reads a JSON answer, turning 401/403 into `Auth` and other failures
/// into typed errors (the body shortened; error bodies carry no tokens).
async fn answer(what: &str, resp: reqwest::Response) -> Result<Value, PlatformError> {
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

fn text(v: &Value, pointer: &str) -> Option<String> {
    match v.pointer(pointer)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Asks the platform who `secret` belongs to: Bluesky createSession,
/// Mastodon verify_credentials, X /2/users/me, LinkedIn /v2/userinfo,
/// Instagram /me.
pub async fn whoami(
    http: &Http,
    account: &Account,
    secret: &Secret,
) -> Result<Identity, PlatformError> {
    let name = &account.name;
    match account.platform {
        PlatformKind::Bluesky => {
            let handle = account.handle.clone().unwrap_or_default();
            let url = format!(
                "{}/xrpc/com.atproto.server.createSession",
                bluesky_service(account)
            );
            let body = serde_json::json!({"identifier": handle, "password": secret.expose()});
            let resp = http
                .send(name, Repeat::Safe, |c| c.post(&url).json(&body))
                .await?;
            let v = answer("Bluesky createSession", resp)
                .await
                .map_err(|e| match e {
                    PlatformError::Auth { message, .. } => PlatformError::Auth {
                        expired: false,
                        message: format!("{message} (Bluesky refused the handle and app password)"),
                    },
                    other => other,
                })?;
            let h = text(&v, "/handle").unwrap_or(handle);
            Ok(Identity {
                display: format!("@{h}"),
                id: text(&v, "/did"),
                username: Some(h),
            })
        }
        PlatformKind::Mastodon => {
            let base = mastodon_base(account);
            let url = format!("{base}/api/v1/accounts/verify_credentials");
            let resp = http
                .send(name, Repeat::Safe, |c| {
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
        PlatformKind::Twitter => {
            let url = format!("{}/2/users/me", api_base(account));
            let resp = http
                .send(name, Repeat::Safe, |c| {
                    c.get(&url).bearer_auth(secret.expose())
                })
                .await?;
            let v = answer("X /2/users/me", resp).await?;
            let username = text(&v, "/data/username");
            Ok(Identity {
                display: username
                    .as_deref()
                    .map(|u| format!("@{u}"))
                    .unwrap_or_default(),
                id: text(&v, "/data/id"),
                username,
            })
        }
        PlatformKind::Linkedin => {
            let url = format!("{}/v2/userinfo", api_base(account));
            let resp = http
                .send(name, Repeat::Safe, |c| {
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
        PlatformKind::Instagram => {
            let url = format!("{}/me", api_base(account));
            let resp = http
                .send(name, Repeat::Safe, |c| {
                    c.get(&url)
                        .bearer_auth(secret.expose())
                        .query(&[("fields", "user_id,username")])
                })
                .await?;
            let v = answer("Instagram /me", resp).await?;
            let username = text(&v, "/username");
            Ok(Identity {
                display: username
                    .as_deref()
                    .map(|u| format!("@{u}"))
                    .unwrap_or_default(),
                id: text(&v, "/user_id").or_else(|| text(&v, "/id")),
                username,
            })
        }
    }
}

/// The credential after a token answer: the new access token, the new
/// refresh token (or the old one where the server does not rotate), their
/// expiry, and the replaced refresh token kept one generation.
pub fn apply_answer(
    old: &StoredCredential,
    answer: &oauth::TokenAnswer,
    now: DateTime<Utc>,
) -> StoredCredential {
    let mut c = old.clone();
    c.secret = answer.access_token().secret().clone();
    c.expires_at = answer
        .expires_in()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| now + d);
    if let Some(rt) = answer.refresh_token() {
        if old.refresh_token.as_deref() != Some(rt.secret().as_str()) {
            c.previous_refresh_token = old.refresh_token.clone();
        }
        c.refresh_token = Some(rt.secret().clone());
    }
    if let Some(d) = answer
        .refresh_expires_in()
        .and_then(|d| chrono::Duration::from_std(d).ok())
    {
        c.refresh_expires_at = Some(now + d);
    }
    c.obtained_at = now;
    c.refreshing_since = None;
    c
}

/// Asks the platform for a fresh token with `old`: the refresh grant (X,
/// LinkedIn) or Instagram's `refresh_access_token`. Only the request: the
/// caller stores the answer before anything else happens.
pub async fn refresh_request(
    http: &reqwest::Client,
    account: &Account,
    old: &StoredCredential,
    now: DateTime<Utc>,
) -> Result<StoredCredential, PlatformError> {
    match account.platform {
        PlatformKind::Twitter | PlatformKind::Linkedin => {
            let Some(rt) = &old.refresh_token else {
                return Err(PlatformError::Auth {
                    expired: true,
                    message: "there is no refresh token; log in again".into(),
                });
            };
            let client_id = old
                .client_id
                .clone()
                .or_else(|| account.client_id.clone())
                .ok_or_else(|| {
                    PlatformError::config(format!(
                        "account `{}` has no `client_id` to refresh its token with",
                        account.name
                    ))
                })?;
            let (auth, token) = oauth_endpoints(account);
            let linkedin = account.platform == PlatformKind::Linkedin;
            let client = oauth::client(
                &client_id,
                old.client_secret.as_deref(),
                &auth,
                &token,
                None,
                linkedin,
            )?;
            let what = format!("refreshing the {} token", account.platform.display_name());
            let answer = client
                .exchange_refresh_token(&RefreshToken::new(rt.clone()))
                .request_async(http)
                .await
                .map_err(|e| oauth::token_error(&what, e))?;
            Ok(apply_answer(old, &answer, now))
        }
        PlatformKind::Instagram => {
            let url = format!("{}/refresh_access_token", api_base(account));
            let resp = http
                .get(&url)
                .query(&[
                    ("grant_type", "ig_refresh_token"),
                    ("access_token", old.secret.as_str()),
                ])
                .send()
                .await
                .map_err(|e| {
                    PlatformError::unavailable(format!(
                        "refreshing the Instagram token: {}",
                        oauth::describe(e)
                    ))
                })?;
            let v = answer("refreshing the Instagram token", resp).await?;
            let token = text(&v, "/access_token").ok_or_else(|| {
                PlatformError::unavailable(
                    "refreshing the Instagram token: the answer has no access_token",
                )
            })?;
            let mut c = old.clone();
            c.secret = token;
            c.expires_at = Some(
                v.get("expires_in")
                    .and_then(|e| e.as_i64().or_else(|| e.as_str()?.parse().ok()))
                    .map(|s| now + chrono::Duration::seconds(s))
                    .unwrap_or(now + SIXTY_DAYS),
            );
            c.obtained_at = now;
            c.refreshing_since = None;
            Ok(c)
        }
        PlatformKind::Bluesky | PlatformKind::Mastodon => Err(PlatformError::config(format!(
            "{} credentials do not expire and are not refreshed",
            account.platform.display_name()
        ))),
    }
}
