//! Each platform's counting rule, at the exact limit and one over.
//!
//! Every case checks three things: the count `preview --json` reports, the
//! exit code of `validate` (0 at the limit, 1 one over), and that the error
//! names the account, the count and the limit.

use crate::common::{JPEG, TestProject};

const FAMILY: &str = "👩\u{200d}👩\u{200d}👧\u{200d}👦"; // ZWJ sequence, 25 bytes
const THUMB_SKIN: &str = "👍🏽"; // emoji + skin tone modifier
const FLAG: &str = "🇩🇪"; // two regional indicators
const E_ACUTE_DECOMPOSED: &str = "e\u{301}"; // NFC: U+00E9

fn a(n: usize) -> String {
    "a".repeat(n)
}

/// A platform account as validation names it, and the unit of its counts.
struct Target {
    account: &'static str,
    label: &'static str,
    unit: &'static str,
    extra: &'static str,
}

const X: Target = Target {
    account: "x",
    label: "x (X)",
    unit: "weighted characters",
    extra: "",
};
const BSKY: Target = Target {
    account: "bsky",
    label: "bsky (Bluesky)",
    unit: "characters",
    extra: "",
};
const FEDI: Target = Target {
    account: "fedi",
    label: "fedi (Mastodon)",
    unit: "characters",
    extra: "",
};
const LI: Target = Target {
    account: "li",
    label: "li (LinkedIn)",
    unit: "characters",
    extra: "",
};
const INSTA: Target = Target {
    account: "insta",
    label: "insta (Instagram)",
    unit: "characters",
    extra: "media:\n  - path: media/photo.jpg\n    alt: A photo",
};

/// Checks that `body` counts `expected` for `t`, and that validate accepts it
/// exactly when `expected <= limit`, with a message naming account, count and limit.
#[track_caller]
fn check(p: &TestProject, t: &Target, id: &str, body: &str, expected: usize, limit: usize) {
    let file = p.simple_post(id, t.account, t.extra, body);
    let preview = p.preview_json(&file, &[]);
    let target = TestProject::target(&preview, t.account);
    assert_eq!(target["parts"].as_array().unwrap().len(), 1, "{target:#}");
    assert_eq!(
        target["parts"][0]["length"], expected,
        "{id}: count for {}: {target:#}",
        t.account
    );
    assert_eq!(target["max_chars"], limit, "{id}");

    let run = p.validate(&[&file]);
    if expected <= limit {
        run.code(0);
        assert!(
            run.diagnostics().iter().all(|d| d.severity != "error"),
            "{}",
            run.stdout
        );
    } else {
        run.code(1);
        let d = run.diagnostic("over the limit");
        assert_eq!(d.severity, "error");
        assert_eq!(d.path, file);
        for needle in [
            t.label.to_string(),
            format!("the text is {expected} {}", t.unit),
            format!("{} over the limit of {limit}", expected - limit),
        ] {
            assert!(
                d.message.contains(&needle),
                "{id}: message lacks {needle:?}: {}",
                d.message
            );
        }
    }
}

/// `body_at` must count exactly `limit`, `body_over` exactly `limit + 1`.
#[track_caller]
fn at_limit_and_one_over(t: &Target, limit: usize, case: &str, body_at: &str, body_over: &str) {
    let p = TestProject::new();
    p.write("media/photo.jpg", JPEG);
    check(&p, t, &format!("{case}-at"), body_at, limit, limit);
    check(&p, t, &format!("{case}-over"), body_over, limit + 1, limit);
}

// ── X: weighted length 280 ─────────────────────────────────────────────

#[test]
fn x_plain_ascii() {
    at_limit_and_one_over(&X, 280, "ascii", &a(280), &a(281));
}

#[test]
fn x_long_url_counts_23() {
    let url = format!("https://example.com/{}", "p".repeat(200));
    at_limit_and_one_over(
        &X,
        280,
        "url",
        &format!("{} {url}", a(256)),
        &format!("{} {url}", a(257)),
    );
}

#[test]
fn x_short_url_counts_23_too() {
    at_limit_and_one_over(
        &X,
        280,
        "short-url",
        &format!("{} https://a.io", a(256)),
        &format!("{} https://a.io", a(257)),
    );
}

#[test]
fn x_scheme_less_domain_counts_as_a_url() {
    at_limit_and_one_over(
        &X,
        280,
        "domain",
        &format!("{} example.com", a(256)),
        &format!("{} example.com", a(257)),
    );
}

#[test]
fn x_markdown_link_shows_url_counting_23() {
    // "[read](url)" becomes "read (url)": 1 + 4 + 2 + 23 + 1 = 31 after the filler.
    let link = format!("[read](https://example.com/{})", "q".repeat(100));
    at_limit_and_one_over(
        &X,
        280,
        "md-link",
        &format!("{} {link}", a(249)),
        &format!("{} {link}", a(250)),
    );
}

#[test]
fn x_cjk_weighs_two() {
    at_limit_and_one_over(
        &X,
        280,
        "cjk",
        &"日".repeat(140),
        &format!("{}a", "日".repeat(140)),
    );
    at_limit_and_one_over(
        &X,
        280,
        "kana",
        &format!("{}ひ", a(278)),
        &format!("{}ひ", a(279)),
    );
}

#[test]
fn x_zwj_family_weighs_two() {
    at_limit_and_one_over(
        &X,
        280,
        "family",
        &format!("{}{FAMILY}", a(278)),
        &format!("{}{FAMILY}", a(279)),
    );
}

#[test]
fn x_skin_tone_weighs_two() {
    at_limit_and_one_over(
        &X,
        280,
        "skin",
        &format!("{}{THUMB_SKIN}", a(278)),
        &format!("{}{THUMB_SKIN}", a(279)),
    );
}

#[test]
fn x_flag_weighs_two() {
    at_limit_and_one_over(
        &X,
        280,
        "flag",
        &format!("{}{FLAG}", a(278)),
        &format!("{}{FLAG}", a(279)),
    );
}

#[test]
fn x_many_emoji_each_weigh_two() {
    let emoji = format!("{FAMILY}{THUMB_SKIN}{FLAG}👍").repeat(35); // 140 emoji
    at_limit_and_one_over(&X, 280, "emoji-run", &emoji, &format!("{emoji}a"));
}

#[test]
fn x_combining_characters_are_nfc_normalised_first() {
    // Without NFC, e + U+0301 would weigh 2.
    at_limit_and_one_over(
        &X,
        280,
        "combining",
        &format!("{}{E_ACUTE_DECOMPOSED}", a(279)),
        &format!("{}{E_ACUTE_DECOMPOSED}", a(280)),
    );
}

#[test]
fn x_typographic_punctuation_weighs_one() {
    // U+2014 and U+201C/U+201D lie in twitter-text's weight-1 ranges.
    at_limit_and_one_over(
        &X,
        280,
        "punct",
        &format!("{}—“”", a(277)),
        &format!("{}—“”", a(278)),
    );
}

/// The Japanese sentence of issue 10: the URL ends where its path
/// characters end (`about`), the text after it weighs 2 a character.
const JA_URL: &str = "詳しくはhttps://example.com/aboutをご覧ください。";

#[test]
fn x_url_ends_where_japanese_text_resumes() {
    // 4 × 2 + 23 + 8 × 2 = 47.
    at_limit_and_one_over(
        &X,
        280,
        "ja-url",
        &format!("{}{JA_URL}", a(233)),
        &format!("{}{JA_URL}", a(234)),
    );
}

#[test]
fn x_file_names_and_hosts_without_a_tld_are_not_urls() {
    // " node.js config.yaml http://no-tld": 34 plain characters, no URL.
    let names = " node.js config.yaml http://no-tld";
    at_limit_and_one_over(
        &X,
        280,
        "names",
        &format!("{}{names}", a(246)),
        &format!("{}{names}", a(247)),
    );
}

#[test]
fn x_bare_domain_inside_japanese_text_counts_23() {
    // " 日本語example.comです": 1 + 3 × 2 + 23 + 2 × 2 = 34.
    let text = "日本語example.comです";
    at_limit_and_one_over(
        &X,
        280,
        "ja-domain",
        &format!("{} {text}", a(246)),
        &format!("{} {text}", a(247)),
    );
}

// ── Bluesky: 300 graphemes and 3000 bytes ───────────────────────────────

#[test]
fn bluesky_plain_ascii() {
    at_limit_and_one_over(&BSKY, 300, "ascii", &a(300), &a(301));
}

#[test]
fn bluesky_emoji_sequences_are_one_grapheme() {
    let emoji = format!("{FAMILY}{THUMB_SKIN}{FLAG}");
    at_limit_and_one_over(
        &BSKY,
        300,
        "emoji",
        &format!("{}{emoji}", a(297)),
        &format!("{}{emoji}", a(298)),
    );
}

#[test]
fn bluesky_combining_characters_are_one_grapheme() {
    let marks = "q\u{307}\u{323}"; // no precomposed form: still one grapheme
    at_limit_and_one_over(
        &BSKY,
        300,
        "combining",
        &format!("{}{E_ACUTE_DECOMPOSED}{marks}", a(298)),
        &format!("{}{E_ACUTE_DECOMPOSED}{marks}", a(299)),
    );
}

#[test]
fn bluesky_cjk_is_one_grapheme_each() {
    at_limit_and_one_over(&BSKY, 300, "cjk", &"日".repeat(300), &"日".repeat(301));
}

#[test]
fn bluesky_url_counts_in_full() {
    // A bare URL becomes a link facet but its text still counts every character.
    let url = format!("https://example.com/{}", "p".repeat(79)); // 99 characters
    at_limit_and_one_over(
        &BSKY,
        300,
        "url",
        &format!("{} {url}", a(200)),
        &format!("{} {url}", a(201)),
    );
}

#[test]
fn bluesky_markdown_link_hides_its_url() {
    let link = format!("[read](https://example.com/{})", "q".repeat(500));
    at_limit_and_one_over(
        &BSKY,
        300,
        "md-link",
        &format!("{} {link}", a(295)),
        &format!("{} {link}", a(296)),
    );
}

#[test]
fn bluesky_3000_bytes() {
    let p = TestProject::new();
    // 120 ZWJ families: 120 graphemes, exactly 3000 bytes.
    let at_limit = FAMILY.repeat(120);
    assert_eq!(at_limit.len(), 3000);
    let file = p.simple_post("bytes-at", "bsky", "", &at_limit);
    let t = p.preview_json(&file, &[]);
    let target = TestProject::target(&t, "bsky");
    assert_eq!(target["parts"][0]["length"], 120);
    assert_eq!(target["parts"][0]["bytes"], 3000);
    p.validate(&[&file]).code(0);

    let file = p.simple_post("bytes-over", "bsky", "", &format!("{at_limit}a"));
    let run = p.validate(&[&file]);
    run.code(1);
    let d = run.diagnostic("bytes");
    assert_eq!(d.severity, "error");
    assert!(d.message.contains("bsky (Bluesky)"), "{}", d.message);
    assert!(d.message.contains("3001 bytes"), "{}", d.message);
    assert!(d.message.contains("limit of 3000 bytes"), "{}", d.message);
}

// ── Mastodon: 500, URLs 23, @user@domain as @user ───────────────────────

#[test]
fn mastodon_plain_ascii() {
    at_limit_and_one_over(&FEDI, 500, "ascii", &a(500), &a(501));
}

#[test]
fn mastodon_url_counts_23() {
    let url = format!("https://example.com/{}", "p".repeat(200));
    at_limit_and_one_over(
        &FEDI,
        500,
        "url",
        &format!("{} {url}", a(476)),
        &format!("{} {url}", a(477)),
    );
}

#[test]
fn mastodon_markdown_link_shows_url_counting_23() {
    // " read (url)": 1 + 4 + 2 + 23 + 1 = 31.
    let link = format!("[read](https://example.com/{})", "q".repeat(300));
    at_limit_and_one_over(
        &FEDI,
        500,
        "md-link",
        &format!("{} {link}", a(469)),
        &format!("{} {link}", a(470)),
    );
}

#[test]
fn mastodon_remote_mention_counts_as_local_part() {
    // " @alice@example.social" counts as " @alice": 7.
    at_limit_and_one_over(
        &FEDI,
        500,
        "mention",
        &format!("{} @alice@example.social", a(493)),
        &format!("{} @alice@example.social", a(494)),
    );
}

#[test]
fn mastodon_emoji_and_combining_are_one_character() {
    let tail = format!("{FAMILY}{FLAG}{E_ACUTE_DECOMPOSED}");
    at_limit_and_one_over(
        &FEDI,
        500,
        "graphemes",
        &format!("{}{tail}", a(497)),
        &format!("{}{tail}", a(498)),
    );
}

#[test]
fn mastodon_remote_mention_with_dots_and_dashes_counts_as_local_part() {
    // " @alice.b-c@example.social" counts as " @alice.b-c": 11.
    at_limit_and_one_over(
        &FEDI,
        500,
        "mention-dots",
        &format!("{} @alice.b-c@example.social", a(489)),
        &format!("{} @alice.b-c@example.social", a(490)),
    );
}

#[test]
fn mastodon_url_path_runs_to_the_next_space() {
    // Mastodon's URL path takes every character but white space and
    // `<>()?` (config/initializers/twitter_regex.rb): unlike X, the
    // Japanese text after the URL belongs to it. 4 + 23 = 27.
    at_limit_and_one_over(
        &FEDI,
        500,
        "ja-url",
        &format!("{}{JA_URL}", a(473)),
        &format!("{}{JA_URL}", a(474)),
    );
}

#[test]
fn mastodon_urls_need_a_protocol_and_a_real_tld() {
    // Neither "example.com" (no protocol) nor "https://no-tld.invalidtld/x"
    // (no top-level domain) is a URL for Mastodon: 11 + 1 + 27 characters.
    let text = " example.com https://no-tld.invalidtld/x";
    at_limit_and_one_over(
        &FEDI,
        500,
        "no-url",
        &format!("{}{text}", a(460)),
        &format!("{}{text}", a(461)),
    );
}

#[test]
fn mastodon_max_characters_override() {
    let config = crate::common::CONFIG.replace(
        "instance = \"https://mastodon.example\"",
        "instance = \"https://mastodon.example\"\nmax_characters = 1000",
    );
    let p = TestProject::with_config(&config);
    check(&p, &FEDI, "long-at", &a(1000), 1000, 1000);
    check(&p, &FEDI, "long-over", &a(1001), 1001, 1000);
    // The override is per account: X keeps its own limit.
    check(&p, &X, "x-unchanged", &a(281), 281, 280);
}

// ── LinkedIn: 3000 ──────────────────────────────────────────────────────

#[test]
fn linkedin_plain_ascii() {
    at_limit_and_one_over(&LI, 3000, "ascii", &a(3000), &a(3001));
}

#[test]
fn linkedin_counts_utf16_units() {
    at_limit_and_one_over(
        &LI,
        3000,
        "emoji",
        &format!("{}👍", a(2998)),
        &format!("{}👍", a(2999)),
    );
}

// ── Instagram: 2200 (UTF-16 units), with media ──────────────────────────

#[test]
fn instagram_plain_ascii() {
    at_limit_and_one_over(&INSTA, 2200, "ascii", &a(2200), &a(2201));
}

#[test]
fn instagram_counts_utf16_units() {
    at_limit_and_one_over(
        &INSTA,
        2200,
        "emoji",
        &format!("{}👍", a(2198)),
        &format!("{}👍", a(2199)),
    );
}

#[test]
fn instagram_at_most_30_hashtags() {
    let p = TestProject::new();
    p.write("media/photo.jpg", JPEG);
    let tags = |n: usize| {
        (0..n)
            .map(|i| format!("#tag{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ok = p.simple_post("tags-30", "insta", INSTA.extra, &tags(30));
    p.validate(&[&ok]).code(0);
    let over = p.simple_post("tags-31", "insta", INSTA.extra, &tags(31));
    let run = p.validate(&[&over]);
    run.code(1);
    let d = run.diagnostic("hashtags");
    assert!(
        d.message.contains("insta (Instagram)")
            && d.message.contains("31")
            && d.message.contains("30"),
        "{}",
        d.message
    );
}

#[test]
fn counts_are_per_target_in_one_post() {
    // 281 ASCII characters: over for X only.
    let p = TestProject::new();
    let file = p.simple_post("multi", "bsky, fedi, x, li", "", &a(281));
    let run = p.validate(&[&file]);
    run.code(1);
    let errors: Vec<_> = run
        .diagnostics()
        .into_iter()
        .filter(|d| d.severity == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(
        errors[0].message.starts_with("x (X):"),
        "{}",
        errors[0].message
    );
}
