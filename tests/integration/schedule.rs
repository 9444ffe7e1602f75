//! Scheduling into the state store: sync, queues, the ledger, claims.

use crate::common::TestProject;
use serde_json::Value;
use social::state::{Outcome, Store, TargetStatus};

const QUEUES: &str = r#"timezone = "Europe/Berlin"
catch_up = "1h"

[accounts.bsky]
platform = "bluesky"
handle = "alice.bsky.social"

[accounts.fedi]
platform = "mastodon"
instance = "https://mastodon.example"

[queues.weekly]
accounts = ["bsky"]
mon = ["09:00"]

[queues.ny]
accounts = ["fedi"]
timezone = "America/New_York"
wed = ["12:30"]
fri = ["08:00"]

[queues.held]
accounts = ["bsky"]
paused = true
mon = ["09:00"]
"#;

fn schedule(p: &TestProject) -> Value {
    p.run(&["schedule", "--json"]).json()
}

/// (post, first account, at in UTC) of every upcoming row; `at` itself is
/// RFC 3339 in the project timezone, its offset matching `local`.
fn upcoming(doc: &Value) -> Vec<(String, String, String)> {
    doc["upcoming"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let at = r["at"].as_str().unwrap();
            let t = chrono::DateTime::parse_from_rfc3339(at).unwrap();
            assert!(
                at.starts_with(&r["local"].as_str().unwrap().replace(' ', "T")),
                "`at` is in the project's zone: {r}"
            );
            (
                r["post"].as_str().unwrap().to_string(),
                r["accounts"][0].as_str().unwrap().to_string(),
                t.with_timezone(&chrono::Utc).to_rfc3339(),
            )
        })
        .collect()
}

fn status(p: &TestProject, post: &str) -> Vec<Value> {
    p.run(&["status", post, "--json"])
        .code(0)
        .json()
        .as_array()
        .unwrap()
        .clone()
}

fn store(p: &TestProject) -> Store {
    Store::open(&p.root.join(".social/state.redb")).unwrap()
}

#[test]
fn sync_follows_new_changed_draft_and_deleted_posts() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("a", "bsky, fedi", "at: 2026-05-05 09:00", "First");
    p.simple_post("b", "bsky", "at: 2026-05-06 09:00", "Second");
    let doc = schedule(&p);
    assert_eq!(
        upcoming(&doc),
        [
            (
                "a".into(),
                "bsky".into(),
                "2026-05-05T07:00:00+00:00".into()
            ),
            (
                "b".into(),
                "bsky".into(),
                "2026-05-06T07:00:00+00:00".into()
            ),
        ]
    );
    assert_eq!(
        doc["upcoming"][0]["accounts"],
        serde_json::json!(["bsky", "fedi"])
    );

    // Changed: a new time; draft: off the timeline; deleted: gone.
    p.simple_post("a", "bsky, fedi", "at: 2026-05-07 18:30", "First, edited");
    p.simple_post("b", "bsky", "at: 2026-05-06 09:00\nstatus: draft", "Second");
    p.simple_post("c", "fedi", "at: 2026-05-08 09:00", "Third");
    let doc = schedule(&p);
    assert_eq!(
        upcoming(&doc),
        [
            (
                "a".into(),
                "bsky".into(),
                "2026-05-07T16:30:00+00:00".into()
            ),
            (
                "c".into(),
                "fedi".into(),
                "2026-05-08T07:00:00+00:00".into()
            ),
        ]
    );
    assert_eq!(status(&p, "b")[0]["status"], "draft");
    std::fs::remove_file(p.root.join("posts/c.md")).unwrap();
    let doc = schedule(&p);
    assert_eq!(upcoming(&doc).len(), 1);
    p.run(&["status", "c"])
        .code(2)
        .stderr_has("no post with id `c`");

    // The table shows local time, its zone in the header, and a relative time.
    p.run(&["schedule"])
        .code(0)
        .stdout_has("when (CEST)")
        .stdout_has("2026-05-07 18:30")
        .stdout_has("in 3d");
}

#[test]
fn unchanged_files_are_not_read_again() {
    let p = TestProject::with_config(QUEUES);
    for i in 0..20 {
        p.simple_post(&format!("p{i}"), "bsky", "at: 2026-06-01 09:00", "Hello");
    }
    let first = p.run(&["schedule", "-v"]);
    first.code(0).stderr_has("20 read");
    p.run(&["schedule", "-v"])
        .code(0)
        .stderr_has("0 read, 0 updated");
    p.simple_post("p3", "bsky", "at: 2026-06-02 09:00", "Hello");
    p.run(&["schedule", "-v"])
        .code(0)
        .stderr_has("1 read, 1 updated");
}

#[test]
fn validation_errors_block_only_that_post() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("good", "bsky", "at: 2026-05-05 09:00", "Fine");
    p.simple_post("bad", "nobody", "at: 2026-05-05 09:00", "Unknown account");
    let run = p.run(&["schedule"]);
    run.code(1)
        .stdout_has("good")
        .stdout_lacks("bad ")
        .stderr_has("unknown account `nobody`");
    run.stderr_has("1 post not scheduled because of errors: bad");
    // Fixing the file schedules it.
    p.simple_post("bad", "bsky", "at: 2026-05-05 09:00", "Known account");
    p.run(&["schedule"]).code(0).stdout_has("bad");
}

#[test]
fn dst_gap_blocks_and_overlap_takes_the_first_instant() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("gap", "bsky", "at: 2026-03-29 02:30", "Never happens");
    p.simple_post("twice", "bsky", "at: 2026-10-25 02:30", "Happens twice");
    let run = p.run(&["schedule", "--json"]);
    run.code(1);
    let doc = run.json();
    assert_eq!(doc["blocked"], serde_json::json!(["gap"]));
    assert_eq!(
        upcoming(&doc),
        [(
            "twice".into(),
            "bsky".into(),
            "2026-10-25T00:30:00+00:00".into()
        )]
    );
}

#[test]
fn queue_slots_across_weeks_timezones_and_a_paused_queue() {
    let p = TestProject::with_config(QUEUES);
    // SOCIAL_NOW is Monday 2026-05-04 10:00 UTC: 12:00 in Berlin, past this Monday's 09:00 slot.
    for name in ["q1", "q2", "q3"] {
        p.simple_post(name, "bsky", "queue: weekly", name);
    }
    p.simple_post("n1", "fedi", "queue: ny", "n1");
    p.simple_post("n2", "fedi", "queue: ny", "n2");
    p.simple_post("h1", "bsky", "queue: held", "h1");
    let doc = schedule(&p);
    let rows = upcoming(&doc);
    let at = |id: &str| rows.iter().find(|r| r.0 == id).map(|r| r.2.clone());
    assert_eq!(at("q1").as_deref(), Some("2026-05-11T07:00:00+00:00"));
    assert_eq!(at("q2").as_deref(), Some("2026-05-18T07:00:00+00:00"));
    assert_eq!(at("q3").as_deref(), Some("2026-05-25T07:00:00+00:00"));
    // New York is UTC-4 in May: Wednesday 12:30 and Friday 08:00 local.
    assert_eq!(at("n1").as_deref(), Some("2026-05-06T16:30:00+00:00"));
    assert_eq!(at("n2").as_deref(), Some("2026-05-08T12:00:00+00:00"));
    // A paused queue publishes nothing.
    assert_eq!(at("h1"), None);
    assert_eq!(status(&p, "h1")[0]["status"], "queued");
    p.run(&["queue", "show", "held"])
        .code(0)
        .stdout_has("paused");

    // Stable: a new post sorting first does not move the others.
    p.simple_post("a0", "bsky", "queue: weekly", "a0");
    let rows = upcoming(&schedule(&p));
    let at = |id: &str| rows.iter().find(|r| r.0 == id).map(|r| r.2.clone());
    assert_eq!(at("q1").as_deref(), Some("2026-05-11T07:00:00+00:00"));
    assert_eq!(at("q3").as_deref(), Some("2026-05-25T07:00:00+00:00"));
    assert_eq!(at("a0").as_deref(), Some("2026-06-01T07:00:00+00:00"));

    let show = p.run(&["queue", "show", "weekly", "--json"]).code(0).json();
    assert_eq!(show[0]["post"], "q1");
    assert_eq!(show[3]["post"], "a0");
    // Times in the queue's zone: JSON with its offset, the table's column
    // labelled with the abbreviation, the list's next slot with its own.
    assert_eq!(show[0]["at"], "2026-05-11T09:00:00+02:00", "{show}");
    p.run(&["queue", "show", "weekly"])
        .code(0)
        .stdout_has("slot (CEST)");
    p.run(&["queue", "list"])
        .code(0)
        .stdout_has("weekly")
        .stdout_has("America/New_York")
        .stdout_has("EDT");
    p.run(&["queue", "show", "weeky"])
        .code(2)
        .stderr_has("did you mean `weekly`?");
}

#[test]
fn queue_order_follows_position_then_file_order() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("a", "bsky", "queue: weekly", "a");
    p.simple_post("b", "bsky", "queue: weekly\nposition: 1", "b");
    let rows = upcoming(&schedule(&p));
    assert_eq!(rows[0].0, "b");
    assert_eq!(rows[1].0, "a");
}

#[test]
fn queue_slot_in_a_dst_gap_is_skipped() {
    let config = QUEUES.replace(
        "mon = [\"09:00\"]\n\n[queues.ny]",
        "sun = [\"02:30\"]\n\n[queues.ny]",
    );
    let p = TestProject::with_config(&config);
    p.simple_post("q", "bsky", "queue: weekly", "q");
    let run = p
        .cmd()
        .env("SOCIAL_NOW", "2026-03-28T12:00:00Z")
        .args(["schedule", "--json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&run.stdout).unwrap();
    // Sunday 2026-03-29 02:30 does not exist in Berlin; the next Sunday's does (CEST).
    assert_eq!(upcoming(&doc)[0].2, "2026-04-05T00:30:00+00:00");
}

const LEDGER: &str = r#"["launch".bsky]
published_at = "2026-05-01T09:00:00Z"
ids = ["at://did:plc:abc/app.bsky.feed.post/3kabc"]
urls = ["https://bsky.app/profile/alice.bsky.social/post/3kabc"]
content_hash = "HASH"
"#;

fn content_hash(p: &TestProject, file: &str) -> String {
    let src = std::fs::read_to_string(p.root.join(file)).unwrap();
    let post = social::content::parse_post(std::path::Path::new(file), &src, chrono_tz::Tz::UTC)
        .post
        .unwrap();
    post.content_hash()
}

#[test]
fn ledger_round_trip_survives_a_lost_state_store() {
    let p = TestProject::with_config(QUEUES);
    let file = p.simple_post(
        "launch",
        "bsky, fedi",
        "at: 2026-05-05 09:00",
        "We launched!",
    );
    p.write(
        "published.toml",
        LEDGER.replace("HASH", &content_hash(&p, &file)),
    );
    let doc = schedule(&p);
    // bsky is posted (ledger); only fedi is still due.
    assert_eq!(
        upcoming(&doc),
        [(
            "launch".into(),
            "fedi".into(),
            "2026-05-05T07:00:00+00:00".into()
        )]
    );
    let st = status(&p, "launch");
    assert_eq!(st[0]["status"], "posted");
    assert_eq!(
        st[0]["urls"][0],
        "https://bsky.app/profile/alice.bsky.social/post/3kabc"
    );

    // Delete the store: the ledger alone keeps bsky from being due again.
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    assert_eq!(upcoming(&schedule(&p)).len(), 1);
    assert_eq!(status(&p, "launch")[0]["status"], "posted");
    // `state rebuild` does the same from scratch.
    p.run(&["state", "rebuild"])
        .code(0)
        .stderr_has("1 already posted");
    assert_eq!(status(&p, "launch")[0]["status"], "posted");

    // Posted targets cannot be cancelled; the message says what to do instead.
    p.run(&["cancel", "launch", "--to", "bsky"])
        .code(1)
        .stderr_has("already posted")
        .stderr_has("delete it on the platform");
}

#[test]
fn a_renamed_published_post_is_refused() {
    let p = TestProject::with_config(QUEUES);
    let file = p.simple_post("launch", "bsky", "at: 2026-05-05 09:00", "We launched!");
    p.write(
        "published.toml",
        LEDGER.replace("HASH", &content_hash(&p, &file)),
    );
    schedule(&p);
    // The file is renamed and loses its id: the content matches a ledger entry.
    let src = std::fs::read_to_string(p.root.join(&file))
        .unwrap()
        .replace("id: launch\n", "");
    std::fs::remove_file(p.root.join(&file)).unwrap();
    p.post("2026-05-05-launch-renamed.md", src);
    let run = p.run(&["schedule"]);
    run.code(1)
        .stderr_has("already published as `launch`")
        .stderr_has("id: launch");
    assert!(
        !run.stdout.contains("2026-05-05-launch-renamed"),
        "{}",
        run.stdout
    );
}

#[test]
fn cancel_and_retry() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("a", "bsky, fedi", "at: 2026-05-05 09:00", "Hello");
    schedule(&p);
    p.run(&["cancel", "a", "--to", "fedi"])
        .code(0)
        .stdout_has("cancelled a → fedi");
    // A cancellation survives later syncs, even of an edited file.
    p.simple_post("a", "bsky, fedi", "at: 2026-05-05 10:00", "Hello again");
    let rows = upcoming(&schedule(&p));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "bsky");
    p.run(&["retry", "a", "--to", "fedi"])
        .code(0)
        .stdout_has("re-queued a → fedi");
    assert_eq!(upcoming(&schedule(&p)).len(), 1);
    assert_eq!(
        schedule(&p)["upcoming"][0]["accounts"],
        serde_json::json!(["bsky", "fedi"])
    );

    // A failed target goes back on the schedule with `retry`.
    let s = store(&p);
    let now = chrono::Utc::now();
    assert!(s.claim("a", "bsky", now, true).unwrap().is_some());
    s.record(
        "a",
        "bsky",
        &Outcome::Failed {
            error: "HTTP 422".into(),
            retry_at: None,
        },
        now,
    )
    .unwrap();
    drop(s);
    let st = status(&p, "a");
    assert_eq!(st[0]["status"], "failed");
    assert_eq!(st[0]["last_error"], "HTTP 422");
    p.run(&["retry", "a"])
        .code(0)
        .stdout_has("re-queued a → bsky");
    assert_eq!(status(&p, "a")[0]["status"], "scheduled");
    p.run(&["cancel", "nope"])
        .code(2)
        .stderr_has("no post with id `nope`");
}

#[test]
fn a_newer_schema_is_a_clear_error() {
    let p = TestProject::with_config(QUEUES);
    let s = store(&p);
    s.set_meta("schema_version", &99u64.to_le_bytes()).unwrap();
    drop(s);
    p.run(&["schedule"]).code(2).stderr_has("newer social");
}

/// Not a test on its own: the claiming process of `concurrent_claims_have_one_winner`.
#[test]
#[ignore = "run as a child process by concurrent_claims_have_one_winner"]
fn claim_worker() {
    let Some(path) = std::env::var_os("SOCIAL_CLAIM_STORE") else {
        return;
    };
    let store = Store::open(std::path::Path::new(&path)).unwrap();
    let now = chrono::Utc::now();
    let due = store.due_until(now).unwrap();
    let mut won = Vec::new();
    for (_, key) in due {
        let (post, account) = key.split_once('/').unwrap();
        if store.claim(post, account, now, false).unwrap().is_some() {
            won.push(key);
        }
    }
    println!("WON {}", won.join(" "));
}

#[test]
fn concurrent_claims_have_one_winner() {
    let p = TestProject::with_config(QUEUES);
    for i in 0..60 {
        p.simple_post(
            &format!("p{i:02}"),
            "bsky, fedi",
            "at: 2026-05-01 09:00",
            "Due already",
        );
    }
    schedule(&p);
    let path = p.root.join(".social/state.redb");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            std::process::Command::new(&exe)
                .args([
                    "schedule::claim_worker",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env("SOCIAL_CLAIM_STORE", &path)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut all = Vec::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        // The test harness prints its own "test … ..." prefix on the same line.
        let line = text
            .lines()
            .find_map(|l| l.split_once("WON").map(|(_, w)| w))
            .expect("worker reports");
        all.extend(line.split_whitespace().map(str::to_string));
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, all.len(), "a target was claimed twice");
    assert_eq!(total, 120, "every due target was claimed once");
    let posting = store(&p)
        .targets(None)
        .unwrap()
        .iter()
        .filter(|t| t.status == TargetStatus::Posting)
        .count();
    assert_eq!(posting, 120);
}

/// Settles (`a`, `account`) in the store the way an attempt would, and
/// writes published.toml as the engine does after a run.
fn settle(p: &TestProject, post: &str, account: &str, outcome: Outcome) {
    let s = store(p);
    let now = chrono::Utc::now();
    assert!(s.claim(post, account, now, true).unwrap().is_some());
    s.record(post, account, &outcome, now).unwrap();
    s.flush_ledger(&p.root, now).unwrap();
}

/// Each target's (account, status, last_error) as `status --json` shows it.
fn states(p: &TestProject, post: &str) -> Vec<(String, String, Value)> {
    status(p, post)
        .iter()
        .map(|t| {
            (
                t["account"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
                t["last_error"].clone(),
            )
        })
        .collect()
}

#[test]
fn decisions_survive_a_rebuild_and_a_fresh_clone() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("a", "bsky, fedi", "at: 2026-05-05 09:00", "Hello");
    p.simple_post("b", "bsky, fedi", "at: 2026-05-05 09:00", "Second");
    schedule(&p);
    p.run(&["cancel", "a", "--to", "fedi"]).code(0);
    let ledger = std::fs::read_to_string(p.root.join("published.toml")).unwrap();
    assert!(
        ledger.contains("[a.fedi]\nstatus = \"cancelled\""),
        "{ledger}"
    );

    // b: bsky failed for good, fedi may be on the platform (a thread part
    // went out, the rest is unclear).
    settle(
        &p,
        "b",
        "bsky",
        Outcome::Failed {
            error: "rejected: HTTP 400: text too long".into(),
            retry_at: None,
        },
    );
    settle(
        &p,
        "b",
        "fedi",
        Outcome::Unconfirmed {
            parts: vec![social::state::PublishedPart {
                id: "109".into(),
                url: Some("https://mastodon.example/@a/109".into()),
                cid: None,
            }],
            error: "outcome unknown: connection reset".into(),
        },
    );
    let expect_a = [
        ("bsky".to_string(), "scheduled".to_string(), Value::Null),
        ("fedi".to_string(), "cancelled".to_string(), Value::Null),
    ];
    let check = |p: &TestProject| {
        assert_eq!(states(p, "a"), expect_a);
        let b = states(p, "b");
        assert_eq!(b[0].1, "failed", "{b:?}");
        assert_eq!(b[0].2, "rejected: HTTP 400: text too long");
        assert_eq!(b[1].1, "unconfirmed", "{b:?}");
        let fedi = &status(p, "b")[1];
        assert_eq!(fedi["urls"][0], "https://mastodon.example/@a/109");
    };
    check(&p);
    p.run(&["state", "rebuild"]).code(0);
    check(&p);
    // A fresh clone: nothing but the files and published.toml.
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    check(&p);
    // Nothing of a or b is due but a → bsky.
    let rows = upcoming(&schedule(&p));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("a", "bsky"));

    // Retries survive too: the targets are due again, not failed, after a
    // rebuild and in a fresh clone.
    p.run(&["retry", "b"]).code(0);
    p.run(&["retry", "a", "--to", "fedi"]).code(0);
    let in_play = |p: &TestProject| {
        for post in ["a", "b"] {
            for (account, state, _) in states(p, post) {
                assert_eq!(state, "scheduled", "{post} → {account}");
            }
        }
        assert_eq!(upcoming(&schedule(p)).len(), 2);
    };
    in_play(&p);
    p.run(&["state", "rebuild"]).code(0);
    in_play(&p);
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    in_play(&p);
    // The part already out stays known: the retried thread resumes after it.
    let s = store(&p);
    let t = s.target("b", "fedi").unwrap().unwrap();
    assert_eq!(t.parts.len(), 1);
}

#[test]
fn an_edit_retries_a_failed_target_everywhere() {
    let p = TestProject::with_config(QUEUES);
    p.simple_post("c", "bsky", "at: 2026-05-05 09:00", "Too long");
    schedule(&p);
    settle(
        &p,
        "c",
        "bsky",
        Outcome::Failed {
            error: "rejected".into(),
            retry_at: None,
        },
    );
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    assert_eq!(states(&p, "c")[0].1, "failed");
    // The user shortens the text: published.toml's failure no longer holds.
    p.simple_post("c", "bsky", "at: 2026-05-05 09:00", "Short");
    assert_eq!(states(&p, "c")[0].1, "scheduled");
    std::fs::remove_dir_all(p.root.join(".social")).unwrap();
    assert_eq!(states(&p, "c")[0].1, "scheduled");
}
