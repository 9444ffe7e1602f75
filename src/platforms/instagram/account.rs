//! Instagram accounts: a long-lived token pasted once, on one of two hosts.
//! With Instagram Login (`graph.instagram.com`, the default) `/me` is the
//! Instagram account and `refresh_access_token` renews the token; with
//! Facebook Login (`graph.facebook.com`) `/me` is the Facebook user, so the
//! account is the configured `user_id` or the one linked to the token's
//! first Page, and renewing needs the app's id and secret.

use super::super::PlatformError;
use super::super::account::{
    AccountKind, Identity, LoggedIn, LoginError, LoginKit, SIXTY_DAYS, SecretKind, answer, at,
    pasted, text,
};
use super::super::http::{Http, Repeat};
use super::super::oauth;
use super::{LINKED_ACCOUNT_FIELDS, facebook_login, linked_account};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use chrono::{DateTime, Utc};

/// Instagram's account knowledge.
pub struct Instagram;

fn api(a: &Account) -> String {
    super::super::account::api_url_or(a, super::DEFAULT_API)
}

#[async_trait::async_trait]
impl AccountKind for Instagram {
    fn secrets(&self) -> &'static [SecretKind] {
        &[SecretKind::AccessToken]
    }

    async fn login(&self, kit: &dyn LoginKit, account: &Account) -> Result<LoggedIn, LoginError> {
        let now = crate::clock::now();
        let token = kit.read_secret(
            "Instagram long-lived access token",
            kit.choices().secret_from_stdin,
            "--token-stdin",
        )?;
        let mut done = pasted(self, kit.http(), account, token, Some(now + SIXTY_DAYS)).await?;
        if account.user_id.is_none()
            && let Some(id) = &done.identity.id
        {
            done.settings.push(("user_id", id.clone()));
        }
        done.warnings.push(format!(
            "the token's expiry is taken as 60 days from now; `social accounts refresh {}` renews it (a running daemon does so daily)",
            account.name
        ));
        Ok(done)
    }

    async fn whoami(
        &self,
        http: &Http,
        account: &Account,
        secret: &Secret,
    ) -> Result<Identity, PlatformError> {
        if facebook_login(&api(account)) {
            return via_facebook(http, account, secret).await;
        }
        let url = format!("{}/me", api(account));
        let resp = http
            .send(&account.name, Repeat::Safe, |c| {
                c.get(&url)
                    .bearer_auth(secret.expose())
                    .query(&[("fields", "user_id,username")])
            })
            .await?;
        let v = answer("Instagram /me", resp).await?;
        let username = text(&v, "/username");
        Ok(Identity {
            display: at(username.as_deref()),
            id: text(&v, "/user_id").or_else(|| text(&v, "/id")),
            username,
        })
    }

    fn renewable(&self, _: &StoredCredential) -> Result<(), String> {
        Ok(())
    }

    fn login_deadline(&self, c: &StoredCredential) -> Option<DateTime<Utc>> {
        c.expires_at
    }

    fn renew_due(&self, c: &StoredCredential, now: DateTime<Utc>) -> bool {
        // Instagram renews a token at least a day old; do it in its last month.
        now - c.obtained_at >= chrono::Duration::days(1)
            && c.expires_at
                .is_none_or(|t| t - now <= chrono::Duration::days(30))
    }

    /// Instagram Login's `refresh_access_token`, or Facebook Login's
    /// `fb_exchange_token` with the app's id and secret.
    async fn refresh(
        &self,
        http: &reqwest::Client,
        account: &Account,
        old: &StoredCredential,
        now: DateTime<Utc>,
    ) -> Result<StoredCredential, PlatformError> {
        let base = api(account);
        let request = if facebook_login(&base) {
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
}

/// Who an Instagram token of Facebook Login belongs to. On
/// graph.facebook.com `/me` is the Facebook user, so this reads the
/// configured `user_id` (`GET /<user_id>?fields=id,username`), else the
/// professional account linked to the first Page the token manages.
async fn via_facebook(
    http: &Http,
    account: &Account,
    secret: &Secret,
) -> Result<Identity, PlatformError> {
    let base = api(account);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PlatformKind;
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
        let id = Instagram
            .whoami(&http, &instagram(base, None), &Secret::new(TOKEN))
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
        let id = Instagram
            .whoami(
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
        let id = Instagram
            .whoami(
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
        let err = Instagram
            .whoami(&http, &instagram(base, None), &Secret::new("EAAB-fb"))
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
        let new = Instagram
            .refresh(http.client(), &instagram(base, None), &old, now)
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
        let err = Instagram
            .refresh(http.client(), &account, &old, now)
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
        let new = Instagram
            .refresh(http.client(), &account, &old, now)
            .await
            .unwrap();
        assert_eq!(new.secret, "EAAB-new");
    }
}
