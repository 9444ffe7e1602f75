//! Splitting a post file into frontmatter and body, and deserializing the
//! frontmatter (YAML between `---` lines or TOML between `+++` lines).
//!
//! This is the only module that touches `serde_yaml`, so that a maintained
//! fork can replace it in one place.

use crate::diag::Pos;
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};

/// The syntax of a post's frontmatter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Toml,
    /// The file has no frontmatter: it is all body.
    None,
}

/// A file cut into its frontmatter and body.
#[derive(Debug)]
pub struct Split<'a> {
    pub format: Format,
    /// The frontmatter text, without its delimiter lines.
    pub frontmatter: &'a str,
    /// File position of the first frontmatter byte.
    pub frontmatter_pos: Pos,
    pub body: &'a str,
    /// File position of the first body byte.
    pub body_pos: Pos,
}

/// A frontmatter problem, located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontmatterError {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

fn is_delim(line: &str, delim: &str) -> bool {
    line.trim_end_matches(['\r', '\n']).trim_end() == delim
}

/// Cuts `src` into frontmatter and body. A file whose first line is not `---`
/// or `+++` has no frontmatter.
pub fn split(src: &str) -> Result<Split<'_>, FrontmatterError> {
    let first_end = src.find('\n').map(|i| i + 1).unwrap_or(src.len());
    let first = &src[..first_end];
    let (format, delim) = if is_delim(first, "---") {
        (Format::Yaml, "---")
    } else if is_delim(first, "+++") {
        (Format::Toml, "+++")
    } else {
        return Ok(Split {
            format: Format::None,
            frontmatter: "",
            frontmatter_pos: Pos::line(1),
            body: src,
            body_pos: Pos::line(1),
        });
    };
    let mut offset = first_end;
    let mut line_no = 2;
    while offset < src.len() {
        let end = src[offset..]
            .find('\n')
            .map(|i| offset + i + 1)
            .unwrap_or(src.len());
        let line = &src[offset..end];
        if is_delim(line, delim) || (format == Format::Yaml && is_delim(line, "...")) {
            return Ok(Split {
                format,
                frontmatter: &src[first_end..offset],
                frontmatter_pos: Pos::line(2),
                body: &src[end..],
                body_pos: Pos::line(line_no + 1),
            });
        }
        offset = end;
        line_no += 1;
    }
    let kind = if format == Format::Yaml {
        "YAML"
    } else {
        "TOML"
    };
    Err(FrontmatterError {
        pos: Pos::line(1),
        message: format!("the {kind} frontmatter opened here with `{delim}` is never closed"),
        help: Some(format!(
            "add a line holding only `{delim}` after the last frontmatter key"
        )),
    })
}

/// Top-level keys of a frontmatter block, in order, with their file positions.
pub fn top_level_keys(split: &Split<'_>) -> Vec<(String, Pos)> {
    if split.format == Format::Toml {
        return toml_top_level_keys(split);
    }
    let mut keys = Vec::new();
    for (i, line) in split.frontmatter.lines().enumerate() {
        let line_no = split.frontmatter_pos.line + i;
        if line.starts_with([' ', '\t', '#', '-']) || line.trim().is_empty() {
            continue;
        }
        let key = match split.format {
            Format::Yaml => line.split_once(':').map(|(k, _)| k),
            Format::Toml | Format::None => None,
        };
        if let Some(k) = key {
            let k = k.trim().trim_matches(['"', '\'']);
            if !k.is_empty()
                && !k.contains(char::is_whitespace)
                && !keys.iter().any(|(e, _)| e == k)
            {
                keys.push((k.to_string(), Pos::line(line_no)));
            }
        }
    }
    keys
}

/// Top-level keys of a TOML block. The TOML parser tells them apart from keys
/// under a `[table]` header, dotted keys and lines of multi-line strings; a
/// block that does not parse has none (deserializing reports the syntax error).
fn toml_top_level_keys(split: &Split<'_>) -> Vec<(String, Pos)> {
    type Keys = BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>;
    let Ok(table) = toml::from_str::<Keys>(split.frontmatter) else {
        return Vec::new();
    };
    let mut keys: Vec<(String, Pos)> = table
        .into_keys()
        .map(|k| {
            let pos = Pos::of_offset(split.frontmatter, k.span().start, split.frontmatter_pos);
            (k.into_inner(), Pos::line(pos.line))
        })
        .collect();
    keys.sort_by_key(|(_, pos)| *pos);
    keys
}

/// The top-level keys as the parser sees them, or None when the block does
/// not parse. Slower than [`top_level_keys`]: for confirming what it found.
pub fn parsed_top_level_keys(split: &Split<'_>) -> Option<BTreeSet<String>> {
    type Keys = BTreeMap<String, serde::de::IgnoredAny>;
    let keys = match split.format {
        Format::None => Keys::new(),
        Format::Yaml if split.frontmatter.trim().is_empty() => Keys::new(),
        Format::Yaml => serde_yaml::from_str::<Keys>(split.frontmatter).ok()?,
        Format::Toml => toml::from_str::<Keys>(split.frontmatter).ok()?,
    };
    Some(keys.into_keys().collect())
}

/// File lines on which `key` is set anywhere in the block (nested too), in order.
pub fn key_lines(split: &Split<'_>, key: &str) -> Vec<usize> {
    let sep = if split.format == Format::Toml {
        '='
    } else {
        ':'
    };
    let mut out = Vec::new();
    for (i, line) in split.frontmatter.lines().enumerate() {
        let t = line
            .trim_start()
            .trim_start_matches("- ")
            .trim_start_matches('{')
            .trim_start();
        // Inline tables and flow maps can hold several keys on one line.
        let hit = t.split([',', '{']).map(str::trim_start).any(|part| {
            part.strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with(sep))
        });
        if hit {
            out.push(split.frontmatter_pos.line + i);
        }
    }
    out
}

/// Deserializes the frontmatter into `T`, locating errors in the file.
pub fn deserialize<T: DeserializeOwned + Default>(
    split: &Split<'_>,
) -> Result<T, FrontmatterError> {
    match split.format {
        Format::None => Ok(T::default()),
        Format::Yaml => {
            if split.frontmatter.trim().is_empty() {
                return Ok(T::default());
            }
            serde_yaml::from_str::<T>(split.frontmatter).map_err(|e| {
                let pos = e
                    .location()
                    .map(|l| Pos {
                        line: split.frontmatter_pos.line + l.line().saturating_sub(1),
                        column: l.column(),
                    })
                    .unwrap_or(split.frontmatter_pos);
                let own = e.location().map(|l| (l.line(), l.column()));
                FrontmatterError {
                    pos,
                    message: clean_yaml_message(&e.to_string(), own, split.frontmatter_pos.line),
                    help: None,
                }
            })
        }
        Format::Toml => toml::from_str::<T>(split.frontmatter).map_err(|e| {
            let pos = e
                .span()
                .map(|s| Pos::of_offset(split.frontmatter, s.start, split.frontmatter_pos))
                .unwrap_or(split.frontmatter_pos);
            FrontmatterError {
                pos,
                message: e.message().trim().to_string(),
                help: None,
            }
        }),
    }
}

/// serde_yaml appends " at line L column C" to messages, counting lines from
/// the start of the block. The error's own place (`own`) is shown separately
/// and dropped here; any other (where a construct started) is renumbered to
/// a file line, the block's first line being `first_line`.
fn clean_yaml_message(msg: &str, own: Option<(usize, usize)>, first_line: usize) -> String {
    const AT: &str = " at line ";
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i]);
        let after = &rest[i + AT.len()..];
        let n = digits(after);
        let mark = after[..n].parse::<usize>().ok().zip(
            after[n..]
                .strip_prefix(" column ")
                .and_then(|t| Some((t[..digits(t)].parse::<usize>().ok()?, &t[digits(t)..]))),
        );
        match mark {
            Some((line, (column, tail))) => {
                if own != Some((line, column)) {
                    let file_line = line + first_line - 1;
                    out.push_str(&format!("{AT}{file_line} column {column}"));
                }
                rest = tail;
            }
            None => {
                out.push_str(AT);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_yaml_and_toml() {
        let s = split("---\nid: a\n---\nbody\n").unwrap();
        assert_eq!(s.format, Format::Yaml);
        assert_eq!(s.frontmatter, "id: a\n");
        assert_eq!(s.body, "body\n");
        assert_eq!(s.body_pos, Pos::line(4));
        let s = split("+++\nid = \"a\"\n+++\nbody").unwrap();
        assert_eq!(s.format, Format::Toml);
        assert_eq!(s.body, "body");
    }

    #[test]
    fn unclosed_frontmatter_is_an_error_at_line_one() {
        let e = split("---\nid: a\nbody\n").unwrap_err();
        assert_eq!(e.pos, Pos::line(1));
        assert!(e.message.contains("never closed"));
    }

    #[test]
    fn no_frontmatter_is_all_body() {
        let s = split("hello\n---\nworld").unwrap();
        assert_eq!(s.format, Format::None);
        assert_eq!(s.body, "hello\n---\nworld");
    }

    #[test]
    fn yaml_errors_are_located_in_the_file() {
        #[derive(serde::Deserialize, Default, Debug)]
        #[allow(dead_code)]
        struct T {
            a: Option<u32>,
        }
        let s = split("---\n\na: [\n---\n").unwrap();
        let e = deserialize::<T>(&s).unwrap_err();
        assert!(e.pos.line >= 3, "{e:?}");
        let s = split("---\n\na: nope\n---\n").unwrap();
        let e = deserialize::<T>(&s).unwrap_err();
        assert_eq!(e.pos.line, 3, "{e:?}");
    }
}
