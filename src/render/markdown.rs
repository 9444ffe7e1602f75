//! Markdown → [`RichText`]: emphasis dropped, links kept as spans, and
//! #tags, @mentions and bare URLs detected in the resulting text.

use super::{RichText, Span, SpanKind};
use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

/// A note about the Markdown, at a byte offset of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub offset: usize,
    pub message: String,
}

struct Builder {
    out: RichText,
    notes: Vec<Note>,
    lists: Vec<Option<u64>>,
    item_start: bool,
    links: Vec<(usize, String, LinkType)>,
    in_image: usize,
}

impl Builder {
    fn push(&mut self, s: &str) {
        if self.in_image == 0 {
            self.out.text.push_str(s);
            self.item_start = false;
        }
    }

    /// Ends the current block so that the next starts after at least `newlines` line breaks.
    fn block_break(&mut self, newlines: usize) {
        if self.item_start {
            return;
        }
        let text = &mut self.out.text;
        if text.is_empty() {
            return;
        }
        let trimmed = text.trim_end_matches([' ', '\t']).len();
        // Never trim into a span.
        let min = self.out.spans.iter().map(|s| s.end).max().unwrap_or(0);
        text.truncate(trimmed.max(min));
        let have = text.len() - text.trim_end_matches('\n').len();
        for _ in have..newlines {
            text.push('\n');
        }
    }
}

/// Renders Markdown to rich text. With `hide_urls`, a link shows only its
/// text (the URL lives in the span); otherwise the URL follows in parentheses.
pub fn render(md: &str, hide_urls: bool) -> (RichText, Vec<Note>) {
    let mut b = Builder {
        out: RichText::default(),
        notes: Vec::new(),
        lists: Vec::new(),
        item_start: false,
        links: Vec::new(),
        in_image: 0,
    };
    let parser = Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH).into_offset_iter();
    for (event, range) in parser {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph | Tag::Heading { .. } | Tag::CodeBlock(_) | Tag::HtmlBlock => {
                    b.block_break(2)
                }
                Tag::BlockQuote(_) => b.block_break(2),
                Tag::List(start) => {
                    if b.lists.is_empty() {
                        b.block_break(2);
                    }
                    b.lists.push(start);
                }
                Tag::Item => {
                    b.item_start = false;
                    b.block_break(1);
                    let depth = b.lists.len().saturating_sub(1);
                    let marker = match b.lists.last_mut() {
                        Some(Some(n)) => {
                            let m = format!("{n}. ");
                            *n += 1;
                            m
                        }
                        _ => "• ".to_string(),
                    };
                    b.push(&"  ".repeat(depth));
                    b.push(&marker);
                    b.item_start = true;
                }
                Tag::Link {
                    link_type,
                    dest_url,
                    ..
                } => {
                    let start = b.out.text.len();
                    b.links.push((start, dest_url.to_string(), link_type));
                }
                Tag::Image { .. } => {
                    b.in_image += 1;
                    b.notes.push(Note {
                        offset: range.start,
                        message: "images in the text are not attached; list them under `media` in the frontmatter".into(),
                    });
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::List(_) => {
                    b.lists.pop();
                }
                TagEnd::Link => {
                    if let Some((start, url, kind)) = b.links.pop() {
                        finish_link(&mut b, start, url, kind, hide_urls);
                    }
                }
                TagEnd::Image => b.in_image = b.in_image.saturating_sub(1),
                TagEnd::CodeBlock => {
                    let len = b.out.text.trim_end_matches('\n').len();
                    b.out.text.truncate(len);
                }
                _ => {}
            },
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) | Event::DisplayMath(t) => {
                b.push(&t)
            }
            Event::Html(t) | Event::InlineHtml(t) => b.push(&t),
            Event::SoftBreak | Event::HardBreak => b.push("\n"),
            Event::Rule => {
                b.block_break(2);
                b.notes.push(Note {
                    offset: range.start,
                    message: "a `---` line splits a thread only with `thread: true` or `auto`; here it is left out".into(),
                });
            }
            Event::TaskListMarker(done) => b.push(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(t) => b.push(&t),
        }
    }
    let trimmed = b.out.text.trim_end().len();
    b.out.text.truncate(trimmed);
    let lead = b.out.text.len() - b.out.text.trim_start().len();
    if lead > 0 {
        b.out.text.drain(..lead);
        // A span may begin in the trimmed lead (a link whose text starts
        // with blanks): it starts at the text's start.
        for s in &mut b.out.spans {
            s.start = s.start.saturating_sub(lead);
            s.end = s.end.saturating_sub(lead);
        }
    }
    b.out
        .spans
        .retain(|s| s.end <= b.out.text.len() && s.start < s.end);
    detect_entities(&mut b.out);
    (b.out, b.notes)
}

fn finish_link(b: &mut Builder, start: usize, url: String, kind: LinkType, hide_urls: bool) {
    if b.in_image > 0 {
        return;
    }
    let end = b.out.text.len();
    let label = b.out.text[start..end].to_string();
    if matches!(kind, LinkType::Email) || url.starts_with("mailto:") {
        return;
    }
    let same = label == url
        || label.trim_end_matches('/') == url.trim_end_matches('/')
        || label.is_empty();
    if matches!(kind, LinkType::Autolink) || same {
        if label.is_empty() {
            b.out.text.push_str(&url);
        }
        let end = b.out.text.len();
        b.out.spans.push(Span {
            start,
            end,
            kind: SpanKind::Link { uri: url },
        });
    } else if hide_urls {
        b.out.spans.push(Span {
            start,
            end,
            kind: SpanKind::Link { uri: url },
        });
    } else {
        b.out.text.push_str(" (");
        let s = b.out.text.len();
        b.out.text.push_str(&url);
        let e = b.out.text.len();
        b.out.text.push(')');
        b.out.spans.push(Span {
            start: s,
            end: e,
            kind: SpanKind::Link { uri: url },
        });
    }
}

/// Adds spans for bare URLs, #tags and @mentions not already inside a span.
pub fn detect_entities(rt: &mut RichText) {
    let mut found = Vec::new();
    for r in crate::render::count::link_ranges(&rt.text) {
        // A Markdown link's URL already has its span: one facet per range.
        if rt.spans.iter().any(|s| s.start < r.end && r.start < s.end) {
            continue;
        }
        found.push(Span {
            start: r.start,
            end: r.end,
            kind: SpanKind::Link {
                uri: rt.text[r].to_string(),
            },
        });
    }
    let covered = |spans: &[Span], found: &[Span], i: usize| {
        spans
            .iter()
            .chain(found.iter())
            .any(|s| s.start <= i && i < s.end)
    };
    let text = &rt.text;
    for (i, c) in text.char_indices() {
        if c != '#' && c != '@' && c != '＃' {
            continue;
        }
        let prev = text[..i].chars().next_back();
        if prev.is_some_and(|p| !(p.is_whitespace() || p == '(')) || covered(&rt.spans, &found, i) {
            continue;
        }
        let rest = &text[i + c.len_utf8()..];
        if c == '@' {
            let len = rest
                .find(|ch: char| {
                    !(ch.is_ascii_alphanumeric() || matches!(ch, '.' | '-' | '_' | '@'))
                })
                .unwrap_or(rest.len());
            let handle = rest[..len].trim_end_matches(['.', '-', '@']);
            if !handle.is_empty()
                && handle
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                let end = i + 1 + handle.len();
                found.push(Span {
                    start: i,
                    end,
                    kind: SpanKind::Mention {
                        handle: handle.to_string(),
                    },
                });
            }
        } else {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let tag = rest[..len]
                .trim_end_matches(|ch: char| ch.is_ascii_punctuation() || is_unicode_punct(ch));
            let meaningful = tag
                .chars()
                .any(|ch| !ch.is_ascii_digit() && !ch.is_ascii_punctuation());
            if !tag.is_empty()
                && meaningful
                && !tag.starts_with('\u{fe0f}')
                && !tag.starts_with('\u{20e3}')
            {
                found.push(Span {
                    start: i,
                    end: i + c.len_utf8() + tag.len(),
                    kind: SpanKind::Tag {
                        tag: tag.to_string(),
                    },
                });
            }
        }
    }
    rt.spans.extend(found);
    rt.spans.sort_by_key(|s| (s.start, s.end));
}

fn is_unicode_punct(c: char) -> bool {
    matches!(
        c,
        '…' | '、'
            | '。'
            | '，'
            | '！'
            | '？'
            | '：'
            | '；'
            | '」'
            | '』'
            | '）'
            | '“'
            | '”'
            | '‘'
            | '’'
    )
}
