//! Post files: frontmatter syntax, malformed files, every key, and times.

use crate::common::{JPEG, TestProject};
use serde_json::json;

// ── Syntax ──────────────────────────────────────────────────────────────

#[test]
fn yaml_frontmatter() {
    let p = TestProject::new();
    let file = p.post("y.md", "---\nid: yaml-post\nat: 2026-12-01 09:00\nto: [bsky, fedi]\nstatus: ready\n---\nHello from YAML\n");
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    assert_eq!(v["id"], "yaml-post");
    assert_eq!(v["at"], "2026-12-01T08:00:00+00:00");
    assert_eq!(v["status"], "ready");
    let accounts: Vec<_> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account"].clone())
        .collect();
    assert_eq!(accounts, [json!("bsky"), json!("fedi")]);
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "bsky")),
        ["Hello from YAML"]
    );
}

#[test]
fn toml_frontmatter() {
    let p = TestProject::new();
    let file = p.post(
        "t.md",
        "+++\nid = \"toml-post\"\nat = \"2026-12-01 09:00\"\nto = [\"bsky\", \"x\"]\nthread = true\n\n[[media]]\npath = \"media/a.jpg\"\nalt = \"A\"\n\n[variants]\nx = \"Short for X\"\n+++\nHello from TOML\n---\nPart two\n",
    );
    p.write("media/a.jpg", JPEG);
    let run = p.validate(&[&file]);
    run.code(0);
    let v = p.preview_json(&file, &[]);
    assert_eq!(v["id"], "toml-post");
    assert_eq!(v["at"], "2026-12-01T08:00:00+00:00");
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "bsky")),
        ["Hello from TOML", "Part two"]
    );
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "x")),
        ["Short for X"]
    );
    assert_eq!(v["media"][0]["alt"], "A");
}

#[test]
fn toml_native_datetime() {
    let p = TestProject::new();
    let file = p.post(
        "t.md",
        "+++\nid = \"dt\"\nat = 2026-12-01T09:00:00+01:00\nto = [\"bsky\"]\n+++\nHi\n",
    );
    assert_eq!(
        p.preview_json(&file, &[])["at"],
        "2026-12-01T08:00:00+00:00"
    );
    let file = p.post(
        "t2.md",
        "+++\nid = \"dt2\"\nat = 2026-12-01 09:00:00\nto = [\"bsky\"]\n+++\nHi\n",
    );
    assert_eq!(
        p.preview_json(&file, &[])["at"],
        "2026-12-01T08:00:00+00:00",
        "a TOML local datetime is in the project timezone"
    );
}

#[test]
fn crlf_line_endings() {
    let p = TestProject::new();
    let file = p.post(
        "crlf.md",
        "---\r\nid: crlf\r\nto: [bsky]\r\nthread: true\r\n---\r\none\r\n---\r\ntwo\r\n",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "bsky")),
        ["one", "two"]
    );
}

#[test]
fn utf8_byte_order_mark_is_skipped() {
    let p = TestProject::new();
    let file = p.post("bom.md", "\u{feff}---\nid: bom\nto: [bsky]\n---\nHi\n");
    p.validate(&[&file]).code(0);
}

#[test]
fn unknown_key_gets_suggestion_at_its_line() {
    let p = TestProject::new();
    let file = p.post(
        "k.md",
        "---\nid: k\nto: [bsky]\nat_time: 2026-12-01 09:00\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("unknown key `at_time`");
    assert_eq!((d.line, d.column, d.severity.as_str()), (4, 1, "error"));
    assert_eq!(
        run.help_after("unknown key `at_time`"),
        "did you mean `at`?"
    );
}

#[test]
fn unknown_keys_in_toml_and_misspelt_keys() {
    let p = TestProject::new();
    let file = p.post(
        "k.md",
        "+++\nid = \"k\"\nto = [\"bsky\"]\n\nvisiblity = \"public\"\n+++\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    assert_eq!(run.diagnostic("unknown key `visiblity`").line, 5);
    assert_eq!(run.help_after("visiblity"), "did you mean `visibility`?");
}

#[test]
fn unknown_media_key_gets_suggestion() {
    let p = TestProject::new();
    let file = p.post(
        "m.md",
        "---\nid: m\nto: [bsky]\nmedia:\n  - path: media/a.jpg\n    alt_text: A\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("unknown media key `alt_text`");
    assert_eq!(d.line, 6);
    assert_eq!(run.help_after("alt_text"), "did you mean `alt`?");
}

#[test]
fn yaml_syntax_error_points_at_its_file_line() {
    let p = TestProject::new();
    // Line 6 of the file (line 5 of the block).
    let file = p.post(
        "s.md",
        "---\nid: s\nto: [bsky]\n\nlang: en\ncw: a: b\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = &run.diagnostics()[0];
    assert_eq!(
        (d.path.as_str(), d.line, d.severity.as_str()),
        (file.as_str(), 6, "error"),
        "{}",
        run.stdout
    );
}

#[test]
fn yaml_syntax_error_inside_a_list_is_not_swallowed() {
    let p = TestProject::new();
    let file = p.post("s.md", "---\nid: s\n\nlang: en\nto: [bsky\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = &run.diagnostics()[0];
    assert!(
        d.line >= 5,
        "the error is at or after the unclosed `[` on line 5: {}",
        run.stdout
    );
    assert!(
        !d.message.contains("expected a name or a list of names"),
        "the syntax error is reported: {}",
        d.message
    );
}

#[test]
fn yaml_messages_name_file_lines_not_block_lines() {
    let p = TestProject::new();
    // The quoted string opened on line 5 is never closed.
    let file = p.post("q.md", "---\nid: q\nto: [bsky]\n\ncw: \"open\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    // The stream ends at the closing `---` (line 6); libyaml's own mention
    // of where the string opened must name the file line, not the block line.
    let d = &run.diagnostics()[0];
    assert_eq!(
        (d.line, d.message.as_str()),
        (
            6,
            "found unexpected end of stream, while scanning a quoted scalar at line 5 column 5"
        ),
        "{}",
        run.stdout
    );

    let file = p.post("f.md", "---\nid: f\nto: [bsky]\nlang: [en\n---\nHi\n");
    let run = p.validate(&[&file]);
    let d = &run.diagnostics()[0];
    assert_eq!(
        (d.line, d.message.as_str()),
        (
            5,
            "did not find expected ',' or ']', while parsing a flow sequence at line 4 column 7"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn shape_errors_name_what_is_expected() {
    let p = TestProject::new();
    let file = p.post("m.md", "---\nid: m\nto: [bsky]\nmedia: [a.jpg]\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("media");
    assert_eq!(d.line, 4);
    assert!(
        d.message.contains("a media item with `path` and `alt`"),
        "no internal type names: {}",
        d.message
    );
    let file = p.post("l.md", "---\n- just\n- a list\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    assert!(
        !run.stdout.contains("Raw"),
        "no internal type names: {}",
        run.stdout
    );
}

#[test]
fn toml_keys_inside_multiline_strings_and_dotted_keys() {
    let p = TestProject::new();
    let file = p.post(
        "t.md",
        "+++\nid = \"t\"\nto = [\"bsky\", \"x\"]\ncw = \"\"\"\nnot = a key\n\"\"\"\nvariants.x = \"For X\"\n+++\nBody\n",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "x")),
        ["For X"]
    );
}

#[test]
fn toml_syntax_error_points_at_its_file_line() {
    let p = TestProject::new();
    let file = p.post(
        "s.md",
        "+++\nid = \"s\"\n\nto = [\"bsky\"]\ncw = \"unterminated\n+++\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = &run.diagnostics()[0];
    assert_eq!(
        (d.line, d.severity.as_str()),
        (5, "error"),
        "{}",
        run.stdout
    );
}

#[test]
fn type_errors_point_at_the_key() {
    let p = TestProject::new();
    let cases = [
        (
            "status",
            "---\nid: s1\nto: [bsky]\n\nstatus: [x]\n---\nHi\n",
            5,
        ),
        ("to", "---\nid: s2\n\nto: {a: 1}\n---\nHi\n", 4),
        (
            "thread",
            "---\nid: s3\nto: [bsky]\n\n\nthread: maybe\n---\nHi\n",
            6,
        ),
        (
            "lang",
            "---\nid: s4\nto: [bsky]\nlang: [en, {x: 1}]\n---\nHi\n",
            4,
        ),
        (
            "media",
            "---\nid: s5\nto: [bsky]\n\nmedia: 12\n---\nHi\n",
            5,
        ),
    ];
    for (key, src, line) in cases {
        let file = p.post(&format!("{key}.md"), src);
        let run = p.validate(&[&file]);
        run.code(1);
        let d = &run.diagnostics()[0];
        assert_eq!(d.line, line, "`{key}`: {}", run.stdout);
    }
}

#[test]
fn missing_closing_delimiter() {
    let p = TestProject::new();
    let yaml = p.post("open.md", "---\nid: open\nto: [bsky]\nHi\n");
    let toml = p.post("open2.md", "+++\nid = \"open2\"\nto = [\"bsky\"]\nHi\n");
    let run = p.validate(&[]);
    run.code(1);
    let ds = run.diagnostics();
    assert_eq!(ds.len(), 2, "{}", run.stdout);
    assert_eq!((ds[0].path.as_str(), ds[0].line), (yaml.as_str(), 1));
    assert!(
        ds[0].message.contains("never closed") && ds[0].message.contains("`---`"),
        "{}",
        ds[0].message
    );
    assert_eq!((ds[1].path.as_str(), ds[1].line), (toml.as_str(), 1));
    assert!(ds[1].message.contains("`+++`"), "{}", ds[1].message);
}

#[test]
fn empty_files() {
    let p = TestProject::new();
    let empty = p.post("empty.md", "");
    let blank = p.post("blank.md", "\n  \n\t\n");
    for file in [empty, blank] {
        let run = p.validate(&[&file]);
        run.code(1);
        assert!(
            run.diagnostic("empty")
                .message
                .contains("the file is empty")
        );
    }
}

#[test]
fn frontmatter_without_body_is_an_error_not_a_panic() {
    let p = TestProject::new();
    let file = p.post("nobody.md", "---\nid: nobody\nto: [bsky]\n---");
    p.validate(&[&file])
        .code(1)
        .stdout_has("no text and no media");
}

#[test]
fn non_utf8_file() {
    let p = TestProject::new();
    let file = p.post(
        "latin1.md",
        b"---\nid: latin\nto: [bsky]\n---\nGr\xfc\xdfe\n".as_slice(),
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("not UTF-8");
    assert_eq!(d.line, 5, "points at the line of the first bad byte");
    assert!(d.message.contains("0xFC"), "{}", d.message);
}

#[test]
fn fifty_megabyte_file() {
    let p = TestProject::new();
    let path = p.root.join("posts/huge.md");
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(50 * 1024 * 1024).unwrap(); // sparse: instant, no disk used
    drop(f);
    let run = p.validate(&["posts/huge.md"]);
    run.code(1);
    let d = run.diagnostic("MiB");
    assert_eq!(d.severity, "error");
    assert!(d.message.contains("50.0 MiB"), "{}", d.message);
    assert!(d.message.contains("limited to"), "{}", d.message);
    // preview refuses it the same way.
    p.run(&["preview", "posts/huge.md"])
        .code(1)
        .stdout_has("limited to");
}

#[test]
fn file_without_frontmatter_is_all_body() {
    let p = TestProject::with_config(&format!(
        "{}\n",
        crate::common::CONFIG.replace(
            "[accounts.bsky]",
            "[defaults]\nto = [\"bsky\"]\n\n[accounts.bsky]"
        )
    ));
    let file = p.post("plain.md", "Just text #plain\n");
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    assert_eq!(v["id"], "plain", "the file name stands in for the id");
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "bsky")),
        ["Just text #plain"]
    );
}

// ── Keys ────────────────────────────────────────────────────────────────

#[test]
fn key_id() {
    let p = TestProject::new();
    let bad = p.post("bad.md", "---\nid: Not Valid\nto: [bsky]\n---\nHi\n");
    let run = p.validate(&[&bad]);
    run.code(1);
    assert_eq!(run.diagnostic("not a valid post id").line, 2);

    let missing = p.post("2026-01-01-no-id.md", "---\nto: [bsky]\n---\nHi\n");
    let run = p.validate(&[&missing]);
    run.code(0);
    let d = run.diagnostic("no `id`");
    assert_eq!(d.severity, "warning");
    assert_eq!(p.preview_json(&missing, &[])["id"], "2026-01-01-no-id");
    p.validate(&["--strict", &missing]).code(1);
}

#[test]
fn key_to_accepts_list_or_comma_separated_string() {
    let p = TestProject::new();
    for (i, to) in ["[bsky, fedi]", "bsky, fedi", "\n  - bsky\n  - fedi"]
        .iter()
        .enumerate()
    {
        let file = p.post(
            &format!("to{i}.md"),
            format!("---\nid: to{i}\nto: {to}\n---\nHi\n"),
        );
        let v = p.preview_json(&file, &[]);
        let accounts: Vec<_> = v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["account"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(accounts, ["bsky", "fedi"], "to: {to}");
    }
}

#[test]
fn key_status() {
    let p = TestProject::new();
    let draft = p.simple_post("d", "bsky", "status: draft", "Hi");
    assert_eq!(p.preview_json(&draft, &[])["status"], "draft");
    let ready = p.simple_post("r", "bsky", "status: ready", "Hi");
    assert_eq!(p.preview_json(&ready, &[])["status"], "ready");
    let default = p.simple_post("n", "bsky", "", "Hi");
    assert_eq!(p.preview_json(&default, &[])["status"], "ready");
    let bad = p.simple_post("b", "bsky", "status: published", "Hi");
    let run = p.validate(&[&bad]);
    run.code(1);
    assert_eq!(run.diagnostic("unknown status `published`").line, 4);
}

#[test]
fn key_queue() {
    let p = TestProject::new();
    let file = p.post("q.md", "---\nid: q\nqueue: weekdays\n---\nHi\n");
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let accounts: Vec<_> = v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        accounts,
        ["bsky", "fedi"],
        "a queue's accounts are the targets"
    );

    let bad = p.post(
        "q2.md",
        "---\nid: q2\nto: [bsky]\nqueue: weekday\n---\nHi\n",
    );
    let run = p.validate(&[&bad]);
    run.code(1);
    assert_eq!(run.diagnostic("unknown queue `weekday`").line, 4);
    assert_eq!(run.help_after("unknown queue"), "did you mean `weekdays`?");

    let both = p.post(
        "q3.md",
        "---\nid: q3\nat: 2026-12-01 09:00\nqueue: weekdays\n---\nHi\n",
    );
    let run = p.validate(&[&both]);
    run.code(0);
    assert_eq!(run.diagnostic("both `at` and `queue").severity, "warning");
}

#[test]
fn key_media() {
    let p = TestProject::new();
    p.write("media/a.jpg", JPEG);
    p.write("posts/b.png", crate::common::PNG);
    let file = p.post(
        "m.md",
        "---\nid: m\nto: [bsky]\nmedia:\n  - path: media/a.jpg\n    alt: First\n  - {path: b.png, alt: Next to the post}\n---\nHi\n",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let media = v["media"].as_array().unwrap();
    assert_eq!(media.len(), 2);
    assert_eq!(
        (
            media[0]["path"].as_str(),
            media[0]["mime"].as_str(),
            media[0]["alt"].as_str()
        ),
        (Some("media/a.jpg"), Some("image/jpeg"), Some("First"))
    );
    assert_eq!(
        (media[1]["mime"].as_str(), media[1]["kind"].as_str()),
        (Some("image/png"), Some("image"))
    );
}

#[test]
fn key_variants_by_account_and_by_platform() {
    let p = TestProject::new();
    let file = p.post(
        "v.md",
        "---\nid: v\nto: [bsky, fedi, x, li]\nvariants:\n  x: Short for X\n  mastodon: For the fediverse\n  bluesky: \"**Bold** for Bluesky\"\n---\nThe body\n",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let t = |a: &str| TestProject::target(&v, a).clone();
    assert_eq!(t("x")["source"], json!({"kind": "variant", "key": "x"}));
    assert_eq!(TestProject::part_texts(&t("x")), ["Short for X"]);
    assert_eq!(
        t("fedi")["source"],
        json!({"kind": "variant", "key": "mastodon"})
    );
    assert_eq!(TestProject::part_texts(&t("fedi")), ["For the fediverse"]);
    assert_eq!(
        TestProject::part_texts(&t("bsky")),
        ["Bold for Bluesky"],
        "variants are Markdown too"
    );
    assert_eq!(t("li")["source"], json!({"kind": "body"}));
    assert_eq!(TestProject::part_texts(&t("li")), ["The body"]);
}

#[test]
fn variant_for_the_account_beats_variant_for_the_platform() {
    let p = TestProject::new();
    let file = p.post(
        "v.md",
        "---\nid: v\nto: [x]\nvariants:\n  twitter: By platform\n  x: By account\n---\nBody\n",
    );
    let v = p.preview_json(&file, &[]);
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "x")),
        ["By account"]
    );
}

#[test]
fn variant_that_is_too_long_points_at_its_line() {
    let p = TestProject::new();
    let file = p.post(
        "v.md",
        format!(
            "---\nid: v\nto: [x, bsky]\nvariants:\n  bsky: short\n  x: {}\n---\nBody\n",
            "a".repeat(281)
        ),
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("over the limit");
    assert!(d.message.starts_with("x (X)"), "{}", d.message);
    assert_eq!(d.line, 6);
}

#[test]
fn key_thread() {
    let p = TestProject::new();
    let body = "one\n\n---\n\ntwo\n\n---\n\nthree";
    let off = p.simple_post("t-off", "bsky", "", body);
    let on = p.simple_post("t-on", "bsky", "thread: true", body);
    let explicit_off = p.simple_post("t-false", "bsky", "thread: false", body);
    let auto = p.simple_post("t-auto", "bsky", "thread: auto", body);
    let parts =
        |f: &str| TestProject::part_texts(TestProject::target(&p.preview_json(f, &[]), "bsky"));
    assert_eq!(parts(&off), ["one\n\ntwo\n\nthree"]);
    assert_eq!(parts(&explicit_off), ["one\n\ntwo\n\nthree"]);
    assert_eq!(parts(&on), ["one", "two", "three"]);
    assert_eq!(
        parts(&auto),
        ["one\n\n1/3", "two\n\n2/3", "three\n\n3/3"],
        "an automatic thread is numbered"
    );
    // Without a thread, a `---` line is dropped with a warning at its line.
    let run = p.validate(&[&off]);
    run.code(0);
    let ds: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.message.contains("splits a thread only"))
        .collect();
    assert_eq!(
        ds.iter().map(|d| d.line).collect::<Vec<_>>(),
        [7, 11],
        "{}",
        run.stdout
    );
    let bad = p.simple_post("t-bad", "bsky", "thread: sometimes", body);
    let run = p.validate(&[&bad]);
    run.code(1);
    assert!(
        run.diagnostic("sometimes")
            .message
            .contains("true, false or auto")
    );
}

#[test]
fn key_lang() {
    let p = TestProject::new();
    p.validate(&[&p.simple_post("l1", "bsky, fedi", "lang: en", "Hi")])
        .code(0);
    p.validate(&[&p.simple_post("l2", "bsky", "lang: [en, de, pt-BR]", "Hi")])
        .code(0);
    let bad = p.simple_post("l3", "bsky", "lang: english!", "Hi");
    let run = p.validate(&[&bad]);
    run.code(1);
    assert_eq!(run.diagnostic("not a language tag").line, 4);
    // Bluesky takes up to three languages. (Mastodon and X take one and
    // are sent the first: more is not an error there.)
    let two = p.simple_post("l4", "bsky, fedi", "lang: [en, de]", "Hi");
    p.validate(&[&two]).code(0);
    let four = p.simple_post("l5", "bsky", "lang: [en, de, fr, es]", "Hi");
    p.validate(&[&four])
        .code(1)
        .stdout_has("bsky (Bluesky): 4 languages");
}

#[test]
fn key_cw() {
    let p = TestProject::new();
    // Mastodon counts the content warning with the text.
    let cw = "cw: spoilers"; // 8 characters
    p.validate(&[&p.simple_post("cw-at", "fedi", cw, &"a".repeat(492))])
        .code(0);
    let run = p.validate(&[&p.simple_post("cw-over", "fedi", cw, &"a".repeat(493))]);
    run.code(1);
    let d = run.diagnostic("over the limit");
    assert!(
        d.message.contains("501") && d.message.contains("content warning"),
        "{}",
        d.message
    );
    // Elsewhere a content warning is dropped, with a warning.
    let run = p.validate(&[&p.simple_post("cw-bsky", "bsky, fedi", cw, "Hi")]);
    run.code(0);
    let d = run.diagnostic("only shown on Mastodon");
    assert_eq!((d.severity.as_str(), d.line), ("warning", 4));
    assert!(
        d.message.contains("bsky") && !d.message.contains("fedi"),
        "{}",
        d.message
    );
}

#[test]
fn key_visibility() {
    let p = TestProject::new();
    p.validate(&[&p.simple_post("v1", "fedi", "visibility: unlisted", "Hi")])
        .code(0)
        .stdout_has("0 warnings");
    let run = p.validate(&[&p.simple_post("v2", "bsky", "visibility: unlisted", "Hi")]);
    run.code(0);
    let d = run.diagnostic("visibility");
    assert_eq!((d.severity.as_str(), d.line), ("warning", 4));
    let run = p.validate(&[&p.simple_post("v3", "fedi", "visibility: secret", "Hi")]);
    run.code(1);
    assert_eq!(run.diagnostic("unknown visibility `secret`").line, 4);
}

#[test]
fn key_reply_to() {
    let p = TestProject::new();
    p.validate(&[&p.simple_post(
        "r1",
        "bsky",
        "reply_to: https://bsky.app/profile/a/post/b",
        "Hi",
    )])
    .code(0);
    p.validate(&[&p.simple_post("r2", "bsky", "reply_to: r1", "Hi")])
        .code(0);
    p.validate(&[&p.simple_post(
        "r3",
        "bsky",
        "reply_to: at://did:plc:x/app.bsky.feed.post/y",
        "Hi",
    )])
    .code(0);
    let run = p.validate(&[&p.simple_post("r4", "bsky", "reply_to: \"Not an id!\"", "Hi")]);
    run.code(1);
    assert_eq!(run.diagnostic("neither a post URL nor a post id").line, 4);
}

// ── Time ────────────────────────────────────────────────────────────────

fn at_of(p: &TestProject, id: &str, at: &str) -> serde_json::Value {
    let file = p.simple_post(id, "bsky", &format!("at: \"{at}\""), "Hi");
    p.preview_json(&file, &[])
}

#[test]
fn time_rfc3339_with_offset() {
    let p = TestProject::new();
    assert_eq!(
        at_of(&p, "t1", "2026-12-01T09:00:00+01:00")["at"],
        "2026-12-01T08:00:00+00:00"
    );
    assert_eq!(
        at_of(&p, "t2", "2026-07-01T09:00:00-04:00")["at"],
        "2026-07-01T13:00:00+00:00"
    );
    assert_eq!(
        at_of(&p, "t3", "2026-07-01T09:00:00Z")["at"],
        "2026-07-01T09:00:00+00:00"
    );
}

#[test]
fn time_local_in_project_timezone() {
    let p = TestProject::new();
    // Berlin is UTC+1 in winter, UTC+2 in summer.
    assert_eq!(
        at_of(&p, "t1", "2026-12-01 09:00")["at"],
        "2026-12-01T08:00:00+00:00"
    );
    assert_eq!(
        at_of(&p, "t2", "2026-07-01 09:00")["at"],
        "2026-07-01T07:00:00+00:00"
    );
}

#[test]
fn time_local_in_named_zone() {
    let p = TestProject::new();
    assert_eq!(
        at_of(&p, "t1", "2026-12-01 09:00 America/New_York")["at"],
        "2026-12-01T14:00:00+00:00"
    );
    assert_eq!(
        at_of(&p, "t2", "2026-07-01 09:00 Asia/Tokyo")["at"],
        "2026-07-01T00:00:00+00:00"
    );
    let v = at_of(&p, "t3", "2026-07-01 09:00 Europe/Berlinn");
    assert_eq!(v["at"], serde_json::Value::Null);
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("did you mean `Europe/Berlin`"),
        "{d}"
    );
}

#[test]
fn time_unparseable() {
    let p = TestProject::new();
    let file = p.simple_post("bad", "bsky", "at: next tuesday", "Hi");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("is not a time");
    assert_eq!(d.line, 4);
}

#[test]
fn time_in_dst_gap_is_an_error() {
    let p = TestProject::new();
    let file = p.simple_post("gap", "bsky", "at: 2026-03-29 02:30", "Hi");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("does not exist");
    assert_eq!((d.severity.as_str(), d.line), ("error", 4));
    assert!(
        d.message.contains("Europe/Berlin") && d.message.contains("03:00"),
        "{}",
        d.message
    );
    // Also in an explicitly named zone.
    let file = p.simple_post(
        "gap2",
        "bsky",
        "at: 2026-03-08 02:30 America/New_York",
        "Hi",
    );
    p.validate(&[&file]).code(1).stdout_has("does not exist");
}

#[test]
fn ambiguous_time_is_a_warning_and_takes_the_earlier_instant() {
    let p = TestProject::new();
    let file = p.simple_post("overlap", "bsky", "at: 2026-10-25 02:30", "Hi");
    let run = p.validate(&[&file]);
    run.code(0);
    let d = run.diagnostic("twice");
    assert_eq!((d.severity.as_str(), d.line), ("warning", 4));
    let v = p.preview_json(&file, &[]);
    assert_eq!(
        v["at"], "2026-10-25T00:30:00+00:00",
        "02:30 CEST, the first of the two"
    );
    p.validate(&["--strict", &file]).code(1);
}

#[test]
fn lines_of_multiline_yaml_values_are_not_keys() {
    let p = TestProject::new();
    // A quoted string may run over lines without indentation.
    let file = p.post(
        "q.md",
        "---\nid: q\nto: [fedi]\ncw: \"a long\nwarning: here\"\n---\nHi\n",
    );
    p.validate(&[&file]).code(0);
    // A real unknown key next to it is still found, at its line.
    let file = p.post(
        "q2.md",
        "---\nid: q2\nto: [fedi]\ncw: \"a long\nwarning: here\"\nat_time: x\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    assert_eq!(run.diagnostic("unknown key").line, 6, "{}", run.stdout);
    assert!(!run.stdout.contains("`warning`"), "{}", run.stdout);
}
