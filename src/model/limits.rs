//! Which platforms there are, and the one table of their limits and
//! counting rules: read by rendering, validation and the clients alike, so a
//! limit is written down exactly once.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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

    /// The name the README and help texts use for `--platform` (`x`
    /// rather than `twitter`; both are accepted).
    pub fn command_name(self) -> &'static str {
        match self {
            PlatformKind::Twitter => "x",
            other => other.name(),
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
    /// Most pixels (width × height) of a still image, where the platform
    /// caps them; larger ones are downscaled.
    pub max_image_pixels: Option<u64>,
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
    /// Whether an animated GIF counts as a video (X) rather than as an image.
    pub gif_is_video: bool,
    /// Whether the account's server reports limits of its own (a Mastodon
    /// instance, kept in `.social/limits.json`) that replace these.
    pub server_limits: bool,
    /// Whether a reply to someone else's post is refused unless that post
    /// mentions or quotes the account (X, for self-serve API apps).
    pub reply_needs_mention: bool,
    /// Whether the platform fetches media from a public URL
    /// (`media_base_url`) instead of taking an upload (Instagram).
    pub media_from_url: bool,
}

const COMMON_IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];
const MB: u64 = 1_000_000;

/// What most platforms share; each platform below states its kind, its
/// counting, its sizes and what differs. The zeros are no limit of anyone's:
/// every platform sets them (a test checks).
const BASE: Limits = Limits {
    kind: PlatformKind::Bluesky,
    max_chars: 0,
    counting: Counting::Graphemes,
    max_bytes: None,
    url_weight: None,
    hides_link_urls: false,
    max_images: 4,
    max_videos: 1,
    mixed_media: false,
    requires_media: false,
    max_image_bytes: 0,
    max_image_pixels: None,
    max_gif_bytes: 0,
    max_video_bytes: 0,
    image_types: COMMON_IMAGES,
    max_alt_chars: 0,
    image_aspect: None,
    max_hashtags: None,
    max_mentions: None,
    max_tag_chars: None,
    threads: ThreadSupport::Native,
    has_content_warning: false,
    visibilities: &["public"],
    max_langs: 1,
    gif_is_video: false,
    server_limits: false,
    reply_needs_mention: false,
    media_from_url: false,
};

pub static BLUESKY: Limits = Limits {
    kind: PlatformKind::Bluesky,
    max_chars: 300,
    counting: Counting::Graphemes,
    max_bytes: Some(3000),
    hides_link_urls: true,
    // Video embeds are not published by the Bluesky client yet.
    max_videos: 0,
    max_image_bytes: 2 * MB,
    max_gif_bytes: 2 * MB,
    max_video_bytes: 100 * MB,
    max_alt_chars: 2000,
    max_tag_chars: Some(64),
    max_langs: 3,
    ..BASE
};

pub static MASTODON: Limits = Limits {
    kind: PlatformKind::Mastodon,
    max_chars: 500,
    counting: Counting::MastodonGraphemes,
    url_weight: Some(23),
    max_image_bytes: 16 * MB,
    // Mastodon's default `image_matrix_limit` (7680 × 4320); an instance
    // reports its own.
    max_image_pixels: Some(33_177_600),
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
    has_content_warning: true,
    visibilities: &["public", "unlisted", "private", "direct"],
    server_limits: true,
    ..BASE
};

pub static TWITTER: Limits = Limits {
    kind: PlatformKind::Twitter,
    max_chars: 280,
    counting: Counting::TwitterWeighted,
    url_weight: Some(23),
    max_image_bytes: 5 * MB,
    max_gif_bytes: 15 * MB,
    max_video_bytes: 512 * MB,
    max_alt_chars: 1000,
    gif_is_video: true,
    reply_needs_mention: true,
    ..BASE
};

pub static LINKEDIN: Limits = Limits {
    kind: PlatformKind::Linkedin,
    max_chars: 3000,
    counting: Counting::Utf16,
    max_images: 20,
    // The LinkedIn client does not publish videos (Videos API) yet.
    max_videos: 0,
    max_image_bytes: 36 * MB,
    // The Images API: up to 36,152,320 pixels (6012 × 6012).
    max_image_pixels: Some(36_152_320),
    max_gif_bytes: 36 * MB,
    max_video_bytes: 500 * MB,
    image_types: &["image/jpeg", "image/png", "image/gif"],
    max_alt_chars: 4086,
    threads: ThreadSupport::Join,
    visibilities: &["public", "connections"],
    ..BASE
};

pub static INSTAGRAM: Limits = Limits {
    kind: PlatformKind::Instagram,
    max_chars: 2200,
    counting: Counting::Utf16,
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
    threads: ThreadSupport::Join,
    media_from_url: true,
    ..BASE
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_states_its_own_kind_counting_and_sizes() {
        for p in PlatformKind::ALL {
            let l = p.limits();
            assert_eq!(l.kind, p);
            assert!(l.max_chars > 0, "{p}: max_chars");
            assert!(l.max_image_bytes > 0, "{p}: max_image_bytes");
            assert!(l.max_video_bytes > 0, "{p}: max_video_bytes");
            assert!(l.max_alt_chars > 0, "{p}: max_alt_chars");
        }
    }
}
