//! A real `social daemon` process against a fake Mastodon on 127.0.0.1, on
//! the real clock (no SOCIAL_NOW): timers, file watching, signals, the lock.

use crate::common::TestProject;
use crate::publish::{Statuses, mastodon, project, run};
use chrono::{SecondsFormat, Utc};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

struct Daemon(Child);

impl Daemon {
    fn start(p: &TestProject) -> Daemon {
        let child = p
            .std_cmd(&p.root)
            .env_remove("SOCIAL_NOW")
            .env("SOCIAL_FEDI_TOKEN", "fedi-token")
            .args(["daemon", "-v"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Ready once it holds the lock and wrote its info.
        let info = p.root.join(".social/daemon.json");
        let start = Instant::now();
        while !info.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(200));
        Daemon(child)
    }

    fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([&format!("-{sig}"), &self.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// Waits for the exit; returns the exit code and stderr.
    fn wait(mut self, limit: Duration) -> (i32, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                if let Some(mut e) = self.0.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                return (status.code().unwrap_or(-1), err);
            }
            assert!(start.elapsed() < limit, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn at(offset_ms: i64) -> (String, SystemTime) {
    let t = Utc::now() + chrono::Duration::milliseconds(offset_ms);
    let t = t - chrono::Duration::nanoseconds(t.timestamp_subsec_nanos() as i64);
    (
        t.to_rfc3339_opts(SecondsFormat::Secs, true),
        SystemTime::from(t),
    )
}

async fn wait_for(statuses: &Statuses, n: usize, limit: Duration) {
    let start = Instant::now();
    while statuses.created().len() < n {
        assert!(
            start.elapsed() < limit,
            "only {:?} arrived",
            statuses.created()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fires_on_time_and_within_a_second_of_an_edit() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let (when, due) = at(2500);
    p.simple_post(
        "soon",
        "fedi",
        &format!("at: {when}"),
        "Scheduled two seconds ahead",
    );
    let d = Daemon::start(&p);
    wait_for(&statuses, 1, Duration::from_secs(10)).await;
    let arrived = statuses.arrivals.lock().unwrap()[0];
    let late = arrived
        .duration_since(due)
        .unwrap_or_else(|e| panic!("fired {:?} early", e.duration()));
    assert!(late < Duration::from_millis(500), "fired {late:?} late");

    // An edit that adds a due post: published within a second.
    let (past, _) = at(-1000);
    let written = SystemTime::now();
    p.simple_post("now", "fedi", &format!("at: {past}"), "Due right away");
    wait_for(&statuses, 2, Duration::from_secs(5)).await;
    let arrived = statuses.arrivals.lock().unwrap()[1];
    let delay = arrived.duration_since(written).unwrap();
    assert!(
        delay < Duration::from_secs(1),
        "fired {delay:?} after the edit"
    );
    assert_eq!(
        statuses.created(),
        ["Scheduled two seconds ahead", "Due right away"]
    );

    // status names the running daemon.
    let st = p.run_cmd(p.cmd().env_remove("SOCIAL_NOW").args(["status"]));
    st.code(0)
        .stdout_has(&format!("daemon: running (pid {}", d.0.id()));
    d.signal("TERM");
    let (code, err) = d.wait(Duration::from_secs(10));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("published") && err.contains("post=soon"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_slow_request_finishes_it() {
    let statuses = Statuses::default();
    *statuses.hold_first.lock().unwrap() = Some(Duration::from_secs(2));
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let (past, _) = at(-1000);
    p.simple_post("slow", "fedi", &format!("at: {past}"), "A slow one");
    let d = Daemon::start(&p);
    wait_for(&statuses, 1, Duration::from_secs(10)).await;
    // The server holds the answer for 2 s: stop the daemon meanwhile.
    d.signal("TERM");
    let (code, err) = d.wait(Duration::from_secs(20));
    assert_eq!(code, 0, "{err}");
    let st = run(&p, &["status", "slow", "--json"]).json();
    assert_eq!(st[0]["status"], "posted", "{err}");
    assert_eq!(statuses.created().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_is_refused() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let d = Daemon::start(&p);
    let second = p.run_cmd(p.cmd().env_remove("SOCIAL_NOW").args(["daemon"]));
    second.code(2).stderr_has(&format!(
        "another social daemon is running for this project (pid {}",
        d.0.id()
    ));
    // `publish --due` from cron is fine meanwhile: claims in the store decide.
    run(&p, &["publish", "--due"]).code(0);
    d.signal("INT");
    assert_eq!(d.wait(Duration::from_secs(10)).0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_only_the_catch_up_window_is_published() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let (recent, _) = at(-30 * 60 * 1000);
    let (old, _) = at(-3 * 3600 * 1000);
    p.simple_post(
        "recent",
        "fedi",
        &format!("at: {recent}"),
        "Missed by half an hour",
    );
    p.simple_post(
        "old",
        "fedi",
        &format!("at: {old}"),
        "Missed by three hours",
    );
    let d = Daemon::start(&p);
    wait_for(&statuses, 1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(statuses.created(), ["Missed by half an hour"]);
    let st = p
        .run_cmd(
            p.cmd()
                .env_remove("SOCIAL_NOW")
                .args(["status", "old", "--json"]),
        )
        .json();
    assert_eq!(st[0]["status"], "missed", "{st}");
    assert!(
        st[0]["scheduled"].is_string(),
        "a missed target keeps its time: {st}"
    );
    assert!(
        st[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("missed its time by 3h"),
        "{st}"
    );
    d.signal("TERM");
    assert_eq!(d.wait(Duration::from_secs(10)).0, 0);
}
