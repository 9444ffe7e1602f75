//! `init`, `new` and `preview`, and behaviour at the edges of a pipe.

use crate::common::{JPEG, TestProject};
use std::io::{BufRead, BufReader};
use std::process::Stdio;

// ── init ────────────────────────────────────────────────────────────────

#[test]
fn init_creates_a_project_that_validates() {
    let p = TestProject::bare();
    let run = p.run(&["init", "site", "--timezone", "Europe/Berlin"]);
    run.code(0).stderr_has("created");
    let site = p.root.join("site");
    let config = std::fs::read_to_string(site.join("social.toml")).unwrap();
    assert!(config.contains("timezone = \"Europe/Berlin\""), "{config}");
    let post = std::fs::read_to_string(site.join("posts/hello-social.md")).unwrap();
    assert!(post.starts_with("---\nid: hello-social\n"), "{post}");
    let gitignore = std::fs::read_to_string(site.join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l == ".social/"), "{gitignore}");

    let run = p.run_cmd(p.cmd_in(&site).arg("validate"));
    run.code(0)
        .stdout_has("ok: checked 1 file (1 target): 0 errors, 0 warnings");
    let run = p.run_cmd(p.cmd_in(&site).args(["validate", "--strict"]));
    run.code(0);
    let run = p.run_cmd(p.cmd_in(&site).args(["preview", "posts/hello-social.md"]));
    run.code(0).stdout_has("no problems");
}

/// Runs the "Next:" lines `init` printed, as a user types them, from the
/// directory `init` ran in: each must succeed.
fn run_next_steps(p: &TestProject, stderr: &str, start: &std::path::Path) -> usize {
    let mut dir = start.to_path_buf();
    let lines: Vec<&str> = stderr
        .lines()
        .skip_while(|l| !l.starts_with("Next:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(str::trim)
        .collect();
    for line in &lines {
        let words = shell_words(line);
        match words[0].as_str() {
            "cd" => dir = dir.join(&words[1]),
            "social" => {
                let run = p.run_cmd(p.cmd_in(&dir).args(&words[1..]));
                assert_eq!(
                    run.code,
                    0,
                    "`{line}` in {}:\n{}{}",
                    dir.display(),
                    run.stdout,
                    run.stderr
                );
            }
            other => panic!("unexpected command `{other}` in the hints:\n{stderr}"),
        }
    }
    lines.len()
}

/// Splits a line as a POSIX shell would, for the quoting `init` uses.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut w = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !w.is_empty() {
                    words.push(std::mem::take(&mut w));
                }
                any = false;
            }
            c => w.push(c),
        }
    }
    if any || !w.is_empty() {
        words.push(w);
    }
    words
}

#[test]
fn init_hints_work_typed_where_the_user_is() {
    for dir in ["site", "my site", "nested/dir"] {
        let p = TestProject::bare();
        let run = p.run(&["init", dir, "--timezone", "UTC"]);
        run.code(0);
        let n = run_next_steps(&p, &run.stderr, &p.root);
        assert!(n >= 3, "cd, validate and preview: {}", run.stderr);
    }
    // In the current directory: no `cd`.
    let p = TestProject::bare();
    let run = p.run(&["init"]);
    run.code(0);
    assert!(!run.stderr.contains("  cd "), "{}", run.stderr);
    assert!(run_next_steps(&p, &run.stderr, &p.root) >= 2);
}

#[test]
fn init_in_the_current_directory_with_the_default_timezone() {
    let p = TestProject::bare();
    p.run(&["init"]).code(0);
    assert!(p.root.join("social.toml").is_file());
    p.validate(&[]).code(0);
}

#[test]
fn init_twice_is_a_usage_error() {
    let p = TestProject::bare();
    p.run(&["init", "site"]).code(0);
    let before = std::fs::read_to_string(p.root.join("site/social.toml")).unwrap();
    p.run(&["init", "site"])
        .code(2)
        .stderr_has("already holds a social project");
    assert_eq!(
        std::fs::read_to_string(p.root.join("site/social.toml")).unwrap(),
        before,
        "left untouched"
    );
}

#[test]
fn init_keeps_an_existing_gitignore() {
    let p = TestProject::bare();
    p.write("site/.gitignore", "target/");
    p.run(&["init", "site", "--timezone", "UTC"]).code(0);
    let gitignore = std::fs::read_to_string(p.root.join("site/.gitignore")).unwrap();
    assert!(gitignore.starts_with("target/\n"), "{gitignore}");
    assert_eq!(gitignore.lines().filter(|l| *l == ".social/").count(), 1);
}

#[test]
fn init_with_an_unknown_timezone() {
    let p = TestProject::bare();
    p.run(&["init", "site", "--timezone", "Europe/Berlinn"])
        .code(2)
        .stderr_has("Europe/Berlin");
    assert!(!p.root.join("site/social.toml").exists());
}

// ── new ─────────────────────────────────────────────────────────────────

#[test]
fn new_creates_a_post_with_a_stable_id() {
    let p = TestProject::new();
    let run = p.run(&["new", "Title", "--at", "2026-12-01 09:00", "--to", "bsky"]);
    run.code(0);
    assert_eq!(run.stdout.trim(), "posts/2026-12-01-title.md");
    let src = std::fs::read_to_string(p.root.join("posts/2026-12-01-title.md")).unwrap();
    assert!(src.contains("\nid: 2026-12-01-title\n"), "{src}");
    assert!(src.contains("\nat: 2026-12-01 09:00\n"), "{src}");
    assert!(src.contains("\nto: [bsky]\n"), "{src}");
    assert!(src.contains("status: draft"), "{src}");

    let run = p.run(&["new", "Title", "--at", "2026-12-01 09:00", "--to", "bsky"]);
    run.code(0);
    assert_eq!(run.stdout.trim(), "posts/2026-12-01-title-2.md");
    let src = std::fs::read_to_string(p.root.join("posts/2026-12-01-title-2.md")).unwrap();
    assert!(src.contains("\nid: 2026-12-01-title-2\n"), "{src}");

    p.validate(&[]).code(0).stdout_has("checked 2 files");
    let v = p.preview_json("posts/2026-12-01-title.md", &[]);
    assert_eq!(v["at"], "2026-12-01T08:00:00+00:00");
}

#[test]
fn new_avoids_ids_taken_by_renamed_files() {
    let p = TestProject::new();
    p.post(
        "renamed.md",
        "---\nid: 2026-12-01-launch\nto: [bsky]\n---\nHi\n",
    );
    let run = p.run(&["new", "Launch", "--at", "2026-12-01 09:00"]);
    run.code(0);
    assert_eq!(run.stdout.trim(), "posts/2026-12-01-launch-2.md");
    p.validate(&[]).code(0).stdout_lacks("is also used by");
}

#[test]
fn new_without_at_uses_the_pinned_clock() {
    let p = TestProject::new();
    let run = p.run(&[
        "new",
        "Quick note: it's here!",
        "--to",
        "bsky,fedi",
        "--ready",
    ]);
    run.code(0);
    assert_eq!(run.stdout.trim(), "posts/2026-05-04-quick-note-its-here.md");
    let src =
        std::fs::read_to_string(p.root.join("posts/2026-05-04-quick-note-its-here.md")).unwrap();
    assert!(
        src.contains("title: \"Quick note: it's here!\""),
        "a title with `: ` is quoted: {src}"
    );
    assert!(src.contains("status: ready"), "{src}");
    assert!(!src.contains("\nat:"), "{src}");
    p.validate(&[]).code(0);

    // `+DURATION` counts from SOCIAL_NOW (10:00 UTC = 12:00 in Berlin).
    let run = p.run(&["new", "Later", "--at", "+2h", "--to", "bsky"]);
    run.code(0);
    let src = std::fs::read_to_string(p.root.join(run.stdout.trim())).unwrap();
    assert!(src.contains("\nat: 2026-05-04 14:00\n"), "{src}");
}

#[test]
fn new_with_an_unknown_account_or_time() {
    let p = TestProject::new();
    p.run(&["new", "Title", "--to", "bksy"])
        .code(2)
        .stderr_has("unknown account `bksy`")
        .stderr_has("did you mean `bsky`?");
    p.run(&["new", "Title", "--at", "2026-03-29 02:30"])
        .code(2)
        .stderr_has("does not exist");
    p.run(&["new", "Title", "--queue", "nope"])
        .code(2)
        .stderr_has("unknown queue");
    assert_eq!(
        std::fs::read_dir(p.root.join("posts")).unwrap().count(),
        0,
        "no file left behind"
    );
}

#[test]
fn new_with_a_queue() {
    let p = TestProject::new();
    let run = p.run(&["new", "Weekly tip", "--queue", "weekdays"]);
    run.code(0);
    let src = std::fs::read_to_string(p.root.join(run.stdout.trim())).unwrap();
    assert!(src.contains("\nqueue: weekdays\n"), "{src}");
    p.validate(&[]).code(0);
}

// ── preview ─────────────────────────────────────────────────────────────

#[test]
fn preview_text_shows_rendered_text_and_counts() {
    let p = TestProject::new();
    p.write("media/a.jpg", JPEG);
    let file = p.post(
        "p.md",
        "---\nid: p\nat: 2026-12-01 09:00\nto: [bsky, fedi]\nmedia:\n  - {path: media/a.jpg, alt: The dashboard}\n---\nHello **world**, see [the docs](https://example.com/docs) #rust\n",
    );
    let run = p.run(&["preview", &file]);
    run.code(0);
    run.stdout_has("posts/p.md  id p")
        .stdout_has("when: 2026-12-01 09:00 Europe/Berlin (in 210d)")
        .stdout_has("━━ bsky · Bluesky @alice.bsky.social")
        .stdout_has("31/300 characters · 31/3000 bytes")
        .stdout_has("  │ Hello world, see the docs #rust")
        .stdout_has("↳ “the docs” links to https://example.com/docs")
        .stdout_has("━━ fedi · Mastodon https://mastodon.example")
        .stdout_has("  │ Hello world, see the docs (https://example.com/docs) #rust")
        .stdout_has("57/500 characters")
        .stdout_has("media/a.jpg (image/jpeg, 22 bytes) alt: “The dashboard”")
        .stdout_has("no problems");
    assert!(!run.stdout.contains('\u{1b}'), "NO_COLOR: no escape codes");
}

#[test]
fn preview_shows_thread_parts_and_problems() {
    let p = TestProject::new();
    let file = p.simple_post(
        "th",
        "x",
        "thread: true",
        &format!("one\n---\n{}", "b".repeat(281)),
    );
    let run = p.run(&["preview", &file]);
    run.code(1);
    run.stdout_has("[1/2] 3/280 weighted characters")
        .stdout_has("[2/2] 281/280 weighted characters")
        .stdout_has("problems (1 error, 0 warnings)");
    run.diagnostic("over the limit");
}

#[test]
fn preview_to_other_accounts() {
    let p = TestProject::new();
    let file = p.simple_post("to", "bsky", "", &"a".repeat(290));
    p.run(&["preview", &file]).code(0);
    let run = p.run(&["preview", &file, "--to", "x,fedi"]);
    run.code(1)
        .stdout_has("290/280 weighted characters")
        .stdout_has("290/500 characters")
        .stdout_lacks("/300");
    p.run(&["preview", &file, "--to", "nobody"])
        .code(2)
        .stderr_has("unknown account `nobody`");
    p.run(&["preview", "posts/missing.md"])
        .code(2)
        .stderr_has("no such file");
}

#[test]
fn preview_reads_stdin() {
    let p = TestProject::new();
    // The example of `social preview --help`. (It exits 1: the text names no
    // account, and preview reports that even when `--to` picks some.)
    let run = p.run_cmd(
        p.cmd()
            .args(["preview", "-", "--to", "bsky"])
            .write_stdin("Hello #world from stdin\n"),
    );
    run.stdout_has("<stdin>")
        .stdout_has("  │ Hello #world from stdin")
        .stdout_has("23/300 characters")
        .stdout_lacks("not a valid post id");

    let run = p.run_cmd(
        p.cmd()
            .args(["preview", "-", "--json"])
            .write_stdin("---\nid: piped\nto: [x]\n---\nPiped text\n"),
    );
    run.code(0);
    let v = run.json();
    assert_eq!(v["path"], "<stdin>");
    assert_eq!(v["id"], "piped");
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "x")),
        ["Piped text"]
    );

    let run = p.run_cmd(
        p.cmd()
            .args(["preview", "-"])
            .write_stdin(b"---\nid: bad\n---\n\xff\n".as_slice()),
    );
    run.code(2).stderr_has("not UTF-8");
}

#[test]
fn preview_reads_a_plain_body_from_stdin() {
    let config = crate::common::CONFIG.replace(
        "[accounts.bsky]",
        "[defaults]\nto = [\"bsky\"]\n\n[accounts.bsky]",
    );
    let p = TestProject::with_config(&config);
    let run = p.run_cmd(
        p.cmd()
            .args(["preview", "-"])
            .write_stdin("Hello #world from stdin\n"),
    );
    run.code(0)
        .stdout_has("  │ Hello #world from stdin")
        .stdout_has("23/300 characters")
        .stdout_has("no problems");
}

#[test]
fn preview_of_a_malformed_file() {
    let p = TestProject::new();
    let file = p.post("bad.md", "---\nid: bad\nto: [bsky\n");
    let run = p.run(&["preview", &file]);
    run.code(1).stdout_has("never closed");
    let v = p.preview_json(&file, &[]);
    assert_eq!(v["id"], serde_json::Value::Null);
    assert_eq!(v["diagnostics"][0]["line"], 1);
}

// ── pipes ───────────────────────────────────────────────────────────────

#[test]
fn validate_into_a_closed_pipe_does_not_panic() {
    let p = TestProject::new();
    // Far more output than a pipe buffer holds, so the writer meets EPIPE.
    for i in 0..400 {
        p.post(
            &format!("bad{i:03}.md"),
            format!(
                "---\nid: bad{i:03}\nto: [nobody, bksy, x]\n---\n{}\n",
                "a".repeat(300)
            ),
        );
    }
    for format in ["text", "json", "github"] {
        let mut child = p
            .std_cmd(&p.root)
            .args(["validate", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        // The reader is dropped here: like `social validate | head -1`.
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{format}: {:?} {stderr}",
            out.status
        );
    }
}

#[test]
fn completions_are_generated() {
    let p = TestProject::bare();
    for shell in ["bash", "zsh", "fish"] {
        let run = p.run(&["completions", shell]);
        run.code(0).stdout_has("validate");
    }
}

// ── times in the past ───────────────────────────────────────────────────

#[test]
fn a_time_in_the_past_is_never_a_surprise() {
    // SOCIAL_NOW is 2026-05-04T10:00:00Z, 12:00 in Berlin; catch_up is the
    // default hour.
    let p = TestProject::new();
    let new = p.run(&[
        "new",
        "Late",
        "--at",
        "2026-05-04 08:00",
        "--ready",
        "--to",
        "bsky",
    ]);
    new.code(0)
        .stderr_has("2026-05-04 08:00 is 4h ago, more than catch_up = 1h")
        .stderr_has("will be marked missed")
        .stderr_has("social post posts/2026-05-04-late.md");
    // Within catch_up: said, without alarm.
    p.run(&[
        "new",
        "Just now",
        "--at",
        "2026-05-04 11:30",
        "--to",
        "bsky",
    ])
    .code(0)
    .stderr_has("is 30m ago: once ready, the post goes out at the next `social publish --due`");
    // Relative and named times in the future say nothing.
    for (title, when, at) in [
        ("In two hours", "+2h", "2026-05-04 14:00"),
        ("Tomorrow", "tomorrow", "2026-05-05 09:00"),
        ("Evening", "tomorrow 18:30", "2026-05-05 18:30"),
    ] {
        let r = p.run(&["new", title, "--at", when]);
        r.code(0);
        assert!(!r.stderr.contains("ago"), "{when}: {}", r.stderr);
        let file = r.stdout.trim();
        let text = std::fs::read_to_string(p.root.join(file)).unwrap();
        assert!(text.contains(&format!("at: {at}\n")), "{when}: {text}");
    }

    // validate and preview point at the `at` line.
    let v = p.validate(&["posts/2026-05-04-late.md"]);
    v.code(0);
    let d = v.diagnostic("will be marked missed");
    assert_eq!(
        (d.path.as_str(), d.line),
        ("posts/2026-05-04-late.md", 4),
        "{}",
        v.stdout
    );
    assert!(
        d.message
            .contains("`at` is 4h ago, more than catch_up = 1h"),
        "{}",
        d.message
    );
    assert!(
        v.help_after("will be marked missed")
            .contains("social post posts/2026-05-04-late.md"),
        "{}",
        v.stdout
    );
    p.run(&["preview", "posts/2026-05-04-late.md"])
        .code(0)
        .stdout_has("will be marked missed");
    // schedule, from the store, before the next run marks it.
    p.run(&["schedule"])
        .code(0)
        .stderr_has("2026-05-04-late: 2026-05-04 08:00 is 4h ago")
        .stderr_has("will be marked missed");
    // A draft is not late yet, and a post published long ago is not late.
    p.simple_post(
        "old-draft",
        "bsky",
        "at: 2026-05-01 09:00\nstatus: draft",
        "Draft",
    );
    p.simple_post("sent", "bsky", "at: 2026-05-01 09:00", "Sent long ago");
    let hash = {
        let src = std::fs::read_to_string(p.root.join("posts/sent.md")).unwrap();
        social::content::parse_post(
            std::path::Path::new("posts/sent.md"),
            &src,
            chrono_tz::Tz::UTC,
        )
        .post
        .unwrap()
        .content_hash()
    };
    p.write(
        "published.toml",
        format!(
            "[sent.bsky]\npublished_at = \"2026-05-01T07:00:00Z\"\nids = [\"at://did:plc:abc/app.bsky.feed.post/3kabc\"]\nurls = [\"https://bsky.app/profile/a/post/3kabc\"]\ncontent_hash = \"{hash}\"\n"
        ),
    );
    let v = p.validate(&["posts/old-draft.md", "posts/sent.md"]);
    v.code(0).stdout_lacks("missed");
}

#[test]
fn an_unknown_account_in_to_lists_the_accounts_there_are() {
    let p = TestProject::new();
    let file = p.simple_post("p", "bsky", "", "Hello");
    for cmd in [
        vec!["post", file.as_str(), "--to", "nope"],
        vec!["preview", file.as_str(), "--to", "nope"],
        vec!["new", "Title", "--to", "nope"],
        vec!["cancel", "p", "--to", "nope"],
    ] {
        let run = p.run(&cmd);
        run.code(2)
            .stderr_has("unknown account `nope`")
            .stderr_has("help: accounts in social.toml: bsky, fedi");
    }
    // A near miss gets the suggestion instead.
    p.run(&["post", &file, "--to", "bskx"])
        .code(2)
        .stderr_has("did you mean `bsky`?");
}
