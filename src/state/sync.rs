//! Sync: bring the store in line with the post files and the ledger.
//!
//! New posts are scheduled, changed ones rescheduled (unless posted), deleted
//! and draft ones unscheduled; unchanged files are skipped on their size and
//! modification time without being read. Posts with validation errors are
//! not scheduled, and their problems are reported on every sync.

use super::RemovalReason;
use super::claims::Targets;
use super::ledger::Ledger;
use super::ledger::{LedgerEntry, Settled};
use super::{
    FILES, FileRecord, META, POSTS, PostRecord, PublishedPart, StateError, Store, TargetRecord,
    TargetStatus, json, to_ms,
};
use crate::config::{Config, ConfigError};
use crate::content::Status;
use crate::diag::{Diagnostic, Pos, Severity};
use crate::schedule::{self, Waiting};
use crate::validate::{self, Options};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use redb::ReadableTable;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// What a sync did and found.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Post files seen.
    pub files: usize,
    /// Files read because they were new or changed.
    pub read: usize,
    /// Posts whose schedule was written.
    pub updated: usize,
    /// Posts gone from the files.
    pub removed: usize,
    /// Problems in the files (stored ones included), in path order.
    pub diagnostics: Vec<Diagnostic>,
    /// Posts kept off the schedule by errors.
    pub blocked: Vec<String>,
    /// Ready posts with neither `at` nor a queue: published with `social post`.
    pub on_demand: Vec<String>,
}

/// Why a sync could not run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn hash64(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

fn rel_key(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.to_string_lossy().replace('\\', "/")
}

struct Seen {
    key: String,
    path: PathBuf,
    mtime_ns: i128,
    size: u64,
}

enum Fresh {
    /// Size and time unchanged: the stored record stands.
    Same,
    /// Read again but the bytes are unchanged.
    Touched(FileRecord),
    /// New or changed: parsed and checked.
    Changed(FileRecord, Option<Box<PostRecord>>),
}

/// Syncs the project's post files and ledger into the store, in phases:
/// scan the files, load what the store holds, read what changed, check ids
/// across files, place queued posts in their slots, and write the changes in
/// one transaction.
pub fn sync(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
    let seen = scan(config)?;
    let sources = Sources::read(config);
    let stored = Stored::load(store, &sources)?;
    let fresh = read_changed(&seen, &stored, config);
    let mut report = SyncReport {
        files: seen.len(),
        ..Default::default()
    };
    let mut desired = Desired::collect(&seen, fresh, &stored, &mut report);

    // The ledger matters when it changed or when posts are new or changed.
    let ledger = if stored.ledger_changed || stored.config_changed || !desired.changed.is_empty() {
        Ledger::parse(
            &sources.ledger_path,
            &String::from_utf8_lossy(&sources.ledger_bytes),
        )?
    } else {
        Ledger::default()
    };
    desired.one_id_one_file(&config.root, &mut report);
    desired.refuse_renamed(&stored, &ledger, &mut report);
    let slots = desired.queue_slots(store, config, now)?;
    let mut changes = Changes::plan(&seen, &mut desired, &stored, &ledger, now);
    changes.apply_edits = config.apply_edits;
    changes.summarize(&desired, &mut report);
    if changes.is_empty(&desired) {
        return Ok(report);
    }
    changes.write(store, &desired, &stored, &ledger, &slots, &sources)?;
    Ok(report)
}

/// The post files under the posts directory, with their size and time.
fn scan(config: &Config) -> Result<Vec<Seen>, SyncError> {
    let posts_dir = config.posts_path();
    let paths = if posts_dir.is_dir() {
        crate::content::files::post_files(&posts_dir).map_err(|source| SyncError::Io {
            path: posts_dir.clone(),
            source,
        })?
    } else {
        Vec::new()
    };
    Ok(paths
        .par_iter()
        .filter_map(|p| {
            let md = std::fs::metadata(p).ok()?;
            let mtime_ns = md
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i128)
                .unwrap_or(0);
            Some(Seen {
                key: rel_key(&config.root, p),
                path: p.clone(),
                mtime_ns,
                size: md.len(),
            })
        })
        .collect())
}

/// social.toml and published.toml as read for this sync, with their hashes.
struct Sources {
    config_hash: [u8; 8],
    ledger_path: PathBuf,
    ledger_bytes: Vec<u8>,
    ledger_hash: [u8; 8],
}

impl Sources {
    fn read(config: &Config) -> Sources {
        let config_bytes = std::fs::read(&config.path).unwrap_or_default();
        let ledger_path = Ledger::path(&config.root);
        let ledger_bytes = std::fs::read(&ledger_path).unwrap_or_default();
        Sources {
            config_hash: hash64(&config_bytes).to_le_bytes(),
            ledger_hash: hash64(&ledger_bytes).to_le_bytes(),
            ledger_path,
            ledger_bytes,
        }
    }
}

/// What the store holds before the sync.
struct Stored {
    files: HashMap<String, FileRecord>,
    posts: HashMap<String, PostRecord>,
    config_changed: bool,
    ledger_changed: bool,
}

impl Stored {
    fn load(store: &Store, sources: &Sources) -> Result<Stored, SyncError> {
        let (files, posts, meta_config, meta_ledger) = store.read(|tx| {
            let files = tx.open_table(FILES)?;
            let mut fs = HashMap::new();
            for item in files.iter()? {
                let (k, v) = item?;
                fs.insert(k.value().to_string(), v.value().to_vec());
            }
            let posts = tx.open_table(POSTS)?;
            let mut ps = HashMap::new();
            for item in posts.iter()? {
                let (k, v) = item?;
                ps.insert(k.value().to_string(), v.value().to_vec());
            }
            let meta = tx.open_table(META)?;
            let mc = meta.get("config_hash")?.map(|v| v.value().to_vec());
            let ml = meta.get("ledger_hash")?.map(|v| v.value().to_vec());
            Ok((fs, ps, mc, ml))
        })?;
        // An unreadable file or post record is rebuilt from its file: both
        // are caches of what the files say.
        Ok(Stored {
            files: files
                .into_iter()
                .filter_map(|(k, v)| store.decode(&k, &v).ok().map(|r| (k, r)))
                .collect(),
            posts: posts
                .into_iter()
                .filter_map(|(k, v)| store.decode(&k, &v).ok().map(|r| (k, r)))
                .collect(),
            config_changed: meta_config.as_deref() != Some(sources.config_hash.as_slice()),
            ledger_changed: meta_ledger.as_deref() != Some(sources.ledger_hash.as_slice()),
        })
    }
}

/// Reads and checks the files that are new or changed (in parallel); an
/// unchanged size and time keeps the stored record without reading.
fn read_changed(seen: &[Seen], stored: &Stored, config: &Config) -> Vec<Fresh> {
    seen.par_iter()
        .map(|s| {
            let old = stored.files.get(&s.key);
            let had_errors = old.is_some_and(|r| r.diagnostics.iter().any(Diagnostic::is_error));
            if !stored.config_changed
                && !had_errors
                && old.is_some_and(|r| r.mtime_ns == s.mtime_ns && r.size == s.size)
            {
                return Fresh::Same;
            }
            check(s, old, config, stored.config_changed || had_errors)
        })
        .collect()
}

/// The posts as the files ask for them.
struct Desired {
    /// Post records by id.
    posts: BTreeMap<String, PostRecord>,
    /// The files that claim each id.
    claimed_by: HashMap<String, Vec<String>>,
    /// Posts whose records (or targets) must be written.
    changed: BTreeSet<String>,
    /// File records to write.
    file_updates: Vec<(String, FileRecord)>,
}

impl Desired {
    fn collect(
        seen: &[Seen],
        fresh: Vec<Fresh>,
        stored: &Stored,
        report: &mut SyncReport,
    ) -> Desired {
        let mut d = Desired {
            posts: BTreeMap::new(),
            claimed_by: HashMap::new(),
            changed: BTreeSet::new(),
            file_updates: Vec::new(),
        };
        for (s, f) in seen.iter().zip(fresh) {
            let (rec, post) = match f {
                Fresh::Same => {
                    let rec = stored.files[&s.key].clone();
                    let post = stored_post(&rec, &stored.posts);
                    (rec, post)
                }
                Fresh::Touched(rec) => {
                    report.read += 1;
                    d.file_updates.push((s.key.clone(), rec.clone()));
                    let post = stored_post(&rec, &stored.posts);
                    (rec, post)
                }
                Fresh::Changed(rec, post) => {
                    let post = post.map(|p| *p);
                    report.read += 1;
                    d.file_updates.push((s.key.clone(), rec.clone()));
                    if let Some(p) = &post {
                        d.changed.insert(p.id.clone());
                    }
                    (rec, post)
                }
            };
            report.diagnostics.extend(rec.diagnostics.iter().cloned());
            if let Some(p) = post {
                d.claimed_by
                    .entry(p.id.clone())
                    .or_default()
                    .push(s.key.clone());
                d.posts.insert(p.id.clone(), p);
            }
        }
        d
    }

    /// One id, one file: every file that shares an id gets an error.
    fn one_id_one_file(&mut self, root: &Path, report: &mut SyncReport) {
        for (id, files) in &self.claimed_by {
            if files.len() < 2 {
                continue;
            }
            for f in files {
                let others: Vec<&str> = files
                    .iter()
                    .filter(|o| *o != f)
                    .map(String::as_str)
                    .collect();
                let d = Diagnostic::error(
                    &crate::content::files::display_path(&root.join(f)),
                    Pos::line(1),
                    format!("post id `{id}` is also used by {}", others.join(", ")),
                )
                .with_help("every post needs its own `id`; change one of them");
                report.diagnostics.push(d.clone());
                if let Some(p) = self.posts.get_mut(id) {
                    p.errors.push(d);
                }
            }
            self.changed.insert(id.clone());
        }
    }

    /// A renamed post that lost its id must not be published again.
    fn refuse_renamed(&mut self, stored: &Stored, ledger: &Ledger, report: &mut SyncReport) {
        for (id, p) in self.posts.iter_mut() {
            let known = stored.posts.contains_key(id) || ledger.posts.contains_key(id);
            if known || !p.errors.is_empty() {
                continue;
            }
            if let Some((old, account)) = ledger.find_by_hash(&p.content_hash, id) {
                let d = Diagnostic::error(
                    Path::new(p.path.as_deref().unwrap_or(id)),
                    Pos::line(1),
                    format!("this post was already published as `{old}` (to {account}, see published.toml)"),
                )
                .with_help(format!(
                    "if you renamed the file, add `id: {old}` to keep its identity; to publish the text again as a new post, change it"
                ));
                report.diagnostics.push(d.clone());
                p.errors.push(d);
            }
        }
    }

    /// Queue slots for every post waiting in a queue: (slot, queue paused).
    fn queue_slots(
        &mut self,
        store: &Store,
        config: &Config,
        now: DateTime<Utc>,
    ) -> Result<HashMap<String, (Option<i64>, bool)>, SyncError> {
        let queued_ids: Vec<&str> = self
            .posts
            .values()
            .filter(|p| {
                p.queue
                    .as_deref()
                    .is_some_and(|q| config.queues.contains_key(q))
                    && p.at.is_none()
            })
            .map(|p| p.id.as_str())
            .collect();
        let stored_targets = store.targets_of(&queued_ids)?;
        let held: HashMap<&str, i64> = stored_targets
            .iter()
            .filter_map(|t| t.slot.map(|s| (t.post_id.as_str(), s)))
            .collect();
        let posted_ids: BTreeSet<&str> = stored_targets
            .iter()
            .filter(|t| t.status == TargetStatus::Posted)
            .map(|t| t.post_id.as_str())
            .collect();
        let grace =
            chrono::Duration::from_std(config.catch_up).unwrap_or(chrono::Duration::hours(1));
        let mut slots = HashMap::new();
        for (name, q) in &config.queues {
            let mut waiting: Vec<(&Option<i64>, &str, &PostRecord)> = self
                .posts
                .values()
                .filter(|p| {
                    p.queue.as_deref() == Some(name.as_str())
                        && p.at.is_none()
                        && !p.draft
                        && p.errors.is_empty()
                })
                .filter(|p| !posted_ids.contains(p.id.as_str()) || held.contains_key(p.id.as_str()))
                .map(|p| (&p.position, p.path.as_deref().unwrap_or(""), p))
                .collect();
            // Queue order: `position` first (posts without one after), then file path.
            waiting.sort_by(|a, b| {
                let ka = (a.0.is_none(), a.0.unwrap_or(0), a.1);
                let kb = (b.0.is_none(), b.0.unwrap_or(0), b.1);
                ka.cmp(&kb)
            });
            let list: Vec<Waiting> = waiting
                .iter()
                .map(|(_, _, p)| Waiting {
                    id: p.id.clone(),
                    slot: held.get(p.id.as_str()).copied().and_then(super::from_ms),
                })
                .collect();
            let assigned = schedule::assign(q, &list, now, grace);
            for w in &list {
                let slot = assigned.get(&w.id).map(|t| to_ms(*t));
                if slot != w.slot.map(to_ms) {
                    self.changed.insert(w.id.clone());
                }
                slots.insert(w.id.clone(), (slot, q.paused));
            }
        }
        Ok(slots)
    }
}

/// What a sync writes.
struct Changes {
    /// Posts gone from the files.
    removed: Vec<String>,
    /// File records of files that are gone.
    gone_files: Vec<String>,
    config_changed: bool,
    ledger_changed: bool,
    /// The sync's time (ms): when a withdrawn post's deletion is due.
    now_ms: i64,
    /// `edits = "apply"` in social.toml.
    apply_edits: bool,
}

impl Changes {
    fn plan(
        seen: &[Seen],
        desired: &mut Desired,
        stored: &Stored,
        ledger: &Ledger,
        now: DateTime<Utc>,
    ) -> Changes {
        for (id, p) in &desired.posts {
            if stored.posts.get(id) != Some(p) {
                desired.changed.insert(id.clone());
            }
        }
        let removed = stored
            .posts
            .keys()
            .filter(|id| !desired.posts.contains_key(*id))
            .cloned()
            .collect();
        let seen_keys: std::collections::HashSet<&str> =
            seen.iter().map(|s| s.key.as_str()).collect();
        let gone_files = stored
            .files
            .keys()
            .filter(|k| !seen_keys.contains(k.as_str()))
            .cloned()
            .collect();
        // A changed ledger can mark any post published.
        if stored.ledger_changed {
            for id in ledger.posts.keys() {
                if desired.posts.contains_key(id) {
                    desired.changed.insert(id.clone());
                }
            }
        }
        Changes {
            removed,
            gone_files,
            config_changed: stored.config_changed,
            ledger_changed: stored.ledger_changed,
            now_ms: to_ms(now),
            apply_edits: false,
        }
    }

    fn summarize(&self, desired: &Desired, report: &mut SyncReport) {
        report.removed = self.removed.len();
        report.updated = desired.changed.len();
        report.on_demand = desired
            .posts
            .values()
            .filter(|p| p.at.is_none() && p.queue.is_none() && !p.draft && p.errors.is_empty())
            .map(|p| p.id.clone())
            .collect();
        report.blocked = desired
            .posts
            .values()
            .filter(|p| !p.errors.is_empty())
            .map(|p| p.id.clone())
            .collect();
        report
            .diagnostics
            .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
        report.diagnostics.dedup();
    }

    /// Whether the store already says what the files say.
    fn is_empty(&self, desired: &Desired) -> bool {
        desired.changed.is_empty()
            && desired.file_updates.is_empty()
            && self.removed.is_empty()
            && self.gone_files.is_empty()
            && !self.config_changed
            && !self.ledger_changed
    }

    /// Writes everything in one transaction. Target records go through the
    /// store's one write path; a target record that cannot be read is left
    /// as it is (never overwritten with a fresh schedule, which could send a
    /// published post again) and fails the sync with the way out.
    fn write(
        &self,
        store: &Store,
        desired: &Desired,
        stored: &Stored,
        ledger: &Ledger,
        slots: &HashMap<String, (Option<i64>, bool)>,
        sources: &Sources,
    ) -> Result<(), SyncError> {
        let now_ms = self.now_ms;
        let corrupt = store.write(|tx| {
            let mut files = tx.open_table(FILES)?;
            for (k, rec) in &desired.file_updates {
                files.insert(k.as_str(), json(rec).as_slice())?;
            }
            for k in &self.gone_files {
                files.remove(k.as_str())?;
            }
            drop(files);
            let mut posts = tx.open_table(POSTS)?;
            let mut targets = Targets::open(tx)?;
            let mut corrupt = None;
            for id in &desired.changed {
                let Some(p) = desired.posts.get(id) else {
                    continue;
                };
                let existing = match targets.of_post(id)? {
                    Ok(t) => t,
                    Err(bad) => {
                        corrupt.get_or_insert(bad);
                        continue;
                    }
                };
                posts.insert(id.as_str(), json(p).as_slice())?;
                // Targets for accounts the post no longer names go, unless final.
                for t in &existing {
                    let wanted = p.errors.is_empty() && p.accounts.contains(&t.account);
                    if !wanted && !keeps_history(t) {
                        targets.remove(t)?;
                    }
                }
                if !p.errors.is_empty() {
                    continue;
                }
                let slot = slots.get(id).copied();
                for account in &p.accounts {
                    let current = existing.iter().find(|t| &t.account == account);
                    let mut t = desired_target(p, account, current, slot);
                    if let Some(e) = ledger.get(id, account)
                        && !targets.ledger_pending(&t.key())?
                    {
                        t = from_ledger(t, e, p);
                    }
                    if p.withdrawn {
                        withdraw(&mut t, now_ms);
                    } else if self.apply_edits
                        && t.status == TargetStatus::Posted
                        && t.removal.is_none()
                        && !t.content_hash.is_empty()
                        && t.content_hash != p.content_hash
                    {
                        // `edits = "apply"`: the changed file is edited in.
                        t.due = Some(now_ms);
                    }
                    if current != Some(&t) {
                        targets.put(&t, current)?;
                    }
                }
            }
            for id in &self.removed {
                let gone = match targets.of_post(id)? {
                    Ok(t) => t,
                    Err(bad) => {
                        corrupt.get_or_insert(bad);
                        continue;
                    }
                };
                posts.remove(id.as_str())?;
                let mut kept_any = false;
                for t in gone {
                    if keeps_history(&t) {
                        kept_any = true;
                    } else {
                        targets.remove(&t)?;
                    }
                }
                if kept_any && let Some(old) = stored.posts.get(id) {
                    // Keep the record of a published post whose file is gone.
                    let mut old = old.clone();
                    old.path = None;
                    posts.insert(id.as_str(), json(&old).as_slice())?;
                }
            }
            let mut meta = tx.open_table(META)?;
            if corrupt.is_none() {
                meta.insert("config_hash", sources.config_hash.as_slice())?;
                meta.insert("ledger_hash", sources.ledger_hash.as_slice())?;
            }
            Ok(corrupt)
        })?;
        match corrupt {
            Some((key, message)) => Err(store.corrupt(&key, message).into()),
            None => Ok(()),
        }
    }
}

/// The stored record of an unchanged file's post, with the file's own errors
/// only: errors that involve other files (duplicate ids) are found afresh.
fn stored_post(rec: &FileRecord, stored_posts: &HashMap<String, PostRecord>) -> Option<PostRecord> {
    let mut p = rec
        .post_id
        .as_ref()
        .and_then(|id| stored_posts.get(id).cloned())?;
    p.errors = rec
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    Some(p)
}

/// Posted, in-flight, cancelled and deleted targets outlive edits of their post.
fn keeps_history(t: &TargetRecord) -> bool {
    matches!(
        t.status,
        TargetStatus::Posted
            | TargetStatus::Posting
            | TargetStatus::Cancelled
            | TargetStatus::Unconfirmed
            | TargetStatus::Deleting
            | TargetStatus::Deleted
    )
}

/// A withdrawn post's target: what was published of it is to be deleted
/// (once: a platform that refused to delete is not asked again); what was
/// not stays unpublished. One being published right now is left to finish
/// (the next sync of the file takes it back), and one that may be on the
/// platform stays for the user to check.
fn withdraw(t: &mut TargetRecord, now_ms: i64) {
    match t.status {
        TargetStatus::Posted if t.removal.is_some() => {}
        TargetStatus::Posting
        | TargetStatus::Unconfirmed
        | TargetStatus::Deleting
        | TargetStatus::Deleted => {}
        _ if !t.parts.is_empty() => {
            let _ = super::request_removal(t, RemovalReason::Withdrawn, now_ms);
        }
        _ => {
            t.status = TargetStatus::Withdrawn;
            t.due = None;
            t.next_attempt = None;
            t.waiting_for_login = false;
        }
    }
}

/// The target as the post file asks for it, keeping what the store knows.
fn desired_target(
    p: &PostRecord,
    account: &str,
    current: Option<&TargetRecord>,
    slot: Option<(Option<i64>, bool)>,
) -> TargetRecord {
    if let Some(c) = current {
        match c.status {
            TargetStatus::Posted
            | TargetStatus::Posting
            | TargetStatus::Cancelled
            | TargetStatus::Unconfirmed
            | TargetStatus::Deleting
            | TargetStatus::Deleted => {
                return c.clone();
            }
            // A failed target stays failed until its text changes (an edit is a
            // retry) or `social retry` puts it back.
            TargetStatus::Failed if c.content_hash == p.content_hash => return c.clone(),
            // A missed one likewise, or until its `at` moves.
            TargetStatus::Missed
                if c.content_hash == p.content_hash && (p.at.is_none() || p.at == c.planned) =>
            {
                return c.clone();
            }
            _ => {}
        }
    }
    let (status, due, slot_ms) = if p.withdrawn {
        (TargetStatus::Withdrawn, None, None)
    } else if p.draft {
        (TargetStatus::Draft, None, None)
    } else if let Some(at) = p.at {
        (TargetStatus::Scheduled, Some(at), None)
    } else if p.queue.is_some() {
        let (slot, paused) = slot.unwrap_or((None, false));
        (TargetStatus::Queued, if paused { None } else { slot }, slot)
    } else {
        (TargetStatus::Scheduled, None, None)
    };
    let mut t = current.cloned().unwrap_or_else(|| TargetRecord {
        post_id: p.id.clone(),
        account: account.to_string(),
        status,
        due: None,
        slot: None,
        attempts: 0,
        next_attempt: None,
        last_error: None,
        parts: Vec::new(),
        idempotency_key: None,
        first_claimed: None,
        posted_at: None,
        content_hash: p.content_hash.clone(),
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
    });
    let content_changed = t.content_hash != p.content_hash;
    if t.status == TargetStatus::Missed
        || (p.at.is_some() && t.planned.is_some() && p.at != t.planned)
    {
        // Missed, and the post now asks for another time (or other text):
        // a new plan, counted from its own time.
        t.planned = None;
        t.last_error = None;
        t.waiting_for_login = false;
    }
    t.status = status;
    // A pending retry keeps its time unless the post itself changed.
    t.due = match (t.next_attempt, content_changed) {
        (Some(n), false) if due.is_some() => Some(n.max(due.unwrap_or(n))),
        // Waiting for a login: its next look stays (its time is `planned`).
        (None, false) if t.waiting_for_login && due.is_some() => t.due.or(due),
        _ => due,
    };
    t.slot = slot_ms;
    if content_changed {
        t.content_hash = p.content_hash.clone();
        t.attempts = 0;
        t.next_attempt = None;
        t.last_error = None;
        // The idempotency key stays: it names the post and account, not the
        // text, so an edit on one machine cannot make a second copy.
    }
    t
}

/// The target as published.toml says it ended up (published, cancelled,
/// retried, failed or unconfirmed, on this machine or another), where the
/// store does not already know as much. A failed entry holds only while the
/// post is unchanged (an edit is a retry).
fn from_ledger(mut t: TargetRecord, e: &LedgerEntry, p: &PostRecord) -> TargetRecord {
    use TargetStatus as S;
    if e.generation < t.generation {
        // The store knows a newer publication than the file's entry.
        return t;
    }
    if e.generation > t.generation {
        // Deleted and published again on another machine (`retry --force`).
        let at = DateTime::parse_from_rfc3339(&e.at)
            .ok()
            .map(|d| d.timestamp_millis());
        super::republish(&mut t, e.generation, at);
        if p.queue.is_some() && p.at.is_none() {
            t.status = S::Queued;
        }
    }
    let Some(settled) = e.status else {
        let mut t = match t.status {
            S::Posted | S::Deleting | S::Deleted => t,
            _ => posted_from_ledger(t, e),
        };
        removal_from_ledger(&mut t, e);
        return t;
    };
    let open = matches!(t.status, S::Scheduled | S::Queued | S::Draft);
    let parts = |e: &LedgerEntry| -> Vec<PublishedPart> {
        e.ids
            .iter()
            .enumerate()
            .map(|(i, id)| PublishedPart {
                id: id.clone(),
                url: e.urls.get(i).cloned(),
                cid: None,
            })
            .collect()
    };
    let at = DateTime::parse_from_rfc3339(&e.at)
        .ok()
        .map(|d| d.timestamp_millis());
    match settled {
        Settled::Cancelled if open || matches!(t.status, S::Failed | S::Unconfirmed) => {
            t.status = S::Cancelled;
            t.due = None;
            t.next_attempt = None;
        }
        Settled::Failed if open && e.content_hash == p.content_hash => {
            t.status = S::Failed;
            t.due = None;
            t.next_attempt = None;
            t.last_error = Some(e.reason.clone()).filter(|r| !r.is_empty());
            if t.parts.len() < e.ids.len() {
                t.parts = parts(e);
            }
        }
        Settled::Unconfirmed if open || t.status == S::Failed => {
            t.status = S::Unconfirmed;
            t.due = None;
            t.next_attempt = None;
            t.uncertain = true;
            t.last_error = Some(e.reason.clone()).filter(|r| !r.is_empty());
            if t.parts.len() < e.ids.len() {
                t.parts = parts(e);
            }
        }
        Settled::Missed
            if open && e.content_hash == p.content_hash && (p.at.is_none() || p.at == at) =>
        {
            t.status = S::Missed;
            t.planned = at;
            t.due = None;
            t.next_attempt = None;
            t.last_error = Some(e.reason.clone()).filter(|r| !r.is_empty());
        }
        Settled::Retried => {
            // Parts out before the retry stay out: the thread resumes after them.
            if t.parts.len() < e.ids.len() && t.status != S::Posted {
                t.parts = parts(e);
            }
            if matches!(t.status, S::Failed | S::Cancelled | S::Unconfirmed) {
                // Retried on another machine.
                t.status = if p.queue.is_some() && p.at.is_none() {
                    S::Queued
                } else {
                    S::Scheduled
                };
                t.uncertain = false;
                t.attempts = 0;
                t.last_error = None;
                t.due = at;
            } else if open && t.status != S::Draft {
                // Due at the retry's time, unless the post now asks for later.
                t.due = match (t.due, at) {
                    (Some(d), Some(a)) => Some(d.max(a)),
                    (d, a) => d.or(a),
                };
            }
        }
        _ => {}
    }
    t
}

/// A deletion that published.toml records (asked for, under way or done,
/// on this machine or another), where the store knows less: a deleted
/// publication is never published or deleted again.
fn removal_from_ledger(t: &mut TargetRecord, e: &LedgerEntry) {
    if !e.is_removal() || t.status == TargetStatus::Deleted {
        return;
    }
    let at = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp_millis())
    };
    if t.removal.is_none() {
        t.removal = Some(super::Removal {
            why: RemovalReason::parse(&e.removal).unwrap_or(RemovalReason::Command),
            requested_at: at(&e.delete_requested_at)
                .or(at(&e.deleted_at))
                .unwrap_or(0),
        });
    }
    if e.is_deleted() {
        t.status = TargetStatus::Deleted;
        t.deleted = (0..t.parts.len()).collect();
        t.deleted_at = at(&e.deleted_at);
        t.due = None;
        t.next_attempt = None;
        t.claimed_by = None;
        t.lease_until = None;
        return;
    }
    for p in &e.deleted_parts {
        if let Some(i) = p.checked_sub(1)
            && !t.deleted.contains(&i)
        {
            t.deleted.push(i);
        }
    }
    t.deleted.sort_unstable();
    if t.status == TargetStatus::Posted {
        t.status = TargetStatus::Deleting;
        t.due = t.removal.as_ref().map(|r| r.requested_at);
        t.next_attempt = None;
        t.attempts = 0;
    }
}

fn posted_from_ledger(mut t: TargetRecord, e: &LedgerEntry) -> TargetRecord {
    t.status = TargetStatus::Posted;
    t.generation = e.generation;
    t.due = None;
    t.next_attempt = None;
    t.parts = e
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| PublishedPart {
            id: id.clone(),
            url: e.urls.get(i).cloned(),
            cid: None,
        })
        .collect();
    t.posted_at = DateTime::parse_from_rfc3339(&e.published_at)
        .ok()
        .map(|d| d.timestamp_millis());
    // What was published (or last edited in): a changed file is an edit.
    if !e.content_hash.is_empty() {
        t.content_hash = e.content_hash.clone();
    }
    t.edited_at = DateTime::parse_from_rfc3339(&e.edited_at)
        .ok()
        .map(|d| d.timestamp_millis());
    t
}

/// Reads and checks one new or changed file.
fn check(s: &Seen, old: Option<&FileRecord>, config: &Config, force: bool) -> Fresh {
    let display = crate::content::files::display_path(&s.path);
    let bytes = match crate::content::read_post_file(&s.path) {
        Ok(text) => text,
        Err(d) => {
            let rec = FileRecord {
                mtime_ns: s.mtime_ns,
                size: s.size,
                hash: 0,
                post_id: None,
                diagnostics: vec![Diagnostic { path: display, ..d }],
            };
            return Fresh::Changed(rec, None);
        }
    };
    let hash = hash64(bytes.as_bytes());
    if !force
        && let Some(o) = old
        && o.hash == hash
    {
        let mut rec = o.clone();
        rec.mtime_ns = s.mtime_ns;
        rec.size = s.size;
        return Fresh::Touched(rec);
    }
    let report = validate::check_text(&display, &bytes, config, &Options::default());
    let diagnostics = report.diagnostics;
    let post = report.checked.map(|c| {
        let errors: Vec<Diagnostic> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        Box::new(PostRecord {
            id: c.post.id.clone(),
            path: Some(s.key.clone()),
            title: c.post.title.clone(),
            content_hash: c.post.content_hash(),
            at: c.post.at.as_ref().map(|a| to_ms(a.instant)),
            queue: c.post.queue.clone(),
            position: c.post.position,
            draft: c.post.status == Status::Draft,
            withdrawn: c.post.status == Status::Withdrawn,
            accounts: c.targets.clone(),
            errors,
        })
    });
    let rec = FileRecord {
        mtime_ns: s.mtime_ns,
        size: s.size,
        hash,
        post_id: post.as_ref().map(|p| p.id.clone()),
        diagnostics,
    };
    Fresh::Changed(rec, post)
}
