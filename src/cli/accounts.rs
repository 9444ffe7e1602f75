//! `social accounts add|list|check|remove|refresh`: log in once, keep the
//! secret in the OS keyring (or the explicit insecure file), and the
//! account's other settings in social.toml, edited with its comments intact.

use super::output::{Styles, table};
use super::{Outcome, Project, Ui, usage};
use crate::auth::login::{self, LoginError, LoginOptions};
use crate::config::{Account, Config};
use crate::credentials::{
    AccountsMeta, CheckResult, Credentials, Place, RefreshOutcome, Source, StoreError,
};
use crate::platforms::account::{CheckNote, Identity, SecretKind};
use crate::platforms::{PlatformError, PlatformKind};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

/// Log in to accounts, list them, check and renew their credentials
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social accounts add bsky --platform bluesky --handle alice.bsky.social
  social accounts add fedi --platform mastodon --instance https://hachyderm.io
  social accounts add x --platform x --client-id ID
  social accounts list
  social accounts check

Secrets go to the OS keyring (or, with --insecure-storage, to a file only you
can read); SOCIAL_<NAME>_TOKEN in the environment overrides both (CI).")]
pub struct AccountsArgs {
    #[command(subcommand)]
    pub command: AccountsCommand,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    Add(AddArgs),
    List(ListArgs),
    Check(CheckArgs),
    Remove(RemoveArgs),
    Refresh(RefreshArgs),
}

/// Log in to an account: its settings go into social.toml, its secret into the OS keyring
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social accounts add bsky --platform bluesky --handle alice.bsky.social
  echo \"$APP_PASSWORD\" | social accounts add bsky --platform bluesky --handle alice.bsky.social --password-stdin
  social accounts add fedi --platform mastodon --instance https://hachyderm.io
  social accounts add x --platform x --client-id ID --redirect-port 8910
  echo \"$LINKEDIN_CLIENT_SECRET\" | social accounts add li --platform linkedin --client-id ID --client-secret-stdin
  social accounts add insta --platform instagram --token-stdin < token.txt

OAuth logins (Mastodon, X, LinkedIn) print a URL and open the browser; the
platform sends it back to http://127.0.0.1:PORT/callback. X and LinkedIn
apps must list that URL: register it with a fixed port and pass --redirect-port.")]
pub struct AddArgs {
    /// The account's name in social.toml and in posts' `to:`
    pub name: String,
    /// bluesky, mastodon, x, linkedin or instagram (default: the account's, when it exists)
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Bluesky: the PDS (default https://bsky.social)
    #[arg(long, value_name = "URL", conflicts_with_all = ["instance", "api_url"])]
    pub service: Option<String>,
    /// Mastodon: the instance, such as https://hachyderm.io
    #[arg(long, value_name = "URL", conflicts_with = "api_url")]
    pub instance: Option<String>,
    /// X, LinkedIn, Instagram: the API base URL (default: the platform's)
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Bluesky: the handle, such as alice.bsky.social
    #[arg(long, value_name = "HANDLE")]
    pub handle: Option<String>,
    /// X, LinkedIn: your app's OAuth client id
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Bluesky: read the app password from standard input
    #[arg(long, conflicts_with = "token_stdin")]
    pub password_stdin: bool,
    /// Mastodon, LinkedIn, Instagram: read an existing access token from standard input
    #[arg(long)]
    pub token_stdin: bool,
    /// X, LinkedIn: read the app's client secret from standard input
    #[arg(long, conflicts_with_all = ["password_stdin", "token_stdin"])]
    pub client_secret_stdin: bool,
    /// Keep the secret in a plain file only you can read, instead of the OS keyring
    #[arg(long)]
    pub insecure_storage: bool,
    /// Do not open a browser; only print the login URL
    #[arg(long)]
    pub no_browser: bool,
    /// How long to wait for the browser's answer to an OAuth login
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// The loopback port of the OAuth redirect (default: a free one)
    #[arg(long, value_name = "PORT", default_value_t = 0)]
    pub redirect_port: u16,
}

/// Show each account: where its credential comes from, when it expires, its last check
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Ask each platform who the credential belongs to
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only this account
    pub name: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// Remove an account from social.toml and delete its secrets
#[derive(Debug, Args)]
pub struct RemoveArgs {
    pub name: String,
}

/// Renew tokens now (X, LinkedIn with a refresh token, Instagram)
#[derive(Debug, Args)]
pub struct RefreshArgs {
    /// Only this account
    pub name: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ui: &Ui, project: &Project, args: AccountsArgs) -> Outcome {
    match args.command {
        AccountsCommand::Add(a) => add(ui, project, a),
        AccountsCommand::List(a) => list(ui, project, a),
        AccountsCommand::Check(a) => check(ui, project, a),
        AccountsCommand::Remove(a) => remove(ui, project, a),
        AccountsCommand::Refresh(a) => refresh(ui, project, a),
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

fn warn(ui: &Ui, message: &str) {
    let _ = writeln!(
        ui.err(),
        "{}warning:{} {message}",
        Styles::WARNING.render(),
        Styles::WARNING.render_reset()
    );
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn url_arg(flag: &str, u: &str) -> anyhow::Result<String> {
    let u = u.trim().trim_end_matches('/');
    let full = if u.starts_with("http://") || u.starts_with("https://") {
        u.to_string()
    } else {
        format!("https://{u}")
    };
    match reqwest::Url::parse(&full) {
        Ok(p) if p.has_host() => Ok(full),
        _ => Err(usage(
            format!("{flag} `{u}` is not a URL"),
            Some(format!("write it as {flag} https://example.com")),
        )),
    }
}

/// What makes a flag of `add` apply to a platform.
enum Needs {
    /// The platform's accounts take this social.toml key.
    Setting(&'static str),
    /// The platform's login reads this secret.
    Secret(SecretKind),
}

impl Needs {
    fn met_by(&self, p: PlatformKind) -> bool {
        match self {
            Needs::Setting(key) => p.settings().takes(key),
            Needs::Secret(kind) => crate::platforms::account::of(p).secrets().contains(kind),
        }
    }
}

/// The account as it will be after `add`: social.toml's, with the flags over it.
fn merged_account(config: &Config, a: &AddArgs) -> anyhow::Result<Account> {
    if !valid_name(&a.name) {
        return Err(usage(
            format!("`{}` is not a valid account name", a.name),
            Some("use letters, digits, `-` and `_`, starting with a letter or digit".into()),
        ));
    }
    let existing = config.accounts.get(&a.name);
    let platform: PlatformKind = match (&a.platform, existing) {
        (Some(p), existing) => {
            let p: PlatformKind = p.parse().map_err(|m: String| usage(m, None))?;
            if let Some(e) = existing
                && e.platform != p
            {
                return Err(usage(
                    format!(
                        "account `{}` is a {} account in social.toml, not {}",
                        a.name,
                        e.platform.display_name(),
                        p.display_name()
                    ),
                    Some("pick another name, or `social accounts remove` it first".into()),
                ));
            }
            p
        }
        (None, Some(e)) => e.platform,
        (None, None) => {
            return Err(usage(
                format!(
                    "account `{}` is not in social.toml: say which platform it is on",
                    a.name
                ),
                Some("pass --platform bluesky|mastodon|x|linkedin|instagram".into()),
            ));
        }
    };
    let mut acc = existing.cloned().unwrap_or(Account {
        name: a.name.clone(),
        platform,
        handle: None,
        service: None,
        instance: None,
        username: None,
        api_url: None,
        auth_url: None,
        client_id: None,
        user_id: None,
        media_base_url: None,
        max_characters: None,
        linkedin_version: None,
    });
    // A settings flag applies where the platform takes the setting, a
    // secret flag where its login reads that secret.
    let applies: [(&str, bool, Needs); 8] = [
        ("--service", a.service.is_some(), Needs::Setting("service")),
        ("--handle", a.handle.is_some(), Needs::Setting("handle")),
        (
            "--instance",
            a.instance.is_some(),
            Needs::Setting("instance"),
        ),
        ("--api-url", a.api_url.is_some(), Needs::Setting("api_url")),
        (
            "--client-id",
            a.client_id.is_some(),
            Needs::Setting("client_id"),
        ),
        (
            "--password-stdin",
            a.password_stdin,
            Needs::Secret(SecretKind::AppPassword),
        ),
        (
            "--token-stdin",
            a.token_stdin,
            Needs::Secret(SecretKind::AccessToken),
        ),
        (
            "--client-secret-stdin",
            a.client_secret_stdin,
            Needs::Secret(SecretKind::ClientSecret),
        ),
    ];
    for (flag, given, needs) in applies {
        if given && !needs.met_by(platform) {
            let owners: Vec<&str> = PlatformKind::ALL
                .into_iter()
                .filter(|p| needs.met_by(*p))
                .map(|p| p.display_name())
                .collect();
            return Err(usage(
                format!(
                    "{flag} does not apply to {} accounts",
                    platform.display_name()
                ),
                Some(format!("{flag} is for {}", owners.join(", "))),
            ));
        }
    }
    if let Some(s) = &a.service {
        acc.service = Some(url_arg("--service", s)?);
    }
    if let Some(i) = &a.instance {
        acc.instance = Some(url_arg("--instance", i)?);
    }
    if let Some(u) = &a.api_url {
        acc.api_url = Some(url_arg("--api-url", u)?);
    }
    if let Some(h) = &a.handle {
        let h = h.trim().trim_start_matches('@');
        if !h.contains('.') {
            return Err(usage(
                format!("`{h}` is not a Bluesky handle"),
                Some("write the full handle, such as alice.bsky.social".into()),
            ));
        }
        acc.handle = Some(h.to_string());
    }
    if let Some(c) = &a.client_id {
        acc.client_id = Some(c.trim().to_string());
    }
    crate::platforms::account::of(platform)
        .before_login(&acc)
        .map_err(login_error)?;
    Ok(acc)
}

/// The social.toml keys `add` writes for `acc`.
fn settings_of(acc: &Account) -> Vec<(&'static str, String)> {
    let mut out = vec![("platform", acc.platform.name().to_string())];
    for (k, v) in [
        ("handle", &acc.handle),
        ("service", &acc.service),
        ("instance", &acc.instance),
        ("api_url", &acc.api_url),
        ("client_id", &acc.client_id),
    ] {
        if let Some(v) = v {
            out.push((k, v.clone()));
        }
    }
    out
}

fn login_error(e: LoginError) -> anyhow::Error {
    match e {
        LoginError::Usage { message, help } => usage(message, help),
        LoginError::Prompt(p) => usage(p, None),
        other => anyhow::anyhow!("the login failed: {other}"),
    }
}

fn no_keyring(name: &str, why: &StoreError) -> anyhow::Error {
    let reason = match why {
        StoreError::Unavailable(m) | StoreError::Other(m) => m.clone(),
    };
    usage(
        format!("cannot store the secret: no OS keyring is available here ({reason})"),
        Some(format!(
            "pass --insecure-storage to keep it in a file only you can read ({}), or supply it in the environment variable {} (as in CI)",
            crate::credentials::insecure_file_path().display(),
            crate::credentials::env_var(name)
        )),
    )
}

fn add(ui: &Ui, project: &Project, a: AddArgs) -> Outcome {
    let config = &project.config;
    let account = merged_account(config, &a)?;
    let creds = crate::platforms::account::credentials(&config.root);
    let place = if a.insecure_storage {
        Place::File
    } else {
        // Before any login: a token that cannot be stored would be lost.
        creds
            .vault()
            .keyring_available()
            .map_err(|e| no_keyring(&a.name, &e))?;
        Place::Keyring
    };
    let env = crate::credentials::env_var(&a.name);
    if crate::credentials::secret(&a.name).is_some() {
        warn(
            ui,
            &format!("{env} is set: it overrides the stored credential while it is"),
        );
    }
    let say = |line: &str| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    };
    let opts = LoginOptions {
        secret_from_stdin: a.password_stdin || a.token_stdin,
        paste_token: a.token_stdin,
        client_secret_from_stdin: a.client_secret_stdin,
        open_browser: !a.no_browser,
        redirect_port: a.redirect_port,
        timeout: a.timeout,
        say: &say,
    };
    let http = crate::platforms::http::Http::new()?;
    let done = runtime()?
        .block_on(login::login(&http, &account, &opts))
        .map_err(login_error)?;
    for w in &done.warnings {
        warn(ui, w);
    }
    creds
        .vault()
        .save(&a.name, &done.credential, place)
        .map_err(|e| match e {
            StoreError::Unavailable(_) => no_keyring(&a.name, &e),
            other => anyhow::anyhow!("cannot store the secret: {other}"),
        })?;
    let mut settings = settings_of(&account);
    settings.extend(done.settings.iter().cloned());
    upsert_account(&config.path, &config.root, &a.name, &settings)?;
    let now = crate::clock::now();
    let _ = AccountsMeta::update(&config.root, &a.name, |m| {
        creds.fill_meta(m, &done.credential);
        m.identity = Some(done.identity.display.clone());
        m.refreshed_at = None;
        m.last_check = Some(CheckResult {
            at: now,
            ok: true,
            detail: done.identity.display.clone(),
        });
    });
    let where_ = match place {
        Place::Keyring => "the OS keyring".to_string(),
        Place::File => {
            let path = crate::credentials::insecure_file_path();
            warn(
                ui,
                &format!(
                    "the secret is stored in plain text in {} (readable only by you): anyone who can read that file can post as this account",
                    path.display()
                ),
            );
            path.display().to_string()
        }
    };
    let who = if done.identity.display.is_empty() {
        String::new()
    } else {
        format!(" as {}", done.identity.display)
    };
    writeln!(
        ui.out(),
        "{}logged in{} to {}{who}: account `{}` is in social.toml, its secret in {where_}",
        Styles::OK.render(),
        Styles::OK.render_reset(),
        account.platform.display_name(),
        a.name
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Sets `settings` on `[accounts.NAME]` in social.toml, keeping everything
/// else (comments, order, formatting); checks the result before writing it.
fn upsert_account(
    path: &Path,
    root: &Path,
    name: &str,
    settings: &[(&str, String)],
) -> anyhow::Result<()> {
    let src = std::fs::read_to_string(path)?;
    let text = crate::auth::settings::upsert_account(&src, name, settings)
        .map_err(|m| usage(format!("{}: {m}", path.display()), None))?;
    Config::parse(root, path, &text).map_err(|e| {
        anyhow::anyhow!("the edited social.toml would not load ({e}); it was left as it was")
    })?;
    crate::auth::settings::write_atomically(path, &text)?;
    Ok(())
}

#[derive(Serialize)]
struct Listed {
    name: String,
    platform: PlatformKind,
    handle: String,
    credential: Source,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    login_deadline: Option<DateTime<Utc>>,
    refreshable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_check: Option<CheckResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn list(ui: &Ui, project: &Project, a: ListArgs) -> Outcome {
    let config = &project.config;
    let creds = crate::platforms::account::credentials(&config.root);
    let now = crate::clock::now();
    let meta = AccountsMeta::load(&config.root);
    let mut rows = Vec::new();
    let mut keyring_problem = None;
    for (name, account) in &config.accounts {
        let (source, found, problem) = creds.lookup(name);
        if found.is_none() && keyring_problem.is_none() {
            keyring_problem = problem.filter(|p| matches!(p, StoreError::Unavailable(_)));
        }
        let mut m = meta.accounts.get(name).cloned().unwrap_or_default();
        if let Some(f) = &found {
            creds.fill_meta(&mut m, &f.credential);
            let _ = AccountsMeta::update(&config.root, name, |stored| {
                creds.fill_meta(stored, &f.credential)
            });
        }
        let stored = source != Source::Environment && found.is_some();
        let warning = stored
            .then(|| crate::credentials::meta::warning(name, account.platform, &m, now))
            .flatten()
            .map(|w| w.message);
        rows.push(Listed {
            name: name.clone(),
            platform: account.platform,
            handle: m.identity.clone().unwrap_or_else(|| account.label()),
            credential: source,
            expires_at: if stored { m.expires_at } else { None },
            login_deadline: if stored { m.login_deadline } else { None },
            refreshable: stored && m.refreshable,
            last_check: m.last_check.clone(),
            warning,
        });
    }
    if a.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        writeln!(ui.out(), "no accounts in social.toml")?;
        ui.note("add one with `social accounts add NAME --platform PLATFORM`");
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&[
        "name",
        "platform",
        "handle",
        "credential",
        "expires",
        "last check",
    ]);
    for r in &rows {
        let expires = match (r.credential, r.login_deadline, r.expires_at) {
            (Source::Environment | Source::None, _, _) => "-".to_string(),
            (_, Some(d), _) => day(d),
            (_, None, Some(_)) if r.refreshable => "renewed as needed".to_string(),
            (_, None, Some(e)) => day(e),
            (_, None, None) => "never".to_string(),
        };
        let check = match &r.last_check {
            Some(c) if c.ok => format!("ok {}", day(c.at)),
            Some(c) => format!("failed {}", day(c.at)),
            None => "never".to_string(),
        };
        t.add_row(vec![
            r.name.clone(),
            r.platform.display_name().to_string(),
            r.handle.clone(),
            r.credential.to_string(),
            expires,
            check,
        ]);
    }
    writeln!(ui.out(), "{t}")?;
    for r in &rows {
        if let Some(w) = &r.warning {
            warn(ui, w);
        }
    }
    if let Some(p) = keyring_problem {
        ui.note(&format!(
            "note: {p}: secrets kept there cannot be read; see `social accounts add --help`"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn select<'a>(config: &'a Config, name: Option<&str>) -> anyhow::Result<Vec<&'a Account>> {
    match name {
        Some(n) => match config.accounts.get(n) {
            Some(a) => Ok(vec![a]),
            None => {
                let help = crate::diag::suggest(n, config.accounts.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                Err(usage(format!("no account `{n}` in social.toml"), help))
            }
        },
        None => Ok(config.accounts.values().collect()),
    }
}

#[derive(Serialize)]
struct Checked {
    name: String,
    platform: PlatformKind,
    credential: Source,
    ok: bool,
    detail: String,
    /// What the user should know about the account beyond "it works".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

async fn check_one(
    creds: &Credentials,
    http: &crate::platforms::http::Http,
    account: &Account,
    root: &Path,
) -> Result<(Identity, Vec<String>), PlatformError> {
    let mut secret = creds.token(account).await?;
    let identity = match crate::platforms::account::whoami(http, account, &secret).await {
        // A refused token: renew it once and ask again.
        Err(e @ PlatformError::Auth { expired: true, .. }) => {
            match creds.after_unauthorized(account, &secret).await? {
                Some(new) => {
                    let id = crate::platforms::account::whoami(http, account, &new).await?;
                    secret = new;
                    id
                }
                None => return Err(e),
            }
        }
        other => other?,
    };
    let notes = account_notes(http, account, secret, root).await;
    Ok((identity, notes))
}

/// What a working credential still cannot do, or what the server said
/// about its limits (kept for validation).
async fn account_notes(
    http: &crate::platforms::http::Http,
    account: &Account,
    secret: crate::credentials::Secret,
    root: &Path,
) -> Vec<String> {
    let notes = crate::platforms::account::of(account.platform)
        .check_notes(http, account, secret)
        .await;
    notes
        .into_iter()
        .map(|n| match n {
            CheckNote::Say(s) => s,
            CheckNote::Limits {
                label,
                limit,
                facts,
            } => {
                let mut said = vec![format!("{} characters", limit.max_characters)];
                if let Some(n) = facts.characters_reserved_per_url {
                    said.push(format!("each URL counts {n}"));
                }
                if let Some(b) = facts.image_size_limit {
                    said.push(format!("images up to {}", crate::validate::human_bytes(b)));
                }
                if let Some(b) = facts.video_size_limit {
                    said.push(format!("videos up to {}", crate::validate::human_bytes(b)));
                }
                if let Some(n) = facts.description_limit {
                    said.push(format!("alt text up to {n} characters"));
                }
                let mut cache = crate::config::ServerLimits::load(root);
                cache.record(&account.name, limit, facts);
                let kept = match cache.save(root) {
                    Ok(()) => "kept in .social/limits.json for validation".to_string(),
                    Err(e) => format!("could not be written to .social/limits.json: {e}"),
                };
                format!("{label}: {} ({kept})", said.join(", "))
            }
        })
        .collect()
}

fn check(ui: &Ui, project: &Project, a: CheckArgs) -> Outcome {
    let config = &project.config;
    let accounts = select(config, a.name.as_deref())?;
    let creds = crate::platforms::account::credentials(&config.root);
    let http = crate::platforms::http::Http::new()?;
    let rt = runtime()?;
    let mut results = Vec::new();
    for account in accounts {
        let (source, _, _) = creds.lookup(&account.name);
        let r = rt.block_on(check_one(&creds, &http, account, &config.root));
        let now = crate::clock::now();
        let (ok, detail, notes) = match &r {
            Ok((id, notes)) => (true, id.display.clone(), notes.clone()),
            Err(e) => (false, e.to_string(), Vec::new()),
        };
        let _ = AccountsMeta::update(&config.root, &account.name, |m| {
            if let Ok((id, _)) = &r {
                m.identity = Some(id.display.clone());
            }
            m.last_check = Some(CheckResult {
                at: now,
                ok,
                detail: detail.clone(),
            });
        });
        results.push(Checked {
            name: account.name.clone(),
            platform: account.platform,
            credential: source,
            ok,
            detail,
            notes,
        });
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    if a.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &results)?;
        writeln!(out)?;
    } else if results.is_empty() {
        writeln!(ui.out(), "no accounts in social.toml")?;
    } else {
        let mut t = table(&["name", "platform", "credential", "result"]);
        for r in &results {
            let result = if r.ok {
                format!("ok: {}", r.detail)
            } else {
                format!("failed: {}", r.detail)
            };
            t.add_row(vec![
                r.name.clone(),
                r.platform.display_name().to_string(),
                r.credential.to_string(),
                result,
            ]);
        }
        writeln!(ui.out(), "{t}")?;
        for r in &results {
            for n in &r.notes {
                writeln!(ui.out(), "note: {}: {n}", r.name)?;
            }
        }
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Serialize)]
struct Refreshed {
    name: String,
    result: &'static str,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
}

fn refresh(ui: &Ui, project: &Project, a: RefreshArgs) -> Outcome {
    let config = &project.config;
    let accounts = select(config, a.name.as_deref())?;
    let creds = crate::platforms::account::credentials(&config.root);
    let rt = runtime()?;
    let mut results = Vec::new();
    for account in accounts {
        let r = rt.block_on(creds.refresh(account));
        results.push(match r {
            Ok(RefreshOutcome::Renewed { expires_at }) => Refreshed {
                name: account.name.clone(),
                result: "renewed",
                detail: expires_at
                    .map(|t| format!("expires {}", day(t)))
                    .unwrap_or_default(),
                expires_at,
            },
            Ok(RefreshOutcome::Skipped(why)) => Refreshed {
                name: account.name.clone(),
                result: "skipped",
                detail: why,
                expires_at: None,
            },
            Err(e) => Refreshed {
                name: account.name.clone(),
                result: "failed",
                detail: e.to_string(),
                expires_at: None,
            },
        });
    }
    let failed = results.iter().filter(|r| r.result == "failed").count();
    if a.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &results)?;
        writeln!(out)?;
    } else if results.is_empty() {
        writeln!(ui.out(), "no accounts in social.toml")?;
    } else {
        let mut t = table(&["name", "result", "detail"]);
        for r in &results {
            t.add_row(vec![r.name.clone(), r.result.to_string(), r.detail.clone()]);
        }
        writeln!(ui.out(), "{t}")?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn remove(ui: &Ui, project: &Project, a: RemoveArgs) -> Outcome {
    let config = &project.config;
    let creds = crate::platforms::account::credentials(&config.root);
    let in_config = config.accounts.contains_key(&a.name);
    let mut notes = Vec::new();
    if in_config {
        let src = std::fs::read_to_string(&config.path)?;
        let (text, also) = crate::auth::settings::remove_account(&src, &a.name)
            .map_err(|m| usage(format!("{}: {m}", config.path.display()), None))?;
        Config::parse(&config.root, &config.path, &text).map_err(|e| {
            anyhow::anyhow!("the edited social.toml would not load ({e}); it was left as it was")
        })?;
        crate::auth::settings::write_atomically(&config.path, &text)?;
        notes.extend(
            also.into_iter()
                .map(|w| format!("also removed it from {w}")),
        );
    }
    let (gone, problem) = creds.vault().delete(&a.name);
    let _ = AccountsMeta::remove(&config.root, &a.name);
    if !in_config && gone.is_empty() {
        let help = crate::diag::suggest(&a.name, config.accounts.keys().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"));
        return Err(usage(format!("no account `{}`", a.name), help));
    }
    let places: Vec<&str> = gone
        .iter()
        .map(|p| match p {
            Place::Keyring => "the OS keyring",
            Place::File => "the insecure file",
        })
        .collect();
    let mut line = format!("removed account `{}`", a.name);
    if in_config {
        line.push_str(" from social.toml");
    }
    if !places.is_empty() {
        line.push_str(&format!(
            "; deleted its secret from {}",
            places.join(" and ")
        ));
    }
    writeln!(ui.out(), "{line}")?;
    for n in notes {
        ui.note(&n);
    }
    if let Some(p) = problem
        && !gone.contains(&Place::Keyring)
    {
        ui.note(&format!("note: {p}: nothing was deleted there"));
    }
    if crate::credentials::secret(&a.name).is_some() {
        warn(
            ui,
            &format!(
                "{} is still set in this environment",
                crate::credentials::env_var(&a.name)
            ),
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::UsageError;

    fn add(args: &[&str]) -> AddArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            add: AddArgs,
        }
        let mut all = vec!["add"];
        all.extend_from_slice(args);
        Cli::parse_from(all).add
    }

    /// The usage error of `accounts add ARGS` before any login, as message and help.
    fn refused(args: &[&str]) -> (String, Option<String>) {
        let config = Config::parse(
            Path::new("/p"),
            Path::new("/p/social.toml"),
            "[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"https://hachyderm.io\"\n",
        )
        .unwrap();
        let e = merged_account(&config, &add(args)).unwrap_err();
        let u = e.downcast::<UsageError>().unwrap();
        (u.message, u.help)
    }

    #[test]
    fn flags_of_another_platform_are_refused_with_the_platforms_they_are_for() {
        assert_eq!(
            refused(&["x", "--platform", "x", "--token-stdin"]),
            (
                "--token-stdin does not apply to X accounts".into(),
                Some("--token-stdin is for Mastodon, LinkedIn, Instagram".into())
            )
        );
        assert_eq!(
            refused(&["b", "--platform", "bluesky", "--client-id", "c"]),
            (
                "--client-id does not apply to Bluesky accounts".into(),
                Some("--client-id is for X, LinkedIn".into())
            )
        );
        assert_eq!(
            refused(&["i", "--platform", "ig", "--password-stdin"]),
            (
                "--password-stdin does not apply to Instagram accounts".into(),
                Some("--password-stdin is for Bluesky".into())
            )
        );
        assert_eq!(
            refused(&["m", "--platform", "mastodon", "--client-secret-stdin"]),
            (
                "--client-secret-stdin does not apply to Mastodon accounts".into(),
                Some("--client-secret-stdin is for X, LinkedIn".into())
            )
        );
        assert_eq!(
            refused(&["l", "--platform", "linkedin", "--handle", "a.b"]),
            (
                "--handle does not apply to LinkedIn accounts".into(),
                Some("--handle is for Bluesky".into())
            )
        );
        assert_eq!(
            refused(&["fedi", "--platform", "x"]).0,
            "account `fedi` is a Mastodon account in social.toml, not X"
        );
    }

    #[test]
    fn a_mastodon_account_needs_its_instance_before_the_login() {
        assert_eq!(
            refused(&["m", "--platform", "mastodon"]),
            (
                "a Mastodon account needs its instance".into(),
                Some("pass --instance https://mastodon.social".into())
            )
        );
        let config = Config::parse(Path::new("/p"), Path::new("/p/social.toml"), "").unwrap();
        let acc = merged_account(
            &config,
            &add(&[
                "li",
                "--platform",
                "linkedin",
                "--client-id",
                " cid ",
                "--token-stdin",
            ]),
        )
        .unwrap();
        assert_eq!(acc.client_id.as_deref(), Some("cid"));
        assert_eq!(
            settings_of(&acc),
            [
                ("platform", "linkedin".to_string()),
                ("client_id", "cid".to_string())
            ]
        );
    }
}
