//! Issue 10: two machines that share only the git repository (two project
//! copies with the same post files and social.toml, each with its own
//! `.social/` and its own, unshared `published.toml`) publish one due post
//! once, one after the other and both at once: to a real Bluesky PDS
//! (`@atproto/pds`, started by `tests/pds/server.mjs`; needs
//! `SOCIAL_TEST_PDS_DIR`, which `bash tests/pds/install.sh` prints), to a
//! fake Mastodon that honours Idempotency-Key as Mastodon does (same key,
//! same status), and to a fake X (no idempotency key: the late machine reads
//! the account's posts first and adopts what it finds).

use crate::common::{NOW, TestProject};
use crate::publish::{Statuses, mastodon};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A two-part thread: the first part, then the second after `---`.
fn thread_post(at: &str, to: &str) -> String {
    format!(
        "---\nid: twice-launch\nat: {at}\nto: [{to}]\nthread: true\n---\nWe launched today, from one of two machines.\n\n---\n\nSecond part of the thread.\n"
    )
}

const PARTS: [&str; 2] = [
    "We launched today, from one of two machines.",
    "Second part of the thread.",
];

/// Two project copies ("machines") with the same files; nothing else shared.
fn machines(config: &str, post: &str) -> [TestProject; 2] {
    [0, 1].map(|_| {
        let p = TestProject::with_config(config);
        p.post("twice-launch.md", post);
        p
    })
}

/// The tests' instant plus `secs`: each machine's own clock.
fn clock(secs: i64) -> String {
    let t = chrono::DateTime::parse_from_rfc3339(NOW).unwrap() + chrono::Duration::seconds(secs);
    t.to_rfc3339()
}

/// Starts `social publish --due` on one machine whose clock says `now`.
fn spawn_publish(p: &TestProject, now: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = p.std_cmd(&p.root);
    cmd.env("SOCIAL_NOW", now)
        .args(["publish", "--due"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("the binary starts")
}

/// Waits for a run started by [`spawn_publish`]; asserts it succeeded.
fn finish(child: std::process::Child, who: &str) -> String {
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && !stderr.contains("panicked"),
        "{who}: exit {:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status.code()
    );
    stdout
}

/// The ledger entry `[twice-launch.<account>]` of a machine, as TOML.
fn ledger_entry(p: &TestProject, account: &str) -> toml::Value {
    let text = std::fs::read_to_string(p.root.join("published.toml"))
        .unwrap_or_else(|e| panic!("no published.toml: {e}"));
    let v: toml::Value = toml::from_str(&text).unwrap();
    v["twice-launch"][account].clone()
}

fn ids(entry: &toml::Value) -> Vec<String> {
    entry["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------- the PDS

/// A running `tests/pds/server.mjs`, stopped when dropped.
struct Pds {
    child: Child,
    url: String,
}

impl Pds {
    fn start() -> Pds {
        let Some(modules) = std::env::var_os("SOCIAL_TEST_PDS_DIR") else {
            panic!(
                "\n\n*** SOCIAL_TEST_PDS_DIR is not set: the two-machine test needs the real test PDS.\n\
                 ***     export SOCIAL_TEST_PDS_DIR=\"$(bash tests/pds/install.sh)\"\n\
                 *** (tests/run.sh does this.)\n\n"
            );
        };
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pds/server.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .env("SOCIAL_TEST_PDS_DIR", &modules)
            .env_remove("PDS_PORT")
            .env_remove("PLC_PORT")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `node {}`: {e}", script.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Ok(v) = serde_json::from_str::<Value>(&line)
                    && let Some(url) = v["pds"].as_str()
                {
                    let _ = tx.send(url.to_string());
                }
            }
        });
        let mut pds = Pds {
            child,
            url: String::new(),
        };
        pds.url = rx
            .recv_timeout(Duration::from_secs(90))
            .expect("tests/pds/server.mjs reports ready within 90 s (its errors are above)");
        pds
    }

    async fn post(&self, method: &str, token: Option<&str>, body: Value) -> Value {
        let mut req = reqwest::Client::new()
            .post(format!("{}/xrpc/{method}", self.url))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{method}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    /// Creates `alice.test`; returns its DID and an app password.
    async fn alice(&self) -> (String, String) {
        let v = self
            .post(
                "com.atproto.server.createAccount",
                None,
                json!({"handle": "alice.test", "email": "alice@example.com", "password": "alice-login-password"}),
            )
            .await;
        let did = v["did"].as_str().unwrap().to_string();
        let token = v["accessJwt"].as_str().unwrap().to_string();
        let app = self
            .post(
                "com.atproto.server.createAppPassword",
                Some(&token),
                json!({"name": "two machines"}),
            )
            .await;
        (did, app["password"].as_str().unwrap().to_string())
    }

    /// Every post record in `did`'s repository, counted on the server.
    async fn posts(&self, did: &str) -> Vec<Value> {
        let resp = reqwest::Client::new()
            .get(format!("{}/xrpc/com.atproto.repo.listRecords", self.url))
            .query(&[
                ("repo", did),
                ("collection", "app.bsky.feed.post"),
                ("limit", "100"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        let v: Value = resp.json().await.unwrap();
        v["records"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Pds {
    fn drop(&mut self) {
        // Closing stdin asks server.mjs to shut down and remove its data.
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the second machine differs from the first.
struct Second {
    /// Its clock, in seconds after the first machine's.
    later: i64,
    /// Started together with the first, or after the first finished.
    concurrently: bool,
    /// Its copy of the post file, when it differs (an edit not pulled yet).
    post: Option<String>,
}

/// Both machines publish the thread to Bluesky (real PDS) and Mastodon
/// (fake), one after the other or both at once; then each part exists once
/// on each server, and both ledgers name the same posts.
async fn bluesky_and_mastodon(at: &str, second: Second) {
    let pds = Pds::start();
    let (did, app_password) = pds.alice().await;
    let statuses = Statuses::default();
    let fedi = mastodon(&statuses).await;
    let config = format!(
        "timezone = \"UTC\"\ncatch_up = \"1h\"\n\n[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"alice.test\"\nservice = \"{}\"\n\n[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"{}\"\n",
        pds.url,
        fedi.uri()
    );
    let [a, b] = machines(&config, &thread_post(at, "bsky, fedi"));
    if let Some(post) = &second.post {
        b.post("twice-launch.md", post);
    }
    let env = [
        ("SOCIAL_BSKY_TOKEN", app_password.as_str()),
        ("SOCIAL_FEDI_TOKEN", "fedi-token"),
    ];
    let (now_a, now_b) = (clock(0), clock(second.later));
    if second.concurrently {
        let ca = spawn_publish(&a, &now_a, &env);
        let cb = spawn_publish(&b, &now_b, &env);
        finish(ca, "machine A");
        finish(cb, "machine B");
    } else {
        finish(spawn_publish(&a, &now_a, &env), "machine A");
        finish(spawn_publish(&b, &now_b, &env), "machine B");
    }

    // Mastodon: one status per part (the fake counts creates by key).
    assert_eq!(statuses.created(), PARTS, "one status per part");
    // Bluesky: one record per part, the second replying to the first.
    let records = pds.posts(&did).await;
    assert_eq!(records.len(), 2, "one record per part: {records:#?}");
    let by_text = |t: &str| {
        records
            .iter()
            .find(|r| r["value"]["text"] == t)
            .unwrap_or_else(|| panic!("no record with text {t:?}: {records:#?}"))
    };
    let (first, second) = (by_text(PARTS[0]), by_text(PARTS[1]));
    assert_eq!(second["value"]["reply"]["parent"]["uri"], first["uri"]);
    assert_eq!(second["value"]["reply"]["root"]["uri"], first["uri"]);

    // Both machines recorded the same posts in their own ledgers.
    for account in ["bsky", "fedi"] {
        let (ea, eb) = (ledger_entry(&a, account), ledger_entry(&b, account));
        assert_eq!(
            ids(&ea),
            ids(&eb),
            "{account}: both ledgers name the same posts"
        );
        assert_eq!(ids(&ea).len(), 2);
    }
    assert_eq!(
        ids(&ledger_entry(&a, "bsky")),
        [
            first["uri"].as_str().unwrap(),
            second["uri"].as_str().unwrap()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_one_after_the_other_publish_once() {
    // Due a minute ago; the second machine runs a minute after the first:
    // both on time, neither reads back first. The shared keys alone make the
    // second find the first's posts.
    let second = Second {
        later: 60,
        concurrently: false,
        post: None,
    };
    bluesky_and_mastodon("2026-05-04 09:59", second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_at_once_publish_once() {
    let second = Second {
        later: 1,
        concurrently: true,
        post: None,
    };
    bluesky_and_mastodon("2026-05-04 09:59", second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_late_machines_at_once_publish_once() {
    // Due 40 minutes ago (a catch-up): both read back before creating.
    let second = Second {
        later: 1,
        concurrently: true,
        post: None,
    };
    bluesky_and_mastodon("2026-05-04 09:20", second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_not_yet_pulled_by_the_first_machine_is_no_second_copy() {
    // The second machine has a newer copy of the file: a typo fixed in the
    // second part. What the first machine published stands (its ledger
    // says which text went out); the second adopts it, posting nothing.
    let edited = thread_post("2026-05-04 09:59", "bsky, fedi")
        .replace("Second part of the thread.", "Second part of the thread!");
    let second = Second {
        later: 60,
        concurrently: false,
        post: Some(edited),
    };
    bluesky_and_mastodon("2026-05-04 09:59", second).await;
}

// ------------------------------------------------------------------ X

/// One post on the fake X: id, text, the id it replies to.
type Tweet = (String, String, Option<String>);

/// A fake X account: creates posts (no idempotency key, no duplicate check)
/// and lists them, newest first, as `GET /2/users/:id/tweets` does.
#[derive(Clone, Default)]
struct Tweets {
    /// (id, text, replied-to id), in creation order.
    posts: Arc<Mutex<Vec<Tweet>>>,
}

impl Tweets {
    fn texts(&self) -> Vec<String> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.1.clone())
            .collect()
    }
}

struct Create(Tweets);

impl Respond for Create {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let text = body["text"].as_str().unwrap_or_default().to_string();
        let parent = body["reply"]["in_reply_to_tweet_id"]
            .as_str()
            .map(str::to_string);
        let mut posts = self.0.posts.lock().unwrap();
        let id = format!("{}", 1_990_000_000_000_000_001u64 + posts.len() as u64);
        posts.push((id.clone(), text.clone(), parent));
        ResponseTemplate::new(201).set_body_json(json!({"data": {"id": id, "text": text}}))
    }
}

struct Timeline(Tweets);

impl Respond for Timeline {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let posts = self.0.posts.lock().unwrap();
        // X's clock: the tests' instant (the post was created "now").
        let data: Vec<Value> = posts
            .iter()
            .rev()
            .map(|(id, text, parent)| {
                let mut t = json!({"id": id, "text": text, "created_at": NOW});
                if let Some(p) = parent {
                    t["referenced_tweets"] = json!([{"type": "replied_to", "id": p}]);
                }
                t
            })
            .collect();
        let mut body = json!({"meta": {"result_count": data.len()}});
        if !data.is_empty() {
            body["data"] = json!(data);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn x_fake(tweets: &Tweets) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", "Bearer x-token"))
        .respond_with(Create(tweets.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"id": "42", "username": "alice"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/users/42/tweets"))
        .respond_with(Timeline(tweets.clone()))
        .mount(&server)
        .await;
    server
}

fn x_config(uri: &str) -> String {
    format!(
        "timezone = \"UTC\"\ncatch_up = \"1h\"\n\n[accounts.x]\nplatform = \"twitter\"\nusername = \"alice\"\napi_url = \"{uri}\"\n"
    )
}

async fn timeline_reads(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/2/users/42/tweets")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_late_machine_adopts_the_first_ones_posts_on_x() {
    let tweets = Tweets::default();
    let server = x_fake(&tweets).await;
    // Due 20 minutes ago: a CI runner whose schedule fired late, after the
    // workstation published it (whose published.toml is not pushed yet).
    let [a, b] = machines(
        &x_config(&server.uri()),
        &thread_post("2026-05-04 09:40", "x"),
    );
    let env = [("SOCIAL_X_TOKEN", "x-token")];
    finish(spawn_publish(&a, &clock(0), &env), "machine A");
    assert_eq!(tweets.texts(), PARTS);
    let read_by_a = timeline_reads(&server).await;
    assert_eq!(
        read_by_a, 1,
        "a late target is read back once, before the first create"
    );

    let out = finish(spawn_publish(&b, &clock(300), &env), "machine B");
    assert_eq!(tweets.texts(), PARTS, "machine B posted nothing:\n{out}");
    assert_eq!(
        timeline_reads(&server).await - read_by_a,
        1,
        "one read, not two"
    );
    assert_eq!(ids(&ledger_entry(&a, "x")), ids(&ledger_entry(&b, "x")));
    // The thread stays a thread: part 2 replies to part 1.
    let posts = tweets.posts.lock().unwrap().clone();
    assert_eq!(posts[1].2.as_deref(), Some(posts[0].0.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_sent_on_time_reads_nothing_first_on_x() {
    let tweets = Tweets::default();
    let server = x_fake(&tweets).await;
    let [a, _] = machines(
        &x_config(&server.uri()),
        &thread_post("2026-05-04 09:59", "x"),
    );
    finish(
        spawn_publish(&a, &clock(0), &[("SOCIAL_X_TOKEN", "x-token")]),
        "machine A",
    );
    assert_eq!(tweets.texts(), PARTS);
    assert_eq!(
        timeline_reads(&server).await,
        0,
        "no read for a post sent on time"
    );
}
