//! Validation: rendering every target of a post and checking the result
//! against its platform's limits. `preview` shows what this computes.

use crate::config::{Account, Config};
use crate::content::{self, MediaRef, Post, Status};
use crate::diag::{Diagnostic, Pos, Severity, suggest};
use crate::model::{Limits, PlatformKind, ThreadSupport};
use crate::render::{self, Rendered, Source};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use unicode_segmentation::UnicodeSegmentation;

/// Options of a validation run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Treat warnings as errors.
    pub strict: bool,
    /// Render for these accounts instead of the post's own (`--to`).
    pub to: Vec<String>,
}

pub use crate::model::{MediaInfo, MediaKind};

/// A post and everything computed about it.
#[derive(Debug)]
pub struct Checked {
    pub post: Post,
    pub targets: Vec<String>,
    pub rendered: Vec<Rendered>,
    pub media: Vec<MediaInfo>,
}

/// The outcome of checking one file.
#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    pub checked: Option<Checked>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The outcome of checking many files.
#[derive(Debug, Default)]
pub struct Report {
    pub files: Vec<FileReport>,
}

impl Report {
    /// All diagnostics, in file order.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.files.iter().flat_map(|f| f.diagnostics.iter())
    }

    pub fn errors(&self) -> usize {
        self.diagnostics().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics().filter(|d| !d.is_error()).count()
    }
}

/// Reads, parses and checks every file; then checks across files (duplicate ids).
pub fn check_files(files: &[PathBuf], config: &Config, opts: &Options) -> Report {
    let mut reports: Vec<FileReport> = files
        .par_iter()
        .map(|p| check_file(p, config, opts))
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in 0..reports.len() {
        let Some(c) = &reports[i].checked else {
            continue;
        };
        let id = c.post.id.clone();
        let pos = c.post.pos_of("id");
        if let Some(&first) = seen.get(&id) {
            let other = reports[first].path.clone();
            let d = Diagnostic::error(
                &reports[i].path,
                pos,
                format!("post id `{id}` is also used by {}", other.display()),
            )
            .with_help("every post needs its own `id`; change one of them");
            reports[i].diagnostics.push(d);
        } else {
            seen.insert(id, i);
        }
    }
    Report { files: reports }
}

/// Reads, parses and checks one file.
pub fn check_file(path: &Path, config: &Config, opts: &Options) -> FileReport {
    let mut diagnostics = Vec::new();
    let checked = match content::read_post_file(path) {
        Err(d) => {
            diagnostics.push(d);
            None
        }
        Ok(src) => check_source(path, &src, config, opts, &mut diagnostics),
    };
    finish(&mut diagnostics, opts);
    FileReport {
        path: path.to_path_buf(),
        checked,
        diagnostics,
    }
}

/// Parses and checks post text that did not come from a file on disk (stdin).
pub fn check_text(path: &Path, src: &str, config: &Config, opts: &Options) -> FileReport {
    let mut diagnostics = Vec::new();
    let checked = check_source(path, src, config, opts, &mut diagnostics);
    finish(&mut diagnostics, opts);
    FileReport {
        path: path.to_path_buf(),
        checked,
        diagnostics,
    }
}

fn finish(diagnostics: &mut Vec<Diagnostic>, opts: &Options) {
    if opts.strict {
        for d in diagnostics.iter_mut() {
            d.severity = Severity::Error;
        }
    }
    diagnostics.sort_by_key(|d| (d.line, d.column, d.severity));
    diagnostics
        .dedup_by(|a, b| a.line == b.line && a.message == b.message && a.severity == b.severity);
}

fn check_source(
    path: &Path,
    src: &str,
    config: &Config,
    opts: &Options,
    diags: &mut Vec<Diagnostic>,
) -> Option<Checked> {
    let parsed = content::parse_post(path, src, config.timezone);
    diags.extend(parsed.diagnostics);
    let mut post = parsed.post?;
    if !opts.to.is_empty() {
        post.to = opts.to.clone();
    }
    Some(check_post(post, config, diags))
}

/// A ready post whose `at` is more than `catch_up` ago is never a surprise:
/// a warning at its `at` that `publish --due` and the daemon will mark it
/// missed, with the fix. `settled(post, account)` tells the targets that
/// need nothing more (published or cancelled, from published.toml), which
/// are left alone: a post sent long ago is not late.
pub fn warn_past(
    report: &mut FileReport,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
    settled: &dyn Fn(&str, &str) -> bool,
) {
    let Some(c) = &report.checked else { return };
    let (Some(at), Status::Ready) = (&c.post.at, c.post.status) else {
        return;
    };
    let grace = chrono::Duration::from_std(config.catch_up).unwrap_or(chrono::Duration::hours(1));
    if now - at.instant <= grace || c.targets.iter().all(|a| settled(&c.post.id, a)) {
        return;
    }
    let ago = crate::content::time::relative(at.instant, now);
    let d = Diagnostic::warning(
        &report.path,
        c.post.pos_of("at"),
        format!(
            "`at` is {ago}, more than catch_up = {}: it will be marked missed instead of published",
            humantime::format_duration(config.catch_up)
        ),
    )
    .with_help(format!(
        "change `at` to a later time to reschedule it, or publish it now with `social post {}`",
        report.path.display()
    ));
    report.diagnostics.push(d);
    report
        .diagnostics
        .sort_by_key(|d| (d.line, d.column, d.severity));
}

/// Checks a parsed post against the configuration and every target's platform.
pub fn check_post(mut post: Post, config: &Config, diags: &mut Vec<Diagnostic>) -> Checked {
    // Defaults from social.toml fill what the post leaves open, so that the
    // clients see one resolved post.
    if post.lang.is_empty() {
        post.lang = config.defaults.lang.clone();
    }
    if post.visibility.is_none() {
        post.visibility = config.defaults.visibility.clone();
    }
    let path = post.path.clone();
    let path = path.as_path();

    // Targets.
    let mut targets = Vec::new();
    for name in content::target_accounts(&post, config) {
        if config.accounts.contains_key(&name) {
            if !targets.contains(&name) {
                targets.push(name);
            }
        } else {
            let help = suggest(&name, config.accounts.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| {
                    let known: Vec<&str> = config.accounts.keys().map(String::as_str).collect();
                    if known.is_empty() {
                        "social.toml defines no accounts yet; add one under [accounts.NAME]"
                            .to_string()
                    } else {
                        format!("accounts in social.toml: {}", known.join(", "))
                    }
                });
            diags.push(
                Diagnostic::error(path, post.pos_of("to"), format!("unknown account `{name}`"))
                    .with_help(help),
            );
        }
    }
    if content::target_accounts(&post, config).is_empty() {
        let d = Diagnostic::error(path, Pos::line(1), "the post has no accounts to go to")
            .with_help(
                "add `to: [ACCOUNT, …]`, a `queue`, or `[defaults] to = [...]` in social.toml",
            );
        diags.push(if post.status == Status::Draft {
            Diagnostic {
                severity: Severity::Warning,
                ..d
            }
        } else {
            d
        });
    }

    // Queue and time.
    if let Some(q) = &post.queue {
        if !config.queues.contains_key(q) {
            let help = suggest(q, config.queues.keys().map(String::as_str))
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "define it as [queues.NAME] in social.toml".into());
            diags.push(
                Diagnostic::error(path, post.pos_of("queue"), format!("unknown queue `{q}`"))
                    .with_help(help),
            );
        } else if post.at.is_some() {
            diags.push(Diagnostic::warning(
                path,
                post.pos_of("at"),
                format!("the post has both `at` and `queue: {q}`; `at` decides its time"),
            ));
        }
    }

    // Variants must name an account or a platform.
    for v in &post.variants {
        let known = config.accounts.contains_key(&v.key)
            || PlatformKind::ALL.iter().any(|p| p.is_named(&v.key));
        if !known {
            let names = config
                .accounts
                .keys()
                .map(String::as_str)
                .chain(PlatformKind::ALL.iter().map(|p| p.name()));
            let help = suggest(&v.key, names)
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| "a variant is named after an account or a platform".into());
            diags.push(
                Diagnostic::error(
                    path,
                    v.pos,
                    format!("variant `{}` matches no account or platform", v.key),
                )
                .with_help(help),
            );
        }
    }

    if let Some(r) = &post.reply_to {
        let url = r.starts_with("https://") || r.starts_with("http://") || r.starts_with("at://");
        if !url && content::check_id(r).is_err() {
            diags.push(
                Diagnostic::error(path, post.pos_of("reply_to"), format!("`reply_to: {r}` is neither a post URL nor a post id"))
                    .with_help("give the URL of the post to reply to, or the `id` of another post in this project"),
            );
        }
    }

    // Media files.
    let mut media = Vec::new();
    for m in &post.media {
        match inspect_media(path, m, config) {
            Ok(info) => media.push(info),
            Err(d) => diags.push(d),
        }
        if m.alt.is_none() {
            diags.push(
                Diagnostic::warning(path, m.pos, format!("`{}` has no alt text", m.path))
                    .with_help("add `alt:` describing the image for people who cannot see it"),
            );
        }
    }

    // Per target.
    let mut rendered = Vec::new();
    let mut no_cw = Vec::new();
    for name in &targets {
        let account = &config.accounts[name];
        let limits = &limits_for(account, config);
        let r = render::render_for(&post, account, limits);
        check_rendered(&post, account, limits, &r, &media, config, diags);
        if post.cw.is_some() && !limits.has_content_warning {
            no_cw.push(name.as_str());
        }
        rendered.push(r);
    }
    if !no_cw.is_empty() {
        diags.push(
            Diagnostic::warning(
                path,
                post.pos_of("cw"),
                format!(
                    "`cw` (content warning) is only shown on Mastodon; {} will show the text without it",
                    no_cw.join(", ")
                ),
            )
            .with_help("add a variant for those accounts if the text needs a warning there"),
        );
    }
    Checked {
        post,
        targets,
        rendered,
        media,
    }
}

/// The limits that hold for `account`: its platform's, with what its
/// server reported where it did (a Mastodon instance's URL weight, media
/// sizes, attachment count and alt-text length, from `.social/limits.json`).
pub fn limits_for(account: &Account, config: &Config) -> Limits {
    let mut l = account.platform.limits().clone();
    if account.platform == PlatformKind::Mastodon
        && let Some(f) = config.server_limits.facts.get(&account.name)
    {
        if let Some(w) = f.characters_reserved_per_url {
            l.url_weight = Some(w);
        }
        if let Some(n) = f.max_media_attachments {
            l.max_images = n;
        }
        if let Some(b) = f.image_size_limit {
            l.max_image_bytes = b;
            l.max_gif_bytes = b;
        }
        if let Some(b) = f.video_size_limit {
            l.max_video_bytes = b;
        }
        if let Some(n) = f.description_limit {
            l.max_alt_chars = n;
        }
    }
    l
}

/// The author handle and the post id of an X post URL
/// (`https://x.com/<handle>/status/<id>`, twitter.com too); `None` for
/// other URLs and for `/i/status/<id>`, which name no author.
pub fn x_post_author(url: &str) -> Option<(String, String)> {
    let u = reqwest::Url::parse(url.trim()).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    let host = host
        .strip_prefix("www.")
        .or_else(|| host.strip_prefix("mobile."))
        .unwrap_or(&host);
    if !matches!(host, "x.com" | "twitter.com") {
        return None;
    }
    let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [handle, "status" | "statuses", id, ..]
            if !handle.eq_ignore_ascii_case("i")
                && !id.is_empty()
                && id.chars().all(|c| c.is_ascii_digit()) =>
        {
            Some((handle.to_string(), id.to_string()))
        }
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn check_rendered(
    post: &Post,
    account: &Account,
    limits: &Limits,
    r: &Rendered,
    media: &[MediaInfo],
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) {
    let path = post.path.as_path();
    let who = format!("{} ({})", account.name, limits.kind.display_name());
    let err = |pos: Pos, m: String| Diagnostic::error(path, pos, m).for_account(&account.name);
    let warn = |pos: Pos, m: String| Diagnostic::warning(path, pos, m).for_account(&account.name);

    for n in &r.notes {
        diags.push(Diagnostic::warning(path, n.pos, n.message.clone()));
    }

    // Self-serve X apps may reply only where the author mentioned or quoted the account.
    if limits.kind == PlatformKind::Twitter
        && let Some(url) = &post.reply_to
        && let Some((author, _)) = x_post_author(url)
        && let Some(me) = account
            .username
            .as_deref()
            .map(|u| u.trim().trim_start_matches('@'))
        && !me.is_empty()
        && !author.eq_ignore_ascii_case(me)
    {
        diags.push(
            warn(
                post.pos_of("reply_to"),
                format!(
                    "{who}: `reply_to` is a post by @{author}, not by @{me}: X lets self-serve API apps reply to \
                     someone else's post only when that post mentions or quotes @{me}, so unless it does, X will \
                     refuse the reply (403) and this target will fail"
                ),
            )
            .with_help(format!(
                "reply only to posts of @{me} or posts that mention @{me}; to answer @{author} anyway, quote the post \
                 (its URL in the text, without `reply_to`) or leave `{}` out of `to`",
                account.name
            )),
        );
    }

    let all_empty = r.parts.iter().all(|p| p.text.text.trim().is_empty());
    if all_empty && post.media.is_empty() {
        let pos = match &r.source {
            Source::Variant(_) => r.parts.first().map(|p| p.pos).unwrap_or(post.body_pos),
            Source::Body => post.body_pos,
        };
        diags.push(
            err(pos, format!("{who}: the post has no text and no media"))
                .with_help("write the text below the frontmatter"),
        );
        return;
    }
    let n = r.parts.len();
    let cw_len = match (&post.cw, limits.has_content_warning) {
        (Some(cw), true) => cw.graphemes(true).count(),
        _ => 0,
    };
    for (i, part) in r.parts.iter().enumerate() {
        let label = if n > 1 {
            format!("part {} of {n}", i + 1)
        } else {
            "the text".to_string()
        };
        if part.text.text.trim().is_empty() && n > 1 {
            diags.push(
                err(part.pos, format!("{who}: thread {label} is empty"))
                    .with_help("remove the extra `---` line or write text between the separators"),
            );
            continue;
        }
        let length = part.length;
        if length > r.max_chars {
            let unit = limits.counting.unit();
            let what = if cw_len > 0 {
                format!("{label} and the content warning are {}", length + cw_len)
            } else {
                format!("{label} is {length}")
            };
            let help = match limits.threads {
                ThreadSupport::Join if r.source_parts > 1 => format!(
                    "{} has no threads: the {} parts are joined into one post; shorten them or add `variants: {}: …`",
                    limits.kind.display_name(),
                    r.source_parts,
                    account.name
                ),
                ThreadSupport::Join => format!(
                    "shorten it, or add `variants: {}: …` with a shorter text",
                    account.name
                ),
                ThreadSupport::Native => format!(
                    "shorten it, split it with `---` lines and `thread: true`, use `thread: auto`, or add `variants: {}: …`",
                    account.name
                ),
            };
            diags.push(
                err(
                    part.pos,
                    format!(
                        "{who}: {what} {unit}, {} over the limit of {}",
                        length - r.max_chars,
                        r.max_chars + cw_len
                    ),
                )
                .with_help(help),
            );
        }
        if let Some(max) = limits.max_bytes
            && part.bytes > max
        {
            diags.push(err(
                part.pos,
                format!(
                    "{who}: {label} is {} bytes, over the limit of {max} bytes",
                    part.bytes
                ),
            ));
        }
        if let Some(max) = limits.max_tag_chars {
            for tag in part.text.tags() {
                let len = tag.graphemes(true).count();
                if len > max {
                    diags.push(warn(
                        part.pos,
                        format!(
                            "{who}: #{tag} is {len} characters; tags over {max} are not linked"
                        ),
                    ));
                }
            }
        }
    }
    let tags: usize = r.parts.iter().map(|p| p.text.tags().count()).sum();
    if let Some(max) = limits.max_hashtags
        && tags > max
    {
        diags.push(err(
            post.body_pos,
            format!("{who}: {tags} hashtags, more than the {max} allowed"),
        ));
    }
    let mentions: usize = r.parts.iter().map(|p| p.text.mentions().count()).sum();
    if let Some(max) = limits.max_mentions
        && mentions > max
    {
        diags.push(err(
            post.body_pos,
            format!("{who}: {mentions} mentions, more than the {max} allowed"),
        ));
    }

    // Media against this platform.
    let media_pos = post.pos_of("media");
    let images = media.iter().filter(|m| m.kind == MediaKind::Image).count();
    let gifs = media.iter().filter(|m| m.kind == MediaKind::Gif).count();
    let videos = media.iter().filter(|m| m.kind == MediaKind::Video).count();
    let name = limits.kind.display_name();
    if limits.requires_media && post.media.is_empty() {
        diags.push(
            err(
                media_pos,
                format!("{who}: an {name} post needs at least one image or video"),
            )
            .with_help("add `media: [{path: …, alt: …}]`, or remove the account from `to`"),
        );
    }
    // X treats an animated GIF like a video; the others as an image.
    let gif_is_video = limits.kind == PlatformKind::Twitter;
    let (still, moving) = if gif_is_video {
        (images, videos + gifs)
    } else {
        (images + gifs, videos)
    };
    if limits.mixed_media {
        let total = still + moving;
        if total > limits.max_images.max(limits.max_videos) {
            diags.push(err(
                media_pos,
                format!(
                    "{who}: {total} media items, more than the {} allowed",
                    limits.max_images.max(limits.max_videos)
                ),
            ));
        }
    } else if still > 0 && moving > 0 {
        let what = if gif_is_video && gifs > 0 {
            "an animated GIF or video"
        } else {
            "a video"
        };
        diags.push(err(
            media_pos,
            format!("{who}: {name} cannot attach images and {what} to one post"),
        ));
    } else if still > limits.max_images {
        diags.push(err(
            media_pos,
            format!(
                "{who}: {still} images, more than the {} allowed",
                limits.max_images
            ),
        ));
    } else if moving > 0 && limits.max_videos == 0 {
        diags.push(
            err(
                media_pos,
                format!("{who}: social cannot publish videos to {name} yet"),
            )
            .with_help(format!(
                "attach images for {name}, or leave the account out of `to`"
            )),
        );
    } else if moving > limits.max_videos {
        let what = if gif_is_video {
            "videos or GIFs"
        } else {
            "videos"
        };
        diags.push(err(
            media_pos,
            format!(
                "{who}: {moving} {what}, more than the {} allowed",
                limits.max_videos
            ),
        ));
    }
    for (m, mref) in media.iter().zip(
        post.media
            .iter()
            .filter(|r| media.iter().any(|m| m.path == r.path)),
    ) {
        let pos = mref.pos;
        let (max, what) = match m.kind {
            MediaKind::Image => (limits.max_image_bytes, "image"),
            MediaKind::Gif => (limits.max_gif_bytes, "GIF"),
            MediaKind::Video => (limits.max_video_bytes, "video"),
        };
        if m.kind != MediaKind::Video && !limits.image_types.contains(&m.mime) {
            diags.push(
                err(
                    pos,
                    format!(
                        "{who}: {name} does not accept {} images (`{}`)",
                        short_mime(m.mime),
                        m.path
                    ),
                )
                .with_help(format!(
                    "convert it to {}",
                    limits
                        .image_types
                        .iter()
                        .map(|t| short_mime(t))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )),
            );
        } else if m.bytes > max {
            diags.push(err(
                pos,
                format!(
                    "{who}: `{}` is {}, over {name}'s limit of {} for a {what}",
                    m.path,
                    human_bytes(m.bytes),
                    human_bytes(max)
                ),
            ));
        }
        if m.kind == MediaKind::Image
            && let Some(range) = &limits.image_aspect
            && let Ok(size) = imagesize::size(&m.resolved)
        {
            let (w, h) = (size.width as u64, size.height as u64);
            if !range.contains(w, h) {
                let ratio = if h > 0 { w as f64 / h as f64 } else { 0.0 };
                let shape = if ratio < 1.0 { "too tall" } else { "too wide" };
                diags.push(
                    err(
                        pos,
                        format!(
                            "{who}: the image `{}` is {w}×{h} pixels, an aspect ratio of {ratio:.2}:1 ({shape}); {name} \
                             accepts feed images from {} ({:.2}:1) to {} only, and refuses others when publishing",
                            m.path,
                            range.min_label,
                            range.min.0 as f64 / range.min.1 as f64,
                            range.max_label,
                        ),
                    )
                    .with_help(format!(
                        "crop or pad `{}` to between {} (portrait, such as 1080×1350) and {} (landscape, such as \
                         1080×566), or publish it without `{}` in `to`",
                        m.path, range.min_label, range.max_label, account.name
                    )),
                );
            }
        }
        if let Some(alt) = &m.alt {
            let len = alt.graphemes(true).count();
            if len > limits.max_alt_chars {
                diags.push(err(
                    pos,
                    format!(
                        "{who}: the alt text of `{}` is {len} characters, over the limit of {}",
                        m.path, limits.max_alt_chars
                    ),
                ));
            }
        }
    }
    if limits.kind == PlatformKind::Instagram
        && !post.media.is_empty()
        && account.media_base_url.is_none()
        && config.media_base_url.is_none()
    {
        diags.push(
            err(media_pos, format!("{who}: Instagram fetches media from a public URL, and none is configured"))
                .with_help(format!(
                    "set `media_base_url = \"https://…\"` under [accounts.{}] or at the top of social.toml: the URL where this repository's files are served",
                    account.name
                )),
        );
    }

    // Visibility and languages.
    let vis = post
        .visibility
        .as_deref()
        .or(config.defaults.visibility.as_deref());
    if let Some(v) = vis
        && !limits.visibilities.contains(&v)
    {
        diags.push(warn(
            post.pos_of("visibility"),
            format!("{who}: {name} has no `{v}` visibility; the post will be public"),
        ));
    }
    let langs = if post.lang.is_empty() {
        &config.defaults.lang
    } else {
        &post.lang
    };
    if langs.len() > limits.max_langs && limits.max_langs > 1 {
        diags.push(err(
            post.pos_of("lang"),
            format!(
                "{who}: {} languages, more than the {} {name} allows",
                langs.len(),
                limits.max_langs
            ),
        ));
    }
}

fn short_mime(m: &str) -> String {
    m.trim_start_matches("image/")
        .trim_start_matches("video/")
        .to_ascii_uppercase()
}

/// Formats a byte count for people: "1.5 MB".
pub fn human_bytes(b: u64) -> String {
    if b >= 1_000_000 {
        format!("{:.1} MB", b as f64 / 1e6)
    } else if b >= 1000 {
        format!("{:.0} KB", b as f64 / 1e3)
    } else {
        format!("{b} bytes")
    }
}

/// Finds a media file (next to the post, else from the project root) and
/// sniffs its type from its first bytes.
pub fn inspect_media(
    post_path: &Path,
    m: &MediaRef,
    config: &Config,
) -> Result<MediaInfo, Diagnostic> {
    let err = |msg: String| Diagnostic::error(post_path, m.pos, msg);
    let rel = Path::new(&m.path);
    if m.path.trim().is_empty() {
        return Err(err("a media item has an empty `path`".into()));
    }
    if rel.is_absolute() {
        return Err(err(format!("media path `{}` is absolute", m.path))
            .with_help("write it relative to the project root, such as `media/picture.png`"));
    }
    let near_post = post_path.parent().map(|d| d.join(rel));
    let candidates = near_post
        .into_iter()
        .chain(std::iter::once(config.root.join(rel)));
    let found = candidates.into_iter().find(|c| c.is_file());
    let Some(found) = found else {
        return Err(err(format!("media file `{}` does not exist", m.path))
            .with_help("paths are relative to the post's folder or to the project root"));
    };
    let canon = found
        .canonicalize()
        .map_err(|e| err(format!("cannot read `{}`: {e}", m.path)))?;
    let root = config
        .root
        .canonicalize()
        .unwrap_or_else(|_| config.root.clone());
    if !canon.starts_with(&root) {
        return Err(err(format!("media file `{}` is outside the project", m.path))
            .with_help("copy it into the project (a `media/` folder) so that it is versioned with the post"));
    }
    let mut head = [0u8; 64];
    let mut f =
        std::fs::File::open(&canon).map_err(|e| err(format!("cannot read `{}`: {e}", m.path)))?;
    let bytes = f.metadata().map(|md| md.len()).unwrap_or(0);
    let n = f
        .read(&mut head)
        .map_err(|e| err(format!("cannot read `{}`: {e}", m.path)))?;
    let kind = infer::get(&head[..n]);
    let (mime, kind) = match kind.map(|k| k.mime_type()) {
        Some("image/gif") => ("image/gif", MediaKind::Gif),
        Some(t) if t.starts_with("image/") => (t, MediaKind::Image),
        Some(t) if t.starts_with("video/") => (t, MediaKind::Video),
        Some(t) => {
            return Err(err(format!(
                "`{}` is not an image or video (it looks like {t})",
                m.path
            )));
        }
        None => {
            return Err(err(format!("`{}` is not an image or video", m.path))
                .with_help("attach JPEG, PNG, GIF or WebP images, or MP4 or MOV videos"));
        }
    };
    let project_path = canon
        .strip_prefix(&root)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_else(|_| m.path.clone());
    Ok(MediaInfo {
        path: m.path.clone(),
        project_path,
        resolved: canon,
        mime,
        kind,
        bytes,
        alt: m.alt.clone(),
    })
}
