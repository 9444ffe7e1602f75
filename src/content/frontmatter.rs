//! Splitting a post file into frontmatter and body, and deserializing the
//! frontmatter (YAML between `---` lines or TOML between `+++` lines).
//!
//! This is the only module that touches `serde_yaml`, so that a maintained
//! fork can replace it in one place.

use crate::diag::{LineIndex, Pos};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet, HashSet};

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

/// Frontmatter nested deeper than this is refused before it is parsed: a
/// post's values are names, times, texts and short lists, and the YAML
/// parser's work grows with the square of the depth of `[`/`{` nesting.
pub const MAX_DEPTH: usize = 64;

/// Where a nesting scan first went deeper than [`MAX_DEPTH`].
struct TooDeep {
    offset: usize,
    /// Brackets (`[`, `{`) rather than indentation, `- ` entries or dotted keys.
    brackets: bool,
    /// The top-level key whose value it is.
    key: Option<String>,
}

impl TooDeep {
    fn at(offset: usize, brackets: bool, key: &Option<String>) -> Option<TooDeep> {
        Some(TooDeep {
            offset,
            brackets,
            key: key.clone(),
        })
    }
}

/// Refuses frontmatter nested deeper than [`MAX_DEPTH`], in one pass over the
/// text and before any parser sees it, with the place and the key.
pub fn check_nesting(split: &Split<'_>) -> Result<(), FrontmatterError> {
    let found = match split.format {
        Format::Yaml => yaml_too_deep(split.frontmatter),
        Format::Toml => toml_too_deep(split.frontmatter),
        Format::None => None,
    };
    let Some(t) = found else { return Ok(()) };
    let what = match &t.key {
        Some(k) => format!("the value of `{k}`"),
        None => "the frontmatter".to_string(),
    };
    let how = if t.brackets {
        "brackets `[` or `{` opened inside each other"
    } else {
        "entries or keys inside each other"
    };
    let key = t.key.as_deref().unwrap_or("title");
    let example = if split.format == Format::Toml {
        format!("{key} = \"[[…]]\"")
    } else {
        format!("{key}: \"[[…]]\"")
    };
    let help = if t.brackets {
        format!(
            "a frontmatter value is a name, a time, a text or a short list; if the brackets are part of a text, quote it: `{example}`"
        )
    } else {
        "a frontmatter value is a name, a time, a text or a short list: flatten it".to_string()
    };
    Err(FrontmatterError {
        pos: Pos::of_offset(split.frontmatter, t.offset, split.frontmatter_pos),
        message: format!("{what} is nested more than {MAX_DEPTH} levels deep ({how})"),
        help: Some(help),
    })
}

/// The end of a quoted string that opens at `i`: `"…"` with `\` escapes, or
/// `'…'` (with `''` inside in YAML); a TOML one-line string ends at the line.
fn quoted_end(b: &[u8], i: usize, yaml: bool) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if q == b'"' => j += 2,
            c if c == q => {
                if yaml && q == b'\'' && b.get(j + 1) == Some(&b'\'') {
                    j += 2;
                } else {
                    return j + 1;
                }
            }
            b'\n' if !yaml => return j,
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of a TOML multi-line string (`"""…"""` or `'''…'''`) opening at `i`.
fn triple_quoted_end(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 3;
    while j < b.len() {
        if q == b'"' && b[j] == b'\\' {
            j += 2;
        } else if b[j..].starts_with(&[q, q, q]) {
            // Up to two more quotes still belong to the string.
            let mut k = j + 3;
            while k < b.len() && k < j + 5 && b[k] == q {
                k += 1;
            }
            return k;
        } else {
            j += 1;
        }
    }
    b.len()
}

fn line_end(b: &[u8], i: usize) -> usize {
    b[i..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |n| i + n)
}

fn is_blank(c: Option<&u8>) -> bool {
    matches!(c, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// The key at the start of `line` (up to `sep`), when it looks like one.
fn key_before(line: &[u8], sep: u8) -> Option<String> {
    let n = line.iter().take(200).position(|&c| c == sep)?;
    let k = String::from_utf8_lossy(&line[..n]).trim().to_string();
    (!k.is_empty()).then_some(k)
}

/// YAML nesting: flow collections (`[`, `{`, counted where they open a node,
/// not inside quotes, comments, block scalars or plain text) plus block
/// levels (the columns of the nodes enclosing a line: indentation and
/// compact `- ` / `? ` entries).
fn yaml_too_deep(src: &str) -> Option<TooDeep> {
    let b = src.as_bytes();
    let mut flow = 0usize;
    // Columns of the enclosing block nodes.
    let mut block: Vec<usize> = Vec::new();
    // Inside a block scalar (`|`, `>`): lines indented more than this column.
    let mut scalar_parent: Option<usize> = None;
    let mut key: Option<String> = None;
    let mut i = 0;
    let mut line_start = 0;
    // Whether the next character may open a node.
    let mut start = true;
    let mut at_line_start = true;
    while i < b.len() {
        if at_line_start {
            at_line_start = false;
            line_start = i;
            let end = line_end(b, i);
            let indent = b[i..end].iter().take_while(|&&c| c == b' ').count();
            let rest = &b[i + indent..end];
            let blank = rest.iter().all(u8::is_ascii_whitespace);
            if flow == 0 {
                if let Some(parent) = scalar_parent {
                    if blank || indent > parent {
                        i = end + 1;
                        at_line_start = true;
                        continue;
                    }
                    scalar_parent = None;
                }
                if blank || rest[0] == b'#' {
                    i = end + 1;
                    at_line_start = true;
                    continue;
                }
                while block.last().is_some_and(|&c| c > indent) {
                    block.pop();
                }
                if block.last() != Some(&indent) {
                    block.push(indent);
                }
                if block.len() > MAX_DEPTH {
                    return TooDeep::at(i + indent, false, &key);
                }
                if indent == 0 && !matches!(rest[0], b'-' | b'?' | b'[' | b'{' | b'"' | b'\'') {
                    key = key_before(rest, b':').or(key);
                }
            }
            i += indent;
            start = true;
            continue;
        }
        let c = b[i];
        match c {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if i == line_start || matches!(b[i - 1], b' ' | b'\t') => {
                i = line_end(b, i);
                continue;
            }
            b'[' | b'{' if flow > 0 || start => {
                flow += 1;
                if block.len() + flow > MAX_DEPTH {
                    return TooDeep::at(i, true, &key);
                }
                start = true;
            }
            b']' | b'}' if flow > 0 => {
                flow -= 1;
                start = false;
            }
            b',' if flow > 0 => start = true,
            b'"' | b'\'' if start => {
                i = quoted_end(b, i, true);
                start = false;
                continue;
            }
            b'|' | b'>' if start && flow == 0 => {
                scalar_parent = Some(block.last().copied().unwrap_or(0));
                i = line_end(b, i);
                continue;
            }
            b'-' | b'?' if start && flow == 0 && is_blank(b.get(i + 1)) => {
                // A compact entry: its node sits at the next non-blank column.
                let spaces = b[i + 1..].iter().take_while(|&&c| c == b' ').count();
                let col = i - line_start + 1 + spaces.max(1);
                while block.last().is_some_and(|&c| c >= col) {
                    block.pop();
                }
                block.push(col);
                if block.len() > MAX_DEPTH {
                    return TooDeep::at(i, false, &key);
                }
            }
            b'?' if start && is_blank(b.get(i + 1)) => {}
            b':' if is_blank(b.get(i + 1)) => start = true,
            b'&' | b'!' if start => {
                // An anchor or a tag: the node follows it.
                while !is_blank(b.get(i)) {
                    i += 1;
                }
                continue;
            }
            _ => start = false,
        }
        i += 1;
    }
    None
}

/// TOML nesting: arrays and inline tables (`[`, `{` in values, not inside
/// strings or comments) plus the parts of dotted keys and table headers.
fn toml_too_deep(src: &str) -> Option<TooDeep> {
    let b = src.as_bytes();
    // The open arrays and inline tables, by their opening bracket.
    let mut open: Vec<u8> = Vec::new();
    let mut table = String::new();
    let mut key: Option<String> = None;
    let mut i = 0;
    // Whether a key is being read, and the dots seen in it.
    let mut in_key = true;
    let mut dots = 0usize;
    let mut at_line_start = true;
    while i < b.len() {
        if at_line_start && open.is_empty() {
            let end = line_end(b, i);
            let line = &b[i..end];
            let indent = line.iter().take_while(|c| c.is_ascii_whitespace()).count();
            if line.get(indent) == Some(&b'[') {
                // A table header: its dotted parts nest.
                let mut parts = 1;
                let mut j = i + indent;
                while j < end {
                    match b[j] {
                        b'"' | b'\'' => {
                            j = quoted_end(b, j, false);
                            continue;
                        }
                        b'.' => parts += 1,
                        b'#' => break,
                        _ => {}
                    }
                    if parts > MAX_DEPTH {
                        return TooDeep::at(j, false, &None);
                    }
                    j += 1;
                }
                let name = String::from_utf8_lossy(&b[i + indent..j]);
                table = name.trim().trim_matches(['[', ']']).trim().to_string();
                i = end;
                continue;
            }
            key = key_before(&line[indent..], b'=').map(|k| {
                if table.is_empty() {
                    k
                } else {
                    format!("{table}.{k}")
                }
            });
        }
        at_line_start = false;
        let c = b[i];
        match c {
            b'\n' => {
                at_line_start = true;
                if open.is_empty() {
                    in_key = true;
                    dots = 0;
                }
            }
            b'"' | b'\'' => {
                i = if b[i..].starts_with(&[c, c, c]) {
                    triple_quoted_end(b, i)
                } else {
                    quoted_end(b, i, false)
                };
                continue;
            }
            b'#' => {
                i = line_end(b, i);
                continue;
            }
            b'[' | b'{' => {
                open.push(c);
                in_key = c == b'{';
                dots = 0;
                if open.len() > MAX_DEPTH {
                    return TooDeep::at(i, true, &key);
                }
            }
            b']' | b'}' => {
                open.pop();
                in_key = false;
            }
            b',' => {
                in_key = open.last() == Some(&b'{');
                dots = 0;
            }
            b'=' => in_key = false,
            b'.' if in_key => {
                dots += 1;
                if open.len() + dots + 1 > MAX_DEPTH {
                    return TooDeep::at(i, false, &key);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Top-level keys of a frontmatter block, in order, with their file positions.
pub fn top_level_keys(split: &Split<'_>) -> Vec<(String, Pos)> {
    if split.format == Format::Toml {
        return toml_top_level_keys(split);
    }
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
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
            if !k.is_empty() && !k.contains(char::is_whitespace) && seen.insert(k) {
                keys.push((k.to_string(), Pos::line(line_no)));
            }
        }
    }
    keys
}

/// The block with the entries of `drop` blanked: each from its key's line
/// up to the next top-level key of `keys` (its value's lines, comments
/// after it). Lines stay where they were, so positions in what is left hold.
pub fn blank_entries(split: &Split<'_>, keys: &[(String, Pos)], drop: &[(String, Pos)]) -> String {
    let mut starts: Vec<usize> = keys.iter().map(|(_, p)| p.line).collect();
    starts.sort_unstable();
    // Each dropped entry's lines, in order: linear in the block's size.
    let mut dropped: Vec<(usize, usize)> = drop
        .iter()
        .map(|(_, p)| {
            let next = starts.partition_point(|l| *l <= p.line);
            (p.line, starts.get(next).copied().unwrap_or(usize::MAX))
        })
        .collect();
    dropped.sort_unstable();
    let mut ranges = dropped.into_iter().peekable();
    let mut out = String::with_capacity(split.frontmatter.len());
    for (i, line) in split.frontmatter.split_inclusive('\n').enumerate() {
        let no = split.frontmatter_pos.line + i;
        while ranges.next_if(|(_, end)| *end <= no).is_some() {}
        if ranges.peek().is_some_and(|(start, _)| *start <= no) {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Top-level keys of a TOML block. The TOML parser tells them apart from keys
/// under a `[table]` header, dotted keys and lines of multi-line strings; a
/// block that does not parse has none (deserializing reports the syntax error).
fn toml_top_level_keys(split: &Split<'_>) -> Vec<(String, Pos)> {
    type Keys = BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>;
    let Ok(table) = toml::from_str::<Keys>(split.frontmatter) else {
        return Vec::new();
    };
    let index = LineIndex::new(split.frontmatter, split.frontmatter_pos);
    let mut keys: Vec<(String, Pos)> = table
        .into_keys()
        .map(|k| {
            let pos = index.pos(k.span().start);
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
    key_lines_of(split, &[key]).pop().unwrap_or_default()
}

/// [`key_lines`] for several keys at once, in one pass over the block (time
/// linear in the block plus the keys, however many keys there are).
pub fn key_lines_of(split: &Split<'_>, keys: &[&str]) -> Vec<Vec<usize>> {
    let sep = if split.format == Format::Toml {
        '='
    } else {
        ':'
    };
    let trie = Trie::new(keys);
    let mut out = vec![Vec::new(); keys.len()];
    for (i, line) in split.frontmatter.lines().enumerate() {
        let line_no = split.frontmatter_pos.line + i;
        let t = line
            .trim_start()
            .trim_start_matches("- ")
            .trim_start_matches('{')
            .trim_start();
        // Inline tables and flow maps can hold several keys on one line.
        for part in t.split([',', '{']).map(str::trim_start) {
            trie.prefixes(part, |k, rest| {
                let hit = rest.trim_start().starts_with(sep);
                if hit && out[k].last() != Some(&line_no) {
                    out[k].push(line_no);
                }
            });
        }
    }
    out
}

/// The keys as a byte trie, to find every key a text starts with in one walk.
struct Trie {
    /// Per node: its children by byte, and the keys that end there.
    nodes: Vec<(BTreeMap<u8, usize>, Vec<usize>)>,
}

impl Trie {
    fn new(keys: &[&str]) -> Self {
        let mut nodes = vec![(BTreeMap::new(), Vec::new())];
        for (k, key) in keys.iter().enumerate() {
            let mut at = 0;
            for &b in key.as_bytes() {
                let next = nodes.len();
                at = match nodes[at].0.get(&b) {
                    Some(&n) => n,
                    None => {
                        nodes[at].0.insert(b, next);
                        nodes.push((BTreeMap::new(), Vec::new()));
                        next
                    }
                };
            }
            nodes[at].1.push(k);
        }
        Trie { nodes }
    }

    /// Calls `f(key, rest)` for every key that `text` starts with.
    fn prefixes(&self, text: &str, mut f: impl FnMut(usize, &str)) {
        let mut at = 0;
        for i in 0..=text.len() {
            // A key ends here, so `i` is a char boundary.
            for &k in &self.nodes[at].1 {
                f(k, &text[i..]);
            }
            match text.as_bytes().get(i).and_then(|b| self.nodes[at].0.get(b)) {
                Some(&n) => at = n,
                None => return,
            }
        }
    }
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

#[cfg(test)]
mod nesting_tests {
    use super::*;

    fn nesting(src: &str) -> Result<(), FrontmatterError> {
        check_nesting(&split(src).unwrap())
    }

    #[test]
    fn deep_yaml_and_toml_are_refused_at_the_place_with_the_key() {
        let deep = [
            format!("---\nid: a\ntitle: {}\n---\n", "[".repeat(70)),
            format!("---\nid: a\ntitle: {}x\n---\n", "{a: ".repeat(70)),
            format!("---\nid: a\ntitle: {}\n---\n", "[{".repeat(35)),
            format!("---\nid: a\ntitle: {}x\n---\n", "- ".repeat(70)),
            format!("---\nid: a\ntitle: &x {}\n---\n", "[ ".repeat(70)),
            format!(
                "---\nid: a\ntitle:\n{}---\n",
                (1..70)
                    .map(|i| format!("{}a:\n", " ".repeat(i)))
                    .collect::<String>()
            ),
            format!("+++\nid = \"a\"\ntitle = {}\n+++\n", "[".repeat(70)),
            format!("+++\nid = \"a\"\ntitle = {}\n+++\n", "{a = ".repeat(70)),
            format!("+++\nid = \"a\"\ntitle.{} = 1\n+++\n", ["a"; 70].join(".")),
            format!("+++\nid = \"a\"\n[{}]\n+++\n", ["a"; 70].join(".")),
        ];
        for src in &deep {
            let e = nesting(src).expect_err(src);
            assert!(e.message.contains("more than 64 levels deep"), "{e:?}");
            assert!(e.pos.line >= 3, "{e:?}");
            assert!(e.help.is_some());
            if !src.contains("\n[a.") {
                assert!(e.message.contains("`title"), "{e:?}");
            }
        }
        let e = nesting(&deep[0]).unwrap_err();
        // `title: ` then the 64th bracket (the line itself is the first level).
        assert_eq!(
            e.pos,
            Pos {
                line: 3,
                column: 7 + 64
            }
        );
        assert!(e.help.unwrap().contains("title: \"[[…]]\""));
    }

    #[test]
    fn brackets_in_text_quotes_comments_and_block_scalars_are_not_nesting() {
        let b = "[".repeat(100);
        let fine = [
            format!("---\ntitle: a {b}\n---\n"),
            format!("---\ntitle: \"{b}\"\n---\n"),
            format!("---\ntitle: '{b} it''s'\n---\n"),
            format!("---\ntitle: \"a\\\"{b}\"\n---\n"),
            format!("---\ntitle: |\n  {b}\n\n  {b}\nid: a\n---\n"),
            format!("---\nvariants:\n  x: >-\n    {b}\n---\n"),
            format!("---\n# {b}\ntitle: x # {b}\n---\n"),
            format!("---\nto: [a, \"{b}\", '{b}']\n---\n"),
            format!("---\nmedia:\n  - path: a.png\n    alt: a {b}\n---\n"),
            format!("---\ntitle: {}\n---\n", "[".repeat(60) + &"]".repeat(60)),
            format!("---\ntitle: {}\n---\n", "[[]],".repeat(1000)),
            format!("+++\ntitle = \"{b}\"\n+++\n"),
            format!("+++\ntitle = '{b}'\n+++\n"),
            format!("+++\ntitle = \"\"\"\n{b}\n\"\"\"\n+++\n"),
            format!("+++\ntitle = '''\n{b}'''\n+++\n"),
            format!("+++\n# {b}\nto = [\"a\"] # {b}\n+++\n"),
            format!("+++\nx = [{}]\n+++\n", "1.5, ".repeat(200)),
            format!("+++\n[variants]\nx = \"{b}\"\n+++\n"),
            format!("+++\nx = {}\n+++\n", "[".repeat(64) + &"]".repeat(64)),
        ];
        for src in &fine {
            assert_eq!(nesting(src), Ok(()), "{src}");
        }
    }

    #[test]
    fn many_keys_are_located_in_one_pass() {
        let src = "---\nvariants:\n  x: a\n  bsky: b\n  a:b: c\n  {fedi: d, li: e}\n---\n";
        let s = split(src).unwrap();
        assert_eq!(
            key_lines_of(&s, &["x", "bsky", "a:b", "fedi", "li", "nope", "a"]),
            [vec![3], vec![4], vec![5], vec![6], vec![6], vec![], vec![5]]
        );
        assert_eq!(key_lines(&s, "bsky"), [4]);
    }
}
