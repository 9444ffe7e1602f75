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
    fn suggests_close_keys() {
        let keys = ["id", "at", "to", "status", "media", "visibility"];
        assert_eq!(suggest("at_time", keys), Some("at"));
        assert_eq!(suggest("visiblity", keys), Some("visibility"));
        assert_eq!(suggest("zzzzzz", keys), None);
    }
}
