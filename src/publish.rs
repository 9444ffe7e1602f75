//! The publishing engine: claim targets, publish them concurrently through
//! their platform clients, record every part as it lands, and reconcile what
//! a crashed run left in flight. Exactly once: a target is marked `posting`
//! (with its idempotency key) in a committed transaction before any request,
//! and results are committed right after.

use crate::clock::{Clock, SystemClock};
use crate::config::{Account, Config};
use crate::content::Post;
use crate::credentials::Secret;
use crate::platforms::{self, Context, Job, PartSink, Platform, PlatformError, ReplyTo};
use crate::render::Rendered;
use crate::state::ledger::Ledger;
use crate::state::{
    Change, Claim, Claimed, Outcome, PublishedPart, State, Store, TargetRecord, TargetStatus,
    from_ms,
};
use crate::validate::{Checked, MediaInfo};
use chrono::{DateTime, Utc};
use commit::Committer;
use futures_util::future::join_all;

mod commit;
mod delete;
mod edit;
pub use delete::with_links;
#[cfg(test)]
mod tests;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How long past its scheduled time a target that nothing here knows is read
/// back before its first create, in case another machine with the repository
/// (a daemon, a CI runner) published it already. A machine that publishes on
/// time (a daemon's timer, a cron job each minute) sends within a minute or
/// two of the time; a later one (a delayed CI schedule, a catch-up after a
/// pause) looks first. Below this, two machines can both send (X and
/// LinkedIn have no idempotency key; their duplicate refusals still apply).
const LOOK_FIRST_AFTER: chrono::Duration = chrono::Duration::minutes(3);

/// How often a target waiting for a login is looked at again (the daemon
/// wakes for it; `publish --due` takes it at once).
pub const LOGIN_RECHECK: chrono::Duration = chrono::Duration::seconds(60);

/// How a target ended in this run. Each is reported by the name of the
/// state it leaves the target in ([`State`]), the one vocabulary of every
/// command, log line and JSON document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Published now.
    Posted { urls: Vec<String> },
    /// Already published earlier (store or ledger): nothing sent.
    AlreadyPosted { urls: Vec<String> },
    /// Not published now; due again at `retry_at` (RFC 3339).
    WillRetry { error: String, retry_at: String },
    /// Not sent: the account has no credential yet. It goes out at the
    /// next run after a login, until it is missed.
    WaitingForLogin { reason: String },
    /// Its time passed by more than `catch_up`: not sent.
    Missed { due: String, reason: String },
    /// Failed for good (until the post changes or `social retry`).
    Failed { error: String },
    /// May be on the platform; held for the user to check.
    Unconfirmed { error: String },
    /// Not attempted; the target is in `state` (a draft, cancelled, taken
    /// by another process, not due…).
    Skipped { state: State, reason: String },
    /// Every published part is deleted now (or was gone already).
    Deleted { urls: Vec<String> },
    /// The deletion stopped with `left` parts still published; due again
    /// at `retry_at` (RFC 3339), or when `social delete` is run again.
    DeleteLeft {
        error: String,
        left: usize,
        retry_at: Option<String>,
    },
    /// The platform cannot delete it: still published, with where to do it
    /// by hand.
    NotDeletable { error: String },
    /// The published post now says what its file says.
    Edited { urls: Vec<String> },
    /// The edit was not made (the platform cannot edit, or refused); tried
    /// again at `retry_at` when it was applied by `publish --due`.
    EditFailed {
        error: String,
        retry_at: Option<String>,
    },
}

impl Verdict {
    /// The state the target is in after this run.
    pub fn state(&self) -> State {
        match self {
            Verdict::Posted { .. } | Verdict::AlreadyPosted { .. } => State::Posted,
            Verdict::WillRetry { .. } => State::WillRetry,
            Verdict::WaitingForLogin { .. } => State::WaitingForLogin,
            Verdict::Missed { .. } => State::Missed,
            Verdict::Failed { .. } => State::Failed,
            Verdict::Unconfirmed { .. } => State::Unconfirmed,
            Verdict::Skipped { state, .. } => *state,
            Verdict::Deleted { .. } => State::Deleted,
            Verdict::DeleteLeft { .. } => State::Deleting,
            Verdict::NotDeletable { .. } => State::Posted,
            Verdict::Edited { .. } | Verdict::EditFailed { .. } => State::Posted,
        }
    }

    /// The URLs, or why not, for one line or cell.
    pub fn detail(&self) -> String {
        match self {
            Verdict::Posted { urls } => urls.join("\n"),
            Verdict::AlreadyPosted { urls } => {
                let u = urls.join("\n");
                if u.is_empty() {
                    "earlier".into()
                } else {
                    format!("{u} (earlier)")
                }
            }
            Verdict::WillRetry { error, retry_at } => format!("{error} (retry at {retry_at})"),
            Verdict::WaitingForLogin { reason } | Verdict::Skipped { reason, .. } => reason.clone(),
            Verdict::Missed { reason, .. } => reason.clone(),
            Verdict::Failed { error } | Verdict::Unconfirmed { error } => error.clone(),
            Verdict::Deleted { urls } => urls.join("\n"),
            Verdict::DeleteLeft {
                error,
                left,
                retry_at,
            } => {
                let when = match retry_at {
                    Some(at) => format!("retry at {at}"),
                    None => "run `social delete` again once it is fixed".into(),
                };
                format!("{error} ({left} part(s) left; {when})")
            }
            Verdict::NotDeletable { error } => error.clone(),
            Verdict::Edited { urls } => format!("edited: {}", urls.join("\n")),
            Verdict::EditFailed { error, retry_at } => match retry_at {
                Some(at) => format!("edit failed: {error} (retry at {at})"),
                None => format!("edit failed: {error}"),
            },
        }
    }
}

/// One target's outcome.
#[derive(Clone, Debug)]
pub struct TargetResult {
    pub post: String,
    pub account: String,
    pub result: Verdict,
}

impl TargetResult {
    /// Whether this counts as a failure for the exit code.
    pub fn failed(&self) -> bool {
        match &self.result {
            Verdict::Skipped { .. } => false,
            Verdict::DeleteLeft { .. }
            | Verdict::NotDeletable { .. }
            | Verdict::EditFailed { .. } => true,
            v => v.state().is_failure(),
        }
    }
}

/// `{"post", "account", "result": <state>, …}`: the result is the state's
/// name; `urls`, `earlier`, `error`, `retry_at`, `due` and `reason` as they apply.
impl Serialize for TargetResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("post", &self.post)?;
        m.serialize_entry("account", &self.account)?;
        m.serialize_entry("result", self.result.state().name())?;
        match &self.result {
            Verdict::Posted { urls } => m.serialize_entry("urls", urls)?,
            Verdict::AlreadyPosted { urls } => {
                m.serialize_entry("urls", urls)?;
                m.serialize_entry("earlier", &true)?;
            }
            Verdict::WillRetry { error, retry_at } => {
                m.serialize_entry("error", error)?;
                m.serialize_entry("retry_at", retry_at)?;
            }
            Verdict::WaitingForLogin { reason } => m.serialize_entry("reason", reason)?,
            Verdict::Missed { due, reason } => {
                m.serialize_entry("due", due)?;
                m.serialize_entry("reason", reason)?;
            }
            Verdict::Failed { error } | Verdict::Unconfirmed { error } => {
                m.serialize_entry("error", error)?
            }
            Verdict::Skipped { reason, .. } => {
                m.serialize_entry("skipped", &true)?;
                m.serialize_entry("reason", reason)?;
            }
            Verdict::Deleted { urls } => m.serialize_entry("urls", urls)?,
            Verdict::DeleteLeft {
                error,
                left,
                retry_at,
            } => {
                m.serialize_entry("error", error)?;
                m.serialize_entry("parts_left", left)?;
                if let Some(at) = retry_at {
                    m.serialize_entry("retry_at", at)?;
                }
            }
            Verdict::NotDeletable { error } => {
                m.serialize_entry("error", error)?;
                m.serialize_entry("not_deletable", &true)?;
            }
            Verdict::Edited { urls } => {
                m.serialize_entry("urls", urls)?;
                m.serialize_entry("edited", &true)?;
            }
            Verdict::EditFailed { error, retry_at } => {
                m.serialize_entry("error", error)?;
                m.serialize_entry("edited", &false)?;
                if let Some(at) = retry_at {
                    m.serialize_entry("retry_at", at)?;
                }
            }
        }
        m.end()
    }
}

/// Reports progress of targets as they go (a progress display or plain lines).
pub trait Progress: Send + Sync {
    fn started(&self, post: &str, account: &str);
    fn part(&self, post: &str, account: &str, index: usize, total: usize);
    fn finished(&self, result: &TargetResult);
}

/// Progress that says nothing.
pub struct Silent;

impl Progress for Silent {
    fn started(&self, _: &str, _: &str) {}
    fn part(&self, _: &str, _: &str, _: usize, _: usize) {}
    fn finished(&self, _: &TargetResult) {}
}

/// Builds the platform client of an account: the engine's seam to the
/// platforms (tests hand it scripted fakes).
pub trait Connector: Send + Sync {
    fn connect(&self, account: &Account, ctx: Context) -> Result<Box<dyn Platform>, PlatformError>;
}

/// The real platform clients.
pub struct Platforms;

impl Connector for Platforms {
    fn connect(&self, account: &Account, ctx: Context) -> Result<Box<dyn Platform>, PlatformError> {
        platforms::connect(account, ctx)
    }
}

/// Where the engine gets an account's secret, and a renewed one after the
/// platform refused it.
#[async_trait::async_trait]
pub trait Tokens: Send + Sync {
    async fn token(&self, account: &Account) -> Result<Secret, PlatformError>;
    /// Renews the secret after `used` was refused: `Some(())` when there is
    /// a new one to ask [`Tokens::token`] for, `None` when there is nothing
    /// to renew.
    async fn after_unauthorized(
        &self,
        account: &Account,
        used: &Secret,
    ) -> Result<Option<()>, PlatformError>;
}

#[async_trait::async_trait]
impl Tokens for crate::credentials::Credentials {
    async fn token(&self, account: &Account) -> Result<Secret, PlatformError> {
        crate::credentials::Credentials::token(self, account).await
    }
    async fn after_unauthorized(
        &self,
        account: &Account,
        used: &Secret,
    ) -> Result<Option<()>, PlatformError> {
        crate::credentials::Credentials::after_unauthorized(self, account, used)
            .await
            .map(|r| r.map(|_| ()))
    }
}

/// The memo a client gets: values in the state store's meta table.
struct StoreMemo(Store);

impl platforms::MemoStore for StoreMemo {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.meta(key).map_err(|e| e.to_string())
    }
    fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.set_meta(key, value).map_err(|e| e.to_string())
    }
}

/// A memo handle over `store`, for a platform client.
pub fn memo(store: &Store) -> platforms::Memo {
    platforms::Memo::new(StoreMemo(store.clone()))
}

/// Targets claimed in one transaction: enough to keep the workers busy
/// between claims, few enough that a crash leaves little to reconcile.
const CLAIM_BATCH: usize = 32;

/// The engine of one run.
pub struct Engine {
    pub config: Config,
    pub store: Store,
    pub http: platforms::http::Http,
    /// Targets published at once, across accounts.
    pub concurrency: usize,
    /// Attempts per target before it is marked failed.
    pub max_attempts: u32,
    /// Set when shutting down: targets not yet claimed are left for later.
    pub stop: Arc<AtomicBool>,
    /// The project's credentials (the daemon's daily check renews them).
    pub credentials: crate::credentials::Credentials,
    tokens: Arc<dyn Tokens>,
    connector: Arc<dyn Connector>,
    clock: Arc<dyn Clock>,
    committer: Committer,
}

/// A post ready to publish: parsed, checked, rendered for its targets.
pub struct Ready {
    pub checked: Checked,
}

impl Engine {
    /// An engine over `config` and `store` with the real platforms, the
    /// project's credentials and the system clock.
    pub fn new(config: Config, store: Store) -> Result<Engine, PlatformError> {
        let credentials = platforms::account::credentials(&config.root);
        let mut http = platforms::http::Http::new()?;
        http.max_attempts = config.max_attempts;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        Ok(Engine {
            max_attempts: config.max_attempts,
            committer: Committer::new(store.clone(), clock.clone()),
            config,
            store,
            http,
            concurrency: 8,
            stop: Arc::default(),
            tokens: Arc::new(credentials.clone()),
            credentials,
            connector: Arc::new(Platforms),
            clock,
        })
    }

    /// The same engine with other platform clients.
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> Engine {
        self.connector = connector;
        self
    }

    /// The same engine with another source of secrets.
    pub fn with_tokens(mut self, tokens: Arc<dyn Tokens>) -> Engine {
        self.tokens = tokens;
        self
    }

    /// The same engine with another clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Engine {
        self.committer = Committer::new(self.store.clone(), clock.clone());
        self.clock = clock;
        self
    }

    /// The engine's current time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn connect(
        &self,
        account: &Account,
        secret: Secret,
    ) -> Result<Box<dyn Platform>, PlatformError> {
        let ctx = Context {
            http: self.http.clone(),
            secret: Some(secret),
            memo: Some(memo(&self.store)),
        };
        self.connector.connect(account, ctx)
    }

    /// A client for `account` with a valid secret from the credentials service.
    pub(crate) async fn client(
        &self,
        account: &Account,
    ) -> Result<(Box<dyn Platform>, Secret), PlatformError> {
        let secret = self.tokens.token(account).await?;
        Ok((self.connect(account, secret.clone())?, secret))
    }

    /// After the platform refused `used` (401): a client with a renewed
    /// secret, or `None` when there is nothing to renew.
    async fn renewed_client(
        &self,
        account: &Account,
        used: &Secret,
    ) -> Result<Option<(Box<dyn Platform>, Secret)>, PlatformError> {
        if self
            .tokens
            .after_unauthorized(account, used)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        self.client(account).await.map(Some)
    }

    /// Finishes what crashed runs left in `posting`: asks each platform what
    /// it already has, records that, and publishes the rest.
    pub async fn reconcile_stale(
        &self,
        posts: &HashMap<String, Arc<Ready>>,
        progress: &dyn Progress,
    ) -> Vec<TargetResult> {
        let now = self.now();
        let stale = match self.store.stale_claims(now) {
            Ok(s) => s,
            Err(e) => return vec![failed_result("", "", e.to_string())],
        };
        let mut out = Vec::new();
        for t in stale {
            let claim = match self.store.reclaim(&t.post_id, &t.account, now) {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    out.push(failed_result(&t.post_id, &t.account, e.to_string()));
                    continue;
                }
            };
            let Some(ready) = posts.get(&t.post_id) else {
                // The post's file is gone: nothing can be checked or sent; keep the
                // claim as it is for a run that has the file.
                let e = PlatformError::config(format!(
                    "post `{}` was being published when a run stopped, and its file is gone",
                    t.post_id
                ));
                out.push(self.finish(&claim.target, Err(e), true, false).await);
                continue;
            };
            out.push(self.run_claim(ready.clone(), claim, true, progress).await);
        }
        self.flush_ledger();
        out
    }

    /// Publishes the given targets now (`social post`), ignoring their times.
    pub async fn publish_now(
        &self,
        work: Vec<(Arc<Ready>, String)>,
        progress: &dyn Progress,
    ) -> Vec<TargetResult> {
        self.publish(work, true, progress).await
    }

    /// Publishes targets with bounded concurrency: workers take claimed
    /// targets from a shared list, which is refilled by claiming the next
    /// batch in one transaction. Results come back in the order of `work`.
    pub async fn publish(
        &self,
        work: Vec<(Arc<Ready>, String)>,
        force: bool,
        progress: &dyn Progress,
    ) -> Vec<TargetResult> {
        // The ledger is read once: a fresh clone or CI runner knows only it.
        let ledger = Ledger::load(&self.config.root).ok();
        let mut results: Vec<Option<TargetResult>> = vec![None; work.len()];
        let mut pending = VecDeque::new();
        for (i, (ready, account)) in work.into_iter().enumerate() {
            let post_id = &ready.checked.post.id;
            if let Some(e) = ledger.as_ref().and_then(|l| l.published(post_id, &account)) {
                if e.is_removal() {
                    results[i] = Some(skipped(
                        post_id,
                        &account,
                        if e.is_deleted() {
                            State::Deleted
                        } else {
                            State::Deleting
                        },
                        &format!(
                            "published, then deleted; `social retry {post_id} --force` publishes it again"
                        ),
                    ));
                    continue;
                }
                results[i] = Some(TargetResult {
                    post: post_id.clone(),
                    account,
                    result: Verdict::AlreadyPosted {
                        urls: e.urls.clone(),
                    },
                });
            } else {
                pending.push_back((i, ready, account));
            }
        }
        let queue = Mutex::new(WorkQueue {
            pending,
            claimed: VecDeque::new(),
            done: Vec::new(),
        });
        let workers = (0..self.concurrency.max(1)).map(|_| async {
            while let Some((i, ready, claim)) = self.next_claimed(&queue, force) {
                let r = self.run_claim(ready, claim, false, progress).await;
                lock(&queue).done.push((i, r));
            }
        });
        join_all(workers).await;
        let queue = queue.into_inner().unwrap_or_else(|e| e.into_inner());
        for (i, r) in queue.done {
            results[i] = Some(r);
        }
        self.flush_ledger();
        results.into_iter().flatten().collect()
    }

    /// The next claimed target for a worker, claiming a new batch when the
    /// claimed ones are taken; targets that cannot be claimed get their
    /// result at once. After a stop, nothing more is claimed.
    fn next_claimed(&self, queue: &Mutex<WorkQueue>, force: bool) -> Option<Work> {
        let mut q = lock(queue);
        loop {
            if let Some(w) = q.claimed.pop_front() {
                return Some(w);
            }
            if q.pending.is_empty() {
                return None;
            }
            if self.stop.load(Ordering::SeqCst) {
                let left: Vec<_> = q.pending.drain(..).collect();
                for (i, ready, account) in left {
                    let reason = "shutting down; left for the next run";
                    q.done.push((
                        i,
                        skipped(&ready.checked.post.id, &account, State::Scheduled, reason),
                    ));
                }
                return None;
            }
            let n = q.pending.len().min(CLAIM_BATCH);
            let batch: Vec<_> = q.pending.drain(..n).collect();
            let keys: Vec<(&str, &str)> = batch
                .iter()
                .map(|(_, r, a)| (r.checked.post.id.as_str(), a.as_str()))
                .collect();
            match self.store.claim_many(&keys, self.now(), force) {
                Ok(claims) => {
                    for ((i, ready, account), c) in batch.iter().cloned().zip(claims) {
                        let post = &ready.checked.post.id;
                        match c {
                            Claimed::Yes(claim) => q.claimed.push_back((i, ready, claim)),
                            Claimed::No(t) => q.done.push((i, not_claimed(&t))),
                            Claimed::Missing => {
                                q.done.push((
                                    i,
                                    skipped(
                                        post,
                                        &account,
                                        State::Scheduled,
                                        "not in the state store",
                                    ),
                                ));
                            }
                        }
                    }
                }
                Err(e) => {
                    for (i, ready, account) in batch {
                        let r = failed_result(&ready.checked.post.id, &account, e.to_string());
                        q.done.push((i, r));
                    }
                }
            }
        }
    }

    /// Writes the published.toml entries of targets published or settled
    /// since the last write, in one go. Entries that cannot be written stay
    /// pending in the store for the next run.
    pub fn flush_ledger(&self) {
        if let Err(e) = self.store.flush_ledger(&self.config.root, self.now()) {
            tracing::error!("writing published.toml failed (kept for the next run): {e}");
        }
    }

    /// Publishes a claimed target: reconciles first when a crashed or
    /// ambiguous attempt may have published parts of it.
    async fn run_claim(
        &self,
        ready: Arc<Ready>,
        claim: Claim,
        reconcile_first: bool,
        progress: &dyn Progress,
    ) -> TargetResult {
        let mut t = claim.target;
        progress.started(&t.post_id, &t.account);
        let r = match self.attempt(&ready, &t, reconcile_first, progress).await {
            Attempt::Ended(out) => {
                t.parts = out.parts;
                t.uncertain = out.uncertain;
                self.finish(&t, out.result.map(|()| t.parts.clone()), true, true)
                    .await
            }
            Attempt::Refused(e, may_retry) => self.finish(&t, Err(e), may_retry, false).await,
            Attempt::NoLogin(e) => self.wait_for_login(&t, &e).await,
        };
        progress.finished(&r);
        r
    }

    /// One attempt at a claimed target: its account and client, then
    /// reconcile and publish rounds (an unclear answer is reconciled once; a
    /// refused token is renewed once).
    async fn attempt(
        &self,
        ready: &Ready,
        t: &TargetRecord,
        reconcile_first: bool,
        progress: &dyn Progress,
    ) -> Attempt {
        let (job, client, secret) = match self.prepare(ready, t).await {
            Ok(prepared) => prepared,
            Err(refused) => return refused,
        };
        let account = &job.account;
        let look_first = self.looks_first(t, job.scheduled);
        let mut rounds = Rounds {
            client,
            secret,
            done: t.parts.clone(),
            // An earlier attempt that ended unclear is settled before anything
            // is sent; so is a late target whose read-back could not be made.
            reconcile: reconcile_first || look_first || t.uncertain,
            uncertain: t.uncertain || look_first,
            renewed: false,
        };
        let total = job.rendered.parts.len();
        let mut result: Result<(), PlatformError> = Ok(());
        let mut asked_after_unclear = false;
        for _ in 0..3 {
            if rounds.reconcile {
                rounds.reconcile = false;
                if let Err(e) = self.reconcile_round(&job, t, &mut rounds).await {
                    result = Err(e);
                    break;
                }
            }
            if rounds.done.len() >= total {
                result = Ok(());
                break;
            }
            match self.publish_round(&job, t, &mut rounds, progress).await {
                Round::Returned(r) => result = r,
                Round::Unrecorded(e) => {
                    result = Err(e);
                    break;
                }
            }
            match &result {
                // An unclear answer: ask the platform once what it has, then
                // go on; a second one in the same attempt is left unclear for
                // the next attempt to ask about first. Never a send without
                // asking after an unclear answer, whichever round it came in.
                Err(PlatformError::Unknown { .. }) if !asked_after_unclear => {
                    asked_after_unclear = true;
                    rounds.uncertain = true;
                    rounds.reconcile = true;
                }
                Err(PlatformError::Unknown { .. }) => {
                    rounds.uncertain = true;
                    break;
                }
                // A refused token: renew it once and try the target once more.
                Err(PlatformError::Auth { expired: true, .. }) if !rounds.renewed => {
                    rounds.renewed = true;
                    match self.renew(account, &mut rounds).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        Attempt::Ended(ended(rounds.done, total, result, rounds.uncertain))
    }

    /// What every round of the attempt needs, before anything is sent: the
    /// target's account and rendering, a client with a valid secret, and
    /// the post it replies to; how the attempt ends when one is missing.
    async fn prepare<'r>(
        &self,
        ready: &'r Ready,
        t: &TargetRecord,
    ) -> Result<(TargetJob<'r>, Box<dyn Platform>, Secret), Attempt> {
        let (account, rendered) = self
            .target_account(ready, t)
            .map_err(|e| Attempt::Refused(e, false))?;
        let (client, secret) = self.target_client(&account).await?;
        let reply_to = self
            .reply_target(&ready.checked.post, &t.account)
            .map_err(|e| Attempt::Refused(e, true))?;
        let job = TargetJob {
            post: &ready.checked.post,
            account,
            rendered,
            media: &ready.checked.media,
            key: t.idempotency_key.clone().unwrap_or_default(),
            first_claimed: t
                .first_claimed
                .and_then(from_ms)
                .unwrap_or_else(|| self.now()),
            scheduled: ready.checked.post.at.as_ref().map(|a| a.instant),
            reply_to,
        };
        Ok((job, client, secret))
    }

    /// The claimed target's account (with the project's `media_base_url`
    /// where it sets none, for Instagram) and its rendering; an error when
    /// social.toml or the post no longer has either.
    fn target_account<'r>(
        &self,
        ready: &'r Ready,
        t: &TargetRecord,
    ) -> Result<(Account, &'r Rendered), PlatformError> {
        let Some(mut account) = self.config.accounts.get(&t.account).cloned() else {
            return Err(PlatformError::config(format!(
                "account `{}` is no longer in social.toml",
                t.account
            )));
        };
        let Some(rendered) = ready
            .checked
            .rendered
            .iter()
            .find(|r| r.account == t.account)
        else {
            return Err(PlatformError::config(format!(
                "post `{}` no longer goes to {}",
                t.post_id, t.account
            )));
        };
        if account.media_base_url.is_none() {
            account.media_base_url = self.config.media_base_url.clone();
        }
        Ok((account, rendered))
    }

    /// The account's secret and a client with it; without a usable login
    /// (none stored, expired for good) the target waits for one, due as
    /// before, rather than failing.
    async fn target_client(
        &self,
        account: &Account,
    ) -> Result<(Box<dyn Platform>, Secret), Attempt> {
        let secret = match self.tokens.token(account).await {
            Ok(s) => s,
            Err(e) if !e.is_transient() => return Err(Attempt::NoLogin(e)),
            Err(e) => return Err(Attempt::Refused(e, true)),
        };
        match self.connect(account, secret.clone()) {
            Ok(c) => Ok((c, secret)),
            Err(e) => Err(Attempt::Refused(e, false)),
        }
    }

    /// Whether a target must be read back before its first create: nothing
    /// here knows it (the ledger was read before the claim, and this is the
    /// first attempt on this machine with nothing sent), yet it is well past
    /// its scheduled time, so another machine with the repository may have
    /// published it already (platforms without an idempotency key look among
    /// the account's recent posts). Not for posts sent on time, nor twice.
    fn looks_first(&self, t: &TargetRecord, scheduled: Option<DateTime<Utc>>) -> bool {
        t.attempts <= 1
            && t.parts.is_empty()
            && scheduled.is_some_and(|s| self.now() - s > LOOK_FIRST_AFTER)
    }

    /// Asks the platform which parts it has and records those beyond what
    /// the attempt knows; the target is no longer uncertain.
    async fn reconcile_round(
        &self,
        job: &TargetJob<'_>,
        t: &TargetRecord,
        rounds: &mut Rounds,
    ) -> Result<(), PlatformError> {
        let found = rounds.client.reconcile(&job.job(&[])).await?;
        rounds.uncertain = false;
        for (index, part) in found.iter().enumerate().skip(rounds.done.len()) {
            let change = Change::Part {
                index,
                part: part.clone(),
            };
            if let Err(e) = self.committer.commit(t.key(), change).await {
                // Kept in memory: the record of this attempt carries it.
                tracing::warn!(post = %t.post_id, account = %t.account, "recording a reconciled part failed: {e}");
            }
        }
        if found.len() > rounds.done.len() {
            rounds.done = found;
        }
        Ok(())
    }

    /// Sends the parts still missing, each recorded as it lands.
    async fn publish_round(
        &self,
        job: &TargetJob<'_>,
        t: &TargetRecord,
        rounds: &mut Rounds,
        progress: &dyn Progress,
    ) -> Round {
        let total = job.rendered.parts.len();
        let mut sink = Sink {
            committer: &self.committer,
            key: t.key(),
            post: &t.post_id,
            account: &t.account,
            parts: rounds.done.clone(),
            total,
            progress,
            failed: None,
        };
        let result = rounds
            .client
            .publish(&job.job(&rounds.done), &mut sink)
            .await;
        rounds.done = sink.parts;
        match sink.failed {
            // The platform has the part but the store could not take it:
            // stop here; the record of this attempt carries it.
            Some(e) => Round::Unrecorded(e),
            None => Round::Returned(result),
        }
    }

    /// After the platform refused the token: a client with a renewed one
    /// (`true`), or `false` when there is nothing to renew.
    async fn renew(&self, account: &Account, rounds: &mut Rounds) -> Result<bool, PlatformError> {
        match self.renewed_client(account, &rounds.secret).await? {
            Some((client, secret)) => {
                (rounds.client, rounds.secret) = (client, secret);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Resolves `reply_to` for one account.
    fn reply_target(&self, post: &Post, account: &str) -> Result<Option<ReplyTo>, PlatformError> {
        let Some(r) = &post.reply_to else {
            return Ok(None);
        };
        if r.contains("://") {
            return Ok(Some(ReplyTo::Url(r.clone())));
        }
        let target = self
            .store
            .target(r, account)
            .map_err(|e| PlatformError::config(e.to_string()))?;
        match target {
            Some(t) if t.status == TargetStatus::Posted && !t.parts.is_empty() => {
                Ok(Some(ReplyTo::Part(
                    t.parts
                        .last()
                        .cloned()
                        .unwrap_or_else(|| t.parts[0].clone()),
                )))
            }
            _ => Err(PlatformError::unavailable(format!(
                "it replies to `{r}`, which is not yet published to {account}"
            ))),
        }
    }

    /// Records the end of an attempt; returns what to report. A failure
    /// A target whose account has no usable login: it stays due (looked at
    /// again in [`LOGIN_RECHECK`], and at once by the next `publish --due`)
    /// until a login appears or `catch_up` runs out; nothing counts as an
    /// attempt.
    async fn wait_for_login(&self, t: &TargetRecord, e: &PlatformError) -> TargetResult {
        let now = self.now();
        let reason = format!("waiting for a login for `{}`: {e}", t.account);
        let outcome = Outcome::WaitingForLogin {
            reason: reason.clone(),
            recheck_at: now + LOGIN_RECHECK,
        };
        let result = match self
            .committer
            .commit(t.key(), Change::Outcome(outcome))
            .await
        {
            Ok(_) => Verdict::WaitingForLogin { reason },
            Err(se) => Verdict::WillRetry {
                error: format!("{reason} (and recording it failed: {se})"),
                retry_at: now.to_rfc3339(),
            },
        };
        let r = TargetResult {
            post: t.post_id.clone(),
            account: t.account.clone(),
            result,
        };
        log_result(&r);
        r
    }

    /// whose outcome is unclear (`t.uncertain`) is retried only after the
    /// platform is asked; one the platform cannot be asked about is held as
    /// unconfirmed for the user to check, never sent again blindly.
    ///
    /// `asked`: whether the error came from talking to the platform; one that
    /// came before (no credential, an account gone from social.toml) leaves
    /// an unclear target unclear, for the next attempt to settle.
    async fn finish(
        &self,
        t: &TargetRecord,
        out: Result<Vec<PublishedPart>, PlatformError>,
        may_retry: bool,
        asked: bool,
    ) -> TargetResult {
        let now = self.now();
        let mk = |result: Verdict| {
            let r = TargetResult {
                post: t.post_id.clone(),
                account: t.account.clone(),
                result,
            };
            log_result(&r);
            r
        };
        let e = match out {
            Ok(parts) => {
                let outcome = Outcome::Posted {
                    parts: parts.clone(),
                };
                if let Err(e) = self
                    .committer
                    .commit(t.key(), Change::Outcome(outcome))
                    .await
                {
                    // The claim stays: the next run confirms it with the platform.
                    return mk(Verdict::WillRetry {
                        error: format!(
                            "published, but recording it failed ({e}); the next run confirms it with the platform"
                        ),
                        retry_at: now.to_rfc3339(),
                    });
                }
                return mk(Verdict::Posted { urls: urls(&parts) });
            }
            Err(e) => e,
        };
        let mut error = e.to_string();
        let unconfirmable = asked && t.uncertain && !e.is_transient();
        let retry_at = if may_retry && e.is_transient() && t.attempts < self.max_attempts {
            Some(match &e {
                PlatformError::RateLimited {
                    retry_at: Some(at), ..
                } => *at,
                _ => {
                    now + chrono::Duration::from_std(self.http.backoff(t.attempts + 2))
                        .unwrap_or_default()
                }
            })
        } else {
            None
        };
        let held = unconfirmable || (asked && t.uncertain && retry_at.is_none());
        let outcome = if held {
            error = format!(
                "{error}; the platform may have published it and cannot tell: check the account, then `social retry {post}` to publish it again or `social cancel {post}` to leave it",
                post = t.post_id
            );
            Outcome::Unconfirmed {
                parts: t.parts.clone(),
                error: error.clone(),
            }
        } else if t.parts.is_empty() && !t.uncertain {
            Outcome::Failed {
                error: error.clone(),
                retry_at,
            }
        } else {
            Outcome::Partial {
                parts: t.parts.clone(),
                error: error.clone(),
                retry_at,
                uncertain: t.uncertain,
            }
        };
        if let Err(se) = self
            .committer
            .commit(t.key(), Change::Outcome(outcome))
            .await
        {
            // The claim stays in the store; once this run is gone the next
            // one takes it over and asks the platform first.
            return mk(Verdict::WillRetry {
                error: format!("{error} (and recording it failed: {se})"),
                retry_at: now.to_rfc3339(),
            });
        }
        match retry_at {
            Some(at) if !unconfirmable => mk(Verdict::WillRetry {
                error,
                retry_at: at.to_rfc3339(),
            }),
            _ if held => mk(Verdict::Unconfirmed { error }),
            _ => mk(Verdict::Failed { error }),
        }
    }
}

/// A claimed target waiting for a worker, with its index in the run's work.
type Work = (usize, Arc<Ready>, Claim);

/// The work of one `publish` call, shared by its workers.
struct WorkQueue {
    pending: VecDeque<(usize, Arc<Ready>, String)>,
    claimed: VecDeque<Work>,
    done: Vec<(usize, TargetResult)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How an attempt ended.
enum Attempt {
    /// Nothing was sent: refused before the first request (may it be retried).
    Refused(PlatformError, bool),
    /// Nothing was sent: the account has no usable login.
    NoLogin(PlatformError),
    Ended(Ended),
}

struct Ended {
    parts: Vec<PublishedPart>,
    result: Result<(), PlatformError>,
    /// Whether the platform may hold more than `parts` (an unclear answer
    /// that no reconcile has settled).
    uncertain: bool,
}

/// What every round of an attempt sends: the target's post, account and
/// rendering, and the facts fixed at its claim.
struct TargetJob<'a> {
    post: &'a Post,
    account: Account,
    rendered: &'a Rendered,
    media: &'a [MediaInfo],
    key: String,
    first_claimed: DateTime<Utc>,
    scheduled: Option<DateTime<Utc>>,
    reply_to: Option<ReplyTo>,
}

impl TargetJob<'_> {
    /// The job for the client, resuming after `done`.
    fn job<'j>(&'j self, done: &'j [PublishedPart]) -> Job<'j> {
        Job {
            post: self.post,
            account: &self.account,
            rendered: self.rendered,
            media: self.media,
            done,
            idempotency_key: &self.key,
            first_claimed: self.first_claimed,
            scheduled: self.scheduled,
            reply_to: self.reply_to.clone(),
        }
    }
}

/// Where an attempt's rounds stand.
struct Rounds {
    client: Box<dyn Platform>,
    secret: Secret,
    /// The parts the platform has, as far as this attempt knows.
    done: Vec<PublishedPart>,
    /// Whether the next round asks the platform first.
    reconcile: bool,
    /// Whether the platform may hold more than `done`.
    uncertain: bool,
    /// Whether the token was renewed already (once per attempt).
    renewed: bool,
}

/// How a publish round ended.
enum Round {
    /// The client returned: every part sent, or an error to weigh.
    Returned(Result<(), PlatformError>),
    /// The platform has a part the store could not record: the attempt stops.
    Unrecorded(PlatformError),
}

/// The end of an attempt's rounds: a client that returned without sending
/// every part leaves the target unclear.
fn ended(
    done: Vec<PublishedPart>,
    total: usize,
    result: Result<(), PlatformError>,
    mut uncertain: bool,
) -> Ended {
    let result = match result {
        Ok(()) if done.len() >= total => Ok(()),
        Ok(()) => {
            uncertain = true;
            Err(PlatformError::unknown(format!(
                "the client returned after {} of {total} parts",
                done.len()
            )))
        }
        Err(e) => Err(e),
    };
    Ended {
        parts: done,
        result,
        uncertain,
    }
}

fn skipped(post: &str, account: &str, state: State, reason: &str) -> TargetResult {
    TargetResult {
        post: post.to_string(),
        account: account.to_string(),
        result: Verdict::Skipped {
            state,
            reason: reason.to_string(),
        },
    }
}

fn failed_result(post: &str, account: &str, error: String) -> TargetResult {
    TargetResult {
        post: post.to_string(),
        account: account.to_string(),
        result: Verdict::Failed { error },
    }
}

/// The result for a target that could not be claimed, from its record.
fn not_claimed(t: &TargetRecord) -> TargetResult {
    let (post, account) = (t.post_id.as_str(), t.account.as_str());
    match t.status {
        TargetStatus::Posted => TargetResult {
            post: post.to_string(),
            account: account.to_string(),
            result: Verdict::AlreadyPosted {
                urls: urls(&t.parts),
            },
        },
        TargetStatus::Posting => skipped(
            post,
            account,
            State::Posting,
            "another social process is publishing it right now",
        ),
        TargetStatus::Draft => skipped(
            post,
            account,
            State::Draft,
            "the post is a draft (set `status: ready`)",
        ),
        TargetStatus::Cancelled => skipped(
            post,
            account,
            State::Cancelled,
            "cancelled (use `social retry` to publish it)",
        ),
        TargetStatus::Unconfirmed => skipped(
            post,
            account,
            State::Unconfirmed,
            "an earlier attempt may have published it; check the account, then `social retry` or `social cancel`",
        ),
        _ => skipped(post, account, t.state(), "not due yet"),
    }
}

/// Asks every account's server for its text limit (where it has one, as a
/// Mastodon instance does) and keeps the answers in `.social/limits.json` for
/// validation. Failures are logged and leave the old value.
pub async fn refresh_server_limits(engine: &Engine) {
    let mut cache = crate::config::ServerLimits::load(&engine.config.root);
    let mut changed = false;
    for account in engine.config.accounts.values() {
        let client = match engine.client(account).await {
            Ok((c, _)) => c,
            Err(e) => {
                tracing::debug!(account = %account.name, "no server limits: {e}");
                continue;
            }
        };
        match client.server_limits().await {
            Ok(Some((limit, facts))) => {
                tracing::debug!(account = %account.name, max_characters = limit.max_characters, "server limits");
                cache.record(&account.name, limit, facts);
                changed = true;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(account = %account.name, "cannot read the server's limits: {e}")
            }
        }
    }
    if changed && let Err(e) = cache.save(&engine.config.root) {
        tracing::warn!("cannot write .social/limits.json: {e}");
    }
}

/// Logs one publish attempt: post id, account, the state it is left in
/// (by its one name), URL or reason.
fn log_result(r: &TargetResult) {
    let (post, account, state) = (&r.post, &r.account, r.result.state().name());
    match &r.result {
        Verdict::Posted { urls } => {
            tracing::info!(post = %post, account = %account, state, url = %urls.first().map(String::as_str).unwrap_or(""), "published")
        }
        Verdict::AlreadyPosted { urls } => {
            tracing::info!(post = %post, account = %account, state, url = %urls.first().map(String::as_str).unwrap_or(""), "already published")
        }
        Verdict::WillRetry { error, retry_at } => {
            tracing::warn!(post = %post, account = %account, state, error = %error, retry_at = %retry_at, "publish failed; will retry")
        }
        Verdict::WaitingForLogin { reason } => {
            tracing::warn!(post = %post, account = %account, state, reason = %reason, "waiting for a login")
        }
        Verdict::Missed { due, reason } => {
            tracing::warn!(post = %post, account = %account, state, due = %due, reason = %reason, "target missed")
        }
        Verdict::Failed { error } | Verdict::Unconfirmed { error } => {
            tracing::error!(post = %post, account = %account, state, error = %error, "publish failed")
        }
        Verdict::Skipped { reason, .. } => {
            tracing::debug!(post = %post, account = %account, state, reason = %reason, "skipped")
        }
        Verdict::Deleted { urls } => {
            tracing::info!(post = %post, account = %account, state, url = %urls.first().map(String::as_str).unwrap_or(""), "deleted")
        }
        Verdict::DeleteLeft {
            error,
            left,
            retry_at,
        } => {
            tracing::warn!(post = %post, account = %account, state, error = %error, parts_left = left, retry_at = %retry_at.as_deref().unwrap_or(""), "delete stopped")
        }
        Verdict::NotDeletable { error } => {
            tracing::error!(post = %post, account = %account, state, error = %error, "cannot delete")
        }
        Verdict::Edited { urls } => {
            tracing::info!(post = %post, account = %account, state, url = %urls.first().map(String::as_str).unwrap_or(""), "edited")
        }
        Verdict::EditFailed { error, retry_at } => {
            tracing::warn!(post = %post, account = %account, state, error = %error, retry_at = %retry_at.as_deref().unwrap_or(""), "edit failed")
        }
    }
}

fn urls(parts: &[PublishedPart]) -> Vec<String> {
    parts.iter().filter_map(|p| p.url.clone()).collect()
}

struct Sink<'a> {
    committer: &'a Committer,
    key: String,
    post: &'a str,
    account: &'a str,
    parts: Vec<PublishedPart>,
    total: usize,
    progress: &'a dyn Progress,
    /// Set when a part could not be recorded: the attempt stops after it.
    failed: Option<PlatformError>,
}

impl PartSink for Sink<'_> {
    fn part(&mut self, index: usize, part: PublishedPart) -> Result<(), PlatformError> {
        // The platform has it, whatever the store says: keep it for the record.
        self.parts.truncate(index);
        self.parts.push(part.clone());
        let last = index + 1 >= self.total;
        // The last part is recorded with the target's outcome, in one commit;
        // the others at once (a thread's parts go one after the other).
        if !last {
            let change = Change::Part { index, part };
            if let Err(e) = self.committer.commit_now(self.key.clone(), change) {
                let e = PlatformError::unavailable(format!(
                    "published part {} of {}, but the state store could not record it: {e}",
                    index + 1,
                    self.total
                ));
                self.failed = Some(e.clone());
                return Err(e);
            }
        }
        self.progress
            .part(self.post, self.account, index + 1, self.total);
        Ok(())
    }
}

/// Commits `changes` in one transaction; the first that fails is the error.
fn commit_all(
    store: &Store,
    changes: &[(String, Change)],
    now: DateTime<Utc>,
) -> Result<(), crate::state::StateError> {
    if changes.is_empty() {
        return Ok(());
    }
    store
        .commit(changes, now)?
        .into_iter()
        .try_for_each(|r| r.map(|_| ()))
}

/// The targets that are due by `now`, split by the catch-up rule: those
/// whose planned time passed by more than `catch_up` are marked missed
/// (with that time kept, and a warning in the log).
pub fn due_targets(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<(Vec<TargetRecord>, Vec<TargetResult>), crate::state::StateError> {
    let grace = chrono::Duration::from_std(config.catch_up).unwrap_or(chrono::Duration::hours(1));
    let mut due = Vec::new();
    let mut missed = Vec::new();
    let mut changes = Vec::new();
    // Targets waiting for a login are taken whenever a run looks (the login
    // may have just been added), not only at their next recheck.
    for (at, t) in store.due_targets_until(now + LOGIN_RECHECK)? {
        if (at > now && !t.waiting_for_login)
            || matches!(t.status, TargetStatus::Deleting | TargetStatus::Posted)
        {
            // Deletions and edits are taken by `due_deletions`, `due_edits`.
            continue;
        }
        // A retry's time is its own; only the first attempt can be "missed".
        // A target waiting for a login counts from its planned time.
        let planned = t.planned.and_then(from_ms).unwrap_or(at);
        if t.next_attempt.is_none() && now - planned > grace {
            let late = crate::content::time::relative(planned, now)
                .trim_end_matches(" ago")
                .to_string();
            let waited = if t.waiting_for_login {
                " waiting for a login"
            } else {
                ""
            };
            let reason = format!(
                "missed its time by {late}{waited} (more than catch_up = {}); change `at` to reschedule it, or `social post {}` to publish it now",
                humantime::format_duration(config.catch_up),
                t.post_id
            );
            tracing::warn!(post = %t.post_id, account = %t.account, state = "missed", due = %planned.to_rfc3339(), reason = %reason, "target missed");
            changes.push((
                t.key(),
                Change::Outcome(Outcome::Missed {
                    reason: reason.clone(),
                }),
            ));
            missed.push(TargetResult {
                post: t.post_id.clone(),
                account: t.account.clone(),
                result: Verdict::Missed {
                    due: planned.to_rfc3339(),
                    reason,
                },
            });
        } else {
            due.push(t);
        }
    }
    commit_all(store, &changes, now)?;
    Ok((due, missed))
}

/// What `publish --due` does after syncing: reconcile targets a crashed run
/// left in flight, fail those missed by more than `catch_up`, and publish the
/// rest of what is due, each post read and checked afresh from its file.
pub async fn publish_due(
    engine: &Engine,
    progress: &dyn Progress,
) -> Result<Vec<TargetResult>, crate::state::StateError> {
    let store = &engine.store;
    let config = &engine.config;
    let now = engine.now();
    let (due, missed) = due_targets(store, config, now)?;
    // Deletions asked for (`social delete` that stopped, withdrawn files),
    // taken after publishing.
    let deletions = engine.due_deletions()?;
    let edits = engine.due_edits()?;
    let stale = store.stale_claims(now)?;
    let mut ids: Vec<String> = due
        .iter()
        .chain(stale.iter())
        .map(|t| t.post_id.clone())
        .chain(edits.iter().map(|(p, _)| p.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    let mut posts: HashMap<String, Arc<Ready>> = HashMap::new();
    let mut results = missed;
    // One read for the records, the files checked in parallel, one commit
    // for the posts whose files have errors.
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let records = store.posts_of(&ids)?;
    let checked: Vec<(String, PathBuf, crate::validate::FileReport)> = records
        .into_par_iter()
        .filter_map(|rec| {
            let path = crate::content::files::display_path(&config.root.join(rec.path.as_ref()?));
            let r =
                crate::validate::check_file(&path, config, &crate::validate::Options::default());
            Some((rec.id, path, r))
        })
        .collect();
    let mut changes = Vec::new();
    for (id, path, r) in checked {
        match r.checked {
            Some(c) if !r.diagnostics.iter().any(|d| d.is_error()) => {
                posts.insert(id, Arc::new(Ready { checked: c }));
            }
            _ => {
                for t in due.iter().filter(|t| t.post_id == id) {
                    let error = format!("{} has errors; run `social validate`", path.display());
                    changes.push((
                        t.key(),
                        Change::Outcome(Outcome::Failed {
                            error: error.clone(),
                            retry_at: None,
                        }),
                    ));
                    results.push(failed_result(&t.post_id, &t.account, error));
                }
            }
        }
    }
    commit_all(store, &changes, now)?;
    let work: Vec<(Arc<Ready>, String)> = due
        .iter()
        .filter_map(|t| {
            posts
                .get(&t.post_id)
                .map(|r| (r.clone(), t.account.clone()))
        })
        .collect();
    results.extend(engine.reconcile_stale(&posts, progress).await);
    results.extend(engine.publish(work, false, progress).await);
    results.extend(engine.delete_targets(&deletions, false, progress).await);
    // `edits = "apply"`: published posts whose file changed. A Bluesky edit
    // needs `social edit --force`, never applied behind the user's back.
    let edits: Vec<(Arc<Ready>, String)> = edits
        .into_iter()
        .filter_map(|(p, a)| posts.get(&p).map(|r| (r.clone(), a)))
        .collect();
    let mode = platforms::EditMode::default();
    results.extend(engine.edit_targets(edits, mode, true, progress).await);
    Ok(results)
}
