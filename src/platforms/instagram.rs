//! The Instagram client (Graph API content publishing, Instagram Login):
//! a media container per post (`POST /<ig-user-id>/media`), child
//! containers for a carousel, the container's `status_code` polled until
//! `FINISHED`, then `POST /<ig-user-id>/media_publish` and the permalink.
//!
//! Publishing is a [`Plan`]: the account lookup (when no `user_id` is
//! configured), the check of a container an earlier attempt stored, the
//! publishing limit, the carousel items, the post's container, and
//! `media_publish`. `--dry-run` prints that plan; `publish` runs it.
//!
//! Instagram fetches the media itself from public URLs: a file's URL is
//! the media base URL (the account's `media_base_url`, else the project's)
//! followed by the file's path as written in the post.
//!
//! Exactly once: the final container's id is kept in the state store
//! (`instagram/<target key>/container`) before it is handed to
//! `media_publish`, and Instagram refuses to publish one container twice.
//! [`Platform::reconcile`] reads that container's status: `PUBLISHED`
//! means the post went out, and its media is found among the account's
//! recent media by caption. No stored container means nothing was ever
//! handed to `media_publish`.
//!
//! The daily publishing limit (`content_publishing_limit`) is read before
//! publishing; when it is used up the target is handed back as
//! [`PlatformError::RateLimited`], which the engine reschedules.

pub mod account;
use super::http::{Http, Repeat, short};
use super::plan::{self, Plan, Progress, Request, Role, Slot, Step, Steps};
use super::wire::{self, Effect, segment};
use super::{Context, EditMode, Job, Memo, PartSink, Platform, PlatformError, Recorded};
use crate::config::Account;
use crate::credentials::Secret;
use crate::model::{MediaInfo, MediaKind, PublishedPart};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use std::time::Duration;

/// The API when an account names none. An account may pin a Graph API
/// version by including it: `api_url = "https://graph.instagram.com/v23.0"`.
pub const DEFAULT_API: &str = "https://graph.instagram.com";

/// Whether `base` is the Graph API of Facebook Login (`graph.facebook.com`)
/// rather than Instagram Login's `graph.instagram.com`. The two take
/// different tokens: an Instagram Login token fails on graph.facebook.com
/// and the other way round. On graph.facebook.com `/me` is the Facebook
/// user, not the Instagram account.
pub fn facebook_login(base: &str) -> bool {
    reqwest::Url::parse(base)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .is_some_and(|h| h == "graph.facebook.com" || h.ends_with(".graph.facebook.com"))
}

/// Under Facebook Login: the Instagram professional account linked to the
/// first Facebook Page the token manages, from
/// `GET /me/accounts?fields=instagram_business_account{id,username}`:
/// its id and user name.
pub fn linked_account(pages: &Value) -> Option<(String, Option<String>)> {
    pages["data"].as_array()?.iter().find_map(|page| {
        let ig = &page["instagram_business_account"];
        let id = match &ig["id"] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some((id, ig["username"].as_str().map(str::to_string)))
    })
}

/// The query of the Facebook Login lookup of the linked account.
pub const LINKED_ACCOUNT_FIELDS: &str = "instagram_business_account{id,username}";

/// Most items of a carousel.
pub const MAX_CAROUSEL_ITEMS: usize = 10;

/// How much earlier than the first claim a media may say it was created
/// (clocks disagree) and still count as ours.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);

/// When the publishing limit is used up and Instagram does not say when a
/// slot frees up (its window is a rolling 24 hours): try again after this.
const QUOTA_RETRY: chrono::Duration = chrono::Duration::hours(1);

/// The steps of a plan, by what they do (their `what`).
const READ_ACCOUNT: &str = "reading the account";
const READ_LINKED_ACCOUNT: &str = "finding the Instagram account of the Facebook Page";
const CHECK_STORED: &str = "checking the media container an earlier attempt stored";
const READ_QUOTA: &str = "reading the publishing limit";

/// How a dry run shows the account id read by the first step.
const UID_LABEL: &str = "id of the Instagram account";

/// Where the answer of [`CHECK_STORED`] keeps what it found.
const STORED: &str = "stored_container";

/// The state-store meta key holding the container a target publishes.
pub fn container_key(idempotency_key: &str) -> String {
    format!("instagram/{idempotency_key}/container")
}

/// The public URL of a media file: `base`, then the path as written in the
/// post, each segment percent-encoded.
pub fn media_url(base: &str, path: &str) -> String {
    let mut url = base.trim_end_matches('/').to_string();
    for seg in path.split(['/', '\\']) {
        if seg.is_empty() || seg == "." {
            continue;
        }
        url.push('/');
        url.push_str(&segment(seg));
    }
    url
}

/// The Instagram client for one account.
pub struct Instagram {
    account: String,
    /// API base URL, without a trailing `/`.
    base: String,
    token: Secret,
    http: Http,
    memo: Option<Memo>,
    /// The Instagram professional account id, when configured.
    user_id: Option<String>,
    /// Where the project's media files are served, without a trailing `/`.
    pub media_base_url: Option<String>,
    /// Longest wait for a container to finish (videos take minutes).
    media_wait: Duration,
    /// First delay between polls of a container; doubles up to `poll_max`.
    poll_first: Duration,
    poll_max: Duration,
}

/// Graph ids are strings; tolerate numbers.
fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "expected an id, got {other}"
        ))),
    }
}

#[derive(Deserialize)]
struct Created {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

#[derive(Deserialize)]
struct Me {
    #[serde(default)]
    user_id: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
}

#[derive(Deserialize)]
struct ContainerStatus {
    #[serde(default)]
    status_code: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Deserialize)]
struct PublishingLimit {
    #[serde(default)]
    data: Vec<LimitEntry>,
}

#[derive(Deserialize)]
struct LimitEntry {
    #[serde(default)]
    quota_usage: Option<u64>,
    #[serde(default)]
    config: Option<LimitConfig>,
}

#[derive(Deserialize)]
struct LimitConfig {
    #[serde(default)]
    quota_total: Option<u64>,
    /// Seconds.
    #[serde(default)]
    quota_duration: Option<u64>,
}

#[derive(Deserialize)]
struct MediaPage {
    #[serde(default)]
    data: Vec<MediaItem>,
}

#[derive(Deserialize, Debug)]
struct MediaItem {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

impl MediaItem {
    fn created(&self) -> Option<DateTime<Utc>> {
        let t = self.timestamp.as_deref()?;
        DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z")
            .or_else(|_| DateTime::parse_from_rfc3339(t))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[derive(Deserialize)]
struct Permalink {
    #[serde(default)]
    permalink: Option<String>,
}

/// A published post as a step's answer: what [`Steps::published`] reads.
#[derive(Deserialize)]
struct PostAnswer {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    permalink: Option<String>,
}

/// What to send for one container, as Graph API parameters.
type Params = Vec<(&'static str, String)>;

/// What the check of a stored container found, read back from its answer
/// by the steps after it.
enum Earlier {
    /// No container stored, or one that can no longer be published (it
    /// failed or expired): everything is created anew.
    Fresh,
    /// A container that is processing or ready: published instead of a new one.
    Reuse(String),
    /// The container is published and its post found: nothing is sent again.
    Published { container: String, post: Value },
}

impl Earlier {
    fn of(progress: &Progress<'_>) -> Earlier {
        let Some(s) = progress.answers.iter().find_map(|a| a.get(STORED)) else {
            return Earlier::Fresh;
        };
        let container = s["container"].as_str().unwrap_or_default().to_string();
        if !s["post"].is_null() {
            return Earlier::Published {
                container,
                post: s["post"].clone(),
            };
        }
        if s["reuse"] == json!(true) {
            return Earlier::Reuse(container);
        }
        Earlier::Fresh
    }
}

impl Instagram {
    /// The client for `account`, which needs a (long-lived) access token.
    /// `media_base_url` is used when the account sets none (the project's).
    pub fn new(
        account: &Account,
        ctx: Context,
        media_base_url: Option<String>,
    ) -> Result<Self, PlatformError> {
        let base = super::api_base(account, DEFAULT_API)?;
        let token = super::require_token(account, ctx.secret)?;
        let media_base_url = account
            .media_base_url
            .clone()
            .or(media_base_url)
            .map(|u| u.trim().trim_end_matches('/').to_string())
            .filter(|u| !u.is_empty());
        Ok(Instagram {
            account: account.name.clone(),
            base,
            token,
            http: ctx.http,
            memo: ctx.memo,
            user_id: account
                .user_id
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string),
            media_base_url,
            media_wait: Duration::from_secs(600),
            poll_first: Duration::from_secs(2),
            poll_max: Duration::from_secs(15),
        })
    }

    /// Sets the media base URL used when the account sets none.
    pub fn with_media_base_url(mut self, url: Option<String>) -> Self {
        if self.media_base_url.is_none() {
            self.media_base_url = url
                .map(|u| u.trim().trim_end_matches('/').to_string())
                .filter(|u| !u.is_empty());
        }
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends `request` with the token, as the HTTP layer allows it to be
    /// repeated, and reads the answer.
    async fn exchange(
        &self,
        request: Request,
        what: &str,
        effect: Effect,
    ) -> Result<wire::Answer, PlatformError> {
        let loaded = request.load().await?;
        let resp = loaded
            .send(&self.http, &self.account, |b| {
                b.bearer_auth(self.token.expose())
            })
            .await?;
        wire::read(resp, what, effect, &Dialect).await
    }

    /// A GET with the token, retried as the HTTP layer allows, its JSON read.
    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        fields: &str,
    ) -> Result<T, PlatformError> {
        let request = Request::get(self.url(path)).query("fields", fields);
        self.exchange(request, what, Effect::Read)
            .await?
            .json(what, Effect::Read)
    }

    /// The request that finds the professional account's id: `GET /me`
    /// (Instagram Login), or the account linked to the token's Facebook
    /// Page (Facebook Login, where `/me` is the Facebook user).
    fn account_step(&self) -> Step {
        if facebook_login(&self.base) {
            Step::new(
                READ_LINKED_ACCOUNT,
                Role::Lookup,
                Request::get(self.url("/me/accounts")).query("fields", LINKED_ACCOUNT_FIELDS),
            )
        } else {
            Step::new(
                READ_ACCOUNT,
                Role::Lookup,
                Request::get(self.url("/me")).query("fields", "user_id,username"),
            )
        }
    }

    /// The account id in the answer of [`Instagram::account_step`].
    fn account_id(&self, what: &str, answer: &Value) -> Result<String, PlatformError> {
        if what == READ_LINKED_ACCOUNT {
            return linked_account(answer).map(|(id, _)| id).ok_or_else(|| {
                PlatformError::config(format!(
                    "account `{}`: no Facebook Page this token manages has a linked Instagram professional account; \
                     link one, or set `user_id` (the Instagram account id) under [accounts.{}]",
                    self.account, self.account
                ))
            });
        }
        let me: Me = serde_json::from_value(answer.clone()).map_err(|e| {
            PlatformError::unavailable(format!("{what}: an unreadable answer ({e})"))
        })?;
        let id = me.user_id.or(me.id).and_then(|v| match v {
            Value::String(s) if !s.is_empty() => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        id.ok_or_else(|| PlatformError::unavailable(format!("{what}: the answer has no `user_id`")))
    }

    /// The professional account's id: configured, else looked up.
    async fn ig_user_id(&self) -> Result<String, PlatformError> {
        if let Some(id) = &self.user_id {
            return Ok(id.clone());
        }
        let step = self.account_step();
        let answer: Value = self
            .exchange(step.request.clone(), &step.what, Effect::Read)
            .await?
            .json(&step.what, Effect::Read)?;
        self.account_id(&step.what, &answer)
    }

    /// The account id while a plan runs: configured, else the answer of its
    /// first step, which looked it up.
    fn uid_of(&self, progress: &Progress<'_>) -> Result<String, PlatformError> {
        if let Some(id) = &self.user_id {
            return Ok(id.clone());
        }
        progress
            .answers
            .first()
            .and_then(|a| a["id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| PlatformError::unavailable("the account's id was not read"))
    }

    /// Refuses with `RateLimited` when the publishing limit is used up.
    fn check_quota(&self, limit: &PublishingLimit) -> Result<(), PlatformError> {
        let Some(entry) = limit.data.first() else {
            return Ok(());
        };
        let (Some(used), Some(total)) = (
            entry.quota_usage,
            entry.config.as_ref().and_then(|c| c.quota_total),
        ) else {
            return Ok(());
        };
        if used < total {
            return Ok(());
        }
        let hours = entry
            .config
            .as_ref()
            .and_then(|c| c.quota_duration)
            .map(|s| format!(" in {} hours", s / 3600))
            .unwrap_or_default();
        Err(PlatformError::RateLimited {
            retry_at: Some(crate::clock::now() + QUOTA_RETRY),
            message: format!(
                "Instagram's publishing limit is used up: {used} of {total} posts{hours}"
            ),
        })
    }

    async fn container_status(&self, id: &str) -> Result<ContainerStatus, PlatformError> {
        self.get_json(
            "reading the media container's status",
            &format!("/{}", segment(id)),
            "status_code,status",
        )
        .await
    }

    /// Polls a container until it is ready to publish.
    async fn wait_finished(&self, id: &str, what: &str) -> Result<(), PlatformError> {
        let deadline = tokio::time::Instant::now() + self.media_wait;
        let mut delay = self.poll_first;
        loop {
            let s = self.container_status(id).await?;
            let detail = s.status.as_deref().unwrap_or("no details given");
            match s.status_code.as_deref() {
                Some("FINISHED") => return Ok(()),
                Some("ERROR") => {
                    return Err(PlatformError::rejected(format!(
                        "Instagram could not process {what}: {detail}"
                    )));
                }
                Some("EXPIRED") => {
                    return Err(PlatformError::rejected(format!(
                        "the media container of {what} expired before it was published"
                    )));
                }
                Some("PUBLISHED") => {
                    return Err(PlatformError::unknown(format!(
                        "the media container of {what} is already published"
                    )));
                }
                _ => {}
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(PlatformError::unavailable(format!(
                    "Instagram was still processing {what} after {}s",
                    self.media_wait.as_secs()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
        }
    }

    /// The media's permalink; a post that went out is not failed for want of it.
    async fn permalink(&self, media_id: &str) -> Option<String> {
        self.get_json::<Permalink>(
            "reading the post's permalink",
            &format!("/{}", segment(media_id)),
            "permalink",
        )
        .await
        .ok()
        .and_then(|p| p.permalink)
    }

    /// The published media of `job` among the account's recent media: the
    /// same caption, created after the first claim.
    async fn find_media(
        &self,
        uid: &str,
        job: &Job<'_>,
    ) -> Result<Option<PublishedPart>, PlatformError> {
        let page: MediaPage = self
            .get_json(
                "reading the account's recent media",
                &format!("/{}/media", segment(uid)),
                "id,caption,permalink,timestamp",
            )
            .await?;
        let since = job.first_claimed - CLOCK_SLACK;
        let caption = wire::comparable(&caption(job));
        Ok(page
            .data
            .into_iter()
            .find(|m| {
                m.created().is_none_or(|t| t >= since)
                    && wire::comparable(m.caption.as_deref().unwrap_or("")) == caption
            })
            .map(|m| PublishedPart {
                id: m.id,
                url: m.permalink,
                cid: None,
            }))
    }

    /// The container an earlier attempt stored for this target.
    fn stored_container(&self, job: &Job<'_>) -> Result<Option<String>, PlatformError> {
        let Some(memo) = &self.memo else {
            return Ok(None);
        };
        let bytes = memo
            .get(&container_key(job.idempotency_key))
            .map_err(|e| PlatformError::unavailable(format!("reading the state store: {e}")))?;
        Ok(bytes
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !s.is_empty()))
    }

    /// Keeps the container about to be published: the mark that it may
    /// have gone out, written before `media_publish` is sent.
    fn store_container(&self, job: &Job<'_>, container: &str) -> Result<(), PlatformError> {
        let Some(memo) = &self.memo else {
            return Ok(());
        };
        memo.put(&container_key(job.idempotency_key), container.as_bytes())
            .map_err(|e| {
                PlatformError::unavailable(format!(
                    "recording the media container in the state store: {e}"
                ))
            })
    }

    /// The requests that publish `job`: the account lookup (without a
    /// configured `user_id`), the check of a container an earlier attempt
    /// stored, the publishing limit, one container per carousel item, the
    /// post's container, and `media_publish` of that container.
    fn plan_job(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let mut plan = Plan::default();
        // One post, whatever the thread: it went out when a part did.
        if !job.done.is_empty() {
            return Ok(plan);
        }
        check_media(job)?;
        let base = self.media_base_url.as_deref().ok_or_else(|| {
            PlatformError::config(format!(
                "Instagram fetches media from a public URL: set `media_base_url = \"https://…\"` \
                 under [accounts.{}] or at the top of social.toml",
                self.account
            ))
        })?;
        let stored = self.stored_container(job)?;
        // The account id in the paths: configured, or the first answer's.
        let lookup = match &self.user_id {
            Some(_) => None,
            None => Some(plan.push(self.account_step())),
        };
        let uid = match &self.user_id {
            Some(u) => segment(u),
            None => "{uid}".to_string(),
        };
        let with_uid = |step: Step| match lookup {
            Some(at) => step.fill(Slot::Path("uid".into()), at, "/id", UID_LABEL),
            None => step,
        };
        if let Some(c) = &stored {
            plan.push(Step::new(
                CHECK_STORED,
                Role::Lookup,
                Request::get(self.url(&format!("/{}", segment(c))))
                    .query("fields", "status_code,status"),
            ));
        }
        plan.push(with_uid(Step::new(
            READ_QUOTA,
            Role::Lookup,
            Request::get(self.url(&format!("/{uid}/content_publishing_limit")))
                .query("fields", "quota_usage,config"),
        )));
        // A repeated container create leaves an unused container behind,
        // which expires after a day: safe to retry.
        let containers = self.url(&format!("/{uid}/media"));
        let create = |params: Params| {
            params
                .into_iter()
                .fold(Request::post(containers.clone()), |r, (k, v)| r.query(k, v))
        };
        let caption = caption(job);
        let container = match job.media {
            [one] => plan.push(with_uid(Step::new(
                "creating the media container",
                Role::Prepare(0),
                create(single_params(base, one, &caption)),
            ))),
            many => {
                let items: Vec<usize> = many
                    .iter()
                    .enumerate()
                    .map(|(n, m)| {
                        plan.push(with_uid(Step::new(
                            format!("creating the carousel item {}", m.path),
                            Role::Media(n),
                            create(child_params(base, m)),
                        )))
                    })
                    .collect();
                let mut step = with_uid(Step::new(
                    "creating the carousel container",
                    Role::Prepare(0),
                    create(carousel_params(&caption)),
                ));
                for (n, &at) in items.iter().enumerate() {
                    step = step.fill(
                        Slot::QueryItem("children".into()),
                        at,
                        "/id",
                        format!("container {}", n + 1),
                    );
                }
                plan.push(step)
            }
        };
        // Never resent blindly: an unclear answer is `Unknown`, and the
        // stored container's status tells what happened.
        plan.push(
            with_uid(Step::new(
                "publishing the post",
                Role::Part(0),
                Request::post(self.url(&format!("/{uid}/media_publish"))).repeat(Repeat::Unsafe),
            ))
            .fill(
                Slot::Query("creation_id".into()),
                container,
                "/id",
                "container of the post, once FINISHED",
            ),
        );
        Ok(plan)
    }

    /// The check of a stored container: published (and its post found),
    /// reusable, or to be replaced.
    async fn check_stored(
        &self,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let container = self.stored_container(progress.job)?.unwrap_or_default();
        let status: ContainerStatus = self
            .exchange(request, CHECK_STORED, Effect::Read)
            .await?
            .json(CHECK_STORED, Effect::Read)?;
        let found = match status.status_code.as_deref() {
            Some("PUBLISHED") => {
                let uid = self.uid_of(progress)?;
                match self.find_media(&uid, progress.job).await? {
                    Some(p) => json!({"id": p.id, "permalink": p.url}),
                    None => {
                        return Err(PlatformError::unknown(format!(
                            "media container {container} is published, but the post is not among the account's recent media yet"
                        )));
                    }
                }
            }
            _ => Value::Null,
        };
        let reuse = matches!(
            status.status_code.as_deref(),
            Some("FINISHED" | "IN_PROGRESS")
        );
        let mut answer = json!({});
        answer[STORED] = json!({"container": container, "reuse": reuse, "post": found});
        Ok(answer)
    }
}

#[async_trait::async_trait]
impl Steps for Instagram {
    /// Adds the token, and does what no request says in advance: turns the
    /// account lookup into `{"id"}`, refuses when the publishing limit is
    /// used up, waits while Instagram processes a video item and the post's
    /// container, keeps the container in the state store before it is
    /// published, reads the permalink after, and skips what a stored
    /// container from an earlier attempt already did.
    async fn send(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let what = step.what.as_str();
        let earlier = Earlier::of(progress);
        match step.role {
            Role::Lookup if what == CHECK_STORED => self.check_stored(request, progress).await,
            Role::Delete(_) | Role::Edit(_) => Err(super::plan::not_publishing(step)),
            Role::Lookup if what == READ_QUOTA => {
                // A post already out needs no slot of the limit.
                if matches!(earlier, Earlier::Published { .. }) {
                    return Ok(json!({}));
                }
                let answer = self.exchange(request, what, Effect::Read).await?;
                let limit: PublishingLimit = answer.json(what, Effect::Read)?;
                self.check_quota(&limit)?;
                answer.json(what, Effect::Read)
            }
            Role::Lookup => {
                let answer: Value = self
                    .exchange(request, what, Effect::Read)
                    .await?
                    .json(what, Effect::Read)?;
                Ok(json!({ "id": self.account_id(what, &answer)? }))
            }
            Role::Media(n) => {
                if !matches!(earlier, Earlier::Fresh) {
                    return Ok(json!({"id": "", "skipped": true}));
                }
                let created: Created = self
                    .exchange(request, what, Effect::Read)
                    .await?
                    .json(what, Effect::Read)?;
                let m = &progress.job.media[n];
                if m.kind == MediaKind::Video {
                    self.wait_finished(&created.id, &m.path).await?;
                }
                Ok(json!({"id": created.id}))
            }
            Role::Prepare(_) => match earlier {
                Earlier::Reuse(c) | Earlier::Published { container: c, .. } => Ok(json!({"id": c})),
                Earlier::Fresh => {
                    let created: Created = self
                        .exchange(request, what, Effect::Read)
                        .await?
                        .json(what, Effect::Read)?;
                    self.store_container(progress.job, &created.id)?;
                    Ok(json!({"id": created.id}))
                }
            },
            Role::Part(_) => {
                if let Earlier::Published { post, .. } = earlier {
                    return Ok(post);
                }
                let container = request
                    .query
                    .iter()
                    .find(|(k, _)| k == "creation_id")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                self.wait_finished(&container, "the post's media").await?;
                let created: Created = self
                    .exchange(request, what, Effect::Create)
                    .await?
                    .json(what, Effect::Create)?;
                let permalink = self.permalink(&created.id).await;
                Ok(json!({"id": created.id, "permalink": permalink}))
            }
        }
    }

    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError> {
        let post: PostAnswer = serde_json::from_value(answer.clone()).map_err(|e| {
            PlatformError::unknown(format!(
                "{}: the post was published, but its answer is unreadable ({e})",
                step.what
            ))
        })?;
        Ok(PublishedPart {
            id: post.id,
            url: post.permalink,
            cid: None,
        })
    }
}

#[async_trait::async_trait]
impl Platform for Instagram {
    fn plan(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        self.plan_job(job)
    }

    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        plan::run(self, job, &self.plan_job(job)?, sink).await
    }

    /// With a state store: nothing went out unless a container was stored,
    /// and then its status says whether it was published. Without one, the
    /// account's recent media are searched for the caption.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        if !job.done.is_empty() {
            return Ok(job.done.to_vec());
        }
        if self.memo.is_some() {
            let Some(c) = self.stored_container(job)? else {
                return Ok(Vec::new());
            };
            let status = self.container_status(&c).await?;
            if status.status_code.as_deref() != Some("PUBLISHED") {
                return Ok(Vec::new());
            }
            let uid = self.ig_user_id().await?;
            return match self.find_media(&uid, job).await? {
                Some(found) => Ok(vec![found]),
                None => Err(PlatformError::unknown(format!(
                    "media container {c} is published, but the post is not among the account's recent media yet"
                ))),
            };
        }
        let uid = self.ig_user_id().await?;
        Ok(self.find_media(&uid, job).await?.into_iter().collect())
    }

    /// Refused, sending nothing: the Graph API has no delete for published
    /// media (the IG Media node cannot be deleted); the message names each
    /// part's permalink so the user can delete it in the app.
    fn plan_delete(&self, parts: &[Recorded]) -> Result<Plan, PlatformError> {
        let places = parts
            .iter()
            .map(|(_, p)| where_to_find(p))
            .collect::<Vec<_>>();
        Err(PlatformError::unsupported(format!(
            "Instagram's API cannot delete a published post; delete it in the Instagram app: {}",
            listed(&places)
        )))
    }

    async fn delete(
        &self,
        parts: &[Recorded],
        _: &mut dyn super::DoneSink,
    ) -> Result<(), PlatformError> {
        self.plan_delete(parts).map(|_| ())
    }

    /// Refused, sending nothing: the Graph API can update a published
    /// media's `comment_enabled` only, not its caption or media; the
    /// message names the permalink so the user can edit it in the app.
    fn plan_edit(&self, job: &Job<'_>, _: EditMode) -> Result<Plan, PlatformError> {
        let places = job.done.iter().map(where_to_find).collect::<Vec<_>>();
        Err(PlatformError::unsupported(format!(
            "Instagram's API cannot edit the caption of a published post; edit it in the Instagram app: {}",
            listed(&places)
        )))
    }

    async fn edit(
        &self,
        job: &Job<'_>,
        mode: EditMode,
        _: &mut dyn super::DoneSink,
    ) -> Result<(), PlatformError> {
        self.plan_edit(job, mode).map(|_| ())
    }
}

/// Where the user finds a published part: its permalink, else its media id.
fn where_to_find(p: &PublishedPart) -> String {
    match p.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => url.to_string(),
        None => format!("media {}", p.id),
    }
}

/// Items for a message, or what stands in for none.
fn listed(items: &[String]) -> String {
    if items.is_empty() {
        "no published part is recorded".to_string()
    } else {
        items.join(", ")
    }
}

/// Refuses what Instagram cannot take, before anything is sent.
fn check_media(job: &Job<'_>) -> Result<(), PlatformError> {
    match job.media.len() {
        0 => Err(PlatformError::rejected(
            "an Instagram post needs at least one image or video",
        )),
        n if n > MAX_CAROUSEL_ITEMS => Err(PlatformError::rejected(format!(
            "an Instagram post takes at most {MAX_CAROUSEL_ITEMS} images and videos, not {n}"
        ))),
        _ => Ok(()),
    }
}

/// The caption: the rendered text (the renderer joins a thread into one part).
fn caption(job: &Job<'_>) -> String {
    job.rendered
        .parts
        .iter()
        .map(|p| p.text.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A post of one image (with its alt text) or one video (a reel).
fn single_params(base: &str, m: &MediaInfo, caption: &str) -> Params {
    let url = media_url(base, &m.project_path);
    let mut p: Params = Vec::new();
    if m.kind == MediaKind::Video {
        p.push(("media_type", "REELS".into()));
        p.push(("video_url", url));
    } else {
        p.push(("image_url", url));
    }
    p.push(("caption", caption.to_string()));
    if m.kind != MediaKind::Video
        && let Some(alt) = &m.alt
    {
        p.push(("alt_text", alt.clone()));
    }
    p
}

/// One item of a carousel.
fn child_params(base: &str, m: &MediaInfo) -> Params {
    let url = media_url(base, &m.project_path);
    let mut p: Params = Vec::new();
    if m.kind == MediaKind::Video {
        p.push(("media_type", "VIDEO".into()));
        p.push(("video_url", url));
    } else {
        p.push(("image_url", url));
    }
    p.push(("is_carousel_item", "true".into()));
    if m.kind != MediaKind::Video
        && let Some(alt) = &m.alt
    {
        p.push(("alt_text", alt.clone()));
    }
    p
}

/// The carousel container; its `children` are filled in from the items'
/// answers, in order.
fn carousel_params(caption: &str) -> Params {
    vec![
        ("media_type", "CAROUSEL".into()),
        ("children", String::new()),
        ("caption", caption.to_string()),
    ]
}

/// When Meta says throttled calls may resume: the largest
/// `estimated_time_to_regain_access` (minutes) of the
/// `x-business-use-case-usage` header.
fn regain_access_at(h: &HeaderMap) -> Option<DateTime<Utc>> {
    let v: Value = serde_json::from_str(h.get("x-business-use-case-usage")?.to_str().ok()?).ok()?;
    let minutes = v
        .as_object()?
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(|u| u.get("estimated_time_to_regain_access")?.as_i64())
        .max()?;
    (minutes > 0).then(|| crate::clock::now() + chrono::Duration::minutes(minutes))
}

/// The parts of a Graph API error body.
#[derive(Debug, Default, PartialEq, Eq)]
struct GraphError {
    message: String,
    code: Option<i64>,
    subcode: Option<i64>,
    transient: bool,
}

/// Reads `{"error": {message, type, code, error_subcode, error_user_msg,
/// is_transient}}` tolerantly: anything missing stays empty.
fn graph_error(body: &str) -> GraphError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let e = &v["error"];
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let num = |k: &str| {
        e.get(k)
            .and_then(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok()))
    };
    let code = num("code");
    let subcode = num("error_subcode");
    let mut message = match (text("message"), text("error_user_msg")) {
        (Some(m), Some(u)) if u != m => format!("{m} ({u})"),
        (Some(m), _) => m.to_string(),
        (None, Some(u)) => u.to_string(),
        (None, None) if body.trim().is_empty() => "no details given".into(),
        (None, None) => short(body),
    };
    match (code, subcode) {
        (Some(c), Some(s)) => message.push_str(&format!(" [code {c}, subcode {s}]")),
        (Some(c), None) => message.push_str(&format!(" [code {c}]")),
        _ => {}
    }
    GraphError {
        message: short(&message),
        code,
        subcode,
        transient: e.get("is_transient").and_then(Value::as_bool) == Some(true),
    }
}

/// How the Graph API explains and classifies its errors: the body is
/// `{"error": {message, type, code, error_subcode, error_user_msg,
/// is_transient}}`, the code (not the status) says what happened, and a
/// throttled call's `x-business-use-case-usage` header says when to come
/// back.
struct Dialect;

impl wire::Dialect for Dialect {
    fn message(&self, body: &str) -> String {
        graph_error(body).message
    }

    /// Long-lived tokens expire after 60 days.
    fn expiring_tokens(&self) -> bool {
        true
    }

    fn error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &str,
        what: &str,
        effect: Effect,
    ) -> PlatformError {
        let g = graph_error(body);
        let message = format!("{what}: HTTP {status}: {}", g.message);
        match (g.code, g.subcode) {
            (Some(190), _) => PlatformError::Auth {
                expired: true,
                message,
            },
            // "We restrict certain activity to protect our community": not a rate limit.
            (Some(4), Some(2_207_051)) => PlatformError::rejected(message),
            // Call-rate limits, and the publishing limit (9 / 2207042).
            (Some(4 | 17 | 32 | 613), _) | (Some(9), Some(2_207_042)) => {
                PlatformError::RateLimited {
                    retry_at: Some(
                        regain_access_at(headers)
                            .unwrap_or_else(|| crate::clock::now() + QUOTA_RETRY),
                    ),
                    message,
                }
            }
            // Instagram's own "try again" errors (-1, -2, 1, 2).
            _ if g.transient || matches!(g.code, Some(-2 | -1 | 1 | 2)) => match effect {
                Effect::Create => PlatformError::unknown(message),
                Effect::Read => PlatformError::unavailable(message),
            },
            _ => wire::status_error(status, message, self.expiring_tokens()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Collect, Fixture, fast_http as http};
    use crate::platforms::wire::Dialect as _;
    use crate::state::Store;

    fn fixture(server: &MockServer, src: &str, media: Vec<MediaInfo>) -> Fixture {
        let mut f = Fixture::new(account(&server.uri()), src, KEY);
        f.media = media;
        f
    }

    use crate::platforms::PlatformKind;

    use std::path::Path;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const TOKEN: &str = "ig-token-secret";
    const BEARER: &str = "Bearer ig-token-secret";
    const KEY: &str = "social-0123abcd";
    const UID: &str = "17841400000000001";
    const MEDIA_BASE: &str = "https://cdn.example.com/posts";

    fn account(api: &str) -> Account {
        Account {
            name: "ig".into(),
            platform: PlatformKind::Instagram,
            handle: None,
            service: None,
            instance: None,
            username: None,
            api_url: Some(api.into()),
            auth_url: None,
            client_id: None,
            user_id: Some(UID.into()),
            media_base_url: None,
            max_characters: None,
            linkedin_version: None,
        }
    }

    fn client_for(acc: &Account, store: Option<Store>) -> Instagram {
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: store.as_ref().map(crate::publish::memo),
        };
        let mut ig = Instagram::new(acc, ctx, Some(format!("{MEDIA_BASE}/"))).unwrap();
        ig.poll_first = Duration::from_millis(5);
        ig.poll_max = Duration::from_millis(20);
        ig.media_wait = Duration::from_secs(5);
        ig
    }

    fn client(server: &MockServer, store: Option<Store>) -> Instagram {
        client_for(&account(&server.uri()), store)
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        (dir, store)
    }

    fn media(path: &str, kind: MediaKind, alt: Option<&str>) -> MediaInfo {
        MediaInfo {
            path: path.into(),
            project_path: path.into(),
            resolved: Path::new("/nonexistent").join(path),
            mime: if kind == MediaKind::Video {
                "video/mp4"
            } else {
                "image/jpeg"
            },
            kind,
            bytes: 1000,
            alt: alt.map(str::to_string),
        }
    }

    /// Matches a request whose query is exactly `want` (order aside).
    fn exact_query(want: &[(&str, &str)]) -> impl Fn(&Request) -> bool + Send + Sync + 'static {
        let mut want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        want.sort();
        move |req: &Request| {
            let mut got: Vec<(String, String)> = req
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            got.sort();
            got == want
        }
    }

    fn graph(verb: &str, p: &str, query: &[(&str, &str)]) -> wiremock::MockBuilder {
        Mock::given(method(verb))
            .and(path(p.to_string()))
            .and(header("authorization", BEARER))
            .and(exact_query(query))
    }

    fn ok(v: Value) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(v)
    }

    async fn mount_quota(server: &MockServer, used: u64, times: u64) {
        graph(
            "GET",
            &format!("/{UID}/content_publishing_limit"),
            &[("fields", "quota_usage,config")],
        )
        .respond_with(ok(json!({"data": [
            {"quota_usage": used, "config": {"quota_total": 50, "quota_duration": 86400}}
        ]})))
        .expect(times)
        .mount(server)
        .await;
    }

    /// Status reads of container `id`: `in_progress` times IN_PROGRESS, then FINISHED.
    async fn mount_status(server: &MockServer, id: &str, in_progress: u64, finished: u64) {
        let q = [("fields", "status_code,status")];
        if in_progress > 0 {
            graph("GET", &format!("/{id}"), &q)
                .respond_with(ok(
                    json!({"status_code": "IN_PROGRESS", "status": "In Progress", "id": id}),
                ))
                .up_to_n_times(in_progress)
                .expect(in_progress)
                .mount(server)
                .await;
        }
        graph("GET", &format!("/{id}"), &q)
            .respond_with(ok(json!({"status_code": "FINISHED", "status": "Finished: Media has been uploaded and it is ready to be published.", "id": id})))
            .expect(finished)
            .mount(server)
            .await;
    }

    async fn mount_publish(server: &MockServer, container: &str, media_id: &str, times: u64) {
        graph(
            "POST",
            &format!("/{UID}/media_publish"),
            &[("creation_id", container)],
        )
        .respond_with(ok(json!({"id": media_id})))
        .expect(times)
        .mount(server)
        .await;
    }

    async fn mount_permalink(server: &MockServer, media_id: &str) {
        graph("GET", &format!("/{media_id}"), &[("fields", "permalink")])
            .respond_with(ok(json!({
                "permalink": format!("https://www.instagram.com/p/{media_id}/"), "id": media_id
            })))
            .expect(1)
            .mount(server)
            .await;
    }

    fn published(media_id: &str) -> PublishedPart {
        PublishedPart {
            id: media_id.into(),
            url: Some(format!("https://www.instagram.com/p/{media_id}/")),
            cid: None,
        }
    }

    const CAPTION_SRC: &str = "---\nid: t\n---\nHello **world** #rustlang\n";
    const CAPTION: &str = "Hello world #rustlang";

    /// A sink that keeps every deleted or edited part it is told of.
    #[derive(Default)]
    struct Told(Vec<(usize, bool)>);

    impl crate::platforms::DoneSink for Told {
        fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
            self.0.push((index, gone));
            Ok(())
        }
    }

    #[tokio::test]
    async fn delete_is_refused_with_the_permalink_and_sends_nothing() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ok(json!({"success": true})))
            .expect(0)
            .mount(&server)
            .await;
        let c = client(&server, None);
        let without_url = PublishedPart {
            id: "17900000000000002".into(),
            url: None,
            cid: None,
        };
        let parts = vec![(0, published("17900000000000001")), (1, without_url)];
        let mut told = Told::default();
        let err = c.delete(&parts, &mut told).await.unwrap_err();
        match &err {
            PlatformError::Unsupported { message } => {
                assert!(message.contains("cannot delete"), "{message}");
                assert!(message.contains("Instagram app"), "{message}");
                assert!(
                    message.contains("https://www.instagram.com/p/17900000000000001/"),
                    "{message}"
                );
                assert!(message.contains("media 17900000000000002"), "{message}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert!(told.0.is_empty());
        assert_eq!(c.plan_delete(&parts).unwrap_err(), err);
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn edit_is_refused_with_the_permalink_and_sends_nothing() {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ok(json!({"success": true})))
            .expect(0)
            .mount(&server)
            .await;
        let f = fixture(&server, CAPTION_SRC, vec![]);
        let done = [published("17900000000000001")];
        let c = client(&server, None);
        let mut told = Told::default();
        let err = c
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap_err();
        match &err {
            PlatformError::Unsupported { message } => {
                assert!(message.contains("cannot edit"), "{message}");
                assert!(
                    message.contains("https://www.instagram.com/p/17900000000000001/"),
                    "{message}"
                );
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert!(told.0.is_empty());
        assert!(
            c.plan_edit(&f.job(&done), EditMode { force: true })
                .is_err()
        );
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[test]
    fn media_urls_encode_each_segment() {
        assert_eq!(
            media_url("https://cdn.example.com/repo/", "media/my photo #1.jpg"),
            "https://cdn.example.com/repo/media/my%20photo%20%231.jpg"
        );
        assert_eq!(
            media_url("https://cdn.example.com", "./media/ü/a?b.jpg"),
            "https://cdn.example.com/media/%C3%BC/a%3Fb.jpg"
        );
    }

    #[tokio::test]
    async fn post_with_an_image_and_alt_text() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media(
                "media/shot 1.jpg",
                MediaKind::Image,
                Some("The dashboard"),
            )],
        );
        mount_quota(&server, 3, 1).await;
        graph(
            "POST",
            &format!("/{UID}/media"),
            &[
                ("image_url", &format!("{MEDIA_BASE}/media/shot%201.jpg")),
                ("caption", CAPTION),
                ("alt_text", "The dashboard"),
            ],
        )
        .respond_with(ok(json!({"id": "c1"})))
        .expect(1)
        .mount(&server)
        .await;
        mount_status(&server, "c1", 2, 1).await;
        mount_publish(&server, "c1", "m1", 1).await;
        mount_permalink(&server, "m1").await;
        let mut sink = Collect::default();
        client(&server, Some(store.clone()))
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("m1"))]);
        assert_eq!(
            store.meta(&container_key(KEY)).unwrap().as_deref(),
            Some(&b"c1"[..])
        );
    }

    #[tokio::test]
    async fn one_video_is_a_reel() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media(
                "media/clip.mp4",
                MediaKind::Video,
                Some("ignored for reels"),
            )],
        );
        mount_quota(&server, 0, 1).await;
        graph(
            "POST",
            &format!("/{UID}/media"),
            &[
                ("media_type", "REELS"),
                ("video_url", &format!("{MEDIA_BASE}/media/clip.mp4")),
                ("caption", CAPTION),
            ],
        )
        .respond_with(ok(json!({"id": "r1"})))
        .expect(1)
        .mount(&server)
        .await;
        mount_status(&server, "r1", 1, 1).await;
        mount_publish(&server, "r1", "m2", 1).await;
        mount_permalink(&server, "m2").await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("m2"))]);
    }

    #[tokio::test]
    async fn several_items_become_a_carousel() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![
                media("media/a.jpg", MediaKind::Image, Some("First")),
                media("media/b.mp4", MediaKind::Video, None),
                media("media/c.jpg", MediaKind::Image, None),
            ],
        );
        mount_quota(&server, 0, 1).await;
        let media_path = format!("/{UID}/media");
        graph(
            "POST",
            &media_path,
            &[
                ("image_url", &format!("{MEDIA_BASE}/media/a.jpg")),
                ("is_carousel_item", "true"),
                ("alt_text", "First"),
            ],
        )
        .respond_with(ok(json!({"id": "k1"})))
        .expect(1)
        .mount(&server)
        .await;
        graph(
            "POST",
            &media_path,
            &[
                ("media_type", "VIDEO"),
                ("video_url", &format!("{MEDIA_BASE}/media/b.mp4")),
                ("is_carousel_item", "true"),
            ],
        )
        .respond_with(ok(json!({"id": "k2"})))
        .expect(1)
        .mount(&server)
        .await;
        graph(
            "POST",
            &media_path,
            &[
                ("image_url", &format!("{MEDIA_BASE}/media/c.jpg")),
                ("is_carousel_item", "true"),
            ],
        )
        .respond_with(ok(json!({"id": "k3"})))
        .expect(1)
        .mount(&server)
        .await;
        // The video item is waited for before the carousel is built.
        mount_status(&server, "k2", 1, 1).await;
        graph(
            "POST",
            &media_path,
            &[
                ("media_type", "CAROUSEL"),
                ("children", "k1,k2,k3"),
                ("caption", CAPTION),
            ],
        )
        .respond_with(ok(json!({"id": "car"})))
        .expect(1)
        .mount(&server)
        .await;
        mount_status(&server, "car", 0, 1).await;
        mount_publish(&server, "car", "m3", 1).await;
        mount_permalink(&server, "m3").await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("m3"))]);
    }

    #[tokio::test]
    async fn a_used_up_publishing_limit_reschedules_without_creating_anything() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        mount_quota(&server, 50, 1).await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        let PlatformError::RateLimited {
            retry_at: Some(at),
            message,
        } = err
        else {
            panic!("expected a rate limit, got {err:?}");
        };
        assert!(message.contains("50 of 50"), "{message}");
        let wait = at - Utc::now();
        assert!(wait > chrono::Duration::minutes(59) && wait <= chrono::Duration::minutes(61));
    }

    #[tokio::test]
    async fn a_throttled_call_waits_for_the_time_meta_names() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(
                ResponseTemplate::new(403)
                    .insert_header(
                        "x-business-use-case-usage",
                        format!(r#"{{"{UID}":[{{"type":"instagram","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":25}}]}}"#),
                    )
                    .set_body_json(json!({"error": {
                        "message": "Application request limit reached", "type": "OAuthException",
                        "code": 4, "is_transient": true, "fbtrace_id": "AbC"
                    }})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        let PlatformError::RateLimited {
            retry_at: Some(at), ..
        } = err
        else {
            panic!("expected a rate limit, got {err:?}");
        };
        let wait = at - Utc::now();
        assert!(wait > chrono::Duration::minutes(24) && wait <= chrono::Duration::minutes(25));
    }

    #[tokio::test]
    async fn a_429_with_retry_after_is_a_rate_limit() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        Mock::given(method("GET"))
            .and(path(format!("/{UID}/content_publishing_limit")))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7200"))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(err, PlatformError::RateLimited { retry_at: Some(at), .. } if at > Utc::now() + chrono::Duration::minutes(119)),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn reads_are_retried_after_a_5xx_and_the_publish_is_not() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        Mock::given(method("GET"))
            .and(path(format!("/{UID}/content_publishing_limit")))
            .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": {
                "message": "An unexpected error has occurred. Please retry your request later.",
                "type": "OAuthException", "code": 2, "is_transient": true
            }})))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(ok(json!({"id": "c9"})))
            .expect(1)
            .mount(&server)
            .await;
        mount_status(&server, "c9", 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media_publish")))
            .respond_with(ResponseTemplate::new(502))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, Some(store.clone()))
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
        // The container is recorded: reconciliation can tell what happened.
        assert_eq!(
            store.meta(&container_key(KEY)).unwrap().as_deref(),
            Some(&b"c9"[..])
        );
    }

    #[tokio::test]
    async fn an_expired_token_is_auth() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
                "message": "Error validating access token: Session has expired on Monday, 30-Nov-26.",
                "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "X"
            }})))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Auth { expired, message } => {
                assert!(expired);
                assert!(message.contains("Session has expired"), "{message}");
                assert!(!message.contains(TOKEN));
            }
            other => panic!("expected Auth, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_failed_container_is_a_content_error() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(ok(json!({"id": "bad"})))
            .expect(1)
            .mount(&server)
            .await;
        graph("GET", "/bad", &[("fields", "status_code,status")])
            .respond_with(ok(
                json!({"status_code": "ERROR", "status": "Error: 2207026"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media_publish")))
            .respond_with(ok(json!({"id": "never"})))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Rejected { message, .. } if message.contains("2207026")),
            "{err:?}"
        );
    }

    /// The duplicate guard: an unclear publish, then reconciliation sees the
    /// container PUBLISHED and finds the post; nothing is published twice.
    #[tokio::test]
    async fn an_unclear_publish_is_confirmed_through_the_container() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        let mut f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        f.first_claimed = Utc::now() - chrono::Duration::minutes(2);
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(ok(json!({"id": "c5"})))
            .expect(1)
            .mount(&server)
            .await;
        let status_q = [("fields", "status_code,status")];
        graph("GET", "/c5", &status_q)
            .respond_with(ok(json!({"status_code": "FINISHED"})))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        graph("GET", "/c5", &status_q)
            .respond_with(ok(
                json!({"status_code": "PUBLISHED", "status": "Published"}),
            ))
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media_publish")))
            .respond_with(ResponseTemplate::new(503))
            .expect(1)
            .mount(&server)
            .await;
        let ts = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%S%z").to_string();
        graph(
            "GET",
            &format!("/{UID}/media"),
            &[("fields", "id,caption,permalink,timestamp")],
        )
        .respond_with(ok(json!({"data": [
            {"id": "m8", "caption": "Other", "permalink": "https://www.instagram.com/p/m8/", "timestamp": ts(Utc::now())},
            {"id": "m7", "caption": CAPTION, "permalink": "https://www.instagram.com/p/m7/", "timestamp": ts(Utc::now())},
        ]})))
        .expect(2)
        .mount(&server)
        .await;

        let ig = client(&server, Some(store.clone()));
        let err = ig
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
        // What the engine does next: reconcile, and publish only what is missing.
        let found = ig.reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(found, vec![published("m7")]);
        // A publish run anyway (a stale claim) finds the post instead of sending it.
        let mut sink = Collect::default();
        ig.publish(&f.job(&[]), &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("m7"))]);
    }

    #[tokio::test]
    async fn crash_reconciliation_without_a_stored_container_sends_nothing() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        let found = client(&server, Some(store))
            .reconcile(&f.job(&[]))
            .await
            .unwrap();
        assert!(found.is_empty());
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_stored_unpublished_container_is_reused_and_published_once() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        store.set_meta(&container_key(KEY), b"c6").unwrap();
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        // reconcile, publish's own check, then the wait before publishing.
        mount_status(&server, "c6", 0, 3).await;
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(ok(json!({"id": "new"})))
            .expect(0)
            .mount(&server)
            .await;
        mount_publish(&server, "c6", "m6", 1).await;
        mount_permalink(&server, "m6").await;
        let ig = client(&server, Some(store));
        assert!(ig.reconcile(&f.job(&[])).await.unwrap().is_empty());
        let mut sink = Collect::default();
        ig.publish(&f.job(&[]), &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("m6"))]);
    }

    #[tokio::test]
    async fn without_a_store_reconciliation_matches_the_caption() {
        let server = MockServer::start().await;
        let mut f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        f.first_claimed = Utc::now() - chrono::Duration::hours(1);
        let old = (f.first_claimed - chrono::Duration::days(1))
            .format("%Y-%m-%dT%H:%M:%S%z")
            .to_string();
        graph(
            "GET",
            &format!("/{UID}/media"),
            &[("fields", "id,caption,permalink,timestamp")],
        )
        .respond_with(ok(json!({"data": [
            {"id": "old", "caption": CAPTION, "timestamp": old},
        ]})))
        .expect(1)
        .mount(&server)
        .await;
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        assert!(
            found.is_empty(),
            "the same caption a day earlier is another post"
        );
    }

    #[tokio::test]
    async fn the_user_id_is_read_when_not_configured() {
        let server = MockServer::start().await;
        let mut acc = account(&server.uri());
        acc.user_id = None;
        graph("GET", "/me", &[("fields", "user_id,username")])
            .respond_with(ok(
                json!({"user_id": UID, "username": "alice", "id": "999"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let ig = client_for(&acc, None);
        assert_eq!(ig.ig_user_id().await.unwrap(), UID);
    }

    #[tokio::test]
    async fn missing_media_or_media_base_url_is_refused_before_sending() {
        let server = MockServer::start().await;
        let f = fixture(&server, CAPTION_SRC, vec![]);
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");

        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        // The plan needs the media URLs: refused before even the limit is read.
        mount_quota(&server, 0, 0).await;
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: None,
        };
        let ig = Instagram::new(&f.account, ctx, None).unwrap();
        let err = ig
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("media_base_url")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn dry_run_shows_the_requests_without_sending() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![
                media("media/a.jpg", MediaKind::Image, Some("Alt")),
                media("media/b.jpg", MediaKind::Image, None),
            ],
        );
        let reqs = client(&server, None).dry_run(&f.job(&[]));
        assert_eq!(reqs.len(), 5);
        assert_eq!(
            reqs[1]["query"],
            json!({"image_url": format!("{MEDIA_BASE}/media/a.jpg"), "is_carousel_item": "true", "alt_text": "Alt"})
        );
        assert_eq!(
            reqs[3]["query"],
            json!({"media_type": "CAROUSEL", "children": "<container 1>,<container 2>", "caption": CAPTION})
        );
        assert!(!reqs.iter().any(|r| r.to_string().contains(TOKEN)));
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    /// Whether `sent` is `shown` with each `<label>` replaced by a value
    /// (one or more characters, none of them `/` or `,`).
    fn like(shown: &str, sent: &str) -> bool {
        let Some(i) = shown.find('<') else {
            return shown == sent;
        };
        let end = i + shown[i..].find('>').expect("a closed label") + 1;
        let Some(tail) = sent.strip_prefix(&shown[..i]) else {
            return false;
        };
        (1..=tail.len())
            .filter(|&n| tail.is_char_boundary(n))
            .take_while(|&n| !tail[..n].contains(['/', ',']))
            .any(|n| like(&shown[end..], &tail[n..]))
    }

    /// The "cannot drift" proof: what `--dry-run` prints for a thread with
    /// a carousel (and no configured account id) is, request for request,
    /// what publishing sends, apart from what only `send` knows to do:
    /// polling containers while Instagram processes them, and reading the
    /// permalink of the published post.
    #[tokio::test]
    async fn the_dry_run_is_what_publishing_sends() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        let mut acc = account(&server.uri());
        acc.user_id = None;
        let mut f = Fixture::new(
            acc,
            "---\nid: t\nthread: true\n---\nFirst part #rustlang\n\n---\n\nSecond part\n",
            KEY,
        );
        f.media = vec![
            media("media/a.jpg", MediaKind::Image, Some("First")),
            media("media/b.mp4", MediaKind::Video, None),
            media("media/c.jpg", MediaKind::Image, None),
        ];
        let job = f.job(&[]);
        let caption = caption(&job);
        assert!(caption.contains("Second part"), "{caption}");
        graph("GET", "/me", &[("fields", "user_id,username")])
            .respond_with(ok(json!({"user_id": UID, "username": "alice"})))
            .expect(1)
            .mount(&server)
            .await;
        mount_quota(&server, 0, 1).await;
        let media_path = format!("/{UID}/media");
        let item = |url: &str, id: &str, video: bool| {
            let mut q = vec![
                ("is_carousel_item".to_string(), "true".to_string()),
                (
                    if video { "video_url" } else { "image_url" }.to_string(),
                    format!("{MEDIA_BASE}/{url}"),
                ),
            ];
            if video {
                q.push(("media_type".into(), "VIDEO".into()));
            }
            if url == "media/a.jpg" {
                q.push(("alt_text".into(), "First".into()));
            }
            let q: Vec<(&str, &str)> = q.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            graph("POST", &media_path, &q)
                .respond_with(ok(json!({"id": id})))
                .expect(1)
        };
        item("media/a.jpg", "k1", false).mount(&server).await;
        item("media/b.mp4", "k2", true).mount(&server).await;
        item("media/c.jpg", "k3", false).mount(&server).await;
        mount_status(&server, "k2", 1, 1).await;
        graph(
            "POST",
            &media_path,
            &[
                ("media_type", "CAROUSEL"),
                ("children", "k1,k2,k3"),
                ("caption", &caption),
            ],
        )
        .respond_with(ok(json!({"id": "car"})))
        .expect(1)
        .mount(&server)
        .await;
        mount_status(&server, "car", 0, 1).await;
        mount_publish(&server, "car", "m9", 1).await;
        mount_permalink(&server, "m9").await;

        let ig = client_for(&f.account, Some(store.clone()));
        let shown = ig.dry_run(&job);
        assert!(server.received_requests().await.unwrap().is_empty());
        let mut sink = Collect::default();
        ig.publish(&job, &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("m9"))]);

        let sent = server.received_requests().await.unwrap();
        let fields = |r: &Request| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "fields")
                .map(|(_, v)| v.into_owned())
        };
        let (extra, planned): (Vec<&Request>, Vec<&Request>) = sent.iter().partition(|r| {
            matches!(
                fields(r).as_deref(),
                Some("status_code,status" | "permalink")
            )
        });
        let extra: Vec<String> = extra.iter().map(|r| r.url.path().to_string()).collect();
        assert_eq!(
            extra,
            ["/k2", "/k2", "/car", "/m9"],
            "polls and the permalink"
        );
        assert_eq!(planned.len(), shown.len(), "{shown:#?}");
        for (s, r) in shown.iter().zip(&planned) {
            assert_eq!(s["method"], r.method.as_str(), "{s:#}");
            let url = format!("{}{}", server.uri(), r.url.path());
            assert!(like(s["url"].as_str().unwrap(), &url), "{s:#} vs {url}");
            let mut want: Vec<(String, String)> = s["query"]
                .as_object()
                .map(|q| {
                    q.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let mut got: Vec<(String, String)> = r
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            want.sort();
            got.sort();
            assert_eq!(want.len(), got.len(), "{s:#} vs {got:?}");
            for ((wk, wv), (gk, gv)) in want.iter().zip(&got) {
                assert!(wk == gk && like(wv, gv), "{s:#} vs {got:?}");
            }
            // Graph API parameters travel in the query: no body either side.
            assert!(r.body.is_empty());
            assert!(
                ["json", "form", "multipart", "file"]
                    .iter()
                    .all(|k| s.get(k).is_none())
            );
        }
        assert_eq!(shown[0]["url"], format!("{}/me", server.uri()));
        assert_eq!(
            shown[5]["query"]["children"],
            "<container 1>,<container 2>,<container 3>"
        );
        assert!(!shown.iter().any(|s| s.to_string().contains(TOKEN)));
        assert_eq!(
            store.meta(&container_key(KEY)).unwrap().as_deref(),
            Some(&b"car"[..])
        );
    }

    #[tokio::test]
    async fn a_stored_container_is_checked_first_and_an_expired_one_is_replaced() {
        let server = MockServer::start().await;
        let (_dir, store) = store();
        store.set_meta(&container_key(KEY), b"old").unwrap();
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        let ig = client(&server, Some(store.clone()));
        let shown = ig.dry_run(&f.job(&[]));
        let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(
            steps,
            [
                CHECK_STORED,
                READ_QUOTA,
                "creating the media container",
                "publishing the post"
            ]
        );
        assert_eq!(shown[0]["url"], format!("{}/old", server.uri()));

        graph("GET", "/old", &[("fields", "status_code,status")])
            .respond_with(ok(json!({"status_code": "EXPIRED"})))
            .expect(1)
            .mount(&server)
            .await;
        mount_quota(&server, 0, 1).await;
        Mock::given(method("POST"))
            .and(path(format!("/{UID}/media")))
            .respond_with(ok(json!({"id": "fresh"})))
            .expect(1)
            .mount(&server)
            .await;
        mount_status(&server, "fresh", 0, 1).await;
        mount_publish(&server, "fresh", "m4", 1).await;
        mount_permalink(&server, "m4").await;
        let mut sink = Collect::default();
        ig.publish(&f.job(&[]), &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("m4"))]);
        assert_eq!(
            store.meta(&container_key(KEY)).unwrap().as_deref(),
            Some(&b"fresh"[..])
        );
    }

    #[tokio::test]
    async fn a_resumed_target_plans_nothing() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            CAPTION_SRC,
            vec![media("media/a.jpg", MediaKind::Image, None)],
        );
        let done = [published("m1")];
        let ig = client(&server, None);
        assert!(ig.plan(&f.job(&done)).unwrap().steps.is_empty());
        ig.publish(&f.job(&done), &mut Collect::default())
            .await
            .unwrap();
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn under_facebook_login_the_account_is_the_pages_linked_one() {
        let mut acc = account("https://graph.facebook.com/v23.0");
        acc.user_id = None;
        let f = Fixture::new(acc.clone(), CAPTION_SRC, KEY);
        let mut f = f;
        f.media = vec![media("media/a.jpg", MediaKind::Image, None)];
        let shown = client_for(&acc, None).dry_run(&f.job(&[]));
        assert_eq!(shown[0]["step"], READ_LINKED_ACCOUNT);
        assert_eq!(
            shown[0]["url"],
            "https://graph.facebook.com/v23.0/me/accounts"
        );
        assert_eq!(shown[0]["query"]["fields"], LINKED_ACCOUNT_FIELDS);
        assert_eq!(
            shown[1]["url"],
            "https://graph.facebook.com/v23.0/<id of the Instagram account>/content_publishing_limit"
        );
    }

    #[test]
    fn missing_token_names_the_variable() {
        let ctx = Context {
            http: Http::new().unwrap(),
            secret: None,
            memo: None,
        };
        let err = Instagram::new(&account(DEFAULT_API), ctx, None)
            .err()
            .unwrap();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("SOCIAL_IG_TOKEN")),
            "{err:?}"
        );
    }

    #[test]
    fn graph_errors_are_typed() {
        let e = |code: i64, sub: Option<i64>| {
            let mut err = json!({"message": "m", "type": "OAuthException", "code": code});
            if let Some(s) = sub {
                err["error_subcode"] = json!(s);
            }
            Dialect.error(
                StatusCode::BAD_REQUEST,
                &HeaderMap::new(),
                &json!({"error": err}).to_string(),
                "x",
                Effect::Read,
            )
        };
        assert!(matches!(
            e(190, None),
            PlatformError::Auth { expired: true, .. }
        ));
        for code in [4, 17, 32, 613] {
            assert!(matches!(
                e(code, None),
                PlatformError::RateLimited {
                    retry_at: Some(_),
                    ..
                }
            ));
        }
        assert!(matches!(
            e(9, Some(2_207_042)),
            PlatformError::RateLimited { .. }
        ));
        assert!(matches!(
            e(4, Some(2_207_051)),
            PlatformError::Rejected { .. }
        ));
        assert!(matches!(
            e(36000, Some(2_207_004)),
            PlatformError::Rejected { .. }
        ));
        assert!(matches!(e(100, None), PlatformError::Rejected { .. }));
        assert!(matches!(
            e(-2, Some(2_207_003)),
            PlatformError::Unavailable { .. }
        ));
        let publish = Dialect.error(
            StatusCode::BAD_REQUEST,
            &HeaderMap::new(),
            r#"{"error": {"message": "Instagram server error", "code": -1, "error_subcode": 2207001}}"#,
            "x",
            Effect::Create,
        );
        assert!(matches!(publish, PlatformError::Unknown { .. }));
        let odd = Dialect.error(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            "<html>nope</html>",
            "x",
            Effect::Read,
        );
        assert!(matches!(odd, PlatformError::Auth { .. }));
        assert_eq!(
            graph_error(r#"{"error": {"message": "The image size is too large.", "code": 36000, "error_subcode": 2207004, "error_user_msg": "It should be less than 8 MiB."}}"#).message,
            "The image size is too large. (It should be less than 8 MiB.) [code 36000, subcode 2207004]"
        );
        assert_eq!(graph_error("").message, "no details given");
    }
}
