//! The platforms `social` publishes to, and the one table of their limits.
//!
//! Rendering, validation and (later) the clients all read [`Limits`] from
//! [`PlatformKind::limits`], so a limit is written down exactly once.

pub mod account;
pub mod bluesky;
pub mod http;
pub mod instagram;
pub mod linkedin;
pub mod mastodon;
pub mod oauth;
pub mod plan;
#[cfg(test)]
pub(crate) mod test_support;
pub mod twitter;
pub mod wire;

pub use crate::model::error::{self, PlatformError};
pub use crate::model::limits::{
    AspectRange, BLUESKY, Counting, INSTAGRAM, LINKEDIN, Limits, MASTODON, PlatformKind, TWITTER,
    ThreadSupport,
};

use crate::config::Account;
use crate::content::Post;
use crate::credentials::Secret;
use crate::model::{MediaInfo, PublishedPart};
use crate::render::Rendered;
use chrono::{DateTime, Utc};

/// One target to publish: a post rendered for one account.
pub struct Job<'a> {
    pub post: &'a Post,
    pub account: &'a Account,
    pub rendered: &'a Rendered,
    /// Media attached to the first part, in order.
    pub media: &'a [MediaInfo],
    /// Parts already published by earlier attempts: a thread resumes after them.
    pub done: &'a [PublishedPart],
    /// Stable key of this target's publication (see `state::idempotency_key`).
    pub idempotency_key: &'a str,
    /// When the target was first claimed on this machine.
    pub first_claimed: DateTime<Utc>,
    /// When the post is scheduled (its `at`): the one time every machine with
    /// the repository knows. The time part of Bluesky record keys. `None` for
    /// posts without `at` (published with `social post`, or from a queue, whose
    /// slots each machine computes from when it first synced).
    pub scheduled: Option<DateTime<Utc>>,
    /// The post to reply to, from `reply_to` (a URL, or a part of another post here).
    pub reply_to: Option<ReplyTo>,
}

impl Job<'_> {
    /// The earliest moment any machine may have published this target: the
    /// first claim here, or the scheduled time when that is earlier (another
    /// machine publishes a due post from its scheduled time on). Reading back
    /// by text looks at posts created from then on (less clock slack).
    pub fn earliest(&self) -> DateTime<Utc> {
        match self.scheduled {
            Some(s) if s < self.first_claimed => s,
            _ => self.first_claimed,
        }
    }
}

/// What a post replies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyTo {
    /// A post URL as written in `reply_to`.
    Url(String),
    /// A published part of another post of this project on the same account.
    Part(PublishedPart),
}

/// Receives each part as soon as the platform accepted it, so that progress
/// is committed before the next part is sent.
pub trait PartSink: Send {
    fn part(&mut self, index: usize, part: PublishedPart) -> Result<(), PlatformError>;
}

/// Receives each part as soon as the platform deleted (or edited) it, so
/// that progress is committed before the next part is sent.
pub trait DoneSink: Send {
    /// Part `index` is deleted (or edited); `gone`: the platform no longer
    /// had it (deleted elsewhere), which counts as deleted.
    fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError>;
}

/// A published part to delete: its index in the thread and what the store
/// recorded of it.
pub type Recorded = (usize, PublishedPart);

/// What an edit may do: `force` allows an edit that changes what other
/// people may already have replied to or quoted (a Bluesky `putRecord`).
#[derive(Clone, Copy, Debug, Default)]
pub struct EditMode {
    pub force: bool,
}

/// A platform client for one account. The engine talks only to this trait.
#[async_trait::async_trait]
pub trait Platform: Send + Sync {
    /// The requests that publish the parts of `job` following `job.done`,
    /// as values ([`plan`]): what `--dry-run` prints and `publish` sends.
    fn plan(&self, job: &Job<'_>) -> Result<plan::Plan, PlatformError>;

    /// Publishes the parts of `job` that follow `job.done`, in order, handing
    /// each accepted part to `sink` before sending the next: runs
    /// [`Platform::plan`] through [`plan::run`].
    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError>;

    /// After a crash or an answer that left the outcome unknown: the parts of
    /// `job` that are already on the platform, in order from the first.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError>;

    /// The requests that delete `parts`, in the order given (the engine
    /// passes the last part of a thread first), each a [`plan::Role::Delete`]
    /// step. A platform that cannot delete answers
    /// [`PlatformError::Unsupported`] saying what the user can do instead.
    fn plan_delete(&self, parts: &[Recorded]) -> Result<plan::Plan, PlatformError> {
        let _ = parts;
        Err(PlatformError::unsupported(
            "this platform cannot delete published posts",
        ))
    }

    /// Deletes `parts` in order, handing each deleted one to `sink` before
    /// the next is sent: runs [`Platform::plan_delete`] through
    /// [`plan::run_changes`].
    async fn delete(
        &self,
        parts: &[Recorded],
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        let _ = sink;
        self.plan_delete(parts).map(|_| ())
    }

    /// The requests that change the published parts of `job` (`job.done`)
    /// to the post as it is rendered now, each a [`plan::Role::Edit`] step.
    /// A platform that cannot edit answers [`PlatformError::Unsupported`]
    /// naming delete-and-repost; one whose edits need `--force` says so.
    fn plan_edit(&self, job: &Job<'_>, mode: EditMode) -> Result<plan::Plan, PlatformError> {
        let _ = (job, mode);
        Err(PlatformError::unsupported(
            "this platform cannot edit published posts; `social edit --repost` deletes the post and publishes it again as a new post",
        ))
    }

    /// Edits the published parts of `job`, handing each edited one to
    /// `sink`: runs [`Platform::plan_edit`] through [`plan::run_changes`].
    async fn edit(
        &self,
        job: &Job<'_>,
        mode: EditMode,
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        let _ = sink;
        self.plan_edit(job, mode).map(|_| ())
    }

    /// The requests `publish` would send, as data, for `--dry-run`: the
    /// plan, described.
    fn dry_run(&self, job: &Job<'_>) -> Vec<serde_json::Value> {
        match self.plan(job) {
            Ok(plan) => plan.describe(),
            Err(e) => vec![serde_json::json!({ "error": e.to_string() })],
        }
    }

    /// The longest text the account's server accepts, where the server says
    /// (a Mastodon instance's `max_characters`); `None` where the platform's
    /// published limit holds.
    async fn text_limit(&self) -> Result<Option<usize>, PlatformError> {
        Ok(None)
    }

    /// Everything the account's server says about its limits, as
    /// `.social/limits.json` keeps it (a Mastodon instance's text limit, URL
    /// weight, media sizes, attachment count, alt-text length); `None` where
    /// the platform's published limits hold. Validation reads the file.
    async fn server_limits(
        &self,
    ) -> Result<Option<(crate::config::ServerLimit, crate::config::ServerFacts)>, PlatformError>
    {
        Ok(None)
    }
}

/// What a client needs besides its account: the shared HTTP layer, the
/// account's secret, and a memo for what it must remember between runs.
#[derive(Clone)]
pub struct Context {
    pub http: http::Http,
    pub secret: Option<Secret>,
    pub memo: Option<Memo>,
}

/// Where a memo keeps its values: the engine backs it with the state store
/// (whichever backend that is); clients see only [`Memo`].
pub trait MemoStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    fn put(&self, key: &str, value: &[u8]) -> Result<(), String>;
}

/// The narrow handle through which a client remembers things between runs
/// (a Bluesky session, an Instagram container id, a LinkedIn author URN):
/// values by key, nothing else of the store.
#[derive(Clone)]
pub struct Memo(std::sync::Arc<dyn MemoStore>);

impl Memo {
    pub fn new(store: impl MemoStore + 'static) -> Memo {
        Memo(std::sync::Arc::new(store))
    }

    /// The value kept under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key)
    }

    /// Keeps `value` under `key`.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.put(key, value)
    }
}

/// The API base URL of `account`: its `api_url`, else `default`, checked.
pub(crate) fn api_base(account: &Account, default: &str) -> Result<String, PlatformError> {
    let base = account
        .api_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string();
    check_base(account, "api_url", base)
}

/// `base` if it parses as a URL, else a configuration error naming `key`.
pub(crate) fn check_base(
    account: &Account,
    key: &str,
    base: String,
) -> Result<String, PlatformError> {
    match reqwest::Url::parse(&base) {
        Ok(_) => Ok(base),
        Err(e) => Err(PlatformError::config(format!(
            "account `{}`: `{key}` is not a URL ({e}): {base}",
            account.name
        ))),
    }
}

/// The account's access token, or an error saying where to put one.
pub(crate) fn require_token(
    account: &Account,
    secret: Option<Secret>,
) -> Result<Secret, PlatformError> {
    secret.ok_or_else(|| {
        PlatformError::config(format!(
            "no access token for account `{}`: set the environment variable {}",
            account.name,
            crate::credentials::env_var(&account.name)
        ))
    })
}

/// The client for `account`. The one place that maps a platform to its client.
pub fn connect(account: &Account, ctx: Context) -> Result<Box<dyn Platform>, PlatformError> {
    match account.platform {
        PlatformKind::Bluesky => Ok(Box::new(bluesky::Bluesky::new(account, ctx)?)),
        PlatformKind::Mastodon => Ok(Box::new(mastodon::Mastodon::new(account, ctx)?)),
        PlatformKind::Twitter => Ok(Box::new(twitter::Twitter::new(account, ctx)?)),
        PlatformKind::Linkedin => Ok(Box::new(linkedin::Linkedin::new(account, ctx)?)),
        PlatformKind::Instagram => Ok(Box::new(instagram::Instagram::new(
            account,
            ctx,
            account.media_base_url.clone(),
        )?)),
    }
}
