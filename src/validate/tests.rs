//! Each phase of checking a post, on its own: the post-level checks
//! (accounts, queue, variants, `reply_to`, media files, content warning)
//! and the per-target ones (text, threads, tags, media, alt text, the
//! platform's own rules).

use super::*;
use crate::config::ServerFacts;

const CONFIG: &str = r#"timezone = "UTC"

[accounts.bsky]
platform = "bluesky"
handle = "alice.example.com"

[accounts.fedi]
platform = "mastodon"
instance = "https://fedi.example"

[accounts.x]
platform = "twitter"
username = "alice"

[accounts.li]
platform = "linkedin"

[accounts.insta]
platform = "instagram"
user_id = "1"

[queues.weekdays]
accounts = ["bsky"]
mon = ["09:00"]
"#;

fn config_in(root: &Path, extra: &str) -> Config {
    let src = format!("{CONFIG}{extra}");
    Config::parse(root, &root.join("social.toml"), &src).unwrap()
}

fn config() -> Config {
    config_in(Path::new("/nonexistent/project"), "")
}

fn post(config: &Config, src: &str) -> Post {
    let path = config.root.join("posts/p.md");
    let parsed = content::parse_post(&path, src, config.timezone);
    assert!(
        parsed.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        parsed.diagnostics
    );
    parsed.post.expect("a post")
}

fn messages(diags: &[Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.message.as_str()).collect()
}

/// Runs one per-target phase for `account` on `src`.
fn target_phase(
    config: &Config,
    src: &str,
    account: &str,
    mut phase: impl FnMut(&TargetCheck<'_>, &Rendered, &mut Vec<Diagnostic>),
) -> Vec<Diagnostic> {
    let post = post(config, src);
    let account = &config.accounts[account];
    let limits = limits_for(account, config);
    let r = render::render_for(&post, account, &limits);
    let t = TargetCheck::new(&post, account, &limits, config);
    let mut diags = Vec::new();
    phase(&t, &r, &mut diags);
    diags
}

fn media_item(kind: MediaKind, mime: &'static str, bytes: u64, alt: Option<&str>) -> MediaInfo {
    MediaInfo {
        path: "media/a".into(),
        project_path: "media/a".into(),
        resolved: PathBuf::from("/nonexistent/media/a"),
        mime,
        kind,
        bytes,
        alt: alt.map(String::from),
    }
}

/// The first bytes of a PNG of `w` × `h` pixels (what the size sniffers read).
fn png(w: u32, h: u32) -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];
    b.extend_from_slice(b"IHDR");
    b.extend_from_slice(&w.to_be_bytes());
    b.extend_from_slice(&h.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b
}

// ── The post ─────────────────────────────────────────────────────────────

#[test]
fn defaults_fill_what_the_post_leaves_open() {
    let c = config_in(
        Path::new("/nonexistent/project"),
        "\n[defaults]\nlang = [\"de\"]\nvisibility = \"unlisted\"\n",
    );
    let mut p = post(&c, "---\nid: p\nto: [fedi]\n---\nHi\n");
    resolve_defaults(&mut p, &c);
    assert_eq!(
        (p.lang, p.visibility.as_deref()),
        (vec!["de".to_string()], Some("unlisted"))
    );
    let mut own = post(
        &c,
        "---\nid: p\nto: [fedi]\nlang: en\nvisibility: direct\n---\nHi\n",
    );
    resolve_defaults(&mut own, &c);
    assert_eq!(
        (own.lang, own.visibility.as_deref()),
        (vec!["en".to_string()], Some("direct"))
    );
}

#[test]
fn targets_are_known_accounts_once_each() {
    let c = config();
    let mut diags = Vec::new();
    let p = post(&c, "---\nid: p\nto: [fedi, bsyk, fedi]\n---\nHi\n");
    assert_eq!(check_targets(&p, &c, &mut diags), ["fedi"]);
    assert_eq!(messages(&diags), ["unknown account `bsyk`"]);
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `bsky`?"));

    let mut diags = Vec::new();
    let draft = post(&c, "---\nid: p\nstatus: draft\n---\nHi\n");
    assert!(check_targets(&draft, &c, &mut diags).is_empty());
    assert_eq!(messages(&diags), ["the post has no accounts to go to"]);
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn queue_must_exist_and_at_wins_over_it() {
    let c = config();
    let mut diags = Vec::new();
    check_queue(
        &post(&c, "---\nid: p\nqueue: weekday\n---\nHi\n"),
        &c,
        &mut diags,
    );
    assert_eq!(messages(&diags), ["unknown queue `weekday`"]);
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `weekdays`?"));

    let mut diags = Vec::new();
    let both = post(
        &c,
        "---\nid: p\nqueue: weekdays\nat: 2026-12-01 09:00\n---\nHi\n",
    );
    check_queue(&both, &c, &mut diags);
    assert_eq!(
        messages(&diags),
        ["the post has both `at` and `queue: weekdays`; `at` decides its time"]
    );
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn variants_name_an_account_or_a_platform() {
    let c = config();
    let mut diags = Vec::new();
    let p = post(
        &c,
        "---\nid: p\nto: [x]\nvariants:\n  x: For X\n  mastodon: For Mastodon\n  mastodn: Typo\n---\nHi\n",
    );
    check_variants(&p, &c, &mut diags);
    assert_eq!(
        messages(&diags),
        ["variant `mastodn` matches no account or platform"]
    );
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `mastodon`?"));
    assert_eq!(diags[0].line, 7);
}

#[test]
fn reply_to_is_a_url_or_a_post_id() {
    let c = config();
    for (reply, bad) in [
        ("https://x.com/bob/status/1", false),
        ("at://did:plc:abc/app.bsky.feed.post/1", false),
        ("2026-12-01-launch", false),
        ("not a post!", true),
    ] {
        let mut diags = Vec::new();
        check_reply_to(
            &post(
                &c,
                &format!("---\nid: p\nto: [x]\nreply_to: \"{reply}\"\n---\nHi\n"),
            ),
            &mut diags,
        );
        assert_eq!(diags.len(), usize::from(bad), "{reply}: {diags:?}");
    }
}

#[test]
fn media_files_are_inspected_and_alt_text_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("media")).unwrap();
    std::fs::write(dir.path().join("media/a.png"), png(10, 10)).unwrap();
    let c = config_in(dir.path(), "");
    let p = post(
        &c,
        "---\nid: p\nto: [fedi]\nmedia:\n  - path: media/a.png\n  - path: media/gone.png\n    alt: gone\n---\nHi\n",
    );
    let mut diags = Vec::new();
    let media = check_media(&p, &c, &mut diags);
    assert_eq!(media.len(), 1);
    assert_eq!(
        (media[0].kind, media[0].mime),
        (MediaKind::Image, "image/png")
    );
    assert_eq!(
        messages(&diags),
        [
            "`media/a.png` has no alt text",
            "media file `media/gone.png` does not exist"
        ]
    );
}

#[test]
fn content_warning_names_the_targets_without_one() {
    let c = config();
    let p = post(
        &c,
        "---\nid: p\nto: [fedi, bsky, x]\ncw: spoilers\n---\nHi\n",
    );
    let mut diags = Vec::new();
    check_content_warning(
        &p,
        &["fedi".into(), "bsky".into(), "x".into()],
        &c,
        &mut diags,
    );
    assert_eq!(
        messages(&diags),
        ["`cw` (content warning) is only shown on Mastodon; bsky, x will show the text without it"]
    );
    let mut diags = Vec::new();
    check_content_warning(&p, &["fedi".into()], &c, &mut diags);
    assert!(diags.is_empty());
}

#[test]
fn server_limits_apply_where_the_table_says_the_server_has_them() {
    let mut c = config();
    let facts = ServerFacts {
        characters_reserved_per_url: Some(30),
        max_media_attachments: Some(8),
        image_size_limit: Some(1000),
        video_size_limit: Some(2000),
        description_limit: Some(50),
    };
    for name in ["fedi", "bsky"] {
        c.server_limits.facts.insert(name.into(), facts.clone());
    }
    let fedi = limits_for(&c.accounts["fedi"], &c);
    assert_eq!(
        (
            fedi.url_weight,
            fedi.max_images,
            fedi.max_image_bytes,
            fedi.max_gif_bytes
        ),
        (Some(30), 8, 1000, 1000)
    );
    assert_eq!((fedi.max_video_bytes, fedi.max_alt_chars), (2000, 50));
    // Bluesky reports no limits of its own: the table's hold.
    let bsky = limits_for(&c.accounts["bsky"], &c);
    assert_eq!(
        (bsky.url_weight, bsky.max_images, bsky.max_alt_chars),
        (None, 4, 2000)
    );
}

#[test]
fn a_whole_post_is_checked_phase_after_phase() {
    let c = config();
    let p = post(&c, "---\nid: p\nto: [fedi, nope]\ncw: cw\n---\nHi\n");
    let mut diags = Vec::new();
    let checked = check_post(p, &c, &mut diags);
    assert_eq!(checked.targets, ["fedi"]);
    assert_eq!(checked.rendered.len(), 1);
    assert_eq!(messages(&diags), ["unknown account `nope`"]);
}

// ── One target ───────────────────────────────────────────────────────────

#[test]
fn render_notes_become_warnings() {
    let c = config();
    let p = post(&c, "---\nid: p\nto: [fedi]\n---\nSee ![a picture](a.png)\n");
    let account = &c.accounts["fedi"];
    let r = render::render_for(&p, account, account.platform.limits());
    let mut diags = Vec::new();
    render_notes(&p, &r, &mut diags);
    assert_eq!(
        messages(&diags),
        ["images in the text are not attached; list them under `media` in the frontmatter"]
    );
    assert_eq!(diags[0].severity, Severity::Warning);
}

#[test]
fn x_replies_to_someone_elses_post_are_warned_about() {
    let c = config();
    let bob = "---\nid: p\nto: [x, fedi]\nreply_to: https://x.com/bob/status/1\n---\nHi\n";
    let d = target_phase(&c, bob, "x", |t, _, d| t.check_reply_author(d));
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message
            .starts_with("x (X): `reply_to` is a post by @bob, not by @alice: X lets"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].account.as_deref(), Some("x"));
    // Mastodon has no such rule; one's own post and `/i/status/` are fine.
    assert!(target_phase(&c, bob, "fedi", |t, _, d| t.check_reply_author(d)).is_empty());
    for url in ["https://x.com/Alice/status/1", "https://x.com/i/status/1"] {
        let own = format!("---\nid: p\nto: [x]\nreply_to: {url}\n---\nHi\n");
        assert!(target_phase(&c, &own, "x", |t, _, d| t.check_reply_author(d)).is_empty());
    }
}

#[test]
fn a_target_needs_text_or_media() {
    let c = config();
    let src = "---\nid: p\nto: [fedi, bsky]\nvariants:\n  fedi: \" \"\n---\nHi\n";
    let mut ok = true;
    let d = target_phase(&c, src, "fedi", |t, r, d| ok = t.check_not_empty(r, d));
    assert!(!ok);
    assert_eq!(
        messages(&d),
        ["fedi (Mastodon): the post has no text and no media"]
    );
    assert_eq!(d[0].line, 5, "at the variant");
    let d = target_phase(&c, src, "bsky", |t, r, d| assert!(t.check_not_empty(r, d)));
    assert!(d.is_empty());
}

#[test]
fn parts_within_the_length_with_the_fix_for_the_platform() {
    let c = config();
    let long = format!("---\nid: p\nto: [x, li]\n---\n{}\n", "a".repeat(281));
    let d = target_phase(&c, &long, "x", |t, r, d| t.check_parts(r, d));
    assert_eq!(
        messages(&d),
        ["x (X): the text is 281 weighted characters, 1 over the limit of 280"]
    );
    assert!(d[0].help.as_deref().unwrap().contains("thread: auto"));
    assert!(target_phase(&c, &long, "li", |t, r, d| t.check_parts(r, d)).is_empty());

    // Mastodon counts the content warning with the text.
    let cw = format!(
        "---\nid: p\nto: [fedi]\ncw: abcde\n---\n{}\n",
        "a".repeat(498)
    );
    let d = target_phase(&c, &cw, "fedi", |t, r, d| t.check_parts(r, d));
    assert_eq!(
        messages(&d),
        [
            "fedi (Mastodon): the text and the content warning are 503 characters, 3 over the limit of 500"
        ]
    );

    // LinkedIn joins a thread: the help says so.
    let joined = format!(
        "---\nid: p\nto: [li]\nthread: true\n---\n{}\n\n---\n\n{}\n",
        "a".repeat(2000),
        "b".repeat(2000)
    );
    let d = target_phase(&c, &joined, "li", |t, r, d| t.check_parts(r, d));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].help
            .as_deref()
            .unwrap()
            .starts_with("LinkedIn has no threads: the 2 parts are joined"),
        "{:?}",
        d[0].help
    );
}

#[test]
fn an_empty_thread_part_is_an_error_of_its_own() {
    let c = config();
    let src = "---\nid: p\nto: [fedi]\nthread: true\n---\nOne.\n\n---\n\n---\n\nThree.\n";
    let d = target_phase(&c, src, "fedi", |t, r, d| t.check_parts(r, d));
    assert_eq!(
        messages(&d),
        ["fedi (Mastodon): thread part 2 of 3 is empty"]
    );
}

#[test]
fn bytes_and_tag_lengths_where_the_platform_caps_them() {
    let c = config();
    // 200 graphemes of 21 bytes each: within Bluesky's 300, over its 3000 bytes.
    let heavy = format!(
        "---\nid: p\nto: [bsky, fedi]\n---\n{}\n",
        format!("e{}", "\u{301}".repeat(10)).repeat(200)
    );
    let d = target_phase(&c, &heavy, "bsky", |t, r, d| t.check_parts(r, d));
    assert_eq!(
        messages(&d),
        ["bsky (Bluesky): the text is 4200 bytes, over the limit of 3000 bytes"]
    );
    assert!(target_phase(&c, &heavy, "fedi", |t, r, d| t.check_parts(r, d)).is_empty());

    let tag = format!("---\nid: p\nto: [bsky]\n---\nHi #{}\n", "t".repeat(65));
    let d = target_phase(&c, &tag, "bsky", |t, r, d| t.check_parts(r, d));
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message
            .ends_with("is 65 characters; tags over 64 are not linked")
    );
    assert_eq!(d[0].severity, Severity::Warning);
}

#[test]
fn hashtags_and_mentions_within_the_caps() {
    let c = config();
    let tags: Vec<String> = (0..31).map(|i| format!("#t{i}")).collect();
    let mentions: Vec<String> = (0..21).map(|i| format!("@u{i}")).collect();
    let src = format!(
        "---\nid: p\nto: [insta, fedi]\n---\n{} {}\n",
        tags.join(" "),
        mentions.join(" ")
    );
    let d = target_phase(&c, &src, "insta", |t, r, d| {
        t.check_tag_and_mention_counts(r, d)
    });
    assert_eq!(
        messages(&d),
        [
            "insta (Instagram): 31 hashtags, more than the 30 allowed",
            "insta (Instagram): 21 mentions, more than the 20 allowed"
        ]
    );
    assert!(
        target_phase(&c, &src, "fedi", |t, r, d| t
            .check_tag_and_mention_counts(r, d))
        .is_empty()
    );
}

#[test]
fn gifs_count_as_videos_where_the_table_says_so() {
    let media = [
        media_item(MediaKind::Image, "image/png", 1, None),
        media_item(MediaKind::Gif, "image/gif", 1, None),
        media_item(MediaKind::Video, "video/mp4", 1, None),
    ];
    assert_eq!(
        MediaCounts::of(&media, true),
        MediaCounts {
            still: 1,
            moving: 2,
            gifs: 1
        }
    );
    assert_eq!(
        MediaCounts::of(&media, false),
        MediaCounts {
            still: 2,
            moving: 1,
            gifs: 1
        }
    );
}

#[test]
fn media_counts_and_mixing_per_platform() {
    let c = config();
    let src = "---\nid: p\nto: [x, fedi, bsky, insta]\n---\nHi\n";
    let image_and_gif = [
        media_item(MediaKind::Image, "image/png", 1, None),
        media_item(MediaKind::Gif, "image/gif", 1, None),
    ];
    let phase = |account: &str, media: &[MediaInfo]| {
        target_phase(&c, src, account, |t, _, d| t.check_media_counts(media, d))
    };
    assert_eq!(
        messages(&phase("x", &image_and_gif)),
        ["x (X): X cannot attach images and an animated GIF or video to one post"]
    );
    assert!(phase("fedi", &image_and_gif).is_empty());
    let five: Vec<_> = (0..5)
        .map(|_| media_item(MediaKind::Image, "image/png", 1, None))
        .collect();
    assert_eq!(
        messages(&phase("fedi", &five)),
        ["fedi (Mastodon): 5 images, more than the 4 allowed"]
    );
    let video = [media_item(MediaKind::Video, "video/mp4", 1, None)];
    assert_eq!(
        messages(&phase("bsky", &video)),
        ["bsky (Bluesky): social cannot publish videos to Bluesky yet"]
    );
    let two_gifs = [
        media_item(MediaKind::Gif, "image/gif", 1, None),
        media_item(MediaKind::Gif, "image/gif", 1, None),
    ];
    assert_eq!(
        messages(&phase("x", &two_gifs)),
        ["x (X): 2 videos or GIFs, more than the 1 allowed"]
    );
    // Instagram needs media, and mixes them up to ten.
    assert_eq!(
        messages(&phase("insta", &[])),
        ["insta (Instagram): an Instagram post needs at least one image or video"]
    );
}

#[test]
fn media_types_and_sizes_per_platform() {
    let c = config();
    let src = "---\nid: p\nto: [insta, x]\n---\nHi\n";
    let check = |account: &str, m: &MediaInfo| {
        target_phase(&c, src, account, |t, _, d| {
            t.check_media_type_and_size(m, Pos::line(9), d)
        })
    };
    let png = media_item(MediaKind::Image, "image/png", 1, None);
    let d = check("insta", &png);
    assert_eq!(
        messages(&d),
        ["insta (Instagram): Instagram does not accept PNG images (`media/a`)"]
    );
    assert_eq!(d[0].help.as_deref(), Some("convert it to JPEG"));
    assert_eq!(d[0].line, 9);
    assert!(check("x", &png).is_empty());
    let big = media_item(MediaKind::Image, "image/png", 6_000_000, None);
    assert_eq!(
        messages(&check("x", &big)),
        ["x (X): `media/a` is 6.0 MB, over X's limit of 5.0 MB for a image"]
    );
}

#[test]
fn feed_images_within_the_aspect_ratios_where_the_table_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let c = config();
    let src = "---\nid: p\nto: [insta, x]\n---\nHi\n";
    let sized = |w: u32, h: u32| {
        let path = dir.path().join(format!("{w}x{h}.png"));
        std::fs::write(&path, png(w, h)).unwrap();
        MediaInfo {
            resolved: path,
            ..media_item(MediaKind::Image, "image/png", 1, None)
        }
    };
    let check = |account: &str, m: &MediaInfo| {
        target_phase(&c, src, account, |t, _, d| {
            t.check_aspect(m, Pos::line(9), d)
        })
    };
    let tall = sized(1000, 2000);
    let d = check("insta", &tall);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.starts_with(
            "insta (Instagram): the image `media/a` is 1000×2000 pixels, an aspect ratio of 0.50:1 (too tall)"
        ),
        "{}",
        d[0].message
    );
    assert!(check("x", &tall).is_empty());
    assert!(check("insta", &sized(1080, 1350)).is_empty());
    assert!(check("insta", &sized(1080, 566)).is_empty());
    assert_eq!(check("insta", &sized(2000, 1000)).len(), 1);
}

#[test]
fn alt_text_within_the_platforms_length() {
    let c = config();
    let src = "---\nid: p\nto: [x, li]\n---\nHi\n";
    let alt = "a".repeat(1001);
    let m = media_item(MediaKind::Image, "image/png", 1, Some(&alt));
    let check = |account: &str| {
        target_phase(&c, src, account, |t, _, d| {
            t.check_alt_length(&m, Pos::line(9), d)
        })
    };
    assert_eq!(
        messages(&check("x")),
        ["x (X): the alt text of `media/a` is 1001 characters, over the limit of 1000"]
    );
    assert!(check("li").is_empty());
}

#[test]
fn media_fetched_from_a_url_needs_one_configured() {
    let dir = tempfile::tempdir().unwrap();
    let src = "---\nid: p\nto: [insta, x]\nmedia:\n  - {path: media/a.jpg, alt: a}\n---\nHi\n";
    let c = config_in(dir.path(), "");
    let d = target_phase(&c, src, "insta", |t, _, d| t.check_media_source(d));
    assert_eq!(
        messages(&d),
        ["insta (Instagram): Instagram fetches media from a public URL, and none is configured"]
    );
    assert!(target_phase(&c, src, "x", |t, _, d| t.check_media_source(d)).is_empty());
    let mut served = config_in(dir.path(), "");
    served.media_base_url = Some("https://media.example.com".into());
    assert!(target_phase(&served, src, "insta", |t, _, d| t.check_media_source(d)).is_empty());
}

#[test]
fn visibility_and_languages_the_platform_has() {
    let c = config();
    let src =
        "---\nid: p\nto: [bsky, fedi]\nvisibility: unlisted\nlang: [en, de, fr, es]\n---\nHi\n";
    let d = target_phase(&c, src, "bsky", |t, _, d| t.check_visibility(d));
    assert_eq!(
        messages(&d),
        ["bsky (Bluesky): Bluesky has no `unlisted` visibility; the post will be public"]
    );
    assert!(target_phase(&c, src, "fedi", |t, _, d| t.check_visibility(d)).is_empty());
    let d = target_phase(&c, src, "bsky", |t, _, d| t.check_langs(d));
    assert_eq!(
        messages(&d),
        ["bsky (Bluesky): 4 languages, more than the 3 Bluesky allows"]
    );
    // Mastodon takes one language: more are not its error to give.
    assert!(target_phase(&c, src, "fedi", |t, _, d| t.check_langs(d)).is_empty());
}
