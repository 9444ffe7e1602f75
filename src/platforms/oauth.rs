//! OAuth 2.0 through the `oauth2` crate: the client for a platform's
//! authorization and token endpoints, the token request's HTTP client and
//! errors, the refresh grant, and a token answer tolerant of what Mastodon,
//! X and LinkedIn actually send (no `token_type`, an `expires_in` as a
//! string, LinkedIn's `refresh_token_expires_in`). The browser half of a
//! login (authorization URL, loopback redirect, code exchange) is
//! [`crate::auth`]'s.

use crate::config::Account;
use crate::credentials::StoredCredential;
use crate::platforms::PlatformError;
use crate::platforms::http::USER_AGENT;
use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthUrl, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A token endpoint's answer.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TokenAnswer {
    access_token: AccessToken,
    #[serde(default)]
    refresh_token: Option<RefreshToken>,
    #[serde(default, deserialize_with = "seconds")]
    expires_in: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    refresh_token_expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(skip, default = "bearer")]
    token_type: BasicTokenType,
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

/// A number of seconds written as a number or a string.
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

impl TokenResponse for TokenAnswer {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        None
    }
}

impl TokenAnswer {
    /// How long the refresh token lasts, where the server says (LinkedIn).
    pub fn refresh_expires_in(&self) -> Option<Duration> {
        self.refresh_token_expires_in.map(Duration::from_secs)
    }
}

/// The client type of every login: authorization and token endpoints set.
pub type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// An OAuth client of `client_id` (and `client_secret`, sent in the body or
/// as Basic auth) for the given endpoints.
pub fn client(
    client_id: &str,
    client_secret: Option<&str>,
    auth_url: &str,
    token_url: &str,
    redirect: Option<&str>,
    secret_in_body: bool,
) -> Result<OAuthClient, PlatformError> {
    let bad = |what: &str, u: &str| PlatformError::config(format!("the {what} `{u}` is not a URL"));
    let mut c = oauth2::Client::new(ClientId::new(client_id.to_string()))
        .set_auth_uri(
            AuthUrl::new(auth_url.to_string()).map_err(|_| bad("authorization URL", auth_url))?,
        )
        .set_token_uri(
            TokenUrl::new(token_url.to_string()).map_err(|_| bad("token URL", token_url))?,
        );
    if let Some(s) = client_secret {
        c = c.set_client_secret(ClientSecret::new(s.to_string()));
    }
    if secret_in_body {
        c = c.set_auth_type(oauth2::AuthType::RequestBody);
    }
    if let Some(r) = redirect {
        c = c
            .set_redirect_uri(RedirectUrl::new(r.to_string()).map_err(|_| bad("redirect URL", r))?);
    }
    Ok(c)
}

/// The HTTP client for token requests: no redirects (a token endpoint that
/// redirects is not followed with the code or refresh token).
pub fn token_http() -> Result<reqwest::Client, PlatformError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PlatformError::config(format!("cannot start the HTTP client: {e}")))
}

/// A reqwest error as a message without the URL (which may carry a token in
/// its query, as Instagram's refresh does).
pub fn describe(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut msg = format!("{what}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// What a failed token request means, without echoing the answer's body
/// (which may hold a token).
pub fn token_error(
    what: &str,
    e: RequestTokenError<oauth2::HttpClientError<reqwest::Error>, BasicErrorResponse>,
) -> PlatformError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let code = r.error().as_ref().to_string();
            let detail = match r.error_description() {
                Some(d) => format!("{code}: {}", crate::platforms::http::short(d)),
                None => code.clone(),
            };
            if matches!(
                code.as_str(),
                "invalid_grant" | "invalid_client" | "unauthorized_client"
            ) {
                PlatformError::Auth {
                    expired: false,
                    message: format!("{what}: the server refused ({detail})"),
                }
            } else {
                PlatformError::rejected(format!("{what}: {detail}"))
            }
        }
        RequestTokenError::Request(oauth2::HttpClientError::Reqwest(e)) => {
            PlatformError::unavailable(format!("{what}: {}", describe(*e)))
        }
        RequestTokenError::Request(_) => {
            PlatformError::unavailable(format!("{what}: the request failed"))
        }
        RequestTokenError::Parse(_, body) => PlatformError::unavailable(format!(
            "{what}: the token endpoint's answer is not a token response ({} bytes)",
            body.len()
        )),
        RequestTokenError::Other(m) => {
            PlatformError::unavailable(format!("{what}: {}", crate::platforms::http::short(&m)))
        }
    }
}

/// The credential after a token answer: the new access token, the new
/// refresh token (or the old one where the server does not rotate), their
/// expiry, and the replaced refresh token kept one generation.
pub fn apply_answer(
    old: &StoredCredential,
    answer: &TokenAnswer,
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

/// The refresh grant (X, LinkedIn): `old`'s refresh token exchanged at
/// `token_url` for a new credential, with the client the token was issued
/// to (the secret in the body when `secret_in_body`). Only the request: the
/// caller stores the answer before anything else happens.
pub async fn refresh_grant(
    http: &reqwest::Client,
    account: &Account,
    old: &StoredCredential,
    (auth_url, token_url): (&str, &str),
    secret_in_body: bool,
    now: DateTime<Utc>,
) -> Result<StoredCredential, PlatformError> {
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
    let client = client(
        &client_id,
        old.client_secret.as_deref(),
        auth_url,
        token_url,
        None,
        secret_in_body,
    )?;
    let what = format!("refreshing the {} token", account.platform.display_name());
    let answer = client
        .exchange_refresh_token(&RefreshToken::new(rt.clone()))
        .request_async(http)
        .await
        .map_err(|e| token_error(&what, e))?;
    Ok(apply_answer(old, &answer, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_token_answers() {
        let a: TokenAnswer = serde_json::from_str(
            r#"{"access_token": "a", "expires_in": "5183999", "refresh_token_expires_in": 31535999, "scope": "openid"}"#,
        )
        .unwrap();
        assert_eq!(a.expires_in(), Some(Duration::from_secs(5183999)));
        assert_eq!(a.refresh_expires_in(), Some(Duration::from_secs(31535999)));
        let m: TokenAnswer = serde_json::from_str(
            r#"{"access_token": "a", "token_type": "Bearer", "scope": "write:statuses", "created_at": 1}"#,
        )
        .unwrap();
        assert!(m.expires_in().is_none() && m.refresh_token().is_none());
        // The tokens stay out of Debug.
        let x: TokenAnswer = serde_json::from_str(
            r#"{"access_token": "hunter2-a", "refresh_token": "hunter2-r", "token_type": "bearer", "expires_in": 7200}"#,
        )
        .unwrap();
        assert!(!format!("{x:?}").contains("hunter2"));
    }
}
