//! Rendering a post for one target account: the text each platform will
//! receive, as rich text (text plus byte-range spans), cut into thread parts.
//!
//! One renderer serves every platform; the platform's [`Limits`] is the policy
//! (whether link URLs can hide behind their text, how threads are shown, how
//! length is counted).

pub mod count;
pub mod markdown;
pub mod url;

use crate::config::Account;
use crate::content::{Post, ThreadMode};
use crate::diag::Pos;
use crate::model::{Limits, ThreadSupport};
use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

/// What a span of text is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum SpanKind {
    Link { uri: String },
    Tag { tag: String },
    Mention { handle: String },
}

/// A byte range of a [`RichText`] (UTF-8 offsets, end exclusive).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    #[serde(flatten)]
    pub kind: SpanKind,
}

/// Plain text with spans for links, tags and mentions: what the Bluesky
/// client turns into facets, and what counting rules look at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RichText {
    pub text: String,
    pub spans: Vec<Span>,
}

impl RichText {
    /// The text of a span.
    pub fn span_text(&self, s: &Span) -> &str {
        &self.text[s.start..s.end]
    }

    /// Hashtags in the text.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().filter_map(|s| match &s.kind {
            SpanKind::Tag { tag } => Some(tag.as_str()),
            _ => None,
        })
    }

    /// Mentions in the text.
    pub fn mentions(&self) -> impl Iterator<Item = &str> {
        self.spans.iter().filter_map(|s| match &s.kind {
            SpanKind::Mention { handle } => Some(handle.as_str()),
            _ => None,
        })
    }

    /// A copy of bytes `range`, whitespace trimmed, spans kept where whole.
    fn slice(&self, start: usize, end: usize) -> RichText {
        let raw = &self.text[start..end];
        let lead = raw.len() - raw.trim_start().len();
        let (start, end) = (start + lead, start + raw.trim_end().len());
        let (start, end) = (start.min(end), end);
        RichText {
            text: self.text[start..end].to_string(),
            spans: self
                .spans
                .iter()
                .filter(|s| s.start >= start && s.end <= end)
                .map(|s| Span {
                    start: s.start - start,
                    end: s.end - start,
                    kind: s.kind.clone(),
                })
                .collect(),
        }
    }

    /// Appends `other` after `sep`.
    fn append(&mut self, sep: &str, other: &RichText) {
        if !self.text.is_empty() {
            self.text.push_str(sep);
        }
        let base = self.text.len();
        self.text.push_str(&other.text);
        self.spans.extend(other.spans.iter().map(|s| Span {
            start: s.start + base,
            end: s.end + base,
            kind: s.kind.clone(),
        }));
    }
}

/// One post of a thread, as sent.
#[derive(Clone, Debug, Serialize)]
pub struct Part {
    pub text: RichText,
    /// Length in the platform's unit.
    pub length: usize,
    /// Length in UTF-8 bytes.
    pub bytes: usize,
    /// Where the part's source starts in the file.
    #[serde(skip)]
    pub pos: Pos,
}

/// Where a target's text came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "key", rename_all = "lowercase")]
pub enum Source {
    Body,
    Variant(String),
}

/// A note raised while rendering, at a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderNote {
    pub pos: Pos,
    pub message: String,
}

/// A post rendered for one account.
#[derive(Clone, Debug, Serialize)]
pub struct Rendered {
    pub account: String,
    pub platform: crate::model::PlatformKind,
    pub source: Source,
    pub parts: Vec<Part>,
    /// Text limit in force for this account.
    pub max_chars: usize,
    /// Parts written in the source before any joining or automatic splitting.
    #[serde(skip)]
    pub source_parts: usize,
    #[serde(skip)]
    pub notes: Vec<RenderNote>,
}

/// Cuts a body at lines holding only `---` (outside fenced code), returning
/// each part's text and the file position where it starts.
pub fn split_thread(body: &str, body_pos: Pos) -> Vec<(&str, Pos)> {
    let mut parts = Vec::new();
    let mut fence: Option<&str> = None;
    let mut start = 0;
    let mut start_line = body_pos.line;
    let mut offset = 0;
    for (i, line) in body.split_inclusive('\n').enumerate() {
        let t = line.trim();
        if let Some(f) = fence {
            if t.starts_with(f) {
                fence = None;
            }
        } else if t.starts_with("```") {
            fence = Some("```");
        } else if t.starts_with("~~~") {
            fence = Some("~~~");
        } else if t == "---" {
            parts.push((&body[start..offset], Pos::line(start_line)));
            start = offset + line.len();
            start_line = body_pos.line + i + 1;
        }
        offset += line.len();
    }
    parts.push((&body[start..], Pos::line(start_line)));
    parts
}

/// Picks the text for `account`: a variant named after the account, else
/// one named after its platform, else the body.
pub fn source_for<'a>(post: &'a Post, account: &Account) -> (Source, &'a str, Pos) {
    let by_account = post.variants.iter().find(|v| v.key == account.name);
    let by_platform = || {
        post.variants
            .iter()
            .find(|v| account.platform.is_named(&v.key))
    };
    match by_account.or_else(by_platform) {
        Some(v) => (Source::Variant(v.key.clone()), v.text.as_str(), v.pos),
        None => (Source::Body, post.body.as_str(), post.body_pos),
    }
}

/// Renders `post` for `account` under `limits`.
pub fn render_for(post: &Post, account: &Account, limits: &Limits) -> Rendered {
    render_with(post, account, limits, &mut Memo::default())
}

/// The Markdown renderings of one post's texts so far: its other targets
/// that show the same text with the same link policy reuse them.
#[derive(Default)]
pub struct Memo<'p> {
    /// (source text, whether link URLs are hidden, its rendering).
    done: Vec<(&'p str, bool, Markdown)>,
}

/// A rendered Markdown text and what rendering noted.
type Markdown = (RichText, Vec<markdown::Note>);

impl<'p> Memo<'p> {
    fn markdown(&mut self, src: &'p str, hide_urls: bool) -> Markdown {
        if let Some((_, _, out)) = self
            .done
            .iter()
            .find(|(s, h, _)| *h == hide_urls && *s == src)
        {
            return out.clone();
        }
        let out = markdown::render(src, hide_urls);
        self.done.push((src, hide_urls, out.clone()));
        out
    }
}

/// Renders `post` for `account` under `limits`, reusing what `memo` holds
/// of the post's other targets.
pub fn render_with<'p>(
    post: &'p Post,
    account: &Account,
    limits: &Limits,
    memo: &mut Memo<'p>,
) -> Rendered {
    // A content warning counts against the same limit (Mastodon): the text gets what is left.
    let cw_len = match (&post.cw, limits.has_content_warning) {
        (Some(cw), true) => cw.graphemes(true).count(),
        _ => 0,
    };
    let max_chars = account
        .max_characters
        .unwrap_or(limits.max_chars)
        .saturating_sub(cw_len);
    let (source, text, pos) = source_for(post, account);
    let pieces = if post.thread == ThreadMode::Off {
        vec![(text, pos)]
    } else {
        split_thread(text, pos)
    };
    let mut notes = Vec::new();
    let mut parts: Vec<(RichText, Pos)> = pieces
        .iter()
        .map(|(src, p)| {
            let (rt, md_notes) = memo.markdown(src, limits.hides_link_urls);
            for n in md_notes {
                let at = if matches!(source, Source::Body) {
                    Pos::of_offset(src, n.offset, *p)
                } else {
                    *p
                };
                notes.push(RenderNote {
                    pos: at,
                    message: n.message,
                });
            }
            (rt, *p)
        })
        .collect();
    let source_parts = parts.len();

    if limits.threads == ThreadSupport::Join && parts.len() > 1 {
        let first_pos = parts[0].1;
        let mut joined = RichText::default();
        for (rt, _) in &parts {
            joined.append("\n\n", rt);
        }
        parts = vec![(joined, first_pos)];
    } else if post.thread == ThreadMode::Auto && limits.threads == ThreadSupport::Native {
        parts = auto_split(parts, limits, max_chars);
    }

    let parts = parts
        .into_iter()
        .map(|(text, pos)| Part {
            length: count::count(&text.text, limits),
            bytes: text.text.len(),
            text,
            pos,
        })
        .collect();
    Rendered {
        account: account.name.clone(),
        platform: limits.kind,
        source,
        parts,
        max_chars,
        source_parts,
        notes,
    }
}

/// Splits parts longer than `max` at sentence, then word, then grapheme
/// boundaries (never inside a link, tag or mention) and numbers them "i/n".
pub fn auto_split(
    parts: Vec<(RichText, Pos)>,
    limits: &Limits,
    max: usize,
) -> Vec<(RichText, Pos)> {
    let measure = |t: &str| count::count(t, limits);
    let mut guess = parts.len().max(1);
    for _ in 0..4 {
        let suffix = format!("\n\n{guess}/{guess}");
        let budget = max.saturating_sub(measure(&suffix)).max(1);
        // Bluesky also caps bytes: a part must fit both limits.
        let byte_budget = limits
            .max_bytes
            .map(|b| b.saturating_sub(suffix.len()).max(1));
        let fits = |t: &str| measure(t) <= budget && byte_budget.is_none_or(|b| t.len() <= b);
        let mut pieces = Vec::new();
        for (rt, pos) in &parts {
            if fits(&rt.text) {
                pieces.push((rt.clone(), *pos));
            } else {
                for piece in split_to_fit(rt, &fits) {
                    pieces.push((piece, *pos));
                }
            }
        }
        let n = pieces.len();
        if n.to_string().len() <= guess.to_string().len() || n <= guess {
            if n <= 1 {
                return pieces;
            }
            for (i, (rt, _)) in pieces.iter_mut().enumerate() {
                rt.text.push_str(&format!("\n\n{}/{}", i + 1, n));
            }
            return pieces;
        }
        guess = n;
    }
    parts
}

fn split_to_fit(rt: &RichText, fits: &dyn Fn(&str) -> bool) -> Vec<RichText> {
    let text = &rt.text;
    let inside_span = |i: usize| rt.spans.iter().any(|s| s.start < i && i < s.end);
    let sentence: Vec<usize> = text
        .split_sentence_bound_indices()
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(text.len()))
        .filter(|i| !inside_span(*i))
        .collect();
    let words: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .filter(|i| !inside_span(*i))
        .collect();
    let graphemes: Vec<usize> = text
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .skip(1)
        .chain(std::iter::once(text.len()))
        .collect();

    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        if fits(text[start..].trim()) {
            out.push(rt.slice(start, text.len()));
            break;
        }
        let last_fitting = |cands: &[usize]| -> Option<usize> {
            let lo = cands.partition_point(|&b| b <= start);
            let cands = &cands[lo..];
            // Lengths grow with the end offset, so the last fitting one is found by bisection.
            let n = cands.partition_point(|&b| fits(text[start..b].trim()));
            (n > 0).then(|| cands[n - 1])
        };
        let end = last_fitting(&sentence)
            .or_else(|| last_fitting(&words))
            .or_else(|| last_fitting(&graphemes))
            .unwrap_or_else(|| graphemes[graphemes.partition_point(|&b| b <= start)]);
        out.push(rt.slice(start, end));
        start = end;
        while start < text.len() && text[start..].starts_with(char::is_whitespace) {
            start += text[start..]
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(1);
        }
    }
    out.retain(|p| !p.text.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BLUESKY, MASTODON};

    #[test]
    fn markdown_links_hide_or_show_urls() {
        let md = "We launched **social** today: [Read it](https://example.com/launch) #rustlang";
        let (rt, _) = markdown::render(md, true);
        assert_eq!(rt.text, "We launched social today: Read it #rustlang");
        let link = &rt.spans[0];
        assert_eq!(rt.span_text(link), "Read it");
        assert_eq!(
            link.kind,
            SpanKind::Link {
                uri: "https://example.com/launch".into()
            }
        );
        assert_eq!(rt.tags().collect::<Vec<_>>(), ["rustlang"]);
        let (rt, _) = markdown::render(md, false);
        assert_eq!(
            rt.text,
            "We launched social today: Read it (https://example.com/launch) #rustlang"
        );
        assert_eq!(rt.span_text(&rt.spans[0]), "https://example.com/launch");
    }

    #[test]
    fn spans_are_utf8_byte_offsets() {
        let (rt, _) = markdown::render(
            "Grüße @alice.bsky.social — see https://ex.com/ä #café!",
            true,
        );
        let m = rt
            .spans
            .iter()
            .find(|s| matches!(s.kind, SpanKind::Mention { .. }))
            .unwrap();
        assert_eq!(rt.span_text(m), "@alice.bsky.social");
        assert_eq!(m.start, "Grüße ".len());
        let t = rt
            .spans
            .iter()
            .find(|s| matches!(s.kind, SpanKind::Tag { .. }))
            .unwrap();
        assert_eq!(rt.span_text(t), "#café");
        let l = rt
            .spans
            .iter()
            .find(|s| matches!(s.kind, SpanKind::Link { .. }))
            .unwrap();
        assert_eq!(rt.span_text(l), "https://ex.com/ä");
    }

    #[test]
    fn lists_and_paragraphs() {
        let (rt, _) = markdown::render(
            "# Title\n\nIntro *here*\nline two\n\n- a\n- b\n\n1. x\n2. y\n",
            true,
        );
        assert_eq!(
            rt.text,
            "Title\n\nIntro here\nline two\n\n• a\n• b\n\n1. x\n2. y"
        );
    }

    #[test]
    fn thread_split_respects_fences() {
        let body = "one\n\n---\n\ntwo\n```\n---\n```\n---\nthree";
        let parts = split_thread(body, Pos::line(5));
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].1, Pos::line(8));
        assert_eq!(parts[2].1, Pos::line(14));
    }

    #[test]
    fn auto_split_numbers_parts_within_the_limit() {
        let sentence = "This sentence is exactly fifty characters long ok. ";
        let text = sentence.repeat(20);
        let (rt, _) = markdown::render(&text, true);
        let parts = auto_split(vec![(rt, Pos::line(1))], &BLUESKY, 300);
        assert!(parts.len() >= 4);
        for (i, (p, _)) in parts.iter().enumerate() {
            assert!(count::count(&p.text, &BLUESKY) <= 300, "{}", p.text);
            assert!(p.text.ends_with(&format!("{}/{}", i + 1, parts.len())));
        }
        let parts = auto_split(
            vec![(
                markdown::render(&"word ".repeat(300), false).0,
                Pos::line(1),
            )],
            &MASTODON,
            500,
        );
        assert!(
            parts
                .iter()
                .all(|(p, _)| count::count(&p.text, &MASTODON) <= 500)
        );
    }
}
