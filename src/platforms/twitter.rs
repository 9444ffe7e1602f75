//! The X (Twitter) API v2 client: posts through `POST /2/tweets`, media
//! through the v2 upload endpoints (`/2/media/upload/initialize`,
//! `/{id}/append`, `/{id}/finalize`, polled with `command=STATUS` while X
//! processes a GIF or video), alt text through `/2/media/metadata`, threads
//! as `reply.in_reply_to_tweet_id` chains. The secret is an OAuth 2.0
//! user-context access token; refreshing it belongs to the accounts code, so
//! a 401 is reported as an expired credential.
//!
//! Publishing is a [`Plan`]: every upload step and every post create is a
//! request known in advance, with the upload's id and the previous part's
//! post id filled in from earlier answers; `--dry-run` prints that plan.
//! What no request can say in advance stays in [`Steps::send`]: waiting
//! while X processes an upload, and reading the account back when X
//! refuses a part as a duplicate.
//!
//! Exactly once: X has no idempotency key, so a tweet create is never sent
//! twice blindly. An answer that leaves the outcome open is
//! [`PlatformError::Unknown`], and the engine then calls
//! [`Platform::reconcile`], which looks for the parts among the account's
//! recent posts by their text. X's own duplicate check ("You are not allowed
//! to create a Tweet with duplicate content.") is confirmed the same way
//! before a part counts as published.
//!
//! Deleting is a plan of one `DELETE /2/tweets/:id` per part, run by
//! [`plan::run_changes`]; X has no edit for API clients, so editing is
//! [`PlatformError::Unsupported`].

pub mod account;
use super::http::{Http, Repeat};
use super::plan::{
    self, Changes, Field, FieldValue, FileRef, Method, Plan, Progress, Request, Role, Slot, Step,
    Steps,
};
use super::wire::{self, Effect, segment};
use super::{
    Context, DoneSink, EditMode, Job, PartSink, Platform, PlatformError, Recorded, ReplyTo,
};
use crate::config::Account;
use crate::credentials::Secret;
use crate::model::{MediaInfo, MediaKind, PublishedPart, XPostUrl};
use crate::render::count::url_ranges;
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use std::time::Duration;

/// Where the X API lives unless the account says otherwise (`api_url`).
pub const DEFAULT_API_URL: &str = "https://api.x.com";

/// Largest segment of a chunked upload. X takes up to 5 MB per APPEND; 4 MiB
/// leaves room for the multipart framing.
const CHUNK: usize = 4 * 1024 * 1024;

/// Posts per page of the account's timeline (`max_results`, 5 to 100).
const PAGE: usize = 20;

/// Pages of the account's timeline read at most when looking for parts.
const PAGES: usize = 5;

/// How much earlier than the first claim a post may claim to be created
/// (server and local clocks disagree) and still count as one of ours.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);

// X counts rate limits per endpoint, so each endpoint gets its own budget
// in the HTTP layer (a used-up timeline read must not hold back tweet
// creates). The bucket also tells `send` which upload step it has.
const INITIALIZE: &str = "media/initialize";
const APPEND: &str = "media/append";
const FINALIZE: &str = "media/finalize";
const METADATA: &str = "media/metadata";
const TWEETS: &str = "tweets";
/// `DELETE /2/tweets/:id`, which X limits apart (50 per 15 minutes per user).
const DELETES: &str = "tweets/delete";

/// Why X posts cannot be edited, and what to do instead.
const NO_EDITS: &str = "X does not let API clients edit a published post; `social edit --repost` deletes the post and publishes it again as a new post";

/// The X client for one account.
pub struct Twitter {
    account: String,
    /// The account's username, for post URLs.
    username: Option<String>,
    /// The API base URL, without a trailing `/`.
    base: String,
    token: Secret,
    http: Http,
    /// The account's user id, read once from `/2/users/me`.
    user_id: tokio::sync::OnceCell<String>,
    /// Segment size of uploads.
    chunk: usize,
    /// Longest wait for an upload to finish processing.
    media_wait: Duration,
    /// Longest single wait between polls, whatever `check_after_secs` says.
    poll_max: Duration,
}

/// A post as the API returns it (the fields this client reads).
#[derive(Deserialize, Debug, Clone)]
struct Tweet {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
}

#[derive(Deserialize, Debug, Clone)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    #[serde(deserialize_with = "id_string")]
    id: String,
}

impl Tweet {
    /// The post this one replies to.
    fn parent(&self) -> Option<&str> {
        self.referenced_tweets
            .iter()
            .find(|r| r.kind == "replied_to")
            .map(|r| r.id.as_str())
    }

    fn is_retweet(&self) -> bool {
        self.referenced_tweets.iter().any(|r| r.kind == "retweeted")
    }

    fn created(&self) -> Option<DateTime<Utc>> {
        let t = self.created_at.as_deref()?;
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// `{"data": …}`, the envelope of every v2 answer.
#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct Created {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

/// The answer of an upload start or a post create as later steps read it:
/// `{"data": {"id": "…"}}`, the id a string whatever X sent.
fn created(id: &str) -> Value {
    json!({ "data": { "id": id } })
}

/// A page of a user's posts: `data` is absent when there are none.
#[derive(Deserialize)]
struct Timeline {
    #[serde(default)]
    data: Vec<Tweet>,
    #[serde(default)]
    meta: TimelineMeta,
}

#[derive(Deserialize, Default)]
struct TimelineMeta {
    #[serde(default)]
    next_token: Option<String>,
}

/// Where X is with an upload (`processing_info`).
#[derive(Deserialize, Debug, Clone, Default)]
struct Processing {
    #[serde(default)]
    state: String,
    #[serde(default)]
    check_after_secs: Option<u64>,
    #[serde(default)]
    error: Option<Value>,
}

/// Ids are strings in v2; accept numbers as well.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Id::deserialize(d).map(|id| match id {
        Id::Text(s) => s,
        Id::Number(n) => n.to_string(),
    })
}

impl Twitter {
    /// The client for `account`, which needs an OAuth 2.0 user access token.
    pub fn new(account: &Account, ctx: Context) -> Result<Self, PlatformError> {
        let base = super::api_base(account, DEFAULT_API_URL)?;
        let token = super::require_token(account, ctx.secret)?;
        let username = account
            .username
            .as_deref()
            .map(|u| u.trim().trim_start_matches('@').to_string())
            .filter(|u| !u.is_empty());
        Ok(Twitter {
            account: account.name.clone(),
            username,
            base,
            token,
            http: ctx.http,
            user_id: tokio::sync::OnceCell::new(),
            chunk: CHUNK,
            media_wait: Duration::from_secs(600),
            poll_max: Duration::from_secs(60),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The public URL of post `id`.
    fn post_url(&self, id: &str) -> String {
        match &self.username {
            Some(u) => format!("https://x.com/{u}/status/{id}"),
            None => format!("https://x.com/i/status/{id}"),
        }
    }

    /// Post `id` as a published part.
    fn part(&self, id: &str) -> PublishedPart {
        PublishedPart {
            id: id.to_string(),
            url: Some(self.post_url(id)),
            cid: None,
        }
    }

    /// A GET with the token in `bucket`, retried as the HTTP layer allows,
    /// its JSON read.
    async fn get_json<T: DeserializeOwned>(
        &self,
        bucket: &str,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PlatformError> {
        let url = self.url(path);
        let resp = self
            .http
            .send_in(&self.account, bucket, Repeat::Safe, |c| {
                c.get(&url).query(query).bearer_auth(self.token.expose())
            })
            .await?;
        wire::read_json(resp, what, Effect::Read, &Dialect).await
    }

    /// The post id the first part replies to, if any.
    fn reply_target(&self, job: &Job<'_>) -> Result<Option<String>, PlatformError> {
        match &job.reply_to {
            None => Ok(None),
            Some(ReplyTo::Part(p)) => Ok(Some(p.id.clone())),
            Some(ReplyTo::Url(u)) => XPostUrl::parse(u).map(|p| Some(p.id)).ok_or_else(|| {
                PlatformError::rejected(format!(
                    "`reply_to` is not the URL of a post on X (https://x.com/<user>/status/<id>): {u}"
                ))
            }),
        }
    }

    /// The requests that publish `job`: the upload steps of each media file
    /// of the first part, then one post create per part still missing, each
    /// replying to the one before. A resumed thread has sent its media.
    fn plan_job(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let parts = &job.rendered.parts;
        let start = job.done.len();
        let mut plan = Plan::default();
        if start >= parts.len() {
            return Ok(plan);
        }
        let first_parent = self.reply_target(job)?;
        // Where the next post replies: a known id, or an earlier answer's.
        let mut reply: Option<Reply> = match job.done.last() {
            Some(prev) => Some(Reply::Id(prev.id.clone())),
            None => first_parent.map(Reply::Id),
        };
        let mut uploads = Vec::new();
        if start == 0 {
            for (n, m) in job.media.iter().enumerate() {
                uploads.push(self.plan_upload(&mut plan, n, m));
            }
        }
        let total = parts.len();
        for (i, part) in parts.iter().enumerate().skip(start) {
            let media = if i == 0 { uploads.len() } else { 0 };
            let known = match &reply {
                Some(Reply::Id(id)) => Some(id.as_str()),
                _ => None,
            };
            let what = if total > 1 {
                format!("posting part {} of {total}", i + 1)
            } else {
                "posting".to_string()
            };
            // No idempotency key: never resent blindly by the HTTP layer.
            let mut step = Step::new(
                what,
                Role::Part(i),
                Request::post(self.url("/2/tweets"))
                    .json(tweet_body(&part.text.text, known, media))
                    .bucket(TWEETS)
                    .repeat(Repeat::Unsafe),
            );
            if i == 0 {
                for (k, &up) in uploads.iter().enumerate() {
                    step = step.fill(
                        Slot::Body(format!("/media/media_ids/{k}")),
                        up,
                        "/data/id",
                        upload_label(k),
                    );
                }
            }
            if let Some(Reply::Step(from, label)) = &reply {
                step = step.fill(
                    Slot::Body("/reply/in_reply_to_tweet_id".into()),
                    *from,
                    "/data/id",
                    label.clone(),
                );
            }
            let at = plan.push(step);
            reply = Some(Reply::Step(at, format!("id of the post of part {}", i + 1)));
        }
        Ok(plan)
    }

    /// The steps uploading media file `n`: initialize, one append per
    /// segment, finalize, and the alt text. Returns the initialize step,
    /// whose answer holds the media id. Resending a segment replaces it, so
    /// every step of an upload is safe to repeat; an abandoned upload
    /// expires on its own.
    fn plan_upload(&self, plan: &mut Plan, n: usize, m: &MediaInfo) -> usize {
        let label = upload_label(n);
        let init = plan.push(Step::new(
            format!("starting the upload of {}", m.path),
            Role::Media(n),
            Request::post(self.url("/2/media/upload/initialize"))
                .json(initialize_body(m, m.bytes))
                .bucket(INITIALIZE),
        ));
        let chunk = self.chunk.max(1) as u64;
        let segments = m.bytes.div_ceil(chunk).max(1);
        for index in 0..segments {
            let from = index * chunk;
            let to = (from + chunk).min(m.bytes);
            let fields = vec![
                Field {
                    name: "segment_index".into(),
                    value: FieldValue::Text(index.to_string()),
                },
                Field {
                    name: "media".into(),
                    value: FieldValue::File(FileRef {
                        path: m.resolved.clone(),
                        file_name: "media".into(),
                        content_type: "application/octet-stream".into(),
                        range: Some(from..to),
                        size: m.bytes,
                    }),
                },
            ];
            plan.push(
                Step::new(
                    format!("uploading part {} of {}", index + 1, m.path),
                    Role::Media(n),
                    Request::post(self.url("/2/media/upload/{id}/append"))
                        .multipart(fields)
                        .bucket(APPEND),
                )
                .fill(Slot::Path("id".into()), init, "/data/id", &label),
            );
        }
        plan.push(
            Step::new(
                format!("finishing the upload of {}", m.path),
                Role::Media(n),
                Request::post(self.url("/2/media/upload/{id}/finalize")).bucket(FINALIZE),
            )
            .fill(Slot::Path("id".into()), init, "/data/id", &label),
        );
        // X documents alt text for images and GIFs only; a video's alt text
        // would make the metadata call, and with it the post, fail.
        if let Some(alt) = m.alt.as_deref().filter(|_| m.kind != MediaKind::Video) {
            plan.push(
                Step::new(
                    format!("setting the alt text of {}", m.path),
                    Role::Media(n),
                    Request::post(self.url("/2/media/metadata"))
                        .json(metadata_body(alt))
                        .bucket(METADATA),
                )
                .fill(Slot::Body("/id".into()), init, "/data/id", &label),
            );
        }
        init
    }

    /// Polls an upload while X processes it, waiting what X asks between
    /// polls, until it succeeded, failed, or `media_wait` has passed.
    async fn wait_processed(
        &self,
        id: &str,
        path: &str,
        mut info: Processing,
    ) -> Result<(), PlatformError> {
        let deadline = tokio::time::Instant::now() + self.media_wait;
        let query = [
            ("command", "STATUS".to_string()),
            ("media_id", id.to_string()),
        ];
        loop {
            match info.state.as_str() {
                "succeeded" | "" => return Ok(()),
                "failed" => {
                    let why = info
                        .error
                        .as_ref()
                        .map(|e| {
                            e.get("message")
                                .and_then(Value::as_str)
                                .map(str::to_string)
                                .unwrap_or_else(|| e.to_string())
                        })
                        .unwrap_or_else(|| "no reason given".into());
                    return Err(PlatformError::rejected(format!(
                        "X could not process {path}: {why}"
                    )));
                }
                // pending, in_progress, and states X may add later.
                _ => {}
            }
            let wait =
                Duration::from_secs(info.check_after_secs.unwrap_or(1).max(1)).min(self.poll_max);
            if tokio::time::Instant::now() + wait > deadline {
                return Err(PlatformError::unavailable(format!(
                    "{path} was still being processed by X after {}s",
                    self.media_wait.as_secs()
                )));
            }
            tokio::time::sleep(wait).await;
            let what = format!("checking the processing of {path}");
            let status: Value = self
                .get_json("media/status", &what, "/2/media/upload", &query)
                .await?;
            info = processing_info(&status).unwrap_or_default();
        }
    }

    /// The answer of an upload step: the media id of a start, the processed
    /// upload of a finalize (polled while X processes it), nothing else.
    async fn upload_answer(
        &self,
        step: &Step,
        n: usize,
        bucket: &str,
        resp: reqwest::Response,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let what = &step.what;
        match bucket {
            INITIALIZE => {
                let started: Envelope<Created> =
                    wire::read_json(resp, what, Effect::Read, &Dialect).await?;
                Ok(created(&started.data.id))
            }
            FINALIZE => {
                let done: Value = wire::read_json(resp, what, Effect::Read, &Dialect).await?;
                if let Some(info) = processing_info(&done) {
                    let id = step
                        .fills
                        .first()
                        .and_then(|f| progress.answers.get(f.step)?.pointer(&f.pointer))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let path = progress.job.media.get(n).map_or(what.as_str(), |m| &m.path);
                    self.wait_processed(id, path, info).await?;
                }
                Ok(done)
            }
            _ => {
                wire::expect_success(resp, what, Effect::Read, &Dialect).await?;
                Ok(Value::Null)
            }
        }
    }

    /// The answer of a post create. A refusal as a duplicate counts as
    /// posted when the post it collides with is ours (found on the account
    /// by text and parent); its id is then the answer.
    async fn create_answer(
        &self,
        step: &Step,
        request: &Request,
        resp: reqwest::Response,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let message =
            match wire::read_json::<Envelope<Created>>(resp, &step.what, Effect::Create, &Dialect)
                .await
            {
                Ok(c) => return Ok(created(&c.data.id)),
                Err(PlatformError::Rejected {
                    duplicate: true,
                    message,
                }) => message,
                Err(e) => return Err(e),
            };
        let body = match &request.body {
            plan::Body::Json(b) => b,
            _ => &Value::Null,
        };
        let text = body.pointer("/text").and_then(Value::as_str).unwrap_or("");
        let parent = body
            .pointer("/reply/in_reply_to_tweet_id")
            .and_then(Value::as_str);
        let posted: Vec<&str> = progress.parts.iter().map(|p| p.id.as_str()).collect();
        match self
            .confirm_duplicate(progress.job, text, parent, &posted)
            .await?
        {
            Some(id) => Ok(created(&id)),
            None => Err(PlatformError::Rejected {
                duplicate: true,
                message: format!(
                    "{message} (no post with this text from the last attempts was found on the account, so this is not a repeat of ours)"
                ),
            }),
        }
    }

    /// The authenticated user's id, read once per client.
    async fn me(&self) -> Result<&str, PlatformError> {
        self.user_id
            .get_or_try_init(|| async {
                let me: Envelope<Created> = self
                    .get_json("users/me", "reading the account", "/2/users/me", &[])
                    .await?;
                Ok::<_, PlatformError>(me.data.id)
            })
            .await
            .map(String::as_str)
    }

    /// The account's posts created since shortly before `since`, oldest
    /// first, reading at most [`PAGES`] pages.
    async fn recent_tweets(&self, since: DateTime<Utc>) -> Result<Vec<Tweet>, PlatformError> {
        let id = self.me().await?.to_string();
        let path = format!("/2/users/{}/tweets", segment(&id));
        let mut all: Vec<Tweet> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..PAGES {
            let mut query = vec![
                ("max_results", PAGE.to_string()),
                (
                    "tweet.fields",
                    "created_at,text,in_reply_to_user_id,referenced_tweets".to_string(),
                ),
            ];
            if let Some(t) = &token {
                query.push(("pagination_token", t.clone()));
            }
            let page: Timeline = self
                .get_json("users/tweets", "reading the account's posts", &path, &query)
                .await?;
            let reached = page
                .data
                .last()
                .and_then(Tweet::created)
                .is_some_and(|t| t < since);
            all.extend(page.data);
            token = page.meta.next_token;
            if token.is_none() || reached {
                break;
            }
        }
        all.reverse();
        Ok(all)
    }

    /// After X refused a part as a duplicate: the id of the post of ours it
    /// collides with, if one is among the account's recent posts (same
    /// text, same parent, created after the first claim or the scheduled
    /// time, not one of the parts `posted` already).
    async fn confirm_duplicate(
        &self,
        job: &Job<'_>,
        text: &str,
        parent: Option<&str>,
        posted: &[&str],
    ) -> Result<Option<String>, PlatformError> {
        let since = job.earliest() - CLOCK_SLACK;
        let tweets = self.recent_tweets(since).await?;
        Ok(find_part(&tweets, text, parent, since, posted).map(|t| t.id.clone()))
    }
}

/// Where a post replies.
enum Reply {
    Id(String),
    /// The post id in the answer of an earlier step, and its label.
    Step(usize, String),
}

/// How a dry run names the media id of upload `n` (from 0).
fn upload_label(n: usize) -> String {
    format!("id of upload {}", n + 1)
}

#[async_trait::async_trait]
impl Steps for Twitter {
    async fn send(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        // Delete and edit steps go through `plan::run_changes`, never here:
        // refused before anything is sent.
        if matches!(step.role, Role::Delete(_) | Role::Edit(_)) {
            return Err(plan::not_publishing(step));
        }
        let loaded = request.load().await?;
        // A create is `Repeat::Unsafe`: an answer the HTTP layer cannot
        // give (a 5xx, a connection lost after sending) is `Unknown`.
        let resp = loaded
            .send(&self.http, &self.account, |b| {
                b.bearer_auth(self.token.expose())
            })
            .await?;
        match step.role {
            Role::Part(_) => {
                self.create_answer(step, &loaded.request, resp, progress)
                    .await
            }
            Role::Media(n) => {
                self.upload_answer(step, n, loaded.request.bucket, resp, progress)
                    .await
            }
            Role::Lookup | Role::Prepare(_) => {
                wire::read_json(resp, &step.what, Effect::Read, &Dialect).await
            }
            // Refused above, before sending.
            Role::Delete(_) | Role::Edit(_) => Err(plan::not_publishing(step)),
        }
    }

    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError> {
        match answer.pointer("/data/id").and_then(Value::as_str) {
            Some(id) => Ok(self.part(id)),
            None => Err(PlatformError::unknown(format!(
                "{}: the post was created, but its answer has no id",
                step.what
            ))),
        }
    }
}

/// Sends the steps of a delete plan: each `DELETE /2/tweets/:id` with the
/// user's token. A post X no longer has (404) is gone; `deleted: false` is
/// an error, since the post is still there.
#[async_trait::async_trait]
impl Changes for Twitter {
    async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError> {
        if !matches!(step.role, Role::Delete(_)) {
            return Err(PlatformError::unsupported(format!(
                "{}: {NO_EDITS}",
                step.what
            )));
        }
        let loaded = request.load().await?;
        let resp = loaded
            .send(&self.http, &self.account, |b| {
                b.bearer_auth(self.token.expose())
            })
            .await?;
        let answer = wire::read_removal(resp, &step.what, &Deleting).await?;
        if plan::is_gone(&answer) {
            return Ok(answer);
        }
        match answer.pointer("/data/deleted").and_then(Value::as_bool) {
            Some(true) => Ok(answer),
            // X gives no reason; the post is still there, and trying again
            // later is all that can be done.
            Some(false) => Err(PlatformError::unavailable(format!(
                "{}: X answered that the post was not deleted (`deleted: false`{}); it is still on the account",
                step.what,
                match answer.get("errors") {
                    Some(_) => format!(": {}", server_message(&answer.to_string())),
                    None => String::new(),
                }
            ))),
            None => Err(PlatformError::unavailable(format!(
                "{}: X's answer does not say whether the post was deleted: {}",
                step.what,
                super::http::short(&answer.to_string())
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Platform for Twitter {
    fn plan(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        self.plan_job(job)
    }

    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        plan::run(self, job, &self.plan_job(job)?, sink).await
    }

    /// One `DELETE /2/tweets/:id` per part, in the order given.
    fn plan_delete(&self, parts: &[Recorded]) -> Result<Plan, PlatformError> {
        let mut plan = Plan::default();
        for (i, part) in parts {
            let id = part.id.trim();
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(PlatformError::rejected(format!(
                    "part {}: `{}` is not the id of a post on X, so it cannot be deleted",
                    i + 1,
                    part.id
                )));
            }
            plan.push(Step::new(
                format!("deleting part {} (post {id})", i + 1),
                Role::Delete(*i),
                Request::new(
                    Method::Delete,
                    self.url(&format!("/2/tweets/{}", segment(id))),
                )
                .bucket(DELETES),
            ));
        }
        Ok(plan)
    }

    async fn delete(
        &self,
        parts: &[Recorded],
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_delete(parts)?, sink).await
    }

    fn plan_edit(&self, _: &Job<'_>, _: EditMode) -> Result<Plan, PlatformError> {
        Err(PlatformError::unsupported(NO_EDITS))
    }

    async fn edit(
        &self,
        job: &Job<'_>,
        mode: EditMode,
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_edit(job, mode)?, sink).await
    }

    /// Looks for the parts among the account's recent posts: each with the
    /// part's text (URLs aside, which X shortens), replying to the part
    /// before (the first to the post it replies to, or to nothing), and
    /// created after the first claim or the scheduled time. The answer is `job.done` followed by
    /// the further parts found, in order.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        let mut found: Vec<PublishedPart> = job.done.to_vec();
        if found.len() >= job.rendered.parts.len() {
            return Ok(found);
        }
        let first_parent = self.reply_target(job)?;
        let since = job.earliest() - CLOCK_SLACK;
        let tweets = self.recent_tweets(since).await?;
        let mut used: Vec<String> = found.iter().map(|p| p.id.clone()).collect();
        for part in job.rendered.parts.iter().skip(found.len()) {
            let parent = match found.last() {
                Some(p) => Some(p.id.clone()),
                None => first_parent.clone(),
            };
            let used_ids: Vec<&str> = used.iter().map(String::as_str).collect();
            match find_part(
                &tweets,
                &part.text.text,
                parent.as_deref(),
                since,
                &used_ids,
            ) {
                Some(t) => {
                    used.push(t.id.clone());
                    found.push(self.part(&t.id));
                }
                None => break,
            }
        }
        Ok(found)
    }
}

/// The JSON body of `POST /2/tweets`. `media` is the number of
/// attachments, whose ids the plan fills in.
fn tweet_body(text: &str, reply: Option<&str>, media: usize) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("text".into(), json!(text));
    if media > 0 {
        b.insert(
            "media".into(),
            json!({ "media_ids": vec![Value::Null; media] }),
        );
    }
    if let Some(r) = reply {
        b.insert("reply".into(), json!({ "in_reply_to_tweet_id": r }));
    }
    Value::Object(b)
}

/// The JSON body of `POST /2/media/upload/initialize`.
fn initialize_body(m: &MediaInfo, total_bytes: u64) -> Value {
    json!({
        "media_type": m.mime,
        "total_bytes": total_bytes,
        "media_category": media_category(m.kind),
    })
}

/// The JSON body of `POST /2/media/metadata` setting alt text; the plan
/// fills in the media `id`.
fn metadata_body(alt: &str) -> Value {
    json!({"id": null, "metadata": {"alt_text": {"text": alt}}})
}

/// X's use case of an upload, which sets its size and processing rules.
fn media_category(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "tweet_image",
        MediaKind::Gif => "tweet_gif",
        MediaKind::Video => "tweet_video",
    }
}

/// `processing_info` of a finalize or status answer: in `data` (v2), or at
/// the top (the v1.1 shape, which some answers still have).
fn processing_info(v: &Value) -> Option<Processing> {
    let info = v
        .get("data")
        .and_then(|d| d.get("processing_info"))
        .or_else(|| v.get("processing_info"))?;
    serde_json::from_value(info.clone()).ok()
}

/// How X explains and classifies its errors: problem objects (`detail`,
/// `title`) with `errors: [{message}]`; a 401 is an access token past its
/// two hours (refreshing it is the accounts code's part); a 403 saying
/// "duplicate content" is X's duplicate check, which `send` confirms.
struct Dialect;

impl wire::Dialect for Dialect {
    fn message(&self, body: &str) -> String {
        server_message(body)
    }

    fn expiring_tokens(&self) -> bool {
        true
    }

    fn error(
        &self,
        status: StatusCode,
        _: &reqwest::header::HeaderMap,
        body: &str,
        what: &str,
        _: Effect,
    ) -> PlatformError {
        let said = self.message(body);
        let message = format!("{what}: HTTP {status}: {said}");
        if status == StatusCode::FORBIDDEN && is_duplicate(&said) {
            return PlatformError::Rejected {
                duplicate: true,
                message,
            };
        }
        wire::status_error(status, message, self.expiring_tokens())
    }
}

/// How X's answers to a delete read: as [`Dialect`] does, with a 403 saying
/// what deleting needs (X answers 403 for a token without `tweet.write`
/// and for a post of another account alike).
struct Deleting;

impl wire::Dialect for Deleting {
    fn message(&self, body: &str) -> String {
        server_message(body)
    }

    fn expiring_tokens(&self) -> bool {
        true
    }

    fn error(
        &self,
        status: StatusCode,
        headers: &reqwest::header::HeaderMap,
        body: &str,
        what: &str,
        effect: Effect,
    ) -> PlatformError {
        match Dialect.error(status, headers, body, what, effect) {
            PlatformError::Rejected { message, .. } if status == StatusCode::FORBIDDEN => {
                PlatformError::rejected(format!(
                    "{message} (deleting a post needs an access token with the `tweet.write` scope, of the account that published it: `social accounts add` logs in again)"
                ))
            }
            e => e,
        }
    }
}

/// Whether X refused a post for repeating one the account already has.
fn is_duplicate(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("duplicate content") || m.contains("status is a duplicate")
}

/// X's explanation: a problem object's `detail` (else `title`), and the
/// messages of `errors: [{message | detail}]`; else the common shapes
/// [`wire::message`] reads.
fn server_message(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return wire::message(body);
    };
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let mut said: Vec<String> = Vec::new();
    if let Some(s) = text(&v, "detail").or_else(|| text(&v, "title")) {
        said.push(s);
    }
    if let Some(errors) = v.get("errors").and_then(Value::as_array) {
        for e in errors {
            if let Some(s) = text(e, "message")
                .or_else(|| text(e, "detail"))
                .or_else(|| text(e, "title"))
                && !said.contains(&s)
            {
                said.push(s);
            }
        }
    }
    if said.is_empty() {
        wire::message(body)
    } else {
        super::http::short(&said.join("; "))
    }
}

/// The first post among `tweets` (oldest first) that is part `text`:
/// not a repost, not in `used`, created after `since` (when the post says),
/// replying to `parent` (or to nothing), with the same text.
fn find_part<'a>(
    tweets: &'a [Tweet],
    text: &str,
    parent: Option<&str>,
    since: DateTime<Utc>,
    used: &[&str],
) -> Option<&'a Tweet> {
    let want = comparable(text);
    tweets.iter().find(|t| {
        !t.is_retweet()
            && !used.contains(&t.id.as_str())
            && t.created().is_none_or(|c| c >= since)
            && t.parent() == parent
            && same_text(&comparable(&decode_entities(&t.text)), &want)
    })
}

/// Whether a post's text (reduced) is the text we sent (reduced). A reply to
/// someone else may carry their `@handle` in front.
fn same_text(shown: &str, sent: &str) -> bool {
    shown == sent || without_leading_mentions(shown) == sent
}

fn without_leading_mentions(s: &str) -> &str {
    let mut rest = s.trim_start();
    while let Some(after) = rest.strip_prefix('@') {
        let n = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if n == 0 {
            break;
        }
        rest = after[n..].trim_start();
    }
    rest
}

/// Undoes the escaping X applies to post text (`&amp;`, `&lt;`, `&gt;`).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let (c, n) = if rest.starts_with("&amp;") {
            ('&', 5)
        } else if rest.starts_with("&lt;") {
            ('<', 4)
        } else if rest.starts_with("&gt;") {
            ('>', 4)
        } else {
            ('&', 1)
        };
        out.push(c);
        rest = &rest[n..];
    }
    out.push_str(rest);
    out
}

/// A text reduced for comparing what was sent with what X shows: every URL
/// removed (X replaces links with t.co links and appends one for attached
/// media), then [`wire::comparable`] (NFC, single spaces).
fn comparable(text: &str) -> String {
    let mut reduced = String::with_capacity(text.len());
    let mut last = 0;
    for r in url_ranges(text, false) {
        reduced.push_str(&text[last..r.start]);
        reduced.push(' ');
        last = r.end;
    }
    reduced.push_str(&text[last..]);
    wire::comparable(&reduced)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Collect, Fixture, fast_http as http};

    fn fixture(server: &MockServer, src: &str) -> Fixture {
        Fixture::new(account(&server.uri()), src, "social-0123abcd")
    }

    use std::path::Path;
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const TOKEN: &str = "x-user-token-123";
    const BEARER: &str = "Bearer x-user-token-123";
    const MEDIA_ID: &str = "710511363345354753";
    const ALT: &str = "The new dashboard, showing three scheduled posts";
    const DUPLICATE: &str = "You are not allowed to create a Tweet with duplicate content.";

    fn account(api: &str) -> Account {
        Account {
            name: "x".into(),
            platform: crate::platforms::PlatformKind::Twitter,
            handle: None,
            service: None,
            instance: None,
            username: Some("alice".into()),
            api_url: Some(api.into()),
            auth_url: None,
            client_id: None,
            user_id: None,
            media_base_url: None,
            max_characters: None,
            linkedin_version: None,
        }
    }

    fn client(server: &MockServer) -> Twitter {
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: None,
        };
        let mut t = Twitter::new(&account(&server.uri()), ctx).unwrap();
        t.poll_max = Duration::from_millis(10);
        t.media_wait = Duration::from_secs(5);
        t
    }

    fn created(id: &str) -> ResponseTemplate {
        ResponseTemplate::new(201).set_body_json(json!({"data": {"id": id, "text": "ignored"}}))
    }

    fn published(id: &str) -> PublishedPart {
        PublishedPart {
            id: id.into(),
            url: Some(format!("https://x.com/alice/status/{id}")),
            cid: None,
        }
    }

    /// A post create checked field by field: token, content type, exact JSON.
    fn create(body: Value) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path("/2/tweets"))
            .and(header("authorization", BEARER))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
    }

    /// Any post create: for counting that none (or one) is sent.
    fn any_create() -> wiremock::MockBuilder {
        Mock::given(method("POST")).and(path("/2/tweets"))
    }

    async fn mount_me(server: &MockServer) {
        Mock::given(method("GET"))
            .and(path("/2/users/me"))
            .and(header("authorization", BEARER))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(
                    json!({"data": {"id": "42", "name": "Alice", "username": "alice"}}),
                ),
            )
            .expect(1)
            .mount(server)
            .await;
    }

    /// The account's timeline (newest first, as X lists it), read once.
    async fn mount_timeline(server: &MockServer, tweets: Value) {
        Mock::given(method("GET"))
            .and(path("/2/users/42/tweets"))
            .and(header("authorization", BEARER))
            .and(query_param("max_results", "20"))
            .and(query_param(
                "tweet.fields",
                "created_at,text,in_reply_to_user_id,referenced_tweets",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "data": tweets,
                "meta": {"result_count": 1},
            })))
            .expect(1)
            .mount(server)
            .await;
    }

    /// One field of a multipart body.
    #[derive(Debug)]
    struct Field {
        name: String,
        content_type: Option<String>,
        value: Vec<u8>,
    }

    /// Splits a multipart/form-data body into its fields.
    fn multipart(req: &Request) -> Option<Vec<Field>> {
        let ct = req.headers.get("content-type")?.to_str().ok()?;
        let boundary = ct
            .strip_prefix("multipart/form-data")?
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))?
            .trim_matches('"');
        let delim = format!("--{boundary}").into_bytes();
        let body = &req.body;
        let mut starts = Vec::new();
        let mut i = 0;
        while i + delim.len() <= body.len() {
            if body[i..].starts_with(&delim) {
                starts.push(i);
                i += delim.len();
            } else {
                i += 1;
            }
        }
        let mut fields = Vec::new();
        for w in starts.windows(2) {
            let chunk = &body[w[0] + delim.len()..w[1]];
            let chunk = chunk.strip_prefix(b"\r\n")?;
            let chunk = chunk.strip_suffix(b"\r\n")?;
            let split = chunk.windows(4).position(|x| x == b"\r\n\r\n")?;
            let head = String::from_utf8_lossy(&chunk[..split]).to_string();
            let mut f = Field {
                name: String::new(),
                content_type: None,
                value: chunk[split + 4..].to_vec(),
            };
            for line in head.split("\r\n") {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("content-disposition:") {
                    for p in line.split(';').skip(1) {
                        if let Some(("name", v)) = p.trim().split_once('=') {
                            f.name = v.trim_matches('"').to_string();
                        }
                    }
                } else if lower.starts_with("content-type:") {
                    f.content_type = Some(line["content-type:".len()..].trim().to_string());
                }
            }
            fields.push(f);
        }
        Some(fields)
    }

    /// An APPEND request of segment `index` carrying exactly `bytes`.
    fn append(index: usize, bytes: &'static [u8]) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path(format!("/2/media/upload/{MEDIA_ID}/append")))
            .and(header("authorization", BEARER))
            .and(move |req: &Request| {
                let Some(fields) = multipart(req) else {
                    return false;
                };
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                names == ["segment_index", "media"]
                    && fields[0].value == index.to_string().as_bytes()
                    && fields[1].value == bytes
                    && fields[1].content_type.as_deref() == Some("application/octet-stream")
            })
    }

    fn initialize(body: Value) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path("/2/media/upload/initialize"))
            .and(header("authorization", BEARER))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
    }

    fn initialized() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": MEDIA_ID,
            "media_key": format!("3_{MEDIA_ID}"),
            "expires_after_secs": 86400,
        }}))
    }

    fn finalize() -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path(format!("/2/media/upload/{MEDIA_ID}/finalize")))
            .and(header("authorization", BEARER))
    }

    fn finalized(processing: Option<Value>) -> ResponseTemplate {
        let mut data = json!({
            "id": MEDIA_ID,
            "media_key": format!("3_{MEDIA_ID}"),
            "size": 25,
            "expires_after_secs": 86400,
        });
        if let Some(p) = processing {
            data["processing_info"] = p;
        }
        ResponseTemplate::new(200).set_body_json(json!({ "data": data }))
    }

    fn status() -> wiremock::MockBuilder {
        Mock::given(method("GET"))
            .and(path("/2/media/upload"))
            .and(header("authorization", BEARER))
            .and(query_param("command", "STATUS"))
            .and(query_param("media_id", MEDIA_ID))
    }

    fn status_is(state: &str) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({"data": {
            "id": MEDIA_ID,
            "media_key": format!("3_{MEDIA_ID}"),
            "processing_info": {"state": state, "check_after_secs": 1, "progress_percent": 50},
        }}))
    }

    fn metadata(alt: &str) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path("/2/media/metadata"))
            .and(header("authorization", BEARER))
            .and(header("content-type", "application/json"))
            .and(body_json(
                json!({"id": MEDIA_ID, "metadata": {"alt_text": {"text": alt}}}),
            ))
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake image bytes";
    const GIF: &[u8] = b"GIF89a fake animation";
    const VIDEO: &[u8] = b"0123456789abcdefghijKLMNO";

    fn media_file(
        dir: &Path,
        name: &str,
        bytes: &[u8],
        mime: &'static str,
        kind: MediaKind,
    ) -> MediaInfo {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        MediaInfo {
            path: format!("media/{name}"),
            project_path: format!("media/{name}"),
            resolved: p,
            mime,
            kind,
            bytes: bytes.len() as u64,
            alt: Some(ALT.into()),
        }
    }

    fn paths(reqs: &[Request]) -> Vec<String> {
        reqs.iter().map(|r| r.url.path().to_string()).collect()
    }

    #[tokio::test]
    async fn text_post() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: hello\n---\nHello **world**: [docs](https://example.com/docs) #rustlang\n",
        );
        create(json!({"text": "Hello world: docs (https://example.com/docs) #rustlang"}))
            .respond_with(created("1800000000000000001"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("1800000000000000001"))]);
    }

    #[tokio::test]
    async fn post_url_without_a_username() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: hello\n---\nHi\n");
        create(json!({"text": "Hi"}))
            .respond_with(created("7"))
            .expect(1)
            .mount(&server)
            .await;
        let mut acc = account(&server.uri());
        acc.username = None;
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: None,
        };
        let mut sink = Collect::default();
        Twitter::new(&acc, ctx)
            .unwrap()
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0[0].1.url.as_deref(), Some("https://x.com/i/status/7"));
    }

    #[tokio::test]
    async fn image_with_alt_text() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: shot\n---\nLook at this\n");
        f.media = vec![media_file(
            dir.path(),
            "screenshot.png",
            PNG,
            "image/png",
            MediaKind::Image,
        )];

        initialize(json!({
            "media_type": "image/png",
            "total_bytes": PNG.len(),
            "media_category": "tweet_image",
        }))
        .respond_with(initialized())
        .expect(1)
        .mount(&server)
        .await;
        append(0, PNG)
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"expires_at": 1}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        finalize()
            .respond_with(finalized(None))
            .expect(1)
            .mount(&server)
            .await;
        status()
            .respond_with(status_is("succeeded"))
            .expect(0)
            .mount(&server)
            .await;
        metadata(ALT)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
                "id": MEDIA_ID,
                "associated_metadata": {"alt_text": {"text": ALT}},
            }})))
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Look at this", "media": {"media_ids": [MEDIA_ID]}}))
            .respond_with(created("201"))
            .expect(1)
            .mount(&server)
            .await;

        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("201"))]);
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(
            paths(&reqs),
            [
                "/2/media/upload/initialize".to_string(),
                format!("/2/media/upload/{MEDIA_ID}/append"),
                format!("/2/media/upload/{MEDIA_ID}/finalize"),
                "/2/media/metadata".to_string(),
                "/2/tweets".to_string(),
            ]
        );
        // FINALIZE carries no body.
        assert!(reqs[2].body.is_empty());
    }

    #[tokio::test]
    async fn gif_is_polled_until_processed() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: gif\n---\nDancing\n");
        f.media = vec![media_file(
            dir.path(),
            "dance.gif",
            GIF,
            "image/gif",
            MediaKind::Gif,
        )];

        initialize(json!({
            "media_type": "image/gif",
            "total_bytes": GIF.len(),
            "media_category": "tweet_gif",
        }))
        .respond_with(initialized())
        .expect(1)
        .mount(&server)
        .await;
        append(0, GIF)
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        finalize()
            .respond_with(finalized(Some(
                json!({"state": "pending", "check_after_secs": 1}),
            )))
            .expect(1)
            .mount(&server)
            .await;
        status()
            .respond_with(status_is("in_progress"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        status()
            .respond_with(status_is("succeeded"))
            .expect(1)
            .mount(&server)
            .await;
        metadata(ALT)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {}})))
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Dancing", "media": {"media_ids": [MEDIA_ID]}}))
            .respond_with(created("301"))
            .expect(1)
            .mount(&server)
            .await;

        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("301"))]);
        // The post came only after processing had succeeded.
        let reqs = server.received_requests().await.unwrap();
        let order = paths(&reqs);
        assert_eq!(order[3], "/2/media/upload");
        assert_eq!(order[4], "/2/media/upload");
        assert_eq!(order.last().map(String::as_str), Some("/2/tweets"));
    }

    #[tokio::test]
    async fn video_is_sent_in_segments_and_polled() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: vid\n---\nWatch\n");
        f.media = vec![media_file(
            dir.path(),
            "demo.mp4",
            VIDEO,
            "video/mp4",
            MediaKind::Video,
        )];

        initialize(json!({
            "media_type": "video/mp4",
            "total_bytes": VIDEO.len(),
            "media_category": "tweet_video",
        }))
        .respond_with(initialized())
        .expect(1)
        .mount(&server)
        .await;
        for (i, seg) in VIDEO.chunks(10).enumerate() {
            append(i, seg)
                .respond_with(ResponseTemplate::new(200))
                .expect(1)
                .mount(&server)
                .await;
        }
        finalize()
            .respond_with(finalized(Some(
                json!({"state": "in_progress", "check_after_secs": 5}),
            )))
            .expect(1)
            .mount(&server)
            .await;
        status()
            .respond_with(status_is("succeeded"))
            .expect(1)
            .mount(&server)
            .await;
        // X takes alt text for images and GIFs only.
        Mock::given(path("/2/media/metadata"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        create(json!({"text": "Watch", "media": {"media_ids": [MEDIA_ID]}}))
            .respond_with(created("401"))
            .expect(1)
            .mount(&server)
            .await;

        let mut c = client(&server);
        c.chunk = 10;
        let mut sink = Collect::default();
        c.publish(&f.job(&[]), &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("401"))]);
        let reqs = server.received_requests().await.unwrap();
        let appends = paths(&reqs)
            .iter()
            .filter(|p| p.ends_with("/append"))
            .count();
        assert_eq!(appends, 3);
    }

    #[tokio::test]
    async fn failed_processing_is_rejected_and_nothing_is_posted() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: vid\n---\nWatch\n");
        f.media = vec![media_file(
            dir.path(),
            "demo.mp4",
            VIDEO,
            "video/mp4",
            MediaKind::Video,
        )];
        Mock::given(path("/2/media/upload/initialize"))
            .respond_with(initialized())
            .expect(1)
            .mount(&server)
            .await;
        append(0, VIDEO)
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount(&server)
            .await;
        finalize()
            .respond_with(finalized(Some(
                json!({"state": "pending", "check_after_secs": 1}),
            )))
            .expect(1)
            .mount(&server)
            .await;
        status()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
                "id": MEDIA_ID,
                "processing_info": {
                    "state": "failed",
                    "error": {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"},
                },
            }})))
            .expect(1)
            .mount(&server)
            .await;
        any_create()
            .respond_with(created("1"))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { message, duplicate } => {
                assert!(!duplicate);
                assert!(message.contains("Unsupported video format"), "{message}");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn thread_is_a_reply_chain() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        assert_eq!(f.rendered.parts.len(), 3);
        create(json!({"text": "One"}))
            .respond_with(created("1"))
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Two", "reply": {"in_reply_to_tweet_id": "1"}}))
            .respond_with(created("2"))
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Three", "reply": {"in_reply_to_tweet_id": "2"}}))
            .respond_with(created("3"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(
            sink.0,
            vec![
                (0, published("1")),
                (1, published("2")),
                (2, published("3"))
            ]
        );
    }

    #[tokio::test]
    async fn resume_after_the_parts_already_done() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        f.media = vec![media_file(
            dir.path(),
            "screenshot.png",
            PNG,
            "image/png",
            MediaKind::Image,
        )];
        // The first part and its media went out in an earlier attempt.
        Mock::given(path("/2/media/upload/initialize"))
            .respond_with(initialized())
            .expect(0)
            .mount(&server)
            .await;
        create(json!({"text": "One", "media": {"media_ids": [MEDIA_ID]}}))
            .respond_with(created("1"))
            .expect(0)
            .mount(&server)
            .await;
        create(json!({"text": "Two", "reply": {"in_reply_to_tweet_id": "1"}}))
            .respond_with(created("2"))
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Three", "reply": {"in_reply_to_tweet_id": "2"}}))
            .respond_with(created("3"))
            .expect(1)
            .mount(&server)
            .await;
        let done = [published("1")];
        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&done), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(1, published("2")), (2, published("3"))]);

        // Everything done: nothing to send.
        let all = [published("1"), published("2"), published("3")];
        client(&server)
            .publish(&f.job(&all), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0.len(), 2);
    }

    #[tokio::test]
    async fn replies_to_a_post_url_or_another_part() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nAgreed!\n");
        f.reply_to = Some(ReplyTo::Url(
            "https://twitter.com/bob/status/1234567890123456789?s=20".into(),
        ));
        create(
            json!({"text": "Agreed!", "reply": {"in_reply_to_tweet_id": "1234567890123456789"}}),
        )
        .respond_with(created("8"))
        .expect(1)
        .mount(&server)
        .await;
        client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();

        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nFollow-up\n");
        f.reply_to = Some(ReplyTo::Part(published("555")));
        create(json!({"text": "Follow-up", "reply": {"in_reply_to_tweet_id": "555"}}))
            .respond_with(created("9"))
            .expect(1)
            .mount(&server)
            .await;
        client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn reply_to_a_url_that_is_not_an_x_post_is_rejected() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nAgreed!\n");
        f.reply_to = Some(ReplyTo::Url("https://bsky.app/profile/bob/post/3k".into()));
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn short_rate_limit_is_waited_out() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: rl\n---\nHi\n");
        let reset = Utc::now().timestamp() + 1;
        create(json!({"text": "Hi"}))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("x-rate-limit-limit", "100")
                    .insert_header("x-rate-limit-remaining", "0")
                    .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                    .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
            )
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        create(json!({"text": "Hi"}))
            .respond_with(created("1"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("1"))]);
        // The retry waited for the reset second.
        assert!(Utc::now().timestamp() >= reset);
    }

    #[tokio::test]
    async fn long_rate_limit_hands_the_target_back() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: rl\n---\nHi\n");
        let reset = Utc::now().timestamp() + 2 * 3600;
        any_create()
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("x-rate-limit-limit", "100")
                    .insert_header("x-rate-limit-remaining", "0")
                    .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                    .set_body_json(json!({"title": "Too Many Requests", "status": 429})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        let err = client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap_err();
        match err {
            PlatformError::RateLimited { retry_at, .. } => {
                assert_eq!(retry_at.map(|t| t.timestamp()), Some(reset));
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(sink.0.is_empty());
    }

    #[tokio::test]
    async fn server_error_on_a_read_is_retried() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        Mock::given(method("GET"))
            .and(path("/2/users/me"))
            .respond_with(ResponseTemplate::new(503).set_body_string("over capacity"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        mount_me(&server).await;
        mount_timeline(
            &server,
            json!([{"id": "5", "text": "Hi", "created_at": f.at(1), "edit_history_tweet_ids": ["5"]}]),
        )
        .await;
        let found = client(&server).reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(found, vec![published("5")]);
    }

    #[tokio::test]
    async fn server_error_on_a_create_is_unknown_and_not_resent() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        any_create()
            .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_unreadable_success_is_unknown() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        any_create()
            .respond_with(ResponseTemplate::new(201).set_body_string("{\"data\": {\"id"))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn unauthorized_is_an_expired_credential_without_the_token() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        any_create()
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Auth { expired: true, message } if message.contains("Unauthorized")),
            "{err:?}"
        );
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn a_refused_post_is_rejected_with_the_detail() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        any_create()
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "errors": [{"parameters": {"media.media_ids": ["1"]}, "message": "Your media IDs are invalid."}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            })))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { message, duplicate } => {
                assert!(!duplicate);
                assert!(message.contains("Your media IDs are invalid."), "{message}");
                assert!(message.contains("One or more parameters"), "{message}");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    fn duplicate() -> ResponseTemplate {
        ResponseTemplate::new(403).set_body_json(json!({
            "detail": DUPLICATE, "type": "about:blank", "title": "Forbidden", "status": 403
        }))
    }

    #[tokio::test]
    async fn a_duplicate_of_our_own_post_counts_as_posted() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nLaunch day! https://example.com/launch\n\n---\n\nMore soon\n",
        );
        // The first part landed in an attempt whose answer was lost.
        create(json!({"text": "Launch day! https://example.com/launch"}))
            .respond_with(duplicate())
            .expect(1)
            .mount(&server)
            .await;
        mount_me(&server).await;
        mount_timeline(
            &server,
            json!([
                {"id": "900", "text": "Launch day! https://t.co/AbCdEf", "created_at": f.at(0)},
                // Same text a week earlier: not this post.
                {"id": "100", "text": "Launch day! https://t.co/XyZ",
                 "created_at": (f.first_claimed - chrono::Duration::days(7)).to_rfc3339()},
            ]),
        )
        .await;
        create(json!({"text": "More soon", "reply": {"in_reply_to_tweet_id": "900"}}))
            .respond_with(created("901"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("900")), (1, published("901"))]);
    }

    #[tokio::test]
    async fn a_duplicate_not_found_on_the_account_is_rejected() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: d\n---\nGood morning\n");
        any_create()
            .respond_with(duplicate())
            .expect(1)
            .mount(&server)
            .await;
        mount_me(&server).await;
        mount_timeline(
            &server,
            json!([
                // A reply with the same text: not a first part.
                {"id": "3", "text": "@bob Good morning", "created_at": f.at(1),
                 "in_reply_to_user_id": "7", "referenced_tweets": [{"type": "replied_to", "id": "2"}]},
                // The same text last week: X refuses it, but it is not ours.
                {"id": "1", "text": "Good morning",
                 "created_at": (f.first_claimed - chrono::Duration::days(7)).to_rfc3339()},
            ]),
        )
        .await;
        let mut sink = Collect::default();
        let err = client(&server)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { message, duplicate } => {
                assert!(duplicate);
                assert!(message.contains(DUPLICATE), "{message}");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        assert!(sink.0.is_empty());
    }

    /// A thread whose parts X shows with t.co links, escaped entities and
    /// a media link appended, among posts that must not match.
    fn crashed_thread(server: &MockServer) -> Fixture {
        let mut f = fixture(
            server,
            "---\nid: t\nthread: true\n---\nLaunch day! Read it at https://example.com/a/very/long/path & more #rustlang\n\n---\n\nIt's \"second\" <part>\n\n---\n\nThird\n",
        );
        f.first_claimed = Utc::now() - chrono::Duration::hours(2);
        f
    }

    fn crashed_timeline(f: &Fixture, with_third: bool) -> Value {
        let mut tweets = vec![
            json!({"id": "40", "text": "Unrelated", "created_at": f.at(30)}),
            // A repost of the second part: not ours.
            json!({"id": "31", "text": "RT @alice: It's \"second\" &lt;part&gt;", "created_at": f.at(6),
                   "referenced_tweets": [{"type": "retweeted", "id": "30"}]}),
            json!({"id": "30", "text": "It's \"second\" &lt;part&gt;", "created_at": f.at(5),
                   "in_reply_to_user_id": "42", "referenced_tweets": [{"type": "replied_to", "id": "20"}]}),
            json!({"id": "20", "text": "Launch day! Read it at https://t.co/aBcD &amp; more #rustlang https://t.co/MeDiA",
                   "created_at": f.at(1)}),
            // The same first part a week earlier: another post.
            json!({"id": "5", "text": "Launch day! Read it at https://t.co/old &amp; more #rustlang",
                   "created_at": (f.first_claimed - chrono::Duration::days(7)).to_rfc3339()}),
        ];
        if with_third {
            tweets.insert(
                0,
                json!({"id": "50", "text": "Third", "created_at": f.at(7),
                       "referenced_tweets": [{"type": "replied_to", "id": "30"}]}),
            );
            // The same text replying to something else.
            tweets.insert(
                0,
                json!({"id": "51", "text": "Third", "created_at": f.at(8),
                       "referenced_tweets": [{"type": "replied_to", "id": "40"}]}),
            );
        }
        Value::Array(tweets)
    }

    #[tokio::test]
    async fn reconcile_finds_every_part_so_nothing_is_posted_again() {
        let server = MockServer::start().await;
        let f = crashed_thread(&server);
        mount_me(&server).await;
        mount_timeline(&server, crashed_timeline(&f, true)).await;
        any_create()
            .respond_with(created("1"))
            .expect(0)
            .mount(&server)
            .await;
        let c = client(&server);
        let found = c.reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(
            found,
            vec![published("20"), published("30"), published("50")]
        );
        let mut sink = Collect::default();
        c.publish(&f.job(&found), &mut sink).await.unwrap();
        assert!(sink.0.is_empty());
    }

    #[tokio::test]
    async fn reconcile_finds_the_prefix_and_publish_sends_the_rest() {
        let server = MockServer::start().await;
        let f = crashed_thread(&server);
        mount_me(&server).await;
        mount_timeline(&server, crashed_timeline(&f, false)).await;
        create(json!({"text": "Third", "reply": {"in_reply_to_tweet_id": "30"}}))
            .respond_with(created("60"))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server);
        let found = c.reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(found, vec![published("20"), published("30")]);
        let mut sink = Collect::default();
        c.publish(&f.job(&found), &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(2, published("60"))]);
        let reqs = server.received_requests().await.unwrap();
        assert_eq!(
            reqs.iter().filter(|r| r.url.path() == "/2/tweets").count(),
            1
        );
    }

    #[tokio::test]
    async fn reconcile_of_a_reply_checks_the_parent() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nAgreed!\n");
        f.reply_to = Some(ReplyTo::Url("https://x.com/bob/status/777".into()));
        mount_me(&server).await;
        mount_timeline(
            &server,
            json!([
                {"id": "9", "text": "@bob Agreed!", "created_at": f.at(1),
                 "referenced_tweets": [{"type": "replied_to", "id": "777"}]},
                {"id": "8", "text": "@carol Agreed!", "created_at": f.at(1),
                 "referenced_tweets": [{"type": "replied_to", "id": "666"}]},
            ]),
        )
        .await;
        let found = client(&server).reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(found, vec![published("9")]);
    }

    #[tokio::test]
    async fn reconcile_with_nothing_on_the_account_finds_nothing() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: n\n---\nHi\n");
        mount_me(&server).await;
        Mock::given(method("GET"))
            .and(path("/2/users/42/tweets"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let found = client(&server).reconcile(&f.job(&[])).await.unwrap();
        assert!(found.is_empty());
    }

    /// What a delete told its sink: (part index, gone already).
    #[derive(Default)]
    struct Told(Vec<(usize, bool)>);

    impl DoneSink for Told {
        fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
            self.0.push((index, gone));
            Ok(())
        }
    }

    /// Parts 1, 2, 3 of a thread (posts 101, 102, 103), last part first, as
    /// the engine hands them to `delete`.
    fn thread_to_delete() -> Vec<Recorded> {
        vec![
            (2, published("103")),
            (1, published("102")),
            (0, published("101")),
        ]
    }

    /// `DELETE /2/tweets/{id}` with the user's token.
    fn delete_of(id: &str) -> wiremock::MockBuilder {
        Mock::given(method("DELETE"))
            .and(path(format!("/2/tweets/{id}")))
            .and(header("authorization", BEARER))
    }

    fn deleted() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": true}}))
    }

    #[tokio::test]
    async fn a_thread_is_deleted_last_part_first() {
        let server = MockServer::start().await;
        for id in ["101", "102", "103"] {
            delete_of(id)
                .respond_with(deleted())
                .expect(1)
                .mount(&server)
                .await;
        }
        let mut told = Told::default();
        client(&server)
            .delete(&thread_to_delete(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(2, false), (1, false), (0, false)]);
        let got = server.received_requests().await.unwrap();
        assert_eq!(
            paths(&got),
            ["/2/tweets/103", "/2/tweets/102", "/2/tweets/101"]
        );
        for r in &got {
            assert_eq!(r.method.as_str(), "DELETE");
            assert_eq!(
                r.headers.get("authorization").unwrap().to_str().unwrap(),
                BEARER
            );
            assert!(r.body.is_empty());
        }
    }

    #[tokio::test]
    async fn a_post_already_deleted_counts_as_gone() {
        let server = MockServer::start().await;
        delete_of("103")
            .respond_with(deleted())
            .expect(1)
            .mount(&server)
            .await;
        delete_of("102")
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "title": "Not Found Error", "detail": "Could not find tweet with id: [102].",
                "type": "https://api.twitter.com/2/problems/resource-not-found", "status": 404
            })))
            .expect(1)
            .mount(&server)
            .await;
        delete_of("101")
            .respond_with(deleted())
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        client(&server)
            .delete(&thread_to_delete(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(2, false), (1, true), (0, false)]);
    }

    #[tokio::test]
    async fn a_forbidden_delete_names_the_scope_and_sends_nothing_more() {
        let server = MockServer::start().await;
        delete_of("103")
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "title": "Forbidden", "detail": "You are not permitted to perform this action.",
                "type": "about:blank", "status": 403
            })))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/2/tweets/102"))
            .respond_with(deleted())
            .expect(0)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/2/tweets/101"))
            .respond_with(deleted())
            .expect(0)
            .mount(&server)
            .await;
        let mut told = Told::default();
        let err = client(&server)
            .delete(&thread_to_delete(), &mut told)
            .await
            .unwrap_err();
        match &err {
            PlatformError::Rejected { message, .. } => {
                assert!(message.contains("tweet.write"), "{message}");
                assert!(message.contains("not permitted"), "{message}");
                assert!(message.contains("deleting part 3"), "{message}");
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
        assert!(told.0.is_empty());
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_rate_limit_mid_way_stops_after_telling_the_parts_before_it() {
        let server = MockServer::start().await;
        let reset = Utc::now().timestamp() + 2 * 3600;
        delete_of("103")
            .respond_with(deleted())
            .expect(1)
            .mount(&server)
            .await;
        delete_of("102")
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("x-rate-limit-limit", "50")
                    .insert_header("x-rate-limit-remaining", "0")
                    .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                    .set_body_json(json!({"title": "Too Many Requests", "status": 429})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("DELETE"))
            .and(path("/2/tweets/101"))
            .respond_with(deleted())
            .expect(0)
            .mount(&server)
            .await;
        let mut told = Told::default();
        let err = client(&server)
            .delete(&thread_to_delete(), &mut told)
            .await
            .unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        match err {
            PlatformError::RateLimited { retry_at, .. } => {
                assert_eq!(retry_at.map(|t| t.timestamp()), Some(reset));
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert_eq!(told.0, [(2, false)]);
    }

    #[tokio::test]
    async fn deleted_false_is_an_error_and_the_part_is_not_told() {
        let server = MockServer::start().await;
        delete_of("101")
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"data": {"deleted": false}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        let err = client(&server)
            .delete(&[(0, published("101"))], &mut told)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Unavailable { message } if message.contains("not deleted")),
            "{err:?}"
        );
        assert!(told.0.is_empty());
    }

    #[tokio::test]
    async fn a_delete_plan_is_shown_in_the_given_order_without_sending() {
        let server = MockServer::start().await;
        let x = client(&server);
        let plan = x.plan_delete(&thread_to_delete()).unwrap();
        let roles: Vec<Role> = plan.steps.iter().map(|s| s.role).collect();
        assert_eq!(roles, [Role::Delete(2), Role::Delete(1), Role::Delete(0)]);
        let shown = plan.describe();
        assert_eq!(shown[0]["method"], "DELETE");
        assert_eq!(shown[0]["url"], format!("{}/2/tweets/103", server.uri()));
        assert_eq!(shown[2]["url"], format!("{}/2/tweets/101", server.uri()));
        assert!(shown[0].get("json").is_none());
        assert!(!shown.iter().any(|r| r.to_string().contains(TOKEN)));
        // An id that is not a post's is refused before anything is sent.
        let err = x
            .plan_delete(&[(1, published("102")), (0, published("../users/42"))])
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Rejected { message, .. } if message.contains("part 1")),
            "{err:?}"
        );
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn editing_is_unsupported_and_names_the_repost() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        let done = [published("101")];
        let x = client(&server);
        for force in [false, true] {
            let err = x
                .edit(&f.job(&done), EditMode { force }, &mut Told::default())
                .await
                .unwrap_err();
            assert!(
                matches!(&err, PlatformError::Unsupported { message }
                    if message.contains("does not let API clients edit") && message.contains("social edit --repost")),
                "{err:?}"
            );
        }
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn dry_run_shows_the_requests_without_sending() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n",
        );
        f.media = vec![media_file(
            dir.path(),
            "screenshot.png",
            PNG,
            "image/png",
            MediaKind::Image,
        )];
        f.reply_to = Some(ReplyTo::Url("https://x.com/bob/status/777".into()));
        let reqs = client(&server).dry_run(&f.job(&[]));
        let urls: Vec<&str> = reqs.iter().map(|r| r["url"].as_str().unwrap()).collect();
        let base = server.uri();
        assert_eq!(
            urls,
            [
                format!("{base}/2/media/upload/initialize"),
                format!("{base}/2/media/upload/<id of upload 1>/append"),
                format!("{base}/2/media/upload/<id of upload 1>/finalize"),
                format!("{base}/2/media/metadata"),
                format!("{base}/2/tweets"),
                format!("{base}/2/tweets"),
            ]
        );
        assert_eq!(
            reqs[0]["json"],
            json!({"media_type": "image/png", "total_bytes": PNG.len(), "media_category": "tweet_image"})
        );
        assert_eq!(reqs[1]["multipart"]["segment_index"], json!("0"));
        assert_eq!(
            reqs[1]["multipart"]["media"],
            json!({
                "file_name": "media",
                "path": f.media[0].resolved.display().to_string(),
                "content_type": "application/octet-stream",
                "bytes": PNG.len(),
                "range": [0, PNG.len()],
            })
        );
        assert_eq!(reqs[1]["step"], "uploading part 1 of media/screenshot.png");
        assert!(reqs[2].get("json").is_none() && reqs[2].get("multipart").is_none());
        assert_eq!(
            reqs[3]["json"],
            json!({"id": "<id of upload 1>", "metadata": {"alt_text": {"text": ALT}}})
        );
        assert_eq!(
            reqs[4]["json"],
            json!({
                "text": "One",
                "media": {"media_ids": ["<id of upload 1>"]},
                "reply": {"in_reply_to_tweet_id": "777"},
            })
        );
        assert_eq!(
            reqs[5]["json"],
            json!({"text": "Two", "reply": {"in_reply_to_tweet_id": "<id of the post of part 1>"}})
        );
        assert!(!reqs.iter().any(|r| r.to_string().contains(TOKEN)));
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    /// The "cannot drift" proof: what a dry run shows is, request for
    /// request, what publishing sends (method, URL, query and body), with
    /// each label standing for the value the fake answered.
    #[tokio::test]
    async fn publish_sends_exactly_the_dry_run_plan() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        f.media = vec![
            media_file(dir.path(), "a.png", PNG, "image/png", MediaKind::Image),
            media_file(dir.path(), "b.gif", GIF, "image/gif", MediaKind::Gif),
        ];
        f.reply_to = Some(ReplyTo::Url("https://x.com/bob/status/777".into()));
        let uploads = Arc::new(AtomicUsize::new(0));
        Mock::given(method("POST"))
            .and(path("/2/media/upload/initialize"))
            .respond_with(move |_: &Request| {
                let n = uploads.fetch_add(1, Ordering::SeqCst) + 1;
                ResponseTemplate::new(200).set_body_json(json!({"data": {"id": format!("m{n}")}}))
            })
            .expect(2)
            .mount(&server)
            .await;
        for id in ["m1", "m2"] {
            Mock::given(method("POST"))
                .and(path(format!("/2/media/upload/{id}/append")))
                .respond_with(ResponseTemplate::new(204))
                .mount(&server)
                .await;
            Mock::given(method("POST"))
                .and(path(format!("/2/media/upload/{id}/finalize")))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"id": id}})))
                .expect(1)
                .mount(&server)
                .await;
        }
        Mock::given(method("POST"))
            .and(path("/2/media/metadata"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {}})))
            .expect(2)
            .mount(&server)
            .await;
        let posts = Arc::new(AtomicUsize::new(0));
        any_create()
            .and(header("authorization", BEARER))
            .respond_with(move |_: &Request| {
                let n = posts.fetch_add(1, Ordering::SeqCst) + 1;
                created(&format!("t{n}"))
            })
            .expect(3)
            .mount(&server)
            .await;

        let mut c = client(&server);
        c.chunk = 10;
        let job = f.job(&[]);
        let mut shown = serde_json::to_string(&c.dry_run(&job)).unwrap();
        for (label, value) in [
            ("<id of upload 1>", "m1"),
            ("<id of upload 2>", "m2"),
            ("<id of the post of part 1>", "t1"),
            ("<id of the post of part 2>", "t2"),
        ] {
            shown = shown.replace(label, value);
        }
        let shown: Vec<Value> = serde_json::from_str(&shown).unwrap();
        assert!(
            !shown.iter().any(|r| r.to_string().contains('<')),
            "{shown:#?}"
        );

        let mut sink = Collect::default();
        c.publish(&job, &mut sink).await.unwrap();
        assert_eq!(
            sink.0,
            vec![
                (0, published("t1")),
                (1, published("t2")),
                (2, published("t3"))
            ]
        );
        let sent = server.received_requests().await.unwrap();
        // Per file a start, 3 segments, a finalize and alt text; 3 posts.
        assert_eq!(sent.len(), 15);
        assert_eq!(sent.len(), shown.len(), "{shown:#?}");
        for (n, (want, got)) in shown.iter().zip(&sent).enumerate() {
            let at = format!("request {n}: {want:#}");
            assert_eq!(got.method.as_str(), want["method"], "{at}");
            // The fake sees its own address as `localhost`: compare what
            // follows the base the client was given.
            let want_path = want["url"].as_str().unwrap().strip_prefix(&server.uri());
            assert_eq!(Some(got.url.path()), want_path, "{at}");
            let query: serde_json::Map<String, Value> = got
                .url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), json!(v)))
                .collect();
            assert_eq!(
                Value::Object(query),
                want.get("query").cloned().unwrap_or(json!({})),
                "{at}"
            );
            if let Some(body) = want.get("json") {
                let got: Value = serde_json::from_slice(&got.body).unwrap();
                assert_eq!(&got, body, "{at}");
            } else if let Some(fields) = want.get("multipart").and_then(Value::as_object) {
                let got = multipart(got).expect("a multipart body");
                assert_eq!(got.len(), fields.len(), "{at}");
                for field in got {
                    let want = &fields[&field.name];
                    let bytes = match want {
                        Value::String(t) => t.as_bytes().to_vec(),
                        file => {
                            let all = std::fs::read(file["path"].as_str().unwrap()).unwrap();
                            let r = &file["range"];
                            let (a, b) = (r[0].as_u64().unwrap(), r[1].as_u64().unwrap());
                            all[a as usize..b as usize].to_vec()
                        }
                    };
                    assert_eq!(field.value, bytes, "{at}: field {}", field.name);
                }
            } else {
                assert!(got.body.is_empty(), "{at}");
            }
            assert_eq!(
                got.headers.get("authorization").unwrap().to_str().unwrap(),
                BEARER
            );
        }
        assert!(!shown.iter().any(|r| r.to_string().contains(TOKEN)));
    }

    #[test]
    fn missing_token_or_bad_url_is_a_config_error() {
        let ctx = |secret: Option<Secret>| Context {
            http: Http::new().unwrap(),
            secret,
            memo: None,
        };
        let err = Twitter::new(&account("https://api.x.com"), ctx(None))
            .err()
            .unwrap();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("SOCIAL_X_TOKEN")),
            "{err:?}"
        );
        let err = Twitter::new(&account("not a url"), ctx(Some(Secret::new(TOKEN))))
            .err()
            .unwrap();
        assert!(matches!(err, PlatformError::Config { .. }), "{err:?}");
        let mut acc = account("");
        acc.api_url = None;
        let t = Twitter::new(&acc, ctx(Some(Secret::new(TOKEN)))).unwrap();
        assert_eq!(t.url("/2/tweets"), "https://api.x.com/2/tweets");
    }

    #[test]
    fn texts_compare_as_x_shows_them() {
        let sent = "Read https://example.com/a & <b>\n\nthen  example.org too";
        let shown =
            "Read https://t.co/xyz &amp; &lt;b&gt; then https://t.co/abc too https://t.co/media";
        assert_eq!(comparable(&decode_entities(shown)), comparable(sent));
        assert_eq!(decode_entities("&amp;lt; & &gt;&amp;"), "&lt; & >&");
        assert!(same_text("@bob @carol_2 Agreed!", "Agreed!"));
        assert!(!same_text("Agreed! @bob", "Agreed!"));
        // NFC on both sides.
        assert_eq!(comparable("Cafe\u{301}"), comparable("Café"));
    }

    fn error_for(status: StatusCode, body: &str, what: &str) -> PlatformError {
        use crate::platforms::wire::Dialect as _;
        let headers = reqwest::header::HeaderMap::new();
        Dialect.error(status, &headers, body, what, Effect::Create)
    }

    #[test]
    fn error_bodies_are_read_tolerantly() {
        assert_eq!(
            server_message(
                r#"{"title": "Forbidden", "detail": "Nope", "type": "about:blank", "status": 403}"#
            ),
            "Nope"
        );
        assert_eq!(server_message(r#"{"title": "Forbidden"}"#), "Forbidden");
        assert_eq!(
            server_message(r#"{"errors": [{"message": "A"}, {"message": "B"}]}"#),
            "A; B"
        );
        assert_eq!(
            server_message(r#"{"errors": [{"code": 187, "message": "Status is a duplicate."}]}"#),
            "Status is a duplicate."
        );
        assert_eq!(server_message(r#"{"error": 3}"#), r#"{"error": 3}"#);
        assert_eq!(server_message(""), "no details given");
        assert_eq!(server_message("<html>x</html>"), "<html>x</html>");
        assert!(server_message(&"x".repeat(1000)).chars().count() < 400);

        let body = format!(r#"{{"detail": "{DUPLICATE}", "status": 403}}"#);
        assert!(matches!(
            error_for(StatusCode::FORBIDDEN, &body, "posting"),
            PlatformError::Rejected {
                duplicate: true,
                ..
            }
        ));
        assert!(matches!(
            error_for(
                StatusCode::FORBIDDEN,
                r#"{"detail": "You are not permitted to perform this action."}"#,
                "posting"
            ),
            PlatformError::Rejected {
                duplicate: false,
                ..
            }
        ));
        assert!(matches!(
            error_for(StatusCode::UNAUTHORIZED, "", "posting"),
            PlatformError::Auth { expired: true, .. }
        ));
        assert!(matches!(
            error_for(StatusCode::NOT_FOUND, "{}", "posting"),
            PlatformError::Rejected { .. }
        ));
    }
}
