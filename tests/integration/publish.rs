//! Publishing through the binary against a fake Mastodon on 127.0.0.1 that
//! honours Idempotency-Key as the real server does: `social post`, `social
//! publish --due`, the catch-up rule, and a kill -9 in mid-flight.

use crate::common::TestProject;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A Mastodon status endpoint: one status per Idempotency-Key, as the real
/// server keeps keys for an hour. Optionally holds the first answer back.
#[derive(Clone, Default)]
pub struct Statuses {
    by_key: Arc<Mutex<HashMap<String, u64>>>,
    texts: Arc<Mutex<Vec<String>>>,
    /// The statuses created, as the account's timeline lists them.
    listed: Arc<Mutex<Vec<serde_json::Value>>>,
    /// When each status arrived.
    pub arrivals: Arc<Mutex<Vec<std::time::SystemTime>>>,
    pub hold_first: Arc<Mutex<Option<Duration>>>,
}

impl Statuses {
    /// The texts of the statuses created, in order.
    pub fn created(&self) -> Vec<String> {
        self.texts.lock().unwrap().clone()
    }
}

impl Respond for Statuses {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let key = req
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let text = body["status"].as_str().unwrap_or_default().to_string();
        let id = {
            let mut map = self.by_key.lock().unwrap();
            let next = map.len() as u64 + 1;
            *map.entry(key).or_insert_with(|| {
                self.texts.lock().unwrap().push(text.clone());
                self.listed.lock().unwrap().push(serde_json::json!({
                    "id": next.to_string(),
                    "url": format!("https://mastodon.example/@alice/{next}"),
                    "content": format!("<p>{text}</p>"),
                    "in_reply_to_id": body["in_reply_to_id"],
                    "created_at": crate::common::NOW,
                }));
                self.arrivals
                    .lock()
                    .unwrap()
                    .push(std::time::SystemTime::now());
                next
            })
        };
        let json = serde_json::json!({
            "id": id.to_string(),
            "url": format!("https://mastodon.example/@alice/{id}"),
            "uri": format!("https://mastodon.example/users/alice/statuses/{id}"),
            "content": format!("<p>{text}</p>"),
        });
        let mut t = ResponseTemplate::new(200).set_body_json(json);
        if let Some(d) = self.hold_first.lock().unwrap().take() {
            t = t.set_delay(d);
        }
        t
    }
}

/// The account's statuses, newest first (`GET /api/v1/accounts/:id/statuses`).
struct Listed(Statuses);

impl Respond for Listed {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let mut all = self.0.listed.lock().unwrap().clone();
        all.reverse();
        ResponseTemplate::new(200).set_body_json(all)
    }
}

pub async fn mastodon(statuses: &Statuses) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer fedi-token"))
        .respond_with(statuses.clone())
        .mount(&server)
        .await;
    // Reading back (a target whose key Mastodon may have forgotten).
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .and(header("authorization", "Bearer fedi-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "1", "acct": "alice"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/1/statuses"))
        .and(header("authorization", "Bearer fedi-token"))
        .respond_with(Listed(statuses.clone()))
        .mount(&server)
        .await;
    server
}

pub fn project(uri: &str) -> TestProject {
    TestProject::with_config(&format!(
        "timezone = \"UTC\"\ncatch_up = \"1h\"\n\n[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"{uri}\"\n"
    ))
}

pub fn run(p: &TestProject, args: &[&str]) -> crate::common::Run {
    p.run_cmd(p.cmd().env("SOCIAL_FEDI_TOKEN", "fedi-token").args(args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_twice_publishes_once() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let file = p.simple_post("hello", "fedi", "", "Hello **world** #rust");
    let first = run(&p, &["post", &file]);
    first
        .code(0)
        .stdout_has("posted")
        .stdout_has("https://mastodon.example/@alice/1");
    assert_eq!(statuses.created(), ["Hello world #rust"]);
    // The ledger records it, sorted and committed with the posts.
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("[hello.fedi]"), "{ledger}");
    assert!(
        ledger.contains("https://mastodon.example/@alice/1"),
        "{ledger}"
    );
    // Again: skipped with its URL, nothing sent.
    run(&p, &["post", &file])
        .code(0)
        .stdout_has("1 posted earlier");
    // Even with the state store gone (a fresh clone): the ledger decides.
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    run(&p, &["post", &file])
        .code(0)
        .stdout_has("1 posted earlier");
    assert_eq!(statuses.created().len(), 1);
    // The secret never shows up anywhere.
    let status = run(&p, &["status", "hello"]);
    status.code(0).stdout_has("posted");
    assert!(!first.stdout.contains("fedi-token") && !first.stderr.contains("fedi-token"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_due_applies_the_catch_up_window() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    // SOCIAL_NOW is 2026-05-04T10:00:00Z.
    p.simple_post(
        "recent",
        "fedi",
        "at: 2026-05-04 09:30",
        "Missed by 30 minutes",
    );
    p.simple_post("old", "fedi", "at: 2026-05-04 07:00", "Missed by 3 hours");
    p.simple_post("later", "fedi", "at: 2026-05-04 12:00", "Not yet due");
    let r = run(&p, &["publish", "--due"]);
    r.code(1).stdout_has("missed its time by 3h");
    assert_eq!(statuses.created(), ["Missed by 30 minutes"]);
    let st = run(&p, &["status", "old", "--json"]).json();
    assert_eq!(st[0]["status"], "missed", "{st}");
    // `retry` puts the missed one back; it goes out on the next run.
    run(&p, &["retry", "old"]).code(0);
    run(&p, &["publish", "--due"]).code(0).stdout_has("posted");
    assert_eq!(
        statuses.created(),
        ["Missed by 30 minutes", "Missed by 3 hours"]
    );
    // Nothing else is due.
    run(&p, &["publish", "--due"])
        .code(0)
        .stdout_has("nothing to publish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_target_without_a_login_waits_for_one() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    // SOCIAL_NOW is 2026-05-04T10:00:00Z; catch_up is an hour.
    p.simple_post(
        "soon",
        "fedi",
        "at: 2026-05-04 09:30",
        "Waiting for a login",
    );
    p.simple_post("late", "fedi", "at: 2026-05-04 09:10", "Logged in too late");
    // No credential: both wait, nothing is sent, nothing is failed.
    let first = p.run(&["publish", "--due"]);
    first
        .code(1)
        .stdout_has("2 waiting for login")
        .stdout_has("waiting for a login for `fedi`")
        .stdout_lacks("failed");
    assert!(statuses.created().is_empty());
    let st = p.run(&["status", "soon", "--json"]).json();
    assert_eq!(st[0]["status"], "waiting-for-login", "{st}");
    assert_eq!(st[0]["attempts"], 0, "nothing was attempted: {st}");
    assert!(
        st[0]["scheduled"].as_str().unwrap().contains("09:30"),
        "the planned time is kept: {st}"
    );
    let table = p.run(&["status"]);
    table.code(0).stdout_has("waiting-for-login");
    // Still waiting a little later, at the next look.
    p.run_cmd(
        p.cmd()
            .env("SOCIAL_NOW", "2026-05-04T10:05:00Z")
            .args(["publish", "--due"]),
    )
    .code(1)
    .stdout_has("2 waiting for login");
    // The login arrives: the next run publishes what is still within
    // catch_up, without `social retry`; the one whose hour ran out while it
    // waited is missed, saying so.
    let second = p.run_cmd(
        p.cmd()
            .env("SOCIAL_NOW", "2026-05-04T10:20:00Z")
            .env("SOCIAL_FEDI_TOKEN", "fedi-token")
            .args(["publish", "--due"]),
    );
    second
        .code(1)
        .stdout_has("1 posted")
        .stdout_has("1 missed")
        .stdout_has("waiting for a login (more than catch_up");
    assert_eq!(statuses.created(), ["Waiting for a login"]);
    let st = run(&p, &["status", "--json"]).json();
    let by_post = |id: &str| {
        st.as_array()
            .unwrap()
            .iter()
            .find(|r| r["post"] == id)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(by_post("soon"), "posted", "{st}");
    assert_eq!(by_post("late"), "missed", "{st}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_flight_then_run_again_posts_once() {
    let statuses = Statuses::default();
    *statuses.hold_first.lock().unwrap() = Some(Duration::from_secs(30));
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let file = p.simple_post(
        "crash",
        "fedi",
        "thread: true",
        "Part one\n\n---\n\nPart two",
    );
    let mut child = p
        .std_cmd(&p.root)
        .env("SOCIAL_FEDI_TOKEN", "fedi-token")
        .args(["post", &file])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once the server holds the first request.
    let start = Instant::now();
    while statuses.created().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the request never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let st = run(&p, &["status", "crash", "--json"]).json();
    assert_eq!(st[0]["status"], "posting", "the claim is left behind: {st}");
    // The next run reconciles: same Idempotency-Key, so no second status.
    let r = run(&p, &["post", &file]);
    r.code(0).stdout_has("posted");
    assert_eq!(statuses.created(), ["Part one", "Part two"]);
    let st = run(&p, &["status", "crash", "--json"]).json();
    assert_eq!(st[0]["status"], "posted");
    assert_eq!(st[0]["urls"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_notes_from_stdin_post_once() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let notes = "v1.2.0 is out! https://example.com/v1.2.0\n\n- faster sync\n- **new** daemon";
    for _ in 0..2 {
        p.run_cmd(
            p.cmd()
                .env("SOCIAL_FEDI_TOKEN", "fedi-token")
                .args(["post", "-", "--to", "fedi"])
                .write_stdin(notes),
        )
        .code(0);
    }
    assert_eq!(
        statuses.created(),
        ["v1.2.0 is out! https://example.com/v1.2.0\n\n• faster sync\n• new daemon"]
    );
    // With frontmatter: its id names it in the ledger.
    let with_id = "---\nid: release-v1.2.1\n---\nv1.2.1 fixes a bug.";
    p.run_cmd(
        p.cmd()
            .env("SOCIAL_FEDI_TOKEN", "fedi-token")
            .args(["post", "-", "--to", "fedi"])
            .write_stdin(with_id),
    )
    .code(0)
    .stdout_has("release-v1.2.1");
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(ledger.contains("[\"release-v1.2.1\".fedi]"), "{ledger}");
    assert_eq!(statuses.created().len(), 2);
}

#[test]
fn a_reported_instance_limit_is_used_by_validation() {
    let p = project("https://mastodon.example");
    let file = p.simple_post("long", "fedi", "", &"a".repeat(700));
    p.validate(&[&file])
        .code(1)
        .stdout_has("over the limit of 500");
    // What the daemon's daily job writes after asking the instance.
    p.write(
        ".social/limits.json",
        r#"{"accounts": {"fedi": {"max_characters": 1000, "fetched_at": "2026-05-04T09:00:00Z"}}}"#,
    );
    p.validate(&[&file]).code(0);
    let preview = p.preview_json(&file, &[]);
    assert_eq!(TestProject::target(&preview, "fedi")["max_chars"], 1000);
    // An explicit max_characters in social.toml wins.
    p.write(
        "social.toml",
        "timezone = \"UTC\"\n[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"https://mastodon.example\"\nmax_characters = 600\n",
    );
    p.validate(&[&file])
        .code(1)
        .stdout_has("over the limit of 600");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_shows_only_what_failed() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    p.simple_post("fine", "fedi", "at: 2026-05-04 09:50", "Goes out");
    p.simple_post("late", "fedi", "at: 2026-05-04 07:00", "Missed");
    let r = run(&p, &["publish", "--due", "-q"]);
    r.code(1).stdout_has("late").stdout_lacks("fine");
    assert!(
        r.stderr.is_empty(),
        "nothing but the failures: {}",
        r.stderr
    );
    // Nothing failed: nothing at all.
    p.simple_post("more", "fedi", "", "On demand");
    let r = run(&p, &["post", "posts/more.md", "-q"]);
    r.code(0);
    assert_eq!((r.stdout.as_str(), r.stderr.as_str()), ("", ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_fits_an_80_column_terminal() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let uri = server.uri();
    let p = TestProject::with_config(&format!(
        "timezone = \"Europe/Berlin\"\ncatch_up = \"1h\"\n\n[accounts.fedi]\nplatform = \"mastodon\"\ninstance = \"{uri}\"\n\n[accounts.work]\nplatform = \"mastodon\"\ninstance = \"{uri}\"\n"
    ));
    // SOCIAL_NOW is 2026-05-04T10:00:00Z, 12:00 in Berlin.
    p.simple_post("hello", "fedi", "", "Hello");
    p.simple_post(
        "missed-the-morning",
        "fedi",
        "at: 2026-05-04 07:00",
        "Too late",
    );
    p.simple_post(
        "a-rather-long-post-id-for-the-launch-announcement",
        "fedi, work",
        "at: 2026-05-04 11:50",
        "Launch",
    );
    p.simple_post("tomorrow", "fedi", "at: 2026-05-05 09:30", "Tomorrow");
    p.simple_post("idea", "fedi", "status: draft", "Some day");
    run(&p, &["post", "posts/hello.md"]).code(0);
    // `work` has no login: waiting; the morning post is missed.
    run(&p, &["publish", "--due"]).code(1);
    let status = p.run_cmd(p.cmd().env("COLUMNS", "80").args(["status"]));
    status.code(0);
    for line in status.stdout.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line:?}\n{}",
            line.chars().count(),
            status.stdout
        );
    }
    insta::assert_snapshot!("status_80_columns", status.stdout);
}
