//! Running a platform's login ([`crate::platforms::account::AccountKind::login`])
//! with a terminal and a browser: secrets read from standard input or
//! without echo, OAuth authorization through the system browser with a
//! loopback redirect and the code exchanged for a token.

use super::loopback::{Loopback, RedirectError};
use super::prompt;
use crate::config::Account;
use crate::credentials::{Secret, StoredCredential};
use crate::platforms::account::{LoginChoices, LoginKit, OAuthLogin};
use crate::platforms::http::Http;
use crate::platforms::oauth::{self, OAuthClient};
use oauth2::{AuthorizationCode, CsrfToken, PkceCodeChallenge, Scope};
use std::sync::Mutex;
use std::time::Duration;

pub use crate::platforms::account::{LoggedIn, LoginError};

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

/// Runs the login flow of `account`'s platform.
pub async fn login(
    http: &Http,
    account: &Account,
    opts: &LoginOptions<'_>,
) -> Result<LoggedIn, LoginError> {
    let kit = Terminal {
        http,
        opts,
        loopback: Mutex::new(None),
    };
    crate::platforms::account::of(account.platform)
        .login(&kit, account)
        .await
}

/// The terminal and the browser of one login.
struct Terminal<'a, 'o> {
    http: &'a Http,
    opts: &'a LoginOptions<'o>,
    /// The redirect's listener, once started.
    loopback: Mutex<Option<Loopback>>,
}

impl Terminal<'_, '_> {
    /// The loopback listener, started now unless it runs already.
    async fn listen(&self) -> Result<(), LoginError> {
        if self.loopback.lock().is_ok_and(|l| l.is_some()) {
            return Ok(());
        }
        let lb = Loopback::bind(self.opts.redirect_port)
            .await
            .map_err(|e| redirect_error(RedirectError::Io(e)))?;
        if let Ok(mut l) = self.loopback.lock() {
            *l = Some(lb);
        }
        Ok(())
    }

    fn take_listener(&self) -> Option<Loopback> {
        self.loopback.lock().ok().and_then(|mut l| l.take())
    }

    /// Sends the user to `url` and waits for the redirect; returns the code.
    async fn through_browser(
        &self,
        lb: Loopback,
        platform: &str,
        url: &str,
        state: &CsrfToken,
    ) -> Result<String, LoginError> {
        let opts = self.opts;
        (opts.say)(&format!(
            "Open this URL in a browser to log in to {platform}:"
        ));
        (opts.say)(&format!("  {url}"));
        let opened = opts.open_browser && super::browser::open(url);
        (opts.say)(&format!(
            "{}waiting for the redirect to {} …",
            if opened { "Opened your browser; " } else { "" },
            lb.redirect_uri()
        ));
        lb.wait(state.secret(), opts.timeout)
            .await
            .map_err(redirect_error)
    }
}

fn redirect_error(e: RedirectError) -> LoginError {
    LoginError::Redirect(e.to_string())
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

#[async_trait::async_trait]
impl LoginKit for Terminal<'_, '_> {
    fn http(&self) -> &Http {
        self.http
    }

    fn choices(&self) -> LoginChoices {
        LoginChoices {
            secret_from_stdin: self.opts.secret_from_stdin,
            paste_token: self.opts.paste_token,
            client_secret_from_stdin: self.opts.client_secret_from_stdin,
        }
    }

    fn read_secret(&self, what: &str, from_stdin: bool, flag: &str) -> Result<Secret, LoginError> {
        prompt::read_secret(what, from_stdin, flag).map_err(|e| LoginError::Prompt(e.to_string()))
    }

    async fn redirect_uri(&self) -> Result<String, LoginError> {
        self.listen().await?;
        Ok(self
            .loopback
            .lock()
            .ok()
            .and_then(|l| l.as_ref().map(Loopback::redirect_uri))
            .unwrap_or_default())
    }

    async fn authorize(&self, login: OAuthLogin<'_>) -> Result<StoredCredential, LoginError> {
        self.listen().await?;
        let Some(lb) = self.take_listener() else {
            return Err(LoginError::Redirect("the redirect listener is gone".into()));
        };
        let redirect = lb.redirect_uri();
        let client = oauth::client(
            &login.client_id,
            login.client_secret.as_deref(),
            &login.auth_url,
            &login.token_url,
            Some(&redirect),
            login.secret_in_body,
        )?;
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes(login.scopes));
        let verifier = if login.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            Some(verifier)
        } else {
            None
        };
        let (url, state) = request.url();
        let code = self
            .through_browser(lb, login.platform.display_name(), url.as_str(), &state)
            .await?;
        let answer = exchange(&client, code, verifier, login.what).await?;
        let now = crate::clock::now();
        let mut base = StoredCredential::plain(login.platform, String::new(), now);
        base.client_id = Some(login.client_id);
        base.client_secret = login.client_secret;
        Ok(oauth::apply_answer(&base, &answer, now))
    }
}
