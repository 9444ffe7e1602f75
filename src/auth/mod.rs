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
            let bucket = crate::platforms::bluesky::bucket("com.atproto.server.createSession");
            let resp = http
                .send_in(name, bucket, Repeat::Safe, |c| c.post(&url).json(&body))
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
        PlatformKind::Instagram
            if crate::platforms::instagram::facebook_login(&api_base(account)) =>
        {
            instagram_via_facebook(http, account, secret).await
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

/// Who an Instagram token of Facebook Login belongs to. On
/// graph.facebook.com `/me` is the Facebook user, so this reads the
/// configured `user_id` (`GET /<user_id>?fields=id,username`), else the
/// professional account linked to the first Page the token manages.
async fn instagram_via_facebook(
    http: &Http,
    account: &Account,
    secret: &Secret,
) -> Result<Identity, PlatformError> {
    use crate::platforms::instagram::{LINKED_ACCOUNT_FIELDS, linked_account};
    let base = api_base(account);
    let name = &account.name;
    let configured = account
        .user_id
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let (id, username) = match configured {
        Some(uid) => {
            let url = format!("{base}/{uid}");
            let resp = http
                .send(name, Repeat::Safe, |c| {
                    c.get(&url)
                        .bearer_auth(secret.expose())
                        .query(&[("fields", "id,username")])
                })
                .await?;
            let v = answer("Instagram (Facebook Login) account", resp).await?;
            (
                text(&v, "/id").unwrap_or_else(|| uid.to_string()),
                text(&v, "/username"),
            )
        }
        None => {
            let url = format!("{base}/me/accounts");
            let resp = http
                .send(name, Repeat::Safe, |c| {
                    c.get(&url)
                        .bearer_auth(secret.expose())
                        .query(&[("fields", LINKED_ACCOUNT_FIELDS)])
                })
                .await?;
            let v = answer("Instagram (Facebook Login) /me/accounts", resp).await?;
            linked_account(&v).ok_or_else(|| {
                PlatformError::config(format!(
                    "account `{name}` uses Facebook Login (graph.facebook.com), and no Facebook Page this token manages \
                     has a linked Instagram professional account: link one, or set `user_id` under [accounts.{name}]"
                ))
            })?
        }
    };
    Ok(Identity {
        display: username
            .as_deref()
            .map(|u| format!("@{u}"))
            .unwrap_or_else(|| id.clone()),
        id: Some(id),
        username,
    })
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
            let base = api_base(account);
            let facebook = crate::platforms::instagram::facebook_login(&base);
            let request = if facebook {
                // Facebook Login: no refresh endpoint; a long-lived token is
                // exchanged for a new one, with the app's id and secret.
                let client_id = old.client_id.clone().or_else(|| account.client_id.clone());
                let (Some(client_id), Some(client_secret)) = (client_id, old.client_secret.clone())
                else {
                    return Err(PlatformError::config(format!(
                        "account `{0}` uses Facebook Login (api_url on graph.facebook.com): its token is renewed with \
                         `grant_type=fb_exchange_token` on graph.facebook.com/oauth/access_token, which needs the app id and \
                         app secret, and social keeps neither for Instagram. Get a new long-lived token from your app \
                         and paste it with `social accounts add {0} --platform instagram --token-stdin` before the 60 days end \
                         (or switch to Instagram Login: graph.instagram.com, renewed automatically)",
                        account.name
                    )));
                };
                http.get(format!("{base}/oauth/access_token")).query(&[
                    ("grant_type", "fb_exchange_token".to_string()),
                    ("client_id", client_id),
                    ("client_secret", client_secret),
                    ("fb_exchange_token", old.secret.clone()),
                ])
            } else {
                http.get(format!("{base}/refresh_access_token")).query(&[
                    ("grant_type", "ig_refresh_token".to_string()),
                    ("access_token", old.secret.clone()),
                ])
            };
            let resp = request.send().await.map_err(|e| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{any, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const TOKEN: &str = "IGQ-long-lived";

    fn instagram(api_url: String, user_id: Option<&str>) -> Account {
        Account {
            name: "insta".into(),
            platform: PlatformKind::Instagram,
            handle: None,
            service: None,
            instance: None,
            username: None,
            api_url: Some(api_url),
            auth_url: None,
            client_id: None,
            user_id: user_id.map(str::to_string),
            media_base_url: None,
            max_characters: None,
            linkedin_version: None,
        }
    }

    /// A fake server reached under `host`, and the account's API URL there.
    async fn fake(host: &str, version: &str) -> (MockServer, Http, String) {
        let server = MockServer::start().await;
        let addr = *server.address();
        let http = Http::resolving(host, addr).unwrap();
        let base = format!("http://{host}:{}{version}", addr.port());
        (server, http, base)
    }

    #[tokio::test]
    async fn instagram_login_asks_graph_instagram_com_for_me() {
        let (server, http, base) = fake("graph.instagram.com", "").await;
        Mock::given(method("GET"))
            .and(path("/me"))
            .and(query_param("fields", "user_id,username"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({"user_id": "1789", "username": "alice.pics", "id": "55"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let id = whoami(&http, &instagram(base, None), &Secret::new(TOKEN))
            .await
            .unwrap();
        assert_eq!(id.display, "@alice.pics");
        assert_eq!(id.id.as_deref(), Some("1789"));
    }

    #[tokio::test]
    async fn facebook_login_reads_the_configured_instagram_account_not_the_facebook_user() {
        let (server, http, base) = fake("graph.facebook.com", "/v23.0").await;
        Mock::given(method("GET"))
            .and(path("/v23.0/1789"))
            .and(query_param("fields", "id,username"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"id": "1789", "username": "alice.pics"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/v23.0/me"))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
        let id = whoami(
            &http,
            &instagram(base, Some("1789")),
            &Secret::new("EAAB-fb"),
        )
        .await
        .unwrap();
        assert_eq!(id.display, "@alice.pics");
        assert_eq!(id.id.as_deref(), Some("1789"));
    }

    #[tokio::test]
    async fn facebook_login_finds_the_account_linked_to_the_page() {
        let (server, http, base) = fake("graph.facebook.com", "/v23.0").await;
        Mock::given(method("GET"))
            .and(path("/v23.0/me/accounts"))
            .and(query_param(
                "fields",
                "instagram_business_account{id,username}",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "data": [
                    {"id": "page-1", "name": "No Instagram here"},
                    {"id": "page-2", "instagram_business_account": {"id": "17841400000000001", "username": "alice.pics"}}
                ]
            })))
            .expect(1)
            .mount(&server)
            .await;
        let id = whoami(
            &http,
            &instagram(base.clone(), None),
            &Secret::new("EAAB-fb"),
        )
        .await
        .unwrap();
        assert_eq!(id.id.as_deref(), Some("17841400000000001"));
        assert_eq!(id.username.as_deref(), Some("alice.pics"));

        // No linked account: a clear configuration error.
        server.reset().await;
        Mock::given(path("/v23.0/me/accounts"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"data": []})))
            .mount(&server)
            .await;
        let err = whoami(&http, &instagram(base, None), &Secret::new("EAAB-fb"))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("Facebook Login") && message.contains("user_id")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn instagram_login_refreshes_with_ig_refresh_token() {
        let (server, http, base) = fake("graph.instagram.com", "").await;
        Mock::given(method("GET"))
            .and(path("/refresh_access_token"))
            .and(query_param("grant_type", "ig_refresh_token"))
            .and(query_param("access_token", TOKEN))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "IGQ-renewed", "token_type": "bearer", "expires_in": 5183944
            })))
            .expect(1)
            .mount(&server)
            .await;
        let now = Utc::now();
        let old = StoredCredential::plain(PlatformKind::Instagram, TOKEN, now);
        let new = refresh_request(http.client(), &instagram(base, None), &old, now)
            .await
            .unwrap();
        assert_eq!(new.secret, "IGQ-renewed");
        assert_eq!(
            new.expires_at,
            Some(now + chrono::Duration::seconds(5183944))
        );
    }

    #[tokio::test]
    async fn facebook_login_refresh_exchanges_with_the_app_or_refuses_clearly() {
        let (server, http, base) = fake("graph.facebook.com", "/v23.0").await;
        let now = Utc::now();
        let account = instagram(base, Some("1789"));
        // Without the app's secret: refused before any request.
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .named("nothing")
            .mount(&server)
            .await;
        let old = StoredCredential::plain(PlatformKind::Instagram, "EAAB-fb", now);
        let err = refresh_request(http.client(), &account, &old, now)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Config { message }
                if message.contains("fb_exchange_token")
                    && message.contains("graph.facebook.com")
                    && message.contains("social accounts add insta --platform instagram --token-stdin")),
            "{err:?}"
        );
        server.verify().await;
        server.reset().await;

        // With them: the documented exchange.
        Mock::given(method("GET"))
            .and(path("/v23.0/oauth/access_token"))
            .and(query_param("grant_type", "fb_exchange_token"))
            .and(query_param("client_id", "app-1"))
            .and(query_param("client_secret", "app-secret"))
            .and(query_param("fb_exchange_token", "EAAB-fb"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
                "access_token": "EAAB-new", "token_type": "bearer", "expires_in": 5183944
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut old = old;
        old.client_id = Some("app-1".into());
        old.client_secret = Some("app-secret".into());
        let new = refresh_request(http.client(), &account, &old, now)
            .await
            .unwrap();
        assert_eq!(new.secret, "EAAB-new");
    }
}
