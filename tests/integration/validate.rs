//! Validation rules other than text length: media, accounts, variants,
//! duplicate ids; and the three output formats with their exit codes.

use crate::common::{CONFIG, GIF, JPEG, MP4, PNG, TestProject};

// ── Media ───────────────────────────────────────────────────────────────

#[test]
fn sniffed_media_kinds() {
    let p = TestProject::new();
    for (name, bytes) in [
        ("a.png", PNG),
        ("b.jpg", JPEG),
        ("c.gif", GIF),
        ("d.mp4", MP4),
    ] {
        p.write(&format!("media/{name}"), bytes);
    }
    let file = p.post(
        "m.md",
        "---\nid: m\nto: [fedi]\nmedia:\n  - {path: media/a.png, alt: a}\n  - {path: media/b.jpg, alt: b}\n  - {path: media/c.gif, alt: c}\n---\nHi\n",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let kinds: Vec<_> = v["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["mime"].as_str().unwrap(), m["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("image/png", "image"),
            ("image/jpeg", "image"),
            ("image/gif", "gif")
        ]
    );
    let video = p.post(
        "v.md",
        "---\nid: v\nto: [fedi]\nmedia:\n  - {path: media/d.mp4, alt: a video}\n---\nHi\n",
    );
    p.validate(&[&video]).code(0);
    assert_eq!(p.preview_json(&video, &[])["media"][0]["kind"], "video");
}

#[test]
fn media_path_that_does_not_exist() {
    let p = TestProject::new();
    let file = p.post(
        "m.md",
        "---\nid: m\nto: [bsky]\nmedia:\n  - path: media/nope.png\n    alt: x\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("does not exist");
    assert_eq!((d.line, d.severity.as_str()), (5, "error"));
    assert!(d.message.contains("media/nope.png"), "{}", d.message);
}

#[test]
fn media_path_outside_the_project() {
    let p = TestProject::new();
    std::fs::write(p.sandbox().join("x.png"), PNG).unwrap(); // next to the project, not in it
    let file = p.post("m.md", "---\nid: m\nto: [bsky]\nmedia:\n  - path: ../x.png\n    alt: x\n  - path: ../../x.png\n    alt: y\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    let outside: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.message.contains("outside the project"))
        .collect();
    assert_eq!(
        outside.iter().map(|d| d.line).collect::<Vec<_>>(),
        [5, 7],
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn media_symlink_leading_out_of_the_project() {
    let p = TestProject::new();
    std::fs::write(p.sandbox().join("secret.png"), PNG).unwrap();
    std::fs::create_dir_all(p.root.join("media")).unwrap();
    std::os::unix::fs::symlink(
        p.sandbox().join("secret.png"),
        p.root.join("media/link.png"),
    )
    .unwrap();
    let file = p.post(
        "m.md",
        "---\nid: m\nto: [bsky]\nmedia:\n  - {path: media/link.png, alt: x}\n---\nHi\n",
    );
    p.validate(&[&file])
        .code(1)
        .stdout_has("outside the project");
}

#[test]
fn media_path_absolute() {
    let p = TestProject::new();
    let abs = p.write("media/a.png", PNG);
    let file = p.post(
        "m.md",
        format!(
            "---\nid: m\nto: [bsky]\nmedia:\n  - {{path: \"{}\", alt: x}}\n---\nHi\n",
            abs.display()
        ),
    );
    p.validate(&[&file]).code(1).stdout_has("is absolute");
}

#[test]
fn media_that_is_not_an_image_or_video() {
    let p = TestProject::new();
    p.write("media/fake.png", "this is text, not a PNG\n");
    p.write("media/doc.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".as_slice());
    let file = p.post("m.md", "---\nid: m\nto: [bsky]\nmedia:\n  - {path: media/fake.png, alt: x}\n  - {path: media/doc.png, alt: y}\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(1);
    let ds: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.message.contains("not an image or video"))
        .collect();
    assert_eq!(ds.len(), 2, "{}", run.stdout);
    assert_eq!(ds[0].line, 5);
    assert!(
        ds[1].message.contains("application/pdf"),
        "{}",
        ds[1].message
    );
}

#[test]
fn missing_alt_is_a_warning_and_an_error_with_strict() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    let file = p.post("m.md", "---\nid: m\nto: [bsky]\nmedia:\n  - path: media/a.png\n  - path: media/a.png\n    alt: \"  \"\n---\nHi\n");
    let run = p.validate(&[&file]);
    run.code(0);
    let ds: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.message.contains("no alt text"))
        .collect();
    assert_eq!(
        ds.iter()
            .map(|d| (d.line, d.severity.as_str()))
            .collect::<Vec<_>>(),
        [(5, "warning"), (6, "warning")],
        "blank alt is no alt"
    );
    run.stdout_has("0 errors, 2 warnings");

    let run = p.validate(&["--strict", &file]);
    run.code(1);
    assert!(
        run.diagnostics().iter().all(|d| d.severity == "error"),
        "{}",
        run.stdout
    );
    run.stdout_has("2 errors, 0 warnings");
}

fn media_list(paths: &[&str]) -> String {
    let mut s = String::from("media:\n");
    for (i, p) in paths.iter().enumerate() {
        s.push_str(&format!("  - {{path: {p}, alt: item {i}}}\n"));
    }
    s
}

#[test]
fn too_many_images_per_platform() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    p.write("media/b.jpg", JPEG);
    let four = media_list(&["media/a.png"; 4]);
    let five = media_list(&["media/a.png"; 5]);
    p.validate(&[&p.simple_post("four", "bsky, fedi, x", &four, "Hi")])
        .code(0);
    let run = p.validate(&[&p.simple_post("five", "bsky, fedi, x, li", &five, "Hi")]);
    run.code(1);
    let ds: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.message.contains("5 images, more than the 4 allowed"))
        .collect();
    let who: Vec<_> = ds
        .iter()
        .map(|d| d.message.split(':').next().unwrap().to_string())
        .collect();
    assert_eq!(
        who,
        ["bsky (Bluesky)", "fedi (Mastodon)", "x (X)"],
        "LinkedIn takes up to 20: {}",
        run.stdout
    );
    assert!(ds.iter().all(|d| d.line == 4), "at the `media` key");

    // Instagram: a carousel of up to 10 JPEGs.
    let ten = media_list(&["media/b.jpg"; 10]);
    let eleven = media_list(&["media/b.jpg"; 11]);
    p.validate(&[&p.simple_post("ig10", "insta", &ten, "Hi")])
        .code(0);
    p.validate(&[&p.simple_post("ig11", "insta", &eleven, "Hi")])
        .code(1)
        .stdout_has("11 media items, more than the 10 allowed");
}

#[test]
fn images_and_video_together() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    p.write("media/v.mp4", MP4);
    let mixed = media_list(&["media/a.png", "media/v.mp4"]);
    let run = p.validate(&[&p.simple_post("mixed", "bsky", &mixed, "Hi")]);
    run.code(1);
    run.stdout_has("bsky (Bluesky): Bluesky cannot attach images and a video to one post");
    let two_videos = media_list(&["media/v.mp4", "media/v.mp4"]);
    p.validate(&[&p.simple_post("vids", "fedi", &two_videos, "Hi")])
        .code(1)
        .stdout_has("2 videos, more than the 1 allowed");
}

#[test]
fn gif_counts_as_video_on_x() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    p.write("media/c.gif", GIF);
    let media = media_list(&["media/a.png", "media/c.gif"]);
    p.validate(&[&p.simple_post("gif-x", "x", &media, "Hi")])
        .code(1)
        .stdout_has("animated GIF");
    p.validate(&[&p.simple_post("gif-b", "bsky", &media, "Hi")])
        .code(0);
}

#[test]
fn unknown_account_in_to_gets_a_suggestion() {
    let p = TestProject::new();
    let file = p.simple_post("u", "bksy, fedi", "", "Hi");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("unknown account `bksy`");
    assert_eq!(d.line, 3, "at the `to` key");
    assert_eq!(run.help_after("unknown account"), "did you mean `bsky`?");
    let far = p.simple_post("far", "zzzzzz", "", "Hi");
    let run = p.validate(&[&far]);
    run.code(1);
    assert_eq!(
        run.help_after("unknown account"),
        "accounts in social.toml: bsky, fedi, insta, li, x"
    );
}

#[test]
fn post_without_any_account() {
    let p = TestProject::new();
    let file = p.post("none.md", "---\nid: none\n---\nHi\n");
    p.validate(&[&file])
        .code(1)
        .stdout_has("no accounts to go to");
    let draft = p.post("draft.md", "---\nid: draft\nstatus: draft\n---\nHi\n");
    let run = p.validate(&[&draft]);
    run.code(0);
    assert_eq!(
        run.diagnostic("no accounts").severity,
        "warning",
        "a draft may leave `to` for later"
    );
}

#[test]
fn instagram_needs_media() {
    let p = TestProject::new();
    let file = p.simple_post("ig", "insta", "", "A caption");
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("needs at least one image or video");
    assert!(d.message.starts_with("insta (Instagram)"), "{}", d.message);
}

#[test]
fn instagram_needs_jpeg_images() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    let run = p.validate(&[&p.simple_post("ig", "insta", &media_list(&["media/a.png"]), "Hi")]);
    run.code(1);
    run.stdout_has("Instagram does not accept PNG images");
}

#[test]
fn instagram_needs_media_base_url() {
    let config = CONFIG.replace("media_base_url = \"https://media.example.com\"\n", "");
    assert_ne!(config, CONFIG);
    let p = TestProject::with_config(&config);
    p.write("media/a.jpg", JPEG);
    let media = media_list(&["media/a.jpg"]);
    let run = p.validate(&[&p.simple_post("ig", "insta", &media, "Hi")]);
    run.code(1);
    let d = run.diagnostic("public URL");
    assert_eq!((d.line, d.severity.as_str()), (4, "error"));
    assert!(run.help_after("public URL").contains("media_base_url"));
    // A project-wide media_base_url is enough.
    p.write(
        "social.toml",
        format!("media_base_url = \"https://cdn.example.com\"\n{config}"),
    );
    p.validate(&[&p.simple_post("ig", "insta", &media, "Hi")])
        .code(0);
}

#[test]
fn unknown_variant_key() {
    let p = TestProject::new();
    let file = p.post(
        "v.md",
        "---\nid: v\nto: [bsky]\nvariants:\n  bsky: fine\n  mastodn: typo\n---\nHi\n",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("variant `mastodn` matches no account or platform");
    assert_eq!(d.line, 6);
    assert_eq!(run.help_after("mastodn"), "did you mean `mastodon`?");
}

#[test]
fn duplicate_ids_across_files() {
    let p = TestProject::new();
    let first = p.post("a.md", "---\nid: same\nto: [bsky]\n---\nOne\n");
    let second = p.post("b.md", "---\nto: [bsky]\nid: same\n---\nTwo\n");
    let run = p.validate(&[]);
    run.code(1);
    let d = run.diagnostic("post id `same` is also used by");
    assert_eq!((d.path.as_str(), d.line), (second.as_str(), 3));
    assert!(d.message.ends_with(&first), "{}", d.message);
    // Each file on its own is fine.
    p.validate(&[&first]).code(0);
    // An id taken from a file name collides too.
    p.post("same.md", "---\nto: [bsky]\n---\nThree\n");
    let run = p.validate(&[]);
    assert_eq!(
        run.diagnostics()
            .iter()
            .filter(|d| d.message.contains("is also used by"))
            .count(),
        2,
        "{}",
        run.stdout
    );
}

#[test]
fn validate_named_files_and_directories() {
    let p = TestProject::new();
    p.post("good.md", "---\nid: good\nto: [bsky]\n---\nHi\n");
    p.post("sub/bad.md", "---\nid: bad\nto: [nobody]\n---\nHi\n");
    p.post("README.md", "not a post");
    p.post(".hidden.md", "not a post");
    p.write("posts/notes.txt", "not a post");
    p.validate(&["posts/good.md"])
        .code(0)
        .stdout_has("checked 1 file");
    p.validate(&["posts/sub"])
        .code(1)
        .stdout_has("checked 1 file");
    p.validate(&[])
        .code(1)
        .stdout_has("checked 2 files (1 target)");
    let run = p.validate(&["posts/missing.md"]);
    run.code(2).stderr_has("no such file");
}

#[test]
fn validate_from_a_subdirectory_finds_the_project() {
    let p = TestProject::new();
    p.post("a.md", "---\nid: a\nto: [bsky]\n---\nHi\n");
    let run = p.run_cmd(p.cmd_in(&p.root.join("posts")).arg("validate"));
    run.code(0).stdout_has("checked 1 file");
}

#[test]
fn project_without_posts() {
    let p = TestProject::new();
    p.validate(&[]).code(0).stdout_has("no post files found");
}

// ── Output formats and exit codes ────────────────────────────────────────

fn broken_project() -> (TestProject, String) {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    let file = p.post(
        "bad.md",
        format!(
            "---\nid: bad\nto: [bsky, x]\nmedia:\n  - path: media/a.png\n---\n{}\n",
            "a".repeat(290)
        ),
    );
    (p, file)
}

#[test]
fn text_format_lines() {
    let (p, file) = broken_project();
    for args in [vec![], vec!["--format", "text"]] {
        let run = p.validate(&args);
        run.code(1);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(
            lines,
            [
                format!("{file}:5:1: warning: `media/a.png` has no alt text").as_str(),
                "  help: add `alt:` describing the image for people who cannot see it",
                format!("{file}:7:1: error: x (X): the text is 290 weighted characters, 10 over the limit of 280").as_str(),
                "  help: shorten it, split it with `---` lines and `thread: true`, use `thread: auto`, or add `variants: x: …`",
                "failed: checked 1 file (2 targets): 1 error, 1 warning",
            ]
        );
    }
}

#[test]
fn json_format_is_one_document_with_counts() {
    let (p, file) = broken_project();
    p.post("ok.md", "---\nid: ok\nto: [bsky]\n---\nFine\n");
    let run = p.validate(&["--format", "json"]);
    run.code(1);
    let v = run.json();
    assert_eq!(
        (
            v["files"].as_u64(),
            v["targets"].as_u64(),
            v["errors"].as_u64(),
            v["warnings"].as_u64()
        ),
        (Some(2), Some(3), Some(1), Some(1))
    );
    let ds = v["diagnostics"].as_array().unwrap();
    assert_eq!(ds.len(), 2);
    let err = ds.iter().find(|d| d["severity"] == "error").unwrap();
    assert_eq!(err["path"], file.as_str());
    assert_eq!(
        (err["line"].as_u64(), err["column"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(err["account"], "x");
    assert!(err["message"].as_str().unwrap().contains("290"));
    assert!(err["help"].is_string());

    // A clean project is a valid document too.
    let p = TestProject::new();
    let run = p.validate(&["--format", "json"]);
    run.code(0);
    assert_eq!(run.json()["errors"], 0);
}

#[test]
fn github_format_annotations() {
    let (p, file) = broken_project();
    let run = p.validate(&["--format", "github"]);
    run.code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert_eq!(
        lines[0],
        format!(
            "::warning file={file},line=5,col=1,title=social validate::`media/a.png` has no alt text%0Ahelp: add `alt:` describing the image for people who cannot see it"
        )
    );
    assert!(
        lines[1].starts_with(&format!(
            "::error file={file},line=7,col=1,title=social validate::x (X): the text is 290"
        )),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "checked 1 file (2 targets): 1 error, 1 warning");
}

#[test]
fn github_format_escapes_properties() {
    let p = TestProject::new();
    let file = p.post("a,b:c%.md", "---\nid: abc\nto: [nobody]\n---\nHi\n");
    assert_eq!(file, "posts/a,b:c%.md");
    let run = p.validate(&["--format", "github"]);
    run.code(1);
    run.stdout_has("::error file=posts/a%2Cb%3Ac%25.md,line=3,col=1,");
}

#[test]
fn quiet_hides_warnings_and_success() {
    let p = TestProject::new();
    p.write("media/a.png", PNG);
    p.post(
        "w.md",
        "---\nid: w\nto: [bsky]\nmedia: [{path: media/a.png}]\n---\nHi\n",
    );
    let run = p.validate(&["--quiet"]);
    run.code(0);
    assert_eq!(run.stdout, "");
}

#[test]
fn exit_code_2_for_a_bad_config_with_its_place() {
    let p = TestProject::with_config(
        "timezone = \"Europe/Berlin\"\n\n[accounts.bsky]\nplatform = \"bluesky\"\nhandle = \"a.bsky.social\"\nhandel = \"typo\"\n",
    );
    let run = p.validate(&[]);
    run.code(2);
    run.stderr_has("unknown key `handel`")
        .stderr_has("social.toml:6:1")
        .stderr_has("did you mean `handle`?");
}

#[test]
fn exit_code_2_for_config_errors_of_every_kind() {
    let cases = [
        (
            "timezone = \"Mars/Olympus\"\n",
            "social.toml:1:12",
            "unknown timezone",
        ),
        (
            "[accounts.bsky]\nplatform = \"myspace\"\n",
            "social.toml:2:12",
            "unknown platform",
        ),
        (
            "[accounts.bsky]\nplatform = \"bluesky\"\n",
            "social.toml:1:1",
            "needs `handle`",
        ),
        (
            "timezone = \"UTC\"\n[defaults]\nto = [\"nobody\"]\n",
            "social.toml:3:6",
            "unknown account `nobody`",
        ),
        ("timezone = \n", "social.toml:1:", "invalid TOML"),
    ];
    for (config, place, message) in cases {
        let p = TestProject::with_config(config);
        let run = p.validate(&[]);
        run.code(2);
        run.stderr_has(place).stderr_has(message);
    }
}

#[test]
fn exit_code_2_for_usage_errors() {
    let p = TestProject::new();
    p.run(&["validate", "--bogus"])
        .code(2)
        .stderr_has("--bogus");
    p.run(&["validate", "--format", "xml"]).code(2);
    p.run(&["frobnicate"]).code(2);
    p.run(&[]).code(2);
    let outside = TestProject::bare();
    outside
        .run(&["validate"])
        .code(2)
        .stderr_has("not inside a social project");
}

#[test]
fn validate_many_posts_at_once() {
    let p = TestProject::new();
    for i in 0..300 {
        p.post(&format!("p{i:03}.md"), format!("---\nid: p{i:03}\nto: [bsky, fedi, x]\nthread: auto\n---\nPost number {i} #n{i} {}\n", "word ".repeat(i)));
    }
    let run = p.validate(&["--format", "json"]);
    run.code(0);
    let v = run.json();
    assert_eq!(
        (
            v["files"].as_u64(),
            v["targets"].as_u64(),
            v["errors"].as_u64()
        ),
        (Some(300), Some(900), Some(0))
    );
}

// ── Platform rules found in issue 10 ────────────────────────────────────

/// A JPEG whose SOF0 segment says `w` × `h` (enough for size sniffing).
fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    b.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&[0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]);
    b.extend_from_slice(&[0xFF, 0xD9]);
    b
}

#[test]
fn instagram_feed_images_need_a_ratio_from_4_5_to_1_91_1() {
    let p = TestProject::new();
    for (name, w, h) in [
        ("portrait.jpg", 1080, 1350), // 4:5 exactly
        ("landscape.jpg", 1080, 566), // 1.908:1
        ("square.jpg", 1080, 1080),
        ("story.jpg", 1080, 1920), // 9:16
        ("banner.jpg", 1500, 500), // 3:1
    ] {
        p.write(&format!("media/{name}"), jpeg(w, h));
    }
    let ok = media_list(&[
        "media/portrait.jpg",
        "media/landscape.jpg",
        "media/square.jpg",
    ]);
    p.validate(&[&p.simple_post("ok", "insta", &ok, "Fine")])
        .code(0);

    let file = p.simple_post(
        "tall",
        "insta, fedi",
        &media_list(&["media/story.jpg"]),
        "Hi",
    );
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("aspect ratio");
    assert_eq!(d.severity, "error");
    assert_eq!(d.path, "posts/tall.md");
    for needle in [
        "insta (Instagram)",
        "`media/story.jpg`",
        "1080×1920",
        "0.56:1",
        "too tall",
        "4:5",
        "1.91:1",
    ] {
        assert!(d.message.contains(needle), "{needle}: {}", d.message);
    }
    assert!(run.help_after("aspect ratio").contains("crop or pad"));
    // Only Instagram cares.
    p.validate(&[&p.simple_post("tall2", "fedi", &media_list(&["media/story.jpg"]), "Hi")])
        .code(0);

    let run =
        p.validate(&[&p.simple_post("wide", "insta", &media_list(&["media/banner.jpg"]), "Hi")]);
    run.code(1);
    let d = run.diagnostic("aspect ratio");
    assert!(d.message.contains("3.00:1 (too wide)"), "{}", d.message);
}

#[test]
fn x_reply_to_someone_elses_post_warns() {
    let p = TestProject::new();
    // CONFIG: [accounts.x] username = "alice".
    let file = p.simple_post(
        "r",
        "x",
        "reply_to: https://x.com/bob/status/1790000000000000001",
        "Hi",
    );
    let run = p.validate(&[&file]);
    run.code(0);
    let d = run.diagnostic("reply_to");
    assert_eq!(
        (d.path.as_str(), d.line, d.severity.as_str()),
        ("posts/r.md", 4, "warning")
    );
    for needle in ["x (X)", "@bob", "@alice", "mentions or quotes", "refuse"] {
        assert!(d.message.contains(needle), "{needle}: {}", d.message);
    }
    assert!(run.help_after("reply_to").contains("out of `to`"));
    p.validate(&[&file, "--strict"]).code(1);

    // The account's own posts (any case, twitter.com too), and URLs naming no author: quiet.
    for (id, url) in [
        (
            "own",
            "https://twitter.com/Alice/status/1790000000000000002",
        ),
        (
            "own2",
            "https://mobile.x.com/ALICE/status/1790000000000000003",
        ),
        ("anon", "https://x.com/i/status/1790000000000000004"),
    ] {
        let run = p.validate(&[&p.simple_post(id, "x", &format!("reply_to: {url}"), "Hi")]);
        run.code(0);
        assert!(!run.stdout.contains("@alice"), "{url}: {}", run.stdout);
    }
    // Not an X target: no X rule.
    let run = p.validate(&[&p.simple_post(
        "fedi",
        "fedi",
        "reply_to: https://x.com/bob/status/1790000000000000005",
        "Hi",
    )]);
    assert!(!run.stdout.contains("mentions or quotes"), "{}", run.stdout);
}

#[test]
fn mastodon_instance_limits_from_limits_json_are_used() {
    let p = TestProject::new();
    let mut png = PNG.to_vec();
    png.resize(5000, 0);
    p.write("media/shot.png", &png);
    let text = format!("{} https://example.com/a", "a".repeat(450));
    let file = p.simple_post(
        "inst",
        "fedi",
        "media:\n  - path: media/shot.png\n    alt: A screenshot of the dashboard",
        &text,
    );
    // Mastodon's defaults: a URL counts 23 (474 of 500), 16 MB, 1500 characters of alt text.
    p.validate(&[&file]).code(0);
    assert_eq!(
        TestProject::target(&p.preview_json(&file, &[]), "fedi")["parts"][0]["length"],
        474
    );

    // What `accounts check` (and the daemon, daily) wrote after asking the instance.
    p.write(
        ".social/limits.json",
        r#"{"accounts": {"fedi": {
            "max_characters": 500, "fetched_at": "2026-11-30T09:00:00Z",
            "characters_reserved_per_url": 60,
            "image_size_limit": 4000, "video_size_limit": 41943040,
            "description_limit": 10
        }}}"#,
    );
    let run = p.validate(&[&file]);
    run.code(1);
    run.diagnostic("511 characters, 11 over the limit of 500");
    let d = run.diagnostic("media/shot.png` is 5 KB");
    assert!(d.message.contains("limit of 4 KB"), "{}", d.message);
    let d = run.diagnostic("alt text of `media/shot.png` is 29 characters");
    assert!(d.message.contains("over the limit of 10"), "{}", d.message);
    assert_eq!(
        TestProject::target(&p.preview_json(&file, &[]), "fedi")["parts"][0]["length"],
        511
    );

    // Another account's limits stay its own.
    p.validate(&[&p.simple_post("b", "bsky", "", &"a".repeat(200))])
        .code(0);
}

#[test]
fn validate_json_is_format_json() {
    let p = TestProject::new();
    p.simple_post("p", "bsky", "", "Hello");
    let a = p.validate(&["--json"]);
    let b = p.validate(&["--format", "json"]);
    a.code(0);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.json()["files"], 1);
    p.validate(&["--json", "--format", "text"]).code(2);
}
