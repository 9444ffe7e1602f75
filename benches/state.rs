//! State store benchmarks (run with `cargo bench --bench state`):
//! cold sync of 10,000 posts, no-change re-sync, and next-due lookup with
//! 100,000 targets. Prints the median of repeated runs.

use social::config::Config;
use social::state::Store;
use std::path::Path;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn generate(dir: &Path, n: usize, accounts: &str) {
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/gen_posts.py"))
        .arg(dir)
        .arg(n.to_string())
        .arg(accounts)
        .status()
        .expect("python3 runs benches/gen_posts.py");
    assert!(status.success());
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no
    // such flag and expects a quick exit.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let now = chrono::Utc::now();

    let tmp = tempfile::tempdir().unwrap();
    generate(tmp.path(), 10_000, "3");
    let config = Config::load(tmp.path()).unwrap();
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for i in 0..5 {
        let path = tmp.path().join(format!("state-{i}.redb"));
        let store = Store::open(&path).unwrap();
        let t = Instant::now();
        let r = social::state::sync::sync(&store, &config, now).unwrap();
        cold.push(t.elapsed());
        assert_eq!(r.files, 10_000);
        assert!(
            r.blocked.is_empty(),
            "{:?}",
            &r.diagnostics[..3.min(r.diagnostics.len())]
        );
        let t = Instant::now();
        let r = social::state::sync::sync(&store, &config, now).unwrap();
        warm.push(t.elapsed());
        assert_eq!(r.read, 0);
    }
    println!(
        "sync 10,000 posts into an empty store:   {:>8.1?} (median of 5)",
        median(cold)
    );
    println!(
        "re-sync 10,000 posts, nothing changed:   {:>8.1?} (median of 5)",
        median(warm)
    );

    let big = tempfile::tempdir().unwrap();
    generate(big.path(), 25_000, "4");
    let config = Config::load(big.path()).unwrap();
    let store = Store::open(&big.path().join("state.redb")).unwrap();
    let t = Instant::now();
    social::state::sync::sync(&store, &config, now).unwrap();
    let setup = t.elapsed();
    let targets = store.targets(None).unwrap().len();
    let mut opens = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let db = redb::Database::create(big.path().join("state.redb")).unwrap();
        opens.push(t.elapsed());
        drop(db);
    }
    println!(
        "opening the store at {targets} targets:   {:>8.1?} (median of 20)",
        median(opens)
    );
    let mut lookups = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let next = store.next_due().unwrap();
        lookups.push(t.elapsed());
        assert!(next.is_some());
    }
    println!("sync 25,000 posts ({targets} targets):     {setup:>8.1?}");
    println!(
        "next-due lookup at {targets} targets:     {:>8.1?} (median of 50, includes opening the store)",
        median(lookups)
    );
    let mut timeline = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let rows = store.timeline(usize::MAX).unwrap();
        timeline.push(t.elapsed());
        assert_eq!(rows.len(), targets);
    }
    println!(
        "full timeline read ({targets} targets):    {:>8.1?} (median of 5)",
        median(timeline)
    );
}
