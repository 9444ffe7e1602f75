//! Property tests: malformed input never panics the parser, the renderer or
//! the validator. These call the library directly (no process per case).

use proptest::prelude::*;
use social::config::Config;
use social::content::{self, parse_post};
use social::render::markdown;
use social::validate::{self, Options};
use std::path::Path;
use std::sync::OnceLock;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let toml = crate::common::CONFIG.replace(
            "instance = \"https://mastodon.example\"",
            "instance = \"https://mastodon.example\"\nmax_characters = 40",
        );
        Config::parse(
            Path::new("/nonexistent"),
            Path::new("/nonexistent/social.toml"),
            &toml,
        )
        .unwrap()
    })
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

/// Text that is hard on the renderer and the counters: Markdown syntax,
/// entities, combining marks, ZWJ, emoji, CJK, CRLF.
fn tricky_text() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "a",
        "Z",
        " ",
        "\n",
        "\r\n",
        "\t",
        "---",
        "\n---\n",
        "*",
        "**",
        "_",
        "~~",
        "`",
        "```",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "#",
        "＃",
        "@",
        "@a@b.c",
        "#tag",
        "http://",
        "https://x.io/",
        "example.com",
        ".",
        ",",
        "!",
        "?",
        "…",
        "é",
        "e\u{301}",
        "\u{301}",
        "\u{200d}",
        "\u{fe0f}",
        "\u{20e3}",
        "👩",
        "👩\u{200d}👩\u{200d}👧",
        "🏽",
        "🇩",
        "🇪",
        "日本",
        "ひ",
        "\u{feff}",
        "\u{0}",
        "\u{600}",
        "- ",
        "1. ",
        "> ",
        "![i](x.png)",
        "[l](https://e.com)",
        "\\",
        "|",
        ":",
        "+++",
    ]);
    prop::collection::vec(atoms, 0..80).prop_map(|v| v.concat())
}

fn frontmatter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,20}",
        Just(String::new()),
        Just("[".to_string()),
        Just("{".to_string()),
        Just("\"unterminated".to_string()),
        Just("[bsky, fedi, x, li, insta]".to_string()),
        Just("auto".to_string()),
        Just("true".to_string()),
        Just("2026-10-25 02:30".to_string()),
        Just("2026-03-29 02:30".to_string()),
        Just("2026-12-01T09:00:00+01:00".to_string()),
        Just("\n  - path: media/a.png\n    alt: x".to_string()),
        Just("\n  x: hi\n  bsky: |\n    multi".to_string()),
        Just("- a\n- b".to_string()),
        Just("&anchor x".to_string()),
        Just("*alias".to_string()),
        Just("!!binary aGVsbG8=".to_string()),
        tricky_text(),
    ]
}

fn frontmatter_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(content::KEYS.to_vec()).prop_map(str::to_string),
        "[a-z_]{1,10}",
        "\\PC{0,8}",
    ]
}

/// `---` + random `key: value` lines + `---` + random body (or the TOML twin).
fn frontmatter_shaped() -> impl Strategy<Value = String> {
    (
        any::<bool>(),
        prop::collection::vec((frontmatter_key(), frontmatter_value()), 0..8),
        any::<bool>(),
        tricky_text(),
    )
        .prop_map(|(toml, entries, closed, body)| {
            let (delim, sep) = if toml { ("+++", " = ") } else { ("---", ": ") };
            let mut s = format!("{delim}\n");
            for (k, v) in entries {
                s.push_str(&k);
                s.push_str(sep);
                s.push_str(&v);
                s.push('\n');
            }
            if closed {
                s.push_str(delim);
                s.push('\n');
            }
            s.push_str(&body);
            s
        })
}

/// Parses, and when a post comes out, renders and validates it for every account.
fn exercise(src: &str) {
    let path = Path::new("posts/prop.md");
    let parsed = parse_post(path, src, chrono_tz::Tz::UTC);
    for d in &parsed.diagnostics {
        assert!(d.line >= 1 && d.column >= 1, "{d:?}");
    }
    if let Some(post) = parsed.post {
        let _ = markdown::render(&post.body, true);
        let _ = markdown::render(&post.body, false);
    }
    let mut with_all_targets = src.to_string();
    if !src.contains("\nto") {
        with_all_targets = with_all_targets.replacen(
            "---\n",
            "---\nto: [bsky, fedi, x, li, insta]\nthread: auto\n",
            1,
        );
    }
    let report = validate::check_text(path, &with_all_targets, config(), &Options::default());
    if let Some(checked) = report.checked {
        for r in &checked.rendered {
            for part in &r.parts {
                for span in &part.text.spans {
                    assert!(
                        span.start < span.end && span.end <= part.text.text.len(),
                        "{span:?} in {:?}",
                        part.text.text
                    );
                    assert!(
                        part.text.text.is_char_boundary(span.start)
                            && part.text.text.is_char_boundary(span.end)
                    );
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(cases())]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        exercise(&src);
    }

    #[test]
    fn tricky_markdown_never_panics(body in tricky_text(), hide in any::<bool>()) {
        let (rt, _) = markdown::render(&body, hide);
        for span in &rt.spans {
            prop_assert!(span.end <= rt.text.len() && rt.text.is_char_boundary(span.start) && rt.text.is_char_boundary(span.end));
        }
        exercise(&format!("---\nid: t\n---\n{body}"));
    }

    #[test]
    fn frontmatter_shaped_input_never_panics(src in frontmatter_shaped()) {
        exercise(&src);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let path = Path::new("posts/bytes.md");
        match content::decode(path, bytes.clone()) {
            Ok(src) => exercise(&src),
            Err(d) => prop_assert!(d.message.contains("not UTF-8")),
        }
        // Valid frontmatter around random (lossily decoded) bytes too.
        let body = String::from_utf8_lossy(&bytes);
        exercise(&format!("---\nid: b\nto: [bsky, x, fedi]\nthread: auto\n---\n{body}"));
    }
}

/// Found by `tricky_markdown_never_panics`: a link whose text starts with
/// blanks after a rule, so that its span begins in the trimmed lead.
#[test]
fn a_link_span_in_the_trimmed_lead_is_kept_in_bounds() {
    for hide in [false, true] {
        let (rt, _) = markdown::render("a\n---\n[ \\[l](https://e.com)", hide);
        for span in &rt.spans {
            assert!(span.start < span.end && span.end <= rt.text.len(), "{rt:?}");
        }
    }
    exercise("---\nid: t\n---\na\n---\n[ \\[l](https://e.com)");
}
