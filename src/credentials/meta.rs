//! `.social/accounts.json`: what `social` last learned about each account's
//! credential, without the secret: who it belongs to, when it expires, when
//! it was last checked. `accounts list` shows it and `validate` warns from
//! it without touching the network or the keyring.

use crate::config::Config;
use crate::model::PlatformKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Warn this long before a login runs out.
pub const WARN_BEFORE: chrono::Duration = chrono::Duration::days(7);

/// The outcome of the last `accounts check`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// Who the platform said the credential belongs to, or why it failed.
    pub detail: String,
}

/// What is known about one account's credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformKind>,
    /// The handle or name the platform reported at login or check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// When the access token expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// After this the user must log in again (unless renewed before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_deadline: Option<DateTime<Utc>>,
    /// Whether `social` can renew it by itself (`accounts refresh`, the daemon).
    #[serde(default)]
    pub refreshable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refreshed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check: Option<CheckResult>,
}

/// All accounts' records of a project.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountsMeta {
    #[serde(default)]
    pub accounts: BTreeMap<String, AccountMeta>,
}

impl AccountsMeta {
    /// The file of the project at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(".social").join("accounts.json")
    }

    /// Reads it; a missing or damaged file reads as empty.
    pub fn load(root: &Path) -> AccountsMeta {
        std::fs::read(Self::path(root))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Changes one account's record and writes the file (temporary file + rename).
    pub fn update(
        root: &Path,
        account: &str,
        change: impl FnOnce(&mut AccountMeta),
    ) -> std::io::Result<()> {
        Self::modify(root, |m| {
            change(m.accounts.entry(account.to_string()).or_default())
        })
    }

    /// Forgets an account.
    pub fn remove(root: &Path, account: &str) -> std::io::Result<()> {
        Self::modify(root, |m| {
            m.accounts.remove(account);
        })
    }

    fn modify(root: &Path, change: impl FnOnce(&mut AccountsMeta)) -> std::io::Result<()> {
        let path = Self::path(root);
        let dir = path.parent().unwrap_or(root);
        crate::fsx::private_dir(dir)?;
        let lock = crate::fsx::private_open(&dir.join("accounts.lock"))?;
        lock.lock()?;
        let mut meta = Self::load(root);
        change(&mut meta);
        let tmp = dir.join(format!("accounts.json.{}.tmp", std::process::id()));
        crate::fsx::write_private(&tmp, serde_json::to_vec_pretty(&meta).unwrap_or_default())?;
        std::fs::rename(&tmp, &path)
    }
}

/// A login that runs out soon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpiryWarning {
    pub account: String,
    pub deadline: DateTime<Utc>,
    pub message: String,
}

/// Warnings for the project's accounts whose login runs out within
/// [`WARN_BEFORE`] of `now` (or has run out), from `.social/accounts.json`
/// only: no network, no keyring.
pub fn expiry_warnings(config: &Config, now: DateTime<Utc>) -> Vec<ExpiryWarning> {
    let meta = AccountsMeta::load(&config.root);
    let mut out = Vec::new();
    for (name, account) in &config.accounts {
        // A token from the environment is renewed where it is made.
        if crate::credentials::secret(name).is_some() {
            continue;
        }
        let Some(m) = meta.accounts.get(name) else {
            continue;
        };
        if let Some(w) = warning(name, account.platform, m, now) {
            out.push(w);
        }
    }
    out
}

/// The warning for one account's record, if its login runs out soon.
pub fn warning(
    name: &str,
    platform: PlatformKind,
    m: &AccountMeta,
    now: DateTime<Utc>,
) -> Option<ExpiryWarning> {
    let deadline = m.login_deadline?;
    if deadline - now > WARN_BEFORE {
        return None;
    }
    let when = deadline.format("%Y-%m-%d %H:%M UTC");
    let what = format!("the {} login of account `{name}`", platform.display_name());
    let fix = if m.refreshable && deadline > now {
        format!("renew it with `social accounts refresh {name}` (a running daemon does this daily)")
    } else {
        format!("log in again with `social accounts add {name}`")
    };
    let message = if deadline <= now {
        format!("{what} expired on {when}; {fix}")
    } else {
        let days = (deadline - now).num_hours() as f64 / 24.0;
        let left = if days >= 1.0 {
            format!("in {} days", days.floor() as i64)
        } else {
            format!("in {} hours", (deadline - now).num_hours().max(0))
        };
        format!("{what} expires {left} ({when}); {fix}")
    };
    Some(ExpiryWarning {
        account: name.to_string(),
        deadline,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn warns_from_seven_days_before() {
        let now = Utc.with_ymd_and_hms(2026, 5, 4, 10, 0, 0).unwrap();
        let mut m = AccountMeta {
            login_deadline: Some(now + chrono::Duration::days(8)),
            ..AccountMeta::default()
        };
        assert!(warning("li", PlatformKind::Linkedin, &m, now).is_none());
        m.login_deadline = Some(now + chrono::Duration::days(6) + chrono::Duration::hours(1));
        let w = warning("li", PlatformKind::Linkedin, &m, now).unwrap();
        assert!(w.message.contains("expires in 6 days"), "{}", w.message);
        assert!(
            w.message.contains("social accounts add li"),
            "{}",
            w.message
        );
        m.login_deadline = Some(now - chrono::Duration::hours(1));
        let w = warning("li", PlatformKind::Linkedin, &m, now).unwrap();
        assert!(w.message.contains("expired on"), "{}", w.message);
        m.refreshable = true;
        m.login_deadline = Some(now + chrono::Duration::days(2));
        let w = warning("insta", PlatformKind::Instagram, &m, now).unwrap();
        assert!(
            w.message.contains("social accounts refresh insta"),
            "{}",
            w.message
        );
    }

    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        AccountsMeta::update(dir.path(), "x", |m| m.identity = Some("@alice".into())).unwrap();
        AccountsMeta::update(dir.path(), "y", |m| m.refreshable = true).unwrap();
        let m = AccountsMeta::load(dir.path());
        assert_eq!(m.accounts["x"].identity.as_deref(), Some("@alice"));
        assert!(m.accounts["y"].refreshable);
        AccountsMeta::remove(dir.path(), "x").unwrap();
        assert!(!AccountsMeta::load(dir.path()).accounts.contains_key("x"));
    }
}
