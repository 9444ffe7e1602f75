//! Secrets of accounts. For now: the environment variable
//! `SOCIAL_<NAME>_TOKEN` (NAME upper-cased, other characters as `_`).
//! All lookups go through [`secret`], so that the keyring can join here.

use std::fmt;

/// A secret value that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("…")
    }
}

/// The environment variable holding account `name`'s secret.
pub fn env_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("SOCIAL_{upper}_TOKEN")
}

/// The secret of account `name`, if one is configured.
pub fn secret(name: &str) -> Option<Secret> {
    std::env::var(env_var(name))
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Secret(s.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_redaction() {
        assert_eq!(env_var("my-bsky.2"), "SOCIAL_MY_BSKY_2_TOKEN");
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "Secret(…) …");
    }
}
