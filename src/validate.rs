//! Validation: rendering every target of a post and checking the result
//! against its platform's limits. `preview` shows what this computes.

use crate::config::{Account, Config};
use crate::content::{self, MediaRef, Post, Status};
use crate::diag::{Diagnostic, Pos, Severity, suggest};
use crate::model::{Limits, PlatformKind, ThreadSupport, XPostUrl};
use crate::render::{self, Rendered, Source};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use unicode_segmentation::UnicodeSegmentation;

#[cfg(test)]
mod tests;

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

/// Warns when a ready post's `at` is more than `catch_up` ago: a warning at
/// its `at` that `publish --due` and the daemon will mark it
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

/// Checks a parsed post against the configuration and every target's
/// platform: its accounts, queue, variants, `reply_to` and media, then each
/// target's rendering.
pub fn check_post(mut post: Post, config: &Config, diags: &mut Vec<Diagnostic>) -> Checked {
    resolve_defaults(&mut post, config);
    let targets = check_targets(&post, config, diags);
    check_queue(&post, config, diags);
    check_variants(&post, config, diags);
    check_reply_to(&post, diags);
    let media = check_media(&post, config, diags);
    let mut memo = render::Memo::default();
    let rendered = targets
        .iter()
        .map(|name| {
            let account = &config.accounts[name];
            let limits = &limits_for(account, config);
            let r = render::render_with(&post, account, limits, &mut memo);
            check_rendered(&post, account, limits, &r, &media, config, diags);
            r
        })
        .collect();
    check_content_warning(&post, &targets, config, diags);
    Checked {
        post,
        targets,
        rendered,
        media,
    }
}

/// Fills what the post leaves open from social.toml's defaults, so that the
/// clients see one resolved post.
fn resolve_defaults(post: &mut Post, config: &Config) {
    if post.lang.is_empty() {
        post.lang = config.defaults.lang.clone();
    }
    if post.visibility.is_none() {
        post.visibility = config.defaults.visibility.clone();
    }
}

/// The accounts the post goes to (each once, in order); an error for each
/// one social.toml does not define, and for a post that goes nowhere (a
/// warning for a draft).
fn check_targets(post: &Post, config: &Config, diags: &mut Vec<Diagnostic>) -> Vec<String> {
    let path = post.path.as_path();
    let mut targets = Vec::new();
    let names = content::target_accounts(post, config);
    for name in &names {
        if config.accounts.contains_key(name) {
            if !targets.contains(name) {
                targets.push(name.clone());
            }
        } else {
            let help = suggest(name, config.accounts.keys().map(String::as_str))
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
    if names.is_empty() {
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
    targets
}

/// An unknown `queue` is an error; a known one beside `at` a warning that
/// `at` wins.
fn check_queue(post: &Post, config: &Config, diags: &mut Vec<Diagnostic>) {
    let path = post.path.as_path();
    let Some(q) = &post.queue else { return };
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

/// Every variant must name an account or a platform.
fn check_variants(post: &Post, config: &Config, diags: &mut Vec<Diagnostic>) {
    for v in &post.variants {
        let known = config.accounts.contains_key(&v.key)
            || PlatformKind::ALL.iter().any(|p| p.is_named(&v.key));
        if known {
            continue;
        }
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
                &post.path,
                v.pos,
                format!("variant `{}` matches no account or platform", v.key),
            )
            .with_help(help),
        );
    }
}

/// `reply_to` is a post URL or the id of another post.
fn check_reply_to(post: &Post, diags: &mut Vec<Diagnostic>) {
    let Some(r) = &post.reply_to else { return };
    let url = r.starts_with("https://") || r.starts_with("http://") || r.starts_with("at://");
    if !url && content::check_id(r).is_err() {
        diags.push(
            Diagnostic::error(
                &post.path,
                post.pos_of("reply_to"),
                format!("`reply_to: {r}` is neither a post URL nor a post id"),
            )
            .with_help(
                "give the URL of the post to reply to, or the `id` of another post in this project",
            ),
        );
    }
}

/// The facts of every media file the post attaches (an error for each one
/// that cannot be used), and a warning for each one without alt text.
fn check_media(post: &Post, config: &Config, diags: &mut Vec<Diagnostic>) -> Vec<MediaInfo> {
    let path = post.path.as_path();
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
    media
}

/// A `cw` is shown only where the platform has content warnings: one
/// warning naming the targets that get the text without it.
fn check_content_warning(
    post: &Post,
    targets: &[String],
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) {
    if post.cw.is_none() {
        return;
    }
    let no_cw: Vec<&str> = targets
        .iter()
        .filter(|name| !config.accounts[*name].platform.limits().has_content_warning)
        .map(String::as_str)
        .collect();
    if no_cw.is_empty() {
        return;
    }
    diags.push(
        Diagnostic::warning(
            &post.path,
            post.pos_of("cw"),
            format!(
                "`cw` (content warning) is only shown on Mastodon; {} will show the text without it",
                no_cw.join(", ")
            ),
        )
        .with_help("add a variant for those accounts if the text needs a warning there"),
    );
}

/// The limits that hold for `account`: its platform's, with what its
/// server reported where it did (a Mastodon instance's URL weight, media
/// sizes, attachment count and alt-text length, from `.social/limits.json`).
pub fn limits_for(account: &Account, config: &Config) -> Limits {
    let mut l = account.platform.limits().clone();
    if l.server_limits
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

/// Checks one target's rendering against its platform, phase by phase.
/// A target with no text and no media is one error and nothing more.
fn check_rendered(
    post: &Post,
    account: &Account,
    limits: &Limits,
    r: &Rendered,
    media: &[MediaInfo],
    config: &Config,
    diags: &mut Vec<Diagnostic>,
) {
    let t = TargetCheck::new(post, account, limits, config);
    render_notes(post, r, diags);
    t.check_reply_author(diags);
    if !t.check_not_empty(r, diags) {
        return;
    }
    t.check_parts(r, diags);
    t.check_tag_and_mention_counts(r, diags);
    t.check_media_counts(media, diags);
    t.check_media_files(media, diags);
    t.check_media_source(diags);
    t.check_visibility(diags);
    t.check_langs(diags);
}

/// What the renderer noted (a dropped construct, a shortened link) as warnings.
fn render_notes(post: &Post, r: &Rendered, diags: &mut Vec<Diagnostic>) {
    for n in &r.notes {
        diags.push(Diagnostic::warning(&post.path, n.pos, n.message.clone()));
    }
}

/// One target being checked: the post, the account and the limits in force,
/// and how its messages start.
struct TargetCheck<'a> {
    post: &'a Post,
    account: &'a Account,
    limits: &'a Limits,
    config: &'a Config,
    /// "account (Platform)", the start of every message.
    who: String,
}

/// How many of a post's media items count as still images and as moving
/// ones (videos, and GIFs where the platform treats them as videos).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MediaCounts {
    still: usize,
    moving: usize,
    gifs: usize,
}

impl MediaCounts {
    fn of(media: &[MediaInfo], gif_is_video: bool) -> MediaCounts {
        let images = media.iter().filter(|m| m.kind == MediaKind::Image).count();
        let gifs = media.iter().filter(|m| m.kind == MediaKind::Gif).count();
        let videos = media.iter().filter(|m| m.kind == MediaKind::Video).count();
        let (still, moving) = if gif_is_video {
            (images, videos + gifs)
        } else {
            (images + gifs, videos)
        };
        MediaCounts {
            still,
            moving,
            gifs,
        }
    }
}

impl<'a> TargetCheck<'a> {
    fn new(
        post: &'a Post,
        account: &'a Account,
        limits: &'a Limits,
        config: &'a Config,
    ) -> TargetCheck<'a> {
        TargetCheck {
            post,
            account,
            limits,
            config,
            who: format!("{} ({})", account.name, limits.kind.display_name()),
        }
    }

    /// The platform's name for messages.
    fn name(&self) -> &'static str {
        self.limits.kind.display_name()
    }

    fn err(&self, pos: Pos, m: String) -> Diagnostic {
        Diagnostic::error(&self.post.path, pos, m).for_account(&self.account.name)
    }

    fn warn(&self, pos: Pos, m: String) -> Diagnostic {
        Diagnostic::warning(&self.post.path, pos, m).for_account(&self.account.name)
    }

    /// Where replies need the original to mention the account (self-serve
    /// X apps), a warning for a `reply_to` that points at someone else's post.
    fn check_reply_author(&self, diags: &mut Vec<Diagnostic>) {
        let (who, name) = (&self.who, self.name());
        if self.limits.reply_needs_mention
            && let Some(url) = &self.post.reply_to
            && let Some(XPostUrl {
                author: Some(author),
                ..
            }) = XPostUrl::parse(url)
            && let Some(me) = self
                .account
                .username
                .as_deref()
                .map(|u| u.trim().trim_start_matches('@'))
            && !me.is_empty()
            && !author.eq_ignore_ascii_case(me)
        {
            diags.push(
                self.warn(
                    self.post.pos_of("reply_to"),
                    format!(
                        "{who}: `reply_to` is a post by @{author}, not by @{me}: {name} lets self-serve API apps reply to \
                         someone else's post only when that post mentions or quotes @{me}, so unless it does, {name} will \
                         refuse the reply (403) and this target will fail"
                    ),
                )
                .with_help(format!(
                    "reply only to posts of @{me} or posts that mention @{me}; to answer @{author} anyway, quote the post \
                     (its URL in the text, without `reply_to`) or leave `{}` out of `to`",
                    self.account.name
                )),
            );
        }
    }

    /// A target needs text or media: `false` (after the error) when it has neither.
    fn check_not_empty(&self, r: &Rendered, diags: &mut Vec<Diagnostic>) -> bool {
        let all_empty = r.parts.iter().all(|p| p.text.text.trim().is_empty());
        if !all_empty || !self.post.media.is_empty() {
            return true;
        }
        let pos = match &r.source {
            Source::Variant(_) => r.parts.first().map(|p| p.pos).unwrap_or(self.post.body_pos),
            Source::Body => self.post.body_pos,
        };
        diags.push(
            self.err(
                pos,
                format!("{}: the post has no text and no media", self.who),
            )
            .with_help("write the text below the frontmatter"),
        );
        false
    }

    /// Each part of the text: not empty in a thread, within the length and
    /// byte limits, its tags within the tag length.
    fn check_parts(&self, r: &Rendered, diags: &mut Vec<Diagnostic>) {
        let n = r.parts.len();
        let cw_len = match (&self.post.cw, self.limits.has_content_warning) {
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
                    self.err(part.pos, format!("{}: thread {label} is empty", self.who))
                        .with_help(
                            "remove the extra `---` line or write text between the separators",
                        ),
                );
                continue;
            }
            self.check_part_length(r, part, &label, cw_len, diags);
            self.check_part_bytes(part, &label, diags);
            self.check_tag_lengths(part, diags);
        }
    }

    /// A part (with the content warning, where the platform counts it) within
    /// the text limit, with the fix that fits the platform's threads.
    fn check_part_length(
        &self,
        r: &Rendered,
        part: &render::Part,
        label: &str,
        cw_len: usize,
        diags: &mut Vec<Diagnostic>,
    ) {
        let (limits, account) = (self.limits, self.account);
        let length = part.length;
        if length <= r.max_chars {
            return;
        }
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
            self.err(
                part.pos,
                format!(
                    "{}: {what} {unit}, {} over the limit of {}",
                    self.who,
                    length - r.max_chars,
                    r.max_chars + cw_len
                ),
            )
            .with_help(help),
        );
    }

    /// A part within the platform's byte limit, where it has one.
    fn check_part_bytes(&self, part: &render::Part, label: &str, diags: &mut Vec<Diagnostic>) {
        if let Some(max) = self.limits.max_bytes
            && part.bytes > max
        {
            diags.push(self.err(
                part.pos,
                format!(
                    "{}: {label} is {} bytes, over the limit of {max} bytes",
                    self.who, part.bytes
                ),
            ));
        }
    }

    /// Tags longer than the platform links, as warnings.
    fn check_tag_lengths(&self, part: &render::Part, diags: &mut Vec<Diagnostic>) {
        let Some(max) = self.limits.max_tag_chars else {
            return;
        };
        for tag in part.text.tags() {
            let len = tag.graphemes(true).count();
            if len > max {
                diags.push(self.warn(
                    part.pos,
                    format!(
                        "{}: #{tag} is {len} characters; tags over {max} are not linked",
                        self.who
                    ),
                ));
            }
        }
    }

    /// Hashtags and mentions of all parts together, within the platform's caps.
    fn check_tag_and_mention_counts(&self, r: &Rendered, diags: &mut Vec<Diagnostic>) {
        let tags: usize = r.parts.iter().map(|p| p.text.tags().count()).sum();
        let mentions: usize = r.parts.iter().map(|p| p.text.mentions().count()).sum();
        for (n, max, what) in [
            (tags, self.limits.max_hashtags, "hashtags"),
            (mentions, self.limits.max_mentions, "mentions"),
        ] {
            if let Some(max) = max
                && n > max
            {
                diags.push(self.err(
                    self.post.body_pos,
                    format!("{}: {n} {what}, more than the {max} allowed", self.who),
                ));
            }
        }
    }

    /// Media the platform needs, how many items of which kind, and whether
    /// they may be mixed.
    fn check_media_counts(&self, media: &[MediaInfo], diags: &mut Vec<Diagnostic>) {
        let (limits, who, name) = (self.limits, &self.who, self.name());
        let media_pos = self.post.pos_of("media");
        if limits.requires_media && self.post.media.is_empty() {
            diags.push(
                self.err(
                    media_pos,
                    format!("{who}: an {name} post needs at least one image or video"),
                )
                .with_help("add `media: [{path: …, alt: …}]`, or remove the account from `to`"),
            );
        }
        let gif_is_video = limits.gif_is_video;
        let MediaCounts {
            still,
            moving,
            gifs,
        } = MediaCounts::of(media, gif_is_video);
        if limits.mixed_media {
            let total = still + moving;
            if total > limits.max_images.max(limits.max_videos) {
                diags.push(self.err(
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
            diags.push(self.err(
                media_pos,
                format!("{who}: {name} cannot attach images and {what} to one post"),
            ));
        } else if still > limits.max_images {
            diags.push(self.err(
                media_pos,
                format!(
                    "{who}: {still} images, more than the {} allowed",
                    limits.max_images
                ),
            ));
        } else if moving > 0 && limits.max_videos == 0 {
            diags.push(
                self.err(
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
            diags.push(self.err(
                media_pos,
                format!(
                    "{who}: {moving} {what}, more than the {} allowed",
                    limits.max_videos
                ),
            ));
        }
    }

    /// Each media file that could be read: its type and size, its aspect
    /// ratio and its alt text, against the platform.
    fn check_media_files(&self, media: &[MediaInfo], diags: &mut Vec<Diagnostic>) {
        for (m, mref) in media.iter().zip(
            self.post
                .media
                .iter()
                .filter(|r| media.iter().any(|m| m.path == r.path)),
        ) {
            self.check_media_type_and_size(m, mref.pos, diags);
            self.check_aspect(m, mref.pos, diags);
            self.check_alt_length(m, mref.pos, diags);
        }
    }

    /// An image in a format the platform accepts; a file within its size limit.
    fn check_media_type_and_size(&self, m: &MediaInfo, pos: Pos, diags: &mut Vec<Diagnostic>) {
        let (limits, who, name) = (self.limits, &self.who, self.name());
        let (max, what) = match m.kind {
            MediaKind::Image => (limits.max_image_bytes, "image"),
            MediaKind::Gif => (limits.max_gif_bytes, "GIF"),
            MediaKind::Video => (limits.max_video_bytes, "video"),
        };
        if m.kind != MediaKind::Video && !limits.image_types.contains(&m.mime) {
            diags.push(
                self.err(
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
            diags.push(self.err(
                pos,
                format!(
                    "{who}: `{}` is {}, over {name}'s limit of {} for a {what}",
                    m.path,
                    human_bytes(m.bytes),
                    human_bytes(max)
                ),
            ));
        }
    }

    /// A still image within the aspect ratios the platform accepts, where it
    /// refuses others (Instagram's feed).
    fn check_aspect(&self, m: &MediaInfo, pos: Pos, diags: &mut Vec<Diagnostic>) {
        let (who, name) = (&self.who, self.name());
        let Some(range) = &self.limits.image_aspect else {
            return;
        };
        if m.kind != MediaKind::Image {
            return;
        }
        let Ok(size) = imagesize::size(&m.resolved) else {
            return;
        };
        let (w, h) = (size.width as u64, size.height as u64);
        if range.contains(w, h) {
            return;
        }
        let ratio = if h > 0 { w as f64 / h as f64 } else { 0.0 };
        let shape = if ratio < 1.0 { "too tall" } else { "too wide" };
        diags.push(
            self.err(
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
                m.path, range.min_label, range.max_label, self.account.name
            )),
        );
    }

    /// Alt text within the platform's length.
    fn check_alt_length(&self, m: &MediaInfo, pos: Pos, diags: &mut Vec<Diagnostic>) {
        let Some(alt) = &m.alt else { return };
        let len = alt.graphemes(true).count();
        if len > self.limits.max_alt_chars {
            diags.push(self.err(
                pos,
                format!(
                    "{}: the alt text of `{}` is {len} characters, over the limit of {}",
                    self.who, m.path, self.limits.max_alt_chars
                ),
            ));
        }
    }

    /// Where the platform fetches media from a public URL (Instagram), one
    /// must be configured.
    fn check_media_source(&self, diags: &mut Vec<Diagnostic>) {
        let (who, name) = (&self.who, self.name());
        if self.limits.media_from_url
            && !self.post.media.is_empty()
            && self.account.media_base_url.is_none()
            && self.config.media_base_url.is_none()
        {
            diags.push(
                self.err(self.post.pos_of("media"), format!("{who}: {name} fetches media from a public URL, and none is configured"))
                    .with_help(format!(
                        "set `media_base_url = \"https://…\"` under [accounts.{}] or at the top of social.toml: the URL where this repository's files are served",
                        self.account.name
                    )),
            );
        }
    }

    /// A visibility the platform has (a warning otherwise: it posts publicly).
    fn check_visibility(&self, diags: &mut Vec<Diagnostic>) {
        let vis = self
            .post
            .visibility
            .as_deref()
            .or(self.config.defaults.visibility.as_deref());
        if let Some(v) = vis
            && !self.limits.visibilities.contains(&v)
        {
            diags.push(self.warn(
                self.post.pos_of("visibility"),
                format!(
                    "{}: {} has no `{v}` visibility; the post will be public",
                    self.who,
                    self.name()
                ),
            ));
        }
    }

    /// No more languages than the platform takes (where it takes several).
    fn check_langs(&self, diags: &mut Vec<Diagnostic>) {
        let langs = if self.post.lang.is_empty() {
            &self.config.defaults.lang
        } else {
            &self.post.lang
        };
        let max = self.limits.max_langs;
        if langs.len() > max && max > 1 {
            diags.push(self.err(
                self.post.pos_of("lang"),
                format!(
                    "{}: {} languages, more than the {max} {} allows",
                    self.who,
                    langs.len(),
                    self.name()
                ),
            ));
        }
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
