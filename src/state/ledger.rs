//! `published.toml`: the git-friendly record of what was published.
//!
//! Committed with the posts, it keeps a fresh clone or a CI runner (an empty
//! state store) from publishing anything twice. Entries are tables keyed by
//! post id then account, written sorted, so that two branches that publish
//! different posts merge without conflicts.

use crate::config::ConfigError;
use crate::diag::Pos;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ledger's file name, at the project root.
pub const LEDGER_FILE: &str = "published.toml";

const HEADER: &str = "\
# published.toml: what social has published. Commit this file: it keeps a
# fresh clone or a CI runner from publishing a post twice. Written by social;
# entries are sorted by post id, then account.
";

/// One published target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// When it was published (RFC 3339).
    pub published_at: String,
    /// The platform's id of each thread part.
    pub ids: Vec<String>,
    /// The public URL of each thread part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Hash of the post's content, to recognise a renamed post.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_hash: String,
}

/// Every published target: post id → account → entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ledger {
    pub posts: BTreeMap<String, BTreeMap<String, LedgerEntry>>,
}

impl Ledger {
    /// The ledger's path in a project.
    pub fn path(root: &Path) -> PathBuf {
        root.join(LEDGER_FILE)
    }

    /// Reads the ledger; a missing file is an empty ledger.
    pub fn load(root: &Path) -> Result<Ledger, ConfigError> {
        let path = Self::path(root);
        match std::fs::read_to_string(&path) {
            Ok(src) => Self::parse(&path, &src),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger::default()),
            Err(e) => Err(ConfigError {
                path,
                pos: None,
                message: format!("cannot read the ledger: {e}"),
                help: None,
            }),
        }
    }

    /// Parses ledger text.
    pub fn parse(path: &Path, src: &str) -> Result<Ledger, ConfigError> {
        toml::from_str(src).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            pos: e.span().map(|s| Pos::of_offset(src, s.start, Pos::line(1))),
            message: format!("the ledger is not valid: {}", e.message().trim()),
            help: Some("fix the merge conflict or typo; every entry is [\"post-id\".account] with published_at and ids".into()),
        })
    }

    /// The entry of one target.
    pub fn get(&self, post: &str, account: &str) -> Option<&LedgerEntry> {
        self.posts.get(post).and_then(|m| m.get(account))
    }

    /// A published target whose content hash is `hash`, under another id.
    pub fn find_by_hash(&self, hash: &str, except_id: &str) -> Option<(&str, &str)> {
        self.posts
            .iter()
            .filter(|(id, _)| id.as_str() != except_id)
            .find_map(|(id, accounts)| {
                accounts
                    .iter()
                    .find(|(_, e)| e.content_hash == hash)
                    .map(|(a, _)| (id.as_str(), a.as_str()))
            })
    }

    /// The ledger as text.
    pub fn render(&self) -> String {
        let mut out = String::from(HEADER);
        for (id, accounts) in &self.posts {
            for (account, entry) in accounts {
                let mut one = BTreeMap::new();
                one.insert(
                    id.clone(),
                    BTreeMap::from([(account.clone(), entry.clone())]),
                );
                let text = toml::to_string(&one).unwrap_or_default();
                out.push('\n');
                out.push_str(text.trim_start());
            }
        }
        out
    }

    /// Adds entries to the ledger file in one locked read, merge and atomic
    /// write. Concurrent writers (the daemon and a cron run) serialise on the lock.
    pub fn record_many(
        root: &Path,
        entries: Vec<(String, String, LedgerEntry)>,
    ) -> Result<(), LedgerWriteError> {
        if entries.is_empty() {
            return Ok(());
        }
        let lock_dir = root.join(".social");
        crate::fsx::private_dir(&lock_dir).map_err(LedgerWriteError::Io)?;
        let lock = crate::fsx::private_open(&lock_dir.join("ledger.lock"))
            .map_err(LedgerWriteError::Io)?;
        lock.lock().map_err(LedgerWriteError::Io)?;
        let mut ledger = Self::load(root).map_err(LedgerWriteError::Invalid)?;
        for (post, account, entry) in entries {
            ledger.posts.entry(post).or_default().insert(account, entry);
        }
        let path = Self::path(root);
        let tmp = root.join(format!(".{LEDGER_FILE}.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(ledger.render().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            Ok(())
        };
        let res = write().map_err(LedgerWriteError::Io);
        let _ = std::fs::remove_file(&tmp);
        drop(lock);
        res
    }
}

/// Why the ledger could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerWriteError {
    #[error("cannot write published.toml: {0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Invalid(ConfigError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_sorted_and_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let e = |id: &str| LedgerEntry {
            published_at: "2026-12-01T09:00:00Z".into(),
            ids: vec![id.into()],
            urls: vec![format!("https://example.com/{id}")],
            content_hash: "abc".into(),
        };
        Ledger::record_many(dir.path(), vec![("b.post".into(), "x".into(), e("2"))]).unwrap();
        Ledger::record_many(dir.path(), vec![("a-post".into(), "fedi".into(), e("1"))]).unwrap();
        Ledger::record_many(dir.path(), vec![("a-post".into(), "bsky".into(), e("0"))]).unwrap();
        let text = std::fs::read_to_string(dir.path().join(LEDGER_FILE)).unwrap();
        let a = text.find("[a-post.bsky]").unwrap();
        let b = text.find("[a-post.fedi]").unwrap();
        let c = text.find("[\"b.post\".x]").unwrap();
        assert!(a < b && b < c, "{text}");
        let l = Ledger::load(dir.path()).unwrap();
        assert_eq!(l.get("b.post", "x").unwrap().ids, ["2"]);
        assert_eq!(l.find_by_hash("abc", "a-post"), Some(("b.post", "x")));
    }
}
