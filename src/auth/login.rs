//! The login flow of each platform, ending in a credential to store and the
//! identity the platform confirmed:
//!
//! - Bluesky: handle + app password, verified by createSession.
//! - Mastodon: an app registered on the instance, then the authorization
//!   code flow with PKCE through the browser; or a pasted token.
//! - X: OAuth 2.0 authorization code + PKCE with the user's own client id.
//! - LinkedIn: OAuth 2.0 authorization code with client id and secret.
//! - Instagram: a long-lived token pasted once.

use super::loopback::{Loopback, RedirectError};
use super::oauth::{self, OAuthClient};
use super::prompt::{self, PromptError};
use super::{Identity, LINKEDIN_SCOPES, MASTODON_SCOPES, SIXTY_DAYS, X_SCOPES};
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use crate::platforms::http::Http;
use crate::platforms::{PlatformError, PlatformKind};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope};
use std::time::Duration;

/// How long to wait for the browser to come back.
pub const REDIRECT_TIMEOUT: Duration = Duration::from_secs(300);

/// How the user wants to log in.
pub struct LoginOptions<'a> {
    /// Read the password or token from standard input (`--password-stdin`, `--token-stdin`).
    pub secret_from_stdin: bool,
    /// Paste an existing token instead of the browser flow (Mastodon, LinkedIn).
    pub paste_token: bool,
    /// Read the OAuth client secret from standard input.
    pub client_secret_from_stdin: bool,
    /// Start the system browser (when a display exists).
    pub open_browser: bool,
    /// The loopback port for the redirect (0: a free one).
    pub redirect_port: u16,
    pub timeout: Duration,
    /// Writes a line for the user (stderr).
    pub say: &'a (dyn Fn(&str) + Sync),
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
    #[error(transparent)]
    Prompt(#[from] PromptError),
    #[error(transparent)]
    Redirect(#[from] RedirectError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

fn usage(message: impl Into<String>, help: Option<&str>) -> LoginError {
    LoginError::Usage {
        message: message.into(),
        help: help.map(str::to_string),
    }
}

/// Whether a password has the shape of a Bluesky app password (xxxx-xxxx-xxxx-xxxx).
pub fn looks_like_app_password(p: &str) -> bool {
    let groups: Vec<&str> = p.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Runs the login flow of `account`'s platform.
pub async fn login(
    http: &Http,
    account: &Account,
    opts: &LoginOptions<'_>,
) -> Result<LoggedIn, LoginError> {
    let now = crate::clock::now();
    match account.platform {
        PlatformKind::Bluesky => {
            let handle = account.handle.clone().ok_or_else(|| {
                usage(
                    "a Bluesky account needs its handle",
                    Some("pass --handle alice.bsky.social"),
                )
            })?;
            let password = prompt::read_secret(
                &format!("app password for {handle}"),
                opts.secret_from_stdin,
                "--password-stdin",
            )?;
            let mut warnings = Vec::new();
            if !looks_like_app_password(password.expose()) {
                warnings.push(
                    "this does not look like an app password (xxxx-xxxx-xxxx-xxxx); a main password gives full access to the account: create an app password under Settings → Privacy and security → App passwords".into(),
                );
            }
            let identity = super::whoami(http, account, &password).await?;
            Ok(LoggedIn {
                credential: StoredCredential::plain(PlatformKind::Bluesky, password.expose(), now),
                identity,
                settings: Vec::new(),
                warnings,
            })
        }
        PlatformKind::Mastodon => {
            if opts.paste_token {
                let token = prompt::read_secret(
                    "Mastodon access token",
                    opts.secret_from_stdin,
                    "--token-stdin",
                )?;
                return pasted(http, account, token, None).await;
            }
            mastodon(http, account, opts).await
        }
        PlatformKind::Twitter => {
            if opts.paste_token {
                return Err(usage(
                    "X needs the browser login: a pasted X token would stop working within 2 hours",
                    Some("leave out --token-stdin"),
                ));
            }
            x(http, account, opts).await
        }
        PlatformKind::Linkedin => {
            if opts.paste_token {
                let token = prompt::read_secret(
                    "LinkedIn access token",
                    opts.secret_from_stdin,
                    "--token-stdin",
                )?;
                let mut done = pasted(http, account, token, Some(now + SIXTY_DAYS)).await?;
                done.warnings.push(
                    "the pasted token's expiry is taken as 60 days from now (LinkedIn does not say)".into(),
                );
                return Ok(done);
            }
            linkedin(http, account, opts).await
        }
        PlatformKind::Instagram => {
            let token = prompt::read_secret(
                "Instagram long-lived access token",
                opts.secret_from_stdin,
                "--token-stdin",
            )?;
            let mut done = pasted(http, account, token, Some(now + SIXTY_DAYS)).await?;
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
    }
}

/// A pasted token, verified with the platform.
async fn pasted(
    http: &Http,
    account: &Account,
    token: Secret,
    expires_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<LoggedIn, LoginError> {
    let identity = super::whoami(http, account, &token).await?;
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

/// Sends the user to `url` and waits for the redirect; returns the code.
async fn through_browser(
    opts: &LoginOptions<'_>,
    lb: Loopback,
    platform: PlatformKind,
    url: &str,
    state: &CsrfToken,
) -> Result<String, LoginError> {
    (opts.say)(&format!(
        "Open this URL in a browser to log in to {}:",
        platform.display_name()
    ));
    (opts.say)(&format!("  {url}"));
    let opened = opts.open_browser && super::browser::open(url);
    (opts.say)(&format!(
        "{}waiting for the redirect to {} …",
        if opened { "Opened your browser; " } else { "" },
        lb.redirect_uri()
    ));
    Ok(lb.wait(state.secret(), opts.timeout).await?)
}

fn scopes(list: &[&str]) -> Vec<Scope> {
    list.iter().map(|s| Scope::new(s.to_string())).collect()
}

async fn exchange(
    client: &OAuthClient,
    code: String,
    verifier: Option<oauth2::PkceCodeVerifier>,
    what: &str,
) -> Result<oauth::TokenAnswer, LoginError> {
    let http = oauth::token_http()?;
    let mut req = client.exchange_code(AuthorizationCode::new(code));
    if let Some(v) = verifier {
        req = req.set_pkce_verifier(v);
    }
    Ok(req
        .request_async(&http)
        .await
        .map_err(|e| oauth::token_error(what, e))?)
}

async fn mastodon(
    http: &Http,
    account: &Account,
    opts: &LoginOptions<'_>,
) -> Result<LoggedIn, LoginError> {
    let base = super::mastodon_base(account);
    let lb = Loopback::bind(opts.redirect_port)
        .await
        .map_err(RedirectError::Io)?;
    let redirect = lb.redirect_uri();
    // Register an app of our own on the instance, for this redirect URI.
    let url = format!("{base}/api/v1/apps");
    let form = [
        ("client_name", "social"),
        ("redirect_uris", redirect.as_str()),
        ("scopes", MASTODON_SCOPES),
        ("website", "https://crates.io/crates/social"),
    ];
    let resp = http
        .send(&account.name, crate::platforms::http::Repeat::Unsafe, |c| {
            c.post(&url).form(&form)
        })
        .await?;
    let app = super::answer("registering the app on the instance", resp).await?;
    let (Some(client_id), Some(client_secret)) = (
        super::text(&app, "/client_id"),
        super::text(&app, "/client_secret"),
    ) else {
        return Err(PlatformError::unavailable(
            "registering the app on the instance: the answer has no client_id/client_secret",
        )
        .into());
    };
    let (auth, token) = super::oauth_endpoints(account);
    let client = oauth::client(
        &client_id,
        Some(&client_secret),
        &auth,
        &token,
        Some(&redirect),
        true,
    )?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes(&MASTODON_SCOPES.split(' ').collect::<Vec<_>>()))
        .set_pkce_challenge(challenge)
        .url();
    let code = through_browser(opts, lb, PlatformKind::Mastodon, url.as_str(), &state).await?;
    let answer = exchange(&client, code, Some(verifier), "getting the Mastodon token").await?;
    let mut base_cred =
        StoredCredential::plain(PlatformKind::Mastodon, String::new(), crate::clock::now());
    base_cred.client_id = Some(client_id);
    base_cred.client_secret = Some(client_secret);
    let credential = super::apply_answer(&base_cred, &answer, crate::clock::now());
    let identity = super::whoami(http, account, &credential.as_secret()).await?;
    Ok(LoggedIn {
        credential,
        identity,
        settings: Vec::new(),
        warnings: Vec::new(),
    })
}

fn client_id(account: &Account) -> Result<String, LoginError> {
    account.client_id.clone().ok_or_else(|| {
        usage(
            format!(
                "a {} login needs the client id of your app",
                account.platform.display_name()
            ),
            Some(match account.platform {
                PlatformKind::Twitter => "pass --client-id ID (from the X developer portal: your app's OAuth 2.0 client id)",
                _ => "pass --client-id ID (from the LinkedIn developer portal: your app's Auth tab)",
            }),
        )
    })
}

async fn x(
    http: &Http,
    account: &Account,
    opts: &LoginOptions<'_>,
) -> Result<LoggedIn, LoginError> {
    let client_id = client_id(account)?;
    // A confidential client (an X "Web App") also has a secret; a public one has none.
    let client_secret = if opts.client_secret_from_stdin {
        Some(prompt::read_secret(
            "X client secret",
            true,
            "--client-secret-stdin",
        )?)
    } else {
        None
    };
    let lb = Loopback::bind(opts.redirect_port)
        .await
        .map_err(RedirectError::Io)?;
    let redirect = lb.redirect_uri();
    let (auth, token) = super::oauth_endpoints(account);
    let client = oauth::client(
        &client_id,
        client_secret.as_ref().map(Secret::expose),
        &auth,
        &token,
        Some(&redirect),
        false,
    )?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes(X_SCOPES))
        .set_pkce_challenge(challenge)
        .url();
    let code = through_browser(opts, lb, PlatformKind::Twitter, url.as_str(), &state).await?;
    let answer = exchange(&client, code, Some(verifier), "getting the X token").await?;
    let now = crate::clock::now();
    let mut base_cred = StoredCredential::plain(PlatformKind::Twitter, String::new(), now);
    base_cred.client_id = Some(client_id);
    base_cred.client_secret = client_secret.map(|s| s.expose().to_string());
    let credential = super::apply_answer(&base_cred, &answer, now);
    let mut warnings = Vec::new();
    if credential.refresh_token.is_none() {
        warnings.push(
            "X sent no refresh token (is `offline.access` allowed for your app?): this login lasts 2 hours".into(),
        );
    }
    let identity = super::whoami(http, account, &credential.as_secret()).await?;
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

async fn linkedin(
    http: &Http,
    account: &Account,
    opts: &LoginOptions<'_>,
) -> Result<LoggedIn, LoginError> {
    let client_id = client_id(account)?;
    let client_secret = prompt::read_secret(
        "LinkedIn client secret",
        opts.client_secret_from_stdin,
        "--client-secret-stdin",
    )?;
    let lb = Loopback::bind(opts.redirect_port)
        .await
        .map_err(RedirectError::Io)?;
    let redirect = lb.redirect_uri();
    let (auth, token) = super::oauth_endpoints(account);
    let client = oauth::client(
        &client_id,
        Some(client_secret.expose()),
        &auth,
        &token,
        Some(&redirect),
        true,
    )?;
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scopes(LINKEDIN_SCOPES))
        .url();
    let code = through_browser(opts, lb, PlatformKind::Linkedin, url.as_str(), &state).await?;
    let answer = exchange(&client, code, None, "getting the LinkedIn token").await?;
    let now = crate::clock::now();
    let mut base_cred = StoredCredential::plain(PlatformKind::Linkedin, String::new(), now);
    base_cred.client_id = Some(client_id);
    base_cred.client_secret = Some(client_secret.expose().to_string());
    let mut credential = super::apply_answer(&base_cred, &answer, now);
    if credential.expires_at.is_none() {
        credential.expires_at = Some(now + SIXTY_DAYS);
    }
    let identity = super::whoami(http, account, &credential.as_secret()).await?;
    Ok(LoggedIn {
        credential,
        identity,
        settings: Vec::new(),
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_password_shape() {
        assert!(looks_like_app_password("abcd-efgh-ijkl-mnop"));
        assert!(looks_like_app_password("ab12-ef34-ij56-mn78"));
        assert!(!looks_like_app_password("hunter2"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl"));
        assert!(!looks_like_app_password("abcd-efgh-ijkl-mnop-qrst"));
    }
}
