//! The platforms `social` publishes to, and the one table of their limits.
//!
//! Rendering, validation and (later) the clients all read [`Limits`] from
//! [`PlatformKind::limits`], so a limit is written down exactly once.

pub mod bluesky;
pub mod error;
pub mod http;
pub mod instagram;
pub mod linkedin;
pub mod mastodon;
#[cfg(test)]
pub(crate) mod test_support;
pub mod twitter;

pub use error::PlatformError;

use crate::config::Account;
use crate::content::Post;
use crate::credentials::Secret;
use crate::render::Rendered;
use crate::state::PublishedPart;
use crate::validate::MediaInfo;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One target to publish: a post rendered for one account.
pub struct Job<'a> {
    pub post: &'a Post,
    pub account: &'a Account,
    pub rendered: &'a Rendered,
    /// Media attached to the first part, in order.
    pub media: &'a [MediaInfo],
    /// Parts already published by earlier attempts: a thread resumes after them.
    pub done: &'a [PublishedPart],
    /// Stable key of this target's publication (see `state::idempotency_key`).
    pub idempotency_key: &'a str,
    /// When the target was first claimed on this machine.
    pub first_claimed: DateTime<Utc>,
    /// When the post is scheduled (its `at`): the one time every machine with
    /// the repository knows. The time part of Bluesky record keys. `None` for
    /// posts without `at` (published with `social post`, or from a queue, whose
    /// slots each machine computes from when it first synced).
    pub scheduled: Option<DateTime<Utc>>,
    /// The post to reply to, from `reply_to` (a URL, or a part of another post here).
    pub reply_to: Option<ReplyTo>,
}

impl Job<'_> {
    /// The earliest moment any machine may have published this target: the
    /// first claim here, or the scheduled time when that is earlier (another
    /// machine publishes a due post from its scheduled time on). Reading back
    /// by text looks at posts created from then on (less clock slack).
    pub fn earliest(&self) -> DateTime<Utc> {
        match self.scheduled {
            Some(s) if s < self.first_claimed => s,
            _ => self.first_claimed,
        }
    }
}

/// What a post replies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplyTo {
    /// A post URL as written in `reply_to`.
    Url(String),
    /// A published part of another post of this project on the same account.
    Part(PublishedPart),
}

/// Receives each part as soon as the platform accepted it, so that progress
/// is committed before the next part is sent.
pub trait PartSink: Send {
    fn part(&mut self, index: usize, part: PublishedPart) -> Result<(), PlatformError>;
}

/// A platform client for one account. The engine talks only to this trait.
#[async_trait::async_trait]
pub trait Platform: Send + Sync {
    /// Publishes the parts of `job` that follow `job.done`, in order, handing
    /// each accepted part to `sink` before sending the next.
    async fn publish(&self, job: &Job<'_>, sink: &mut dyn PartSink) -> Result<(), PlatformError>;

    /// After a crash or an answer that left the outcome unknown: the parts of
    /// `job` that are already on the platform, in order from the first.
    async fn reconcile(&self, job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError>;

    /// The requests `publish` would send, as data, for `--dry-run`.
    fn dry_run(&self, job: &Job<'_>) -> Vec<serde_json::Value>;

    /// The longest text the account's server accepts, where the server says
    /// (a Mastodon instance's `max_characters`); `None` where the platform's
    /// published limit holds.
    async fn text_limit(&self) -> Result<Option<usize>, PlatformError> {
        Ok(None)
    }

    /// Everything the account's server says about its limits, as
    /// `.social/limits.json` keeps it (a Mastodon instance's text limit, URL
    /// weight, media sizes, attachment count, alt-text length); `None` where
    /// the platform's published limits hold. Validation reads the file.
    async fn server_limits(
        &self,
    ) -> Result<Option<(crate::config::ServerLimit, crate::config::ServerFacts)>, PlatformError>
    {
        Ok(None)
    }
}

/// What a client needs besides its account: the shared HTTP layer, the
/// account's secret, and a memo for what it must remember between runs.
#[derive(Clone)]
pub struct Context {
    pub http: http::Http,
    pub secret: Option<Secret>,
    pub memo: Option<Memo>,
}

/// Where a memo keeps its values: the engine backs it with the state store
/// (whichever backend that is); clients see only [`Memo`].
pub trait MemoStore: Send + Sync {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String>;
    fn put(&self, key: &str, value: &[u8]) -> Result<(), String>;
}

/// The narrow handle through which a client remembers things between runs
/// (a Bluesky session, an Instagram container id, a LinkedIn author URN):
/// values by key, nothing else of the store.
#[derive(Clone)]
pub struct Memo(std::sync::Arc<dyn MemoStore>);

impl Memo {
    pub fn new(store: impl MemoStore + 'static) -> Memo {
        Memo(std::sync::Arc::new(store))
    }

    /// The value kept under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        self.0.get(key)
    }

    /// Keeps `value` under `key`.
    pub fn put(&self, key: &str, value: &[u8]) -> Result<(), String> {
        self.0.put(key, value)
    }
}

/// Which service an account lives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformKind {
    Bluesky,
    Mastodon,
    Twitter,
    Linkedin,
    Instagram,
}

impl PlatformKind {
    /// Every platform, in display order.
    pub const ALL: [PlatformKind; 5] = [
        PlatformKind::Bluesky,
        PlatformKind::Mastodon,
        PlatformKind::Twitter,
        PlatformKind::Linkedin,
        PlatformKind::Instagram,
    ];

    /// The name used in social.toml (`platform = "…"`) and in `variants`.
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Bluesky => "bluesky",
            PlatformKind::Mastodon => "mastodon",
            PlatformKind::Twitter => "twitter",
            PlatformKind::Linkedin => "linkedin",
            PlatformKind::Instagram => "instagram",
        }
    }

    /// The name a person would write in prose.
    pub fn display_name(self) -> &'static str {
        match self {
            PlatformKind::Bluesky => "Bluesky",
            PlatformKind::Mastodon => "Mastodon",
            PlatformKind::Twitter => "X",
            PlatformKind::Linkedin => "LinkedIn",
            PlatformKind::Instagram => "Instagram",
        }
    }

    /// Other accepted spellings of the name.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            PlatformKind::Bluesky => &["bsky"],
            PlatformKind::Mastodon => &["fediverse"],
            PlatformKind::Twitter => &["x"],
            PlatformKind::Linkedin => &[],
            PlatformKind::Instagram => &["ig"],
        }
    }

    /// Whether `word` names this platform (its name or an alias).
    pub fn is_named(self, word: &str) -> bool {
        let w = word.to_ascii_lowercase();
        w == self.name() || self.aliases().contains(&w.as_str())
    }

    /// The platform's limits and counting rule.
    pub fn limits(self) -> &'static Limits {
        match self {
            PlatformKind::Bluesky => &BLUESKY,
            PlatformKind::Mastodon => &MASTODON,
            PlatformKind::Twitter => &TWITTER,
            PlatformKind::Linkedin => &LINKEDIN,
            PlatformKind::Instagram => &INSTAGRAM,
        }
    }
}

impl fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlatformKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PlatformKind::ALL
            .into_iter()
            .find(|p| p.is_named(s))
            .ok_or_else(|| {
                format!(
                    "unknown platform `{s}`; expected one of: {}",
                    PlatformKind::ALL.map(|p| p.name()).join(", ")
                )
            })
    }
}

/// How a platform measures the length of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counting {
    /// twitter-text v3: NFC, weighted code points, URLs 23, emoji sequences 2.
    TwitterWeighted,
    /// Extended grapheme clusters (Bluesky).
    Graphemes,
    /// Graphemes, URLs count a fixed 23, `@user@domain` counts as `@user` (Mastodon).
    MastodonGraphemes,
    /// UTF-16 code units, as the platforms' web clients count `String.length`.
    Utf16,
}

impl Counting {
    /// The unit a count is given in, for messages.
    pub fn unit(self) -> &'static str {
        match self {
            Counting::TwitterWeighted => "weighted characters",
            Counting::Graphemes | Counting::MastodonGraphemes => "characters",
            Counting::Utf16 => "characters",
        }
    }
}

/// How a platform shows a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThreadSupport {
    /// Each part is its own post, replying to the previous one.
    Native,
    /// Parts are joined into one post (blank line between); too long is an error.
    Join,
}

/// A range of image aspect ratios (width : height), ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AspectRange {
    /// The narrowest ratio, as width and height (4:5).
    pub min: (u64, u64),
    /// The widest ratio, as width and height (191:100 for 1.91:1).
    pub max: (u64, u64),
    /// How the ends are written for people ("4:5", "1.91:1").
    pub min_label: &'static str,
    pub max_label: &'static str,
}

impl AspectRange {
    /// Whether a `width` × `height` image is within the range (exact
    /// integer comparison, no rounding).
    pub fn contains(&self, width: u64, height: u64) -> bool {
        let (w, h) = (u128::from(width), u128::from(height));
        let (min_w, min_h) = (u128::from(self.min.0), u128::from(self.min.1));
        let (max_w, max_h) = (u128::from(self.max.0), u128::from(self.max.1));
        h > 0 && w * min_h >= h * min_w && w * max_h <= h * max_w
    }
}

/// Everything the renderer and validator need to know about a platform.
#[derive(Clone, Debug)]
pub struct Limits {
    pub kind: PlatformKind,
    /// Longest text of one post, in `counting` units.
    pub max_chars: usize,
    pub counting: Counting,
    /// Longest text in UTF-8 bytes, where the platform also caps bytes.
    pub max_bytes: Option<usize>,
    /// What a URL counts, where the platform replaces it by a fixed weight.
    pub url_weight: Option<usize>,
    /// Whether a link's URL can be hidden behind its text (rich-text links).
    pub hides_link_urls: bool,
    pub max_images: usize,
    pub max_videos: usize,
    /// Whether images and a video may be attached to one post together.
    pub mixed_media: bool,
    /// Whether a post needs at least one image or video.
    pub requires_media: bool,
    /// Largest still image in bytes.
    pub max_image_bytes: u64,
    /// Largest animated GIF in bytes (uploaded as an animation where supported).
    pub max_gif_bytes: u64,
    /// Largest video in bytes.
    pub max_video_bytes: u64,
    /// Image formats the platform accepts (MIME types).
    pub image_types: &'static [&'static str],
    /// Longest alt text, in characters (graphemes).
    pub max_alt_chars: usize,
    /// Aspect ratios a still image may have, where the platform refuses others.
    pub image_aspect: Option<AspectRange>,
    pub max_hashtags: Option<usize>,
    pub max_mentions: Option<usize>,
    /// Longest single #tag, in graphemes.
    pub max_tag_chars: Option<usize>,
    pub threads: ThreadSupport,
    /// Whether the platform has a per-post content warning (spoiler).
    pub has_content_warning: bool,
    /// Visibility values the platform understands.
    pub visibilities: &'static [&'static str],
    /// Most languages a post may declare.
    pub max_langs: usize,
}

const COMMON_IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];
const MB: u64 = 1_000_000;

pub static BLUESKY: Limits = Limits {
    kind: PlatformKind::Bluesky,
    max_chars: 300,
    counting: Counting::Graphemes,
    max_bytes: Some(3000),
    url_weight: None,
    hides_link_urls: true,
    max_images: 4,
    // Video embeds are not published by the Bluesky client yet.
    max_videos: 0,
    mixed_media: false,
    requires_media: false,
    max_image_bytes: 2 * MB,
    max_gif_bytes: 2 * MB,
    max_video_bytes: 100 * MB,
    image_types: COMMON_IMAGES,
    max_alt_chars: 2000,
    image_aspect: None,
    max_hashtags: None,
    max_mentions: None,
    max_tag_chars: Some(64),
    threads: ThreadSupport::Native,
    has_content_warning: false,
    visibilities: &["public"],
    max_langs: 3,
};

pub static MASTODON: Limits = Limits {
    kind: PlatformKind::Mastodon,
    max_chars: 500,
    counting: Counting::MastodonGraphemes,
    max_bytes: None,
    url_weight: Some(23),
    hides_link_urls: false,
    max_images: 4,
    max_videos: 1,
    mixed_media: false,
    requires_media: false,
    max_image_bytes: 16 * MB,
    max_gif_bytes: 16 * MB,
    max_video_bytes: 99 * MB,
    image_types: &[
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/heic",
        "image/avif",
    ],
    max_alt_chars: 1500,
    image_aspect: None,
    max_hashtags: None,
    max_mentions: None,
    max_tag_chars: None,
    threads: ThreadSupport::Native,
    has_content_warning: true,
    visibilities: &["public", "unlisted", "private", "direct"],
    max_langs: 1,
};

pub static TWITTER: Limits = Limits {
    kind: PlatformKind::Twitter,
    max_chars: 280,
    counting: Counting::TwitterWeighted,
    max_bytes: None,
    url_weight: Some(23),
    hides_link_urls: false,
    max_images: 4,
    max_videos: 1,
    mixed_media: false,
    requires_media: false,
    max_image_bytes: 5 * MB,
    max_gif_bytes: 15 * MB,
    max_video_bytes: 512 * MB,
    image_types: COMMON_IMAGES,
    max_alt_chars: 1000,
    image_aspect: None,
    max_hashtags: None,
    max_mentions: None,
    max_tag_chars: None,
    threads: ThreadSupport::Native,
    has_content_warning: false,
    visibilities: &["public"],
    max_langs: 1,
};

pub static LINKEDIN: Limits = Limits {
    kind: PlatformKind::Linkedin,
    max_chars: 3000,
    counting: Counting::Utf16,
    max_bytes: None,
    url_weight: None,
    hides_link_urls: false,
    max_images: 20,
    // The LinkedIn client does not publish videos (Videos API) yet.
    max_videos: 0,
    mixed_media: false,
    requires_media: false,
    max_image_bytes: 36 * MB,
    max_gif_bytes: 36 * MB,
    max_video_bytes: 500 * MB,
    image_types: &["image/jpeg", "image/png", "image/gif"],
    max_alt_chars: 4086,
    image_aspect: None,
    max_hashtags: None,
    max_mentions: None,
    max_tag_chars: None,
    threads: ThreadSupport::Join,
    has_content_warning: false,
    visibilities: &["public", "connections"],
    max_langs: 1,
};

pub static INSTAGRAM: Limits = Limits {
    kind: PlatformKind::Instagram,
    max_chars: 2200,
    counting: Counting::Utf16,
    max_bytes: None,
    url_weight: None,
    hides_link_urls: false,
    max_images: 10,
    max_videos: 10,
    mixed_media: true,
    requires_media: true,
    max_image_bytes: 8 * MB,
    max_gif_bytes: 0,
    max_video_bytes: 300 * MB,
    image_types: &["image/jpeg"],
    max_alt_chars: 1000,
    // The Graph API refuses feed images outside 4:5 to 1.91:1
    // (error 36003, "aspect ratio is not supported").
    image_aspect: Some(AspectRange {
        min: (4, 5),
        max: (191, 100),
        min_label: "4:5",
        max_label: "1.91:1",
    }),
    max_hashtags: Some(30),
    max_mentions: Some(20),
    max_tag_chars: None,
    threads: ThreadSupport::Join,
    has_content_warning: false,
    visibilities: &["public"],
    max_langs: 1,
};

/// The API base URL of `account`: its `api_url`, else `default`, checked.
pub(crate) fn api_base(account: &Account, default: &str) -> Result<String, PlatformError> {
    let base = account
        .api_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_string();
    check_base(account, "api_url", base)
}

/// `base` if it parses as a URL, else a configuration error naming `key`.
pub(crate) fn check_base(
    account: &Account,
    key: &str,
    base: String,
) -> Result<String, PlatformError> {
    match reqwest::Url::parse(&base) {
        Ok(_) => Ok(base),
        Err(e) => Err(PlatformError::config(format!(
            "account `{}`: `{key}` is not a URL ({e}): {base}",
            account.name
        ))),
    }
}

/// The account's access token, or an error saying where to put one.
pub(crate) fn require_token(
    account: &Account,
    secret: Option<Secret>,
) -> Result<Secret, PlatformError> {
    secret.ok_or_else(|| {
        PlatformError::config(format!(
            "no access token for account `{}`: set the environment variable {}",
            account.name,
            crate::credentials::env_var(&account.name)
        ))
    })
}

/// The client for `account`. The one place that maps a platform to its client.
pub fn connect(account: &Account, ctx: Context) -> Result<Box<dyn Platform>, PlatformError> {
    match account.platform {
        PlatformKind::Bluesky => Ok(Box::new(bluesky::Bluesky::new(account, ctx)?)),
        PlatformKind::Mastodon => Ok(Box::new(mastodon::Mastodon::new(account, ctx)?)),
        PlatformKind::Twitter => Ok(Box::new(twitter::Twitter::new(account, ctx)?)),
        PlatformKind::Linkedin => Ok(Box::new(linkedin::Linkedin::new(account, ctx)?)),
        PlatformKind::Instagram => Ok(Box::new(instagram::Instagram::new(
            account,
            ctx,
            account.media_base_url.clone(),
        )?)),
    }
}
