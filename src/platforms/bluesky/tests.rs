//! Fake-server tests of the Bluesky client: every request is checked field
//! by field, and every mock says how often it must be called.

use super::session::{SealKey, Session, store_key};
use super::*;
use crate::config::Config;
use crate::platforms::{Job, PartSink};
use crate::render::Rendered;
use crate::state::Store;
use crate::validate::{self, Checked, Options};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::path::PathBuf;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(super) const PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const DID: &str = "did:plc:alice";
const CID: &str = "bafyreigq3exe2m23sojzoachuyucow4vu7eyatati4uy6scr4ixt6xwlhi";

// ---- fixtures shared with the real-PDS tests ----

/// A project in a temp dir: social.toml with one Bluesky account `bsky`,
/// one post, and its checked form (rendered text, media).
pub(super) struct Fixture {
    pub dir: tempfile::TempDir,
    pub checked: Checked,
    pub config: Config,
    pub key: String,
}

impl Fixture {
    /// A project whose account `bsky` is `handle` on `service`; `post` is
    /// the post file; `image` writes media/pic.png of that size.
    pub fn new(service: &str, handle: &str, post: &str, image: Option<(u32, u32)>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let toml = format!(
            "timezone = \"UTC\"\n\n[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"{handle}\"\nservice = \"{service}\"\n"
        );
        std::fs::write(root.join("social.toml"), &toml).unwrap();
        std::fs::create_dir_all(root.join("posts")).unwrap();
        if let Some((w, h)) = image {
            std::fs::create_dir_all(root.join("media")).unwrap();
            std::fs::write(root.join("media/pic.png"), png(w, h)).unwrap();
        }
        let post_path = root.join("posts/post.md");
        std::fs::write(&post_path, post).unwrap();
        let config = Config::parse(root, &root.join("social.toml"), &toml).unwrap();
        let report = validate::check_file(&post_path, &config, &Options::default());
        let errors: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        assert!(errors.is_empty(), "the test post has errors: {errors:?}");
        let checked = report.checked.expect("a checked post");
        let key = crate::state::idempotency_key(&checked.post.id, "bsky");
        Fixture {
            dir,
            checked,
            config,
            key,
        }
    }

    pub fn account(&self) -> &Account {
        &self.config.accounts["bsky"]
    }

    pub fn rendered(&self) -> &Rendered {
        self.checked
            .rendered
            .iter()
            .find(|r| r.account == "bsky")
            .expect("rendered for bsky")
    }

    pub fn job<'a>(&'a self, done: &'a [PublishedPart], first_claimed: DateTime<Utc>) -> Job<'a> {
        Job {
            post: &self.checked.post,
            account: self.account(),
            rendered: self.rendered(),
            media: &self.checked.media,
            done,
            idempotency_key: &self.key,
            first_claimed,
            scheduled: self.scheduled(),
            reply_to: None,
        }
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join(".social/state.redb")
    }

    /// A client for `bsky` with a fresh HTTP layer (as in a new run) over
    /// this project's state store.
    pub fn client(&self, password: &str) -> Bluesky {
        let mut http = Http::new().unwrap();
        http.base_backoff = Duration::from_millis(5);
        http.max_backoff = Duration::from_millis(20);
        let ctx = Context {
            http,
            secret: Some(Secret::new(password)),
            memo: Some(crate::publish::memo(
                &Store::open(&self.store_path()).unwrap(),
            )),
        };
        Bluesky::new(self.account(), ctx).unwrap()
    }

    /// The post's `at`, as the engine hands it over.
    pub fn scheduled(&self) -> Option<DateTime<Utc>> {
        self.checked.post.at.as_ref().map(|a| a.instant)
    }

    pub fn rkey(&self, index: usize, first_claimed: DateTime<Utc>) -> String {
        record_key(
            &self.checked.post.id,
            "bsky",
            index,
            key_time(self.scheduled(), first_claimed),
        )
    }
}

/// Collects the parts handed over by `publish`.
#[derive(Default)]
pub(super) struct Collect(pub Vec<(usize, PublishedPart)>);

impl PartSink for Collect {
    fn part(&mut self, index: usize, part: PublishedPart) -> Result<(), PlatformError> {
        self.0.push((index, part));
        Ok(())
    }
}

pub(super) fn claimed() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00.250000Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A valid grayscale PNG of `w`×`h` pixels (stored, uncompressed deflate).
pub(super) fn png(w: u32, h: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in bytes {
            c ^= b as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0); // filter: none
        raw.extend((0..w).map(|x| ((x * 7 + y * 13) % 256) as u8));
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + byte as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grayscale
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

// ---- fake PDS ----

fn session_json(access: &str, refresh: &str) -> Value {
    json!({"accessJwt": access, "refreshJwt": refresh, "handle": "alice.test", "did": DID, "active": true})
}

async fn mount_login(server: &MockServer, access: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_json(
            json!({"identifier": "alice.test", "password": PASSWORD}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(session_json(access, "refresh-1")))
        .expect(times)
        .mount(server)
        .await;
}

/// Answers a createRecord like a PDS: the URI from the rkey it was sent.
struct EchoCreate;

impl Respond for EchoCreate {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let rkey = body["rkey"].as_str().unwrap_or("none");
        ResponseTemplate::new(200).set_body_json(json!({
            "uri": format!("at://{DID}/app.bsky.feed.post/{rkey}"),
            "cid": CID,
            "commit": {"cid": CID, "rev": "3n3lgzhbus22j"},
            "validationStatus": "valid"
        }))
    }
}

fn create_record() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/xrpc/com.atproto.repo.createRecord"))
}

fn get_record(rkey: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", DID))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", rkey))
}

fn found(rkey: &str, cid: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "uri": format!("at://{DID}/app.bsky.feed.post/{rkey}"),
        "cid": cid,
        "value": {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2026-12-01T09:00:00Z"}
    }))
}

fn not_found(rkey: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "error": "RecordNotFound",
        "message": format!("Could not locate record: at://{DID}/app.bsky.feed.post/{rkey}")
    }))
}

/// The JSON bodies of the requests made to `xrpc_method`, in order.
async fn bodies(server: &MockServer, xrpc_method: &str) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == format!("/xrpc/{xrpc_method}"))
        .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        .collect()
}

const SIMPLE: &str = "---\nid: simple\nto: [bsky]\n---\nHello from social.\n";

#[tokio::test]
async fn session_is_kept_sealed_and_reused_by_the_next_run() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(2)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);

    let first = f.client(PASSWORD);
    let mut sink = Collect::default();
    first
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    drop(first);

    // The store holds the session, sealed: no token in plain text.
    let store = Store::open(&f.store_path()).unwrap();
    let sealed = store
        .meta(&store_key("bsky"))
        .unwrap()
        .expect("a stored session");
    let text = String::from_utf8_lossy(&sealed);
    assert!(!text.contains("access-1") && !text.contains("refresh-1") && !text.contains(DID));
    let key = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test");
    assert_eq!(key.open(&sealed).unwrap().access_jwt, "access-1");
    drop(store);

    // A new run (new client, new HTTP layer) posts without logging in: the
    // same unscheduled post claimed a day later, so under another key.
    let later = claimed() + chrono::Duration::days(1);
    let second = f.client(PASSWORD);
    let mut sink2 = Collect::default();
    second
        .publish(&f.job(&[], later), &mut sink2)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    assert_eq!(sink2.0.len(), 1);
    assert_ne!(sink.0[0].1.id, sink2.0[0].1.id);
}

#[tokio::test]
async fn a_store_sealed_under_another_password_means_a_new_login() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let old = Session {
        did: DID.into(),
        handle: "alice.test".into(),
        access_jwt: "access-old".into(),
        refresh_jwt: "refresh-old".into(),
    };
    let sealed = SealKey::derive("old-password", &server.uri(), "bsky", "alice.test")
        .seal(&old)
        .unwrap();
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), &sealed)
        .unwrap();
    let client = f.client(PASSWORD);
    client
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn expired_token_refreshes_once_and_retries() {
    let server = MockServer::start().await;
    mount_login(&server, "access-old", 1).await;
    create_record()
        .and(header("authorization", "Bearer access-old"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "ExpiredToken", "message": "Token has expired"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(session_json("access-new", "refresh-2")),
        )
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .and(header("authorization", "Bearer access-new"))
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    // An expired token is a refusal: nothing to read back.
    Mock::given(path("/xrpc/com.atproto.repo.getRecord"))
        .respond_with(not_found("x"))
        .expect(0)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let client = f.client(PASSWORD);
    let mut sink = Collect::default();
    client
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    // The refreshed session is what the store keeps.
    let store = Store::open(&f.store_path()).unwrap();
    let sealed = store.meta(&store_key("bsky")).unwrap().unwrap();
    let kept = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test")
        .open(&sealed)
        .unwrap();
    assert_eq!(kept.access_jwt, "access-new");
    assert_eq!(kept.refresh_jwt, "refresh-2");
}

#[tokio::test]
async fn failed_refresh_falls_back_to_one_login() {
    let server = MockServer::start().await;
    // The stored session's tokens have both expired.
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let stale = Session {
        did: DID.into(),
        handle: "alice.test".into(),
        access_jwt: "access-stale".into(),
        refresh_jwt: "refresh-stale".into(),
    };
    let sealed = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test")
        .seal(&stale)
        .unwrap();
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), &sealed)
        .unwrap();
    create_record()
        .and(header("authorization", "Bearer access-stale"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "ExpiredToken"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-stale"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "ExpiredToken", "message": "Token has expired"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let client = f.client(PASSWORD);
    client
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_invalid_stored_token_means_one_login_but_a_fresh_one_is_an_auth_error() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let stale = Session {
        did: DID.into(),
        handle: "alice.test".into(),
        access_jwt: "access-from-another-server".into(),
        refresh_jwt: "refresh-from-another-server".into(),
    };
    let sealed = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test")
        .seal(&stale)
        .unwrap();
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), &sealed)
        .unwrap();
    let invalid = ResponseTemplate::new(400)
        .set_body_json(json!({"error": "InvalidToken", "message": "Token could not be verified"}));
    create_record()
        .and(header("authorization", "Bearer access-from-another-server"))
        .respond_with(invalid.clone())
        .expect(1)
        .mount(&server)
        .await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    f.client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap();
    server.verify().await;

    // A token refused right after logging in: no loop of logins.
    server.reset().await;
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), b"")
        .unwrap();
    mount_login(&server, "access-1", 1).await;
    create_record()
        .respond_with(invalid)
        .expect(1)
        .mount(&server)
        .await;
    let err = f
        .client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Auth { expired: false, .. }),
        "{err:?}"
    );
}

const THREAD: &str = "---\nid: launch\nto: [bsky]\nthread: true\nlang: [en, de]\n---\nGrüße! We launched [the tool](https://example.com/launch) today #rustlang with @bob.test and @nobody.test\n\n---\n\nSecond part.\n\n---\n\nThird part.\n";

async fn mount_resolve(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "bob.test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"did": "did:plc:bob"})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "nobody.test"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "InvalidRequest", "message": "Unable to resolve handle"}),
        ))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn thread_parts_carry_facets_langs_and_reply_refs() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    mount_resolve(&server).await;
    create_record()
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(3)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", THREAD, None);
    let client = f.client(PASSWORD);
    let mut sink = Collect::default();
    let before = Utc::now();
    client
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();

    let keys: Vec<String> = (0..3).map(|i| f.rkey(i, claimed())).collect();
    let uri = |i: usize| format!("at://{DID}/app.bsky.feed.post/{}", keys[i]);
    // Each part handed over with its URI, web URL and CID.
    assert_eq!(sink.0.len(), 3);
    for (i, (index, part)) in sink.0.iter().enumerate() {
        assert_eq!(*index, i);
        assert_eq!(part.id, uri(i));
        assert_eq!(
            part.url.as_deref(),
            Some(format!("https://bsky.app/profile/alice.test/post/{}", keys[i]).as_str())
        );
        assert_eq!(part.cid.as_deref(), Some(CID));
    }

    let sent = bodies(&server, "com.atproto.repo.createRecord").await;
    assert_eq!(sent.len(), 3);
    for (i, body) in sent.iter().enumerate() {
        assert_eq!(body["repo"], DID);
        assert_eq!(body["collection"], "app.bsky.feed.post");
        assert_eq!(body["rkey"], keys[i].as_str());
        let r = &body["record"];
        assert_eq!(r["$type"], "app.bsky.feed.post");
        assert_eq!(r["langs"], json!(["en", "de"]));
        let created = DateTime::parse_from_rfc3339(r["createdAt"].as_str().unwrap()).unwrap();
        assert!(
            created >= before - chrono::Duration::seconds(1),
            "createdAt is the sending time"
        );
        assert!(r.get("embed").is_none());
    }

    // Part 1: text, and facets at UTF-8 byte offsets.
    let r0 = &sent[0]["record"];
    let text = r0["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Grüße! We launched the tool today #rustlang with @bob.test and @nobody.test"
    );
    let range = |needle: &str| {
        let s = text.find(needle).unwrap();
        json!({"byteStart": s, "byteEnd": s + needle.len()})
    };
    assert_eq!(
        r0["facets"],
        json!([
            {"index": range("the tool"), "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch"}]},
            {"index": range("#rustlang"), "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "rustlang"}]},
            {"index": range("@bob.test"), "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}]},
        ])
    );
    assert!(r0.get("reply").is_none());

    // Parts 2 and 3 reply: root the first part, parent the one before.
    let strong = |i: usize| json!({"uri": uri(i), "cid": CID});
    assert_eq!(sent[1]["record"]["text"], "Second part.");
    assert_eq!(
        sent[1]["record"]["reply"],
        json!({"root": strong(0), "parent": strong(0)})
    );
    assert_eq!(
        sent[2]["record"]["reply"],
        json!({"root": strong(0), "parent": strong(1)})
    );
    assert!(sent[1]["record"].get("facets").is_none());
}

#[tokio::test]
async fn a_thread_resumes_after_its_published_parts() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", THREAD, None);
    let keys: Vec<String> = (0..3).map(|i| f.rkey(i, claimed())).collect();
    let mut done: Vec<PublishedPart> = (0..2)
        .map(|i| PublishedPart {
            id: format!("at://{DID}/app.bsky.feed.post/{}", keys[i]),
            url: None,
            cid: Some(CID.to_string()),
        })
        .collect();
    // The second part's CID is unknown: read from the PDS.
    done[1].cid = None;
    let cid2 = "bafyreiac5vsbfuzrsizuelmfipzy7gcuc73g4alsxkgi5bmhfsl5fgaq2y";
    get_record(&keys[1])
        .respond_with(found(&keys[1], cid2))
        .expect(1)
        .mount(&server)
        .await;

    let client = f.client(PASSWORD);
    let mut sink = Collect::default();
    client
        .publish(&f.job(&done, claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    assert_eq!(sink.0[0].0, 2);
    let sent = bodies(&server, "com.atproto.repo.createRecord").await;
    assert_eq!(sent[0]["rkey"], keys[2].as_str());
    assert_eq!(
        sent[0]["record"]["reply"],
        json!({
            "root": {"uri": done[0].id, "cid": CID},
            "parent": {"uri": done[1].id, "cid": cid2},
        })
    );
}

#[tokio::test]
async fn a_reply_to_a_bsky_url_reads_the_target_and_its_root() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "carol.test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"did": "did:plc:carol"})))
        .expect(1)
        .mount(&server)
        .await;
    let root_uri = "at://did:plc:dave/app.bsky.feed.post/3lrootrootroo";
    let root_cid = "bafyreiac5vsbfuzrsizuelmfipzy7gcuc73g4alsxkgi5bmhfsl5fgaq2y";
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", "did:plc:carol"))
        .and(query_param("rkey", "3lcarolcarolc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "at://did:plc:carol/app.bsky.feed.post/3lcarolcarolc",
            "cid": CID,
            "value": {"$type": "app.bsky.feed.post", "text": "a reply", "createdAt": "2026-01-01T00:00:00Z",
                      "reply": {"root": {"uri": root_uri, "cid": root_cid},
                                "parent": {"uri": root_uri, "cid": root_cid}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let mut job = f.job(&[], claimed());
    job.reply_to = Some(ReplyTo::Url(
        "https://bsky.app/profile/carol.test/post/3lcarolcarolc".into(),
    ));
    f.client(PASSWORD)
        .publish(&job, &mut Collect::default())
        .await
        .unwrap();
    let sent = bodies(&server, "com.atproto.repo.createRecord").await;
    assert_eq!(
        sent[0]["record"]["reply"],
        json!({
            "root": {"uri": root_uri, "cid": root_cid},
            "parent": {"uri": "at://did:plc:carol/app.bsky.feed.post/3lcarolcarolc", "cid": CID},
        })
    );
}

const WITH_IMAGE: &str = "---\nid: pic\nto: [bsky]\nmedia:\n  - path: media/pic.png\n    alt: A grey gradient, three by two\n---\nLook at this.\n";

#[tokio::test]
async fn images_are_uploaded_raw_and_embedded_with_alt_and_aspect_ratio() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    let blob = json!({"$type": "blob", "ref": {"$link": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"}, "mimeType": "image/png", "size": 1234});
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.uploadBlob"))
        .and(header("content-type", "image/png"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"blob": blob})))
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", WITH_IMAGE, Some((300, 200)));
    f.client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap();

    let uploads: Vec<Vec<u8>> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("uploadBlob"))
        .map(|r| r.body)
        .collect();
    assert_eq!(uploads, vec![png(300, 200)], "the raw bytes of the file");
    let sent = bodies(&server, "com.atproto.repo.createRecord").await;
    assert_eq!(
        sent[0]["record"]["embed"],
        json!({
            "$type": "app.bsky.embed.images",
            "images": [{
                "image": blob,
                "alt": "A grey gradient, three by two",
                "aspectRatio": {"width": 300, "height": 200},
            }]
        })
    );
}

#[tokio::test]
async fn an_image_over_the_limit_is_rejected_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", WITH_IMAGE, Some((30, 20)));
    let mut media = f.checked.media.clone();
    media[0].bytes = MAX_IMAGE_BYTES + 1;
    let mut job = f.job(&[], claimed());
    job.media = &media;
    let err = f
        .client(PASSWORD)
        .publish(&job, &mut Collect::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("2000000"), "{err}");

    // The file itself grown past the limit after validation: still refused
    // before upload.
    let big = f.dir.path().join("media/big.png");
    let mut bytes = png(30, 20);
    bytes.resize(MAX_IMAGE_BYTES as usize + 1, 0);
    std::fs::write(&big, bytes).unwrap();
    let mut media = f.checked.media.clone();
    media[0].resolved = big;
    let mut job = f.job(&[], claimed());
    job.media = &media;
    // Logged in, but no upload.
    server.verify().await;
    server.reset().await;
    mount_login(&server, "access-1", 1).await;
    let err = f
        .client(PASSWORD)
        .publish(&job, &mut Collect::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, vec!["/xrpc/com.atproto.server.createSession"]);
}

#[tokio::test]
async fn a_500_on_create_reads_the_key_back_and_does_not_create_again() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .respond_with(ResponseTemplate::new(500).set_body_json(
            json!({"error": "InternalServerError", "message": "Internal Server Error"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let rkey = f.rkey(0, claimed());
    let cid = "bafyreiac5vsbfuzrsizuelmfipzy7gcuc73g4alsxkgi5bmhfsl5fgaq2y";
    get_record(&rkey)
        .and(header("authorization", "Bearer access-1"))
        .respond_with(found(&rkey, cid))
        .expect(1)
        .mount(&server)
        .await;
    let mut sink = Collect::default();
    f.client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    assert_eq!(
        sink.0[0].1.id,
        format!("at://{DID}/app.bsky.feed.post/{rkey}")
    );
    assert_eq!(sink.0[0].1.cid.as_deref(), Some(cid));
}

#[tokio::test]
async fn a_dropped_answer_reads_the_key_back_then_creates_exactly_once_more() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    // The first create never answers in time (the connection is given up).
    create_record()
        .respond_with(EchoCreate.delayed())
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let rkey = f.rkey(0, claimed());
    get_record(&rkey)
        .respond_with(not_found(&rkey))
        .expect(1)
        .mount(&server)
        .await;
    let mut client = f.client(PASSWORD);
    client.timeout = Some(Duration::from_millis(1000));
    let mut sink = Collect::default();
    client
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    let sent = bodies(&server, "com.atproto.repo.createRecord").await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["rkey"], sent[1]["rkey"], "the same key both times");
    assert_eq!(sent[1]["rkey"], rkey.as_str());
}

/// A responder whose answer comes too late for the client.
struct Delayed;

impl EchoCreate {
    fn delayed(self) -> Delayed {
        Delayed
    }
}

impl Respond for Delayed {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        EchoCreate.respond(req).set_delay(Duration::from_secs(10))
    }
}

#[tokio::test]
async fn reconcile_returns_the_prefix_already_posted() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    let f = Fixture::new(&server.uri(), "alice.test", THREAD, None);
    let keys: Vec<String> = (0..3).map(|i| f.rkey(i, claimed())).collect();
    get_record(&keys[0])
        .respond_with(found(&keys[0], CID))
        .expect(1)
        .mount(&server)
        .await;
    get_record(&keys[1])
        .respond_with(not_found(&keys[1]))
        .expect(1)
        .mount(&server)
        .await;
    // Never asked: the thread stops at the first gap.
    get_record(&keys[2])
        .respond_with(found(&keys[2], CID))
        .expect(0)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(0)
        .mount(&server)
        .await;
    let parts = f
        .client(PASSWORD)
        .reconcile(&f.job(&[], claimed()))
        .await
        .unwrap();
    assert_eq!(
        parts,
        vec![PublishedPart {
            id: format!("at://{DID}/app.bsky.feed.post/{}", keys[0]),
            url: Some(format!(
                "https://bsky.app/profile/alice.test/post/{}",
                keys[0]
            )),
            cid: Some(CID.into()),
        }]
    );
}

#[tokio::test]
async fn malformed_answers_are_errors_not_panics() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"accessJwt\": 12"))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let err = f
        .client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Unavailable { .. }), "{err:?}");

    // A create answered with garbage: unclear, so read back, found.
    server.verify().await;
    server.reset().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>oops"))
        .expect(1)
        .mount(&server)
        .await;
    let rkey = f.rkey(0, claimed());
    get_record(&rkey)
        .respond_with(found(&rkey, CID))
        .expect(1)
        .mount(&server)
        .await;
    let mut sink = Collect::default();
    f.client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);

    // Error bodies that are not XRPC JSON still map by status.
    server.verify().await;
    server.reset().await;
    create_record()
        .respond_with(ResponseTemplate::new(413).set_body_string("Payload Too Large"))
        .expect(1)
        .mount(&server)
        .await;
    get_record(&rkey)
        .respond_with(not_found(&rkey))
        .expect(1)
        .mount(&server)
        .await;
    let err = f
        .client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
}

#[tokio::test]
async fn a_refused_password_is_an_auth_error_that_does_not_show_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let err = f
        .client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Auth { expired: false, .. }),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("Invalid identifier or password"), "{shown}");
}

#[tokio::test]
async fn rejected_records_are_rejected_after_checking_the_key() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    create_record()
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let rkey = f.rkey(0, claimed());
    get_record(&rkey)
        .respond_with(not_found(&rkey))
        .expect(1)
        .mount(&server)
        .await;
    let err = f
        .client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut Collect::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
    assert!(err.to_string().contains("300 graphemes"), "{err}");
}

#[tokio::test]
async fn dry_run_shows_the_plan_without_any_request() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", THREAD, None);
    let client = f.client(PASSWORD);
    let shown = client.dry_run(&f.job(&[], claimed()));
    assert!(server.received_requests().await.unwrap().is_empty());
    let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "logging in as @alice.test",
            "resolving the mention @bob.test",
            "resolving the mention @nobody.test",
            "posting part 1 of 3",
            "posting part 2 of 3",
            "posting part 3 of 3",
        ]
    );
    let xrpc = |m: &str| format!("{}/xrpc/{m}", server.uri());
    // The app password is added when sending: never in the plan.
    assert_eq!(shown[0]["url"], xrpc("com.atproto.server.createSession"));
    assert_eq!(shown[0]["json"], json!({"identifier": "alice.test"}));
    assert!(!serde_json::to_string(&shown).unwrap().contains(PASSWORD));
    assert_eq!(shown[1]["method"], "GET");
    assert_eq!(shown[1]["query"], json!({"handle": "bob.test"}));

    let keys: Vec<String> = (0..3).map(|i| f.rkey(i, claimed())).collect();
    let create = &shown[3];
    assert_eq!(create["url"], xrpc("com.atproto.repo.createRecord"));
    assert_eq!(create["json"]["repo"], "<DID of @alice.test>");
    assert_eq!(create["json"]["collection"], "app.bsky.feed.post");
    assert_eq!(create["json"]["rkey"], keys[0].as_str());
    let r0 = &create["json"]["record"];
    assert_eq!(r0["$type"], "app.bsky.feed.post");
    let mentions: Vec<&Value> = r0["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["features"][0])
        .filter(|f| f["$type"] == "app.bsky.richtext.facet#mention")
        .collect();
    assert_eq!(mentions[0]["did"], "<DID of @bob.test>");
    assert_eq!(mentions[1]["did"], "<DID of @nobody.test>");
    assert!(r0.get("reply").is_none());
    assert_eq!(
        shown[5]["json"]["record"]["reply"],
        json!({
            "root": {"uri": "<URI of part 1>", "cid": "<CID of part 1>"},
            "parent": {"uri": "<URI of part 2>", "cid": "<CID of part 2>"},
        })
    );

    // A kept session: no login, the DID in the plan.
    let session = Session {
        did: DID.into(),
        handle: "alice.test".into(),
        access_jwt: "access-1".into(),
        refresh_jwt: "refresh-1".into(),
    };
    let f = Fixture::new(&server.uri(), "alice.test", WITH_IMAGE, Some((300, 200)));
    let sealed = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test")
        .seal(&session)
        .unwrap();
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), &sealed)
        .unwrap();
    let shown = f.client(PASSWORD).dry_run(&f.job(&[], claimed()));
    let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(steps, ["uploading media/pic.png", "posting"]);
    assert_eq!(shown[0]["url"], xrpc("com.atproto.repo.uploadBlob"));
    assert_eq!(
        shown[0]["file"],
        json!({
            "file_name": "pic.png",
            "path": f.checked.media[0].resolved.display().to_string(),
            "content_type": "image/png",
            "bytes": png(300, 200).len(),
        })
    );
    assert_eq!(shown[1]["json"]["repo"], DID);
    let img = &shown[1]["json"]["record"]["embed"]["images"][0];
    assert_eq!(img["alt"], "A grey gradient, three by two");
    assert_eq!(img["aspectRatio"], json!({"width": 300, "height": 200}));
    assert_eq!(img["image"], "<blob of upload 1>");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_resumed_thread_plans_only_what_is_missing() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", THREAD, None);
    let keys: Vec<String> = (0..3).map(|i| f.rkey(i, claimed())).collect();
    let done: Vec<PublishedPart> = (0..3)
        .map(|i| PublishedPart {
            id: format!("at://{DID}/app.bsky.feed.post/{}", keys[i]),
            url: None,
            cid: (i == 0).then(|| CID.to_string()),
        })
        .collect();
    let client = f.client(PASSWORD);
    assert!(client.dry_run(&f.job(&done, claimed())).is_empty());
    let shown = client.dry_run(&f.job(&done[..2], claimed()));
    let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "logging in as @alice.test",
            "reading part 2 (published before) for its CID",
            "posting part 3 of 3",
        ]
    );
    assert_eq!(
        shown[1]["query"],
        json!({"repo": DID, "collection": "app.bsky.feed.post", "rkey": keys[1]})
    );
    assert_eq!(
        shown[2]["json"]["record"]["reply"],
        json!({
            "root": {"uri": done[0].id, "cid": CID},
            "parent": {"uri": "<URI of part 2>", "cid": "<CID of part 2>"},
        })
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The "cannot drift" proof: what a dry run shows is, request for request,
/// what publishing sends (method, path, query, body, file bytes), each label
/// standing for the value the fake answered; apart from what only sending
/// knows: the app password added to the login and the moment of sending as
/// each record's `createdAt`.
#[tokio::test]
async fn publish_sends_exactly_the_dry_run_plan() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    let resolve = |handle: &str, did: &str| {
        Mock::given(method("GET"))
            .and(path("/xrpc/com.atproto.identity.resolveHandle"))
            .and(query_param("handle", handle))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"did": did})))
            .expect(1)
    };
    resolve("carol.test", "did:plc:carol").mount(&server).await;
    resolve("bob.test", "did:plc:bob").mount(&server).await;
    let target_uri = "at://did:plc:carol/app.bsky.feed.post/3lcarolcarolc";
    let root_uri = "at://did:plc:dave/app.bsky.feed.post/3lrootrootroo";
    let root_cid = "bafyreiac5vsbfuzrsizuelmfipzy7gcuc73g4alsxkgi5bmhfsl5fgaq2y";
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", "did:plc:carol"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": target_uri,
            "cid": CID,
            "value": {"$type": "app.bsky.feed.post", "text": "a reply", "createdAt": "2026-01-01T00:00:00Z",
                      "reply": {"root": {"uri": root_uri, "cid": root_cid},
                                "parent": {"uri": root_uri, "cid": root_cid}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let blob = json!({"$type": "blob", "ref": {"$link": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"}, "mimeType": "image/png", "size": 1234});
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.uploadBlob"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"blob": blob})))
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(2)
        .mount(&server)
        .await;
    let post = "---\nid: drift\nto: [bsky]\nthread: true\nmedia:\n  - path: media/pic.png\n    alt: A grey gradient\n---\nThanks @bob.test, see [the notes](https://example.com/notes) #rustlang\n\n---\n\nSecond part.\n";
    let f = Fixture::new(&server.uri(), "alice.test", post, Some((30, 20)));
    let mut job = f.job(&[], claimed());
    job.reply_to = Some(ReplyTo::Url(
        "https://bsky.app/profile/carol.test/post/3lcarolcarolc".into(),
    ));
    let client = f.client(PASSWORD);
    let shown = client.dry_run(&job);
    assert!(server.received_requests().await.unwrap().is_empty());
    let planned_at = Utc::now() - chrono::Duration::seconds(1);

    let mut sink = Collect::default();
    client.publish(&job, &mut sink).await.unwrap();
    let keys: Vec<String> = (0..2).map(|i| f.rkey(i, claimed())).collect();
    let uri = |i: usize| format!("at://{DID}/app.bsky.feed.post/{}", keys[i]);
    assert_eq!(
        sink.0
            .iter()
            .map(|(i, p)| (*i, p.id.clone()))
            .collect::<Vec<_>>(),
        vec![(0, uri(0)), (1, uri(1))]
    );

    let mut text = serde_json::to_string(&shown).unwrap();
    for (label, value) in [
        ("DID of @alice.test", json!(DID)),
        ("DID of @carol.test", json!("did:plc:carol")),
        ("DID of @bob.test", json!("did:plc:bob")),
        ("URI of the post replied to", json!(target_uri)),
        ("CID of the post replied to", json!(CID)),
        ("URI of the thread replied to", json!(root_uri)),
        ("CID of the thread replied to", json!(root_cid)),
        ("blob of upload 1", blob.clone()),
        ("URI of part 1", json!(uri(0))),
        ("CID of part 1", json!(CID)),
    ] {
        text = text.replace(&format!("\"<{label}>\""), &value.to_string());
    }
    let shown: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!text.contains("\"<"), "a label left: {shown:#?}");
    let sent = server.received_requests().await.unwrap();
    let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "logging in as @alice.test",
            READ_REPLY_HANDLE,
            READ_REPLY_POST,
            "resolving the mention @bob.test",
            "uploading media/pic.png",
            "posting part 1 of 2",
            "posting part 2 of 2",
        ]
    );
    assert_eq!(sent.len(), shown.len(), "{shown:#?}");
    for (n, (want, got)) in shown.iter().zip(&sent).enumerate() {
        let at = format!("request {n}: {want:#}");
        assert_eq!(got.method.as_str(), want["method"], "{at}");
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
        let auth = got
            .headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string());
        if let Some(mut body) = want.get("json").cloned() {
            let mut got: Value = serde_json::from_slice(&got.body).unwrap();
            if n == 0 {
                assert_eq!(got["password"], PASSWORD, "{at}");
                got.as_object_mut().unwrap().remove("password");
                assert_eq!(auth, None, "{at}");
            } else {
                let created = got["record"]["createdAt"].as_str().unwrap();
                let created = DateTime::parse_from_rfc3339(created).unwrap();
                assert!(created >= planned_at, "{at}: createdAt is the sending time");
                body["record"]["createdAt"] = got["record"]["createdAt"].clone();
            }
            assert_eq!(got, body, "{at}");
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
        if n > 0 {
            assert_eq!(auth.as_deref(), Some("Bearer access-1"), "{at}");
        }
    }
    let part1 = &shown[5]["json"]["record"];
    assert_eq!(part1["embed"]["images"][0]["image"], blob);
    assert_eq!(
        part1["reply"],
        json!({"root": {"uri": root_uri, "cid": root_cid}, "parent": {"uri": target_uri, "cid": CID}})
    );
    assert_eq!(
        shown[6]["json"]["record"]["reply"],
        json!({"root": {"uri": root_uri, "cid": root_cid}, "parent": {"uri": uri(0), "cid": CID}})
    );
}

#[test]
fn xrpc_errors_are_typed() {
    use crate::platforms::wire::Dialect as _;
    let error = |status: u16, body: &str| {
        let d = super::Dialect::default();
        let e = d.error(
            StatusCode::from_u16(status).unwrap(),
            &reqwest::header::HeaderMap::new(),
            body,
            "posting",
            wire::Effect::Create,
        );
        (e, d.renewal(), d.name())
    };
    let (e, renew, _) = error(
        400,
        r#"{"error":"ExpiredToken","message":"Token has expired"}"#,
    );
    assert!(
        matches!(e, PlatformError::Auth { expired: true, .. }),
        "{e:?}"
    );
    assert_eq!(renew, Some(true));
    assert!(
        e.to_string().contains("ExpiredToken: Token has expired"),
        "{e}"
    );
    let (e, renew, _) = error(400, r#"{"error":"InvalidToken"}"#);
    assert!(
        matches!(e, PlatformError::Auth { expired: false, .. }),
        "{e:?}"
    );
    assert_eq!(renew, Some(false));
    // A taken-down account is an auth error that a new login cannot mend.
    let (e, renew, _) = error(400, r#"{"error":"AccountTakedown","message":"gone"}"#);
    assert!(
        matches!(e, PlatformError::Auth { expired: false, .. }),
        "{e:?}"
    );
    assert_eq!(renew, None);
    let (e, renew, name) = error(
        400,
        r#"{"error":"RecordNotFound","message":"Could not locate record"}"#,
    );
    assert!(matches!(e, PlatformError::Rejected { .. }), "{e:?}");
    assert_eq!((renew, name.as_deref()), (None, Some("RecordNotFound")));
    let (e, ..) = error(401, "");
    assert!(
        matches!(e, PlatformError::Auth { expired: false, .. }),
        "{e:?}"
    );
    // Over a size limit: a refusal that says the limit.
    for (status, body) in [
        (
            413,
            r#"{"error":"PayloadTooLarge","message":"request entity too large"}"#,
        ),
        (
            400,
            r#"{"error":"InvalidRequest","message":"Invalid app.bsky.feed.post record: Record/embed/images/0/image blob too big (maximum 1000000, got 1500000)"}"#,
        ),
    ] {
        let (e, ..) = error(status, body);
        assert!(matches!(e, PlatformError::Rejected { .. }), "{e:?}");
        assert!(e.to_string().contains("2000000 bytes"), "{e}");
    }
    let (e, ..) = error(400, r#"{"error":"InvalidRequest","message":"bad record"}"#);
    assert!(!e.to_string().contains("2000000"), "{e}");
}

#[test]
fn accounts_need_a_handle_and_an_http_service() {
    let f = Fixture::new("https://pds.example", "alice.test", SIMPLE, None);
    let ctx = || Context {
        http: Http::new().unwrap(),
        secret: None,
        memo: None,
    };
    let mut a = f.account().clone();
    a.service = None;
    let b = Bluesky::new(&a, ctx()).unwrap();
    assert_eq!(b.service, DEFAULT_SERVICE);
    a.service = Some("ftp://pds.example".into());
    assert!(Bluesky::new(&a, ctx()).is_err());
    a.service = Some("https://pds.example/".into());
    assert_eq!(
        Bluesky::new(&a, ctx()).unwrap().service,
        "https://pds.example"
    );
    a.handle = None;
    assert!(matches!(
        Bluesky::new(&a, ctx()),
        Err(PlatformError::Config { .. })
    ));
}

#[tokio::test]
async fn a_used_up_login_bucket_does_not_hold_back_writes() {
    let server = MockServer::start().await;
    // The last login of the day: createSession's own limit is used up.
    let reset = (Utc::now() + chrono::Duration::hours(3)).timestamp();
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ratelimit-limit", "300")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.to_string().as_str())
                .insert_header("ratelimit-policy", "300;w=86400")
                .set_body_json(session_json("access-1", "refresh-1")),
        )
        .expect(1)
        .mount(&server)
        .await;
    create_record()
        .respond_with(EchoCreate)
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let started = std::time::Instant::now();
    let mut sink = Collect::default();
    f.client(PASSWORD)
        .publish(&f.job(&[], claimed()), &mut sink)
        .await
        .unwrap();
    assert_eq!(sink.0.len(), 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn xrpc_methods_are_counted_in_the_pds_buckets() {
    assert_eq!(
        super::bucket("com.atproto.server.createSession"),
        "createSession"
    );
    assert_eq!(super::bucket("com.atproto.repo.uploadBlob"), "uploadBlob");
    assert_eq!(
        super::bucket("com.atproto.repo.createRecord"),
        "repo writes"
    );
    assert_eq!(
        super::bucket("com.atproto.repo.deleteRecord"),
        "repo writes"
    );
    assert_eq!(super::bucket("com.atproto.repo.getRecord"), "");
}

// ---- deleting and editing ----

/// What a delete or edit told its sink: (part index, gone already).
#[derive(Default)]
pub(super) struct Told(pub Vec<(usize, bool)>);

impl crate::platforms::DoneSink for Told {
    fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
        self.0.push((index, gone));
        Ok(())
    }
}

fn at_uri(rkey: &str) -> String {
    format!("at://{DID}/app.bsky.feed.post/{rkey}")
}

/// Published parts `rkeys` (part 1 first), as the engine hands them to
/// `delete`: last part first.
fn to_delete(rkeys: &[&str]) -> Vec<crate::platforms::Recorded> {
    let mut parts: Vec<_> = rkeys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                i,
                PublishedPart {
                    id: at_uri(k),
                    url: None,
                    cid: Some(CID.into()),
                },
            )
        })
        .collect();
    parts.reverse();
    parts
}

fn delete_record(rkey: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.deleteRecord"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"repo": DID, "collection": "app.bsky.feed.post", "rkey": rkey}),
        ))
}

fn deleted_commit() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"commit": {"cid": CID, "rev": "3n3lgzhbus22j"}}))
}

#[tokio::test]
async fn a_thread_is_deleted_last_part_first() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    for k in ["3lbaaaaaaaa21", "3lbaaaaaaaa22", "3lbaaaaaaaa23"] {
        delete_record(k)
            .and(header("authorization", "Bearer access-1"))
            .respond_with(deleted_commit())
            .expect(1)
            .mount(&server)
            .await;
    }
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let parts = to_delete(&["3lbaaaaaaaa21", "3lbaaaaaaaa22", "3lbaaaaaaaa23"]);
    let mut told = Told::default();
    f.client(PASSWORD).delete(&parts, &mut told).await.unwrap();
    assert_eq!(told.0, [(2, false), (1, false), (0, false)]);
    let rkeys: Vec<Value> = bodies(&server, "com.atproto.repo.deleteRecord")
        .await
        .into_iter()
        .map(|b| b["rkey"].clone())
        .collect();
    assert_eq!(rkeys, ["3lbaaaaaaaa23", "3lbaaaaaaaa22", "3lbaaaaaaaa21"]);
}

#[tokio::test]
async fn a_part_the_pds_no_longer_has_counts_as_gone() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    // Deleted now; a success without a commit (today's PDS: nothing was
    // there); `InvalidRequest` "Could not locate record"; a 404.
    delete_record("3lbaaaaaaaa24")
        .respond_with(deleted_commit())
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa23")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa22")
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "InvalidRequest",
            "message": format!("Could not locate record: {}", at_uri("3lbaaaaaaaa22"))
        })))
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa21")
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "NotFound"})))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let parts = to_delete(&[
        "3lbaaaaaaaa21",
        "3lbaaaaaaaa22",
        "3lbaaaaaaaa23",
        "3lbaaaaaaaa24",
    ]);
    let mut told = Told::default();
    f.client(PASSWORD).delete(&parts, &mut told).await.unwrap();
    assert_eq!(told.0, [(3, false), (2, true), (1, true), (0, true)]);
}

#[tokio::test]
async fn a_refused_delete_stops_before_the_next_part() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    delete_record("3lbaaaaaaaa22")
        .respond_with(deleted_commit())
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa21")
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "InvalidRequest", "message": "Input/rkey must be a valid Record Key"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa20")
        .respond_with(deleted_commit())
        .expect(0)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let parts = to_delete(&["3lbaaaaaaaa20", "3lbaaaaaaaa21", "3lbaaaaaaaa22"]);
    let mut told = Told::default();
    let err = f
        .client(PASSWORD)
        .delete(&parts, &mut told)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { message, .. }
            if message.contains("deleting part 2") && message.contains("valid Record Key")),
        "{err:?}"
    );
    assert_eq!(told.0, [(2, false)]);
}

#[tokio::test]
async fn an_expired_token_is_refreshed_for_a_delete() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let stale = Session {
        did: DID.into(),
        handle: "alice.test".into(),
        access_jwt: "access-old".into(),
        refresh_jwt: "refresh-1".into(),
    };
    let sealed = SealKey::derive(PASSWORD, &server.uri(), "bsky", "alice.test")
        .seal(&stale)
        .unwrap();
    Store::open(&f.store_path())
        .unwrap()
        .set_meta(&store_key("bsky"), &sealed)
        .unwrap();
    delete_record("3lbaaaaaaaa21")
        .and(header("authorization", "Bearer access-old"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "ExpiredToken"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.refreshSession"))
        .and(header("authorization", "Bearer refresh-1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(session_json("access-new", "refresh-2")),
        )
        .expect(1)
        .mount(&server)
        .await;
    delete_record("3lbaaaaaaaa21")
        .and(header("authorization", "Bearer access-new"))
        .respond_with(deleted_commit())
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = f.client(PASSWORD);
    // A kept session: the plan has no login.
    let plan = client.plan_delete(&to_delete(&["3lbaaaaaaaa21"])).unwrap();
    assert_eq!(plan.steps.len(), 1);
    let mut told = Told::default();
    client
        .delete(&to_delete(&["3lbaaaaaaaa21"]), &mut told)
        .await
        .unwrap();
    assert_eq!(told.0, [(0, false)]);
}

#[tokio::test]
async fn a_delete_plan_is_shown_in_order_and_bad_ids_are_refused() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let client = f.client(PASSWORD);
    let plan = client
        .plan_delete(&to_delete(&["3lbaaaaaaaa21", "3lbaaaaaaaa22"]))
        .unwrap();
    let roles: Vec<plan::Role> = plan.steps.iter().map(|s| s.role).collect();
    assert_eq!(
        roles,
        [Role::Lookup, Role::Delete(1), Role::Delete(0)],
        "a login (no session is kept), then the parts in the order given"
    );
    let shown = plan.describe();
    assert_eq!(shown[0]["step"], "logging in as @alice.test");
    assert_eq!(shown[1]["step"], "deleting part 2");
    assert_eq!(shown[1]["method"], "POST");
    assert_eq!(
        shown[1]["url"],
        format!("{}/xrpc/com.atproto.repo.deleteRecord", server.uri())
    );
    assert_eq!(
        shown[1]["json"],
        json!({"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3lbaaaaaaaa22"})
    );
    assert!(!serde_json::to_string(&shown).unwrap().contains(PASSWORD));
    for bad in [
        "https://bsky.app/profile/alice.test/post/3lbaaaaaaaa21",
        "at://did:plc:alice/app.bsky.feed.like/3lbaaaaaaaa21",
        "at://did:plc:alice/app.bsky.feed.post",
        "",
    ] {
        let parts = vec![(
            4,
            PublishedPart {
                id: bad.into(),
                url: None,
                cid: None,
            },
        )];
        let err = client.plan_delete(&parts).unwrap_err();
        assert!(
            matches!(&err, PlatformError::Rejected { message, .. }
                if message.contains("part 5") && message.contains("not the at:// URI")),
            "{bad}: {err:?}"
        );
        let err = client
            .delete(&parts, &mut Told::default())
            .await
            .unwrap_err();
        assert!(matches!(err, PlatformError::Rejected { .. }), "{err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

const EDITED: &str = "---\nid: launch\nto: [bsky]\nthread: true\nlang: [en, de]\n---\nGrüße! We launched [the tool](https://example.com/launch) today #rustlang with @bob.test and @nobody.test (edited)\n\n---\n\nSecond part, edited.\n\n---\n\nThird part.\n";

const OLD_CID: [&str; 3] = [
    "bafyreib2rxk3rh6kzwq4wdnqvo3ppbzxwqdshqjwwiiffbvd7mbbzjg5ty",
    "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
    "bafyreihffx5a2e7k5uwrmmgofbvzujc5cmw5qq7kfbs4ppsmbgaqqhh3xi",
];

/// The parts of a published three-part thread, with the records a PDS
/// holds for them (the first with an image embed).
fn published_thread() -> (Vec<PublishedPart>, Vec<Value>) {
    let keys = ["3lbaaaaaaaa21", "3lbaaaaaaaa22", "3lbaaaaaaaa23"];
    let done: Vec<PublishedPart> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| PublishedPart {
            id: at_uri(k),
            url: None,
            cid: Some(OLD_CID[i].into()),
        })
        .collect();
    let root = json!({"uri": done[0].id, "cid": OLD_CID[0]});
    let embed = json!({"$type": "app.bsky.embed.images", "images": [{"alt": "a cat", "image": {
        "$type": "blob", "ref": {"$link": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
        "mimeType": "image/png", "size": 1234}}]});
    let records = vec![
        json!({"$type": "app.bsky.feed.post", "text": "old 1", "langs": ["en"],
               "createdAt": "2026-12-01T09:00:01.000Z", "embed": embed}),
        json!({"$type": "app.bsky.feed.post", "text": "old 2",
               "createdAt": "2026-12-01T09:00:02.000Z",
               "reply": {"root": root, "parent": root}}),
        json!({"$type": "app.bsky.feed.post", "text": "Third part.",
               "createdAt": "2026-12-01T09:00:03.000Z",
               "reply": {"root": root, "parent": {"uri": done[1].id, "cid": OLD_CID[1]}}}),
    ];
    (done, records)
}

async fn mount_records(server: &MockServer, done: &[PublishedPart], records: &[Value]) {
    for (i, (part, value)) in done.iter().zip(records).enumerate() {
        let rkey = part.id.rsplit('/').next().unwrap();
        get_record(rkey)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "uri": part.id, "cid": OLD_CID[i], "value": value
            })))
            .expect(1)
            .mount(server)
            .await;
    }
}

#[tokio::test]
async fn a_forced_edit_puts_the_new_text_and_keeps_what_others_point_at() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    mount_resolve(&server).await;
    let (done, records) = published_thread();
    mount_records(&server, &done, &records).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.putRecord"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(EchoCreate)
        .expect(3)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", EDITED, None);
    let mut told = Told::default();
    f.client(PASSWORD)
        .edit(
            &f.job(&done, claimed()),
            EditMode { force: true },
            &mut told,
        )
        .await
        .unwrap();
    assert_eq!(told.0, [(0, false), (1, false), (2, false)]);

    let puts = bodies(&server, "com.atproto.repo.putRecord").await;
    assert_eq!(puts.len(), 3);
    for (i, put) in puts.iter().enumerate() {
        assert_eq!(put["repo"], DID);
        assert_eq!(put["collection"], "app.bsky.feed.post");
        assert_eq!(put["rkey"], format!("3lbaaaaaaaa2{}", i + 1));
        assert_eq!(
            put["swapRecord"], OLD_CID[i],
            "only the version read is replaced"
        );
        let r = &put["record"];
        assert_eq!(r["$type"], "app.bsky.feed.post");
        assert_eq!(r["createdAt"], records[i]["createdAt"]);
        assert_eq!(r["langs"], json!(["en", "de"]));
    }
    let r0 = &puts[0]["record"];
    let text = r0["text"].as_str().unwrap();
    assert!(text.ends_with("@nobody.test (edited)"), "{text}");
    assert_eq!(r0["embed"], records[0]["embed"]);
    assert!(r0.get("reply").is_none(), "{r0}");
    // Facets of the text as it is now: the link, the tag, the mention that
    // resolves (the one that does not is left plain).
    let features: Vec<&Value> = r0["facets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["features"][0])
        .collect();
    assert_eq!(features.len(), 3, "{features:?}");
    assert_eq!(features[2]["did"], "did:plc:bob");
    let s = text.find("@bob.test").unwrap();
    assert_eq!(
        r0["facets"][2]["index"],
        json!({"byteStart": s, "byteEnd": s + "@bob.test".len()})
    );
    let r1 = &puts[1]["record"];
    assert_eq!(r1["text"], "Second part, edited.");
    assert_eq!(r1["reply"], records[1]["reply"]);
    assert!(r1.get("embed").is_none(), "{r1}");
    assert!(r1.get("facets").is_none(), "{r1}");
    assert_eq!(puts[2]["record"]["reply"], records[2]["reply"]);
}

#[tokio::test]
async fn an_edit_without_force_is_unsupported_and_sends_nothing() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", EDITED, None);
    let (done, _) = published_thread();
    let client = f.client(PASSWORD);
    let err = client
        .edit(
            &f.job(&done, claimed()),
            EditMode::default(),
            &mut Told::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Unsupported { message }
            if message.contains("replied to or quoted") && message.contains("--force") && message.contains("delete")),
        "{err:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_edit_plan_shows_what_it_keeps_by_label() {
    let server = MockServer::start().await;
    let f = Fixture::new(&server.uri(), "alice.test", EDITED, None);
    let (done, _) = published_thread();
    let client = f.client(PASSWORD);
    let shown = client
        .plan_edit(&f.job(&done, claimed()), EditMode { force: true })
        .unwrap()
        .describe();
    let steps: Vec<&str> = shown.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        [
            "logging in as @alice.test",
            "resolving the mention @bob.test",
            "resolving the mention @nobody.test",
            "reading part 1 before editing it",
            "editing part 1 of 3",
            "reading part 2 before editing it",
            "editing part 2 of 3",
            "reading part 3 before editing it",
            "editing part 3 of 3",
        ]
    );
    assert_eq!(
        shown[3]["query"],
        json!({"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3lbaaaaaaaa21"})
    );
    let put = &shown[6]["json"];
    assert_eq!(put["swapRecord"], "<CID of part 2 as read>");
    assert_eq!(put["record"]["createdAt"], "<createdAt of part 2>");
    assert_eq!(put["record"]["reply"], "<reply refs of part 2, if any>");
    assert_eq!(put["record"]["embed"], "<embed of part 2, if any>");
    assert_eq!(put["record"]["text"], "Second part, edited.");
    assert!(server.received_requests().await.unwrap().is_empty());

    // Parts cannot be added or removed by an edit.
    let err = client
        .plan_edit(&f.job(&done[..2], claimed()), EditMode { force: true })
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { message, .. } if message.contains("3 parts, but 2 were published")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_edit_of_a_record_changed_meanwhile_fails_the_swap() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    let (done, records) = published_thread();
    let done = &done[..1];
    mount_records(&server, done, &records[..1]).await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.putRecord"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "InvalidSwap",
            "message": format!("Record was at {}", OLD_CID[2])
        })))
        .expect(1)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let mut told = Told::default();
    let err = f
        .client(PASSWORD)
        .edit(&f.job(done, claimed()), EditMode { force: true }, &mut told)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { message, .. } if message.contains("changed since it was read")),
        "{err:?}"
    );
    assert!(told.0.is_empty());
    let put = &bodies(&server, "com.atproto.repo.putRecord").await[0];
    assert_eq!(put["record"]["text"], "Hello from social.");
    assert_eq!(put["record"]["embed"], records[0]["embed"]);
}

#[tokio::test]
async fn an_edit_of_a_part_deleted_elsewhere_is_refused() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    let (done, _) = published_thread();
    get_record("3lbaaaaaaaa21")
        .respond_with(not_found("3lbaaaaaaaa21"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/xrpc/com.atproto.repo.putRecord"))
        .respond_with(EchoCreate)
        .expect(0)
        .mount(&server)
        .await;
    let f = Fixture::new(&server.uri(), "alice.test", SIMPLE, None);
    let err = f
        .client(PASSWORD)
        .edit(
            &f.job(&done[..1], claimed()),
            EditMode { force: true },
            &mut Told::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Rejected { message, .. } if message.contains("no longer exists")),
        "{err:?}"
    );
}
