//! The Mastodon client: statuses with an `Idempotency-Key`, media through
//! `/api/v2/media` (polled while the server processes it), threads as
//! `in_reply_to_id` chains, and the instance's limits from `/api/v2/instance`
//! (cached in the state store so that validation can read them offline).
//!
//! Exactly once: every status create carries `Idempotency-Key:
//! <target key>-<part index>`. Mastodon keeps that key for one hour after the
//! status was created and answers a repeated create with the original
//! status, so within the hour resending *is* the check. After that,
//! [`Platform::reconcile`] looks for the parts among the account's recent
//! statuses by their text.
//!
//! Deleting is `DELETE /api/v1/statuses/:id` per part (a status already
//! gone counts as deleted); editing is `PUT /api/v1/statuses/:id` per part,
//! after reading the status for the ids of its media, which an edit must
//! name again (their descriptions may change, the media themselves not).

pub mod account;
use super::http::{Http, Repeat, short};
use super::plan::{
    self, Changes, Field, FieldValue, FileRef, Method, Plan, Progress, Request, Role, Slot, Step,
    Steps,
};
use super::wire::{self, Dialect as _, Effect, segment};
use super::{
    Context, DoneSink, EditMode, Job, Memo, PartSink, Platform, PlatformError, Recorded, ReplyTo,
};
use crate::config::Account;
use crate::content::Post;
use crate::credentials::Secret;
use crate::model::{MediaInfo, PublishedPart};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// How long after the first claim (or the scheduled time, when earlier)
/// resending with the same Idempotency-Key is still a safe check. Mastodon
/// keeps a key for 1 hour after the status was created
/// (`PostStatusService#with_idempotency`: `redis.setex(key, 3_600, id)`,
/// per account, under a lock), and the create came after the claim (on any
/// machine: after the scheduled time); 10 minutes of margin cover clock skew
/// and a request still in flight.
const KEY_WINDOW: chrono::Duration = chrono::Duration::minutes(50);

/// Statuses per page of an account's timeline (Mastodon's maximum).
const PAGE: usize = 40;

/// Pages of the account's timeline `reconcile` reads at most.
const RECONCILE_PAGES: usize = 5;

/// How much earlier than the first claim a status may claim to be created
/// (server and local clocks disagree) and still count as one of ours.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);

/// The Mastodon client for one account.
pub struct Mastodon {
    account: String,
    /// The instance base URL, without a trailing `/`.
    base: String,
    token: Secret,
    http: Http,
    memo: Option<Memo>,
    /// Longest wait for an upload to finish processing.
    media_wait: Duration,
    /// First delay between polls of a processing upload; doubles up to `poll_max`.
    poll_first: Duration,
    poll_max: Duration,
}

/// What the instance allows, from `/api/v2/instance` (or `/api/v1/instance`
/// on older servers). Missing numbers take Mastodon's defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceLimits {
    /// Longest status, in characters.
    pub max_characters: usize,
    pub max_media_attachments: usize,
    /// What every URL counts, whatever its length.
    pub characters_reserved_per_url: usize,
    /// Longest alt text, in characters (servers before 4.4 do not say).
    pub description_limit: Option<usize>,
    /// Largest image in bytes.
    pub image_size_limit: Option<u64>,
    /// Largest video in bytes.
    pub video_size_limit: Option<u64>,
    /// MIME types the instance accepts for uploads (empty when not said).
    pub supported_mime_types: Vec<String>,
    /// When the limits were read from the instance.
    pub fetched_at: DateTime<Utc>,
}

/// The state-store meta key caching an account's instance description.
pub fn cache_key(account: &str) -> String {
    format!("instance/{account}")
}

/// The instance limits last fetched for `account`, from the state store
/// (no network): what validation uses when the instance was reachable once.
pub fn cached_limits(memo: &Memo, account: &Account) -> Option<InstanceLimits> {
    let bytes = memo.get(&cache_key(&account.name)).ok()??;
    let cached: CachedInstance = serde_json::from_slice(&bytes).ok()?;
    Some(InstanceLimits::from_instance(
        &cached.instance,
        cached.fetched_at,
    ))
}

/// What the state store keeps: the instance JSON as served, and when.
#[derive(Serialize, Deserialize)]
struct CachedInstance {
    fetched_at: DateTime<Utc>,
    instance: Value,
}

impl InstanceLimits {
    /// The limits as `.social/limits.json` keeps them for validation.
    pub fn for_validation(&self) -> (crate::config::ServerLimit, crate::config::ServerFacts) {
        (
            crate::config::ServerLimit {
                max_characters: self.max_characters,
                fetched_at: self.fetched_at,
            },
            crate::config::ServerFacts {
                characters_reserved_per_url: Some(self.characters_reserved_per_url),
                max_media_attachments: Some(self.max_media_attachments),
                image_size_limit: self.image_size_limit,
                video_size_limit: self.video_size_limit,
                description_limit: self.description_limit,
            },
        )
    }

    /// Reads the limits out of an instance description, tolerating missing
    /// parts (`max_toot_chars` is what Pleroma and Akkoma say).
    fn from_instance(v: &Value, fetched_at: DateTime<Utc>) -> InstanceLimits {
        let conf = &v["configuration"];
        let num = |x: &Value| x.as_u64();
        let statuses = &conf["statuses"];
        let media = &conf["media_attachments"];
        InstanceLimits {
            max_characters: num(&statuses["max_characters"])
                .or_else(|| num(&v["max_toot_chars"]))
                .map_or(super::MASTODON.max_chars, |n| n as usize),
            max_media_attachments: num(&statuses["max_media_attachments"])
                .map_or(super::MASTODON.max_images, |n| n as usize),
            characters_reserved_per_url: num(&statuses["characters_reserved_per_url"])
                .map_or(23, |n| n as usize),
            description_limit: num(&media["description_limit"]).map(|n| n as usize),
            image_size_limit: num(&media["image_size_limit"]),
            video_size_limit: num(&media["video_size_limit"]),
            supported_mime_types: media["supported_mime_types"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            fetched_at,
        }
    }
}

/// A status as the API returns it (the fields this client reads).
#[derive(Deserialize, Debug)]
struct Status {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default, deserialize_with = "opt_id_string")]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    spoiler_text: Option<String>,
    #[serde(default)]
    reblog: Option<Value>,
}

impl Status {
    fn published(&self) -> PublishedPart {
        PublishedPart {
            id: self.id.clone(),
            url: self.url.clone().or_else(|| self.uri.clone()),
            cid: None,
        }
    }

    fn created(&self) -> Option<DateTime<Utc>> {
        let t = self.created_at.as_deref()?;
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[derive(Deserialize)]
struct MediaAttachment {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

/// The media a published status carries, as its edit keeps them.
#[derive(Deserialize)]
struct Attached {
    #[serde(default)]
    media_attachments: Vec<MediaAttachment>,
}

#[derive(Deserialize)]
struct Me {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

/// Ids are strings in Mastodon; some compatible servers send numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        match id {
            Id::Text(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Id::deserialize(d).map(String::from)
}

fn opt_id_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Id>::deserialize(d).map(|o| o.map(String::from))
}

impl Mastodon {
    /// The client for `account`, which needs an `instance` and an access token.
    pub fn new(account: &Account, ctx: Context) -> Result<Self, PlatformError> {
        let instance = account
            .instance
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .ok_or_else(|| {
                PlatformError::config(format!(
                    "account `{0}` has no `instance`: set `instance = \"https://…\"` under [accounts.{0}] in social.toml",
                    account.name
                ))
            })?;
        let base = if instance.starts_with("http://") || instance.starts_with("https://") {
            instance.trim_end_matches('/').to_string()
        } else {
            format!("https://{}", instance.trim_end_matches('/'))
        };
        let base = super::check_base(account, "instance", base)?;
        let token = super::require_token(account, ctx.secret)?;
        Ok(Mastodon {
            account: account.name.clone(),
            base,
            token,
            http: ctx.http,
            memo: ctx.memo,
            media_wait: Duration::from_secs(300),
            poll_first: Duration::from_secs(1),
            poll_max: Duration::from_secs(5),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A GET with the token, retried as the HTTP layer allows, its JSON read.
    async fn get_json<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, PlatformError> {
        let url = self.url(path);
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(self.token.expose()).query(query)
            })
            .await?;
        wire::read_json(resp, what, Effect::Read, &Dialect).await
    }

    /// The limits of the account's instance, read now; cached in the state
    /// store (when there is one) for [`cached_limits`].
    pub async fn instance_limits(&self) -> Result<InstanceLimits, PlatformError> {
        let what = "reading the instance's limits";
        let url = self.url("/api/v2/instance");
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(self.token.expose())
            })
            .await?;
        let instance: Value = if resp.status() == StatusCode::NOT_FOUND {
            // Servers before Mastodon 4.0 only have the v1 description.
            self.get_json(what, "/api/v1/instance", &[]).await?
        } else {
            wire::read_json(resp, what, Effect::Read, &Dialect).await?
        };
        let fetched_at = crate::clock::now();
        if let Some(memo) = &self.memo {
            let cached = CachedInstance {
                fetched_at,
                instance: instance.clone(),
            };
            // A cache that cannot be written costs a later validation the
            // instance's own numbers, not this answer.
            if let Ok(bytes) = serde_json::to_vec(&cached) {
                let _ = memo.put(&cache_key(&self.account), &bytes);
            }
        }
        Ok(InstanceLimits::from_instance(&instance, fetched_at))
    }

    /// Polls an upload until the server has processed it (200), failed it
    /// (422 and other refusals), or `media_wait` has passed.
    async fn wait_processed(&self, id: &str, what: &str) -> Result<(), PlatformError> {
        let url = self.url(&format!("/api/v1/media/{}", segment(id)));
        let deadline = tokio::time::Instant::now() + self.media_wait;
        let mut delay = self.poll_first;
        loop {
            tokio::time::sleep(delay).await;
            let resp = self
                .http
                .send(&self.account, Repeat::Safe, |c| {
                    c.get(&url).bearer_auth(self.token.expose())
                })
                .await?;
            let status = resp.status();
            if status == StatusCode::OK {
                return Ok(());
            }
            if status != StatusCode::PARTIAL_CONTENT {
                let headers = resp.headers().clone();
                let body = resp.text().await.unwrap_or_default();
                let what = format!("{what}: processing");
                return Err(if status.is_success() {
                    PlatformError::unavailable(format!(
                        "{what}: unexpected HTTP {status}: {}",
                        short(&body)
                    ))
                } else {
                    Dialect.error(status, &headers, &body, &what, Effect::Read)
                });
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(PlatformError::unavailable(format!(
                    "{what}: still being processed by {} after {}s",
                    self.base,
                    self.media_wait.as_secs()
                )));
            }
            delay = (delay * 2).min(self.poll_max);
        }
    }

    /// The account's statuses created since shortly before `since`, oldest
    /// first, reading at most [`RECONCILE_PAGES`] pages.
    async fn recent_statuses(&self, since: DateTime<Utc>) -> Result<Vec<Status>, PlatformError> {
        let me: Me = self
            .get_json(
                "reading the account",
                "/api/v1/accounts/verify_credentials",
                &[],
            )
            .await?;
        let path = format!("/api/v1/accounts/{}/statuses", segment(&me.id));
        let mut all: Vec<Status> = Vec::new();
        let mut max_id: Option<String> = None;
        for _ in 0..RECONCILE_PAGES {
            let mut query = vec![("limit", PAGE.to_string())];
            if let Some(m) = &max_id {
                query.push(("max_id", m.clone()));
            }
            let page: Vec<Status> = self
                .get_json("reading the account's statuses", &path, &query)
                .await?;
            let n = page.len();
            let reached = page
                .last()
                .and_then(Status::created)
                .is_some_and(|t| t < since);
            max_id = page.last().map(|s| s.id.clone());
            all.extend(page);
            if n < PAGE || reached {
                break;
            }
        }
        all.reverse();
        Ok(all)
    }
}

impl Mastodon {
    /// The requests that publish `job`: the lookup of the post a reply goes
    /// under (a URL), the media uploads of the first part, then one status
    /// create per part still missing, each replying to the one before.
    fn plan_job(&self, job: &Job<'_>) -> Plan {
        let parts = &job.rendered.parts;
        let start = job.done.len();
        let mut plan = Plan::default();
        if start >= parts.len() {
            return plan;
        }
        // Where the next status replies: a known id, or an earlier answer's.
        let mut reply: Option<Reply> = match (job.done.last(), &job.reply_to) {
            (Some(prev), _) => Some(Reply::Id(prev.id.clone())),
            (None, Some(ReplyTo::Part(p))) => Some(Reply::Id(p.id.clone())),
            (None, Some(ReplyTo::Url(u))) => {
                // The instance fetches a remote post it has not seen yet.
                let lookup = plan.push(Step::new(
                    "looking up the post to reply to",
                    Role::Lookup,
                    Request::get(self.url("/api/v2/search"))
                        .query("q", u.clone())
                        .query("resolve", "true")
                        .query("type", "statuses")
                        .query("limit", "1"),
                ));
                Some(Reply::Answer(
                    lookup,
                    "/statuses/0/id",
                    format!("id of the status found for {u}"),
                ))
            }
            (None, None) => None,
        };
        // Media belong to the first part; a resumed thread has sent them.
        let mut uploads = Vec::new();
        if start == 0 {
            for (n, m) in job.media.iter().enumerate() {
                let mut fields = vec![Field {
                    name: "file".into(),
                    value: FieldValue::File(FileRef {
                        path: m.resolved.clone(),
                        file_name: file_name(m),
                        content_type: m.mime.to_string(),
                        range: None,
                        size: m.bytes,
                    }),
                }];
                if let Some(alt) = &m.alt {
                    fields.push(Field {
                        name: "description".into(),
                        value: FieldValue::Text(alt.clone()),
                    });
                }
                // A repeated upload leaves an unattached file behind, which
                // Mastodon deletes after a day: harmless, so it is `Safe`.
                let step = Step::new(
                    format!("uploading {}", m.path),
                    Role::Media(n),
                    Request::post(self.url("/api/v2/media"))
                        .multipart(fields)
                        .bucket(bucket("POST", "/api/v2/media")),
                );
                uploads.push(plan.push(step));
            }
        }
        let total = parts.len();
        for (i, part) in parts.iter().enumerate().skip(start) {
            let ids = if i == 0 { uploads.len() } else { 0 };
            let body = status_body(
                job.post,
                &part.text.text,
                match &reply {
                    Some(Reply::Id(id)) => Some(id.as_str()),
                    _ => None,
                },
                ids,
            );
            let what = if total > 1 {
                format!("posting part {} of {total}", i + 1)
            } else {
                "posting the status".to_string()
            };
            // The key makes the create safe to repeat within Mastodon's hour.
            let mut step = Step::new(
                what,
                Role::Part(i),
                Request::post(self.url("/api/v1/statuses"))
                    .header("Idempotency-Key", part_key(job, i))
                    .json(body),
            );
            if i == 0 {
                for (k, &up) in uploads.iter().enumerate() {
                    step = step.fill(
                        Slot::Body(format!("/media_ids/{k}")),
                        up,
                        "/id",
                        format!("id of upload {}", k + 1),
                    );
                }
            }
            if let Some(Reply::Answer(from, pointer, label)) = &reply {
                step = step.fill(Slot::Body("/in_reply_to_id".into()), *from, pointer, label);
            }
            let at = plan.push(step);
            reply = Some(Reply::Answer(
                at,
                "/id",
                format!("id of the status of part {}", i + 1),
            ));
        }
        plan
    }
}

impl Mastodon {
    /// The requests that delete `parts`, in the order given: one
    /// `DELETE /api/v1/statuses/:id` each, counted in Mastodon's bucket of
    /// status deletes.
    fn plan_removal(&self, parts: &[Recorded]) -> Plan {
        let mut plan = Plan::default();
        for (i, part) in parts {
            let path = format!("/api/v1/statuses/{}", segment(&part.id));
            plan.push(Step::new(
                format!("deleting part {} (status {})", i + 1, part.id),
                Role::Delete(*i),
                Request::new(Method::Delete, self.url(&path)).bucket(bucket("DELETE", &path)),
            ));
        }
        plan
    }

    /// The requests that change the published parts of `job` to the post as
    /// it is rendered now: for each part, in thread order, a lookup of the
    /// status (the ids of the media it carries, which the edit must name
    /// again or Mastodon removes them) and then `PUT /api/v1/statuses/:id`
    /// with the text, content warning, language and the media with their
    /// descriptions now. A post whose number of parts changed cannot be
    /// edited in place.
    fn plan_changes(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let parts = &job.rendered.parts;
        if job.done.len() != parts.len() {
            return Err(PlatformError::unsupported(format!(
                "the post has {} part(s) now and {} are published on Mastodon: an edit changes the published statuses in place and cannot add or remove parts; `social edit --repost` deletes the post and publishes it again as a new post",
                parts.len(),
                job.done.len()
            )));
        }
        let total = parts.len();
        let mut plan = Plan::default();
        for (i, (part, published)) in parts.iter().zip(job.done).enumerate() {
            let name = if total > 1 {
                format!("part {} of {total}", i + 1)
            } else {
                "the status".to_string()
            };
            let path = format!("/api/v1/statuses/{}", segment(&published.id));
            let lookup = plan.push(Step::new(
                format!("reading the media of {name}"),
                Role::Lookup,
                Request::get(self.url(&path)),
            ));
            // Media belong to the first part, as when it was published.
            let media = if i == 0 { job.media } else { &[] };
            plan.push(
                Step::new(
                    format!("editing {name}"),
                    Role::Edit(i),
                    Request::new(Method::Put, self.url(&path)).json(edit_body(
                        job.post,
                        &part.text.text,
                        media,
                    )),
                )
                .fill(
                    Slot::Body("/media_ids".into()),
                    lookup,
                    "/media_ids",
                    format!("ids of the media of {name}"),
                ),
            );
        }
        Ok(plan)
    }
}

/// Where a status replies.
enum Reply {
    Id(String),
    /// The value at a pointer of an earlier step's answer.
    Answer(usize, &'static str, String),
}

#[async_trait::async_trait]
impl Steps for Mastodon {
    async fn send(
        &self,
        step: &Step,
        request: Request,
        _: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        // Delete and edit steps go through `plan::run_changes`, never here:
        // refused before anything is sent.
        if matches!(step.role, Role::Delete(_) | Role::Edit(_)) {
            return Err(plan::not_publishing(step));
        }
        let loaded = request.load().await?;
        let create = matches!(step.role, Role::Part(_));
        let resp = loaded
            .send(&self.http, &self.account, |b| {
                b.bearer_auth(self.token.expose())
            })
            .await;
        // A status create carries its key, so the HTTP layer may resend it;
        // what it still cannot answer is `Unknown`, because after the key's
        // hour a blind resend would post twice: the engine reconciles first.
        let resp = match resp {
            Err(PlatformError::Unavailable { message }) if create => {
                return Err(PlatformError::unknown(message));
            }
            other => other?,
        };
        let effect = if create { Effect::Create } else { Effect::Read };
        let answer = wire::read(resp, &step.what, effect, &Dialect).await?;
        let value: Value = answer.json(&step.what, effect)?;
        match step.role {
            Role::Lookup => {
                if value.pointer("/statuses/0/id").is_none() {
                    let q = loaded.request.query.first().map(|(_, v)| v.as_str());
                    return Err(PlatformError::rejected(format!(
                        "the post to reply to was not found from {}: {}",
                        self.base,
                        q.unwrap_or_default()
                    )));
                }
            }
            Role::Media(_) => {
                let media: MediaAttachment =
                    serde_json::from_value(value.clone()).map_err(|e| {
                        PlatformError::unavailable(format!(
                            "{}: an answer without a media id ({e})",
                            step.what
                        ))
                    })?;
                if answer.status == StatusCode::ACCEPTED {
                    self.wait_processed(&media.id, &step.what).await?;
                }
                // Later fills read the id as a string, whatever the server sent.
                return Ok(json!({ "id": media.id }));
            }
            // Delete and edit steps were refused above, before sending.
            Role::Part(_) | Role::Prepare(_) | Role::Delete(_) | Role::Edit(_) => {}
        }
        Ok(value)
    }

    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError> {
        let status: Status = serde_json::from_value(answer.clone()).map_err(|e| {
            PlatformError::unknown(format!(
                "{}: the status was created, but its answer is unreadable ({e})",
                step.what
            ))
        })?;
        Ok(status.published())
    }
}

#[async_trait::async_trait]
impl Changes for Mastodon {
    async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError> {
        let request = match step.role {
            Role::Edit(_) => with_media_ids(step, request)?,
            _ => request,
        };
        let resp = request
            .load()
            .await?
            .send(&self.http, &self.account, |b| {
                b.bearer_auth(self.token.expose())
            })
            .await?;
        match step.role {
            Role::Delete(_) => wire::read_removal(resp, &step.what, &Dialect).await,
            Role::Lookup => {
                let attached: Attached =
                    wire::read_json(resp, &step.what, Effect::Read, &Dialect).await?;
                let ids: Vec<Value> = attached
                    .media_attachments
                    .into_iter()
                    .map(|m| Value::String(m.id))
                    .collect();
                Ok(json!({ "media_ids": ids }))
            }
            _ => wire::read_json(resp, &step.what, Effect::Read, &Dialect).await,
        }
    }
}

/// An edit with the ids of the media its status carries (filled into
/// `media_ids` from the lookup) paired in order with the descriptions of the
/// post's media now (`media_attributes`). A status with more or fewer media
/// than the post has now is refused: an edit keeps the media and may change
/// their descriptions; changing the media themselves is delete-and-repost.
fn with_media_ids(step: &Step, mut request: Request) -> Result<Request, PlatformError> {
    let plan::Body::Json(body) = &mut request.body else {
        return Ok(request);
    };
    let ids: Vec<Value> = body
        .get("media_ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let now = body
        .get("media_attributes")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if ids.len() != now {
        return Err(PlatformError::unsupported(format!(
            "{}: the status on Mastodon has {} media attachment(s) and the post has {now} now; an edit keeps the media and can change only their descriptions; to change the media themselves, `social edit --repost` deletes the post and publishes it again as a new post",
            step.what,
            ids.len()
        )));
    }
    if let Some(Value::Array(attributes)) = body.get_mut("media_attributes") {
        for (a, id) in attributes.iter_mut().zip(ids) {
            if let Value::Object(a) = a {
                a.insert("id".into(), id);
            }
        }
    }
    Ok(request)
}

#[async_trait::async_trait]
impl Platform for Mastodon {
    fn plan(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        Ok(self.plan_job(job))
    }

    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        plan::run(self, job, &self.plan_job(job), sink).await
    }

    /// Within [`KEY_WINDOW`] of the earliest moment any machine may have
    /// sent the target (the first claim here, or the scheduled time when
    /// earlier: the Idempotency-Key is the same on every machine) this
    /// returns no parts and sends nothing: Mastodon still remembers every
    /// key, so `publish` sending the parts again with the same keys gets
    /// back the statuses that exist and creates only the missing ones.
    /// Later, the parts are looked up among the account's recent statuses
    /// by their text, each replying to the one before; the answer is
    /// `job.done` followed by the further parts found, in order.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        // The engine's clock, which is also the one `first_claimed` was read from.
        if crate::clock::now() - job.earliest() < KEY_WINDOW {
            return Ok(Vec::new());
        }
        let statuses = self.recent_statuses(job.earliest() - CLOCK_SLACK).await?;
        Ok(match_thread(job, &statuses))
    }

    fn plan_delete(&self, parts: &[Recorded]) -> Result<Plan, PlatformError> {
        Ok(self.plan_removal(parts))
    }

    async fn delete(
        &self,
        parts: &[Recorded],
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_delete(parts)?, sink).await
    }

    fn plan_edit(&self, job: &Job<'_>, _: EditMode) -> Result<Plan, PlatformError> {
        self.plan_changes(job)
    }

    async fn edit(
        &self,
        job: &Job<'_>,
        mode: EditMode,
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_edit(job, mode)?, sink).await
    }

    async fn text_limit(&self) -> Result<Option<usize>, PlatformError> {
        Ok(Some(self.instance_limits().await?.max_characters))
    }

    async fn server_limits(
        &self,
    ) -> Result<Option<(crate::config::ServerLimit, crate::config::ServerFacts)>, PlatformError>
    {
        Ok(Some(self.instance_limits().await?.for_validation()))
    }
}

/// The rate-limit bucket of a request, as Mastodon counts them (its
/// `config/initializers/rack_attack.rb`): media uploads 30 per 30 minutes,
/// status deletes 30 per 30 minutes, everything else the general 300 per 5
/// minutes. The answer's `X-RateLimit-*` headers describe the tightest
/// limit the request counts against, so they belong to its bucket.
fn bucket(method: &str, path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path).trim_end_matches('/');
    match method {
        "POST" if path == "/api/v1/media" || path == "/api/v2/media" => "media",
        "DELETE" if path.starts_with("/api/v1/statuses/") => "statuses/delete",
        _ => super::http::GENERAL,
    }
}

/// The Idempotency-Key of part `index` of `job`.
fn part_key(job: &Job<'_>, index: usize) -> String {
    format!("{}-{index}", job.idempotency_key)
}

/// The JSON body of a status create.
/// `media` is the number of attachments, whose ids the plan fills in.
fn status_body(post: &Post, text: &str, reply: Option<&str>, media: usize) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("status".into(), json!(text));
    if media > 0 {
        b.insert("media_ids".into(), Value::Array(vec![Value::Null; media]));
    }
    if let Some(r) = reply {
        b.insert("in_reply_to_id".into(), json!(r));
    }
    if let Some(cw) = &post.cw {
        b.insert("sensitive".into(), json!(true));
        b.insert("spoiler_text".into(), json!(cw));
    }
    b.insert("visibility".into(), json!(visibility(post)));
    if let Some(lang) = post.lang.first() {
        b.insert("language".into(), json!(lang));
    }
    Value::Object(b)
}

/// The JSON body of a status edit (`PUT /api/v1/statuses/:id`). Mastodon
/// sets every field an edit leaves out to its empty value (no content
/// warning, no media), so each is sent: `spoiler_text` empty and `sensitive`
/// false when the post has no content warning; `media_ids` (filled from the
/// lookup) and `media_attributes`, one `{id, description}` per medium, in
/// order. The visibility and the reply cannot be edited.
fn edit_body(post: &Post, text: &str, media: &[MediaInfo]) -> Value {
    let mut b = serde_json::Map::new();
    b.insert("status".into(), json!(text));
    b.insert(
        "spoiler_text".into(),
        json!(post.cw.as_deref().unwrap_or("")),
    );
    b.insert("sensitive".into(), json!(post.cw.is_some()));
    if let Some(lang) = post.lang.first() {
        b.insert("language".into(), json!(lang));
    }
    b.insert("media_ids".into(), json!([]));
    if !media.is_empty() {
        let attributes: Vec<Value> = media
            .iter()
            .map(|m| json!({ "description": m.alt.as_deref().unwrap_or("") }))
            .collect();
        b.insert("media_attributes".into(), Value::Array(attributes));
    }
    Value::Object(b)
}

/// The post's visibility in Mastodon's words; anything Mastodon does not
/// have (`connections`) is public, as validation warns.
fn visibility(post: &Post) -> &'static str {
    match post.visibility.as_deref() {
        Some("unlisted") => "unlisted",
        Some("private") => "private",
        Some("direct") => "direct",
        _ => "public",
    }
}

fn file_name(m: &MediaInfo) -> String {
    m.resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "upload".into())
}

/// How Mastodon explains its errors: `{"error": "…"}`, with
/// `error_description` on OAuth errors. Its tokens do not expire, so a 401
/// is a token that is no longer valid; a 403 naming a scope is a token
/// without it, other 403s refuse the content.
struct Dialect;

impl wire::Dialect for Dialect {
    fn error(
        &self,
        status: StatusCode,
        _: &reqwest::header::HeaderMap,
        body: &str,
        what: &str,
        _: Effect,
    ) -> PlatformError {
        let message = format!("{what}: HTTP {status}: {}", self.message(body));
        if status == StatusCode::FORBIDDEN && message.contains("scope") {
            return PlatformError::Auth {
                expired: false,
                message,
            };
        }
        wire::status_error(status, message, false)
    }
}

/// The parts of `job` found among `statuses` (oldest first): `job.done`,
/// then each further part whose text and content warning match a status
/// replying to the previous part, created after the first claim.
fn match_thread(job: &Job<'_>, statuses: &[Status]) -> Vec<PublishedPart> {
    let since = job.earliest() - CLOCK_SLACK;
    let cw = comparable(job.post.cw.as_deref().unwrap_or(""));
    let candidates: Vec<&Status> = statuses
        .iter()
        .filter(|s| s.reblog.is_none())
        .filter(|s| s.created().is_none_or(|t| t >= since))
        .filter(|s| comparable(s.spoiler_text.as_deref().unwrap_or("")) == cw)
        .collect();
    let mut found: Vec<PublishedPart> = job.done.to_vec();
    let mut used: Vec<&str> = Vec::new();
    for part in job.rendered.parts.iter().skip(found.len()) {
        let text = comparable(&part.text.text);
        let prev = found.last().map(|p| p.id.clone());
        let replies_right = |s: &Status| match (&prev, &job.reply_to) {
            (Some(p), _) => s.in_reply_to_id.as_deref() == Some(p.as_str()),
            (None, None) => s.in_reply_to_id.is_none(),
            (None, Some(ReplyTo::Part(p))) => s.in_reply_to_id.as_deref() == Some(p.id.as_str()),
            // Resolving the URL again is not worth a request: any reply will do.
            (None, Some(ReplyTo::Url(_))) => s.in_reply_to_id.is_some(),
        };
        let hit = candidates.iter().find(|s| {
            !used.contains(&s.id.as_str())
                && replies_right(s)
                && comparable(&html_to_text(s.content.as_deref().unwrap_or(""))) == text
        });
        match hit {
            Some(s) => {
                used.push(&s.id);
                found.push(s.published());
            }
            None => break,
        }
    }
    found
}

/// The text of a status's HTML as a reader sees it: tags dropped (the
/// hidden parts of shortened links kept), paragraphs and `<br>` as line
/// breaks, entities decoded.
fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let inner = rest[1..end].trim_end_matches('>');
            let closing = inner.starts_with('/');
            let name: String = inner
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            match name.as_str() {
                "br" => out.push('\n'),
                "p" | "div" | "blockquote" | "pre" | "ul" | "ol" | "h1" | "h2" | "h3" | "h4"
                | "h5" | "h6"
                    if closing =>
                {
                    out.push_str("\n\n")
                }
                "li" if !closing => out.push('\n'),
                _ => {}
            }
            rest = &rest[end..];
        } else {
            let (decoded, used) = entity(rest);
            out.push_str(&decoded);
            rest = &rest[used..];
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// Decodes the entity at the start of `s` (which starts with `&`): the
/// text and the bytes it used. Something that is not an entity stays `&`.
fn entity(s: &str) -> (String, usize) {
    let Some(semi) = s
        .char_indices()
        .take(12)
        .find_map(|(i, c)| (c == ';').then_some(i))
    else {
        return ("&".into(), 1);
    };
    let name = &s[1..semi];
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let code = if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
            {
                u32::from_str_radix(h, 16).ok()
            } else if let Some(d) = name.strip_prefix('#') {
                d.parse().ok()
            } else {
                None
            };
            code.and_then(char::from_u32)
        }
    };
    match c {
        Some(c) => (c.to_string(), semi + 1),
        None => ("&".into(), 1),
    }
}

/// A text reduced for comparing what was sent with what a server shows:
/// NFC, `@user@domain` shown as `@user` (as Mastodon does), whitespace
/// runs as one space.
fn comparable(text: &str) -> String {
    let text = wire::comparable(text);
    let chars: Vec<char> = text.chars().collect();
    let mut reduced = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        reduced.push(c);
        i += 1;
        let starts_mention = c == '@' && (i < 2 || !is_handle_char(chars[i - 2]));
        if !starts_mention {
            continue;
        }
        while i < chars.len() && is_handle_char(chars[i]) {
            reduced.push(chars[i]);
            i += 1;
        }
        if i < chars.len() && chars[i] == '@' {
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || matches!(chars[j], '.' | '-')) {
                j += 1;
            }
            // A trailing `.` or `-` ends the sentence, not the domain.
            while j > i + 1 && matches!(chars[j - 1], '.' | '-') {
                j -= 1;
            }
            if j > i + 1 {
                i = j;
            }
        }
    }
    wire::comparable(&reduced)
}

fn is_handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Collect, Fixture, fast_http as http};
    use crate::state::Store;

    fn fixture(server: &MockServer, src: &str) -> Fixture {
        Fixture::new(account(&server.uri()), src, KEY)
    }

    use crate::validate::MediaKind;

    use std::path::Path;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wiremock::matchers::{body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const TOKEN: &str = "tok-secret-123";
    const KEY: &str = "social-0123abcd";
    const BEARER: &str = "Bearer tok-secret-123";

    fn account(instance: &str) -> Account {
        Account {
            name: "fedi".into(),
            platform: crate::platforms::PlatformKind::Mastodon,
            handle: None,
            service: None,
            instance: Some(instance.into()),
            username: None,
            api_url: None,
            auth_url: None,
            client_id: None,
            user_id: None,
            media_base_url: None,
            max_characters: None,
            linkedin_version: None,
        }
    }

    fn client(server: &MockServer, store: Option<Store>) -> Mastodon {
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: store.as_ref().map(crate::publish::memo),
        };
        let mut m = Mastodon::new(&account(&server.uri()), ctx).unwrap();
        m.poll_first = Duration::from_millis(5);
        m.poll_max = Duration::from_millis(20);
        m.media_wait = Duration::from_secs(5);
        m
    }

    fn status(id: &str) -> Value {
        json!({
            "id": id,
            "uri": format!("https://example.social/users/alice/statuses/{id}"),
            "url": format!("https://example.social/@alice/{id}"),
            "content": "<p>ignored</p>",
            "created_at": "2026-12-01T09:00:00.000Z",
        })
    }

    fn published(id: &str) -> PublishedPart {
        PublishedPart {
            id: id.into(),
            url: Some(format!("https://example.social/@alice/{id}")),
            cid: None,
        }
    }

    /// A status create checked field by field: token, key, exact JSON.
    fn create(key: &str, body: Value) -> wiremock::MockBuilder {
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .and(header("authorization", BEARER))
            .and(header("idempotency-key", key))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
    }

    /// One field of a multipart body.
    #[derive(Debug)]
    struct Field {
        name: String,
        file_name: Option<String>,
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
            let value = chunk[split + 4..].to_vec();
            let mut f = Field {
                name: String::new(),
                file_name: None,
                content_type: None,
                value,
            };
            for line in head.split("\r\n") {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("content-disposition:") {
                    for p in line.split(';').skip(1) {
                        let (k, v) = p.trim().split_once('=')?;
                        let v = v.trim_matches('"').to_string();
                        match k {
                            "name" => f.name = v,
                            "filename" => f.file_name = Some(v),
                            _ => {}
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

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n fake image bytes";

    fn image(dir: &Path) -> MediaInfo {
        let p = dir.join("screenshot.png");
        std::fs::write(&p, PNG).unwrap();
        MediaInfo {
            path: "media/screenshot.png".into(),
            project_path: "media/screenshot.png".into(),
            resolved: p,
            mime: "image/png",
            kind: MediaKind::Image,
            bytes: PNG.len() as u64,
            alt: Some("The new dashboard, showing three scheduled posts".into()),
        }
    }

    #[tokio::test]
    async fn text_post() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: hello\n---\nHello **world**: [docs](https://example.com/docs) #rustlang\n",
        );
        create(
            &format!("{KEY}-0"),
            json!({
                "status": "Hello world: docs (https://example.com/docs) #rustlang",
                "visibility": "public",
            }),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("101")))
        .expect(1)
        .mount(&server)
        .await;

        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("101"))]);
    }

    #[tokio::test]
    async fn url_falls_back_to_uri() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: hello\n---\nHello\n");
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": "7", "url": null, "uri": "https://x/s/7"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0[0].1.url.as_deref(), Some("https://x/s/7"));
    }

    #[tokio::test]
    async fn image_with_alt_text_is_processed_before_the_status() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: shot\n---\nLook at this\n");
        f.media = vec![image(dir.path())];

        Mock::given(method("POST"))
            .and(path("/api/v2/media"))
            .and(header("authorization", BEARER))
            .and(|req: &Request| {
                let Some(fields) = multipart(req) else {
                    return false;
                };
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                let file = &fields[0];
                let desc = fields.iter().find(|f| f.name == "description");
                names == ["file", "description"]
                    && file.file_name.as_deref() == Some("screenshot.png")
                    && file.content_type.as_deref() == Some("image/png")
                    && file.value == PNG
                    && desc.is_some_and(|d| {
                        d.value == b"The new dashboard, showing three scheduled posts"
                    })
            })
            .respond_with(
                ResponseTemplate::new(202).set_body_json(json!({"id": "m1", "url": null})),
            )
            .expect(1)
            .mount(&server)
            .await;
        // Processing once, then ready.
        Mock::given(method("GET"))
            .and(path("/api/v1/media/m1"))
            .and(header("authorization", BEARER))
            .respond_with(
                ResponseTemplate::new(206).set_body_json(json!({"id": "m1", "url": null})),
            )
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/media/m1"))
            .and(header("authorization", BEARER))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": "m1", "url": "https://files/m1.png"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        create(
            &format!("{KEY}-0"),
            json!({"status": "Look at this", "media_ids": ["m1"], "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("201")))
        .expect(1)
        .mount(&server)
        .await;

        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("201"))]);
        // The status came after the upload was ready.
        let reqs = server.received_requests().await.unwrap();
        let order: Vec<&str> = reqs.iter().map(|r| r.url.path()).collect();
        assert_eq!(
            order,
            [
                "/api/v2/media",
                "/api/v1/media/m1",
                "/api/v1/media/m1",
                "/api/v1/statuses"
            ]
        );
    }

    #[tokio::test]
    async fn failed_processing_is_rejected_and_nothing_is_posted() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: shot\n---\nLook\n");
        f.media = vec![image(dir.path())];
        Mock::given(method("POST"))
            .and(path("/api/v2/media"))
            .respond_with(ResponseTemplate::new(202).set_body_json(json!({"id": "m9"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/media/m9"))
            .respond_with(
                ResponseTemplate::new(422)
                    .set_body_json(json!({"error": "Error processing thumbnail"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { message, .. } => {
                assert!(message.contains("Error processing thumbnail"), "{message}")
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn thread_is_a_reply_chain_with_a_key_per_part() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        assert_eq!(f.rendered.parts.len(), 3);
        create(
            &format!("{KEY}-0"),
            json!({"status": "One", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
        .expect(1)
        .mount(&server)
        .await;
        create(
            &format!("{KEY}-1"),
            json!({"status": "Two", "in_reply_to_id": "1", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("2")))
        .expect(1)
        .mount(&server)
        .await;
        create(
            &format!("{KEY}-2"),
            json!({"status": "Three", "in_reply_to_id": "2", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("3")))
        .expect(1)
        .mount(&server)
        .await;

        let mut sink = Collect::default();
        client(&server, None)
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
    async fn cw_visibility_and_language() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: cw\ncw: Spoilers for the finale\nvisibility: unlisted\nlang: [de, en]\n---\nEs war der Butler.\n",
        );
        create(
            &format!("{KEY}-0"),
            json!({
                "status": "Es war der Butler.",
                "sensitive": true,
                "spoiler_text": "Spoilers for the finale",
                "visibility": "unlisted",
                "language": "de",
            }),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("5")))
        .expect(1)
        .mount(&server)
        .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_visibility_mastodon_lacks_is_public() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: v\nvisibility: connections\n---\nHi\n");
        create(
            &format!("{KEY}-0"),
            json!({"status": "Hi", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("5")))
        .expect(1)
        .mount(&server)
        .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn reply_to_a_url_is_resolved_by_search() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nAgreed!\n");
        let url = "https://other.example/@bob/99";
        f.reply_to = Some(ReplyTo::Url(url.into()));
        Mock::given(method("GET"))
            .and(path("/api/v2/search"))
            .and(header("authorization", BEARER))
            .and(query_param("q", url))
            .and(query_param("resolve", "true"))
            .and(query_param("type", "statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "accounts": [], "hashtags": [], "statuses": [status("777")]
            })))
            .expect(1)
            .mount(&server)
            .await;
        create(
            &format!("{KEY}-0"),
            json!({"status": "Agreed!", "in_reply_to_id": "777", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("8")))
        .expect(1)
        .mount(&server)
        .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn reply_to_a_url_that_is_not_found_is_rejected() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nAgreed!\n");
        f.reply_to = Some(ReplyTo::Url("https://gone.example/@x/1".into()));
        Mock::given(method("GET"))
            .and(path("/api/v2/search"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"statuses": []})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn reply_to_a_part_of_another_post() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: r\n---\nFollow-up\n");
        f.reply_to = Some(ReplyTo::Part(published("555")));
        create(
            &format!("{KEY}-0"),
            json!({"status": "Follow-up", "in_reply_to_id": "555", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("9")))
        .expect(1)
        .mount(&server)
        .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    fn iso_in(secs: i64) -> String {
        (Utc::now() + chrono::Duration::seconds(secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    #[tokio::test]
    async fn short_rate_limit_is_waited_out() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: rl\n---\nHi\n");
        let body = json!({"status": "Hi", "visibility": "public"});
        create(&format!("{KEY}-0"), body.clone())
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("X-RateLimit-Limit", "300")
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header("X-RateLimit-Reset", iso_in(1).as_str())
                    .set_body_json(json!({"error": "Too many requests"})),
            )
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        create(&format!("{KEY}-0"), body)
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(1)
            .mount(&server)
            .await;
        let started = std::time::Instant::now();
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0.len(), 1);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn long_rate_limit_hands_the_target_back() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: rl\n---\nHi\n");
        let reset = Utc::now() + chrono::Duration::hours(2);
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header(
                        "X-RateLimit-Reset",
                        reset
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                            .as_str(),
                    )
                    .set_body_json(json!({"error": "Too many requests"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap_err();
        match err {
            PlatformError::RateLimited { retry_at, .. } => {
                let at = retry_at.expect("the reset time");
                assert!((at - reset).num_seconds().abs() <= 1, "{at} vs {reset}");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
        assert!(sink.0.is_empty());
    }

    #[tokio::test]
    async fn a_used_up_media_bucket_does_not_delay_a_status() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut with_image = fixture(&server, "---\nid: shot\n---\nLook\n");
        with_image.media = vec![image(dir.path())];
        let text = fixture(&server, "---\nid: txt\n---\nHi\n");
        let reset = Utc::now() + chrono::Duration::minutes(25);
        // The 30th upload of the half hour: the media bucket is empty.
        Mock::given(method("POST"))
            .and(path("/api/v2/media"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("X-RateLimit-Limit", "30")
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header(
                        "X-RateLimit-Reset",
                        reset
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                            .as_str(),
                    )
                    .set_body_json(json!({"id": "m1", "url": "https://files/m1.png"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("X-RateLimit-Limit", "300")
                    .insert_header("X-RateLimit-Remaining", "250")
                    .insert_header("X-RateLimit-Reset", iso_in(120).as_str())
                    .set_body_json(status("1")),
            )
            .expect(2)
            .mount(&server)
            .await;
        let c = client(&server, None);
        let mut sink = Collect::default();
        c.publish(&with_image.job(&[]), &mut sink).await.unwrap();
        // A text status on the same account goes out at once.
        let started = std::time::Instant::now();
        c.publish(&text.job(&[]), &mut sink).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(sink.0.len(), 2);
        // Another upload waits for the media bucket's reset, unsent.
        let err = c
            .publish(&with_image.job(&[]), &mut sink)
            .await
            .unwrap_err();
        match err {
            PlatformError::RateLimited { retry_at, .. } => {
                let at = retry_at.expect("the reset time");
                assert!((at - reset).num_seconds().abs() <= 1, "{at} vs {reset}");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }

    #[test]
    fn requests_are_counted_in_mastodons_buckets() {
        assert_eq!(bucket("POST", "/api/v2/media"), "media");
        assert_eq!(bucket("POST", "/api/v1/media"), "media");
        assert_eq!(bucket("GET", "/api/v1/media/m1"), "");
        assert_eq!(bucket("DELETE", "/api/v1/statuses/1"), "statuses/delete");
        assert_eq!(bucket("POST", "/api/v1/statuses"), "");
        assert_eq!(bucket("GET", "/api/v2/instance"), "");
    }

    #[tokio::test]
    async fn server_error_is_retried_with_the_same_key() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        let body = json!({"status": "Hi", "visibility": "public"});
        create(&format!("{KEY}-0"), body.clone())
            .respond_with(ResponseTemplate::new(500).set_body_string("oops"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        create(&format!("{KEY}-0"), body)
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("1"))]);
    }

    #[tokio::test]
    async fn lasting_server_errors_leave_the_outcome_unknown() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(503).set_body_string("<html>down</html>"))
            .expect(3)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn validation_error_is_rejected_with_the_servers_message() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(422).set_body_json(
                json!({"error": "Validation failed: Text character limit of 500 exceeded"}),
            ))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { message, duplicate } => {
                assert!(!duplicate);
                assert!(
                    message.contains("Validation failed: Text character limit of 500 exceeded"),
                    "{message}"
                );
            }
            other => panic!("expected Rejected, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn invalid_token_is_an_auth_error_without_the_token() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(json!({"error": "The access token is invalid"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Auth { expired: false, message } if message.contains("The access token is invalid")),
            "{err:?}"
        );
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn malformed_json_does_not_panic() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: e\n---\nHi\n");
        // A success whose body cannot be read: the status may exist.
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": \"1\", \"url"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        // An error whose body is not JSON at all.
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(422).set_body_string("<html>nope</html>"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v2/instance"))
            .respond_with(ResponseTemplate::new(200).set_body_string("[1, 2"))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server, None);
        let err = c
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Unknown { message } if message.contains("{\"id\": \"1\"")),
            "{err:?}"
        );
        let err = c
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Rejected { message, .. } if message.contains("<html>nope</html>")),
            "{err:?}"
        );
        let err = c.instance_limits().await.unwrap_err();
        assert!(matches!(err, PlatformError::Unavailable { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn resume_sends_only_the_missing_parts() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .and(header("idempotency-key", format!("{KEY}-0").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(0)
            .mount(&server)
            .await;
        create(
            &format!("{KEY}-1"),
            json!({"status": "Two", "in_reply_to_id": "1", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("2")))
        .expect(1)
        .mount(&server)
        .await;
        create(
            &format!("{KEY}-2"),
            json!({"status": "Three", "in_reply_to_id": "2", "visibility": "public"}),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("3")))
        .expect(1)
        .mount(&server)
        .await;
        let done = [published("1")];
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&done), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(1, published("2")), (2, published("3"))]);

        // Everything done: nothing to send.
        let all = [published("1"), published("2"), published("3")];
        client(&server, None)
            .publish(&f.job(&all), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0.len(), 2);
    }

    /// Sink that fails on the second part, as a store that cannot commit would.
    struct FailSecond(Arc<AtomicUsize>);

    impl PartSink for FailSecond {
        fn part(&mut self, index: usize, _part: PublishedPart) -> Result<(), PlatformError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            if index == 1 {
                Err(PlatformError::unavailable("store busy"))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn a_part_the_sink_refuses_stops_the_thread() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nOne\n\n---\n\nTwo\n\n---\n\nThree\n",
        );
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(2)
            .mount(&server)
            .await;
        let n = Arc::new(AtomicUsize::new(0));
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut FailSecond(n.clone()))
            .await
            .unwrap_err();
        assert_eq!(err, PlatformError::unavailable("store busy"));
        assert_eq!(n.load(Ordering::SeqCst), 2);
    }

    /// A sink that keeps every deleted or edited part it is told of.
    #[derive(Default)]
    struct Told(Vec<(usize, bool)>);

    impl DoneSink for Told {
        fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
            self.0.push((index, gone));
            Ok(())
        }
    }

    /// Parts 3, 2, 1 of a thread, last first, as the engine hands them over.
    fn recorded_thread() -> Vec<Recorded> {
        vec![
            (2, published("3")),
            (1, published("2")),
            (0, published("1")),
        ]
    }

    fn removal(id: &str) -> wiremock::MockBuilder {
        Mock::given(method("DELETE"))
            .and(path(format!("/api/v1/statuses/{id}")))
            .and(header("authorization", BEARER))
    }

    #[tokio::test]
    async fn a_thread_is_deleted_last_part_first() {
        let server = MockServer::start().await;
        for id in ["3", "2", "1"] {
            removal(id)
                .respond_with(ResponseTemplate::new(200).set_body_json(status(id)))
                .expect(1)
                .mount(&server)
                .await;
        }
        let mut told = Told::default();
        client(&server, None)
            .delete(&recorded_thread(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(2, false), (1, false), (0, false)]);
        let order: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect();
        assert_eq!(
            order,
            [
                "DELETE /api/v1/statuses/3",
                "DELETE /api/v1/statuses/2",
                "DELETE /api/v1/statuses/1"
            ]
        );
    }

    #[tokio::test]
    async fn a_part_deleted_elsewhere_counts_as_gone() {
        let server = MockServer::start().await;
        removal("3")
            .respond_with(ResponseTemplate::new(200).set_body_json(status("3")))
            .expect(1)
            .mount(&server)
            .await;
        removal("2")
            .respond_with(
                ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        removal("1")
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        client(&server, None)
            .delete(&recorded_thread(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(2, false), (1, true), (0, false)]);
    }

    #[tokio::test]
    async fn a_rate_limit_mid_way_stops_after_the_parts_before() {
        let server = MockServer::start().await;
        removal("3")
            .respond_with(ResponseTemplate::new(200).set_body_json(status("3")))
            .expect(1)
            .mount(&server)
            .await;
        let reset = Utc::now() + chrono::Duration::minutes(30);
        removal("2")
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("X-RateLimit-Limit", "30")
                    .insert_header("X-RateLimit-Remaining", "0")
                    .insert_header(
                        "X-RateLimit-Reset",
                        reset
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                            .as_str(),
                    )
                    .set_body_json(json!({"error": "Too many requests"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        removal("1")
            .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
            .expect(0)
            .mount(&server)
            .await;
        let mut told = Told::default();
        let err = client(&server, None)
            .delete(&recorded_thread(), &mut told)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                PlatformError::RateLimited {
                    retry_at: Some(_),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(told.0, [(2, false)]);
    }

    #[test]
    fn deletes_are_planned_in_the_order_given_in_the_delete_bucket() {
        let account = account("https://example.social");
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: None,
        };
        let m = Mastodon::new(&account, ctx).unwrap();
        let parts = vec![(1, published("2/../x")), (0, published("1"))];
        let plan = m.plan_delete(&parts).unwrap();
        let roles: Vec<Role> = plan.steps.iter().map(|s| s.role).collect();
        assert_eq!(roles, [Role::Delete(1), Role::Delete(0)]);
        assert_eq!(plan.steps[0].request.bucket, "statuses/delete");
        let shown = plan.describe();
        assert_eq!(shown[0]["method"], "DELETE");
        assert_eq!(
            shown[0]["url"],
            "https://example.social/api/v1/statuses/2%2F..%2Fx"
        );
        assert_eq!(shown[1]["url"], "https://example.social/api/v1/statuses/1");
        // The token is added when sending, never part of the plan.
        assert!(!serde_json::to_string(&shown).unwrap().contains(TOKEN));
    }

    /// A status as `GET /api/v1/statuses/:id` answers, with media.
    fn status_with_media(id: &str, media: &[&str]) -> Value {
        let mut s = status(id);
        s["media_attachments"] = media
            .iter()
            .map(|m| json!({"id": m, "type": "image", "description": "old"}))
            .collect();
        s
    }

    fn lookup(id: &str) -> wiremock::MockBuilder {
        Mock::given(method("GET"))
            .and(path(format!("/api/v1/statuses/{id}")))
            .and(header("authorization", BEARER))
    }

    fn change(id: &str, body: Value) -> wiremock::MockBuilder {
        Mock::given(method("PUT"))
            .and(path(format!("/api/v1/statuses/{id}")))
            .and(header("authorization", BEARER))
            .and(header("content-type", "application/json"))
            .and(body_json(body))
    }

    #[tokio::test]
    async fn an_edit_changes_each_part_in_thread_order() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---
id: t
thread: true
cw: Spoilers
lang: [de]
---
Eins, neu

---

Zwei, neu
",
        );
        for id in ["1", "2"] {
            lookup(id)
                .respond_with(ResponseTemplate::new(200).set_body_json(status_with_media(id, &[])))
                .expect(1)
                .mount(&server)
                .await;
        }
        change(
            "1",
            json!({
                "status": "Eins, neu",
                "spoiler_text": "Spoilers",
                "sensitive": true,
                "language": "de",
                "media_ids": [],
            }),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("1")))
        .expect(1)
        .mount(&server)
        .await;
        change(
            "2",
            json!({
                "status": "Zwei, neu",
                "spoiler_text": "Spoilers",
                "sensitive": true,
                "language": "de",
                "media_ids": [],
            }),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("2")))
        .expect(1)
        .mount(&server)
        .await;
        let done = [published("1"), published("2")];
        let mut told = Told::default();
        client(&server, None)
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(0, false), (1, false)]);
        let order: Vec<String> = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| format!("{} {}", r.method, r.url.path()))
            .collect();
        assert_eq!(
            order,
            [
                "GET /api/v1/statuses/1",
                "PUT /api/v1/statuses/1",
                "GET /api/v1/statuses/2",
                "PUT /api/v1/statuses/2"
            ]
        );
    }

    #[tokio::test]
    async fn an_edit_keeps_the_media_and_sends_the_new_description() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---
id: shot
lang: [en]
---
Look at this, again
",
        );
        f.media = vec![image(dir.path())];
        lookup("7")
            .respond_with(ResponseTemplate::new(200).set_body_json(status_with_media("7", &["m1"])))
            .expect(1)
            .mount(&server)
            .await;
        change(
            "7",
            json!({
                "status": "Look at this, again",
                "spoiler_text": "",
                "sensitive": false,
                "language": "en",
                "media_ids": ["m1"],
                "media_attributes": [{
                    "id": "m1",
                    "description": "The new dashboard, showing three scheduled posts",
                }],
            }),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(status("7")))
        .expect(1)
        .mount(&server)
        .await;
        // Nothing is uploaded again.
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let done = [published("7")];
        let mut told = Told::default();
        client(&server, None)
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(0, false)]);
    }

    #[tokio::test]
    async fn an_edit_that_would_change_the_media_is_refused_before_sending_it() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---
id: shot
---
Look
",
        );
        f.media = vec![image(dir.path())];
        lookup("7")
            .respond_with(
                ResponseTemplate::new(200).set_body_json(status_with_media("7", &["m1", "m2"])),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200).set_body_json(status("7")))
            .expect(0)
            .mount(&server)
            .await;
        let done = [published("7")];
        let mut told = Told::default();
        let err = client(&server, None)
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap_err();
        match &err {
            PlatformError::Unsupported { message } => {
                assert!(message.contains("2 media"), "{message}");
                assert!(message.contains("social edit --repost"), "{message}");
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        assert!(told.0.is_empty());

        // Media in the post, none on the published status: refused as well.
        let server = MockServer::start().await;
        lookup("7")
            .respond_with(ResponseTemplate::new(200).set_body_json(status_with_media("7", &[])))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .respond_with(ResponseTemplate::new(200).set_body_json(status("7")))
            .expect(0)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unsupported { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_edit_cannot_add_or_remove_parts() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---
id: t
thread: true
---
One

---

Two

---

Three
",
        );
        let done = [published("1"), published("2")];
        let c = client(&server, None);
        let err = c.plan_edit(&f.job(&done), EditMode::default()).unwrap_err();
        assert!(
            matches!(&err, PlatformError::Unsupported { message } if message.contains("3 part(s)") && message.contains("social edit --repost")),
            "{err:?}"
        );
        let err = c
            .edit(&f.job(&done), EditMode::default(), &mut Told::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unsupported { .. }), "{err:?}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_edit_plan_shows_the_lookup_and_the_new_text() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---
id: hello
---
Hello again
",
        );
        let done = [published("9")];
        let plan = client(&server, None)
            .plan_edit(&f.job(&done), EditMode::default())
            .unwrap();
        let shown = plan.describe();
        assert_eq!(shown.len(), 2);
        assert_eq!(shown[0]["method"], "GET");
        assert_eq!(shown[1]["method"], "PUT");
        assert_eq!(
            shown[1]["url"],
            format!("{}/api/v1/statuses/9", server.uri())
        );
        assert_eq!(shown[1]["json"]["status"], "Hello again");
        assert_eq!(
            shown[1]["json"]["media_ids"],
            "<ids of the media of the status>"
        );
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn reconcile_within_the_key_window_sends_nothing() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: t\n---\nHi\n");
        f.first_claimed = Utc::now() - chrono::Duration::minutes(20);
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        assert!(found.is_empty());
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn another_machine_past_the_key_window_is_found_by_text() {
        // Claimed here just now, but scheduled 90 minutes ago: another
        // machine may have sent it more than an hour ago, when Mastodon no
        // longer remembers the key. Read back, from the scheduled time on.
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: t\n---\nHello\n");
        f.first_claimed = Utc::now();
        f.scheduled = Some(Utc::now() - chrono::Duration::minutes(90));
        let sent = (Utc::now() - chrono::Duration::minutes(89)).to_rfc3339();
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/verify_credentials"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "42"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/42/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                {"id": "7", "content": "<p>Hello</p>", "created_at": sent},
            ])))
            .expect(1)
            .mount(&server)
            .await;
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["7"]);

        // Scheduled 20 minutes ago: the key is still remembered everywhere.
        let quiet = MockServer::start().await;
        f.scheduled = Some(Utc::now() - chrono::Duration::minutes(20));
        let found = client(&quiet, None).reconcile(&f.job(&[])).await.unwrap();
        assert!(found.is_empty());
        assert!(quiet.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn reconcile_after_an_hour_matches_parts_by_text() {
        let server = MockServer::start().await;
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\n---\nLaunch day! Read it at https://example.com/a/very/long/path/to/the/announcement & more #rustlang\n\nThanks @bob@other.example.\n\n---\n\nIt's \"second\" <part>\n\n---\n\nThird\n",
        );
        f.first_claimed = Utc::now() - chrono::Duration::hours(2);
        let at = |mins: i64| {
            (f.first_claimed + chrono::Duration::minutes(mins))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let part0_html = concat!(
            "<p>Launch day! Read it at <a href=\"https://example.com/a/very/long/path/to/the/announcement\" ",
            "target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://</span>",
            "<span class=\"ellipsis\">example.com/a/very/long/path/to</span><span class=\"invisible\">/the/announcement</span></a> ",
            "&amp; more <a href=\"https://example.social/tags/rustlang\" class=\"mention hashtag\" rel=\"tag\">#<span>rustlang</span></a></p>",
            "<p>Thanks <span class=\"h-card\" translate=\"no\"><a href=\"https://other.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span>.</p>"
        );
        // Newest first, as Mastodon lists them.
        let timeline = json!([
            {"id": "40", "content": "<p>Unrelated</p>", "created_at": at(30), "url": "https://example.social/@alice/40"},
            // The same text reblogged: not ours.
            {"id": "31", "content": "<p>It&#39;s &quot;second&quot; &lt;part&gt;</p>", "in_reply_to_id": "20",
             "created_at": at(6), "reblog": {"id": "x"}},
            {"id": "30", "content": "<p>It&#39;s &quot;second&quot; &lt;part&gt;</p>", "in_reply_to_id": "20",
             "created_at": at(5), "url": "https://example.social/@alice/30"},
            {"id": "20", "content": part0_html, "in_reply_to_id": null, "created_at": at(1),
             "url": "https://example.social/@alice/20"},
            // The same first part a week earlier: another post.
            {"id": "5", "content": part0_html, "in_reply_to_id": null,
             "created_at": (f.first_claimed - chrono::Duration::days(7)).to_rfc3339()},
        ]);
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/verify_credentials"))
            .and(header("authorization", BEARER))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"id": "42", "acct": "alice"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/42/statuses"))
            .and(header("authorization", BEARER))
            .and(query_param("limit", "40"))
            .respond_with(ResponseTemplate::new(200).set_body_json(timeline))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["20", "30"]);
        assert_eq!(
            found[0].url.as_deref(),
            Some("https://example.social/@alice/20")
        );
    }

    #[tokio::test]
    async fn reconcile_continues_after_the_parts_already_known() {
        let server = MockServer::start().await;
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\ncw: Food\n---\nOne\n\n---\n\nTwo\n",
        );
        f.first_claimed = Utc::now() - chrono::Duration::hours(3);
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/verify_credentials"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "42"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/accounts/42/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!([
                // Right text, missing content warning.
                {"id": "3", "content": "<p>Two</p>", "in_reply_to_id": "1", "spoiler_text": ""},
                {"id": "2", "content": "<p>Two</p>", "in_reply_to_id": "1", "spoiler_text": "Food"},
            ])))
            .expect(1)
            .mount(&server)
            .await;
        let done = [published("1")];
        let found = client(&server, None)
            .reconcile(&f.job(&done))
            .await
            .unwrap();
        let ids: Vec<&str> = found.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
    }

    #[tokio::test]
    async fn dry_run_shows_the_requests_without_sending() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(
            &server,
            "---\nid: t\nthread: true\ncw: Heads up\n---\nOne\n\n---\n\nTwo\n",
        );
        f.media = vec![image(dir.path())];
        let reqs = client(&server, None).dry_run(&f.job(&[]));
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs[0]["url"],
            json!(format!("{}/api/v2/media", server.uri()))
        );
        assert_eq!(
            reqs[0]["multipart"]["description"],
            json!("The new dashboard, showing three scheduled posts")
        );
        assert_eq!(
            reqs[0]["multipart"]["file"]["content_type"],
            json!("image/png")
        );
        assert_eq!(
            reqs[1]["json"],
            json!({
                "status": "One",
                "media_ids": ["<id of upload 1>"],
                "sensitive": true,
                "spoiler_text": "Heads up",
                "visibility": "public",
            })
        );
        assert_eq!(
            reqs[1]["headers"]["Idempotency-Key"],
            json!(format!("{KEY}-0"))
        );
        assert_eq!(
            reqs[2]["json"]["in_reply_to_id"],
            json!("<id of the status of part 1>")
        );
        assert_eq!(
            reqs[2]["headers"]["Idempotency-Key"],
            json!(format!("{KEY}-1"))
        );
        assert!(!reqs.iter().any(|r| r.to_string().contains(TOKEN)));
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn instance_limits_are_read_and_cached() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        Mock::given(method("GET"))
            .and(path("/api/v2/instance"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "domain": "example.social",
                "configuration": {
                    "statuses": {
                        "max_characters": 1000,
                        "max_media_attachments": 6,
                        "characters_reserved_per_url": 23
                    },
                    "media_attachments": {
                        "description_limit": 1500,
                        "image_size_limit": 16777216,
                        "video_size_limit": 103809024,
                        "supported_mime_types": ["image/png", "video/mp4"]
                    }
                }
            })))
            .expect(1)
            .mount(&server)
            .await;
        let acc = account(&server.uri());
        assert_eq!(cached_limits(&crate::publish::memo(&store), &acc), None);
        let limits = client(&server, Some(store.clone()))
            .instance_limits()
            .await
            .unwrap();
        assert_eq!(limits.max_characters, 1000);
        assert_eq!(limits.max_media_attachments, 6);
        assert_eq!(limits.characters_reserved_per_url, 23);
        assert_eq!(limits.description_limit, Some(1500));
        assert_eq!(limits.image_size_limit, Some(16_777_216));
        assert_eq!(limits.supported_mime_types, ["image/png", "video/mp4"]);
        assert_eq!(
            cached_limits(&crate::publish::memo(&store), &acc),
            Some(limits)
        );
    }

    #[tokio::test]
    async fn server_limits_carry_what_validation_uses() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/instance"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "configuration": {
                    "statuses": {"max_characters": 800, "max_media_attachments": 8, "characters_reserved_per_url": 30},
                    "media_attachments": {"image_size_limit": 8388608, "video_size_limit": 41943040}
                }
            })))
            .expect(1)
            .mount(&server)
            .await;
        let (limit, facts) = client(&server, None)
            .server_limits()
            .await
            .unwrap()
            .expect("an instance has limits");
        assert_eq!(limit.max_characters, 800);
        assert_eq!(
            facts,
            crate::config::ServerFacts {
                characters_reserved_per_url: Some(30),
                max_media_attachments: Some(8),
                image_size_limit: Some(8_388_608),
                video_size_limit: Some(41_943_040),
                // Servers before 4.4 do not say: Mastodon's 1500 stays.
                description_limit: None,
            }
        );
    }

    #[tokio::test]
    async fn old_servers_describe_themselves_in_v1() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v2/instance"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Not found"})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/v1/instance"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"max_toot_chars": 5000})))
            .expect(1)
            .mount(&server)
            .await;
        let limits = client(&server, None).instance_limits().await.unwrap();
        assert_eq!(limits.max_characters, 5000);
        assert_eq!(limits.max_media_attachments, 4);
        assert_eq!(limits.description_limit, None);
    }

    #[test]
    fn missing_token_or_instance_is_a_config_error() {
        let ctx = || Context {
            http: Http::new().unwrap(),
            secret: None,
            memo: None,
        };
        let err = Mastodon::new(&account("https://example.social"), ctx())
            .err()
            .unwrap();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("SOCIAL_FEDI_TOKEN")),
            "{err:?}"
        );
        let mut acc = account("https://example.social");
        acc.instance = None;
        let with_secret = Context {
            secret: Some(Secret::new(TOKEN)),
            ..ctx()
        };
        let err = Mastodon::new(&acc, with_secret).err().unwrap();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("instance")),
            "{err:?}"
        );
    }

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_to_text("<p>a &amp; b</p><p>c<br />d</p>"),
            "a & b\n\nc\nd"
        );
        assert_eq!(
            html_to_text("x &#39;&#x27;&quot; &bogus; & y"),
            "x ''\" &bogus; & y"
        );
        assert_eq!(html_to_text("<p>unclosed <b"), "unclosed");
        assert_eq!(
            html_to_text("&日本語の文章です; <b>ü</b>"),
            "&日本語の文章です; ü"
        );
        assert_eq!(
            comparable("Thanks @bob@other.example. and @carol@x.y"),
            "Thanks @bob. and @carol"
        );
        assert_eq!(comparable("a\n\n b\tc "), "a b c");
        assert_eq!(
            comparable("mail me: me@example.com"),
            "mail me: me@example.com"
        );
    }

    #[test]
    fn error_bodies_are_read_tolerantly() {
        let said = |b: &str| Dialect.message(b);
        assert_eq!(said(r#"{"error": "Nope"}"#), "Nope");
        assert_eq!(
            said(r#"{"error": "invalid_grant", "error_description": "expired"}"#),
            "invalid_grant (expired)"
        );
        assert_eq!(said(r#"{"error": 3}"#), r#"{"error": 3}"#);
        assert_eq!(said(""), "no details given");
        let long = "x".repeat(1000);
        assert!(said(&long).chars().count() < 400);
        let error = |status, body: &str| {
            Dialect.error(
                status,
                &reqwest::header::HeaderMap::new(),
                body,
                "posting",
                Effect::Create,
            )
        };
        let e = error(
            StatusCode::FORBIDDEN,
            r#"{"error": "This action is outside the authorized scopes"}"#,
        );
        assert!(matches!(e, PlatformError::Auth { .. }));
        let e = error(StatusCode::NOT_FOUND, r#"{"error": "Record not found"}"#);
        assert!(matches!(e, PlatformError::Rejected { .. }));
        let e = error(
            StatusCode::UNAUTHORIZED,
            r#"{"error": "The access token is invalid"}"#,
        );
        assert!(matches!(e, PlatformError::Auth { expired: false, .. }));
    }
}
