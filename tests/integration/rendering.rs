//! Rendering, seen through `social preview --json`: the text and spans each
//! platform receives, and how threads are cut.

use crate::common::{TestProject, span_text};
use serde_json::Value;

fn part_spans(target: &Value, part: usize) -> (String, Vec<Value>) {
    let p = &target["parts"][part]["text"];
    (
        p["text"].as_str().unwrap().to_string(),
        p["spans"].as_array().unwrap().clone(),
    )
}

#[test]
fn emphasis_markers_are_dropped() {
    let p = TestProject::new();
    let file = p.simple_post(
        "em",
        "bsky, fedi, x",
        "",
        "**Bold**, *italic*, _under_, ~~gone~~ and `code`.",
    );
    let v = p.preview_json(&file, &[]);
    for account in ["bsky", "fedi", "x"] {
        assert_eq!(
            TestProject::part_texts(TestProject::target(&v, account)),
            ["Bold, italic, under, gone and code."],
            "{account}"
        );
    }
}

#[test]
fn markdown_blocks_become_plain_text() {
    let p = TestProject::new();
    let file = p.simple_post(
        "blocks",
        "bsky",
        "",
        "# Title\n\nIntro\nsecond line\n\n- one\n- two\n\n1. first\n2. second",
    );
    let v = p.preview_json(&file, &[]);
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "bsky")),
        ["Title\n\nIntro\nsecond line\n\n• one\n• two\n\n1. first\n2. second"]
    );
}

#[test]
fn link_is_a_span_on_bluesky_and_text_plus_url_elsewhere() {
    let p = TestProject::new();
    let file = p.simple_post(
        "link",
        "bsky, fedi, x, li",
        "",
        "Read [the post](https://example.com/post) now",
    );
    let v = p.preview_json(&file, &[]);

    let (text, spans) = part_spans(TestProject::target(&v, "bsky"), 0);
    assert_eq!(text, "Read the post now");
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0]["type"], "link");
    assert_eq!(spans[0]["uri"], "https://example.com/post");
    assert_eq!(span_text(&text, &spans[0]), "the post");

    for account in ["fedi", "x", "li"] {
        let (text, spans) = part_spans(TestProject::target(&v, account), 0);
        assert_eq!(
            text, "Read the post (https://example.com/post) now",
            "{account}"
        );
        assert_eq!(
            span_text(&text, &spans[0]),
            "https://example.com/post",
            "{account}"
        );
    }
}

#[test]
fn autolinks_and_bare_urls_are_link_spans() {
    let p = TestProject::new();
    let file = p.simple_post(
        "auto",
        "bsky, fedi",
        "",
        "See <https://a.example/x> and https://b.example/y.",
    );
    let v = p.preview_json(&file, &[]);
    for account in ["bsky", "fedi"] {
        let (text, spans) = part_spans(TestProject::target(&v, account), 0);
        assert_eq!(
            text, "See https://a.example/x and https://b.example/y.",
            "{account}"
        );
        let links: Vec<_> = spans
            .iter()
            .filter(|s| s["type"] == "link")
            .map(|s| span_text(&text, s).to_string())
            .collect();
        assert_eq!(
            links,
            ["https://a.example/x", "https://b.example/y"],
            "{account}"
        );
    }
}

#[test]
fn span_offsets_are_utf8_bytes_after_non_ascii_text() {
    let p = TestProject::new();
    let body = "Grüße aus Köln 日本 👩\u{200d}👩\u{200d}👧 [Mehr lesen](https://example.com/ä) #café und @alice.bsky.social!";
    let file = p.simple_post("bytes", "bsky, fedi", "", body);
    let v = p.preview_json(&file, &[]);

    let (text, spans) = part_spans(TestProject::target(&v, "bsky"), 0);
    assert_eq!(
        text,
        "Grüße aus Köln 日本 👩\u{200d}👩\u{200d}👧 Mehr lesen #café und @alice.bsky.social!"
    );
    let by_type = |t: &str| {
        spans
            .iter()
            .find(|s| s["type"] == t)
            .unwrap_or_else(|| panic!("no {t} span in {spans:?}"))
    };
    let link = by_type("link");
    assert_eq!(span_text(&text, link), "Mehr lesen");
    assert_eq!(link["start"], text.find("Mehr").unwrap());
    assert_eq!(link["uri"], "https://example.com/ä");
    let tag = by_type("tag");
    assert_eq!(span_text(&text, tag), "#café");
    assert_eq!(tag["tag"], "café");
    let mention = by_type("mention");
    assert_eq!(span_text(&text, mention), "@alice.bsky.social");
    assert_eq!(mention["handle"], "alice.bsky.social");
    assert_eq!(mention["end"], text.find('!').unwrap());

    let (text, spans) = part_spans(TestProject::target(&v, "fedi"), 0);
    let link = spans.iter().find(|s| s["type"] == "link").unwrap();
    assert_eq!(span_text(&text, link), "https://example.com/ä");
    let tag = spans.iter().find(|s| s["type"] == "tag").unwrap();
    assert_eq!(span_text(&text, tag), "#café");
}

#[test]
fn tags_and_mentions_are_not_found_inside_words_or_links() {
    let p = TestProject::new();
    let file = p.simple_post(
        "ents",
        "bsky",
        "",
        "mail me at a@b.example, issue#3, https://x.example/#frag, #1 and #ok.",
    );
    let v = p.preview_json(&file, &[]);
    let (text, spans) = part_spans(TestProject::target(&v, "bsky"), 0);
    let kinds: Vec<(String, String)> = spans
        .iter()
        .map(|s| {
            (
                s["type"].as_str().unwrap().to_string(),
                span_text(&text, s).to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("link".to_string(), "https://x.example/#frag".to_string()),
            ("tag".to_string(), "#ok".to_string())
        ],
        "{text}"
    );
}

#[test]
fn thread_splits_at_dash_lines() {
    let p = TestProject::new();
    let body = "First part with [a link](https://example.com/1).\n\n---\n\nSecond part #tag\n---\nThird\n\n```\n---\n```";
    let file = p.simple_post("th", "bsky, x", "thread: true", body);
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let bsky = TestProject::target(&v, "bsky");
    assert_eq!(
        TestProject::part_texts(bsky),
        [
            "First part with a link.",
            "Second part #tag",
            "Third\n\n---"
        ]
    );
    let (text, spans) = part_spans(bsky, 1);
    assert_eq!(
        span_text(&text, &spans[0]),
        "#tag",
        "spans are relative to their part"
    );
    assert_eq!(
        TestProject::part_texts(TestProject::target(&v, "x"))[0],
        "First part with a link (https://example.com/1)."
    );
}

#[test]
fn thread_part_over_the_limit_names_the_part() {
    let p = TestProject::new();
    let body = format!("short\n---\n{}", "a".repeat(301));
    let file = p.simple_post("th", "bsky", "thread: true", &body);
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("over the limit");
    assert!(
        d.message.contains("part 2 of 2") && d.message.contains("301"),
        "{}",
        d.message
    );
    assert_eq!(d.line, 8, "the line where part 2 starts");
}

#[test]
fn empty_thread_part_is_an_error() {
    let p = TestProject::new();
    let file = p.simple_post("th", "bsky", "thread: true", "one\n---\n---\nthree");
    p.validate(&[&file])
        .code(1)
        .stdout_has("part 2 of 3 is empty");
}

#[test]
fn thread_auto_splits_and_numbers_parts_within_each_limit() {
    let p = TestProject::new();
    let sentence = "Ein Satz mit Umlauten, äöü, und einem Emoji 👍🏽 darin. ";
    let body = format!(
        "{}\n\nSee https://example.com/{} for more. {}",
        sentence.repeat(12),
        "p".repeat(60),
        sentence.repeat(6)
    );
    let file = p.simple_post("auto", "bsky, fedi, x, li", "thread: auto", &body);
    let run = p.validate(&[&file]);
    run.code(0);
    let v = p.preview_json(&file, &[]);
    for (account, limit) in [("bsky", 300), ("fedi", 500), ("x", 280)] {
        let t = TestProject::target(&v, account);
        let parts = t["parts"].as_array().unwrap();
        assert!(parts.len() >= 2, "{account}: {t:#}");
        let n = parts.len();
        for (i, part) in parts.iter().enumerate() {
            let len = part["length"].as_u64().unwrap() as usize;
            assert!(len <= limit, "{account} part {}: {len} > {limit}", i + 1);
            let text = part["text"]["text"].as_str().unwrap();
            assert!(
                text.ends_with(&format!("\n\n{}/{n}", i + 1)),
                "{account} part {}: {text:?}",
                i + 1
            );
        }
        let joined: String = TestProject::part_texts(t)
            .iter()
            .map(|s| s.rsplit_once("\n\n").unwrap().0.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            joined.contains(&format!("https://example.com/{}", "p".repeat(60))),
            "{account}: the URL survives whole"
        );
    }
    // LinkedIn has no threads: one post.
    assert_eq!(
        TestProject::target(&v, "li")["parts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn thread_auto_is_valid_where_plain_text_is_too_long() {
    let p = TestProject::new();
    let body = "This sentence is exactly fifty characters long ok. ".repeat(20);
    let plain = p.simple_post("plain", "bsky, x, fedi", "", &body);
    p.validate(&[&plain]).code(1);
    let auto = p.simple_post("auto", "bsky, x, fedi", "thread: auto", &body);
    p.validate(&[&auto]).code(0);
    let v = p.preview_json(&auto, &[]);
    let bsky = TestProject::part_texts(TestProject::target(&v, "bsky"));
    assert!(bsky.len() >= 4, "{bsky:?}");
    assert!(
        bsky[0].starts_with("This sentence")
            && bsky[0].ends_with(&format!("ok.\n\n1/{}", bsky.len())),
        "cut at a sentence: {:?}",
        bsky[0]
    );
}

#[test]
fn linkedin_joins_thread_parts_into_one_post() {
    let p = TestProject::new();
    let file = p.simple_post(
        "li",
        "li, bsky",
        "thread: true",
        "one\n---\ntwo #tag\n---\nthree",
    );
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let li = TestProject::target(&v, "li");
    assert_eq!(TestProject::part_texts(li), ["one\n\ntwo #tag\n\nthree"]);
    let (text, spans) = part_spans(li, 0);
    assert_eq!(
        span_text(&text, &spans[0]),
        "#tag",
        "spans move with the joined text"
    );
    assert_eq!(
        TestProject::target(&v, "bsky")["parts"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn linkedin_joined_thread_that_is_too_long_is_an_error() {
    let p = TestProject::new();
    // Each part fits on its own; joined with a blank line they are 1500 + 2 + 1499 = 3001.
    let body = format!("{}\n---\n{}", "a".repeat(1500), "b".repeat(1499));
    let file = p.simple_post("li", "li", "thread: true", &body);
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("li (LinkedIn)");
    assert!(
        d.message.contains("3001") && d.message.contains("limit of 3000"),
        "{}",
        d.message
    );
    assert!(
        run.help_after("li (LinkedIn)")
            .contains("2 parts are joined"),
        "{}",
        run.stdout
    );
    let at_limit = p.simple_post(
        "li2",
        "li",
        "thread: true",
        &format!("{}\n---\n{}", "a".repeat(1500), "b".repeat(1498)),
    );
    p.validate(&[&at_limit]).code(0);
}

#[test]
fn thread_auto_keeps_bluesky_parts_within_3000_bytes() {
    // 700 ZWJ families: 700 graphemes but 17,500 bytes. Cutting by graphemes
    // alone would make 300-grapheme parts of 7,500 bytes.
    let p = TestProject::new();
    let family = "👩\u{200d}👩\u{200d}👧\u{200d}👦";
    let file = p.simple_post("bytes", "bsky", "thread: auto", &family.repeat(700));
    p.validate(&[&file]).code(0);
    let v = p.preview_json(&file, &[]);
    let parts = TestProject::target(&v, "bsky")["parts"]
        .as_array()
        .unwrap()
        .clone();
    assert!(parts.len() >= 6, "{parts:?}");
    for part in &parts {
        assert!(part["bytes"].as_u64().unwrap() <= 3000, "{part}");
        assert!(part["length"].as_u64().unwrap() <= 300, "{part}");
    }
}
