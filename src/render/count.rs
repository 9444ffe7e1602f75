//! Each platform's rule for counting the length of a text.

use super::url;
use crate::model::{Counting, Limits};
use std::borrow::Cow;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
use unicode_segmentation::UnicodeSegmentation;

/// The length of `text` as `limits`' platform counts it.
pub fn count(text: &str, limits: &Limits) -> usize {
    match limits.counting {
        Counting::Graphemes => grapheme_count(text),
        Counting::MastodonGraphemes => mastodon_length(text, limits.url_weight.unwrap_or(23)),
        Counting::TwitterWeighted => twitter_weighted_length(text, limits.url_weight.unwrap_or(23)),
        Counting::Utf16 => text.encode_utf16().count(),
    }
}

/// Byte ranges of the URLs X (twitter-text) recognises in `text`; with
/// `require_scheme`, only those written with `http(s)://`.
pub fn url_ranges(text: &str, require_scheme: bool) -> Vec<std::ops::Range<usize>> {
    if require_scheme {
        url::twitter_urls_with_protocol(text)
    } else {
        url::twitter_urls(text)
    }
}

/// Byte ranges of the `http(s)://` links to show as links in rich text
/// (Bluesky facets): what linkify finds, except that where twitter-text
/// finds a URL at the same start, its end wins (linkify runs on into
/// text without spaces, such as Japanese after the URL). A URL without
/// a public top-level domain (`https://a.example/x`) keeps linkify's range.
pub fn link_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut finder = linkify::LinkFinder::new();
    finder
        .kinds(&[linkify::LinkKind::Url])
        .url_must_have_scheme(true);
    let mut links = finder.links(text).peekable();
    if links.peek().is_none() {
        return Vec::new();
    }
    let known = url::twitter_urls_with_protocol(text);
    links
        .filter(|l| {
            let s = l.as_str().as_bytes();
            s.len() > 8
                && (s[..7].eq_ignore_ascii_case(b"http://")
                    || s[..8].eq_ignore_ascii_case(b"https://"))
        })
        .map(|l| {
            known
                .iter()
                .find(|k| k.start == l.start())
                .map_or(l.start()..l.end(), |k| k.clone())
        })
        .collect()
}

/// Mastodon (`StatusLengthValidator`): grapheme clusters of the text in
/// which every URL by Mastodon's own rules (see [`url::mastodon_urls`])
/// stands as `url_weight` characters and every `@user@domain` as `@user`.
pub fn mastodon_length(text: &str, url_weight: usize) -> usize {
    let mentions = if text.contains('@') {
        url::mastodon_mentions(text)
    } else {
        Vec::new()
    };
    let mut entities: Vec<(std::ops::Range<usize>, Option<usize>)> = url::mastodon_urls(text)
        .into_iter()
        .map(|r| (r, None))
        .chain(mentions.into_iter().map(|m| (m.range, Some(m.user_end))))
        .collect();
    if entities.is_empty() {
        return grapheme_count(text);
    }
    entities.sort_by_key(|(r, _)| r.start);
    let mut countable = String::with_capacity(text.len());
    let mut last = 0;
    for (r, user_end) in entities {
        // Overlapping entities: the earlier one wins.
        if r.start < last {
            continue;
        }
        countable.push_str(&text[last..r.start]);
        match user_end {
            None => countable.extend(std::iter::repeat_n('x', url_weight)),
            Some(u) => countable.push_str(&text[r.start..u]),
        }
        last = r.end;
    }
    countable.push_str(&text[last..]);
    grapheme_count(&countable)
}

/// Whether X accepts `text` (twitter-text's `parseTweet(..).valid`): a
/// weighted length from 1 to `max`, and none of U+FFFE, U+FEFF, U+FFFF.
pub fn twitter_valid(text: &str, max: usize) -> bool {
    let length = twitter_weighted_length(text, 23);
    length > 0 && length <= max && !text.chars().any(url::is_invalid_char)
}

/// twitter-text v3: text NFC-normalised; code points in U+0000–U+10FF,
/// U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1, all others 2;
/// every URL weighs `url_weight`; an emoji sequence weighs 2 as a whole.
pub fn twitter_weighted_length(text: &str, url_weight: usize) -> usize {
    // Most texts are in NFC already (all ASCII is): no copy for them.
    let normalized: Cow<str> = match is_nfc_quick(text.chars()) {
        IsNormalized::Yes => Cow::Borrowed(text),
        _ => Cow::Owned(text.nfc().collect()),
    };
    let urls = url::twitter_urls(&normalized);
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
    stretches(text)
        .map(|s| match s {
            // Every ASCII character weighs 1 (CR LF, one cluster, weighs 2).
            Stretch::Ascii(a) => a.len(),
            Stretch::Mixed(m) => m
                .graphemes(true)
                .map(|g| {
                    if is_emoji_sequence(g) {
                        2
                    } else {
                        g.chars().map(twitter_char_weight).sum()
                    }
                })
                .sum(),
        })
        .sum()
}

/// How many extended grapheme clusters `text` has: the count of
/// `text.graphemes(true)`, without segmenting the ASCII stretches.
pub fn grapheme_count(text: &str) -> usize {
    stretches(text)
        .map(|s| match s {
            Stretch::Ascii(a) => a.len() - crlf_count(a),
            Stretch::Mixed(m) => m.graphemes(true).count(),
        })
        .sum()
}

fn crlf_count(ascii: &str) -> usize {
    let b = ascii.as_bytes();
    if !b.contains(&b'\r') {
        return 0;
    }
    b.windows(2).filter(|w| w == b"\r\n").count()
}

/// A stretch of a text that starts and ends at grapheme cluster boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stretch<'a> {
    /// ASCII only: every character is a cluster, except CR LF (one).
    Ascii(&'a str),
    /// Holds other characters: to be segmented.
    Mixed(&'a str),
}

/// Cuts `text` into stretches at boundaries that need no segmenter: by
/// UAX #29 there is a cluster boundary between any two ASCII characters
/// except CR and LF (GB3; no other rule joins ASCII to ASCII, and no rule
/// that looks back, GB9c, GB11 or GB12/13, reaches across an ASCII
/// character). An ASCII character right before another character may join
/// it (`e` and U+0301), so it starts the mixed stretch; a mixed stretch runs
/// to the next pair of ASCII characters.
fn stretches(text: &str) -> impl Iterator<Item = Stretch<'_>> {
    let b = text.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        if i >= b.len() {
            return None;
        }
        let Some(n) = b[i..].iter().position(|&c| !c.is_ascii()).map(|p| i + p) else {
            let rest = &text[i..];
            i = b.len();
            return Some(Stretch::Ascii(rest));
        };
        let mut start = n.saturating_sub(1).max(i);
        if start > i && b[start] == b'\n' && b[start - 1] == b'\r' {
            start -= 1;
        }
        if start > i {
            let ascii = &text[i..start];
            i = start;
            return Some(Stretch::Ascii(ascii));
        }
        let mut j = start + 1;
        while j < b.len()
            && !(b[j - 1].is_ascii() && b[j].is_ascii() && !(b[j - 1] == b'\r' && b[j] == b'\n'))
        {
            j += 1;
        }
        let mixed = &text[start..j];
        i = j;
        Some(Stretch::Mixed(mixed))
    })
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
    use crate::model::{BLUESKY, MASTODON, TWITTER};

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

    #[test]
    fn stretches_cut_only_at_boundaries_between_ascii_characters() {
        use Stretch::*;
        fn cut(t: &str) -> Vec<Stretch<'_>> {
            stretches(t).collect()
        }
        assert_eq!(cut("abc"), [Ascii("abc")]);
        assert_eq!(
            cut("ab\u{301}cd"),
            [Ascii("a"), Mixed("b\u{301}c"), Ascii("d")]
        );
        assert_eq!(cut("a\r\n\u{301}b"), [Ascii("a"), Mixed("\r\n\u{301}b")]);
        assert_eq!(cut("日本"), [Mixed("日本")]);
        assert_eq!(cut(""), []);
    }

    proptest::proptest! {
        /// The shortcut counts what the segmenter counts, on texts made of
        /// the characters where cluster rules are subtle: CR, LF, combining
        /// and spacing marks, ZWJ, emoji and skin tones, regional
        /// indicators, Hangul jamo, prepended and Indic conjunct characters.
        #[test]
        fn grapheme_count_is_the_segmenters(
            chars in proptest::collection::vec(proptest::sample::select(vec![
                'a', 'Z', '1', ' ', '#', '*', '.', '\r', '\n', '\t', '\u{301}', '\u{20e3}',
                '\u{fe0f}', '\u{200d}', '\u{1f469}', '\u{1f3fd}', '\u{1f1e9}', '\u{1f1ea}',
                '\u{1100}', '\u{1161}', '\u{11a8}', '\u{ac00}', '\u{600}', '\u{915}',
                '\u{94d}', '\u{937}', '\u{903}', 'é', '日', '\u{e0067}', '\u{1f3f4}',
            ]), 0..40)
        ) {
            let text: String = chars.into_iter().collect();
            proptest::prop_assert_eq!(grapheme_count(&text), text.graphemes(true).count());
            let slow: usize = text
                .graphemes(true)
                .map(|g| if is_emoji_sequence(g) { 2 } else { g.chars().map(twitter_char_weight).sum() })
                .sum();
            proptest::prop_assert_eq!(twitter_plain(&text), slow);
        }
    }
}
