//! Pathological frontmatter (run with `cargo bench --bench frontmatter`):
//! every shape of `tests/integration/shapes.rs` at 200 KB and 1 MiB, nested
//! past the limit (one error) and at a legal depth (60), through the whole
//! check that `social validate` runs on a file. Prints the median of 5 runs
//! and the time per MiB, which stays flat when the cost is linear.

#[path = "../tests/integration/shapes.rs"]
#[allow(dead_code)]
mod shapes;

use shapes::SHAPES;
use social::config::Config;
use social::validate::{self, Options};
use std::path::Path;
use std::time::{Duration, Instant};

const CONFIG: &str =
    "timezone = \"UTC\"\n\n[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"a.bsky.social\"\n";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this without `--bench` and expects a quick exit.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let config = Config::parse(Path::new("/p"), Path::new("/p/social.toml"), CONFIG).unwrap();
    let path = Path::new("posts/p.md");
    let time = |src: &str| {
        median(
            (0..5)
                .map(|_| {
                    let t = Instant::now();
                    let r = validate::check_text(path, src, &config, &Options::default());
                    std::hint::black_box(r);
                    t.elapsed()
                })
                .collect(),
        )
    };
    println!(
        "{:<18} {:>7} {:>9} {:>10} {:>10}",
        "shape", "depth", "size", "median", "per MiB"
    );
    let mut cases: Vec<(String, usize, String)> = vec![
        (
            "`[` × 200 KB".into(),
            0,
            format!("---\nid: p\ntitle: {}\n---\n", "[".repeat(200 << 10)),
        ),
        (
            "`[` × 1 MiB".into(),
            0,
            format!("---\nid: p\ntitle: {}\n---\n", "[".repeat(1 << 20)),
        ),
        (
            "TOML `[` × 1 MiB".into(),
            0,
            format!("+++\nid = \"p\"\ntitle = {}\n+++\n", "[".repeat(1 << 20)),
        ),
    ];
    for &shape in SHAPES {
        for depth in if shape.nests() {
            &[60, 100_000][..]
        } else {
            &[1][..]
        } {
            for size in [200 << 10, 1 << 20] {
                cases.push((format!("{shape:?}"), *depth, shape.post(*depth, size)));
            }
        }
    }
    for (name, depth, src) in &cases {
        let t = time(src);
        let per_mib = t.as_secs_f64() * (1 << 20) as f64 / src.len() as f64;
        println!(
            "{name:<18} {depth:>7} {:>8}K {:>8.1}ms {:>8.1}ms",
            src.len() >> 10,
            t.as_secs_f64() * 1e3,
            per_mib * 1e3
        );
    }
}
