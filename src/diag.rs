//! Diagnostics: problems found in files, with the place they were found.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A 1-based line and column in a file (column counted in characters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

impl Pos {
    /// A position at the start of `line`.
    pub fn line(line: usize) -> Self {
        Pos { line, column: 1 }
    }

    /// The position of byte `offset` within `text`, whose first byte is at `base`.
    pub fn of_offset(text: &str, offset: usize, base: Pos) -> Self {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let newlines = before.matches('\n').count();
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        if newlines == 0 {
            Pos {
                line: base.line,
                column: base.column + col - 1,
            }
        } else {
            Pos {
                line: base.line + newlines,
                column: col,
            }
        }
    }
}

/// A text's line starts, for turning many byte offsets into positions: each
/// lookup takes time logarithmic in the text's size plus at most one chunk
/// ([`Pos::of_offset`] reads the whole text before the offset every time).
pub struct LineIndex<'a> {
    text: &'a str,
    base: Pos,
    /// Byte offset of every line's first byte (the first is 0).
    line_starts: Vec<usize>,
    /// Characters before every `CHUNK`-th byte.
    chars_before: Vec<usize>,
}

const CHUNK: usize = 1024;

/// Characters in a run of UTF-8 bytes (any run: partial characters at its
/// ends count by their lead byte).
fn count_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`, whose first byte is at `base`, in one pass.
    pub fn new(text: &'a str, base: Pos) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut chars_before = Vec::with_capacity(bytes.len() / CHUNK + 1);
        let mut total = 0;
        chars_before.push(0);
        for chunk in bytes.chunks(CHUNK) {
            total += count_chars(chunk);
            chars_before.push(total);
        }
        LineIndex {
            text,
            base,
            line_starts,
            chars_before,
        }
    }

    fn chars_to(&self, offset: usize) -> usize {
        let chunk = offset / CHUNK;
        self.chars_before[chunk] + count_chars(&self.text.as_bytes()[chunk * CHUNK..offset])
    }

    /// The position of byte `offset`; the same as [`Pos::of_offset`].
    pub fn pos(&self, offset: usize) -> Pos {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let col = self.chars_to(offset) - self.chars_to(self.line_starts[line]) + 1;
        if line == 0 {
            Pos {
                line: self.base.line,
                column: self.base.column + col - 1,
            }
        } else {
            Pos {
                line: self.base.line + line,
                column: col,
            }
        }
    }
}

/// The largest char boundary at or below `i`.
pub fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One problem in one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The target account the problem applies to, when it is per account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

impl Diagnostic {
    /// An error at `pos` in `path`.
    pub fn error(path: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, path, pos, message)
    }

    /// A warning at `pos` in `path`.
    pub fn warning(path: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, path, pos, message)
    }

    fn new(severity: Severity, path: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            line: pos.line.max(1),
            column: pos.column.max(1),
            severity,
            message: message.into(),
            help: None,
            account: None,
        }
    }

    /// Adds a hint saying how to fix the problem.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Ties the problem to one target account.
    pub fn for_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_string());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The closest candidate to `word`, when it is close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word_l = word.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for c in candidates {
        let mut score = strsim::jaro_winkler(&word_l, &c.to_ascii_lowercase());
        // `at_time` → `at`: a key that starts with a known key is a strong hint.
        if word_l.starts_with(c) || c.starts_with(word_l.as_str()) {
            score = score.max(0.85);
        }
        if score >= 0.75 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "ab\ncdé\nf";
        let base = Pos { line: 3, column: 1 };
        assert_eq!(Pos::of_offset(text, 0, base), Pos { line: 3, column: 1 });
        assert_eq!(Pos::of_offset(text, 4, base), Pos { line: 4, column: 2 });
        assert_eq!(Pos::of_offset(text, 8, base), Pos { line: 5, column: 1 });
    }

    #[test]
    fn the_line_index_agrees_with_of_offset() {
        let mut text = String::from("ab\ncdé\nf\n\n");
        text.push_str(&"xé".repeat(1500));
        text.push_str("\nlast ünï\n");
        let base = Pos { line: 2, column: 5 };
        let index = LineIndex::new(&text, base);
        for offset in 0..=text.len() + 2 {
            assert_eq!(
                index.pos(offset),
                Pos::of_offset(&text, offset, base),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn suggests_close_keys() {
        let keys = ["id", "at", "to", "status", "media", "visibility"];
        assert_eq!(suggest("at_time", keys), Some("at"));
        assert_eq!(suggest("visiblity", keys), Some("visibility"));
        assert_eq!(suggest("zzzzzz", keys), None);
    }
}
