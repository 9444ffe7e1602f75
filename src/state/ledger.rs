//! `published.toml`: the git-friendly record of what was published.
//!
//! Committed with the posts, it keeps a fresh clone or a CI runner (an empty
//! state store) from publishing anything twice. Entries are tables keyed by
//! post id then account, written sorted, so that two branches that publish
//! different posts merge without conflicts.
//!
//! Besides publications it keeps what a user decided with a command and
//! what an attempt settled for good, so that `social state rebuild` and a
//! fresh clone come back to the same state: a cancelled target stays
//! cancelled, a retried one is due again (not failed), a failed or
//! unconfirmed one is not published again behind the user's back. Such an
//! entry has a `status`; a publication has none.

use crate::config::ConfigError;
use crate::diag::Pos;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The ledger's file name, at the project root.
pub const LEDGER_FILE: &str = "published.toml";

const HEADER: &str = "\
# published.toml: what social has published, and what was cancelled,
# retried or settled as failed. Commit this file: it keeps a fresh clone or a
# CI runner from publishing a post twice or bringing back a cancelled one.
# Written by social; entries are sorted by post id, then account.
";

/// What became of a target that was not (or not wholly) published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Settled {
    /// `social cancel`: never to be published.
    Cancelled,
    /// `social retry`: due again at `at`.
    Retried,
    /// Failed for good (refused, missed): not retried until the post
    /// changes or `social retry`.
    Failed,
    /// May be on the platform: held for the user to check.
    Unconfirmed,
    /// Its time (`at`) passed by more than `catch_up` before it went out.
    Missed,
}

impl Settled {
    pub fn as_str(self) -> &'static str {
        match self {
            Settled::Cancelled => "cancelled",
            Settled::Retried => "retried",
            Settled::Failed => "failed",
            Settled::Unconfirmed => "unconfirmed",
            Settled::Missed => "missed",
        }
    }
}

/// One target: a publication, or (with `status`) a settled state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerEntry {
    /// Absent for a publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Settled>,
    /// When it was published (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub published_at: String,
    /// When it was settled (RFC 3339); for a retry, when it is due again.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub at: String,
    /// Why it failed or is unconfirmed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The platform's id of each thread part (published before a failure,
    /// for a settled entry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    /// The public URL of each thread part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Hash of the post's content, to recognise a renamed post.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_hash: String,
    /// A publication asked to be taken back: when (RFC 3339).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub delete_requested_at: String,
    /// Who asked: `command` (`social delete`) or `withdrawn` (the file).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub removal: String,
    /// The parts (1-based) deleted so far, while the deletion is under way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted_parts: Vec<usize>,
    /// When its last part was deleted (RFC 3339): deleted for good, never
    /// published or deleted again from any clone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub deleted_at: String,
    /// When the publication was last edited to match its file (RFC 3339);
    /// `content_hash` is then the edited text's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub edited_at: String,
    /// How many times it was deleted and published again on purpose
    /// (`social retry --force`); absent for the first publication.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
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

    /// The entry of one target, whatever it records.
    pub fn get(&self, post: &str, account: &str) -> Option<&LedgerEntry> {
        self.posts.get(post).and_then(|m| m.get(account))
    }

    /// The publication of one target, if it was published.
    pub fn published(&self, post: &str, account: &str) -> Option<&LedgerEntry> {
        self.get(post, account).filter(|e| e.is_published())
    }

    /// A published target whose content hash is `hash`, under another id.
    pub fn find_by_hash(&self, hash: &str, except_id: &str) -> Option<(&str, &str)> {
        self.posts
            .iter()
            .filter(|(id, _)| id.as_str() != except_id)
            .find_map(|(id, accounts)| {
                accounts
                    .iter()
                    .find(|(_, e)| e.is_published() && e.content_hash == hash)
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
        Self::update(
            root,
            entries
                .into_iter()
                .map(|(p, a, e)| (p, a, Some(e)))
                .collect(),
        )
    }

    /// Adds, replaces or (with `None`) removes entries in one locked read,
    /// merge and atomic write. A publication is never replaced by a settled
    /// entry nor removed: what is on a platform stays recorded.
    pub fn update(
        root: &Path,
        entries: Vec<(String, String, Option<LedgerEntry>)>,
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
        let before = ledger.clone();
        for (post, account, entry) in entries {
            let old = ledger.get(&post, &account);
            let published = old.is_some_and(LedgerEntry::is_published);
            // Publishing a deleted post again (`retry --force`) replaces it.
            let again = |e: &LedgerEntry| {
                old.is_some_and(|o| o.is_deleted() && e.generation > o.generation)
            };
            match entry {
                // What an older generation wrote never covers a newer one.
                Some(e) if old.is_some_and(|o| o.generation > e.generation) => {}
                Some(mut e) if e.is_published() || !published || again(&e) => {
                    if let Some(old) = ledger.get(&post, &account) {
                        e.keep_removal(old);
                    }
                    ledger.posts.entry(post).or_default().insert(account, e);
                }
                None if !published => {
                    if let Some(m) = ledger.posts.get_mut(&post) {
                        m.remove(&account);
                        if m.is_empty() {
                            ledger.posts.remove(&post);
                        }
                    }
                }
                _ => {}
            }
        }
        if ledger == before {
            return Ok(());
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

impl LedgerEntry {
    /// Whether this records a publication.
    pub fn is_published(&self) -> bool {
        self.status.is_none()
    }

    /// A publication that was deleted (every part).
    pub fn is_deleted(&self) -> bool {
        self.is_published() && !self.deleted_at.is_empty()
    }

    /// A publication whose deletion was asked for (done or under way).
    pub fn is_removal(&self) -> bool {
        self.is_published() && (!self.delete_requested_at.is_empty() || self.is_deleted())
    }

    /// Keeps what `old` knows of a deletion that `self` (a publication
    /// written by a store that knew less, such as another clone's) lacks: a
    /// deletion is never undone by a later write of the publication.
    fn keep_removal(&mut self, old: &LedgerEntry) {
        if !self.is_published() || !old.is_removal() || self.generation != old.generation {
            return;
        }
        if self.delete_requested_at.is_empty() {
            self.delete_requested_at = old.delete_requested_at.clone();
            self.removal = old.removal.clone();
        }
        if self.deleted_at.is_empty() && old.is_deleted() {
            self.deleted_at = old.deleted_at.clone();
            self.deleted_parts.clear();
        }
        if self.deleted_at.is_empty() {
            for p in &old.deleted_parts {
                if !self.deleted_parts.contains(p) {
                    self.deleted_parts.push(*p);
                }
            }
            self.deleted_parts.sort_unstable();
        }
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
            ..LedgerEntry::default()
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

    fn settled(status: Settled) -> LedgerEntry {
        LedgerEntry {
            status: Some(status),
            at: "2026-12-01T10:00:00Z".into(),
            ..LedgerEntry::default()
        }
    }

    #[test]
    fn settled_entries_are_kept_replaced_and_removed_but_never_a_publication() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let key = |e| vec![("p".to_string(), "x".to_string(), e)];
        Ledger::update(root, key(Some(settled(Settled::Cancelled)))).unwrap();
        let text = std::fs::read_to_string(root.join(LEDGER_FILE)).unwrap();
        assert!(text.contains("status = \"cancelled\""), "{text}");
        let l = Ledger::load(root).unwrap();
        assert_eq!(l.get("p", "x").unwrap().status, Some(Settled::Cancelled));
        assert!(l.published("p", "x").is_none());
        // A retry replaces the cancel; removing it leaves no entry.
        Ledger::update(root, key(Some(settled(Settled::Retried)))).unwrap();
        let l = Ledger::load(root).unwrap();
        assert_eq!(l.get("p", "x").unwrap().status, Some(Settled::Retried));
        Ledger::update(root, key(None)).unwrap();
        assert!(Ledger::load(root).unwrap().posts.is_empty());
        // A publication stays whatever comes after it.
        let posted = LedgerEntry {
            published_at: "2026-12-01T09:00:00Z".into(),
            ids: vec!["1".into()],
            ..LedgerEntry::default()
        };
        Ledger::update(root, key(Some(posted.clone()))).unwrap();
        Ledger::update(root, key(Some(settled(Settled::Failed)))).unwrap();
        Ledger::update(root, key(None)).unwrap();
        assert_eq!(Ledger::load(root).unwrap().get("p", "x"), Some(&posted));
        assert_eq!(
            Ledger::load(root).unwrap().find_by_hash("", "other"),
            Some(("p", "x"))
        );
    }

    #[test]
    fn an_older_ledger_still_reads() {
        let l = Ledger::parse(
            Path::new("published.toml"),
            "[a.x]\npublished_at = \"2026-12-01T09:00:00Z\"\nids = [\"1\"]\n",
        )
        .unwrap();
        assert!(l.published("a", "x").is_some());
    }
}
