//! The state store: where every post and every target (post × account)
//! stands, in an embedded redb database (`.social/state.redb`).
//!
//! The interface is deliberately narrow — sync, claim, record, next due,
//! query — so that another backend (a shared PostgreSQL) can serve it later.
//! redb allows one process to hold the file at a time; every operation opens
//! the database, runs one short transaction and closes it again, waiting for
//! another process that holds it. No transaction is ever held across a
//! network call.

mod claims;
pub mod ledger;
pub mod sync;

pub use claims::{Change, Claimed, DeletionEnd};

use crate::diag::Diagnostic;
use chrono::{DateTime, TimeZone, Utc};
use redb::{Database, DatabaseError, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The schema version this build writes; a store with a newer one is refused.
pub const SCHEMA_VERSION: u64 = 1;

/// Environment variable naming the state file (same as `--state`).
pub const STATE_ENV: &str = "SOCIAL_STATE";

pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Post id → [`PostRecord`] (JSON).
pub(crate) const POSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("posts");
/// Post file path → [`FileRecord`] (JSON).
pub(crate) const FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("files");
/// Target key `post/account` → [`TargetRecord`] (JSON).
pub(crate) const TARGETS: TableDefinition<&str, &[u8]> = TableDefinition::new("targets");
/// (due time in ms since the epoch, target key) → (): what is due is a range read.
pub(crate) const DUE: TableDefinition<(i64, &str), ()> = TableDefinition::new("due");
/// Target keys in `posting`: what a crashed process may have left in flight.
pub(crate) const INFLIGHT: TableDefinition<&str, ()> = TableDefinition::new("inflight");

/// Target keys posted but not yet written to published.toml: the ledger is
/// written once per run from these, and a crash in between loses nothing.
pub(crate) const LEDGER_PENDING: TableDefinition<&str, ()> = TableDefinition::new("ledger_pending");

/// How long a claim is good for before another process may take it over.
pub const LEASE_MS: i64 = 15 * 60 * 1000;

/// A problem with the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error(
        "the state store {path} was written by a newer social (schema {found}, this one knows {SCHEMA_VERSION})"
    )]
    NewerSchema { path: PathBuf, found: u64 },
    #[error("the state store {path} is busy: another social process has held it for {waited:?}")]
    Busy { path: PathBuf, waited: Duration },
    #[error("the state store {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    /// The file is not a store this build can read (truncated, overwritten,
    /// damaged): one message with redb's detail, since the store is rebuilt
    /// from the files (`social state rebuild`).
    #[error("the state store {path} is damaged and cannot be read ({detail})")]
    Damaged { path: PathBuf, detail: String },
    #[error(
        "the state store {path} holds a record it cannot read ({key}): {message}; run `social state rebuild` to rebuild the store from the post files and published.toml"
    )]
    Corrupt {
        path: PathBuf,
        key: String,
        message: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Where a target stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    /// The post is a draft: never published.
    Draft,
    /// Has a time (or waits for `social post` when it has none).
    Scheduled,
    /// Waits for a queue slot.
    Queued,
    /// Claimed by a process that is publishing it now.
    Posting,
    Posted,
    Failed,
    Cancelled,
    /// An attempt may have published it and the platform cannot be asked:
    /// held for the user to check (`social retry` or `social cancel`).
    Unconfirmed,
    /// Its time passed by more than `catch_up` before it could go out (the
    /// machine was off, no login): not published unless `at` changes or
    /// `social post` / `social retry` sends it now.
    Missed,
    /// The post file says `status: withdrawn` and nothing of it was
    /// published on this account: never published while it says so.
    Withdrawn,
    /// Published, and asked to be taken back (`social delete`, or the file
    /// withdrawn): its parts are deleted last first, each recorded in
    /// `deleted` as it goes; due again at `due` after a failure that passes.
    Deleting,
    /// Every published part is deleted (or was gone already): final.
    Deleted,
}

/// The one name of each state a target can be in: what `status`, `post`,
/// `publish --due`, the daemon's log and every `--json` call it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Draft,
    /// Has a time, or waits for `social post`.
    Scheduled,
    /// Waits for a queue slot.
    Queued,
    /// Being published right now.
    Posting,
    Posted,
    /// An attempt failed for a reason that passes; due again later.
    WillRetry,
    /// Due, but its account has no credential yet.
    WaitingForLogin,
    /// Its time passed by more than `catch_up`.
    Missed,
    /// Failed for good, with why.
    Failed,
    Cancelled,
    /// May be on the platform: the user checks, then retries or cancels.
    Unconfirmed,
    /// `status: withdrawn`: not published here, and never will be while
    /// the file says so.
    Withdrawn,
    /// Published, being taken back (or due to be, after a failure).
    Deleting,
    /// Published, then deleted.
    Deleted,
}

impl State {
    pub const ALL: [State; 14] = [
        State::Draft,
        State::Scheduled,
        State::Queued,
        State::Posting,
        State::Posted,
        State::WillRetry,
        State::WaitingForLogin,
        State::Missed,
        State::Failed,
        State::Cancelled,
        State::Unconfirmed,
        State::Withdrawn,
        State::Deleting,
        State::Deleted,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Scheduled => "scheduled",
            State::Queued => "queued",
            State::Posting => "posting",
            State::Posted => "posted",
            State::WillRetry => "will-retry",
            State::WaitingForLogin => "waiting-for-login",
            State::Missed => "missed",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Unconfirmed => "unconfirmed",
            State::Withdrawn => "withdrawn",
            State::Deleting => "deleting",
            State::Deleted => "deleted",
        }
    }

    /// Whether a run that leaves a target in this state failed (exit 1).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            State::WillRetry
                | State::WaitingForLogin
                | State::Missed
                | State::Failed
                | State::Unconfirmed
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TargetStatus {
    /// Whether `published.toml` records a target in this state: published,
    /// or settled by the user or for good (cancelled, failed, unconfirmed).
    pub fn in_ledger(self) -> bool {
        matches!(
            self,
            TargetStatus::Posted
                | TargetStatus::Failed
                | TargetStatus::Cancelled
                | TargetStatus::Unconfirmed
                | TargetStatus::Missed
                | TargetStatus::Deleting
                | TargetStatus::Deleted
        )
    }

    /// Whether the target was published and is being, or has been, taken back.
    pub fn is_removal(self) -> bool {
        matches!(self, TargetStatus::Deleting | TargetStatus::Deleted)
    }
}

impl fmt::Display for TargetStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("?"))
    }
}

pub use crate::model::PublishedPart;

/// One post × account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRecord {
    pub post_id: String,
    pub account: String,
    pub status: TargetStatus,
    /// When it is due (ms since the epoch); none for on-demand and unplaced posts.
    pub due: Option<i64>,
    /// The queue slot it holds, kept while the queue is paused.
    #[serde(default)]
    pub slot: Option<i64>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub next_attempt: Option<i64>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Published parts, in thread order (a resumed thread starts after them).
    #[serde(default)]
    pub parts: Vec<PublishedPart>,
    /// Key that makes a repeated publish request recognisable, fixed at first claim.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// When the target was first claimed (ms): the time part of Bluesky record keys.
    #[serde(default)]
    pub first_claimed: Option<i64>,
    #[serde(default)]
    pub posted_at: Option<i64>,
    /// Content hash of the post when it was last scheduled.
    #[serde(default)]
    pub content_hash: String,
    /// The process holding the claim (`host:pid`), while `posting`.
    #[serde(default)]
    pub claimed_by: Option<String>,
    /// Until when the claim holds (ms); a crashed claimer's claim lapses.
    #[serde(default)]
    pub lease_until: Option<i64>,
    /// An earlier attempt ended without knowing what the platform holds:
    /// the next one asks the platform before sending anything.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uncertain: bool,
    /// When it was first due (ms): kept while retries and waits move `due`,
    /// so that catch-up counts from the time the user asked for, and a
    /// missed target shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<i64>,
    /// Due, but its account has no credential yet: it goes out at the first
    /// run after a login, within `catch_up` of `planned`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waiting_for_login: bool,
    /// Why its deletion was asked for, once it was; kept after a platform
    /// refused to delete (the target is then `posted` again, with the reason
    /// in `last_error`, and a withdrawn file does not ask again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    /// The indexes of the parts deleted so far (or found gone), recorded
    /// one by one: a resumed deletion never sends these again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<usize>,
    /// When the last part was deleted (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
    /// When the published post was last edited to match its file (ms);
    /// `content_hash` is then the hash of the text the edit sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
    /// How many times the target was deleted and then published again on
    /// purpose (`social retry --force`): part of its idempotency key and of
    /// its Bluesky record keys, so that a new publication never meets what
    /// the platform remembers of the deleted one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub generation: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why and when a published target was asked to be taken back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removal {
    pub why: RemovalReason,
    /// When it was asked (ms).
    pub requested_at: i64,
}

/// Who asked for a deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RemovalReason {
    /// `social delete`.
    Command,
    /// The post file says `status: withdrawn`.
    Withdrawn,
}

impl RemovalReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalReason::Command => "command",
            RemovalReason::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<RemovalReason> {
        match s {
            "command" => Some(RemovalReason::Command),
            "withdrawn" => Some(RemovalReason::Withdrawn),
            _ => None,
        }
    }
}

impl TargetRecord {
    /// The state of this target in the one vocabulary.
    pub fn state(&self) -> State {
        match self.status {
            TargetStatus::Draft => State::Draft,
            TargetStatus::Scheduled | TargetStatus::Queued if self.waiting_for_login => {
                State::WaitingForLogin
            }
            TargetStatus::Scheduled | TargetStatus::Queued if self.next_attempt.is_some() => {
                State::WillRetry
            }
            TargetStatus::Scheduled => State::Scheduled,
            TargetStatus::Queued => State::Queued,
            TargetStatus::Posting => State::Posting,
            TargetStatus::Posted => State::Posted,
            TargetStatus::Failed => State::Failed,
            TargetStatus::Cancelled => State::Cancelled,
            TargetStatus::Unconfirmed => State::Unconfirmed,
            TargetStatus::Missed => State::Missed,
            TargetStatus::Withdrawn => State::Withdrawn,
            TargetStatus::Deleting => State::Deleting,
            TargetStatus::Deleted => State::Deleted,
        }
    }

    /// The published parts still to delete, last first, with their indexes.
    pub fn parts_to_delete(&self) -> Vec<(usize, PublishedPart)> {
        self.parts
            .iter()
            .cloned()
            .enumerate()
            .filter(|(i, _)| !self.deleted.contains(i))
            .rev()
            .collect()
    }

    /// The key of this target in the store.
    pub fn key(&self) -> String {
        target_key(&self.post_id, &self.account)
    }

    /// Whether publishing is over for this target (nothing more will be sent).
    pub fn is_final(&self) -> bool {
        matches!(
            self.status,
            TargetStatus::Posted | TargetStatus::Cancelled | TargetStatus::Deleted
        )
    }

    pub fn due_time(&self) -> Option<DateTime<Utc>> {
        self.due.and_then(from_ms)
    }
}

/// The key of a target: `post_id/account` (neither may contain `/`).
pub fn target_key(post_id: &str, account: &str) -> String {
    format!("{post_id}/{account}")
}

/// What the store knows of a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRecord {
    pub id: String,
    /// The file it came from; none once the file is gone.
    pub path: Option<String>,
    pub title: Option<String>,
    pub content_hash: String,
    pub at: Option<i64>,
    pub queue: Option<String>,
    pub position: Option<i64>,
    pub draft: bool,
    /// `status: withdrawn`: taken back where published, published nowhere else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    pub accounts: Vec<String>,
    /// Validation errors that keep the post from being scheduled.
    #[serde(default)]
    pub errors: Vec<Diagnostic>,
}

/// What the store knows of a post file, to skip unchanged files cheaply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub mtime_ns: i128,
    pub size: u64,
    pub hash: u64,
    pub post_id: Option<String>,
    /// Problems found the last time the file was read (errors and warnings).
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

/// ms since the epoch.
pub fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// An instant from ms since the epoch.
pub fn from_ms(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// A target claimed for publishing by this process.
#[derive(Clone, Debug)]
pub struct Claim {
    pub target: TargetRecord,
}

/// The result of one publish attempt, to record.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Every part is published.
    Posted { parts: Vec<PublishedPart> },
    /// Some parts are published and the rest will follow later (at
    /// `retry_at`). `uncertain`: the platform may hold more than `parts`, so
    /// the next attempt asks it first.
    Partial {
        parts: Vec<PublishedPart>,
        error: String,
        retry_at: Option<DateTime<Utc>>,
        uncertain: bool,
    },
    /// The platform may have published more than `parts` and cannot tell:
    /// nothing more is sent until the user decides.
    Unconfirmed {
        parts: Vec<PublishedPart>,
        error: String,
    },
    /// Nothing (more) was published; retry at `retry_at`, or give up when none.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Its time passed by more than `catch_up`: nothing was sent.
    Missed { reason: String },
    /// Nothing was sent because the account has no credential: due again at
    /// `recheck_at` (the next run after a login), until it is missed.
    WaitingForLogin {
        reason: String,
        recheck_at: DateTime<Utc>,
    },
}

/// The state store.
#[derive(Clone, Debug)]
pub struct Store {
    path: PathBuf,
    wait: Duration,
    /// Serialises this process's operations on the file, so that they queue
    /// here instead of meeting redb's "already open" and backing off.
    gate: Arc<Mutex<()>>,
    /// The lock that shows this handle's claims are alive (taken at the first claim).
    owner: Arc<OnceLock<claims::Owner>>,
}

thread_local! {
    /// Set while this thread runs a store operation (see `Store::guarded`).
    static IN_STORE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Keeps panics inside store operations off the terminal (they become a
/// damaged-store error); every other panic reaches the previous hook.
fn quiet_store_panics() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_STORE.with(|c| c.get()) {
                previous(info);
            }
        }));
    });
}

/// The in-process gate of a store file, shared by every `Store` of that path.
fn gate_for(path: &Path) -> Arc<Mutex<()>> {
    static GATES: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<()>>>>> = OnceLock::new();
    // The directory exists (open creates it); the file may not yet.
    let key = match (
        path.parent().and_then(|d| d.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    };
    let mut gates = GATES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    gates.entry(key).or_default().clone()
}

pub(crate) fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("records serialize")
}

impl Store {
    /// The default store of a project: `.social/state.redb` under its root.
    pub fn default_path(root: &Path) -> PathBuf {
        root.join(".social").join("state.redb")
    }

    /// Opens (creating if needed) the store at `path`, checking its schema.
    pub fn open(path: &Path) -> Result<Store, StateError> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            // The project's `.social/` is made private; another directory
            // (`--state`) only when social creates it.
            let made = if dir.file_name() == Some(".social".as_ref()) {
                crate::fsx::private_dir(dir)
            } else {
                crate::fsx::create_dir(dir)
            };
            made.map_err(|source| StateError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // Created (or tightened) 0600 before redb opens it.
        crate::fsx::private_open(path).map_err(|source| StateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let store = Store {
            path: path.to_path_buf(),
            wait: Duration::from_secs(30),
            gate: gate_for(path),
            owner: Arc::default(),
        };
        store
            .write(|tx| {
                let mut meta = tx.open_table(META)?;
                let found = meta
                    .get("schema_version")?
                    .map(|v| u64::from_le_bytes(v.value().try_into().unwrap_or([0; 8])));
                match found {
                    Some(v) if v > SCHEMA_VERSION => return Ok(Err(v)),
                    Some(_) => {}
                    None => {
                        meta.insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())?;
                    }
                }
                drop(meta);
                for t in [POSTS, FILES, TARGETS] {
                    tx.open_table(t)?;
                }
                tx.open_table(DUE)?;
                tx.open_table(INFLIGHT)?;
                tx.open_table(LEDGER_PENDING)?;
                Ok(Ok(()))
            })?
            .map_err(|found| StateError::NewerSchema {
                path: path.to_path_buf(),
                found,
            })?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same store, waiting at most `wait` for another process that
    /// holds the file (30 s by default) before an operation fails as busy.
    pub fn with_wait(mut self, wait: Duration) -> Store {
        self.wait = wait;
        self
    }

    /// Opens the database, waiting while another process holds it.
    fn db(&self) -> Result<Database, StateError> {
        let start = Instant::now();
        let mut delay = Duration::from_millis(2);
        loop {
            match Database::create(&self.path) {
                Ok(db) => return Ok(db),
                Err(DatabaseError::DatabaseAlreadyOpen) => {
                    if start.elapsed() > self.wait {
                        return Err(StateError::Busy {
                            path: self.path.clone(),
                            waited: start.elapsed(),
                        });
                    }
                    std::thread::sleep(delay);
                    delay = (delay * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(self.db_err(e)),
            }
        }
    }

    fn db_err(&self, e: impl Into<redb::Error>) -> StateError {
        let source = e.into();
        let damaged = match &source {
            redb::Error::Corrupted(m) => Some(m.clone()),
            redb::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Some(io.to_string())
            }
            redb::Error::UpgradeRequired(v) => Some(format!("an old file format, version {v}")),
            _ => None,
        };
        match damaged {
            Some(detail) => StateError::Damaged {
                path: self.path.clone(),
                detail,
            },
            None => StateError::Db {
                path: self.path.clone(),
                source,
            },
        }
    }

    /// Runs `f` in one write transaction and commits it.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&redb::WriteTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        self.guarded(|| {
            let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            let db = self.db()?;
            let tx = db.begin_write().map_err(|e| self.db_err(e))?;
            let out = f(&tx).map_err(|e| self.db_err(e))?;
            tx.commit().map_err(|e| self.db_err(e))?;
            Ok(out)
        })
    }

    /// Runs `f` in one read transaction.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&redb::ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        self.guarded(|| {
            let _gate = self.gate.lock().unwrap_or_else(|e| e.into_inner());
            let db = self.db()?;
            let tx = db.begin_read().map_err(|e| self.db_err(e))?;
            f(&tx).map_err(|e| self.db_err(e))
        })
    }

    /// Runs one store operation so that a panic inside redb (a file damaged
    /// in a way its checks do not catch) is the damaged-store error with the
    /// way out, not a crash with a backtrace.
    fn guarded<T>(&self, f: impl FnOnce() -> Result<T, StateError>) -> Result<T, StateError> {
        quiet_store_panics();
        let was = IN_STORE.with(|c| c.replace(true));
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        IN_STORE.with(|c| c.set(was));
        out.unwrap_or_else(|panic| {
            let detail = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the database library failed on it".into());
            Err(StateError::Damaged {
                path: self.path.clone(),
                detail,
            })
        })
    }

    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<T, StateError> {
        serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            path: self.path.clone(),
            key: key.to_string(),
            message: e.to_string(),
        })
    }

    /// Every target, optionally only those of one post, sorted by key.
    pub fn targets(&self, post: Option<&str>) -> Result<Vec<TargetRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let t = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            let prefix = post.map(|p| format!("{p}/"));
            let range = match &prefix {
                Some(p) => t.range(p.as_str()..)?,
                None => t.range::<&str>(..)?,
            };
            for item in range {
                let (k, v) = item?;
                if let Some(p) = &prefix
                    && !k.value().starts_with(p.as_str())
                {
                    break;
                }
                out.push((k.value().to_string(), v.value().to_vec()));
            }
            Ok(out)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// The targets of the given posts, in one read.
    pub fn targets_of(&self, posts: &[&str]) -> Result<Vec<TargetRecord>, StateError> {
        if posts.is_empty() {
            return Ok(Vec::new());
        }
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let t = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            for post in posts {
                let prefix = format!("{post}/");
                for item in t.range(prefix.as_str()..)? {
                    let (k, v) = item?;
                    if !k.value().starts_with(prefix.as_str()) {
                        break;
                    }
                    out.push((k.value().to_string(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// One target.
    pub fn target(&self, post: &str, account: &str) -> Result<Option<TargetRecord>, StateError> {
        let key = target_key(post, account);
        let raw = self.read(|tx| {
            Ok(tx
                .open_table(TARGETS)?
                .get(key.as_str())?
                .map(|v| v.value().to_vec()))
        })?;
        raw.map(|v| self.decode(&key, &v)).transpose()
    }

    /// Every post record, sorted by id.
    pub fn posts(&self) -> Result<Vec<PostRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let t = tx.open_table(POSTS)?;
            t.iter()?
                .map(|i| i.map(|(k, v)| (k.value().to_string(), v.value().to_vec())))
                .collect::<Result<_, _>>()
                .map_err(Into::into)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// The records of the given posts that exist, in one read.
    pub fn posts_of(&self, ids: &[&str]) -> Result<Vec<PostRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let t = tx.open_table(POSTS)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(v) = t.get(*id)? {
                    out.push((id.to_string(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// One post record.
    pub fn post(&self, id: &str) -> Result<Option<PostRecord>, StateError> {
        let raw = self.read(|tx| Ok(tx.open_table(POSTS)?.get(id)?.map(|v| v.value().to_vec())))?;
        raw.map(|v| self.decode(id, &v)).transpose()
    }

    /// The earliest due target: one range read on the due index.
    pub fn next_due(&self) -> Result<Option<(DateTime<Utc>, String)>, StateError> {
        self.read(|tx| {
            let t = tx.open_table(DUE)?;
            Ok(t.first()?.and_then(|(k, _)| {
                let (ms, key) = k.value();
                from_ms(ms).map(|t| (t, key.to_string()))
            }))
        })
    }

    /// Targets due at or before `until`, earliest first, with their times.
    pub fn due_until(
        &self,
        until: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, String)>, StateError> {
        let end = to_ms(until);
        self.read(|tx| {
            let t = tx.open_table(DUE)?;
            let mut out = Vec::new();
            for item in t.range((i64::MIN, "")..=(end, "\u{10FFFF}"))? {
                let (k, _) = item?;
                let (ms, key) = k.value();
                if let Some(t) = from_ms(ms) {
                    out.push((t, key.to_string()));
                }
            }
            Ok(out)
        })
    }

    /// The targets due at or before `until`, earliest first, with their due
    /// times: one read of the index and the records.
    pub fn due_targets_until(
        &self,
        until: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, TargetRecord)>, StateError> {
        let end = to_ms(until);
        let raw: Vec<(i64, String, Vec<u8>)> = self.read(|tx| {
            let due = tx.open_table(DUE)?;
            let targets = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            for item in due.range((i64::MIN, "")..=(end, "\u{10FFFF}"))? {
                let (k, _) = item?;
                let (ms, key) = k.value();
                if let Some(v) = targets.get(key)? {
                    out.push((ms, key.to_string(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        raw.iter()
            .filter_map(|(ms, k, v)| from_ms(*ms).map(|t| (t, k, v)))
            .map(|(t, k, v)| Ok((t, self.decode(k, v)?)))
            .collect()
    }

    /// Every upcoming target in due order (the timeline), up to `limit`.
    pub fn timeline(&self, limit: usize) -> Result<Vec<TargetRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let due = tx.open_table(DUE)?;
            let targets = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            for item in due.iter()?.take(limit) {
                let (k, _) = item?;
                let key = k.value().1.to_string();
                if let Some(v) = targets.get(key.as_str())? {
                    out.push((key, v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// Posted targets whose published.toml entry is not written yet.
    pub fn ledger_pending(&self) -> Result<Vec<TargetRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let pending = tx.open_table(LEDGER_PENDING)?;
            let targets = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            for item in pending.iter()? {
                let (k, _) = item?;
                if let Some(v) = targets.get(k.value())? {
                    out.push((k.value().to_string(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        raw.iter().map(|(k, v)| self.decode(k, v)).collect()
    }

    /// Writes what `published.toml` must record of the targets changed
    /// since it was last written, in one locked update: publications,
    /// cancels, retries, and targets failed or unconfirmed for good.
    /// Entries that cannot be written stay pending for the next call.
    pub fn flush_ledger(
        &self,
        root: &Path,
        now: DateTime<Utc>,
    ) -> Result<usize, ledger::LedgerWriteError> {
        let pending = self
            .ledger_pending()
            .map_err(|e| ledger::LedgerWriteError::Io(std::io::Error::other(e.to_string())))?;
        if pending.is_empty() {
            return Ok(0);
        }
        let keys: Vec<String> = pending.iter().map(TargetRecord::key).collect();
        let entries: Vec<_> = pending
            .into_iter()
            .filter_map(|t| {
                let entry = ledger_entry(&t, now)?;
                Some((t.post_id, t.account, entry))
            })
            .collect();
        let n = entries.len();
        ledger::Ledger::update(root, entries)?;
        if let Err(e) = self.ledger_written(&keys) {
            tracing::error!("published.toml is written, but the store could not note it: {e}");
        }
        Ok(n)
    }

    /// Marks ledger entries as written.
    pub fn ledger_written(&self, keys: &[String]) -> Result<(), StateError> {
        self.write(|tx| {
            let mut pending = tx.open_table(LEDGER_PENDING)?;
            for k in keys {
                pending.remove(k.as_str())?;
            }
            Ok(())
        })
    }

    /// Makes sure a post published outside the posts directory (standard
    /// input) has its record and targets, without touching existing ones.
    pub fn ensure_targets(&self, post: &PostRecord) -> Result<(), StateError> {
        self.write(|tx| {
            let mut posts = tx.open_table(POSTS)?;
            if posts.get(post.id.as_str())?.is_none() {
                posts.insert(post.id.as_str(), json(post).as_slice())?;
            }
            let mut targets = tx.open_table(TARGETS)?;
            for account in &post.accounts {
                let key = target_key(&post.id, account);
                if targets.get(key.as_str())?.is_none() {
                    let t = TargetRecord {
                        post_id: post.id.clone(),
                        account: account.clone(),
                        status: TargetStatus::Scheduled,
                        due: None,
                        slot: None,
                        attempts: 0,
                        next_attempt: None,
                        last_error: None,
                        parts: Vec::new(),
                        idempotency_key: None,
                        first_claimed: None,
                        posted_at: None,
                        content_hash: post.content_hash.clone(),
                        claimed_by: None,
                        lease_until: None,
                        uncertain: false,
                        planned: None,
                        waiting_for_login: false,
                        removal: None,
                        deleted: Vec::new(),
                        deleted_at: None,
                        edited_at: None,
                        generation: 0,
                    };
                    targets.insert(key.as_str(), json(&t).as_slice())?;
                }
            }
            Ok(())
        })
    }

    /// Cancels targets of a post (all, or one account). Posted and in-flight
    /// targets are refused with the reason.
    pub fn cancel(
        &self,
        post: &str,
        account: Option<&str>,
    ) -> Result<Vec<Result<TargetRecord, String>>, StateError> {
        self.modify(post, account, |t| match t.status {
            TargetStatus::Posted => Err(format!(
                "{} was already posted to {}{}; a published post cannot be cancelled, delete it on the platform instead",
                t.post_id,
                t.account,
                t.parts.first().and_then(|p| p.url.as_deref()).map(|u| format!(" ({u})")).unwrap_or_default()
            )),
            TargetStatus::Posting => Err(format!(
                "{} is being published to {} right now; wait for it to finish",
                t.post_id, t.account
            )),
            TargetStatus::Cancelled => Err(format!("{} to {} is already cancelled", t.post_id, t.account)),
            TargetStatus::Deleting | TargetStatus::Deleted => Err(format!(
                "{} was published to {} and is {}; there is nothing to cancel",
                t.post_id, t.account, t.state()
            )),
            _ => {
                t.status = TargetStatus::Cancelled;
                t.due = None;
                Ok(())
            }
        })
    }

    /// Asks for published targets of a post to be taken back (all, or
    /// those of `accounts`): each goes to `deleting`, due now. A target
    /// being deleted already is due again now; one that was never published
    /// is refused with the reason. Writes nothing to the network.
    pub fn request_delete(
        &self,
        post: &str,
        accounts: Option<&[String]>,
        why: RemovalReason,
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<TargetRecord, String>>, StateError> {
        let now_ms = to_ms(now);
        let keys: Vec<String> = self
            .targets(Some(post))?
            .iter()
            .filter(|t| accounts.is_none_or(|a| a.contains(&t.account)))
            .map(TargetRecord::key)
            .collect();
        self.modify_keys(&keys, |t| request_removal(t, why, now_ms))
    }

    /// Records that the published target was edited to the post with
    /// `content_hash`: written to published.toml, so that no clone edits
    /// it again for the same text.
    pub fn record_edit(
        &self,
        post: &str,
        account: &str,
        content_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<TargetRecord>, StateError> {
        let key = target_key(post, account);
        let now_ms = to_ms(now);
        let found = self.write(|tx| {
            claims::Targets::open(tx)?.change(&key, |t| {
                if t.status != TargetStatus::Posted {
                    return None;
                }
                t.content_hash = content_hash.to_string();
                t.edited_at = Some(now_ms);
                t.last_error = None;
                t.due = None;
                t.next_attempt = None;
                Some(t.clone())
            })
        })?;
        match found {
            claims::Found::Missing => Ok(None),
            claims::Found::Corrupt(m) => Err(self.corrupt(&key, m)),
            claims::Found::Done(t) => Ok(t),
        }
    }

    /// Records an edit that failed: tried again at `retry_at` (a failure
    /// that passes, when the edit was applied by `publish --due`), else
    /// left for the next change of the file or `social edit`.
    pub fn edit_failed(
        &self,
        post: &str,
        account: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StateError> {
        let key = target_key(post, account);
        let found = self.write(|tx| {
            claims::Targets::open(tx)?.change(&key, |t| {
                if t.status != TargetStatus::Posted {
                    return None;
                }
                t.last_error = Some(format!("edit failed: {error}"));
                t.next_attempt = retry_at.map(to_ms);
                t.due = t.next_attempt;
                Some(())
            })
        })?;
        match found {
            claims::Found::Corrupt(m) => Err(self.corrupt(&key, m)),
            _ => Ok(()),
        }
    }

    /// Puts failed or cancelled targets back on the schedule: due at their
    /// time if it is still ahead, else now.
    pub fn retry(
        &self,
        post: &str,
        account: Option<&str>,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Vec<Result<TargetRecord, String>>, StateError> {
        let now_ms = to_ms(now);
        let posts = self.post(post)?;
        let withdrawn = posts.as_ref().is_some_and(|p| p.withdrawn);
        self.modify(post, account, |t| match t.status {
            TargetStatus::Deleted if !force => Err(format!(
                "{} was deleted from {}; `social retry {} --force` publishes it again",
                t.post_id, t.account, t.post_id
            )),
            TargetStatus::Deleted if withdrawn => Err(format!(
                "{}'s file says `status: withdrawn`; set `status: ready` to publish it again",
                t.post_id
            )),
            TargetStatus::Deleted => {
                if posts.as_ref().is_none_or(|p| p.path.is_none()) {
                    return Err(format!(
                        "the file of {} is gone: there is nothing to publish again",
                        t.post_id
                    ));
                }
                republish(t, t.generation + 1, Some(now_ms));
                // It goes out as the file is now.
                if let Some(p) = &posts {
                    t.content_hash = p.content_hash.clone();
                }
                Ok(())
            }
            TargetStatus::Failed
            | TargetStatus::Cancelled
            | TargetStatus::Unconfirmed
            | TargetStatus::Missed => {
                // The user has checked the account: publish it again.
                t.uncertain = false;
                t.planned = None;
                let planned = posts.as_ref().and_then(|p| p.at).or(t.slot);
                t.status = TargetStatus::Scheduled;
                t.due = Some(planned.filter(|p| *p > now_ms).unwrap_or(now_ms));
                t.attempts = 0;
                t.next_attempt = None;
                t.last_error = None;
                Ok(())
            }
            TargetStatus::Posted => {
                Err(format!("{} was already posted to {}", t.post_id, t.account))
            }
            other => Err(format!(
                "{} to {} is {other}, not failed, unconfirmed or cancelled",
                t.post_id, t.account
            )),
        })
    }

    fn modify(
        &self,
        post: &str,
        account: Option<&str>,
        f: impl FnMut(&mut TargetRecord) -> Result<(), String>,
    ) -> Result<Vec<Result<TargetRecord, String>>, StateError> {
        let keys: Vec<String> = match account {
            Some(a) => vec![target_key(post, a)],
            None => self
                .targets(Some(post))?
                .iter()
                .map(TargetRecord::key)
                .collect(),
        };
        self.modify_keys(&keys, f)
    }

    fn modify_keys(
        &self,
        keys: &[String],
        mut f: impl FnMut(&mut TargetRecord) -> Result<(), String>,
    ) -> Result<Vec<Result<TargetRecord, String>>, StateError> {
        let found = self.write(|tx| {
            let mut targets = claims::Targets::open(tx)?;
            let mut out = Vec::new();
            for key in keys {
                let mut refused = None;
                let found = targets.change(key, |t| match f(t) {
                    Ok(()) => Some(t.clone()),
                    Err(m) => {
                        refused = Some(m);
                        None
                    }
                })?;
                out.push((key.clone(), found, refused));
            }
            Ok(out)
        })?;
        found
            .into_iter()
            .map(|(key, found, refused)| match found {
                claims::Found::Missing => Ok(Err(format!("{key}: no such target"))),
                claims::Found::Corrupt(m) => Err(self.corrupt(&key, m)),
                claims::Found::Done(Some(t)) => Ok(Ok(t)),
                claims::Found::Done(None) => Ok(Err(refused.unwrap_or_default())),
            })
            .collect()
    }

    /// A value from the meta table.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.read(|tx| Ok(tx.open_table(META)?.get(key)?.map(|v| v.value().to_vec())))
    }

    /// Sets a value in the meta table.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> Result<(), StateError> {
        self.write(|tx| {
            tx.open_table(META)?.insert(key, value)?;
            Ok(())
        })
    }
}

/// What `published.toml` records of `t`: `Some(Some(entry))` to write,
/// `Some(None)` to remove a settled entry (the target is in play again, and
/// nothing records a retry for it), `None` to leave the file as it is (a
/// target being published or a draft).
fn ledger_entry(t: &TargetRecord, now: DateTime<Utc>) -> Option<Option<ledger::LedgerEntry>> {
    use ledger::{LedgerEntry, Settled};
    let rfc = |ms: Option<i64>| {
        ms.and_then(from_ms)
            .unwrap_or(now)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let ids = t.parts.iter().map(|p| p.id.clone()).collect();
    let urls = t
        .parts
        .iter()
        .filter_map(|p| p.url.clone())
        .collect::<Vec<_>>();
    let urls = if urls.len() == t.parts.len() {
        urls
    } else {
        Vec::new()
    };
    let settled = |status| LedgerEntry {
        status: Some(status),
        at: rfc(None),
        reason: t.last_error.clone().unwrap_or_default(),
        ids: t.parts.iter().map(|p| p.id.clone()).collect(),
        urls: urls.clone(),
        content_hash: t.content_hash.clone(),
        ..LedgerEntry::default()
    };
    let publication = LedgerEntry {
        published_at: rfc(t.posted_at),
        ids,
        urls: urls.clone(),
        content_hash: t.content_hash.clone(),
        ..LedgerEntry::default()
    };
    let publication = LedgerEntry {
        edited_at: t.edited_at.map(|e| rfc(Some(e))).unwrap_or_default(),
        generation: t.generation,
        ..publication
    };
    Some(Some(match t.status {
        TargetStatus::Posted => publication,
        TargetStatus::Deleting | TargetStatus::Deleted => {
            let mut deleted: Vec<usize> = t.deleted.iter().map(|i| i + 1).collect();
            deleted.sort_unstable();
            LedgerEntry {
                delete_requested_at: t
                    .removal
                    .as_ref()
                    .map(|r| rfc(Some(r.requested_at)))
                    .unwrap_or_else(|| rfc(None)),
                removal: t
                    .removal
                    .as_ref()
                    .map(|r| r.why.as_str().to_string())
                    .unwrap_or_default(),
                deleted_at: if t.status == TargetStatus::Deleted {
                    rfc(t.deleted_at)
                } else {
                    String::new()
                },
                deleted_parts: if t.status == TargetStatus::Deleted {
                    Vec::new()
                } else {
                    deleted
                },
                ..publication
            }
        }
        TargetStatus::Cancelled => LedgerEntry {
            reason: String::new(),
            ..settled(Settled::Cancelled)
        },
        TargetStatus::Failed => settled(Settled::Failed),
        TargetStatus::Unconfirmed => settled(Settled::Unconfirmed),
        TargetStatus::Missed => LedgerEntry {
            at: rfc(t.planned.or(t.due)),
            ..settled(Settled::Missed)
        },
        // Back in play from a settled state: a retry, due at its time.
        TargetStatus::Scheduled | TargetStatus::Queued => match t.due {
            Some(due) => LedgerEntry {
                reason: String::new(),
                at: rfc(Some(due)),
                generation: t.generation,
                ..settled(Settled::Retried)
            },
            None => return Some(None),
        },
        TargetStatus::Posting | TargetStatus::Draft | TargetStatus::Withdrawn => return None,
    }))
}

/// Moves a published (or partly published) target to `deleting`, due at
/// `now_ms`; the reason a target cannot be taken back otherwise.
pub(crate) fn request_removal(
    t: &mut TargetRecord,
    why: RemovalReason,
    now_ms: i64,
) -> Result<(), String> {
    let what = format!("{} to {}", t.post_id, t.account);
    match t.status {
        TargetStatus::Deleted => return Err(format!("{what} is deleted already")),
        TargetStatus::Posting => {
            return Err(format!(
                "{what} is being published right now; run this again when it is done"
            ));
        }
        TargetStatus::Deleting => {}
        _ if t.parts.is_empty() => {
            return Err(format!("{what} was never published ({})", t.state()));
        }
        _ => {
            t.removal = Some(Removal {
                why,
                requested_at: now_ms,
            });
        }
    }
    if t.removal.is_none() {
        t.removal = Some(Removal {
            why,
            requested_at: now_ms,
        });
    }
    t.status = TargetStatus::Deleting;
    t.due = Some(now_ms);
    t.next_attempt = None;
    t.attempts = 0;
    t.uncertain = false;
    t.waiting_for_login = false;
    Ok(())
}

/// Marks a failed attempt: due again at `retry_at`, or failed for good.
fn failed(t: &mut TargetRecord, error: &str, retry_at: Option<DateTime<Utc>>) {
    t.last_error = Some(error.to_string());
    t.waiting_for_login = false;
    match retry_at {
        Some(at) => {
            let ms = to_ms(at);
            t.status = TargetStatus::Scheduled;
            t.next_attempt = Some(ms);
            t.due = Some(ms);
        }
        None => {
            t.status = TargetStatus::Failed;
            t.next_attempt = None;
            t.due = None;
        }
    }
}

/// This process, as `host:pid` (for messages; claims carry a lock token too).
pub fn process_tag() -> String {
    format!("{}:{}", claims::host(), std::process::id())
}

/// A key that identifies one publication of one post to one account, stable
/// across processes and machines: made only of what every machine with the
/// repository shares (the post id and the account). Not of the text: a post
/// edited on one machine but not yet on the other still gets one key, so the
/// second machine finds the first one's post (with the text it was sent
/// with) instead of sending a second copy, and line endings or an edit to
/// another platform's variant cannot split it in two.
pub fn idempotency_key(post_id: &str, account: &str) -> String {
    let h = xxhash_rust::xxh3::xxh3_128(format!("{post_id}\n{account}").as_bytes());
    format!("social-{h:032x}")
}

/// The idempotency key of a target's `generation`-th publication: the
/// first has the plain key; one published again after a deletion has
/// `-g<generation>` after it (which Bluesky's record keys read too).
pub fn idempotency_key_of(post_id: &str, account: &str, generation: u32) -> String {
    let key = idempotency_key(post_id, account);
    if generation == 0 {
        key
    } else {
        format!("{key}-g{generation}")
    }
}

/// Makes a deleted target new again, as its `generation`-th publication,
/// due at `due`: nothing of the deleted one is kept but the history count.
pub(crate) fn republish(t: &mut TargetRecord, generation: u32, due: Option<i64>) {
    t.generation = generation;
    t.status = TargetStatus::Scheduled;
    t.due = due;
    t.parts.clear();
    t.deleted.clear();
    t.removal = None;
    t.deleted_at = None;
    t.edited_at = None;
    t.idempotency_key = None;
    t.first_claimed = None;
    t.posted_at = None;
    t.attempts = 0;
    t.next_attempt = None;
    t.last_error = None;
    t.uncertain = false;
    t.planned = None;
    t.waiting_for_login = false;
    t.claimed_by = None;
    t.lease_until = None;
}
