//! The Bluesky (AT Protocol) client: app-password sessions kept sealed in the
//! state store, `app.bsky.feed.post` records with facets, images and reply
//! refs, and exactly-once creates through deterministic record keys that are
//! read back before any retry.
//!
//! Publishing is a [`Plan`]: logging in (when no session is kept), the
//! lookups a record needs (the post replied to, the CID of a part published
//! before, the DID of each mentioned handle), one `uploadBlob` per image and
//! one `createRecord` per part, with the account's DID, the blob refs and the
//! reply refs filled in from earlier answers; `--dry-run` prints that plan.
//! What no request can say in advance stays in [`Steps::send`]: the app
//! password and the access token, renewing the session when the PDS refuses
//! the token, the moment of sending as `createdAt`, and reading a record key
//! back after a create that failed or whose outcome is unclear.
//!
//! Deleting and (with `--force`) editing published posts are plans as well,
//! run by [`plan::run_changes`] (the `change` module).
//!
//! Every request goes through the shared [`Http`] layer, every answer is
//! read through [`wire`] with the XRPC [`Dialect`]; atrium-api supplies the
//! record types.

pub mod account;
mod change;
mod record;
mod session;
mod tid;

#[cfg(test)]
mod pds_tests;
#[cfg(test)]
mod tests;

pub use tid::{key_time, record_key};

use super::http::{Http, Repeat, short};
use super::plan::{self, Body, FileRef, Method, Plan, Progress, Request, Role, Slot, Step, Steps};
use super::wire::{self, Effect};
use super::{
    Context, DoneSink, EditMode, Job, Memo, PartSink, Platform, PlatformError, Recorded, ReplyTo,
};
use crate::config::Account;
use crate::credentials::Secret;
use crate::model::{MediaInfo, MediaKind, PublishedPart};
use crate::render::Part;
use atrium_api::types::{BlobRef, CidLink, TypedBlobRef};
use record::{EmbedImage, POST_COLLECTION, PostRecord};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};
use session::{SealKey, Session};
use std::sync::Mutex;
use std::time::Duration;

/// The PDS when an account names none.
pub const DEFAULT_SERVICE: &str = "https://bsky.social";

/// Largest image the PDS accepts for a post, in bytes.
pub const MAX_IMAGE_BYTES: u64 = 2_000_000;

/// Most images on one post.
const MAX_IMAGES: usize = 4;

/// Creates of one part before giving up (each after reading the key back).
const CREATE_ATTEMPTS: u32 = 3;

// The XRPC methods the client calls.
const CREATE_SESSION: &str = "com.atproto.server.createSession";
const REFRESH_SESSION: &str = "com.atproto.server.refreshSession";
const RESOLVE_HANDLE: &str = "com.atproto.identity.resolveHandle";
const GET_RECORD: &str = "com.atproto.repo.getRecord";
const UPLOAD_BLOB: &str = "com.atproto.repo.uploadBlob";
const CREATE_RECORD: &str = "com.atproto.repo.createRecord";
const DELETE_RECORD: &str = "com.atproto.repo.deleteRecord";
const PUT_RECORD: &str = "com.atproto.repo.putRecord";

// Lookups whose "not there" is a refusal of the post rather than a missing
// link: `send` tells them apart by these descriptions.
const READ_REPLY_HANDLE: &str = "resolving the handle of the post replied to";
const READ_REPLY_POST: &str = "reading the post replied to";

/// Stands in for a blob ref while a record is built with atrium's types; the
/// plan puts `null` there, which the upload's answer fills.
const PLACEHOLDER_CID: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
/// DID method standing in for mentions while a record is built; the plan
/// puts `null` there, which the handle's resolution fills.
const PLACEHOLDER_DID: &str = "did:socialplan:";
/// A facet feature that mentions an account.
const MENTION: &str = "app.bsky.richtext.facet#mention";

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

/// An XRPC error body: `{"error": "<Name>", "message": "…"}`.
#[derive(Debug, Default, Deserialize)]
struct XrpcError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl XrpcError {
    fn of(body: &str) -> XrpcError {
        serde_json::from_str(body).unwrap_or_default()
    }
}

/// How a PDS explains and classifies its refusals: XRPC error bodies
/// (`{"error": "<Name>", "message": "…"}`); `ExpiredToken` is an access
/// token to refresh, `InvalidToken` and the account states an auth error, a
/// payload or blob over the limit a refusal that says the limit.
///
/// One is made per request: it remembers the status and error name of the
/// refusal it read, which tell the caller whether renewing the session can
/// help and whether a record or handle is simply not there
/// (`RecordNotFound`).
#[derive(Default)]
struct Dialect {
    seen: Mutex<Option<(StatusCode, Option<String>)>>,
    /// The message of the refusal read last.
    said: Mutex<Option<String>>,
}

impl Dialect {
    /// The status and error name of the refusal read last.
    fn refusal(&self) -> Option<(StatusCode, Option<String>)> {
        self.seen.lock().ok().and_then(|s| s.clone())
    }

    fn name(&self) -> Option<String> {
        self.refusal().and_then(|(_, name)| name)
    }

    fn clear(&self) {
        if let Ok(mut s) = self.seen.lock() {
            *s = None;
        }
        if let Ok(mut s) = self.said.lock() {
            *s = None;
        }
    }

    /// Whether the refusal says the record is not there: 404 or 410, a
    /// `RecordNotFound`, or a PDS's `InvalidRequest` "Could not locate record".
    fn not_there(&self) -> bool {
        let Some((status, name)) = self.refusal() else {
            return false;
        };
        let said = self.said.lock().ok().and_then(|s| s.clone());
        matches!(status.as_u16(), 404 | 410)
            || name.as_deref() == Some("RecordNotFound")
            || said.is_some_and(|m| m.contains("Could not locate record"))
    }

    /// Whether the refusal asks for a new access token: `Some(true)` when
    /// it expired (refresh), `Some(false)` when it is invalid (log in again).
    fn renewal(&self) -> Option<bool> {
        let (status, name) = self.refusal()?;
        if !matches!(status.as_u16(), 400 | 401) {
            return None;
        }
        match name.as_deref() {
            Some("ExpiredToken") => Some(true),
            Some("InvalidToken" | "AuthenticationRequired") => Some(false),
            _ => None,
        }
    }
}

impl wire::Dialect for Dialect {
    fn message(&self, body: &str) -> String {
        let e = XrpcError::of(body);
        match (e.error, e.message) {
            (Some(n), Some(m)) => short(&format!("{n}: {m}")),
            (Some(n), None) => short(&n),
            (None, Some(m)) => short(&m),
            (None, None) => wire::message(body),
        }
    }

    fn error(
        &self,
        status: StatusCode,
        _: &HeaderMap,
        body: &str,
        what: &str,
        _: Effect,
    ) -> PlatformError {
        let e = XrpcError::of(body);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((status, e.error.clone()));
        }
        if let Ok(mut said) = self.said.lock() {
            *said = e.message.clone();
        }
        let message = format!("{what}: HTTP {status}: {}", self.message(body));
        let too_big = status == StatusCode::PAYLOAD_TOO_LARGE
            || e.error.as_deref() == Some("PayloadTooLarge")
            || e.message
                .as_deref()
                .is_some_and(|m| m.contains("blob too big"));
        match e.error.as_deref() {
            Some("ExpiredToken") => PlatformError::Auth {
                expired: true,
                message,
            },
            Some(
                "AuthenticationRequired"
                | "InvalidToken"
                | "AccountTakedown"
                | "AccountDeactivated"
                | "AuthFactorTokenRequired"
                | "AuthMissing",
            ) => PlatformError::Auth {
                expired: false,
                message,
            },
            _ if too_big => PlatformError::rejected(format!(
                "{message} (more than the PDS takes; Bluesky takes images up to {MAX_IMAGE_BYTES} bytes)"
            )),
            _ => wire::status_error(status, message, false),
        }
    }
}

/// `com.atproto.repo.getRecord` answers.
#[derive(Deserialize)]
struct RecordOut {
    uri: String,
    #[serde(default)]
    cid: Option<String>,
    #[serde(default)]
    value: Value,
}

/// `com.atproto.repo.createRecord` answers.
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

/// A record a post points at (the root or parent of a reply): known when
/// the plan is made, or in the answer of an earlier step, where `at` is the
/// pointer to the `{uri, cid}` (`""` for the answer itself).
#[derive(Clone)]
enum Ref {
    Known {
        uri: String,
        cid: String,
    },
    From {
        step: usize,
        at: &'static str,
        name: String,
    },
}

/// The XRPC method a request calls: the end of its URL.
fn nsid(url: &str) -> &str {
    url.rsplit_once("/xrpc/").map(|(_, m)| m).unwrap_or(url)
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

    /// A request to XRPC method `nsid`, counted in its rate-limit bucket.
    fn xrpc(&self, method: Method, nsid: &'static str) -> Request {
        Request::new(method, format!("{}/xrpc/{nsid}", self.service)).bucket(bucket(nsid))
    }

    fn limit(&self, b: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
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

    /// The session known without a request, for planning: in memory, else
    /// from the store.
    fn known_session(&self) -> Option<Session> {
        if let Ok(live) = self.session.try_lock()
            && let Some(l) = live.as_ref()
        {
            return Some(l.session.clone());
        }
        self.stored_session()
    }

    /// What logging in is described as.
    fn login_what(&self) -> String {
        format!("logging in as @{}", self.handle)
    }

    /// `com.atproto.server.createSession` for the account's handle; the app
    /// password is added when it is sent, so that a plan can be printed.
    fn login_request(&self) -> Request {
        self.xrpc(Method::Post, CREATE_SESSION)
            .json(json!({ "identifier": self.handle }))
    }

    /// The session in use: in memory, else from the store, else a login.
    async fn current(&self) -> Result<Session, PlatformError> {
        self.current_or(self.login_request()).await
    }

    /// [`Bluesky::current`], logging in with `login` when there is no session.
    async fn current_or(&self, login: Request) -> Result<Session, PlatformError> {
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
        let s = self.create_session(login).await?;
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
                Err(_) => self.create_session(self.login_request()).await?,
            }
        } else if !fresh {
            self.create_session(self.login_request()).await?
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

    /// Sends `login` (`createSession`) with the app password added.
    async fn create_session(&self, mut login: Request) -> Result<Session, PlatformError> {
        let password = self.password.as_ref().ok_or_else(|| {
            PlatformError::config(format!(
                "no app password for account `{}`: set {} (create one under Settings → Privacy and security → App passwords)",
                self.account,
                crate::credentials::env_var(&self.account)
            ))
        })?;
        if let Body::Json(body) = &mut login.body {
            body["password"] = json!(password.expose());
        }
        let what = self.login_what();
        let loaded = login.load().await?;
        let resp = loaded
            .send(&self.http, &self.account, |b| self.limit(b))
            .await?;
        match wire::read(resp, &what, Effect::Read, &Dialect::default()).await {
            Err(PlatformError::Auth { message, .. }) => Err(PlatformError::Auth {
                expired: false,
                message: format!(
                    "Bluesky refused the app password of @{} ({message})",
                    self.handle
                ),
            }),
            answer => answer?.json(&what, Effect::Read),
        }
    }

    /// `com.atproto.server.refreshSession` with the refresh token.
    async fn refresh_session(&self, stale: &Session) -> Result<Session, PlatformError> {
        const WHAT: &str = "refreshing the session";
        // A refresh rotates the token: never sent twice blindly.
        let loaded = self
            .xrpc(Method::Post, REFRESH_SESSION)
            .repeat(Repeat::Unsafe)
            .load()
            .await?;
        let resp = loaded
            .send(&self.http, &self.account, |b| {
                self.limit(b).bearer_auth(&stale.refresh_jwt)
            })
            .await?;
        let mut s: Session =
            wire::read_json(resp, WHAT, Effect::Create, &Dialect::default()).await?;
        if s.handle.is_empty() {
            s.handle = stale.handle.clone();
        }
        Ok(s)
    }

    /// Sends `request` with the access token and reads the answer through
    /// `dialect`, renewing the session once when the token is refused.
    async fn exchange(
        &self,
        request: Request,
        what: &str,
        effect: Effect,
        dialect: &Dialect,
    ) -> Result<wire::Answer, PlatformError> {
        let loaded = request.load().await?;
        let mut renewed = false;
        loop {
            let s = self.current().await?;
            dialect.clear();
            let resp = loaded
                .send(&self.http, &self.account, |b| {
                    self.limit(b).bearer_auth(&s.access_jwt)
                })
                .await?;
            let answer = wire::read(resp, what, effect, dialect).await;
            if answer.is_err()
                && !renewed
                && let Some(expired) = dialect.renewal()
                && self.renew(&s, expired).await?
            {
                renewed = true;
                continue;
            }
            return answer;
        }
    }

    /// `com.atproto.repo.getRecord` of `repo`/`collection`/`rkey`.
    fn record_request(&self, repo: &str, collection: &str, rkey: &str) -> Request {
        self.xrpc(Method::Get, GET_RECORD)
            .query("repo", repo)
            .query("collection", collection)
            .query("rkey", rkey)
    }

    /// The record at `repo`/`collection`/`rkey`, or `None` when there is none.
    async fn get_record(
        &self,
        repo: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<Option<RecordOut>, PlatformError> {
        let what = format!("reading the record {rkey} back");
        let dialect = Dialect::default();
        let request = self.record_request(repo, collection, rkey);
        match self.exchange(request, &what, Effect::Read, &dialect).await {
            Err(_) if dialect.name().as_deref() == Some("RecordNotFound") => Ok(None),
            answer => answer?.json(&what, Effect::Read).map(Some),
        }
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
            .map(|r| self.part(r.uri, r.cid, rkey)))
    }

    fn part(&self, uri: String, cid: Option<String>, rkey: &str) -> PublishedPart {
        PublishedPart {
            id: uri,
            url: Some(format!(
                "https://bsky.app/profile/{}/post/{rkey}",
                self.handle
            )),
            cid,
        }
    }

    fn part_key(&self, job: &Job<'_>, index: usize) -> String {
        // A post published again after a deletion (`retry --force`) gets
        // record keys of its own: its idempotency key ends in `-g<N>`.
        let id = match job.idempotency_key.rsplit_once("-g") {
            Some((_, n)) if n.parse::<u32>().is_ok_and(|n| n > 0) => {
                format!("{}#{n}", job.post.id)
            }
            _ => job.post.id.clone(),
        };
        record_key(
            &id,
            &self.account,
            index,
            key_time(job.scheduled, job.first_claimed),
        )
    }

    /// The requests that publish the parts of `job` after `job.done`:
    /// logging in (unless a session is kept), the lookups (the post replied
    /// to, CIDs of parts published before that the records point at, the
    /// DID of each mentioned handle), one upload per image of the first
    /// part, and one `createRecord` per part at its record key.
    fn plan_job(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        let parts = &job.rendered.parts;
        let start = job.done.len();
        let mut plan = Plan::default();
        if start >= parts.len() {
            return Ok(plan);
        }
        if start == 0 {
            check_media(job.media)?;
        }
        // The repo the records go into: the session's DID, known, or in the
        // answer of logging in.
        let (repo, login) = match self.known_session() {
            Some(s) => (Value::String(s.did), None),
            None => {
                let at = plan.push(Step::new(
                    self.login_what(),
                    Role::Lookup,
                    self.login_request(),
                ));
                (Value::Null, Some(at))
            }
        };

        // Where the first new part hangs: under the post replied to (and in
        // its thread), or under the parts published before.
        let target = match &job.reply_to {
            Some(t) => Some(self.plan_reply_target(&mut plan, t)?),
            None => None,
        };
        let mut root = target.map(|step| Ref::From {
            step,
            at: "/root",
            name: "the thread replied to".into(),
        });
        let mut parent = target.map(|step| Ref::From {
            step,
            at: "",
            name: "the post replied to".into(),
        });
        if start > 0 {
            let last = self.plan_done_ref(&mut plan, &job.done[start - 1], start - 1)?;
            if root.is_none() {
                root = Some(match start {
                    1 => last.clone(),
                    _ => self.plan_done_ref(&mut plan, &job.done[0], 0)?,
                });
            }
            parent = Some(last);
        }

        let mentions = self.plan_mentions(&mut plan, parts.iter().skip(start));

        // Blobs are addressed by content: uploading again is harmless.
        let mut uploads = Vec::new();
        let mut images = Vec::new();
        if start == 0 {
            for (n, m) in job.media.iter().enumerate() {
                let mut upload = self.xrpc(Method::Post, UPLOAD_BLOB);
                upload.body = Body::File(FileRef {
                    path: m.resolved.clone(),
                    file_name: m
                        .resolved
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    content_type: m.mime.to_string(),
                    range: None,
                    size: m.bytes,
                });
                uploads.push(plan.push(Step::new(
                    format!("uploading {}", m.path),
                    Role::Media(n),
                    upload,
                )));
                images.push(EmbedImage {
                    blob: BlobRef::Typed(TypedBlobRef::Blob(atrium_api::types::Blob {
                        r#ref: CidLink::try_from(PLACEHOLDER_CID).expect("placeholder CID"),
                        mime_type: m.mime.to_string(),
                        size: m.bytes as usize,
                    })),
                    alt: m.alt.clone().unwrap_or_default(),
                    size: imagesize::size(&m.resolved)
                        .ok()
                        .map(|s| (s.width as u64, s.height as u64))
                        .filter(|(w, h)| *w > 0 && *h > 0),
                });
            }
        }

        let langs = record::langs(&job.post.lang);
        // `send` sets the moment of sending; the plan shows when it was made.
        let now = crate::clock::now();
        let total = parts.len();
        for (i, part) in parts.iter().enumerate().skip(start) {
            let mut record = planned_record(
                part,
                langs.clone(),
                if i == 0 { images.clone() } else { Vec::new() },
                now,
            )?;
            let mut fills: Vec<BodyFill> = Vec::new();
            if let (Some(root), Some(parent)) = (&root, &parent) {
                let mut reply = json!({});
                for (key, r) in [("root", root), ("parent", parent)] {
                    match r {
                        Ref::Known { uri, cid } => reply[key] = json!({"uri": uri, "cid": cid}),
                        Ref::From { step, at, name } => {
                            reply[key] = json!({"uri": null, "cid": null});
                            for (field, what) in [("uri", "URI"), ("cid", "CID")] {
                                fills.push((
                                    format!("/record/reply/{key}/{field}"),
                                    *step,
                                    format!("{at}/{field}"),
                                    format!("{what} of {name}"),
                                    None,
                                ));
                            }
                        }
                    }
                }
                record["reply"] = reply;
            }
            if i == 0 {
                for (k, &at) in uploads.iter().enumerate() {
                    let slot = format!("/embed/images/{k}/image");
                    if let Some(v) = record.pointer_mut(&slot) {
                        *v = Value::Null;
                    }
                    fills.push((
                        format!("/record{slot}"),
                        at,
                        "/blob".into(),
                        format!("blob of upload {}", k + 1),
                        None,
                    ));
                }
            }
            fills.extend(mention_fills(&mut record, &mentions));
            let body = json!({
                "repo": repo,
                "collection": POST_COLLECTION,
                "rkey": self.part_key(job, i),
                "record": record,
            });
            let what = if total > 1 {
                format!("posting part {} of {total}", i + 1)
            } else {
                "posting".to_string()
            };
            // Never resent blindly: `send` reads the key back first.
            let mut step = Step::new(
                what,
                Role::Part(i),
                self.xrpc(Method::Post, CREATE_RECORD)
                    .json(body)
                    .repeat(Repeat::Unsafe),
            );
            if let Some(at) = login {
                step = step.fill(
                    Slot::Body("/repo".into()),
                    at,
                    "/did",
                    format!("DID of @{}", self.handle),
                );
            }
            for (into, at, pointer, label, drop) in fills {
                step = match drop {
                    Some(d) => step.fill_or_drop(Slot::Body(into), at, &pointer, label, &d),
                    None => step.fill(Slot::Body(into), at, &pointer, label),
                };
            }
            let at = plan.push(step);
            let this = Ref::From {
                step: at,
                at: "",
                name: format!("part {}", i + 1),
            };
            if root.is_none() {
                root = Some(this.clone());
            }
            parent = Some(this);
        }
        Ok(plan)
    }

    /// One resolution per handle mentioned in `parts`, each a lookup step;
    /// returns each handle with its step. A handle that does not resolve
    /// leaves its mention plain (see [`mention_fills`]).
    fn plan_mentions<'p>(
        &self,
        plan: &mut Plan,
        parts: impl Iterator<Item = &'p Part>,
    ) -> Vec<(String, usize)> {
        let mut mentions: Vec<(String, usize)> = Vec::new();
        for part in parts {
            for handle in part.text.mentions() {
                let handle = handle.trim_start_matches('@');
                if !mentions.iter().any(|(h, _)| h == handle) {
                    let at = plan.push(Step::new(
                        format!("resolving the mention @{handle}"),
                        Role::Lookup,
                        self.xrpc(Method::Get, RESOLVE_HANDLE)
                            .query("handle", handle),
                    ));
                    mentions.push((handle.to_string(), at));
                }
            }
        }
        mentions
    }

    /// The lookups of the post a first part replies to: its handle's DID
    /// (when the link names a handle), then the record, whose answer `send`
    /// gives as `{uri, cid, root: {uri, cid}}`. Returns the record's step.
    fn plan_reply_target(&self, plan: &mut Plan, target: &ReplyTo) -> Result<usize, PlatformError> {
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
        if repo.starts_with("did:") {
            return Ok(plan.push(Step::new(
                READ_REPLY_POST,
                Role::Lookup,
                self.record_request(&repo, POST_COLLECTION, &rkey),
            )));
        }
        let resolve = plan.push(Step::new(
            READ_REPLY_HANDLE,
            Role::Lookup,
            self.xrpc(Method::Get, RESOLVE_HANDLE)
                .query("handle", &repo),
        ));
        Ok(plan.push(
            Step::new(
                READ_REPLY_POST,
                Role::Lookup,
                self.record_request("", POST_COLLECTION, &rkey),
            )
            .fill(
                Slot::Query("repo".into()),
                resolve,
                "/did",
                format!("DID of @{repo}"),
            ),
        ))
    }

    /// A part published before as a record to point at: known when its CID
    /// is, else read from the PDS.
    fn plan_done_ref(
        &self,
        plan: &mut Plan,
        part: &PublishedPart,
        index: usize,
    ) -> Result<Ref, PlatformError> {
        if let Some(cid) = &part.cid {
            return Ok(Ref::Known {
                uri: part.id.clone(),
                cid: cid.clone(),
            });
        }
        let (repo, collection, rkey) = record::parse_at_uri(&part.id)
            .ok_or_else(|| PlatformError::rejected(format!("`{}` is not an at:// URI", part.id)))?;
        let step = plan.push(Step::new(
            format!("reading part {} (published before) for its CID", index + 1),
            Role::Lookup,
            self.record_request(repo, collection, rkey),
        ));
        Ok(Ref::From {
            step,
            at: "",
            name: format!("part {}", index + 1),
        })
    }

    /// A handle's DID as `{"did"}`; `{"did": null}` for a mention the PDS
    /// cannot resolve, a refusal for the post replied to.
    async fn send_resolve(&self, request: Request, what: &str) -> Result<Value, PlatformError> {
        let handle = query_value(&request, "handle");
        let dialect = Dialect::default();
        match self.exchange(request, what, Effect::Read, &dialect).await {
            Ok(answer) => {
                let r: Resolved = answer.json(what, Effect::Read)?;
                Ok(json!({ "did": r.did }))
            }
            Err(PlatformError::Rejected { .. })
                if dialect
                    .refusal()
                    .is_some_and(|(s, _)| matches!(s.as_u16(), 400 | 404)) =>
            {
                if what == READ_REPLY_HANDLE {
                    Err(PlatformError::rejected(format!(
                        "reply_to: cannot resolve the handle @{handle}"
                    )))
                } else {
                    Ok(json!({ "did": null }))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A record read for its strong ref: `{uri, cid, root}`, the root the
    /// record's own thread root when it is a reply, else the record.
    async fn send_get_record(&self, request: Request, what: &str) -> Result<Value, PlatformError> {
        let uri = format!(
            "at://{}/{}/{}",
            query_value(&request, "repo"),
            query_value(&request, "collection"),
            query_value(&request, "rkey")
        );
        let dialect = Dialect::default();
        let r: RecordOut = match self.exchange(request, what, Effect::Read, &dialect).await {
            Err(_) if dialect.name().as_deref() == Some("RecordNotFound") => {
                return Err(PlatformError::rejected(if what == READ_REPLY_POST {
                    format!("reply_to: the post {uri} does not exist")
                } else {
                    format!("the post {uri} no longer exists")
                }));
            }
            answer => answer?.json(what, Effect::Read)?,
        };
        let cid = r.cid.ok_or_else(|| {
            PlatformError::unavailable(format!("the PDS gave no CID for {}", r.uri))
        })?;
        let this = json!({"uri": r.uri, "cid": cid});
        let root = r
            .value
            .pointer("/reply/root")
            .filter(|root| root["uri"].is_string() && root["cid"].is_string())
            .map(|root| json!({"uri": root["uri"], "cid": root["cid"]}))
            .unwrap_or_else(|| this.clone());
        Ok(json!({"uri": this["uri"], "cid": this["cid"], "root": root}))
    }

    /// Uploads an image, checking first that the file has not grown past
    /// the limit since it was validated.
    async fn send_upload(
        &self,
        request: Request,
        what: &str,
        m: &MediaInfo,
    ) -> Result<Value, PlatformError> {
        let bytes = tokio::fs::metadata(&m.resolved)
            .await
            .map_err(|e| {
                PlatformError::rejected(format!("cannot read {}: {e}", m.resolved.display()))
            })?
            .len();
        check_image_size(m, bytes)?;
        let up: Uploaded = self
            .exchange(request, what, Effect::Read, &Dialect::default())
            .await?
            .json(what, Effect::Read)?;
        let blob = serde_json::to_value(&up.blob).map_err(|e| {
            PlatformError::unavailable(format!("{what}: cannot keep the blob ref ({e})"))
        })?;
        Ok(json!({ "blob": blob }))
    }

    /// Creates the post at its record key, exactly once: after any failure
    /// that may have been applied (and after a refusal, which a PDS may give
    /// for a key it already holds), the key is read back first; found means
    /// posted. Answers `{uri, cid}`.
    async fn send_create(&self, request: Request, what: &str) -> Result<Value, PlatformError> {
        let (did, rkey) = match &request.body {
            Body::Json(b) => (
                b["repo"].as_str().unwrap_or_default().to_string(),
                b["rkey"].as_str().unwrap_or_default().to_string(),
            ),
            _ => Default::default(),
        };
        let mut last = None;
        for attempt in 1..=CREATE_ATTEMPTS {
            let mut attempt_request = request.clone();
            if let Body::Json(b) = &mut attempt_request.body {
                // The moment of sending, not the schedule.
                b["record"]["createdAt"] = record::datetime(crate::clock::now());
            }
            let created = self
                .exchange(attempt_request, what, Effect::Create, &Dialect::default())
                .await
                .and_then(|a| a.json::<Created>(what, Effect::Create));
            let err = match created {
                Ok(c) => return Ok(json!({"uri": c.uri, "cid": c.cid})),
                Err(
                    e @ (PlatformError::RateLimited { .. }
                    | PlatformError::Auth { .. }
                    | PlatformError::Config { .. }),
                ) => return Err(e),
                Err(e) => e,
            };
            match self.get_record(&did, POST_COLLECTION, &rkey).await {
                Ok(Some(found)) => return Ok(json!({"uri": found.uri, "cid": found.cid})),
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
}

/// A fill of a JSON body as the plans here collect them: the pointer it
/// goes to, the step and pointer of the answer it comes from, its label,
/// and the array item left out when the answer lacks it.
type BodyFill = (String, usize, String, String, Option<String>);

/// The record of `part` as planned: its mentions' DIDs stand as
/// placeholders until [`mention_fills`] turns them into fills.
fn planned_record(
    part: &Part,
    langs: Vec<atrium_api::types::string::Language>,
    images: Vec<EmbedImage>,
    created_at: chrono::DateTime<chrono::Utc>,
) -> Result<Value, PlatformError> {
    PostRecord {
        text: &part.text.text,
        facets: record::facets(&part.text, |h| Some(format!("{PLACEHOLDER_DID}{h}"))),
        langs,
        images,
        created_at,
    }
    .to_json()
    .map_err(PlatformError::unavailable)
}

/// The fills of the mentions in a planned `record` (the record of a
/// request body, at `/record`): `null` where each DID goes, filled from
/// the resolution of its handle in `mentions`; a facet whose handle does
/// not resolve is left out.
fn mention_fills(record: &mut Value, mentions: &[(String, usize)]) -> Vec<BodyFill> {
    let mut fills = Vec::new();
    let Some(facets) = record.get_mut("facets").and_then(Value::as_array_mut) else {
        return fills;
    };
    for (k, facet) in facets.iter_mut().enumerate() {
        let Some(features) = facet.get_mut("features").and_then(Value::as_array_mut) else {
            continue;
        };
        for (j, feature) in features.iter_mut().enumerate() {
            let handle = match feature.get("did").and_then(Value::as_str) {
                Some(did) if feature["$type"] == MENTION => {
                    did.strip_prefix(PLACEHOLDER_DID).map(str::to_string)
                }
                _ => None,
            };
            let Some(handle) = handle else { continue };
            let Some(&(_, at)) = mentions.iter().find(|(h, _)| *h == handle) else {
                continue;
            };
            feature["did"] = Value::Null;
            fills.push((
                format!("/record/facets/{k}/features/{j}/did"),
                at,
                "/did".into(),
                format!("DID of @{handle}"),
                Some(format!("/record/facets/{k}")),
            ));
        }
    }
    fills
}

/// The value of query parameter `name` of `request`.
fn query_value(request: &Request, name: &str) -> String {
    request
        .query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

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

/// Refuses media the client cannot post, before anything is sent.
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

#[async_trait::async_trait]
impl Steps for Bluesky {
    /// Adds the app password or the access token (renewing the session
    /// once when the PDS refuses it), and does what no request says in
    /// advance: a login when a session turned up meanwhile is skipped;
    /// lookups answer in the shape later fills read; an image grown past
    /// the limit since validation is refused before upload; a create carries
    /// the moment of sending and is read back at its key before any retry.
    async fn send(
        &self,
        step: &Step,
        request: Request,
        progress: &Progress<'_>,
    ) -> Result<Value, PlatformError> {
        let what = step.what.as_str();
        match step.role {
            Role::Part(_) => self.send_create(request, what).await,
            Role::Delete(_) | Role::Edit(_) => Err(crate::platforms::plan::not_publishing(step)),
            Role::Media(n) => {
                let m = progress.job.media.get(n).ok_or_else(|| {
                    PlatformError::config(format!("{what}: no media file {}", n + 1))
                })?;
                self.send_upload(request, what, m).await
            }
            Role::Lookup | Role::Prepare(_) => match nsid(&request.url) {
                CREATE_SESSION => {
                    let s = self.current_or(request).await?;
                    Ok(json!({"did": s.did, "handle": s.handle}))
                }
                RESOLVE_HANDLE => self.send_resolve(request, what).await,
                GET_RECORD => self.send_get_record(request, what).await,
                _ => self
                    .exchange(request, what, Effect::Read, &Dialect::default())
                    .await?
                    .json(what, Effect::Read),
            },
        }
    }

    fn published(&self, step: &Step, answer: &Value) -> Result<PublishedPart, PlatformError> {
        let uri = answer["uri"].as_str().ok_or_else(|| {
            PlatformError::unknown(format!(
                "{}: the post was created, but its answer has no URI",
                step.what
            ))
        })?;
        let rkey = match &step.request.body {
            Body::Json(b) => b["rkey"].as_str().map(str::to_string),
            _ => None,
        }
        .or_else(|| record::parse_at_uri(uri).map(|(_, _, k)| k.to_string()))
        .unwrap_or_default();
        let cid = answer["cid"].as_str().map(str::to_string);
        Ok(self.part(uri.to_string(), cid, &rkey))
    }
}

#[async_trait::async_trait]
impl Platform for Bluesky {
    fn plan(&self, job: &Job<'_>) -> Result<Plan, PlatformError> {
        self.plan_job(job)
    }

    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        plan::run(self, job, &self.plan_job(job)?, sink).await
    }

    fn plan_delete(&self, parts: &[Recorded]) -> Result<Plan, PlatformError> {
        self.plan_deletion(parts)
    }

    async fn delete(
        &self,
        parts: &[Recorded],
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_deletion(parts)?, sink).await
    }

    fn plan_edit(&self, job: &Job<'_>, mode: EditMode) -> Result<Plan, PlatformError> {
        self.plan_edits(job, mode)
    }

    async fn edit(
        &self,
        job: &Job<'_>,
        mode: EditMode,
        sink: &mut dyn DoneSink,
    ) -> Result<(), PlatformError> {
        plan::run_changes(self, &self.plan_edits(job, mode)?, sink).await
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
}
