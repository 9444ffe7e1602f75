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
            .stdout_has("already posted");
        assert_eq!(statuses.created().len(), 1, "published once");
    }
}
