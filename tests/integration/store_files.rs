//! The state store's files: a damaged store is one clear error with the way
//! out (`social state rebuild`), and everything under `.social/` is private.

use crate::publish::{Statuses, mastodon, project, run};
use serde_json::Value;

fn status_of(p: &crate::common::TestProject, post: &str) -> String {
    let json: Value = run(p, &["status", "--json"]).code(0).json();
    json.as_array()
        .unwrap()
        .iter()
        .find(|r| r["post"] == post)
        .unwrap_or_else(|| panic!("no {post} in {json:#}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_store_says_so_once_and_rebuild_recovers_it() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let hello = p.simple_post("hello", "fedi", "", "Hello");
    p.simple_post("later", "fedi", "at: 2030-01-01 09:00", "Later");
    run(&p, &["post", &hello]).code(0);
    run(&p, &["schedule"]).code(0);
    let store = p.root.join(".social/state.redb");
    let good = std::fs::read(&store).unwrap();
    assert!(good.len() > 4096);

    let truncated = good[..3000].to_vec();
    let mut garbled = good.clone();
    garbled[..512].fill(0xA5);
    // Damage past the header, page by page (redb panics on some): each run
    // either works or says the store is damaged; never a crash.
    for at in (4096..good.len()).step_by(4096) {
        let mut page = good.clone();
        page[at..(at + 512).min(good.len())].fill(0xA5);
        std::fs::write(&store, &page).unwrap();
        for args in [&["status"][..], &["publish", "--due"]] {
            let r = run(&p, args);
            assert!(!r.stderr.contains("panicked"), "page at {at}: {}", r.stderr);
            if r.code != 2 {
                r.code(0);
            } else {
                assert!(
                    r.stderr.contains("is damaged and cannot be read"),
                    "{}",
                    r.stderr
                );
                assert!(r.stderr.contains("social state rebuild"), "{}", r.stderr);
            }
        }
    }
    std::fs::write(&store, &good).unwrap();
    for (what, damaged) in [("truncated", truncated), ("garbled", garbled)] {
        std::fs::write(&store, &damaged).unwrap();
        for args in [&["status"][..], &["schedule"], &["publish", "--due"]] {
            let r = run(&p, args);
            r.code(2);
            let lines: Vec<&str> = r.stderr.lines().collect();
            assert_eq!(lines.len(), 2, "{what} {args:?}: {}", r.stderr);
            assert!(
                lines[0].starts_with("error: the state store ")
                    && lines[0].contains(".social/state.redb is damaged and cannot be read ("),
                "{what} {args:?}: {}",
                r.stderr
            );
            // redb's detail appears once, not once per error in the chain.
            let detail = lines[0].rsplit_once(" (").unwrap().1.trim_end_matches(')');
            assert_eq!(r.stderr.matches(detail).count(), 1, "{}", r.stderr);
            assert!(
                lines[1].starts_with("  help: run `social state rebuild`"),
                "{}",
                r.stderr
            );
        }
        let r = run(&p, &["state", "rebuild"]);
        r.code(0).stderr_has("1 already posted");
        assert_eq!(
            std::fs::read(p.root.join(".social/state.redb.old")).unwrap(),
            damaged,
            "the damaged store is kept aside, unread"
        );
        assert_eq!(status_of(&p, "hello"), "posted", "{what}");
        assert_eq!(status_of(&p, "later"), "scheduled", "{what}");
        run(&p, &["post", &hello])
            .code(0)
            .stdout_has("1 posted earlier");
        assert_eq!(statuses.created().len(), 1, "published once");
    }
}

/// Every directory and file below `.social/`, with its permission bits.
#[cfg(unix)]
fn modes(dir: &std::path::Path) -> Vec<(String, u32, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let meta = std::fs::metadata(&d).unwrap();
        out.push((
            d.display().to_string(),
            meta.permissions().mode() & 0o777,
            true,
        ));
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                out.push((name, meta.permissions().mode() & 0o777, false));
            }
        }
    }
    out
}

#[cfg(unix)]
#[track_caller]
fn assert_private(dir: &std::path::Path) -> Vec<String> {
    let all = modes(dir);
    for (name, mode, is_dir) in &all {
        let want = if *is_dir { 0o700 } else { 0o600 };
        assert_eq!(*mode, want, "{name} is {mode:o}, not {want:o}: {all:?}");
    }
    all.into_iter()
        .filter(|(_, _, d)| !d)
        .map(|(n, _, _)| n)
        .collect()
}

/// `.social/` is 0700 and every file social writes in it 0600: the store,
/// the lock files, daemon.json, accounts.json, limits.json, the store kept
/// aside by a rebuild.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_under_dot_social_is_private() {
    let statuses = Statuses::default();
    let server = mastodon(&statuses).await;
    let p = project(&server.uri());
    let hello = p.simple_post("hello", "fedi", "", "Hello");
    p.simple_post("later", "fedi", "at: 2030-01-01 09:00", "Later");
    run(&p, &["schedule"]).code(0);
    let dot = p.root.join(".social");
    assert_private(&dot);
    run(&p, &["post", &hello]).code(0);
    assert_private(&dot);

    let mut daemon = p
        .std_cmd(&p.root)
        .env_remove("SOCIAL_NOW")
        .env("SOCIAL_FEDI_TOKEN", "fedi-token")
        .arg("daemon")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while !dot.join("daemon.json").exists() {
        assert!(start.elapsed().as_secs() < 20, "the daemon did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    let with_daemon = assert_private(&dot);
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(with_daemon.contains(&"daemon.json".to_string()));

    // The writers of the account records and the server limits cache.
    social::credentials::AccountsMeta::update(&p.root, "fedi", |_| {}).unwrap();
    let limit = social::config::ServerLimit {
        max_characters: 500,
        fetched_at: chrono::Utc::now(),
    };
    let mut limits = social::config::ServerLimits::default();
    limits.accounts.insert("fedi".into(), limit);
    limits.save(&p.root).unwrap();
    run(&p, &["state", "rebuild"]).code(0);

    let files = assert_private(&dot);
    for name in [
        "state.redb",
        "state.redb.old",
        "daemon.lock",
        "ledger.lock",
        "accounts.json",
        "accounts.lock",
        "limits.json",
    ] {
        assert!(files.contains(&name.to_string()), "no {name} in {files:?}");
    }
}

/// A `.social/` an older social left world-readable is tightened on next use.
#[cfg(unix)]
#[test]
fn a_loose_dot_social_is_tightened_when_opened() {
    use std::os::unix::fs::PermissionsExt;
    let p = crate::common::TestProject::new();
    p.simple_post("later", "fedi", "at: 2030-01-01 09:00", "Later");
    p.run(&["schedule"]).code(0);
    let dot = p.root.join(".social");
    std::fs::write(dot.join("limits.json"), "{\"accounts\": {}}").unwrap();
    let loosen = |path: &std::path::Path, mode| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    for (name, _, is_dir) in modes(&dot) {
        if !is_dir {
            loosen(&dot.join(name), 0o644);
        }
    }
    loosen(&dot, 0o755);
    assert!(modes(&dot).iter().all(|(_, m, _)| m & 0o044 != 0));
    p.run(&["status"]).code(0);
    let files = assert_private(&dot);
    assert!(files.contains(&"limits.json".to_string()), "{files:?}");
}
