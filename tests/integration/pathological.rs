//! Pathological frontmatter: deeply nested, very long or very many values.
//! Every shape, at every depth and size up to 1 MiB (the file cap), is read in
//! time linear in its size, and nesting deeper than 64 levels gets one clear
//! error at its place. Before the nesting check, 200 KB of `[` took 200 s in
//! a debug build (the YAML parser's work grows with the square of the depth).

use crate::common::TestProject;
use crate::shapes::{SHAPES, Shape};
use proptest::prelude::*;
use social::config::Config;
use social::validate::{self, Options};
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::parse(
            Path::new("/nonexistent"),
            Path::new("/nonexistent/social.toml"),
            crate::common::CONFIG,
        )
        .unwrap()
    })
}

/// CPU time this thread has used (Linux: from schedstat, so that other work
/// on a shared machine does not count), else the wall clock.
fn cpu_time() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| {
            static START: OnceLock<Instant> = OnceLock::new();
            START.get_or_init(Instant::now).elapsed()
        })
}

/// The budget for checking `bytes` of input: linear in the size. Generous
/// (a debug build is ~10× slower than release, where 1 MiB takes < 100 ms),
/// but a quadratic cost blows it by orders of magnitude at these sizes.
fn budget(bytes: usize) -> Duration {
    let per_mib = if cfg!(debug_assertions) { 4000 } else { 400 };
    Duration::from_millis(50 + (per_mib * bytes as u64) / (1 << 20))
}

/// Validates `src` on a thread of its own, failing when it takes more than
/// the budget (without waiting for a run that would take minutes).
fn validate_in_budget(src: String) -> validate::FileReport {
    let limit = budget(src.len());
    let (tx, rx) = std::sync::mpsc::channel();
    let len = src.len();
    std::thread::spawn(move || {
        let start = cpu_time();
        let report =
            validate::check_text(Path::new("posts/p.md"), &src, config(), &Options::default());
        let _ = tx.send((report, cpu_time() - start));
    });
    // Wall time may exceed CPU time on a busy machine: wait longer, then judge by CPU time.
    let (report, took) = rx
        .recv_timeout(limit * 10)
        .unwrap_or_else(|_| panic!("{len} bytes took more than {:?}", limit * 10));
    assert!(
        took <= limit,
        "{len} bytes took {took:?}, more than {limit:?}"
    );
    report
}

fn nesting_errors(report: &validate::FileReport) -> Vec<&social::diag::Diagnostic> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("levels deep"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_shape_depth_and_size_is_checked_in_linear_time(
        shape in prop::sample::select(SHAPES.to_vec()),
        depth in prop_oneof![1usize..=60, 70usize..=20_000],
        size in prop_oneof![1usize..=4096, 4096usize..=1 << 20],
    ) {
        let src = shape.post(depth, size);
        let report = validate_in_budget(src);
        let deep = nesting_errors(&report);
        if shape.nests() && depth >= 70 {
            prop_assert_eq!(deep.len(), 1, "{:?}", report.diagnostics);
            prop_assert!(deep[0].message.contains("more than 64 levels deep"));
            prop_assert!(deep[0].line >= 4 && deep[0].column >= 1);
            prop_assert!(deep[0].help.as_deref().is_some_and(|h| !h.is_empty()));
            // The one problem: nothing else is reported about the block.
            prop_assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
        } else {
            prop_assert!(deep.is_empty(), "{:?}", deep);
        }
    }
}

/// The cases, at the size of the file cap: 1 MiB of `[` in YAML and
/// TOML, and a legal depth (60) with the rest of the MiB flat at that depth.
#[test]
fn a_mib_of_brackets_is_one_error_in_budget() {
    for (src, toml) in [
        (
            format!("---\nid: p\ntitle: {}\n---\n", "[".repeat(1 << 20)),
            false,
        ),
        (
            format!("+++\nid = \"p\"\ntitle = {}\n+++\n", "[".repeat(1 << 20)),
            true,
        ),
        (
            format!("---\nid: p\ntitle: {}\n---\n", "{a: [".repeat(1 << 18)),
            false,
        ),
    ] {
        let report = validate_in_budget(src);
        assert_eq!(report.diagnostics.len(), 1, "{:?}", report.diagnostics);
        let d = &report.diagnostics[0];
        assert_eq!(d.line, 3);
        assert!(
            d.message
                .starts_with("the value of `title` is nested more than 64 levels deep"),
            "{d:?}"
        );
        let quoted = if toml {
            "title = \"[[…]]\""
        } else {
            "title: \"[[…]]\""
        };
        assert!(d.help.as_deref().unwrap().contains(quoted), "{d:?}");
    }
    for shape in [
        Shape::YamlWideAtDepth,
        Shape::YamlManyVariants,
        Shape::TomlManyKeys,
    ] {
        let report = validate_in_budget(shape.post(60, 1 << 20));
        assert!(nesting_errors(&report).is_empty());
    }
}

/// Through the binary: `validate` and `preview` name the file, line and
/// column, say what is wrong and how to fix it, and exit 1.
#[test]
fn validate_and_preview_report_deep_nesting_at_its_place() {
    let p = TestProject::new();
    let path = p.post(
        "deep.md",
        format!(
            "---\nid: deep\nto: [bsky]\ntitle: {}\n---\nHi\n",
            "[".repeat(200_000)
        ),
    );
    let start = Instant::now();
    let run = p.validate(&[&path]);
    run.code(1);
    let d = run.diagnostic("levels deep");
    assert_eq!((d.path.as_str(), d.line, d.column), (path.as_str(), 4, 71));
    assert_eq!(
        d.message,
        "the value of `title` is nested more than 64 levels deep (brackets `[` or `{` opened inside each other)"
    );
    assert!(run.help_after("levels deep").contains("quote it"));
    let run = p.run(&["preview", &path]);
    run.code(1);
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("nested more than 64 levels deep"),
        "{run:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
