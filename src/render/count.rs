//! Each platform's rule for counting the length of a text.

use crate::platforms::{Counting, Limits};
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// The length of `text` as `limits`' platform counts it.
pub fn count(text: &str, limits: &Limits) -> usize {
    match limits.counting {
        Counting::Graphemes => text.graphemes(true).count(),
        Counting::MastodonGraphemes => mastodon_length(text, limits.url_weight.unwrap_or(23)),
        Counting::TwitterWeighted => twitter_weighted_length(text, limits.url_weight.unwrap_or(23)),
        Counting::Utf16 => text.encode_utf16().count(),
    }
}

/// Byte ranges of URLs a platform would recognise in `text`.
pub fn url_ranges(text: &str, require_scheme: bool) -> Vec<std::ops::Range<usize>> {
    let mut finder = linkify::LinkFinder::new();
    finder
        .kinds(&[linkify::LinkKind::Url])
        .url_must_have_scheme(require_scheme);
    finder
        .links(text)
        .filter(|l| {
            let s = l.as_str();
            if require_scheme {
                s.starts_with("http://") || s.starts_with("https://")
            } else {
                // A scheme-less domain needs a letter-only top-level domain.
                s.contains("://")
                    || s.split(['/', '?', '#'])
                        .next()
                        .and_then(|host| host.rsplit('.').next())
                        .is_some_and(|tld| {
                            tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
                        })
            }
        })
        .map(|l| l.start()..l.end())
        .collect()
}

/// Mastodon: grapheme clusters, each http(s) URL counting `url_weight`, and
/// `@user@domain` counting as `@user`.
pub fn mastodon_length(text: &str, url_weight: usize) -> usize {
    let urls = url_ranges(text, true);
    let mut total = 0;
    let mut last = 0;
    for r in &urls {
        total += mastodon_plain(&text[last..r.start]);
        total += url_weight;
        last = r.end;
    }
    total + mastodon_plain(&text[last..])
}

fn mastodon_plain(text: &str) -> usize {
    let mut total = text.graphemes(true).count();
    // Remote mentions count only their local part.
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find('@').map(|p| p + i) {
        let starts_word =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let user_end = text[at + 1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map(|p| p + at + 1)
            .unwrap_or(text.len());
        if starts_word && user_end > at + 1 && text[user_end..].starts_with('@') {
            let dom_end = text[user_end + 1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .map(|p| p + user_end + 1)
                .unwrap_or(text.len());
            let domain = text[user_end + 1..dom_end].trim_end_matches(['.', '-']);
            if domain.contains('.') {
                total -= 1 + domain.len();
                i = user_end + 1 + domain.len();
                continue;
            }
        }
        i = at + 1;
    }
    total
}

/// twitter-text v3: text NFC-normalised; code points in U+0000–U+10FF,
/// U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1, all others 2;
/// every URL weighs `url_weight`; an emoji sequence weighs 2 as a whole.
pub fn twitter_weighted_length(text: &str, url_weight: usize) -> usize {
    let normalized: String = text.nfc().collect();
    let urls = url_ranges(&normalized, false);
    let mut total = 0;
    let mut last = 0;
    for r in &urls {
        total += twitter_plain(&normalized[last..r.start]);
        total += url_weight;
        last = r.end;
    }
    total + twitter_plain(&normalized[last..])
}

fn twitter_plain(text: &str) -> usize {
    text.graphemes(true)
        .map(|g| {
            if is_emoji_sequence(g) {
                2
            } else {
                g.chars().map(twitter_char_weight).sum()
            }
        })
        .sum()
}

/// The weight of one code point in twitter-text's v3 configuration.
pub fn twitter_char_weight(c: char) -> usize {
    match c as u32 {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// Whether a grapheme cluster of several code points is one emoji: a ZWJ
/// sequence, a skin-tone or presentation variant, a flag or a keycap.
fn is_emoji_sequence(g: &str) -> bool {
    let mut chars = g.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if chars.next().is_none() {
        return false;
    }
    let marker = g.chars().any(|c| {
        matches!(c as u32,
            0xFE0F | 0x20E3 | 0x200D | 0x1F3FB..=0x1F3FF | 0x1F1E6..=0x1F1FF | 0xE0020..=0xE007F)
    });
    let pictographic_start =
        (first as u32) >= 0x2000 || matches!(first, '#' | '*' | '0'..='9' | '©' | '®');
    marker && pictographic_start
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::{BLUESKY, MASTODON, TWITTER};

    #[test]
    fn twitter_weights() {
        assert_eq!(count("hello", &TWITTER), 5);
        assert_eq!(count("日本語", &TWITTER), 6);
        assert_eq!(
            count("see https://example.com/a/very/long/path/indeed", &TWITTER),
            4 + 23
        );
        assert_eq!(count("👍", &TWITTER), 2);
        assert_eq!(count("👩‍👩‍👧‍👦", &TWITTER), 2);
        assert_eq!(count("👍🏽", &TWITTER), 2);
        assert_eq!(count("🇩🇪", &TWITTER), 2);
        assert_eq!(count("1️⃣", &TWITTER), 2);
        assert_eq!(count("e\u{301}", &TWITTER), 1);
        assert_eq!(count("“quotes”—", &TWITTER), 9);
        assert_eq!(count("example.com", &TWITTER), 23);
    }

    #[test]
    fn mastodon_counts_urls_and_remote_mentions() {
        assert_eq!(
            count("hi @alice@example.social!", &MASTODON),
            "hi @alice!".len()
        );
        assert_eq!(
            count("https://example.com/long/long/long/path", &MASTODON),
            23
        );
        assert_eq!(count("👩‍👩‍👧‍👦 e\u{301}", &MASTODON), 3);
    }

    #[test]
    fn bluesky_counts_graphemes() {
        assert_eq!(count("👩‍👩‍👧‍👦e\u{301}日", &BLUESKY), 3);
    }
}
