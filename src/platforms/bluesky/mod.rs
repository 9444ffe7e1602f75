//! The Bluesky (AT Protocol) client: app-password sessions kept sealed in the
//! state store, `app.bsky.feed.post` records with facets, images and reply
//! refs, and exactly-once creates through deterministic record keys that are
//! read back before any retry.
//!
//! Every request goes through the shared [`Http`] layer; atrium-api supplies
//! the record types.

pub mod account;
mod record;
mod session;
mod tid;

#[cfg(test)]
mod pds_tests;
#[cfg(test)]
mod tests;

pub use tid::{key_time, record_key};

use super::http::{Http, Repeat, short};
use super::{Context, Job, Memo, PartSink, Platform, PlatformError, ReplyTo};
use crate::config::Account;
use crate::credentials::Secret;
use crate::state::PublishedPart;
use crate::validate::{MediaInfo, MediaKind};
use atrium_api::types::{BlobRef, CidLink, TypedBlobRef};
use record::{EmbedImage, POST_COLLECTION, PostRecord, ReplyRefs, StrongRef};
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use session::{SealKey, Session};
use std::collections::HashMap;
use std::time::Duration;

/// The PDS when an account names none.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

/// Largest image the PDS accepts for a post, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 2_000_000;

/// Most images on one post.
const MAX_IMAGES: usize = 4;

/// Creates of one part before giving up (each after reading the key back).
const CREATE_ATTEMPTS: u32 = 3;

/// Stands in for CIDs and blob refs in `--dry-run` output (a valid CID, so
/// that the typed record can be built; replaced in the output).
const PLACEHOLDER_CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
/// DID method standing in for mentions in `--dry-run` output.
const PLACEHOLDER_DID: &str = "did:socialdryrun:";

/// The Bluesky client for one account.
pub struct Bluesky {
    http: Http,
    /// The account's name in social.toml (rate-limit budget, store key, TIDs).
    account: String,
    handle: String,
    /// Base URL of the PDS, without a trailing slash.
    service: String,
    password: Option<Secret>,
    memo: Option<Memo>,
    /// Timeout of each request, over the HTTP layer's (tests shorten it).
    timeout: Option<Duration>,
    session: tokio::sync::Mutex<Option<Live>>,
}

/// The session in use, and whether this process created it (a token of a
/// session from the store may be stale in ways a fresh one is not).
struct Live {
    session: Session,
    fresh: bool,
}

/// An answer of the PDS: status and body, for the caller to interpret.
struct Answer {
    method: &'static str,
    status: StatusCode,
    body: String,
}

/// An XRPC error body: `{"error": "<Name>", "message": "…"}`.
#[derive(Debug, Default, Deserialize)]
struct XrpcError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl Answer {
    fn ok(&self) -> bool {
        self.status.is_success()
    }

    fn error(&self) -> XrpcError {
        serde_json::from_str(&self.body).unwrap_or_default()
    }

    fn error_name(&self) -> Option<String> {
        self.error().error
    }

    /// The body as `T` after a success; the typed error otherwise. A
    /// success whose body cannot be read leaves the outcome `unclear` for
    /// creates.
    fn json<T: DeserializeOwned>(&self, repeat: Repeat) -> Result<T, PlatformError> {
        if !self.ok() {
            return Err(self.platform_error());
        }
        serde_json::from_str(&self.body).map_err(|e| {
            let msg = format!(
                "{}: unexpected answer ({e}): {}",
                self.method,
                short(&self.body)
            );
            match repeat {
                Repeat::Unsafe => PlatformError::unknown(msg),
                Repeat::Safe => PlatformError::unavailable(msg),
            }
        })
    }

    /// The error a failed answer stands for.
    fn platform_error(&self) -> PlatformError {
        let e = self.error();
        let name = e.error.as_deref().unwrap_or("");
        let detail = match (e.error.as_deref(), e.message.as_deref()) {
            (Some(n), Some(m)) => format!("{n}: {m}"),
            (Some(n), None) => n.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => format!("HTTP {}: {}", self.status, short(&self.body)),
        };
        let message = format!("{}: {}", self.method, short(&detail));
        match name {
            "ExpiredToken" => PlatformError::Auth {
                expired: true,
                message,
            },
            "AuthenticationRequired"
            | "InvalidToken"
            | "AccountTakedown"
            | "AccountDeactivated"
            | "AuthFactorTokenRequired"
            | "AuthMissing" => PlatformError::Auth {
                expired: false,
                message,
            },
            _ if self.status == StatusCode::UNAUTHORIZED => PlatformError::Auth {
                expired: false,
                message,
            },
            _ if self.status.is_client_error() => PlatformError::rejected(message),
            _ => PlatformError::unavailable(message),
        }
    }

    /// Whether this answer says the access token needs renewing.
    fn token_problem(&self) -> Option<bool> {
        if !matches!(self.status.as_u16(), 400 | 401) {
            return None;
        }
        match self.error_name().as_deref() {
            Some("ExpiredToken") => Some(true),
            Some("InvalidToken" | "AuthenticationRequired") => Some(false),
            _ => None,
        }
    }
}

/// `com.atproto.repo.getRecord` and `createRecord` answers.
#[derive(Deserialize)]
struct RecordOut {
    uri: String,
    #[serde(default)]
    cid: Option<String>,
    #[serde(default)]
    value: serde_json::Value,
}

#[derive(Deserialize)]
struct Created {
    uri: String,
    cid: String,
}

#[derive(Deserialize)]
struct Resolved {
    did: String,
}

#[derive(Deserialize)]
struct Uploaded {
    blob: BlobRef,
}

impl Bluesky {
    /// The client for `account`: needs its handle; the app password (from
    /// the context) only when something is sent.
    pub fn new(account: &Account, ctx: Context) -> Result<Self, PlatformError> {
        let handle = account
            .handle
            .as_deref()
            .map(|h| h.trim().trim_start_matches('@'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                PlatformError::config(format!(
                    "account `{}` has no `handle`: write handle = \"alice.bsky.social\" under [accounts.{}]",
                    account.name, account.name
                ))
            })?
            .to_string();
        let service = account
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_SERVICE)
            .trim_end_matches('/')
            .to_string();
        match reqwest::Url::parse(&service) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {}
            _ => {
                return Err(PlatformError::config(format!(
                    "account `{}`: service `{service}` is not an http(s) URL",
                    account.name
                )));
            }
        }
        Ok(Bluesky {
            http: ctx.http,
            account: account.name.clone(),
            handle,
            service,
            password: ctx.secret,
            memo: ctx.memo,
            timeout: None,
            session: tokio::sync::Mutex::new(None),
        })
    }

    fn url(&self, method: &str) -> String {
        format!("{}/xrpc/{method}", self.service)
    }

    fn limit(&self, b: RequestBuilder) -> RequestBuilder {
        match self.timeout {
            Some(t) => b.timeout(t),
            None => b,
        }
    }

    fn seal_key(&self) -> Option<SealKey> {
        self.password
            .as_ref()
            .map(|p| SealKey::derive(p.expose(), &self.service, &self.account, &self.handle))
    }

    fn stored_session(&self) -> Option<Session> {
        let memo = self.memo.as_ref()?;
        let bytes = memo
            .get(&session::store_key(&self.account))
            .ok()
            .flatten()?;
        self.seal_key()?.open(&bytes)
    }

    /// Keeps `s` for the next run. A store that cannot take it only costs a
    /// login next time.
    fn keep_session(&self, s: &Session) {
        if let (Some(memo), Some(key)) = (&self.memo, self.seal_key())
            && let Some(sealed) = key.seal(s)
        {
            let _ = memo.put(&session::store_key(&self.account), &sealed);
        }
    }

    /// The session in use: in memory, else from the store, else a login.
    async fn current(&self) -> Result<Session, PlatformError> {
        let mut live = self.session.lock().await;
        if let Some(l) = live.as_ref() {
            return Ok(l.session.clone());
        }
        if let Some(s) = self.stored_session() {
            *live = Some(Live {
                session: s.clone(),
                fresh: false,
            });
            return Ok(s);
        }
        let s = self.create_session().await?;
        self.keep_session(&s);
        *live = Some(Live {
            session: s.clone(),
            fresh: true,
        });
        Ok(s)
    }

    /// Renews the session after its access token was refused: refresh when
    /// it expired (log in again if that fails), log in again when a stored
    /// token is invalid. Returns whether there is a new token to try.
    async fn renew(&self, stale: &Session, expired: bool) -> Result<bool, PlatformError> {
        let mut live = self.session.lock().await;
        let fresh = match live.as_ref() {
            // Another request renewed it meanwhile.
            Some(l) if l.session.access_jwt != stale.access_jwt => return Ok(true),
            Some(l) => l.fresh,
            None => false,
        };
        let s = if expired {
            match self.refresh_session(stale).await {
                Ok(s) => s,
                Err(
                    e @ (PlatformError::RateLimited { .. } | PlatformError::Unavailable { .. }),
                ) => {
                    return Err(e);
                }
                Err(_) => self.create_session().await?,
            }
        } else if !fresh {
            self.create_session().await?
        } else {
            return Ok(false);
        };
        self.keep_session(&s);
        *live = Some(Live {
            session: s,
            fresh: true,
        });
        Ok(true)
    }

    /// `com.atproto.server.createSession` with the app password.
    async fn create_session(&self) -> Result<Session, PlatformError> {
        let password = self.password.as_ref().ok_or_else(|| {
            PlatformError::config(format!(
                "no app password for account `{}`: set {} (create one under Settings → Privacy and security → App passwords)",
                self.account,
                crate::credentials::env_var(&self.account)
            ))
        })?;
        let url = self.url("com.atproto.server.createSession");
        let body = serde_json::json!({
            "identifier": self.handle,
            "password": password.expose(),
        });
        let resp = self
            .http
            .send_in(
                &self.account,
                bucket("com.atproto.server.createSession"),
                Repeat::Safe,
                |c| self.limit(c.post(&url).json(&body)),
            )
            .await?;
        let answer = self
            .answer("com.atproto.server.createSession", resp, Repeat::Safe)
            .await?;
        if !answer.ok() {
            return Err(match answer.platform_error() {
                PlatformError::Auth { message, .. } => PlatformError::Auth {
                    expired: false,
                    message: format!(
                        "Bluesky refused the app password of @{} ({message})",
                        self.handle
                    ),
                },
                e => e,
            });
        }
        answer.json(Repeat::Safe)
    }

    /// `com.atproto.server.refreshSession` with the refresh token.
    async fn refresh_session(&self, stale: &Session) -> Result<Session, PlatformError> {
        let url = self.url("com.atproto.server.refreshSession");
        // A refresh rotates the token: never sent twice blindly.
        let resp = self
            .http
            .send(&self.account, Repeat::Unsafe, |c| {
                self.limit(c.post(&url).bearer_auth(&stale.refresh_jwt))
            })
            .await?;
        let answer = self
            .answer("com.atproto.server.refreshSession", resp, Repeat::Unsafe)
            .await?;
        let mut s: Session = answer.json(Repeat::Unsafe)?;
        if s.handle.is_empty() {
            s.handle = stale.handle.clone();
        }
        Ok(s)
    }

    async fn answer(
        &self,
        method: &'static str,
        resp: reqwest::Response,
        repeat: Repeat,
    ) -> Result<Answer, PlatformError> {
        let status = resp.status();
        match resp.text().await {
            Ok(body) => Ok(Answer {
                method,
                status,
                body,
            }),
            Err(e) => {
                let msg = format!("{method}: the answer broke off: {e}");
                Err(if repeat == Repeat::Unsafe && status.is_success() {
                    PlatformError::unknown(msg)
                } else {
                    PlatformError::unavailable(msg)
                })
            }
        }
    }

    /// Sends an authenticated request (`build` gets the client and the
    /// access token), renewing the session once when the token is refused.
    async fn call(
        &self,
        method: &'static str,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client, &str) -> RequestBuilder,
    ) -> Result<Answer, PlatformError> {
        let mut renewed = false;
        loop {
            let s = self.current().await?;
            let resp = self
                .http
                .send_in(&self.account, bucket(method), repeat, |c| {
                    self.limit(build(c, &s.access_jwt))
                })
                .await?;
            let answer = self.answer(method, resp, repeat).await?;
            if !renewed
                && let Some(expired) = answer.token_problem()
                && self.renew(&s, expired).await?
            {
                renewed = true;
                continue;
            }
            return Ok(answer);
        }
    }

    /// The record at `repo`/`collection`/`rkey`, or `None` when there is none.
    async fn get_record(
        &self,
        repo: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<Option<RecordOut>, PlatformError> {
        const METHOD: &str = "com.atproto.repo.getRecord";
        let url = self.url(METHOD);
        let answer = self
            .call(METHOD, Repeat::Safe, |c, token| {
                c.get(&url)
                    .query(&[("repo", repo), ("collection", collection), ("rkey", rkey)])
                    .bearer_auth(token)
            })
            .await?;
        if !answer.ok() && answer.error_name().as_deref() == Some("RecordNotFound") {
            return Ok(None);
        }
        answer.json(Repeat::Safe).map(Some)
    }

    /// Our post at `rkey`, as a published part, if it exists.
    async fn find_post(
        &self,
        did: &str,
        rkey: &str,
    ) -> Result<Option<PublishedPart>, PlatformError> {
        Ok(self
            .get_record(did, POST_COLLECTION, rkey)
            .await?
            .map(|r| self.published(r.uri, r.cid, rkey)))
    }

    fn published(&self, uri: String, cid: Option<String>, rkey: &str) -> PublishedPart {
        PublishedPart {
            id: uri,
            url: Some(format!(
                "https://bsky.app/profile/{}/post/{rkey}",
                self.handle
            )),
            cid,
        }
    }

    /// The DID of `handle`; `None` when the PDS cannot resolve it.
    async fn resolve_handle(&self, handle: &str) -> Result<Option<String>, PlatformError> {
        const METHOD: &str = "com.atproto.identity.resolveHandle";
        let url = self.url(METHOD);
        let answer = self
            .call(METHOD, Repeat::Safe, |c, token| {
                c.get(&url).query(&[("handle", handle)]).bearer_auth(token)
            })
            .await?;
        if matches!(answer.status.as_u16(), 400 | 404) {
            return Ok(None);
        }
        let r: Resolved = answer.json(Repeat::Safe)?;
        Ok(Some(r.did))
    }

    /// `createRecord` once: never repeated by the HTTP layer.
    async fn create_record(&self, body: &serde_json::Value) -> Result<Created, PlatformError> {
        const METHOD: &str = "com.atproto.repo.createRecord";
        let url = self.url(METHOD);
        let answer = self
            .call(METHOD, Repeat::Unsafe, |c, token| {
                c.post(&url).json(body).bearer_auth(token)
            })
            .await?;
        answer.json(Repeat::Unsafe)
    }

    /// Creates the post at `rkey`, exactly once: after any failure that
    /// may have been applied (and after a refusal, which a PDS may give for a
    /// key it already holds), the key is read back first; found means posted.
    async fn create_post(
        &self,
        did: &str,
        rkey: &str,
        record: impl Fn() -> Result<serde_json::Value, PlatformError>,
    ) -> Result<PublishedPart, PlatformError> {
        let mut last = None;
        for attempt in 1..=CREATE_ATTEMPTS {
            let body = serde_json::json!({
                "repo": did,
                "collection": POST_COLLECTION,
                "rkey": rkey,
                "record": record()?,
            });
            let err = match self.create_record(&body).await {
                Ok(c) => return Ok(self.published(c.uri, Some(c.cid), rkey)),
                Err(
                    e @ (PlatformError::RateLimited { .. }
                    | PlatformError::Auth { .. }
                    | PlatformError::Config { .. }),
                ) => return Err(e),
                Err(e) => e,
            };
            match self.find_post(did, rkey).await {
                Ok(Some(found)) => return Ok(found),
                Ok(None) => {}
                Err(check) => {
                    return Err(match err {
                        PlatformError::Unknown { message } => PlatformError::unknown(format!(
                            "{message}; reading the record back failed too: {check}"
                        )),
                        e => e,
                    });
                }
            }
            if matches!(err, PlatformError::Rejected { .. }) {
                return Err(err);
            }
            last = Some(err);
            if attempt < CREATE_ATTEMPTS {
                tokio::time::sleep(self.http.backoff(attempt)).await;
            }
        }
        Err(last.unwrap_or_else(|| PlatformError::unknown("the post was not created")))
    }

    /// The strong ref of a published part, reading its CID when missing.
    async fn strong_ref_of(&self, part: &PublishedPart) -> Result<StrongRef, PlatformError> {
        if let Some(cid) = &part.cid {
            return Ok(StrongRef {
                uri: part.id.clone(),
                cid: cid.clone(),
            });
        }
        let (repo, coll, rkey) = record::parse_at_uri(&part.id)
            .ok_or_else(|| PlatformError::rejected(format!("`{}` is not an at:// URI", part.id)))?;
        let r = self.get_record(repo, coll, rkey).await?.ok_or_else(|| {
            PlatformError::rejected(format!("the post {} no longer exists", part.id))
        })?;
        let cid = r.cid.ok_or_else(|| {
            PlatformError::unavailable(format!("the PDS gave no CID for {}", part.id))
        })?;
        Ok(StrongRef { uri: r.uri, cid })
    }

    /// The root and parent for a first part replying to `target`: the
    /// target is the parent; the root is the target's own root, if it is a
    /// reply itself.
    async fn reply_refs(&self, target: &ReplyTo) -> Result<ReplyRefs, PlatformError> {
        let (repo, rkey) = match target {
            ReplyTo::Part(p) => record::parse_at_uri(&p.id)
                .map(|(repo, _, rkey)| (repo.to_string(), rkey.to_string()))
                .ok_or_else(|| {
                    PlatformError::rejected(format!("`{}` is not an at:// URI", p.id))
                })?,
            ReplyTo::Url(u) => record::parse_post_link(u).ok_or_else(|| {
                PlatformError::rejected(format!(
                    "reply_to `{u}` is not a Bluesky post (https://bsky.app/profile/<handle>/post/<id> or at://…)"
                ))
            })?,
        };
        let did = if repo.starts_with("did:") {
            repo
        } else {
            self.resolve_handle(&repo).await?.ok_or_else(|| {
                PlatformError::rejected(format!("reply_to: cannot resolve the handle @{repo}"))
            })?
        };
        let r = self
            .get_record(&did, POST_COLLECTION, &rkey)
            .await?
            .ok_or_else(|| {
                PlatformError::rejected(format!(
                    "reply_to: the post at://{did}/{POST_COLLECTION}/{rkey} does not exist"
                ))
            })?;
        let cid = r.cid.clone().ok_or_else(|| {
            PlatformError::unavailable(format!("the PDS gave no CID for {}", r.uri))
        })?;
        let parent = StrongRef {
            uri: r.uri.clone(),
            cid,
        };
        let root = r
            .value
            .get("reply")
            .and_then(|rep| rep.get("root"))
            .and_then(|root| {
                Some(StrongRef {
                    uri: root.get("uri")?.as_str()?.to_string(),
                    cid: root.get("cid")?.as_str()?.to_string(),
                })
            })
            .unwrap_or_else(|| parent.clone());
        Ok(ReplyRefs { root, parent })
    }

    /// Uploads the images of the first part (sizes checked before).
    async fn upload_images(&self, media: &[MediaInfo]) -> Result<Vec<EmbedImage>, PlatformError> {
        const METHOD: &str = "com.atproto.repo.uploadBlob";
        let url = self.url(METHOD);
        let mut out = Vec::new();
        for m in media {
            let bytes = tokio::fs::read(&m.resolved).await.map_err(|e| {
                PlatformError::rejected(format!("cannot read {}: {e}", m.resolved.display()))
            })?;
            check_image_size(m, bytes.len() as u64)?;
            let size = imagesize::blob_size(&bytes)
                .ok()
                .map(|s| (s.width as u64, s.height as u64))
                .filter(|(w, h)| *w > 0 && *h > 0);
            // Blobs are addressed by content: uploading again is harmless.
            let answer = self
                .call(METHOD, Repeat::Safe, |c, token| {
                    c.post(&url)
                        .header(reqwest::header::CONTENT_TYPE, m.mime)
                        .body(bytes.clone())
                        .bearer_auth(token)
                })
                .await?;
            let up: Uploaded = answer.json(Repeat::Safe)?;
            out.push(EmbedImage {
                blob: up.blob,
                alt: m.alt.clone().unwrap_or_default(),
                size,
            });
        }
        Ok(out)
    }

    /// The facets of `text`, resolving mentions through the PDS (cached per
    /// publish; unresolvable handles get no facet).
    async fn facets_of(
        &self,
        text: &crate::render::RichText,
        dids: &mut HashMap<String, Option<String>>,
    ) -> Result<Vec<atrium_api::app::bsky::richtext::facet::Main>, PlatformError> {
        for handle in text.mentions() {
            let handle = handle.trim_start_matches('@');
            if !dids.contains_key(handle) {
                let did = self.resolve_handle(handle).await?;
                dids.insert(handle.to_string(), did);
            }
        }
        Ok(record::facets(text, |h| dids.get(h).cloned().flatten()))
    }

    fn part_key(&self, job: &Job<'_>, index: usize) -> String {
        record_key(
            &job.post.id,
            &self.account,
            index,
            key_time(job.scheduled, job.first_claimed),
        )
    }
}

/// Refuses media the client cannot post, before anything is sent.
/// The rate-limit bucket of an XRPC method, as a PDS counts them: logins
/// (`createSession`: 30 per 5 minutes, 300 per day per account), blob
/// uploads, and repo writes (points per hour and per day, shared by every
/// record create, update and delete); reads and the rest share the general
/// limit. One used-up bucket must not hold back the others.
pub(crate) fn bucket(method: &str) -> &'static str {
    match method {
        "com.atproto.server.createSession" => "createSession",
        "com.atproto.repo.uploadBlob" => "uploadBlob",
        "com.atproto.repo.createRecord"
        | "com.atproto.repo.putRecord"
        | "com.atproto.repo.deleteRecord"
        | "com.atproto.repo.applyWrites" => "repo writes",
        _ => super::http::GENERAL,
    }
}

fn check_media(media: &[MediaInfo]) -> Result<(), PlatformError> {
    if media.len() > MAX_IMAGES {
        return Err(PlatformError::rejected(format!(
            "Bluesky takes at most {MAX_IMAGES} images per post, not {}",
            media.len()
        )));
    }
    for m in media {
        if m.kind == MediaKind::Video {
            return Err(PlatformError::rejected(format!(
                "{}: videos cannot be posted to Bluesky by this version of social",
                m.path
            )));
        }
        check_image_size(m, m.bytes)?;
    }
    Ok(())
}

fn check_image_size(m: &MediaInfo, bytes: u64) -> Result<(), PlatformError> {
    if bytes > MAX_IMAGE_BYTES {
        return Err(PlatformError::rejected(format!(
            "{} is {bytes} bytes; Bluesky takes images up to {MAX_IMAGE_BYTES} bytes",
            m.path
        )));
    }
    Ok(())
}

fn record_error(e: String) -> PlatformError {
    PlatformError::unavailable(e)
}

#[async_trait::async_trait]
impl Platform for Bluesky {
    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        let parts = &job.rendered.parts;
        let start = job.done.len();
        if start >= parts.len() {
            return Ok(());
        }
        if start == 0 {
            check_media(job.media)?;
        }
        let did = self.current().await?.did;

        let mut root = None;
        let mut parent = None;
        if let Some(target) = &job.reply_to {
            let refs = self.reply_refs(target).await?;
            root = Some(refs.root);
            parent = Some(refs.parent);
        }
        if let (Some(first), Some(last)) = (job.done.first(), job.done.last()) {
            if root.is_none() {
                root = Some(self.strong_ref_of(first).await?);
            }
            parent = Some(self.strong_ref_of(last).await?);
        }

        let langs = record::langs(&job.post.lang);
        let mut dids = HashMap::new();
        for (index, part) in parts.iter().enumerate().skip(start) {
            let rkey = self.part_key(job, index);
            let images = if index == 0 {
                self.upload_images(job.media).await?
            } else {
                Vec::new()
            };
            let facets = self.facets_of(&part.text, &mut dids).await?;
            let reply = match (&root, &parent) {
                (Some(root), Some(parent)) => Some(ReplyRefs {
                    root: root.clone(),
                    parent: parent.clone(),
                }),
                _ => None,
            };
            let published = self
                .create_post(&did, &rkey, || {
                    PostRecord {
                        text: &part.text.text,
                        facets: facets.clone(),
                        langs: langs.clone(),
                        reply: reply.clone(),
                        images: images.clone(),
                        // The moment of sending, not the schedule.
                        created_at: crate::clock::now(),
                    }
                    .to_json()
                    .map_err(record_error)
                })
                .await?;
            let this = StrongRef {
                uri: published.id.clone(),
                cid: published.cid.clone().unwrap_or_default(),
            };
            sink.part(index, published)?;
            if root.is_none() {
                root = Some(this.clone());
            }
            parent = Some(this);
        }
        Ok(())
    }

    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        let did = self.current().await?.did;
        let mut found = Vec::new();
        for index in 0..job.rendered.parts.len() {
            match self.find_post(&did, &self.part_key(job, index)).await? {
                Some(p) => found.push(p),
                None => break,
            }
        }
        Ok(found)
    }

    fn dry_run(&self, job: &Job<'_>) -> Vec<serde_json::Value> {
        let parts = &job.rendered.parts;
        let start = job.done.len().min(parts.len());
        let repo = &self.handle;
        let uri_of = |index: usize| {
            format!(
                "at://{repo}/{POST_COLLECTION}/{}",
                self.part_key(job, index)
            )
        };
        let placeholder = |uri: String| StrongRef {
            uri,
            cid: PLACEHOLDER_CID.to_string(),
        };
        let known = |p: &PublishedPart| StrongRef {
            uri: p.id.clone(),
            cid: p.cid.clone().unwrap_or_else(|| PLACEHOLDER_CID.to_string()),
        };
        let target = job.reply_to.as_ref().map(|t| {
            let uri = match t {
                ReplyTo::Part(p) => p.id.clone(),
                ReplyTo::Url(u) => record::parse_post_link(u)
                    .map(|(actor, rkey)| format!("at://{actor}/{POST_COLLECTION}/{rkey}"))
                    .unwrap_or_else(|| u.clone()),
            };
            placeholder(uri)
        });
        let images: Vec<EmbedImage> = job
            .media
            .iter()
            .map(|m| EmbedImage {
                blob: BlobRef::Typed(TypedBlobRef::Blob(atrium_api::types::Blob {
                    r#ref: CidLink::try_from(PLACEHOLDER_CID).expect("placeholder CID"),
                    mime_type: m.mime.to_string(),
                    size: m.bytes as usize,
                })),
                alt: m.alt.clone().unwrap_or_default(),
                size: std::fs::read(&m.resolved)
                    .ok()
                    .and_then(|b| imagesize::blob_size(&b).ok())
                    .map(|s| (s.width as u64, s.height as u64)),
            })
            .collect();
        let langs = record::langs(&job.post.lang);
        let now = crate::clock::now();
        let mut out = Vec::new();
        for (index, part) in parts.iter().enumerate().skip(start) {
            let root = target.clone().or_else(|| match index {
                0 => None,
                _ => Some(
                    job.done
                        .first()
                        .map(known)
                        .unwrap_or_else(|| placeholder(uri_of(0))),
                ),
            });
            let parent = match index {
                0 => target.clone(),
                i => Some(
                    job.done
                        .get(i - 1)
                        .map(known)
                        .unwrap_or_else(|| placeholder(uri_of(i - 1))),
                ),
            };
            let reply = match (root, parent) {
                (Some(root), Some(parent)) => Some(ReplyRefs { root, parent }),
                _ => None,
            };
            let facets = record::facets(&part.text, |h| Some(format!("{PLACEHOLDER_DID}{h}")));
            let record = PostRecord {
                text: &part.text.text,
                facets,
                langs: langs.clone(),
                reply,
                images: if index == 0 {
                    images.clone()
                } else {
                    Vec::new()
                },
                created_at: now,
            }
            .to_json()
            .unwrap_or_else(|e| serde_json::json!({ "error": e }));
            let mut body = serde_json::json!({
                "repo": repo,
                "collection": POST_COLLECTION,
                "rkey": self.part_key(job, index),
                "record": record,
            });
            fill_placeholders(&mut body);
            out.push(body);
        }
        out
    }
}

/// Replaces dry-run stand-ins by words saying what the real request carries.
fn fill_placeholders(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if s == PLACEHOLDER_CID {
                *s = "(known after sending)".to_string();
            } else if let Some(handle) = s.strip_prefix(PLACEHOLDER_DID) {
                *s = format!("(DID of @{handle}, resolved when sending)");
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(fill_placeholders),
        serde_json::Value::Object(o) => o.values_mut().for_each(fill_placeholders),
        _ => {}
    }
}
