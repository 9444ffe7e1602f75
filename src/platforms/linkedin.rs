//! The LinkedIn client: member posts through the versioned Posts API
//! (`POST /rest/posts`), images through the Images API (initializeUpload,
//! then a PUT of the bytes), the author URN from OpenID `userinfo`.
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

pub mod account;
use super::http::{Http, Repeat, short};
use super::{Context, Job, Memo, PartSink, Platform, PlatformError};
use crate::config::Account;
use crate::credentials::Secret;
use crate::render::{RichText, SpanKind};
use crate::state::PublishedPart;
use crate::validate::{MediaInfo, MediaKind};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;
use unicode_normalization::UnicodeNormalization;

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

/// `POST /rest/images?action=initializeUpload` answers `{"value": …}`.
#[derive(Deserialize)]
struct InitializeUpload {
    value: UploadTicket,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadTicket {
    upload_url: String,
    image: String,
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

    /// The headers of every versioned (`/rest/…`) request.
    fn rest(&self, rb: RequestBuilder) -> RequestBuilder {
        rb.bearer_auth(self.token.expose())
            .header("LinkedIn-Version", &self.version)
            .header("X-Restli-Protocol-Version", "2.0.0")
    }

    /// The member's person URN: from the state store when cached there,
    /// else from `/v2/userinfo` (and then cached).
    async fn author(&self) -> Result<String, PlatformError> {
        let key = author_cache_key(&self.account);
        if let Some(memo) = &self.memo
            && let Ok(Some(bytes)) = memo.get(&key)
            && let Ok(urn) = String::from_utf8(bytes)
            && urn.starts_with("urn:li:")
        {
            return Ok(urn);
        }
        let url = self.url("/v2/userinfo");
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                c.get(&url).bearer_auth(self.token.expose())
            })
            .await?;
        let info: UserInfo = read_json(resp, "reading the member's profile").await?;
        let urn = format!("urn:li:person:{}", info.sub);
        if let Some(memo) = &self.memo {
            // A cache that cannot be written costs the next run one request.
            let _ = memo.put(&key, urn.as_bytes());
        }
        Ok(urn)
    }

    /// Registers an image, uploads its bytes, and waits until LinkedIn has
    /// processed it. Repeating any step leaves at most an unused image
    /// behind, so all of them are safe to retry.
    async fn upload(&self, author: &str, m: &MediaInfo) -> Result<String, PlatformError> {
        let bytes = tokio::fs::read(&m.resolved).await.map_err(|e| {
            PlatformError::config(format!(
                "cannot read the media file {}: {e}",
                m.resolved.display()
            ))
        })?;
        let url = self.url("/rest/images");
        let body = initialize_upload_body(author);
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                self.rest(c.post(&url))
                    .query(&[("action", "initializeUpload")])
                    .json(&body)
            })
            .await?;
        let what = format!("registering the upload of {}", m.path);
        let ticket: InitializeUpload = read_json(resp, &what).await?;
        let ticket = ticket.value;

        // The upload URL comes from LinkedIn; the token goes only to LinkedIn.
        let send_token = self.trusted_upload_host(&ticket.upload_url);
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                let rb = c
                    .put(&ticket.upload_url)
                    .header(reqwest::header::CONTENT_TYPE, m.mime)
                    .body(bytes.clone());
                if send_token {
                    rb.bearer_auth(self.token.expose())
                } else {
                    rb
                }
            })
            .await?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(error_for(status, &body, &format!("uploading {}", m.path)));
        }
        self.wait_available(&ticket.image, &m.path).await?;
        Ok(ticket.image)
    }

    /// Whether `upload_url` is LinkedIn's (or the configured API's) host.
    fn trusted_upload_host(&self, upload_url: &str) -> bool {
        let host = |u: &str| {
            reqwest::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        };
        match host(upload_url) {
            Some(h) => {
                h == "linkedin.com" || h.ends_with(".linkedin.com") || Some(h) == host(&self.base)
            }
            None => false,
        }
    }

    /// Polls an uploaded image until it is `AVAILABLE`. A status that
    /// cannot be read does not stop the post: LinkedIn then says itself
    /// whether the image is usable.
    async fn wait_available(&self, image: &str, path: &str) -> Result<(), PlatformError> {
        let url = self.url(&format!("/rest/images/{}", segment(image)));
        let deadline = tokio::time::Instant::now() + self.image_wait;
        let mut delay = self.poll_first;
        loop {
            let resp = self
                .http
                .send(&self.account, Repeat::Safe, |c| self.rest(c.get(&url)))
                .await;
            let status = match resp {
                Ok(r) => read_json::<ImageStatus>(r, "reading the image")
                    .await
                    .ok()
                    .and_then(|s| s.status),
                Err(_) => None,
            };
            match status.as_deref() {
                Some("PROCESSING") | Some("WAITING_UPLOAD") => {}
                Some("PROCESSING_FAILED") => {
                    return Err(PlatformError::rejected(format!(
                        "LinkedIn could not process the image {path}"
                    )));
                }
                _ => return Ok(()),
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

    /// Creates the post; its URN is in the `x-restli-id` header.
    async fn create_post(&self, body: &Value) -> Result<String, PlatformError> {
        let url = self.url("/rest/posts");
        let resp = self
            .http
            .send(&self.account, Repeat::Unsafe, |c| {
                self.rest(c.post(&url)).json(body)
            })
            .await?;
        let status = resp.status();
        let urn = post_urn(resp.headers());
        let text = resp.text().await;
        if !status.is_success() {
            return Err(error_for(
                status,
                &text.unwrap_or_default(),
                "creating the post",
            ));
        }
        urn.ok_or_else(|| {
            PlatformError::unknown(format!(
                "creating the post: HTTP {status} without the post's id (no x-restli-id header)"
            ))
        })
    }

    /// The author's most recent posts.
    async fn recent_posts(&self, author: &str) -> Result<Vec<PostElement>, PlatformError> {
        let url = self.url("/rest/posts");
        let query = finder_query(author);
        let resp = self
            .http
            .send(&self.account, Repeat::Safe, |c| {
                self.rest(c.get(&url))
                    .header("X-RestLi-Method", "FINDER")
                    .query(&query)
            })
            .await?;
        let page: PostPage = read_json(resp, "reading the member's recent posts")
            .await
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
impl Platform for Linkedin {
    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        if job.rendered.parts.is_empty() || !job.done.is_empty() {
            return Ok(());
        }
        if let Some(m) = job.media.iter().find(|m| m.kind == MediaKind::Video) {
            return Err(PlatformError::rejected(format!(
                "{}: videos on LinkedIn are not supported by this version of social (images are)",
                m.path
            )));
        }
        let author = self.author().await?;
        let mut images = Vec::new();
        for m in job.media {
            images.push((self.upload(&author, m).await?, m.alt.clone()));
        }
        let body = post_body(job, &author, &images);
        match self.create_post(&body).await {
            Ok(urn) => sink.part(0, published(&urn)),
            Err(PlatformError::Rejected {
                duplicate: true,
                message,
            }) => {
                // Ours, from an attempt whose answer was lost? Only if it is
                // among the recent posts with this text, created after the claim.
                let duplicate_of = duplicate_urn(&message);
                let posts =
                    self.recent_posts(&author)
                        .await
                        .map_err(|e| PlatformError::Rejected {
                            duplicate: true,
                            message: format!(
                                "{message}; could not check whether it is this post: {e}"
                            ),
                        })?;
                match find_post(job, &posts, duplicate_of.as_deref()) {
                    Some(found) => sink.part(0, found),
                    None => Err(PlatformError::Rejected {
                        duplicate: true,
                        message,
                    }),
                }
            }
            Err(e) => Err(e),
        }
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

    fn dry_run(&self, job: &Job<'_>) -> Vec<Value> {
        let mut out = Vec::new();
        if job.rendered.parts.is_empty() || !job.done.is_empty() {
            return out;
        }
        let headers = json!({
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        });
        let cached = self
            .memo
            .as_ref()
            .and_then(|s| s.get(&author_cache_key(&self.account)).ok().flatten())
            .and_then(|b| String::from_utf8(b).ok());
        let author = match cached {
            Some(urn) => urn,
            None => {
                out.push(json!({"method": "GET", "url": self.url("/v2/userinfo")}));
                "urn:li:person:<sub from userinfo>".to_string()
            }
        };
        let mut images = Vec::new();
        for (n, m) in job.media.iter().enumerate() {
            out.push(json!({
                "method": "POST",
                "url": self.url("/rest/images"),
                "query": {"action": "initializeUpload"},
                "headers": headers,
                "json": initialize_upload_body(&author),
            }));
            out.push(json!({
                "method": "PUT",
                "url": format!("<uploadUrl of image {}>", n + 1),
                "body": {
                    "path": m.resolved.display().to_string(),
                    "content_type": m.mime,
                    "bytes": m.bytes,
                },
            }));
            images.push((format!("<urn:li:image of image {}>", n + 1), m.alt.clone()));
        }
        out.push(json!({
            "method": "POST",
            "url": self.url("/rest/posts"),
            "headers": headers,
            "json": post_body(job, &author, &images),
        }));
        out
    }
}

fn initialize_upload_body(author: &str) -> Value {
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

/// The JSON body of the post create.
fn post_body(job: &Job<'_>, author: &str, images: &[(String, Option<String>)]) -> Value {
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
    let image = |(id, alt): &(String, Option<String>)| {
        let mut v = json!({"id": id});
        if let Some(a) = alt {
            v["altText"] = json!(a);
        }
        v
    };
    match images {
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

/// A text reduced for comparing: NFC, whitespace runs as one space.
fn comparable(text: &str) -> String {
    let text: String = text.nfc().collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The post among `posts` that is this job's: same text, published, created
/// after the first claim or the scheduled time, whichever is earlier (less
/// [`CLOCK_SLACK`]). `prefer` (the URN a
/// duplicate refusal named) wins among several.
fn find_post(job: &Job<'_>, posts: &[PostElement], prefer: Option<&str>) -> Option<PublishedPart> {
    let since = job.earliest() - CLOCK_SLACK;
    let text = comparable(&plain_text(job));
    let mut hits = posts.iter().filter(|p| {
        p.lifecycle_state
            .as_deref()
            .is_none_or(|s| s == "PUBLISHED")
            && p.created().is_none_or(|t| t >= since)
            && p.commentary
                .as_deref()
                .is_some_and(|c| comparable(&little_to_plain(c)) == text)
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

/// A path segment: URNs in paths are percent-encoded (Rest.li 2.0).
fn segment(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// Reads the answer of a read or an upload step (the post create reads its
/// own): a success body as `T`, anything else as a typed error.
async fn read_json<T: DeserializeOwned>(resp: Response, what: &str) -> Result<T, PlatformError> {
    let status = resp.status();
    let unclear = PlatformError::unavailable;
    let body = resp
        .text()
        .await
        .map_err(|e| unclear(format!("{what}: the answer was cut off: {e}")))?;
    if !status.is_success() {
        return Err(error_for(status, &body, what));
    }
    serde_json::from_str(&body).map_err(|e| {
        unclear(format!(
            "{what}: HTTP {status} with an unreadable answer ({e}): {}",
            short(&body)
        ))
    })
}

/// Whether an error body is LinkedIn's duplicate-content refusal.
fn is_duplicate(body: &str) -> bool {
    body.contains("DUPLICATE_POST") || body.to_ascii_lowercase().contains("is a duplicate")
}

/// The error of a 4xx answer (429 and 5xx are the HTTP layer's).
fn error_for(status: StatusCode, body: &str, what: &str) -> PlatformError {
    let message = format!("{what}: HTTP {status}: {}", server_message(body));
    match status.as_u16() {
        401 => PlatformError::Auth {
            expired: true,
            message,
        },
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
        400..=499 => PlatformError::rejected(message),
        _ => PlatformError::unavailable(message),
    }
}

/// LinkedIn's explanation: `{"message", "status", "serviceErrorCode", "code"}`
/// (and `errorDetails.inputErrors[].code`), else the start of the body.
fn server_message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let Some(v) = parsed.as_ref().filter(|v| v.is_object()) else {
        return if body.trim().is_empty() {
            "no details given".into()
        } else {
            short(body)
        };
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
        assert_eq!(reqs.len(), 4);
        assert_eq!(
            reqs[0]["url"],
            json!(format!("{}/v2/userinfo", server.uri()))
        );
        assert_eq!(reqs[1]["query"]["action"], json!("initializeUpload"));
        assert_eq!(reqs[2]["method"], json!("PUT"));
        assert_eq!(reqs[3]["json"]["commentary"], json!("Hello \\(world\\)"));
        assert_eq!(
            reqs[3]["json"]["content"]["media"],
            json!({"id": "<urn:li:image of image 1>", "altText": "Alt"})
        );
        assert_eq!(reqs[3]["headers"]["LinkedIn-Version"], json!(VERSION));
        assert!(!reqs.iter().any(|r| r.to_string().contains(TOKEN)));
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
        assert!(l.trusted_upload_host("https://www.linkedin.com/dms-uploads/x"));
        assert!(!l.trusted_upload_host("https://evil.example/linkedin.com"));
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
