//! `social.toml`: the project's timezone, accounts, queues and defaults.

use crate::diag::{Pos, suggest};
use crate::model::PlatformKind;
use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The file name of a project's configuration.
pub const CONFIG_FILE: &str = "social.toml";

/// A problem with social.toml: where it is, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub pos: Option<Pos>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                self.message
            )?,
            None => write!(f, "{}: {}", self.path.display(), self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Defaults applied to posts that do not say otherwise.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub to: Vec<String>,
    pub lang: Vec<String>,
    pub visibility: Option<String>,
}

/// One account that posts can be sent to.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub platform: PlatformKind,
    /// Bluesky handle.
    pub handle: Option<String>,
    /// Bluesky PDS base URL.
    pub service: Option<String>,
    /// Mastodon instance base URL.
    pub instance: Option<String>,
    /// X username (for post URLs).
    pub username: Option<String>,
    /// Base URL of the API, for X, LinkedIn and Instagram (tests point it at loopback).
    pub api_url: Option<String>,
    /// Base URL of the platform's OAuth pages, for X and LinkedIn logins (tests point it at loopback).
    pub auth_url: Option<String>,
    /// OAuth client id (X, LinkedIn).
    pub client_id: Option<String>,
    /// Instagram user id.
    pub user_id: Option<String>,
    /// Public URL under which the project's media files are served (Instagram).
    pub media_base_url: Option<String>,
    /// Overrides the platform's text limit (a Mastodon instance with a higher limit).
    pub max_characters: Option<usize>,
    /// LinkedIn-Version header value (YYYYMM).
    pub linkedin_version: Option<String>,
}

impl Account {
    /// A short human label: the handle or username where one is known.
    pub fn label(&self) -> String {
        match (&self.handle, &self.username, &self.instance) {
            (Some(h), _, _) => format!("@{h}"),
            (_, Some(u), _) => format!("@{u}"),
            (_, _, Some(i)) => i.clone(),
            _ => String::new(),
        }
    }
}

/// A weekly posting schedule that posts can join with `queue: NAME`.
#[derive(Debug, Clone)]
pub struct Queue {
    pub name: String,
    pub accounts: Vec<String>,
    pub timezone: Tz,
    pub paused: bool,
    /// Slot times per weekday, sorted.
    pub slots: [Vec<NaiveTime>; 7],
}

/// The loaded and checked social.toml.
#[derive(Debug, Clone)]
pub struct Config {
    /// The project root (the directory holding social.toml).
    pub root: PathBuf,
    /// The path of social.toml itself.
    pub path: PathBuf,
    pub timezone: Tz,
    /// Directory of post files, relative to `root`.
    pub posts_dir: PathBuf,
    /// Posts missed by less than this are still published.
    pub catch_up: Duration,
    /// Attempts per target (and per request) before giving up; default 3.
    pub max_attempts: u32,
    pub defaults: Defaults,
    pub accounts: BTreeMap<String, Account>,
    pub queues: BTreeMap<String, Queue>,
    /// Public URL under which media files are served (Instagram), project-wide.
    pub media_base_url: Option<String>,
    /// What the accounts' servers reported (`.social/limits.json`).
    pub server_limits: ServerLimits,
    /// `edits = "apply"`: a changed file of a published post is applied to
    /// the published post by `publish --due` and the daemon, where the
    /// platform can edit. Off by default (`social edit` does it by hand).
    pub apply_edits: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    timezone: Option<Spanned<String>>,
    posts_dir: Option<Spanned<String>>,
    catch_up: Option<Spanned<String>>,
    max_attempts: Option<Spanned<i64>>,
    media_base_url: Option<Spanned<String>>,
    edits: Option<Spanned<String>>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    accounts: BTreeMap<Spanned<String>, Spanned<RawAccount>>,
    #[serde(default)]
    queues: BTreeMap<Spanned<String>, Spanned<RawQueue>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    #[serde(default)]
    to: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    lang: Option<StringOrList>,
    #[serde(default)]
    visibility: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    fn into_vec(self) -> Vec<String> {
        match self {
            StringOrList::One(s) => vec![s],
            StringOrList::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    platform: Spanned<String>,
    handle: Option<String>,
    service: Option<Spanned<String>>,
    instance: Option<Spanned<String>>,
    username: Option<String>,
    api_url: Option<Spanned<String>>,
    auth_url: Option<Spanned<String>>,
    client_id: Option<String>,
    user_id: Option<String>,
    media_base_url: Option<Spanned<String>>,
    max_characters: Option<usize>,
    linkedin_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    accounts: Option<Spanned<Vec<String>>>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    paused: bool,
    mon: Option<Spanned<Vec<String>>>,
    tue: Option<Spanned<Vec<String>>>,
    wed: Option<Spanned<Vec<String>>>,
    thu: Option<Spanned<Vec<String>>>,
    fri: Option<Spanned<Vec<String>>>,
    sat: Option<Spanned<Vec<String>>>,
    sun: Option<Spanned<Vec<String>>>,
}

const TOP_KEYS: &[&str] = &[
    "timezone",
    "posts_dir",
    "catch_up",
    "max_attempts",
    "media_base_url",
    "edits",
    "defaults",
    "accounts",
    "queues",
];

struct Ctx<'a> {
    path: &'a Path,
    src: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            pos: span.map(|s| Pos::of_offset(self.src, s.start, Pos::line(1))),
            message: message.into(),
            help: None,
        }
    }
}

trait WithHelp {
    fn help(self, help: impl Into<String>) -> Self;
}

impl WithHelp for ConfigError {
    fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Parses a timezone name such as `Europe/Berlin` or `UTC`.
pub fn parse_timezone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| {
        let hint = suggest(name, chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()))
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        format!(
            "unknown timezone `{name}`{hint} (use an IANA name such as `Europe/Berlin` or `UTC`)"
        )
    })
}

/// Parses a time of day `HH:MM` (24-hour clock).
pub fn parse_slot(s: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        format!(
            "`{s}` is not a time of day; write it as HH:MM on a 24-hour clock, such as \"09:30\""
        )
    })
}

/// Turns a serde "unknown field" message into one with a suggestion.
pub fn unknown_key_message(raw: &str, known: &[&str]) -> Option<(String, Option<String>)> {
    let rest = raw.split("unknown field `").nth(1)?;
    let key = rest.split('`').next()?;
    let help = suggest(key, known.iter().copied())
        .map(|s| format!("did you mean `{s}`?"))
        .or_else(|| Some(format!("known keys: {}", known.join(", "))));
    Some((format!("unknown key `{key}`"), help))
}

impl Config {
    /// Reads and checks `root/social.toml`.
    pub fn load(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(CONFIG_FILE);
        let src = std::fs::read_to_string(&path).map_err(|e| ConfigError {
            path: path.clone(),
            pos: None,
            message: format!("cannot read the configuration: {e}"),
            help: if e.kind() == std::io::ErrorKind::NotFound {
                Some("run `social init` to create a project".into())
            } else {
                None
            },
        })?;
        let mut config = Self::parse(root, &path, &src)?;
        config.apply_server_limits();
        Ok(config)
    }

    /// Applies text limits the servers reported (`.social/limits.json`, kept
    /// by the daemon) to accounts whose social.toml sets none.
    /// The other limits they reported stay in [`Config::server_limits`] for
    /// validation (`validate::limits_for`).
    pub fn apply_server_limits(&mut self) {
        let cache = ServerLimits::load(&self.root);
        for (name, account) in self.accounts.iter_mut() {
            if account.max_characters.is_none()
                && let Some(l) = cache.accounts.get(name)
            {
                account.max_characters = Some(l.max_characters);
            }
        }
        self.server_limits = cache;
    }

    /// Parses social.toml text; `root` is the project directory.
    pub fn parse(root: &Path, path: &Path, src: &str) -> Result<Config, ConfigError> {
        let cx = Ctx { path, src };
        let raw: RawConfig = toml::from_str(src).map_err(|e| {
            let msg = e.message().trim().to_string();
            let known: &[&str] = if msg.contains("expected one of `platform`") {
                ACCOUNT_KEYS
            } else if msg.contains("`accounts`, `timezone`, `paused`") {
                QUEUE_KEYS
            } else if msg.contains("expected one of `to`") {
                &["to", "lang", "visibility"]
            } else {
                TOP_KEYS
            };
            match unknown_key_message(&msg, known) {
                Some((m, help)) => {
                    let mut err = cx.err(e.span(), m);
                    err.help = help;
                    err
                }
                None => cx.err(e.span(), format!("invalid TOML: {msg}")),
            }
        })?;

        let timezone = match &raw.timezone {
            Some(tz) => parse_timezone(tz.get_ref()).map_err(|m| cx.err(Some(tz.span()), m))?,
            None => Tz::UTC,
        };
        let posts_dir = match &raw.posts_dir {
            Some(p) => {
                let pb = PathBuf::from(p.get_ref());
                if pb.is_absolute()
                    || pb
                        .components()
                        .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(cx
                        .err(
                            Some(p.span()),
                            "`posts_dir` must be a path inside the project",
                        )
                        .help("use a relative path such as \"posts\""));
                }
                pb
            }
            None => PathBuf::from("posts"),
        };
        let catch_up = match &raw.catch_up {
            Some(c) => humantime::parse_duration(c.get_ref()).map_err(|e| {
                cx.err(Some(c.span()), format!("`catch_up` is not a duration: {e}"))
                    .help("write a duration such as \"1h\", \"30m\" or \"2h 30m\"")
            })?,
            None => Duration::from_secs(3600),
        };
        let max_attempts = match &raw.max_attempts {
            Some(m) if (1..=20).contains(m.get_ref()) => *m.get_ref() as u32,
            Some(m) => {
                return Err(cx
                    .err(
                        Some(m.span()),
                        format!("`max_attempts = {}` is out of range", m.get_ref()),
                    )
                    .help("use a number from 1 to 20"));
            }
            None => 3,
        };
        let media_base_url = match raw.media_base_url {
            Some(u) => Some(check_url(&cx, &u, "media_base_url")?),
            None => None,
        };
        let apply_edits = match &raw.edits {
            None => false,
            Some(e) if e.get_ref() == "apply" => true,
            Some(e) if e.get_ref() == "manual" => false,
            Some(e) => {
                return Err(cx
                    .err(
                        Some(e.span()),
                        format!("`edits = \"{}\"` is not a choice", e.get_ref()),
                    )
                    .help("use \"apply\" (publish --due edits published posts whose file changed) or \"manual\" (only `social edit`, the default)"));
            }
        };

        let mut accounts = BTreeMap::new();
        for (name, acc) in raw.accounts {
            let name_s = name.get_ref().clone();
            check_account_name(&cx, &name)?;
            let acc_span = acc.span();
            let a = acc.into_inner();
            let platform: PlatformKind = a
                .platform
                .get_ref()
                .parse()
                .map_err(|m: String| cx.err(Some(a.platform.span()), m))?;
            let account = build_account(&cx, name_s.clone(), platform, a, acc_span)?;
            accounts.insert(name_s, account);
        }

        let check_accounts = |list: &Spanned<Vec<String>>, what: &str| -> Result<(), ConfigError> {
            for a in list.get_ref() {
                if !accounts.contains_key(a) {
                    let help = suggest(a, accounts.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            format!("define it as [accounts.{a}] or remove it from {what}")
                        });
                    return Err(cx
                        .err(
                            Some(list.span()),
                            format!("unknown account `{a}` in {what}"),
                        )
                        .help(help));
                }
            }
            Ok(())
        };

        let mut defaults = Defaults::default();
        if let Some(to) = &raw.defaults.to {
            check_accounts(to, "defaults.to")?;
            defaults.to = to.get_ref().clone();
        }
        if let Some(lang) = raw.defaults.lang {
            defaults.lang = lang.into_vec();
        }
        if let Some(v) = &raw.defaults.visibility {
            let vis = v.get_ref().to_ascii_lowercase();
            if !VISIBILITIES.contains(&vis.as_str()) {
                return Err(cx
                    .err(
                        Some(v.span()),
                        format!("unknown visibility `{}`", v.get_ref()),
                    )
                    .help(format!("use one of: {}", VISIBILITIES.join(", "))));
            }
            defaults.visibility = Some(vis);
        }

        let mut queues = BTreeMap::new();
        for (name, q) in raw.queues {
            let name_s = name.get_ref().clone();
            check_account_name(&cx, &name)?;
            let q = q.into_inner();
            if let Some(list) = &q.accounts {
                check_accounts(list, &format!("queues.{name_s}.accounts"))?;
            }
            let tz = match &q.timezone {
                Some(t) => parse_timezone(t.get_ref()).map_err(|m| cx.err(Some(t.span()), m))?,
                None => timezone,
            };
            let mut slots: [Vec<NaiveTime>; 7] = Default::default();
            for (day, list) in [
                (Weekday::Mon, &q.mon),
                (Weekday::Tue, &q.tue),
                (Weekday::Wed, &q.wed),
                (Weekday::Thu, &q.thu),
                (Weekday::Fri, &q.fri),
                (Weekday::Sat, &q.sat),
                (Weekday::Sun, &q.sun),
            ] {
                let Some(list) = list else { continue };
                let mut times = Vec::new();
                for s in list.get_ref() {
                    times.push(parse_slot(s).map_err(|m| cx.err(Some(list.span()), m))?);
                }
                times.sort();
                times.dedup();
                slots[day.num_days_from_monday() as usize] = times;
            }
            if slots.iter().all(Vec::is_empty) && !q.paused {
                return Err(cx
                    .err(
                        Some(name.span()),
                        format!("queue `{name_s}` has no posting slots"),
                    )
                    .help("add slots per weekday, such as mon = [\"09:00\", \"15:00\"]"));
            }
            queues.insert(
                name_s.clone(),
                Queue {
                    name: name_s,
                    accounts: q.accounts.map(Spanned::into_inner).unwrap_or_default(),
                    timezone: tz,
                    paused: q.paused,
                    slots,
                },
            );
        }

        Ok(Config {
            root: root.to_path_buf(),
            path: path.to_path_buf(),
            timezone,
            posts_dir,
            catch_up,
            max_attempts,
            defaults,
            accounts,
            queues,
            media_base_url,
            server_limits: ServerLimits::default(),
            apply_edits,
        })
    }

    /// The absolute directory of post files.
    pub fn posts_path(&self) -> PathBuf {
        self.root.join(&self.posts_dir)
    }
}

/// Visibility values a post may ask for.
pub const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct", "connections"];

const ACCOUNT_KEYS: &[&str] = &[
    "platform",
    "handle",
    "service",
    "instance",
    "username",
    "api_url",
    "auth_url",
    "client_id",
    "user_id",
    "media_base_url",
    "max_characters",
    "linkedin_version",
];

const QUEUE_KEYS: &[&str] = &[
    "accounts", "timezone", "paused", "mon", "tue", "wed", "thu", "fri", "sat", "sun",
];

fn check_account_name(cx: &Ctx<'_>, name: &Spanned<String>) -> Result<(), ConfigError> {
    let n = name.get_ref();
    let ok = !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(cx
            .err(Some(name.span()), format!("`{n}` is not a valid name"))
            .help("use letters, digits, `-` and `_`, starting with a letter or digit"))
    }
}

fn check_url(cx: &Ctx<'_>, u: &Spanned<String>, key: &str) -> Result<String, ConfigError> {
    let s = u.get_ref().trim();
    let ok = (s.starts_with("https://") || s.starts_with("http://")) && s.len() > "https://".len();
    if ok {
        Ok(s.trim_end_matches('/').to_string())
    } else {
        Err(cx
            .err(
                Some(u.span()),
                format!("`{key}` must be an http(s) URL, not `{s}`"),
            )
            .help(format!("write it as {key} = \"https://example.com\"")))
    }
}

fn build_account(
    cx: &Ctx<'_>,
    name: String,
    platform: PlatformKind,
    a: RawAccount,
    span: std::ops::Range<usize>,
) -> Result<Account, ConfigError> {
    let service = a
        .service
        .as_ref()
        .map(|u| check_url(cx, u, "service"))
        .transpose()?;
    let instance = a
        .instance
        .as_ref()
        .map(|u| check_url(cx, u, "instance"))
        .transpose()?;
    let api_url = a
        .api_url
        .as_ref()
        .map(|u| check_url(cx, u, "api_url"))
        .transpose()?;
    let media_base_url = a
        .media_base_url
        .as_ref()
        .map(|u| check_url(cx, u, "media_base_url"))
        .transpose()?;
    let auth_url = a
        .auth_url
        .as_ref()
        .map(|u| check_url(cx, u, "auth_url"))
        .transpose()?;

    // Keys that belong to another platform are mistakes worth naming.
    let given: [(&str, bool); 10] = [
        ("handle", a.handle.is_some()),
        ("service", a.service.is_some()),
        ("instance", a.instance.is_some()),
        ("username", a.username.is_some()),
        ("api_url", a.api_url.is_some()),
        ("auth_url", a.auth_url.is_some()),
        ("client_id", a.client_id.is_some()),
        ("user_id", a.user_id.is_some()),
        ("media_base_url", a.media_base_url.is_some()),
        ("linkedin_version", a.linkedin_version.is_some()),
    ];
    let settings = platform.settings();
    for (key, present) in given {
        if present && !settings.takes(key) {
            let owners: Vec<&str> = PlatformKind::taking(key)
                .into_iter()
                .map(|p| p.name())
                .collect();
            return Err(cx
                .err(
                    Some(span.clone()),
                    format!("account `{name}`: `{key}` does not apply to {platform} accounts"),
                )
                .help(format!(
                    "`{key}` is for {} accounts; remove it",
                    owners.join(" and ")
                )));
        }
    }
    if let Some((key, example)) = settings.required
        && !given.iter().any(|(k, present)| *k == key && *present)
    {
        return Err(cx
            .err(
                Some(span),
                format!("account `{name}` ({platform}) needs `{key}`"),
            )
            .help(format!("add {example}")));
    }
    if let Some(h) = &a.handle
        && (h.starts_with('@') || !h.contains('.'))
    {
        return Err(cx
            .err(
                Some(span),
                format!("account `{name}`: `{h}` is not a Bluesky handle"),
            )
            .help("write the full handle without `@`, such as handle = \"alice.bsky.social\""));
    }
    Ok(Account {
        name,
        platform,
        handle: a.handle,
        service,
        instance,
        username: a.username.map(|u| u.trim_start_matches('@').to_string()),
        api_url,
        auth_url,
        client_id: a.client_id,
        user_id: a.user_id,
        media_base_url,
        max_characters: a.max_characters,
        linkedin_version: a.linkedin_version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/p"), Path::new("/p/social.toml"), src)
    }

    #[test]
    fn parses_the_design_example() {
        let c = parse(
            r#"
timezone = "Europe/Berlin"
catch_up = "1h"
[accounts.bsky]
platform = "bluesky"
handle = "alice.example.com"
[accounts.fedi]
platform = "mastodon"
instance = "https://hachyderm.io"
[queues.weekdays]
accounts = ["bsky", "fedi"]
timezone = "America/New_York"
mon = ["09:00", "15:00"]
wed = ["12:30"]
"#,
        )
        .unwrap();
        assert_eq!(c.timezone, chrono_tz::Europe::Berlin);
        assert_eq!(c.accounts["fedi"].platform, PlatformKind::Mastodon);
        assert_eq!(
            c.queues["weekdays"].slots[Weekday::Mon.num_days_from_monday() as usize].len(),
            2
        );
    }

    #[test]
    fn unknown_keys_are_named_with_a_suggestion() {
        let e = parse("timezon = \"UTC\"\n").unwrap_err();
        assert_eq!(e.message, "unknown key `timezon`");
        assert_eq!(e.help.as_deref(), Some("did you mean `timezone`?"));
        assert_eq!(e.pos, Some(Pos { line: 1, column: 1 }));
    }

    #[test]
    fn a_key_of_another_platform_or_a_missing_one_is_named() {
        let e = parse("[accounts.x]\nplatform = \"twitter\"\nhandle = \"alice.bsky.social\"\n")
            .unwrap_err();
        assert_eq!(
            e.message,
            "account `x`: `handle` does not apply to twitter accounts"
        );
        assert_eq!(
            e.help.as_deref(),
            Some("`handle` is for bluesky accounts; remove it")
        );
        let e = parse("[accounts.b]\nplatform = \"bluesky\"\nhandle = \"a.b.c\"\napi_url = \"https://x.example\"\n")
            .unwrap_err();
        assert_eq!(
            e.help.as_deref(),
            Some("`api_url` is for twitter and linkedin and instagram accounts; remove it")
        );
        let e = parse("[accounts.fedi]\nplatform = \"mastodon\"\n").unwrap_err();
        assert_eq!(e.message, "account `fedi` (mastodon) needs `instance`");
        assert_eq!(
            e.help.as_deref(),
            Some("add instance = \"https://mastodon.social\"")
        );
        let e = parse("[accounts.b]\nplatform = \"bluesky\"\n").unwrap_err();
        assert_eq!(e.message, "account `b` (bluesky) needs `handle`");
        assert_eq!(
            e.help.as_deref(),
            Some("add handle = \"alice.bsky.social\"")
        );
        assert!(parse("[accounts.x]\nplatform = \"twitter\"\n").is_ok());
    }

    #[test]
    fn max_attempts_is_checked() {
        assert_eq!(parse("").unwrap().max_attempts, 3);
        assert_eq!(parse("max_attempts = 5\n").unwrap().max_attempts, 5);
        let e = parse("max_attempts = 0\n").unwrap_err();
        assert!(e.message.contains("out of range"), "{}", e.message);
    }

    #[test]
    fn server_limits_keep_one_object_per_account_and_old_files_read() {
        let old: ServerLimits = serde_json::from_str(
            r#"{"accounts": {"fedi": {"max_characters": 1000, "fetched_at": "2026-05-04T09:00:00Z"}}}"#,
        )
        .unwrap();
        assert_eq!(old.accounts["fedi"].max_characters, 1000);
        assert!(old.facts.is_empty());
        let mut l = old.clone();
        l.record(
            "fedi",
            old.accounts["fedi"].clone(),
            ServerFacts {
                characters_reserved_per_url: Some(30),
                description_limit: Some(1500),
                ..ServerFacts::default()
            },
        );
        let v = serde_json::to_value(&l).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"accounts": {"fedi": {
                "max_characters": 1000, "fetched_at": "2026-05-04T09:00:00Z",
                "characters_reserved_per_url": 30, "description_limit": 1500
            }}})
        );
        let back: ServerLimits = serde_json::from_value(v).unwrap();
        assert_eq!(back.facts["fedi"].characters_reserved_per_url, Some(30));
    }

    #[test]
    fn bad_timezone_points_at_the_value() {
        let e = parse("\n\ntimezone = \"Europe/Berlinn\"\n").unwrap_err();
        assert_eq!(e.pos.unwrap().line, 3);
        assert!(e.message.contains("Europe/Berlin"), "{}", e.message);
    }
}

/// Limits that account servers reported, cached in `.social/limits.json`
/// so that validation uses them without the network. On disk, one object
/// per account: `max_characters` and `fetched_at`, and what else the server
/// said (a Mastodon instance's URL weight, media size and alt-text limits).
#[derive(Debug, Clone, Default, serde::Serialize, Deserialize)]
#[serde(from = "RawServerLimits", into = "RawServerLimits")]
pub struct ServerLimits {
    pub accounts: BTreeMap<String, ServerLimit>,
    /// What the servers said beyond the text limit, by account.
    pub facts: BTreeMap<String, ServerFacts>,
}

/// One account's reported limit.
#[derive(Debug, Clone, serde::Serialize, Deserialize)]
pub struct ServerLimit {
    pub max_characters: usize,
    pub fetched_at: chrono::DateTime<chrono::Utc>,
}

/// What a Mastodon instance says in `/api/v2/instance` besides its text
/// limit; each missing number leaves the platform's published limit.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct ServerFacts {
    /// `configuration.statuses.characters_reserved_per_url`: what each URL counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub characters_reserved_per_url: Option<usize>,
    /// `configuration.statuses.max_media_attachments`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_media_attachments: Option<usize>,
    /// `configuration.media_attachments.image_size_limit`, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size_limit: Option<u64>,
    /// `configuration.media_attachments.video_size_limit`, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_size_limit: Option<u64>,
    /// `configuration.media_attachments.description_limit`: longest alt text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_limit: Option<usize>,
}

/// The file's shape: each account's limit and facts in one object.
#[derive(serde::Serialize, Deserialize)]
struct RawServerLimits {
    #[serde(default)]
    accounts: BTreeMap<String, RawServerEntry>,
}

#[derive(serde::Serialize, Deserialize)]
struct RawServerEntry {
    #[serde(flatten)]
    limit: ServerLimit,
    #[serde(flatten)]
    facts: ServerFacts,
}

impl From<RawServerLimits> for ServerLimits {
    fn from(raw: RawServerLimits) -> Self {
        let mut out = ServerLimits::default();
        for (name, e) in raw.accounts {
            if e.facts != ServerFacts::default() {
                out.facts.insert(name.clone(), e.facts);
            }
            out.accounts.insert(name, e.limit);
        }
        out
    }
}

impl From<ServerLimits> for RawServerLimits {
    fn from(mut l: ServerLimits) -> Self {
        let accounts = l
            .accounts
            .into_iter()
            .map(|(name, limit)| {
                let facts = l.facts.remove(&name).unwrap_or_default();
                (name, RawServerEntry { limit, facts })
            })
            .collect();
        RawServerLimits { accounts }
    }
}

impl ServerLimits {
    /// The cache file of a project.
    pub fn path(root: &Path) -> PathBuf {
        root.join(".social").join("limits.json")
    }

    /// Keeps what `account`'s server said now.
    pub fn record(&mut self, account: &str, limit: ServerLimit, facts: ServerFacts) {
        self.accounts.insert(account.to_string(), limit);
        if facts == ServerFacts::default() {
            self.facts.remove(account);
        } else {
            self.facts.insert(account.to_string(), facts);
        }
    }

    /// Reads the cache; a missing or unreadable file is an empty cache.
    pub fn load(root: &Path) -> ServerLimits {
        std::fs::read(Self::path(root))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the cache atomically.
    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        let path = Self::path(root);
        if let Some(dir) = path.parent() {
            crate::fsx::private_dir(dir)?;
        }
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        crate::fsx::write_private(&tmp, serde_json::to_vec_pretty(self).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    }
}
