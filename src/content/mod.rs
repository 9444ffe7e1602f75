//! Post files: frontmatter plus a Markdown body, parsed into a [`Post`].
//!
//! Parsing goes split → deserialize → check, as zola does: syntax errors and
//! unknown keys come from the first two steps, field problems from the last,
//! each located at the line of the key in the file.

pub mod files;
pub mod frontmatter;
pub mod time;

use crate::config::{Config, VISIBILITIES};
use crate::diag::{Diagnostic, Pos, suggest};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use frontmatter::Format;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Post files larger than this are refused before they are read.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Keys a post's frontmatter may hold.
pub const KEYS: &[&str] = &[
    "id",
    "title",
    "at",
    "to",
    "status",
    "queue",
    "position",
    "media",
    "variants",
    "thread",
    "lang",
    "cw",
    "visibility",
    "reply_to",
];

/// Whether a post may be published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Never published.
    Draft,
    #[default]
    Ready,
    /// Taken back: deleted wherever it was published, published nowhere else.
    Withdrawn,
}

/// How the body is cut into thread parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ThreadMode {
    /// One post.
    #[default]
    Off,
    /// Parts at lines holding only `---`.
    On,
    /// Parts at `---`, and parts too long for a platform split and numbered.
    Auto,
}

/// An image or video attached to a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaRef {
    /// The path as written in the frontmatter.
    pub path: String,
    pub alt: Option<String>,
    #[serde(skip)]
    pub pos: Pos,
}

/// Text that replaces the body for one account or platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// An account name or a platform name.
    pub key: String,
    pub text: String,
    #[serde(skip)]
    pub pos: Pos,
}

/// The scheduled time of a post.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct At {
    pub instant: DateTime<Utc>,
    /// The text as written.
    pub written: String,
}

/// A parsed post file.
#[derive(Clone, Debug, Serialize)]
pub struct Post {
    pub path: PathBuf,
    pub id: String,
    /// True when the file has no `id` and the file name stands in for it.
    pub id_from_file_name: bool,
    pub title: Option<String>,
    pub at: Option<At>,
    pub to: Vec<String>,
    pub status: Status,
    pub queue: Option<String>,
    pub position: Option<i64>,
    pub media: Vec<MediaRef>,
    pub variants: Vec<Variant>,
    pub thread: ThreadMode,
    pub lang: Vec<String>,
    pub cw: Option<String>,
    pub visibility: Option<String>,
    pub reply_to: Option<String>,
    pub body: String,
    /// File position of the first body byte.
    #[serde(skip)]
    pub body_pos: Pos,
    /// Where each top-level key is written.
    #[serde(skip)]
    pub key_pos: BTreeMap<String, Pos>,
}

impl Post {
    /// A hash of what gets published (text, variants, media, thread mode,
    /// content warning), not of when or where: a renamed or rescheduled post
    /// keeps it, an edited one does not.
    pub fn content_hash(&self) -> String {
        let mut s = String::new();
        s.push_str(self.body.trim());
        for v in &self.variants {
            s.push_str(&format!("\u{1f}variant:{}={}", v.key, v.text.trim()));
        }
        for m in &self.media {
            s.push_str(&format!(
                "\u{1f}media:{}|{}",
                m.path,
                m.alt.as_deref().unwrap_or("")
            ));
        }
        s.push_str(&format!(
            "\u{1f}thread:{:?}\u{1f}cw:{}",
            self.thread,
            self.cw.as_deref().unwrap_or("")
        ));
        format!("{:032x}", xxhash_rust::xxh3::xxh3_128(s.as_bytes()))
    }

    /// The position of a frontmatter key, or the top of the file.
    pub fn pos_of(&self, key: &str) -> Pos {
        self.key_pos.get(key).copied().unwrap_or(Pos::line(1))
    }
}

/// A scalar written as a string, number, bool or (TOML) datetime, kept as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(v.to_string()))
            }
            // TOML datetimes arrive as a one-entry map holding their text.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                let mut out = None;
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    if k.contains("datetime") {
                        out = Some(v);
                    }
                }
                out.map(Text)
                    .ok_or_else(|| de::Error::custom("expected a string, found a table"))
            }
        }
        d.deserialize_any(V)
    }
}

/// One value or a list of values; a single string may also be comma-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct List(Vec<String>);

impl<'de> Deserialize<'de> for List {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: errors raised inside it keep
        // their place in the file, and YAML syntax errors are not replaced.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = List;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name or a list of names")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<List, E> {
                Ok(List(split_names(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<List, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<List, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<List, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<List, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<List, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(t)) = seq.next_element()? {
                    out.extend(split_names(&t));
                }
                Ok(List(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Names in a comma-separated string.
fn split_names(s: &str) -> Vec<String> {
    s.split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, expecting = "a media item with `path` and `alt`")]
struct RawMedia {
    path: Text,
    #[serde(default)]
    alt: Option<Text>,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct RawThread(ThreadMode);

impl<'de> Deserialize<'de> for RawThread {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked inside the visitor so that an error keeps its place in the file.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawThread;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true, false or auto")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawThread, E> {
                self.visit_str(if v { "true" } else { "false" })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawThread, E> {
                match v.to_ascii_lowercase().as_str() {
                    "false" | "no" | "off" => Ok(RawThread(ThreadMode::Off)),
                    "true" | "yes" | "on" => Ok(RawThread(ThreadMode::On)),
                    "auto" => Ok(RawThread(ThreadMode::Auto)),
                    other => Err(E::custom(format!(
                        "`thread` must be true, false or auto, not `{other}`"
                    ))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, Default)]
#[serde(
    deny_unknown_fields,
    expecting = "frontmatter keys with values, such as `id: launch`"
)]
struct RawPost {
    id: Option<Text>,
    title: Option<Text>,
    at: Option<Text>,
    to: Option<List>,
    status: Option<Text>,
    queue: Option<Text>,
    position: Option<i64>,
    #[serde(default)]
    media: Vec<RawMedia>,
    #[serde(default)]
    variants: BTreeMap<String, Text>,
    thread: Option<RawThread>,
    lang: Option<List>,
    cw: Option<Text>,
    visibility: Option<Text>,
    reply_to: Option<Text>,
}

/// The outcome of parsing one file: the post when it could be read, and
/// every problem found on the way.
#[derive(Debug, Default)]
pub struct Parsed {
    pub post: Option<Post>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a post file, refusing huge, empty and non-UTF-8 files with a clear error.
pub fn read_post_file(path: &Path) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::error(path, Pos::line(1), format!("cannot read the file: {e}")))?;
    if meta.is_dir() {
        return Err(Diagnostic::error(
            path,
            Pos::line(1),
            "is a directory, not a post file",
        ));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            path,
            Pos::line(1),
            format!(
                "the file is {:.1} MiB; post files are limited to {} MiB",
                meta.len() as f64 / (1024.0 * 1024.0),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .with_help("keep only the post's text here and attach images or videos with `media`"));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::error(path, Pos::line(1), format!("cannot read the file: {e}")))?;
    decode(path, bytes)
}

/// Checks that `bytes` is UTF-8 text, pointing at the first bad byte.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let good = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            let prefix = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let pos = Pos::of_offset(prefix, prefix.len(), Pos::line(1));
            Err(Diagnostic::error(
                path,
                pos,
                format!(
                    "the file is not UTF-8 text (invalid byte 0x{:02X} at byte {good})",
                    bytes[good]
                ),
            )
            .with_help("save the file as UTF-8"))
        }
    }
}

/// Parses a post from its text. `tz` is the project timezone for `at`.
///
/// The phases: the frontmatter block (split, nesting, unknown keys), its
/// fields, then each field's meaning (identity, time and status, media,
/// variants, the other attributes). A problem in one field is reported and
/// the others are still read, so that one run shows every problem.
pub fn parse_post(path: &Path, src: &str, tz: Tz) -> Parsed {
    let mut out = Parsed::default();
    let diags = &mut out.diagnostics;
    let Some(block) = read_block(path, src, diags) else {
        return out;
    };
    let split = block.split();
    let raw: RawPost = match fields(path, &split) {
        Ok(r) => r,
        Err(d) => {
            diags.push(d);
            return out;
        }
    };
    let key_pos: BTreeMap<String, Pos> = block.keys.iter().cloned().collect();
    let at_pos = |k: &str| key_pos.get(k).copied().unwrap_or(split.frontmatter_pos);

    let (id, id_from_file_name) = identity(path, raw.id, &split, &at_pos, diags);
    let at = time_of(path, raw.at, tz, at_pos("at"), diags);
    let status = status_of(path, raw.status, at_pos("status"), diags);
    let media = media_refs(&split, raw.media, at_pos("media"));
    let variants = variant_texts(&split, raw.variants, at_pos("variants"));
    let visibility = visibility_of(path, raw.visibility, at_pos("visibility"), diags);
    let lang = languages(path, raw.lang, at_pos("lang"), diags);
    if let Some(p) = raw.position
        && raw.queue.is_none()
    {
        diags.push(Diagnostic::warning(
            path,
            at_pos("position"),
            format!("`position: {p}` only matters for a post in a queue"),
        ));
    }

    out.post = Some(Post {
        path: path.to_path_buf(),
        id,
        id_from_file_name,
        title: raw.title.map(|t| t.0),
        at,
        to: raw.to.map(|l| l.0).unwrap_or_default(),
        status,
        queue: raw.queue.map(|q| q.0),
        position: raw.position,
        media,
        variants,
        thread: raw.thread.map(|t| t.0).unwrap_or_default(),
        lang,
        cw: raw.cw.map(|c| c.0).filter(|c| !c.trim().is_empty()),
        visibility,
        reply_to: raw.reply_to.map(|r| r.0.trim().to_string()),
        body: split.body.to_string(),
        body_pos: split.body_pos,
        key_pos,
    });
    out
}

/// A post's frontmatter block, ready for its fields to be read: the keys
/// the post may have, with their lines; an unknown key's entry blanked out
/// (lines kept, so positions hold) after its error is reported.
struct Block<'a> {
    split: frontmatter::Split<'a>,
    /// The block with unknown entries blanked, when there were any.
    cleaned: Option<String>,
    /// Known top-level keys and where each is.
    keys: Vec<(String, Pos)>,
}

impl Block<'_> {
    fn split(&self) -> frontmatter::Split<'_> {
        frontmatter::Split {
            format: self.split.format,
            frontmatter: self.cleaned.as_deref().unwrap_or(self.split.frontmatter),
            frontmatter_pos: self.split.frontmatter_pos,
            body: self.split.body,
            body_pos: self.split.body_pos,
        }
    }
}

/// Phase 1: the frontmatter block. `None` when there is no post to read
/// (an empty file, delimiters that do not close, nesting too deep).
fn read_block<'a>(path: &Path, src: &'a str, diags: &mut Vec<Diagnostic>) -> Option<Block<'a>> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    if src.trim().is_empty() {
        diags.push(
            Diagnostic::error(path, Pos::line(1), "the file is empty")
                .with_help("write a post: frontmatter between `---` lines, then the text"),
        );
        return None;
    }
    let split = match frontmatter::split(src) {
        Ok(s) => s,
        Err(e) => {
            diags.push(located(path, e));
            return None;
        }
    };
    // Before any parser sees the block: deep nesting costs the YAML parser
    // time quadratic in the depth.
    if let Err(e) = frontmatter::check_nesting(&split) {
        diags.push(located(path, e));
        return None;
    }
    let keys = frontmatter::top_level_keys(&split);
    // Unknown keys first: one message per key, each with a suggestion.
    let mut unknown: Vec<(String, Pos)> = keys
        .iter()
        .filter(|(k, _)| !KEYS.contains(&k.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        // A line of a multi-line value can look like a key: keep the keys the
        // parser confirms. A block that does not parse gets its syntax error below.
        let parsed = frontmatter::parsed_top_level_keys(&split).unwrap_or_default();
        unknown.retain(|(k, _)| parsed.contains(k));
    }
    for (k, pos) in &unknown {
        let help = suggest(k, KEYS.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| format!("known keys: {}", KEYS.join(", ")));
        diags.push(Diagnostic::error(path, *pos, format!("unknown key `{k}`")).with_help(help));
    }
    // The rest of the post is still read, without the unknown entries.
    let cleaned =
        (!unknown.is_empty()).then(|| frontmatter::blank_entries(&split, &keys, &unknown));
    let dropped: std::collections::HashSet<&str> =
        unknown.iter().map(|(k, _)| k.as_str()).collect();
    let keys = keys
        .iter()
        .filter(|(k, _)| !dropped.contains(k.as_str()))
        .cloned()
        .collect();
    Some(Block {
        split,
        cleaned,
        keys,
    })
}

/// Phase 2: the fields, by the block's format; a type error names its key
/// and place.
fn fields(path: &Path, split: &frontmatter::Split<'_>) -> Result<RawPost, Diagnostic> {
    frontmatter::deserialize(split).map_err(|e| {
        let mut d = located(path, e);
        if let Some((m, help)) = crate::config::unknown_key_message(&d.message, KEYS) {
            let key = m
                .trim_start_matches("unknown key `")
                .trim_end_matches('`')
                .to_string();
            if ["path", "alt"].iter().any(|k| d.message.contains(k))
                && !KEYS.contains(&key.as_str())
            {
                // An unknown key inside a media item.
                d.message = format!("unknown media key `{key}`");
                d.help = Some(
                    suggest(&key, ["path", "alt"])
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| "a media item has `path` and `alt`".into()),
                );
            } else {
                d.message = m;
                d.help = help;
            }
        }
        d
    })
}

/// The post's id: its `id`, else the file name (with a warning, since
/// renaming the file would then change the post's identity).
fn identity(
    path: &Path,
    id: Option<Text>,
    split: &frontmatter::Split<'_>,
    at_pos: &dyn Fn(&str) -> Pos,
    diags: &mut Vec<Diagnostic>,
) -> (String, bool) {
    // A pseudo-path such as `<stdin>` names no file: the name inside stands
    // in, and there is no file to rename.
    let pseudo = path.to_string_lossy().starts_with('<');
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("post")
        .trim_matches(['<', '>'])
        .to_string();
    let (id, id_from_file_name) = match id {
        Some(Text(id)) => (id.trim().to_string(), false),
        None => (stem, true),
    };
    if let Err(m) = check_id(&id) {
        diags.push(if id_from_file_name {
            Diagnostic::error(
                path,
                Pos::line(1),
                format!("the file name is not a valid post id: {m}"),
            )
            .with_help("add an `id:` key to the frontmatter")
        } else {
            Diagnostic::error(path, at_pos("id"), m)
        });
    } else if id_from_file_name && !pseudo {
        let help = if split.format == Format::None {
            format!(
                "start the file with frontmatter holding its id (`---`, `id: {id}`, `---`) so that renaming the file keeps the post's identity"
            )
        } else {
            format!("add `id: {id}` so that renaming the file keeps the post's identity")
        };
        diags.push(
            Diagnostic::warning(
                path,
                split.frontmatter_pos,
                format!("no `id`: the file name `{id}` stands in for it"),
            )
            .with_help(help),
        );
    }
    (id, id_from_file_name)
}

/// `at` as an instant in the project timezone (with a warning when the
/// local time was ambiguous).
fn time_of(
    path: &Path,
    at: Option<Text>,
    tz: Tz,
    pos: Pos,
    diags: &mut Vec<Diagnostic>,
) -> Option<At> {
    let Text(s) = at?;
    match time::parse_at(&s, tz) {
        Ok(p) => {
            if let Some(w) = p.warning {
                diags.push(Diagnostic::warning(path, pos, w));
            }
            Some(At {
                instant: p.instant,
                written: s,
            })
        }
        Err(m) => {
            diags.push(Diagnostic::error(path, pos, m));
            None
        }
    }
}

/// `status`: ready unless it says draft; an unknown one is an error (and
/// the post is kept a draft).
fn status_of(path: &Path, status: Option<Text>, pos: Pos, diags: &mut Vec<Diagnostic>) -> Status {
    match status.map(|t| t.0.to_ascii_lowercase()) {
        None => Status::Ready,
        Some(s) if s == "ready" => Status::Ready,
        Some(s) if s == "draft" => Status::Draft,
        Some(s) if s == "withdrawn" => Status::Withdrawn,
        Some(s) => {
            diags.push(
                Diagnostic::error(path, pos, format!("unknown status `{s}`"))
                    .with_help(
                        "use `draft` (never published), `ready`, or `withdrawn` (deleted wherever it was published)",
                    ),
            );
            Status::Draft
        }
    }
}

/// The media items, each at the line of its `path`.
fn media_refs(split: &frontmatter::Split<'_>, media: Vec<RawMedia>, pos: Pos) -> Vec<MediaRef> {
    let lines = frontmatter::key_lines(split, "path");
    media
        .into_iter()
        .enumerate()
        .map(|(i, m)| MediaRef {
            path: m.path.0,
            alt: m.alt.map(|a| a.0).filter(|a| !a.trim().is_empty()),
            pos: lines.get(i).map(|l| Pos::line(*l)).unwrap_or(pos),
        })
        .collect()
}

/// The variants, each at the line of its key below `variants`.
fn variant_texts(
    split: &frontmatter::Split<'_>,
    variants: BTreeMap<String, Text>,
    pos: Pos,
) -> Vec<Variant> {
    let keys: Vec<&str> = variants.keys().map(String::as_str).collect();
    let lines = frontmatter::key_lines_of(split, &keys);
    variants
        .into_iter()
        .zip(lines)
        .map(|((key, text), lines)| {
            let line = lines
                .into_iter()
                .find(|l| *l > pos.line)
                .unwrap_or(pos.line);
            Variant {
                key,
                text: text.0,
                pos: Pos::line(line),
            }
        })
        .collect()
}

/// `visibility`, lowercased; an unknown one is an error.
fn visibility_of(
    path: &Path,
    v: Option<Text>,
    pos: Pos,
    diags: &mut Vec<Diagnostic>,
) -> Option<String> {
    let v = v.map(|v| v.0.to_ascii_lowercase());
    if let Some(v) = &v
        && !VISIBILITIES.contains(&v.as_str())
    {
        diags.push(
            Diagnostic::error(path, pos, format!("unknown visibility `{v}`"))
                .with_help(format!("use one of: {}", VISIBILITIES.join(", "))),
        );
    }
    v
}

/// `lang`: language tags, each checked for its shape.
fn languages(
    path: &Path,
    lang: Option<List>,
    pos: Pos,
    diags: &mut Vec<Diagnostic>,
) -> Vec<String> {
    let lang = lang.map(|l| l.0).unwrap_or_default();
    for l in &lang {
        if !looks_like_language_tag(l) {
            diags.push(
                Diagnostic::error(path, pos, format!("`{l}` is not a language tag"))
                    .with_help("use a BCP 47 tag such as `en`, `de` or `pt-BR`"),
            );
        }
    }
    lang
}

fn located(path: &Path, e: frontmatter::FrontmatterError) -> Diagnostic {
    let mut d = Diagnostic::error(path, e.pos, e.message);
    d.help = e.help;
    d
}

/// Checks a post id: lowercase letters, digits, `-`, `_` and `.`, up to 100 characters.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the post id is empty".into());
    }
    if id.len() > 100 {
        return Err(format!(
            "the post id is {} characters long; keep it under 100",
            id.len()
        ));
    }
    let ok = id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a valid post id: use lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit"
        ))
    }
}

fn looks_like_language_tag(l: &str) -> bool {
    let mut parts = l.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The accounts a post goes to: its `to`, else its queue's accounts, else the defaults.
pub fn target_accounts(post: &Post, config: &Config) -> Vec<String> {
    if !post.to.is_empty() {
        return post.to.clone();
    }
    if let Some(q) = post.queue.as_ref().and_then(|q| config.queues.get(q)) {
        return q.accounts.clone();
    }
    config.defaults.to.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Parsed {
        parse_post(Path::new("posts/a.md"), src, Tz::UTC)
    }

    #[test]
    fn parses_the_design_example() {
        let p = parse(
            "---\nid: 2026-12-01-launch\nat: 2026-12-01 09:00\nto: [bsky, fedi, x]\nmedia:\n  - path: media/screenshot.png\n    alt: The dashboard\nvariants:\n  x: Launch day!\nthread: true\n---\nHello\n",
        );
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let post = p.post.unwrap();
        assert_eq!(post.id, "2026-12-01-launch");
        assert_eq!(post.to, ["bsky", "fedi", "x"]);
        assert_eq!(post.media[0].pos.line, 6);
        assert_eq!(post.variants[0].pos.line, 9);
        assert_eq!(post.thread, ThreadMode::On);
        assert_eq!(post.body_pos.line, 12);
    }

    #[test]
    fn toml_frontmatter_with_a_datetime() {
        let p = parse("+++\nid = \"a\"\nat = 2026-12-01T09:00:00Z\nto = [\"bsky\"]\n+++\nHi\n");
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        assert_eq!(
            p.post.unwrap().at.unwrap().instant.to_rfc3339(),
            "2026-12-01T09:00:00+00:00"
        );
    }

    #[test]
    fn unknown_key_gets_a_suggestion_at_its_line() {
        let p = parse("---\nid: a\nat_time: 2026-12-01 09:00\n---\nHi\n");
        let d = &p.diagnostics[0];
        assert_eq!((d.line, d.message.as_str()), (3, "unknown key `at_time`"));
        assert_eq!(d.help.as_deref(), Some("did you mean `at`?"));
    }

    #[test]
    fn type_errors_point_at_the_key() {
        let p = parse("---\nid: a\nmedia: 12\n---\nHi\n");
        assert_eq!(p.diagnostics[0].line, 3, "{:?}", p.diagnostics);
    }

    #[test]
    fn to_accepts_a_comma_separated_string() {
        let p = parse("---\nid: a\nto: bsky, fedi\n---\nHi\n");
        assert_eq!(p.post.unwrap().to, ["bsky", "fedi"]);
    }
}
