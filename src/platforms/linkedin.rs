//! The LinkedIn client: member posts through the versioned Posts API
//! (`POST /rest/posts`), images through the Images API (initializeUpload,
//! then a PUT of the bytes), the author URN from OpenID `userinfo`.
//!
//! Publishing is a [`Plan`]: the author lookup (when the URN is not
//! remembered), per image its registration, the PUT of its bytes to the
//! upload URL LinkedIn handed out, and the check that LinkedIn has
//! processed it, then the post create with the author and image URNs
//! filled in from the earlier answers. `--dry-run` prints that plan;
//! `publish` runs it. What no request can say in advance stays in
//! [`Steps::send`]: polling an image while LinkedIn still processes it,
//! reading the post's URN from the `x-restli-id` header, and reading the
//! member's recent posts back when LinkedIn refuses a post as a duplicate.
//!
//! `commentary` is LinkedIn's "little" text format: every reserved
//! character is backslash-escaped ([`escape_little_text`]), or LinkedIn
//! silently cuts the post at the first one. Hashtags are written as
//! little's hashtag template so that they stay hashtags.
//!
//! Exactly once: LinkedIn has no idempotency key, so a post create is
//! never resent blindly ([`Repeat::Unsafe`]). When its outcome is unknown,
//! [`Platform::reconcile`] reads the author's recent posts and looks for one
//! with the same text created after the target was first claimed. LinkedIn
//! refuses an identical post with 422 "Content is a duplicate of <urn>":
//! that is checked the same way and counts as posted only when the post is
//! found among the author's recent posts.
//!
//! Deleting is `DELETE /rest/posts/<urn>` (gone already counts as
//! deleted); editing is a Rest.li partial update of the post's
//! `commentary`, the only thing LinkedIn lets an edit change.

pub mod account;
use super::http::{Http, Repeat, short};
use super::plan::{
    self, Body, Changes, FileRef, Method, Plan, Progress, Request, Role, Slot, Step, Steps,
};
use super::wire::{self, Effect, segment};
use super::{Context, DoneSink, EditMode, Job, Memo, PartSink, Platform, PlatformError, Recorded};
use crate::config::Account;
use crate::credentials::Secret;
use crate::model::{MediaInfo, MediaKind, PublishedPart};
use crate::render::{RichText, SpanKind};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

/// The API when an account names none.
pub const DEFAULT_API: &str = "https://api.linkedin.com";

/// The `LinkedIn-Version` sent when the account sets no `linkedin_version`.
/// LinkedIn supports each monthly version for at least a year.
pub const DEFAULT_VERSION: &str = "202607";

/// The characters little text reserves; each is backslash-escaped in plain text.
pub const RESERVED: [char; 15] = [
    '|', '{', '}', '@', '[', ']', '(', ')', '<', '>', '#', '\\', '*', '_', '~',
];

/// How much earlier than the first claim a post may say it was created
/// (clocks disagree) and still count as ours.
const CLOCK_SLACK: chrono::Duration = chrono::Duration::minutes(10);

/// Recent posts read when looking for one that may already exist.
const RECENT_POSTS: usize = 10;

/// The step that reads the member's profile (its `sub` is the person id).
const READ_PROFILE: &str = "reading the member's profile";

/// How a dry run shows the author URN the profile lookup reads.
const AUTHOR_LABEL: &str = "urn:li:person of the member";

/// The state-store meta key caching an account's author URN.
pub fn author_cache_key(account: &str) -> String {
    format!("linkedin/{account}/author")
}

/// Escapes `text` for little text: a backslash before every reserved character.
pub fn escape_little_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if RESERVED.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The LinkedIn client for one account.
pub struct Linkedin {
    account: String,
    /// API base URL, without a trailing `/`.
    base: String,
    /// The `LinkedIn-Version` header value (YYYYMM).
    version: String,
    token: Secret,
    http: Http,
    memo: Option<Memo>,
    /// Longest wait for an uploaded image to become available.
    image_wait: Duration,
    /// First delay between polls of a processing image; doubles up to `poll_max`.
    poll_first: Duration,
    poll_max: Duration,
}

/// A member's OpenID Connect profile (`sub` is the person id).
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
}

#[derive(Deserialize)]
struct ImageStatus {
    #[serde(default)]
    status: Option<String>,
}

/// A page of the author's posts (the fields this client reads).
#[derive(Deserialize)]
struct PostPage {
    #[serde(default)]
    elements: Vec<PostElement>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct PostElement {
    id: String,
    #[serde(default)]
    commentary: Option<String>,
    /// Epoch milliseconds.
    #[serde(default)]
    created_at: Option<i64>,
    #[serde(default)]
    published_at: Option<i64>,
    #[serde(default)]
    lifecycle_state: Option<String>,
}

impl PostElement {
    fn created(&self) -> Option<DateTime<Utc>> {
        self.created_at
            .or(self.published_at)
            .and_then(DateTime::from_timestamp_millis)
    }
}

impl Linkedin {
    /// The client for `account`, which needs an access token.
    pub fn new(account: &Account, ctx: Context) -> Result<Self, PlatformError> {
        let base = super::api_base(account, DEFAULT_API)?;
        let version = account
            .linkedin_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or(DEFAULT_VERSION)
            .to_string();
        let token = super::require_token(account, ctx.secret)?;
        Ok(Linkedin {
            account: account.name.clone(),
            base,
            version,
            token,
            http: ctx.http,
            memo: ctx.memo,
            image_wait: Duration::from_secs(60),
            poll_first: Duration::from_millis(500),
            poll_max: Duration::from_secs(5),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A versioned (`/rest/…`) request, with the headers LinkedIn requires.
    fn rest(&self, method: Method, path: &str) -> Request {
        Request::new(method, self.url(path))
            .header("LinkedIn-Version", self.version.as_str())
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    /// The request reading the member's profile (`/v2/userinfo`, not versioned).
    fn profile_step(&self) -> Step {
        Step::new(
            READ_PROFILE,
            Role::Lookup,
            Request::get(self.url("/v2/userinfo")),
        )
    }

    /// Whether `url` is LinkedIn's (or the configured API's) host: the
    /// token goes only there, not to an upload URL elsewhere.
    fn trusted_host(&self, url: &str) -> bool {
        let host = |u: &str| {
            reqwest::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        };
        match host(url) {
            Some(h) => {
                h == "linkedin.com" || h.ends_with(".linkedin.com") || Some(h) == host(&self.base)
            }
            None => false,
        }
    }

    /// Sends a loaded request, with the token where it may go.
    async fn send_loaded(&self, loaded: &plan::Loaded) -> Result<reqwest::Response, PlatformError> {
        let send_token = self.trusted_host(&loaded.request.url);
        loaded
            .send(&self.http, &self.account, |b| {
                if send_token {
                    b.bearer_auth(self.token.expose())
                } else {
                    b
                }
            })
            .await
    }

    /// Sends `request` as the HTTP layer allows it to be repeated, and
    /// reads the answer.
    async fn exchange(
        &self,
        request: Request,
        what: &str,
        effect: Effect,
    ) -> Result<wire::Answer, PlatformError> {
        let loaded = request.load().await?;
        let resp = self.send_loaded(&loaded).await?;
        wire::read(resp, what, effect, &Dialect).await
    }

    /// The author URN remembered from an earlier lookup.
    fn remembered_author(&self) -> Option<String> {
        let bytes = self
            .memo
            .as_ref()?
            .get(&author_cache_key(&self.account))
            .ok()??;
        String::from_utf8(bytes)
            .ok()
            .filter(|urn| urn.starts_with("urn:li:"))
    }

    /// Reads the member's profile and remembers the author URN.
    async fn read_profile(&self, request: Request) -> Result<String, PlatformError> {
        let info: UserInfo = self
            .exchange(request, READ_PROFILE, Effect::Read)
            .await?
            .json(READ_PROFILE, Effect::Read)?;
        let urn = format!("urn:li:person:{}", info.sub);
        if let Some(memo) = &self.memo {
            // A cache that cannot be written costs the next run one request.
            let _ = memo.put(&author_cache_key(&self.account), urn.as_bytes());
        }
        Ok(urn)
    }

    /// The member's person URN: remembered, else from `/v2/userinfo`.
    async fn author(&self) -> Result<String, PlatformError> {
        match self.remembered_author() {
            Some(urn) => Ok(urn),
            None => self.read_profile(self.profile_step().request).await,
        }
    }

    /// The requests that publish `job`: the profile lookup (unless the
    /// author URN is remembered), per image its registration, the PUT of
    /// its bytes and the check that it is processed, then the post create.
    /// A thread is one post (the renderer joins it), so a target with a
    /// part out plans nothing.
    fn plan_job(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let mut plan = Plan::default();
        if job.rendered.parts.is_empty() || !job.done.is_empty() {
            return Ok(plan);
        }
        if let Some(m) = job.media.iter().find(|m| m.kind == MediaKind::Video) {
            return Err(PlatformError::rejected(format!(
                "{}: videos on LinkedIn are not supported by this version of social (images are)",
                m.path
            )));
        }
        let author = self.remembered_author();
        let lookup = match author {
            Some(_) => None,
            None => Some(plan.push(self.profile_step())),
        };
        let with_author = |step: Step, pointer: &str| match lookup {
            Some(at) => step.fill(Slot::Body(pointer.into()), at, "/author", AUTHOR_LABEL),
            None => step,
        };
        let mut images = Vec::new();
        for (n, m) in job.media.iter().enumerate() {
            images.push(self.plan_upload(&mut plan, n, m, author.as_deref(), &with_author));
        }
        let alts: Vec<Option<String>> = job.media.iter().map(|m| m.alt.clone()).collect();
        // No idempotency key: never resent blindly by the HTTP layer.
        let mut post = with_author(
            Step::new(
                "creating the post",
                Role::Part(0),
                self.rest(Method::Post, "/rest/posts")
                    .json(post_body(job, author.as_deref(), &alts))
                    .repeat(Repeat::Unsafe),
            ),
            "/author",
        );
        for (n, &init) in images.iter().enumerate() {
            let into = match images.len() {
                1 => "/content/media/id".to_string(),
                _ => format!("/content/multiImage/images/{n}/id"),
            };
            post = post.fill(Slot::Body(into), init, "/value/image", image_label(n));
        }
        plan.push(post);
        Ok(plan)
    }

    /// The steps of image `n`: its registration, the PUT of its bytes to
    /// the upload URL the registration handed out, and the check that
    /// LinkedIn has processed it. Returns the registration step, whose
    /// answer holds the image URN. Repeating any of them leaves at most an
    /// unused image behind, so all are safe to retry.
    fn plan_upload(
        &self,
        plan: &mut Plan,
        n: usize,
        m: &MediaInfo,
        author: Option<&str>,
        with_author: &dyn Fn(Step, &str) -> Step,
    ) -> usize {
        let init = plan.push(with_author(
            Step::new(
                format!("registering the upload of {}", m.path),
                Role::Media(n),
                self.rest(Method::Post, "/rest/images")
                    .query("action", "initializeUpload")
                    .json(initialize_upload_body(author)),
            ),
            "/initializeUploadRequest/owner",
        ));
        let file_name = m
            .resolved
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| m.path.clone());
        let mut put = Request::new(Method::Put, format!("<uploadUrl of image {}>", n + 1));
        put.body = Body::File(FileRef {
            path: m.resolved.clone(),
            file_name,
            content_type: m.mime.to_string(),
            range: None,
            size: m.bytes,
        });
        plan.push(
            Step::new(format!("uploading {}", m.path), Role::Media(n), put).fill(
                Slot::Url,
                init,
                "/value/uploadUrl",
                format!("uploadUrl of image {}", n + 1),
            ),
        );
        plan.push(
            Step::new(
                format!("checking that LinkedIn has processed {}", m.path),
                Role::Media(n),
                self.rest(Method::Get, "/rest/images/{image}"),
            )
            .fill(
                Slot::Path("image".into()),
                init,
                "/value/image",
                image_label(n),
            ),
        );
        init
    }

    /// Polls an uploaded image until it is `AVAILABLE`, sending the
    /// planned status read again while LinkedIn processes the image. A
    /// status that cannot be read does not stop the post: LinkedIn then
    /// says itself whether the image is usable.
    async fn wait_available(&self, request: Request, path: &str) -> Result<Value, PlatformError> {
        let loaded = request.load().await?;
        let deadline = tokio::time::Instant::now() + self.image_wait;
        let mut delay = self.poll_first;
        loop {
            let answer: Option<Value> = match self.send_loaded(&loaded).await {
                Ok(resp) => wire::read_json(resp, "reading the image", Effect::Read, &Dialect)
                    .await
                    .ok(),
                Err(_) => None,
            };
            let status = answer
                .as_ref()
                .and_then(|a| serde_json::from_value::<ImageStatus>(a.clone()).ok())
                .and_then(|s| s.status);
            match status.as_deref() {
                Some("PROCESSING") | Some("WAITING_UPLOAD") => {}
                Some("PROCESSING_FAILED") => {
                    return Err(PlatformError::rejected(format!(
                        "LinkedIn could not process the image {path}"
                    )));
                }
                _ => return Ok(answer.unwrap_or(Value::Null)),
            }
            if tokio::time::Instant::now() + delay > deadline {
                return Err(PlatformError::unavailable(format!(
                    "LinkedIn was still processing the image {path} after {}s",
                    self.image_wait.as_secs()
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.poll_max);
        }
    }

    /// Sends the post create; its URN is in the `x-restli-id` header. A
    /// refusal as a duplicate counts as posted when the post it collides
    /// with is ours (among the author's recent posts with this text,
    /// created after the claim); the answer is then that post's URN.
    async fn create(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let author = match &request.body {
            Body::Json(b) => b["author"].as_str().unwrap_or_default().to_string(),
            _ => String::new(),
        };
        let loaded = request.load().await?;
        let resp = self.send_loaded(&loaded).await?;
        let status = resp.status();
        let urn = post_urn(resp.headers());
        let message = match wire::read(resp, &step.what, Effect::Create, &Dialect).await {
            Ok(_) => {
                return match urn {
                    Some(urn) => Ok(json!({ "id": urn })),
                    None => Err(PlatformError::unknown(format!(
                        "{}: HTTP {status} without the post's id (no x-restli-id header)",
                        step.what
                    ))),
                };
            }
            Err(PlatformError::Rejected {
                duplicate: true,
                message,
            }) => message,
            // The URN is in the header: a body cut off after it does not matter.
            Err(_) if status.is_success() && urn.is_some() => {
                return Ok(json!({ "id": urn }));
            }
            Err(e) => return Err(e),
        };
        // Ours, from an attempt whose answer was lost? Only if it is
        // among the recent posts with this text, created after the claim.
        let duplicate_of = duplicate_urn(&message);
        let posts = self
            .recent_posts(&author)
            .await
            .map_err(|e| PlatformError::Rejected {
                duplicate: true,
                message: format!("{message}; could not check whether it is this post: {e}"),
            })?;
        match find_post(progress.job, &posts, duplicate_of.as_deref()) {
            Some(found) => Ok(json!({ "id": found.id })),
            None => Err(PlatformError::Rejected {
                duplicate: true,
                message,
            }),
        }
    }

    /// The author's most recent posts.
    async fn recent_posts(&self, author: &str) -> Result<Vec<PostElement>, PlatformError> {
        let what = "reading the member's recent posts";
        let request = finder_query(author).into_iter().fold(
            self.rest(Method::Get, "/rest/posts")
                .header("X-RestLi-Method", "FINDER"),
            |r, (k, v)| r.query(k, v),
        );
        let page: PostPage = self
            .exchange(request, what, Effect::Read)
            .await
            .and_then(|a| a.json(what, Effect::Read))
            .map_err(|e| match e {
                PlatformError::Auth {
                    expired: false,
                    message,
                } => missing_read_permission(&message),
                other => other,
            })?;
        Ok(page.elements)
    }

    /// Whether the token may read the member's posts (`r_member_social`),
    /// which reconciling needs: one read of the "posts by author" finder.
    /// `Ok(false)` when LinkedIn refuses it with 403.
    pub async fn can_read_posts(&self) -> Result<bool, PlatformError> {
        let author = self.author().await?;
        match self.recent_posts(&author).await {
            Ok(_) => Ok(true),
            Err(PlatformError::Auth { expired: false, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl Linkedin {
    /// The path of the post `urn` under the Posts API, the URN one
    /// percent-encoded segment (`urn%3Ali%3Ashare%3A7`).
    fn post_path(urn: &str) -> String {
        format!("/rest/posts/{}", segment(urn))
    }

    /// The requests that delete `parts`, in the order given: one
    /// `DELETE /rest/posts/<urn>` each, with the version headers.
    fn plan_removal(&self, parts: &[Recorded]) -> Plan {
        let mut plan = Plan::default();
        for (i, part) in parts {
            plan.push(Step::new(
                format!("deleting the post {}", part.id),
                Role::Delete(*i),
                self.rest(Method::Delete, &Self::post_path(&part.id)),
            ));
        }
        plan
    }

    /// The request that changes the published post of `job` to its text
    /// now: a Rest.li partial update (`POST /rest/posts/<urn>` with
    /// `X-RestLi-Method: PARTIAL_UPDATE`) setting `commentary`, escaped as
    /// the create escapes it. LinkedIn lets an edit change the text only:
    /// images, alt texts and the visibility stay as published.
    fn plan_changes(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let Some(post) = job.done.first() else {
            return Err(PlatformError::config(
                "nothing of this post is published on LinkedIn: there is no post to edit",
            ));
        };
        let mut plan = Plan::default();
        plan.push(Step::new(
            format!("editing the post {}", post.id),
            Role::Edit(0),
            self.rest(Method::Post, &Self::post_path(&post.id))
                .header("X-RestLi-Method", "PARTIAL_UPDATE")
                .json(json!({"patch": {"$set": {"commentary": commentary(job)}}})),
        ));
        Ok(plan)
    }
}

/// Why LinkedIn refuses to change or delete a member's post with 403.
const WRITE_PERMISSION_NOTE: &str = "LinkedIn refused: changing or deleting a member's post \
     needs the w_member_social permission, and the post must be the member's own; log in again \
     with `social accounts add <account> --platform linkedin` if the token was granted without it";

#[async_trait::async_trait]
impl Changes for Linkedin {
    /// Adds the token, and reads a deletion's answer as a deletion (404 or
    /// 410: gone already). A 403 names the permission it takes.
    async fn send_change(&self, step: &Step, request: Request) -> Result<Value, PlatformError> {
        let what = step.what.as_str();
        let resp = self.send_loaded(&request.load().await?).await?;
        if resp.status() == StatusCode::FORBIDDEN {
            let body = resp.text().await.unwrap_or_default();
            return Err(PlatformError::Auth {
                expired: false,
                message: format!(
                    "{what}: HTTP 403 Forbidden: {} ({WRITE_PERMISSION_NOTE})",
                    server_message(&body)
                ),
            });
        }
        match step.role {
            Role::Delete(_) => wire::read_removal(resp, what, &Dialect).await,
            _ => {
                let answer = wire::read(resp, what, Effect::Read, &Dialect).await?;
                if answer.body.trim().is_empty() {
                    return Ok(json!({}));
                }
                answer.json(what, Effect::Read)
            }
        }
    }
}

/// How a dry run names the URN of image `n` (from 0).
fn image_label(n: usize) -> String {
    format!("urn:li:image of image {}", n + 1)
}

/// What LinkedIn grants `social`'s login (`openid profile w_member_social`)
/// lets it post but not read posts back: reading needs `r_member_social`,
/// which LinkedIn gives only to approved partner apps.
pub const READ_PERMISSION_NOTE: &str = "the token lacks LinkedIn's r_member_social permission: \
     social cannot read the member's posts back, so after a crash or a lost answer it cannot \
     check whether a post went out (social's login asks only for openid, profile and \
     w_member_social; LinkedIn grants r_member_social to approved partner apps only)";

/// The error of a read refused for want of `r_member_social`: the auth kind
/// (not expired: a new token would not help), naming the permission and
/// what to do instead.
fn missing_read_permission(message: &str) -> PlatformError {
    PlatformError::Auth {
        expired: false,
        message: format!(
            "{READ_PERMISSION_NOTE}; look at the profile's recent activity, then `social retry` \
             or `social cancel` ({message})"
        ),
    }
}

#[async_trait::async_trait]
impl Steps for Linkedin {
    /// Adds the token (only where LinkedIn's hosts are), and does what no
    /// request says in advance: turns the profile into the author URN (and
    /// remembers it), polls an image while LinkedIn processes it, and reads
    /// the post's URN from the `x-restli-id` header.
    async fn send(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let what = step.what.as_str();
        match step.role {
            Role::Lookup => {
                let author = self.read_profile(request).await?;
                Ok(json!({ "author": author }))
            }
            // The steps of an image: its registration (POST), the PUT of
            // its bytes, and the status read (GET), polled.
            Role::Media(n) => match request.method {
                Method::Get => {
                    let path = progress.job.media.get(n).map_or(what, |m| m.path.as_str());
                    self.wait_available(request, path).await
                }
                Method::Put => {
                    let resp = self.send_loaded(&request.load().await?).await?;
                    wire::expect_success(resp, what, Effect::Read, &Dialect).await?;
                    Ok(Value::Null)
                }
                _ => self
                    .exchange(request, what, Effect::Read)
                    .await?
                    .json(what, Effect::Read),
            },
            Role::Prepare(_) => self
                .exchange(request, what, Effect::Read)
                .await?
                .json(what, Effect::Read),
            Role::Part(_) => self.create(step, request, progress).await,
            Role::Delete(_) | Role::Edit(_) => Err(super::plan::not_publishing(step)),
        }
    }

    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError> {
        match answer["id"].as_str() {
            Some(urn) => Ok(published(urn)),
            None => Err(PlatformError::unknown(format!(
                "{}: the post was created, but its answer has no URN",
                step.what
            ))),
        }
    }
}

#[async_trait::async_trait]
impl Platform for Linkedin {
    fn plan(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        self.plan_job(job)
    }

    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        plan::run(self, job, &self.plan_job(job)?, sink).await
    }

    /// Reads the author's recent posts and returns the one with this
    /// target's text created after it was first claimed, if any.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        if !job.done.is_empty() || job.rendered.parts.is_empty() {
            return Ok(job.done.to_vec());
        }
        let author = self.author().await?;
        let posts = self.recent_posts(&author).await?;
        Ok(find_post(job, &posts, None).into_iter().collect())
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
}

/// The JSON body of the image registration; the plan fills in the owner
/// when the author is looked up.
fn initialize_upload_body(author: Option<&str>) -> Value {
    json!({"initializeUploadRequest": {"owner": author}})
}

/// The query of the "posts by author" finder.
fn finder_query(author: &str) -> Vec<(&'static str, String)> {
    vec![
        ("author", author.to_string()),
        ("q", "author".into()),
        ("count", RECENT_POSTS.to_string()),
        ("sortBy", "LAST_MODIFIED".into()),
    ]
}

/// The JSON body of the post create, one image entry per alt text. The
/// plan fills in the image URNs (and the author, when it is looked up).
fn post_body(job: &Job<'_>, author: Option<&str>, alts: &[Option<String>]) -> Value {
    let mut b = json!({
        "author": author,
        "commentary": commentary(job),
        "visibility": visibility(job.post),
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    });
    let image = |alt: &Option<String>| {
        let mut v = json!({"id": null});
        if let Some(a) = alt {
            v["altText"] = json!(a);
        }
        v
    };
    match alts {
        [] => {}
        [one] => b["content"] = json!({"media": image(one)}),
        many => {
            b["content"] =
                json!({"multiImage": {"images": many.iter().map(image).collect::<Vec<_>>()}})
        }
    }
    b
}

/// `PUBLIC`, or `CONNECTIONS` for `visibility: connections`.
fn visibility(post: &crate::content::Post) -> &'static str {
    match post.visibility.as_deref() {
        Some("connections") => "CONNECTIONS",
        _ => "PUBLIC",
    }
}

/// The post's text in little format. The renderer joins a thread into one
/// part for LinkedIn; more parts would still become one post.
fn commentary(job: &Job<'_>) -> String {
    job.rendered
        .parts
        .iter()
        .map(|p| little_text(&p.text))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The plain text of the post, as a reader sees it.
fn plain_text(job: &Job<'_>) -> String {
    job.rendered
        .parts
        .iter()
        .map(|p| p.text.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Rich text as little text: plain text escaped, hashtags as little's
/// hashtag template `{hashtag|\#|tag}` (the `#` inside escaped too, as
/// LinkedIn's little-text page writes it; an escaped `#` outside a
/// template would show as plain text).
fn little_text(rt: &RichText) -> String {
    let mut tags: Vec<(usize, usize, &str)> = rt
        .spans
        .iter()
        .filter_map(|s| match &s.kind {
            SpanKind::Tag { tag } => Some((s.start, s.end, tag.as_str())),
            _ => None,
        })
        .collect();
    tags.sort_by_key(|t| t.0);
    let mut out = String::with_capacity(rt.text.len() + 16);
    let mut at = 0;
    for (start, end, tag) in tags {
        let sign = rt.text.get(start..end).and_then(|s| s.chars().next());
        let plain_tag = !tag.is_empty() && tag.chars().all(char::is_alphanumeric);
        let (Some(sign @ ('#' | '＃')), true, true) = (sign, plain_tag, start >= at) else {
            continue;
        };
        out.push_str(&escape_little_text(&rt.text[at..start]));
        let sign = escape_little_text(sign.encode_utf8(&mut [0; 4]));
        out.push_str(&format!("{{hashtag|{sign}|{tag}}}"));
        at = end;
    }
    out.push_str(&escape_little_text(&rt.text[at..]));
    out
}

/// Little text back to what a reader sees: escapes resolved, hashtag
/// templates as `#tag`, mentions as their name.
fn little_to_plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            let mut it = rest.chars();
            it.next();
            match it.next() {
                Some(n) => {
                    out.push(n);
                    rest = &rest[1 + n.len_utf8()..];
                }
                None => {
                    out.push('\\');
                    rest = "";
                }
            }
            continue;
        }
        if let Some(t) = rest.strip_prefix("{hashtag|")
            && let Some(end) = t.find('}')
            && let Some((sign, tag)) = t[..end].split_once('|')
        {
            out.push_str(&little_to_plain(sign));
            out.push_str(tag);
            rest = &t[end + 1..];
            continue;
        }
        if let Some(t) = rest.strip_prefix("@[")
            && let Some(close) = t.find("](")
            && let Some(end) = t[close..].find(')')
        {
            out.push_str(&t[..close]);
            rest = &t[close + end + 1..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The post among `posts` that is this job's: same text, published, created
/// after the first claim or the scheduled time, whichever is earlier (less
/// [`CLOCK_SLACK`]). `prefer` (the URN a
/// duplicate refusal named) wins among several.
fn find_post(job: &Job<'_>, posts: &[PostElement], prefer: Option<&str>) -> Option<PublishedPart> {
    let since = job.earliest() - CLOCK_SLACK;
    let text = wire::comparable(&plain_text(job));
    let mut hits = posts.iter().filter(|p| {
        p.lifecycle_state
            .as_deref()
            .is_none_or(|s| s == "PUBLISHED")
            && p.created().is_none_or(|t| t >= since)
            && p.commentary
                .as_deref()
                .is_some_and(|c| wire::comparable(&little_to_plain(c)) == text)
    });
    let first = hits.next()?;
    let chosen = match prefer {
        Some(urn) if first.id != urn => hits.find(|p| p.id == urn).unwrap_or(first),
        _ => first,
    };
    Some(published(&chosen.id))
}

/// A published post: its URN and its feed URL.
fn published(urn: &str) -> PublishedPart {
    PublishedPart {
        id: urn.to_string(),
        url: Some(format!("https://www.linkedin.com/feed/update/{urn}")),
        cid: None,
    }
}

/// The created post's URN, from the `x-restli-id` header.
fn post_urn(h: &HeaderMap) -> Option<String> {
    h.get("x-restli-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            // Some answers carry the URN URL-encoded.
            if v.starts_with("urn%3A") || v.starts_with("urn%3a") {
                percent_decode(v)
            } else {
                v.to_string()
            }
        })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(h, 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URN a duplicate refusal names ("Content is a duplicate of urn:li:share:…").
fn duplicate_urn(message: &str) -> Option<String> {
    let at = message.find("duplicate of ")? + "duplicate of ".len();
    let urn: String = message[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-'))
        .collect();
    urn.starts_with("urn:li:").then_some(urn)
}

/// Whether an error body is LinkedIn's duplicate-content refusal.
fn is_duplicate(body: &str) -> bool {
    body.contains("DUPLICATE_POST") || body.to_ascii_lowercase().contains("is a duplicate")
}

/// How LinkedIn explains and classifies its errors: bodies are
/// `{"status", "message", "serviceErrorCode", "code"}` (and
/// `errorDetails.inputErrors[].code`). A 401 is an expired or revoked
/// token (renewing it or logging in again helps), a 403 a permission the
/// token lacks, a 426 a `LinkedIn-Version` no longer served, and a 400,
/// 409 or 422 naming a duplicate LinkedIn's duplicate check, which `send`
/// confirms. A 429 is the HTTP layer's: a rate limit, retried or handed
/// back with its reset.
struct Dialect;

impl wire::Dialect for Dialect {
    fn message(&self, body: &str) -> String {
        server_message(body)
    }

    /// Access tokens last 60 days.
    fn expiring_tokens(&self) -> bool {
        true
    }

    fn error(
        &self,
        status: StatusCode,
        _: &HeaderMap,
        body: &str,
        what: &str,
        _: Effect,
    ) -> PlatformError {
        let message = format!("{what}: HTTP {status}: {}", self.message(body));
        match status.as_u16() {
            403 => PlatformError::Auth {
                expired: false,
                message,
            },
            426 => PlatformError::config(format!(
                "{message} (the LinkedIn-Version is no longer supported: set `linkedin_version = \"YYYYMM\"` to a recent month)"
            )),
            400 | 409 | 422 if is_duplicate(body) => PlatformError::Rejected {
                duplicate: true,
                message,
            },
            _ => wire::status_error(status, message, self.expiring_tokens()),
        }
    }
}

/// LinkedIn's explanation: `{"message", "status", "serviceErrorCode", "code"}`
/// (and `errorDetails.inputErrors[].code`), else what [`wire::message`]
/// reads from the body.
fn server_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let Some(v) = parsed.as_ref().filter(|v| v.is_object()) else {
        return wire::message(body);
    };
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut msg = match text("message") {
        Some(m) => short(m),
        None => short(body),
    };
    let mut codes: Vec<String> = Vec::new();
    if let Some(c) = text("code") {
        codes.push(c.to_string());
    }
    if let Some(n) = v.get("serviceErrorCode").and_then(Value::as_i64) {
        codes.push(format!("serviceErrorCode {n}"));
    }
    if let Some(errs) = v
        .pointer("/errorDetails/inputErrors")
        .and_then(Value::as_array)
    {
        for e in errs {
            if let Some(c) = e.get("code").and_then(Value::as_str)
                && !codes.iter().any(|x| x == c)
            {
                codes.push(c.to_string());
            }
        }
    }
    if !codes.is_empty() {
        msg.push_str(&format!(" ({})", codes.join(", ")));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::test_support::{Collect, Fixture, fast_http as http};
    use crate::state::Store;

    fn fixture(server: &MockServer, src: &str) -> Fixture {
        Fixture::new(account(&server.uri()), src, KEY)
    }

    use crate::platforms::PlatformKind;
    use crate::platforms::wire::{Dialect as _, segment};

    /// The error LinkedIn's dialect makes of a failed answer.
    fn error_for(status: StatusCode, body: &str, what: &str) -> PlatformError {
        Dialect.error(status, &HeaderMap::new(), body, what, Effect::Create)
    }

    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wiremock::matchers::{body_bytes, body_json, header, method, path, query_param};
    use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

    const TOKEN: &str = "li-token-secret";
    const BEARER: &str = "Bearer li-token-secret";
    const KEY: &str = "social-0123abcd";
    const AUTHOR: &str = "urn:li:person:abc123";
    const VERSION: &str = "202611";

    fn account(api: &str) -> Account {
        Account {
            name: "li".into(),
            platform: PlatformKind::Linkedin,
            handle: None,
            service: None,
            instance: None,
            username: None,
            api_url: Some(api.into()),
            auth_url: None,
            client_id: None,
            user_id: None,
            media_base_url: None,
            max_characters: None,
            linkedin_version: Some(VERSION.into()),
        }
    }

    fn client(server: &MockServer, store: Option<Store>) -> Linkedin {
        let ctx = Context {
            http: http(),
            secret: Some(Secret::new(TOKEN)),
            memo: store.as_ref().map(crate::publish::memo),
        };
        let mut l = Linkedin::new(&account(&server.uri()), ctx).unwrap();
        l.poll_first = Duration::from_millis(5);
        l.poll_max = Duration::from_millis(20);
        l.image_wait = Duration::from_secs(5);
        l
    }

    const JPEG: &[u8] = b"\xff\xd8\xff\xe0 fake jpeg bytes";

    fn image(dir: &Path, name: &str, alt: Option<&str>) -> MediaInfo {
        let p = dir.join(name);
        std::fs::write(&p, JPEG).unwrap();
        MediaInfo {
            path: format!("media/{name}"),
            project_path: format!("media/{name}"),
            resolved: p,
            mime: "image/jpeg",
            kind: MediaKind::Image,
            bytes: JPEG.len() as u64,
            alt: alt.map(str::to_string),
        }
    }

    fn post_url(urn: &str) -> Option<String> {
        Some(format!("https://www.linkedin.com/feed/update/{urn}"))
    }

    async fn mount_userinfo(server: &MockServer, times: u64) {
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
            .and(header("authorization", BEARER))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "sub": "abc123", "name": "Alice Example", "email_verified": true
            })))
            .expect(times)
            .mount(server)
            .await;
    }

    /// A versioned request, checked for the three headers LinkedIn requires.
    fn rest(verb: &str, p: &str) -> wiremock::MockBuilder {
        Mock::given(method(verb))
            .and(path(p))
            .and(header("authorization", BEARER))
            .and(header("linkedin-version", VERSION))
            .and(header("x-restli-protocol-version", "2.0.0"))
    }

    /// The post create, checked field by field.
    fn create(body: Value) -> wiremock::MockBuilder {
        rest("POST", "/rest/posts")
            .and(header("content-type", "application/json"))
            .and(body_json(body))
    }

    fn created(urn: &str) -> ResponseTemplate {
        ResponseTemplate::new(201).insert_header("x-restli-id", urn)
    }

    fn text_body(commentary: &str) -> Value {
        json!({
            "author": AUTHOR,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": []
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": false
        })
    }

    #[test]
    fn hashtags_use_the_template_with_an_escaped_sign() {
        let rt = crate::render::markdown::render("Ship #rust and ＃cli, not C#", false).0;
        assert_eq!(
            little_text(&rt),
            "Ship {hashtag|\\#|rust} and {hashtag|＃|cli}, not C\\#"
        );
        // What LinkedIn shows is the tag with its sign.
        assert_eq!(
            little_to_plain(&little_text(&rt)),
            "Ship #rust and ＃cli, not C#"
        );
    }

    #[test]
    fn every_reserved_character_is_escaped() {
        let cases = [
            ("a|b", "a\\|b"),
            ("a{b", "a\\{b"),
            ("a}b", "a\\}b"),
            ("a@b", "a\\@b"),
            ("a[b", "a\\[b"),
            ("a]b", "a\\]b"),
            ("a(b", "a\\(b"),
            ("a)b", "a\\)b"),
            ("a<b", "a\\<b"),
            ("a>b", "a\\>b"),
            ("a#b", "a\\#b"),
            ("a\\b", "a\\\\b"),
            ("a*b", "a\\*b"),
            ("a_b", "a\\_b"),
            ("a~b", "a\\~b"),
        ];
        assert_eq!(cases.len(), RESERVED.len());
        for (c, (input, want)) in RESERVED.iter().zip(cases) {
            assert!(input.contains(*c));
            assert_eq!(escape_little_text(input), want, "escaping {c:?}");
            assert_eq!(little_to_plain(want), input, "reading back {c:?}");
        }
        assert_eq!(
            escape_little_text("plain text, ünïcode & emoji 🎉: kept! 100% \"quoted\""),
            "plain text, ünïcode & emoji 🎉: kept! 100% \"quoted\""
        );
        assert_eq!(
            escape_little_text("|{}@[]()<>#\\*_~"),
            "\\|\\{\\}\\@\\[\\]\\(\\)\\<\\>\\#\\\\\\*\\_\\~"
        );
    }

    #[test]
    fn little_text_reads_back_as_plain_text() {
        assert_eq!(
            little_to_plain("Go {hashtag|#|rustlang} and {hashtag|\\#|cli} \\(now\\)"),
            "Go #rustlang and #cli (now)"
        );
        assert_eq!(
            little_to_plain("Hi @[Acme Corp](urn:li:organization:1234)!"),
            "Hi Acme Corp!"
        );
        assert_eq!(little_to_plain("trailing \\"), "trailing \\");
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

    const SHARE: &str = "urn:li:share:7001";

    fn recorded(urn: &str) -> Vec<Recorded> {
        vec![(
            0,
            PublishedPart {
                id: urn.into(),
                url: post_url(urn),
                cid: None,
            },
        )]
    }

    #[tokio::test]
    async fn delete_sends_the_encoded_urn_with_the_version_headers() {
        let server = MockServer::start().await;
        rest("DELETE", "/rest/posts/urn%3Ali%3Ashare%3A7001")
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        client(&server, None)
            .delete(&recorded(SHARE), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(0, false)]);
        let sent = server.received_requests().await.unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].url.path(), "/rest/posts/urn%3Ali%3Ashare%3A7001");
        assert!(sent[0].body.is_empty());
    }

    #[tokio::test]
    async fn a_post_deleted_elsewhere_counts_as_gone() {
        let server = MockServer::start().await;
        rest("DELETE", "/rest/posts/urn%3Ali%3Ashare%3A7001")
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({
                "message": "Not Found", "status": 404
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        client(&server, None)
            .delete(&recorded(SHARE), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(0, true)]);
    }

    #[tokio::test]
    async fn a_refused_delete_names_the_permission() {
        let server = MockServer::start().await;
        rest("DELETE", "/rest/posts/urn%3Ali%3Ashare%3A7001")
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "message": "Not enough permissions to access: partnerApiPostsExternal.DELETE.20261101",
                "status": 403,
                "serviceErrorCode": 100
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut told = Told::default();
        let err = client(&server, None)
            .delete(&recorded(SHARE), &mut told)
            .await
            .unwrap_err();
        match &err {
            PlatformError::Auth { expired, message } => {
                assert!(!expired);
                assert!(message.contains("w_member_social"), "{message}");
                assert!(message.contains("Not enough permissions"), "{message}");
                assert!(!message.contains(TOKEN), "{message}");
            }
            other => panic!("expected Auth, got {other:?}"),
        }
        assert!(told.0.is_empty());
    }

    #[tokio::test]
    async fn edit_sets_the_commentary_escaped_as_create_escapes_it() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: hello\n---\nHello **again** (beta) with a_b*c #rustlang\n",
        );
        rest("POST", "/rest/posts/urn%3Ali%3Ashare%3A7001")
            .and(header("x-restli-method", "PARTIAL_UPDATE"))
            .and(header("content-type", "application/json"))
            .and(body_json(json!({
                "patch": {"$set": {
                    "commentary": "Hello again \\(beta\\) with a\\_b\\*c {hashtag|\\#|rustlang}"
                }}
            })))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
        let done = [PublishedPart {
            id: SHARE.into(),
            url: post_url(SHARE),
            cid: None,
        }];
        let mut told = Told::default();
        client(&server, None)
            .edit(&f.job(&done), EditMode::default(), &mut told)
            .await
            .unwrap();
        assert_eq!(told.0, [(0, false)]);
        assert_eq!(server.received_requests().await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn edit_and_delete_plans_show_the_requests_without_sending() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: hello\n---\nHello\n");
        let c = client(&server, None);
        let done = [PublishedPart {
            id: SHARE.into(),
            url: post_url(SHARE),
            cid: None,
        }];
        let edit = c
            .plan_edit(&f.job(&done), EditMode::default())
            .unwrap()
            .describe();
        assert_eq!(edit.len(), 1);
        assert_eq!(edit[0]["method"], "POST");
        assert_eq!(edit[0]["headers"]["X-RestLi-Method"], "PARTIAL_UPDATE");
        assert_eq!(edit[0]["headers"]["LinkedIn-Version"], VERSION);
        assert_eq!(edit[0]["json"]["patch"]["$set"]["commentary"], "Hello");
        let delete = c.plan_delete(&recorded(SHARE)).unwrap().describe();
        assert_eq!(delete[0]["method"], "DELETE");
        assert_eq!(
            delete[0]["url"],
            format!("{}/rest/posts/urn%3Ali%3Ashare%3A7001", server.uri())
        );
        // Nothing published: nothing to edit.
        assert!(c.plan_edit(&f.job(&[]), EditMode::default()).is_err());
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn text_post() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: hello\n---\nHello **world** (beta) with [docs](https://example.com/a_b) & a_b*c @bob #rustlang\n",
        );
        mount_userinfo(&server, 1).await;
        create(text_body(
            "Hello world \\(beta\\) with docs \\(https://example.com/a\\_b\\) & a\\_b\\*c \\@bob {hashtag|\\#|rustlang}",
        ))
        .respond_with(created("urn:li:share:7001"))
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
            vec![(
                0,
                PublishedPart {
                    id: "urn:li:share:7001".into(),
                    url: post_url("urn:li:share:7001"),
                    cid: None
                }
            )]
        );
    }

    #[tokio::test]
    async fn connections_visibility_and_a_joined_thread() {
        let server = MockServer::start().await;
        let f = fixture(
            &server,
            "---\nid: t\nthread: true\nvisibility: connections\n---\nOne\n\n---\n\nTwo\n",
        );
        assert_eq!(f.rendered.parts.len(), 1, "the renderer joins the thread");
        mount_userinfo(&server, 1).await;
        let mut body = text_body("One\n\nTwo");
        body["visibility"] = json!("CONNECTIONS");
        create(body)
            .respond_with(created("urn:li:share:1"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0.len(), 1);
        // Already done: nothing is sent.
        let done = [published("urn:li:share:1")];
        client(&server, None)
            .publish(&f.job(&done), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0.len(), 1);
    }

    #[tokio::test]
    async fn the_author_is_cached_in_the_store() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.redb")).unwrap();
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        mount_userinfo(&server, 1).await;
        create(text_body("Hi"))
            .respond_with(created("urn:li:share:2"))
            .expect(2)
            .mount(&server)
            .await;
        for _ in 0..2 {
            client(&server, Some(store.clone()))
                .publish(&f.job(&[]), &mut Collect::default())
                .await
                .unwrap();
        }
        assert_eq!(
            store.meta(&author_cache_key("li")).unwrap().as_deref(),
            Some(AUTHOR.as_bytes())
        );
        // Remembered: the plan starts with the post, the author written in.
        let reqs = client(&server, Some(store.clone())).dry_run(&f.job(&[]));
        assert_eq!(reqs.len(), 1, "{reqs:#?}");
        assert_eq!(reqs[0]["json"]["author"], json!(AUTHOR));
    }

    /// Mounts the three image requests for `image`: initializeUpload
    /// (answered by `init`), the PUT of the bytes and the status read.
    async fn mount_upload_steps(server: &MockServer, image: &str, upload: &str) {
        Mock::given(method("PUT"))
            .and(path(upload))
            .and(header("authorization", BEARER))
            .and(header("content-type", "image/jpeg"))
            .and(body_bytes(JPEG))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(server)
            .await;
        rest("GET", &format!("/rest/images/{}", segment(image)))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": image, "status": "AVAILABLE"})),
            )
            .expect(1)
            .mount(server)
            .await;
    }

    fn initialize() -> wiremock::MockBuilder {
        rest("POST", "/rest/images")
            .and(query_param("action", "initializeUpload"))
            .and(body_json(
                json!({"initializeUploadRequest": {"owner": AUTHOR}}),
            ))
    }

    #[tokio::test]
    async fn post_with_an_image_and_alt_text() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nLook\n");
        f.media = vec![image(dir.path(), "shot.jpg", Some("The dashboard"))];
        mount_userinfo(&server, 1).await;
        initialize()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {
                "uploadUrlExpiresAt": 1_767_225_600_000_i64,
                "uploadUrl": format!("{}/dms-uploads/img1", server.uri()),
                "image": "urn:li:image:C4E1"
            }})))
            .expect(1)
            .mount(&server)
            .await;
        mount_upload_steps(&server, "urn:li:image:C4E1", "/dms-uploads/img1").await;
        let mut body = text_body("Look");
        body["content"] = json!({"media": {"id": "urn:li:image:C4E1", "altText": "The dashboard"}});
        create(body)
            .respond_with(created("urn:li:share:3"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0[0].1.id, "urn:li:share:3");
    }

    /// Answers successive initializeUpload calls with images 1, 2, ….
    struct Tickets {
        base: String,
        n: AtomicUsize,
    }

    impl Respond for Tickets {
        fn respond(&self, _: &Request) -> ResponseTemplate {
            let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
            ResponseTemplate::new(200).set_body_json(json!({"value": {
                "uploadUrl": format!("{}/dms-uploads/img{n}", self.base),
                "image": format!("urn:li:image:I{n}")
            }}))
        }
    }

    #[tokio::test]
    async fn several_images_become_a_multi_image_post() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nTwo pictures\n");
        f.media = vec![
            image(dir.path(), "a.jpg", Some("First")),
            image(dir.path(), "b.jpg", None),
        ];
        mount_userinfo(&server, 1).await;
        initialize()
            .respond_with(Tickets {
                base: server.uri(),
                n: AtomicUsize::new(0),
            })
            .expect(2)
            .mount(&server)
            .await;
        mount_upload_steps(&server, "urn:li:image:I1", "/dms-uploads/img1").await;
        mount_upload_steps(&server, "urn:li:image:I2", "/dms-uploads/img2").await;
        let mut body = text_body("Two pictures");
        body["content"] = json!({"multiImage": {"images": [
            {"id": "urn:li:image:I1", "altText": "First"},
            {"id": "urn:li:image:I2"}
        ]}});
        create(body)
            .respond_with(created("urn:li:share:4"))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0[0].1.id, "urn:li:share:4");
    }

    #[tokio::test]
    async fn an_image_still_processing_is_waited_for() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nLook\n");
        f.media = vec![image(dir.path(), "shot.jpg", None)];
        mount_userinfo(&server, 1).await;
        initialize()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {
                "uploadUrl": format!("{}/up", server.uri()), "image": "urn:li:image:P"
            }})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/up"))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        let status_path = format!("/rest/images/{}", segment("urn:li:image:P"));
        rest("GET", &status_path)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "PROCESSING"})))
            .up_to_n_times(2)
            .expect(2)
            .mount(&server)
            .await;
        rest("GET", &status_path)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "AVAILABLE"})))
            .expect(1)
            .mount(&server)
            .await;
        rest("POST", "/rest/posts")
            .respond_with(created("urn:li:share:5"))
            .expect(1)
            .mount(&server)
            .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_rate_limit_is_reported_with_its_reset_and_not_retried() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        mount_userinfo(&server, 1).await;
        rest("POST", "/rest/posts")
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", "3600")
                    .set_body_json(
                        json!({"message": "Resource level throttle limit reached", "status": 429}),
                    ),
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
        assert!(wait > chrono::Duration::minutes(59) && wait <= chrono::Duration::minutes(60));
    }

    #[tokio::test]
    async fn reads_are_retried_after_a_5xx_and_the_create_is_not() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        Mock::given(method("GET"))
            .and(path("/v2/userinfo"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        mount_userinfo(&server, 1).await;
        rest("POST", "/rest/posts")
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_json(json!({"message": "Internal Server Error", "status": 500})),
            )
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_created_post_without_its_id_is_unknown() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        mount_userinfo(&server, 1).await;
        rest("POST", "/rest/posts")
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Unknown { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn unauthorized_is_an_expired_token() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        mount_userinfo(&server, 1).await;
        rest("POST", "/rest/posts")
            .respond_with(ResponseTemplate::new(401).set_body_json(json!({
                "status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN",
                "message": "The token used in the request has been revoked by the user"
            })))
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
                assert!(message.contains("revoked"), "{message}");
                assert!(!message.contains(TOKEN));
            }
            other => panic!("expected Auth, got {other:?}"),
        }
    }

    fn duplicate_answer(urn: &str) -> ResponseTemplate {
        ResponseTemplate::new(422).set_body_json(json!({
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "message": format!("com.linkedin.content.common.exception.BadRequestResponseException: Content is a duplicate of {urn}"),
            "errorDetails": {"inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]},
            "status": 422
        }))
    }

    fn finder() -> wiremock::MockBuilder {
        rest("GET", "/rest/posts")
            .and(header("x-restli-method", "FINDER"))
            .and(query_param("author", AUTHOR))
            .and(query_param("q", "author"))
            .and(query_param("count", "10"))
            .and(query_param("sortBy", "LAST_MODIFIED"))
    }

    fn element(id: &str, commentary: &str, created: DateTime<Utc>) -> Value {
        json!({
            "id": id,
            "author": AUTHOR,
            "commentary": commentary,
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "createdAt": created.timestamp_millis(),
            "publishedAt": created.timestamp_millis(),
            "lastModifiedAt": created.timestamp_millis()
        })
    }

    #[tokio::test]
    async fn a_duplicate_of_our_own_recent_post_counts_as_posted() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: t\n---\nShip it (today) #rust\n");
        f.first_claimed = Utc::now() - chrono::Duration::minutes(3);
        mount_userinfo(&server, 1).await;
        create(text_body("Ship it \\(today\\) {hashtag|\\#|rust}"))
            .respond_with(duplicate_answer("urn:li:share:900"))
            .expect(1)
            .mount(&server)
            .await;
        let recent = Utc::now() - chrono::Duration::minutes(2);
        finder()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "paging": {"start": 0, "count": 10},
                "elements": [
                    element("urn:li:share:901", "Something else", recent),
                    element("urn:li:share:900", "Ship it \\(today\\) {hashtag|\\#|rust}", recent),
                ]
            })))
            .expect(1)
            .mount(&server)
            .await;
        let mut sink = Collect::default();
        client(&server, None)
            .publish(&f.job(&[]), &mut sink)
            .await
            .unwrap();
        assert_eq!(sink.0, vec![(0, published("urn:li:share:900"))]);
    }

    #[tokio::test]
    async fn a_duplicate_of_an_older_post_is_rejected() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nSame as last week\n");
        mount_userinfo(&server, 1).await;
        create(text_body("Same as last week"))
            .respond_with(duplicate_answer("urn:li:share:800"))
            .expect(1)
            .mount(&server)
            .await;
        finder()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"elements": [
                element("urn:li:share:800", "Same as last week", Utc::now() - chrono::Duration::days(7)),
            ]})))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        match err {
            PlatformError::Rejected { duplicate, message } => {
                assert!(duplicate);
                assert!(message.contains("urn:li:share:800"), "{message}");
            }
            other => panic!("expected a duplicate rejection, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn crash_reconciliation_finds_the_post_without_posting_again() {
        let server = MockServer::start().await;
        let mut f = fixture(&server, "---\nid: t\n---\nLaunch day_1 [with notes]\n");
        f.first_claimed = Utc::now() - chrono::Duration::minutes(30);
        mount_userinfo(&server, 1).await;
        let after = f.first_claimed + chrono::Duration::minutes(1);
        finder()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"elements": [
                element("urn:li:share:3", "Launch day\\_1 \\[with notes\\] and more", after),
                // A draft with the same text is not a post.
                {"id": "urn:li:share:2", "commentary": "Launch day\\_1 \\[with notes\\]",
                 "lifecycleState": "DRAFT", "createdAt": after.timestamp_millis()},
                element("urn:li:ugcPost:1", "Launch day\\_1  \\[with notes\\]\n", after),
                // The same text long before the claim: another post.
                element("urn:li:share:0", "Launch day\\_1 \\[with notes\\]", f.first_claimed - chrono::Duration::days(2)),
            ]})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(500))
            .expect(0)
            .mount(&server)
            .await;
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        assert_eq!(found, vec![published("urn:li:ugcPost:1")]);
    }

    #[tokio::test]
    async fn reconciliation_finding_nothing_sends_nothing_else() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nNot yet\n");
        mount_userinfo(&server, 1).await;
        finder()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"elements": []})))
            .expect(1)
            .mount(&server)
            .await;
        let found = client(&server, None).reconcile(&f.job(&[])).await.unwrap();
        assert!(found.is_empty());
    }

    #[tokio::test]
    async fn reconciliation_without_read_permission_explains_itself() {
        let server = MockServer::start().await;
        let f = fixture(&server, "---\nid: t\n---\nHi\n");
        mount_userinfo(&server, 1).await;
        finder()
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author"
            })))
            .expect(1)
            .mount(&server)
            .await;
        let err = client(&server, None)
            .reconcile(&f.job(&[]))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::Auth { expired: false, message }
                if message.contains("lacks LinkedIn's r_member_social permission")
                    && message.contains("social retry")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_read_permission_is_probed_with_one_finder_read() {
        let server = MockServer::start().await;
        mount_userinfo(&server, 2).await;
        finder()
            .respond_with(ResponseTemplate::new(403).set_body_json(json!({
                "status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: partnerApiPostsExternal.FINDER-author"
            })))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        finder()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"elements": []})))
            .expect(1)
            .mount(&server)
            .await;
        let c = client(&server, None);
        assert!(!c.can_read_posts().await.unwrap());
        assert!(c.can_read_posts().await.unwrap());
    }

    #[tokio::test]
    async fn videos_are_refused_before_anything_is_sent() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nClip\n");
        let mut v = image(dir.path(), "clip.mp4", None);
        v.kind = MediaKind::Video;
        v.mime = "video/mp4";
        f.media = vec![v];
        let err = client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn dry_run_shows_the_requests_without_sending() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nHello (world)\n");
        f.media = vec![image(dir.path(), "a.jpg", Some("Alt"))];
        let reqs = client(&server, None).dry_run(&f.job(&[]));
        assert_eq!(reqs.len(), 5, "{reqs:#?}");
        let base = server.uri();
        let urls: Vec<&str> = reqs.iter().map(|r| r["url"].as_str().unwrap()).collect();
        assert_eq!(
            urls,
            [
                format!("{base}/v2/userinfo"),
                format!("{base}/rest/images"),
                "<uploadUrl of image 1>".to_string(),
                format!("{base}/rest/images/<urn:li:image of image 1>"),
                format!("{base}/rest/posts"),
            ]
        );
        // The profile is not a versioned endpoint; the upload URL is not LinkedIn's API.
        assert!(reqs[0].get("headers").is_none() && reqs[2].get("headers").is_none());
        assert_eq!(reqs[1]["query"]["action"], json!("initializeUpload"));
        assert_eq!(
            reqs[1]["json"],
            json!({"initializeUploadRequest": {"owner": "<urn:li:person of the member>"}})
        );
        assert_eq!(reqs[2]["method"], json!("PUT"));
        assert_eq!(
            reqs[2]["file"],
            json!({
                "file_name": "a.jpg",
                "path": f.media[0].resolved.display().to_string(),
                "content_type": "image/jpeg",
                "bytes": JPEG.len(),
            })
        );
        assert_eq!(reqs[3]["method"], json!("GET"));
        assert_eq!(
            reqs[4]["json"]["author"],
            json!("<urn:li:person of the member>")
        );
        assert_eq!(reqs[4]["json"]["commentary"], json!("Hello \\(world\\)"));
        assert_eq!(
            reqs[4]["json"]["content"]["media"],
            json!({"id": "<urn:li:image of image 1>", "altText": "Alt"})
        );
        for r in [&reqs[1], &reqs[3], &reqs[4]] {
            assert_eq!(r["headers"]["LinkedIn-Version"], json!(VERSION));
            assert_eq!(r["headers"]["X-Restli-Protocol-Version"], json!("2.0.0"));
        }
        assert!(!reqs.iter().any(|r| r.to_string().contains(TOKEN)));
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    /// The "cannot drift" proof: what a dry run shows for a post with two
    /// images (and no remembered author) is, request for request, what
    /// publishing sends: method, URL, query, the LinkedIn headers and the
    /// body, with each label standing for the value the fake answered.
    #[tokio::test]
    async fn publish_sends_exactly_the_dry_run_plan() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nTwo (pictures) #rust\n");
        f.media = vec![
            image(dir.path(), "a.jpg", Some("First")),
            image(dir.path(), "b.jpg", None),
        ];
        mount_userinfo(&server, 1).await;
        initialize()
            .respond_with(Tickets {
                base: server.uri(),
                n: AtomicUsize::new(0),
            })
            .expect(2)
            .mount(&server)
            .await;
        mount_upload_steps(&server, "urn:li:image:I1", "/dms-uploads/img1").await;
        mount_upload_steps(&server, "urn:li:image:I2", "/dms-uploads/img2").await;
        rest("POST", "/rest/posts")
            .respond_with(created("urn:li:share:77"))
            .expect(1)
            .mount(&server)
            .await;

        let c = client(&server, None);
        let job = f.job(&[]);
        let shown = c.dry_run(&job);
        assert!(server.received_requests().await.unwrap().is_empty());
        let mut sink = Collect::default();
        c.publish(&job, &mut sink).await.unwrap();
        assert_eq!(sink.0, vec![(0, published("urn:li:share:77"))]);

        let base = server.uri();
        let values = [
            ("<urn:li:person of the member>", AUTHOR.to_string()),
            ("<uploadUrl of image 1>", format!("{base}/dms-uploads/img1")),
            ("<uploadUrl of image 2>", format!("{base}/dms-uploads/img2")),
            ("<urn:li:image of image 1>", "urn:li:image:I1".to_string()),
            ("<urn:li:image of image 2>", "urn:li:image:I2".to_string()),
        ];
        // In a path an image URN is one segment; elsewhere it is as answered.
        let filled = |s: &str, in_url: bool| {
            let mut s = s.to_string();
            for (label, value) in &values {
                let v = if in_url && label.starts_with("<urn:li:image") {
                    segment(value)
                } else {
                    value.clone()
                };
                s = s.replace(label, &v);
            }
            assert!(!s.contains('<'), "a label without a value: {s}");
            s
        };
        let sent = server.received_requests().await.unwrap();
        // The profile; per image its registration, PUT and status; the post.
        assert_eq!(sent.len(), 8);
        assert_eq!(sent.len(), shown.len(), "{shown:#?}");
        for (n, (want, got)) in shown.iter().zip(&sent).enumerate() {
            let at = format!("request {n}: {want:#}");
            assert_eq!(got.method.as_str(), want["method"], "{at}");
            let url = filled(want["url"].as_str().unwrap(), true);
            assert_eq!(Some(got.url.path()), url.strip_prefix(&base), "{at}");
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
            match want["headers"].as_object() {
                Some(headers) => {
                    for (k, v) in headers {
                        assert_eq!(
                            got.headers.get(k.as_str()).and_then(|h| h.to_str().ok()),
                            v.as_str(),
                            "{at}: header {k}"
                        );
                    }
                }
                None => assert!(got.headers.get("linkedin-version").is_none(), "{at}"),
            }
            if let Some(body) = want.get("json") {
                let want: Value = serde_json::from_str(&filled(&body.to_string(), false)).unwrap();
                let got: Value = serde_json::from_slice(&got.body).unwrap();
                assert_eq!(got, want, "{at}");
            } else if let Some(file) = want.get("file") {
                let bytes = std::fs::read(file["path"].as_str().unwrap()).unwrap();
                assert_eq!(got.body, bytes, "{at}");
                assert_eq!(
                    got.headers.get("content-type").unwrap().to_str().unwrap(),
                    file["content_type"],
                    "{at}"
                );
            } else {
                assert!(got.body.is_empty(), "{at}");
            }
            assert_eq!(
                got.headers.get("authorization").unwrap().to_str().unwrap(),
                BEARER,
                "{at}"
            );
        }
        assert_eq!(
            shown[7]["json"]["content"],
            json!({"multiImage": {"images": [
                {"id": "<urn:li:image of image 1>", "altText": "First"},
                {"id": "<urn:li:image of image 2>"}
            ]}})
        );
        assert!(!shown.iter().any(|r| r.to_string().contains(TOKEN)));
    }

    #[tokio::test]
    async fn the_token_goes_to_no_upload_host_but_linkedin_s() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nLook\n");
        f.media = vec![image(dir.path(), "shot.jpg", None)];
        mount_userinfo(&server, 1).await;
        // The same fake under another host name: not the API's host.
        let port = server.address().port();
        initialize()
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": {
                "uploadUrl": format!("http://localhost:{port}/elsewhere/up"),
                "image": "urn:li:image:E"
            }})))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("PUT"))
            .and(path("/elsewhere/up"))
            .and(|r: &Request| !r.headers.contains_key("authorization"))
            .and(body_bytes(JPEG))
            .respond_with(ResponseTemplate::new(201))
            .expect(1)
            .mount(&server)
            .await;
        rest(
            "GET",
            &format!("/rest/images/{}", segment("urn:li:image:E")),
        )
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "AVAILABLE"})))
        .expect(1)
        .mount(&server)
        .await;
        rest("POST", "/rest/posts")
            .respond_with(created("urn:li:share:6"))
            .expect(1)
            .mount(&server)
            .await;
        client(&server, None)
            .publish(&f.job(&[]), &mut Collect::default())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_video_is_refused_in_the_plan_and_its_dry_run() {
        let server = MockServer::start().await;
        let dir = tempfile::tempdir().unwrap();
        let mut f = fixture(&server, "---\nid: t\n---\nClip\n");
        let mut v = image(dir.path(), "clip.mp4", None);
        v.kind = MediaKind::Video;
        f.media = vec![v];
        let c = client(&server, None);
        let err = c.plan(&f.job(&[])).unwrap_err();
        assert!(
            matches!(&err, PlatformError::Rejected { message, .. }
                if message.contains("media/clip.mp4") && message.contains("videos on LinkedIn")),
            "{err:?}"
        );
        let shown = c.dry_run(&f.job(&[]));
        assert_eq!(shown.len(), 1);
        assert!(shown[0]["error"].as_str().unwrap().contains("videos"));
        assert!(server.received_requests().await.unwrap().is_empty());
    }

    #[test]
    fn missing_token_names_the_variable_and_defaults_apply() {
        let ctx = |secret| Context {
            http: Http::new().unwrap(),
            secret,
            memo: None,
        };
        let err = Linkedin::new(&account("https://api.linkedin.com"), ctx(None))
            .err()
            .unwrap();
        assert!(
            matches!(&err, PlatformError::Config { message } if message.contains("SOCIAL_LI_TOKEN")),
            "{err:?}"
        );
        let mut acc = account("x");
        acc.api_url = None;
        acc.linkedin_version = None;
        let l = Linkedin::new(&acc, ctx(Some(Secret::new(TOKEN)))).unwrap();
        assert_eq!(l.base, DEFAULT_API);
        assert_eq!(l.version, DEFAULT_VERSION);
        assert!(l.trusted_host("https://www.linkedin.com/dms-uploads/x"));
        assert!(!l.trusted_host("https://evil.example/linkedin.com"));
    }

    #[test]
    fn errors_are_typed() {
        let dup = r#"{"message": "Content is a duplicate of urn:li:share:7141138937766391808", "status": 422,
            "errorDetails": {"inputErrors": [{"code": "DUPLICATE_POST"}]}}"#;
        let e = error_for(StatusCode::UNPROCESSABLE_ENTITY, dup, "creating the post");
        match &e {
            PlatformError::Rejected { duplicate, message } => {
                assert!(duplicate);
                assert_eq!(
                    duplicate_urn(message).as_deref(),
                    Some("urn:li:share:7141138937766391808")
                );
                assert!(message.contains("DUPLICATE_POST"));
            }
            other => panic!("{other:?}"),
        }
        let e = error_for(
            StatusCode::UNPROCESSABLE_ENTITY,
            r#"{"message": "ERROR :: /commentary :: length exceeds 3000", "status": 422}"#,
            "x",
        );
        assert!(matches!(
            e,
            PlatformError::Rejected {
                duplicate: false,
                ..
            }
        ));
        let e = error_for(StatusCode::BAD_REQUEST, "not json", "x");
        assert!(
            matches!(&e, PlatformError::Rejected { message, .. } if message.contains("not json"))
        );
        let e = error_for(
            StatusCode::UPGRADE_REQUIRED,
            r#"{"message": "Requested version 202301 is not active"}"#,
            "x",
        );
        assert!(
            matches!(&e, PlatformError::Config { message } if message.contains("linkedin_version"))
        );
        assert_eq!(server_message(""), "no details given");
        assert_eq!(
            post_urn(&{
                let mut h = HeaderMap::new();
                h.insert("x-restli-id", "urn%3Ali%3Ashare%3A1".parse().unwrap());
                h
            })
            .as_deref(),
            Some("urn:li:share:1")
        );
    }
}
