//! Claims and records: the one write path of a target record.
//!
//! Every change to a target goes through [`Targets::change`]: read the
//! record, let a closure change it, write it back and keep the due index,
//! the in-flight table and the pending-ledger table in step, all in the
//! caller's transaction. A record that cannot be decoded is an error that
//! names the store and the way out (`social state rebuild`), never a silent
//! skip.
//!
//! Liveness of a claim is an OS lock, not a process table: every store
//! handle that claims takes an exclusive advisory lock on a file of its own
//! (`<store>.owners/<token>.lock`) and writes the token into each claim. A
//! claim whose lock file is gone or can be locked by someone else was left by
//! a handle that no longer exists (a crashed or killed process), on Linux,
//! macOS and Windows alike.

use super::{
    Claim, DUE, INFLIGHT, LEASE_MS, LEDGER_PENDING, Outcome, PublishedPart, StateError, Store,
    TARGETS, TargetRecord, TargetStatus, failed, idempotency_key_of, json, target_key, to_ms,
};
use chrono::{DateTime, Utc};
use redb::{ReadableTable, Table, WriteTransaction};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The tables a target change touches, opened once per transaction.
pub(crate) struct Targets<'t> {
    targets: Table<'t, &'static str, &'static [u8]>,
    due: Table<'t, (i64, &'static str), ()>,
    inflight: Table<'t, &'static str, ()>,
    pending: Table<'t, &'static str, ()>,
}

/// What [`Targets::change`] found.
pub(crate) enum Found<R> {
    /// No record under the key.
    Missing,
    /// A record that cannot be decoded (with the decoder's message).
    Corrupt(String),
    /// The closure's answer (the record was written back when it returned `Some`).
    Done(R),
}

impl<'t> Targets<'t> {
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<Targets<'t>, redb::Error> {
        Ok(Targets {
            targets: tx.open_table(TARGETS)?,
            due: tx.open_table(DUE)?,
            inflight: tx.open_table(INFLIGHT)?,
            pending: tx.open_table(LEDGER_PENDING)?,
        })
    }

    /// Reads the target `key`, hands it to `f`, and writes it back when `f`
    /// returns `Some`, keeping the indexes in step with the change.
    pub(crate) fn change<R>(
        &mut self,
        key: &str,
        f: impl FnOnce(&mut TargetRecord) -> Option<R>,
    ) -> Result<Found<Option<R>>, redb::Error> {
        let Some(raw) = self.targets.get(key)?.map(|v| v.value().to_vec()) else {
            return Ok(Found::Missing);
        };
        let mut t: TargetRecord = match serde_json::from_slice(&raw) {
            Ok(t) => t,
            Err(e) => return Ok(Found::Corrupt(e.to_string())),
        };
        let before = (t.due, t.status, t.edited_at);
        let Some(r) = f(&mut t) else {
            return Ok(Found::Done(None));
        };
        if before.0 != t.due {
            if let Some(d) = before.0 {
                self.due.remove((d, key))?;
            }
            if let Some(d) = t.due {
                self.due.insert((d, key), ())?;
            }
        }
        match (
            before.1 == TargetStatus::Posting,
            t.status == TargetStatus::Posting,
        ) {
            (false, true) => {
                self.inflight.insert(key, ())?;
            }
            (true, false) => {
                self.inflight.remove(key)?;
            }
            _ => {}
        }
        // published.toml follows every change into or out of a state it
        // records, so a rebuild or a fresh clone comes back to it.
        let edited = before.2 != t.edited_at;
        if edited || (before.1 != t.status && (before.1.in_ledger() || t.status.in_ledger())) {
            self.pending.insert(key, ())?;
        }
        self.targets.insert(key, json(&t).as_slice())?;
        Ok(Found::Done(Some(r)))
    }
}

impl Targets<'_> {
    /// Whether a change of target `key` is still to be written to
    /// published.toml (the store knows better than the file).
    pub(crate) fn ledger_pending(&self, key: &str) -> Result<bool, redb::Error> {
        Ok(self.pending.get(key)?.is_some())
    }

    /// The targets of post `id`, or the first that cannot be read (key, message).
    pub(crate) fn of_post(
        &self,
        id: &str,
    ) -> Result<Result<Vec<TargetRecord>, (String, String)>, redb::Error> {
        let prefix = format!("{id}/");
        let mut out = Vec::new();
        for item in self.targets.range(prefix.as_str()..)? {
            let (k, v) = item?;
            if !k.value().starts_with(&prefix) {
                break;
            }
            match serde_json::from_slice::<TargetRecord>(v.value()) {
                Ok(t) => out.push(t),
                Err(e) => return Ok(Err((k.value().to_string(), e.to_string()))),
            }
        }
        Ok(Ok(out))
    }

    /// Writes `t` over `old` (what [`Targets::of_post`] read), keeping the
    /// due index in step: the sync's write, which never claims.
    pub(crate) fn put(
        &mut self,
        t: &TargetRecord,
        old: Option<&TargetRecord>,
    ) -> Result<(), redb::Error> {
        let key = t.key();
        let old_due = old.and_then(|o| o.due);
        if old_due != t.due {
            if let Some(d) = old_due {
                self.due.remove((d, key.as_str()))?;
            }
            if let Some(d) = t.due {
                self.due.insert((d, key.as_str()), ())?;
            }
        }
        self.targets.insert(key.as_str(), json(t).as_slice())?;
        Ok(())
    }

    /// Removes target `t` and its index entries.
    pub(crate) fn remove(&mut self, t: &TargetRecord) -> Result<(), redb::Error> {
        let key = t.key();
        if let Some(d) = t.due {
            self.due.remove((d, key.as_str()))?;
        }
        self.inflight.remove(key.as_str())?;
        self.pending.remove(key.as_str())?;
        self.targets.remove(key.as_str())?;
        Ok(())
    }
}

/// Why a target was not claimed: what the store holds for it.
#[derive(Debug)]
pub enum Claimed {
    /// Claimed: this handle publishes it now.
    Yes(Claim),
    /// Not claimable now; the record as it stands (for the reason).
    No(TargetRecord),
    /// No such target.
    Missing,
}

/// One change to a claimed target, for [`Store::commit`].
#[derive(Clone, Debug)]
pub enum Change {
    /// A published part (index in the thread); renews the lease.
    Part { index: usize, part: PublishedPart },
    /// The end of an attempt.
    Outcome(Outcome),
    /// A part of a target being deleted is gone from the platform; renews
    /// the lease.
    Removed { index: usize },
    /// The end of a deletion attempt.
    Deletion(DeletionEnd),
}

/// How a deletion attempt ended.
#[derive(Clone, Debug)]
pub enum DeletionEnd {
    /// Every part is gone: the target is deleted.
    Done,
    /// Some parts are left; due again at `retry_at`, or (none) when the
    /// user runs `social delete` again.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// The platform cannot delete: the target stays published, with why.
    Refused { error: String },
}

impl Store {
    /// Claims a due target for publishing: one write transaction that checks
    /// it is still claimable and marks it `posting` with its idempotency key.
    /// Exactly one of several concurrent claimers gets it.
    pub fn claim(
        &self,
        post: &str,
        account: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Option<Claim>, StateError> {
        let mut out = self.claim_many(&[(post, account)], now, force)?;
        Ok(match out.pop() {
            Some(Claimed::Yes(c)) => Some(c),
            _ => None,
        })
    }

    /// Claims several targets in one transaction (see [`Store::claim`]).
    /// `force` claims them whatever their due time (`social post`).
    pub fn claim_many(
        &self,
        keys: &[(&str, &str)],
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Vec<Claimed>, StateError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let owner = self.owner()?.to_string();
        let now_ms = to_ms(now);
        let found = self.write(|tx| {
            let mut t = Targets::open(tx)?;
            let mut out = Vec::with_capacity(keys.len());
            for (post, account) in keys {
                let key = target_key(post, account);
                let mut current = None;
                let f = t.change(&key, |t| {
                    let claimable = match t.status {
                        TargetStatus::Scheduled
                        | TargetStatus::Queued
                        | TargetStatus::Failed
                        | TargetStatus::Missed => {
                            force || t.waiting_for_login || t.due.is_some_and(|d| d <= now_ms)
                        }
                        _ => false,
                    };
                    if !claimable {
                        current = Some(t.clone());
                        return None;
                    }
                    t.status = TargetStatus::Posting;
                    // The first time it is taken, its time is the planned one.
                    if t.planned.is_none() && t.next_attempt.is_none() {
                        t.planned = t.due;
                    }
                    t.due = None;
                    t.attempts += 1;
                    t.first_claimed.get_or_insert(now_ms);
                    t.claimed_by = Some(owner.clone());
                    t.lease_until = Some(now_ms + LEASE_MS);
                    if t.idempotency_key.is_none() {
                        t.idempotency_key =
                            Some(idempotency_key_of(&t.post_id, &t.account, t.generation));
                    }
                    Some(t.clone())
                })?;
                out.push((key, f, current));
            }
            Ok(out)
        })?;
        found
            .into_iter()
            .map(|(key, f, current)| match f {
                Found::Missing => Ok(Claimed::Missing),
                Found::Corrupt(m) => Err(self.corrupt(&key, m)),
                Found::Done(Some(t)) => Ok(Claimed::Yes(Claim { target: t })),
                Found::Done(None) => Ok(current.map_or(Claimed::Missing, Claimed::No)),
            })
            .collect()
    }

    /// Claims a target whose deletion is asked for: one transaction, exactly
    /// one claimer. `force` takes it whatever its due time (`social delete`).
    /// The claim moves `due` to the end of its lease, so that a deletion
    /// whose process died comes up again by itself.
    pub fn claim_deletion(
        &self,
        post: &str,
        account: &str,
        now: DateTime<Utc>,
        force: bool,
    ) -> Result<Claimed, StateError> {
        let owner = self.owner()?.to_string();
        let now_ms = to_ms(now);
        let key = target_key(post, account);
        let mut current = None;
        let found = self.write(|tx| {
            Targets::open(tx)?.change(&key, |t| {
                let abandoned = t.claimed_by.is_some() && self.is_stale(t, now_ms);
                let free = t.claimed_by.is_none() || abandoned;
                // A dead claimer's deletion is due at once, whatever its lease said.
                let due = force || abandoned || t.due.is_some_and(|d| d <= now_ms);
                if t.status != TargetStatus::Deleting || !free || !due {
                    current = Some(t.clone());
                    return None;
                }
                t.claimed_by = Some(owner.clone());
                t.lease_until = Some(now_ms + LEASE_MS);
                t.due = t.lease_until;
                t.attempts += 1;
                Some(t.clone())
            })
        })?;
        match found {
            Found::Missing => Ok(Claimed::Missing),
            Found::Corrupt(m) => Err(self.corrupt(&key, m)),
            Found::Done(Some(t)) => Ok(Claimed::Yes(Claim { target: t })),
            Found::Done(None) => Ok(current.map_or(Claimed::Missing, Claimed::No)),
        }
    }

    /// Records the outcome of a publish attempt on a claimed target.
    pub fn record(
        &self,
        post: &str,
        account: &str,
        outcome: &Outcome,
        now: DateTime<Utc>,
    ) -> Result<TargetRecord, StateError> {
        let key = target_key(post, account);
        let mut out = self.commit(&[(key, Change::Outcome(outcome.clone()))], now)?;
        out.pop()
            .expect("one answer per change")
            .map(|t| t.expect("an outcome always writes"))
    }

    /// Commits one published part of a claimed target at once, so that a
    /// crash after it never sends it again.
    pub fn record_part(
        &self,
        post: &str,
        account: &str,
        index: usize,
        part: &PublishedPart,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let key = target_key(post, account);
        let change = Change::Part {
            index,
            part: part.clone(),
        };
        let mut out = self.commit(&[(key, change)], now)?;
        out.pop().expect("one answer per change").map(|_| ())
    }

    /// Applies several changes in one durable transaction: the group commit
    /// of the engine. Each change gets its own answer (the record as
    /// written); a missing or unreadable target fails only its own change.
    pub fn commit(
        &self,
        changes: &[(String, Change)],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Option<TargetRecord>, StateError>>, StateError> {
        let now_ms = to_ms(now);
        let found = self.write(|tx| {
            let mut t = Targets::open(tx)?;
            let mut out = Vec::with_capacity(changes.len());
            for (key, change) in changes {
                out.push(t.change(key, |t| {
                    apply(t, change, now_ms);
                    Some(t.clone())
                })?);
            }
            Ok(out)
        })?;
        Ok(found
            .into_iter()
            .zip(changes)
            .map(|(f, (key, _))| match f {
                Found::Missing => Err(StateError::Refused(format!("no target {key} to record"))),
                Found::Corrupt(m) => Err(self.corrupt(key, m)),
                Found::Done(t) => Ok(t),
            })
            .collect())
    }

    /// Targets left in `posting` whose claimer is gone (a crash): its lease
    /// ran out, or the lock of the handle that claimed it is no longer held.
    pub fn stale_claims(&self, now: DateTime<Utc>) -> Result<Vec<TargetRecord>, StateError> {
        let raw: Vec<(String, Vec<u8>)> = self.read(|tx| {
            let inflight = tx.open_table(INFLIGHT)?;
            let targets = tx.open_table(TARGETS)?;
            let mut out = Vec::new();
            for item in inflight.iter()? {
                let (k, _) = item?;
                if let Some(v) = targets.get(k.value())? {
                    out.push((k.value().to_string(), v.value().to_vec()));
                }
            }
            Ok(out)
        })?;
        let now_ms = to_ms(now);
        let mut out = Vec::new();
        for (k, v) in raw {
            let t: TargetRecord = self.decode(&k, &v)?;
            if t.status == TargetStatus::Posting && self.is_stale(&t, now_ms) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Deletions that are due by `now`, or whose claimer is gone (a
    /// crashed or killed run; its claim moved `due` to the lease's end).
    pub fn due_deletions(&self, now: DateTime<Utc>) -> Result<Vec<TargetRecord>, StateError> {
        let now_ms = to_ms(now);
        let until = now + chrono::Duration::milliseconds(LEASE_MS);
        Ok(self
            .due_targets_until(until)?
            .into_iter()
            .map(|(_, t)| t)
            .filter(|t| t.status == TargetStatus::Deleting)
            .filter(|t| match &t.claimed_by {
                Some(_) => self.is_stale(t, now_ms),
                None => t.due.is_some_and(|d| d <= now_ms),
            })
            .collect())
    }

    /// Takes over a stale claim (see [`Store::stale_claims`]); exactly one
    /// process gets it.
    pub fn reclaim(
        &self,
        post: &str,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, StateError> {
        let key = target_key(post, account);
        let now_ms = to_ms(now);
        let owner = self.owner()?.to_string();
        let mut previous = None;
        let found = self.write(|tx| {
            Targets::open(tx)?.change(&key, |t| {
                if t.status != TargetStatus::Posting || !self.is_stale(t, now_ms) {
                    return None;
                }
                previous = t.claimed_by.replace(owner.clone());
                t.lease_until = Some(now_ms + LEASE_MS);
                t.attempts += 1;
                Some(Claim { target: t.clone() })
            })
        })?;
        match found {
            Found::Missing => Ok(None),
            Found::Corrupt(m) => Err(self.corrupt(&key, m)),
            Found::Done(c) => {
                if c.is_some()
                    && let Some(token) = previous.as_deref().and_then(owner_token)
                {
                    // The dead handle's lock file, if it is still there.
                    let _ = std::fs::remove_file(self.owners_dir().join(format!("{token}.lock")));
                }
                Ok(c)
            }
        }
    }

    /// The error for an unreadable record, with the way out.
    pub(crate) fn corrupt(&self, key: &str, message: String) -> StateError {
        StateError::Corrupt {
            path: self.path.clone(),
            key: key.to_string(),
            message,
        }
    }

    /// The folder of the owners' lock files, beside the store file.
    fn owners_dir(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".owners");
        self.path.with_file_name(name)
    }

    /// This handle's claim token (`host:pid:token`), taking its lock on first use.
    fn owner(&self) -> Result<&str, StateError> {
        if let Some(o) = self.owner.get() {
            return Ok(&o.tag);
        }
        let o = Owner::take(&self.owners_dir())?;
        // Another thread may have won the race; its owner is as good.
        let _ = self.owner.set(o);
        Ok(&self.owner.get().expect("set above").tag)
    }

    /// Whether a `posting` claim is abandoned.
    fn is_stale(&self, t: &TargetRecord, now_ms: i64) -> bool {
        if t.lease_until.is_none_or(|l| l < now_ms) {
            return true;
        }
        let Some(tag) = t.claimed_by.as_deref() else {
            return true;
        };
        if self.owner.get().is_some_and(|o| o.tag == tag) {
            return false;
        }
        let Some(token) = owner_token(tag) else {
            // A claim from an older version (`host:pid`): only its lease tells.
            return false;
        };
        if tag.split(':').next() != Some(host().as_str()) {
            // Another machine's claim (a shared folder): only its lease tells.
            return false;
        }
        !lock_held(&self.owners_dir().join(format!("{token}.lock")))
    }
}

/// Applies one change to a target record.
fn apply(t: &mut TargetRecord, change: &Change, now_ms: i64) {
    match change {
        Change::Part { index, part } => {
            t.parts.truncate(*index);
            t.parts.push(part.clone());
            if t.status == TargetStatus::Posting {
                t.lease_until = Some(now_ms + LEASE_MS);
            }
        }
        Change::Removed { index } => {
            if !t.deleted.contains(index) {
                t.deleted.push(*index);
                t.deleted.sort_unstable();
            }
            if t.claimed_by.is_some() {
                t.lease_until = Some(now_ms + LEASE_MS);
                t.due = t.lease_until;
            }
        }
        Change::Deletion(end) => {
            t.claimed_by = None;
            t.lease_until = None;
            match end {
                DeletionEnd::Done => {
                    t.status = TargetStatus::Deleted;
                    t.deleted = (0..t.parts.len()).collect();
                    t.deleted_at = Some(now_ms);
                    t.due = None;
                    t.next_attempt = None;
                    t.last_error = None;
                    t.attempts = 0;
                }
                DeletionEnd::Failed { error, retry_at } => {
                    t.last_error = Some(error.clone());
                    t.next_attempt = retry_at.map(to_ms);
                    t.due = t.next_attempt;
                }
                DeletionEnd::Refused { error } => {
                    t.status = TargetStatus::Posted;
                    t.last_error = Some(error.clone());
                    t.next_attempt = None;
                    t.due = None;
                    t.attempts = 0;
                }
            }
        }
        Change::Outcome(outcome) => {
            t.claimed_by = None;
            t.lease_until = None;
            match outcome {
                Outcome::Posted { parts } => {
                    t.uncertain = false;
                    t.waiting_for_login = false;
                    t.status = TargetStatus::Posted;
                    t.parts = parts.clone();
                    t.posted_at = Some(now_ms);
                    t.last_error = None;
                    t.next_attempt = None;
                    t.due = None;
                }
                Outcome::Partial {
                    parts,
                    error,
                    retry_at,
                    uncertain,
                } => {
                    t.parts = parts.clone();
                    t.uncertain = *uncertain;
                    failed(t, error, *retry_at);
                }
                Outcome::Failed { error, retry_at } => {
                    t.uncertain = false;
                    failed(t, error, *retry_at)
                }
                Outcome::Missed { reason } => {
                    t.planned = t.planned.or(t.due);
                    t.status = TargetStatus::Missed;
                    t.last_error = Some(reason.clone());
                    t.next_attempt = None;
                    t.due = None;
                    t.waiting_for_login = false;
                }
                Outcome::WaitingForLogin { reason, recheck_at } => {
                    t.status = TargetStatus::Scheduled;
                    t.waiting_for_login = true;
                    // Nothing was sent: not an attempt at the platform.
                    t.attempts = t.attempts.saturating_sub(1);
                    t.last_error = Some(reason.clone());
                    t.next_attempt = None;
                    t.due = Some(to_ms(*recheck_at));
                }
                Outcome::Unconfirmed { parts, error } => {
                    t.parts = parts.clone();
                    t.uncertain = true;
                    t.status = TargetStatus::Unconfirmed;
                    t.last_error = Some(error.clone());
                    t.next_attempt = None;
                    t.due = None;
                }
            }
        }
    }
}

/// The lock a store handle holds while it may have claims: an open file
/// with an exclusive advisory lock, removed when the handle goes.
#[derive(Debug)]
pub(crate) struct Owner {
    tag: String,
    path: PathBuf,
    _file: File,
}

impl Owner {
    fn take(dir: &Path) -> Result<Owner, StateError> {
        let io = |source| StateError::Io {
            path: dir.to_path_buf(),
            source,
        };
        create_private_dir(dir).map_err(io)?;
        let token = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        let path = dir.join(format!("{token}.lock"));
        let mut opts = std::fs::OpenOptions::new();
        opts.create_new(true).write(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts.open(&path).map_err(io)?;
        file.try_lock().map_err(|e| {
            io(match e {
                std::fs::TryLockError::Error(e) => e,
                std::fs::TryLockError::WouldBlock => std::io::Error::other("lock taken"),
            })
        })?;
        Ok(Owner {
            tag: format!("{}:{}:{token}", host(), std::process::id()),
            path,
            _file: file,
        })
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Creates `dir` (and its parents) readable by the owner alone.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// The lock token of a claim tag (`host:pid:token`); none for older tags.
fn owner_token(tag: &str) -> Option<&str> {
    let mut it = tag.rsplitn(3, ':');
    let token = it.next()?;
    it.next()?;
    it.next()?;
    (!token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    .then_some(token)
}

/// Whether some live handle holds the lock file at `path`.
fn lock_held(path: &Path) -> bool {
    let Ok(f) = File::open(path) else {
        // Gone: its holder removed it on the way out, or it never was.
        return false;
    };
    match f.try_lock_shared() {
        Ok(()) => false,
        Err(std::fs::TryLockError::WouldBlock) => true,
        // Cannot tell: keep the claim (its lease still ends it).
        Err(std::fs::TryLockError::Error(_)) => true,
    }
}

/// This machine's name, as claims record it.
pub(crate) fn host() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        hostname()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| std::env::var("COMPUTERNAME").ok())
            .unwrap_or_default()
            .trim()
            .replace(':', "_")
    })
    .clone()
}

#[cfg(target_os = "linux")]
fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
}

#[cfg(not(target_os = "linux"))]
fn hostname() -> Option<String> {
    std::process::Command::new("hostname")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
}
