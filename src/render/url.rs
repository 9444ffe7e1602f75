//! URL and mention detection as X (twitter-text) and Mastodon do it.
//!
//! A hand-written, linear scanner that follows twitter-text's `extractUrl`
//! regular expression and `extractUrlsWithIndices` (the JavaScript
//! reference, github.com/twitter/twitter-text `js/src/`), and Mastodon's
//! variant of it (`config/initializers/twitter_regex.rb`, the twitter-text
//! Ruby gem's extractor and `Account::MENTION_RE`, as used by
//! `StatusLengthValidator`). The expression is matched the way a
//! backtracking engine would (leftmost start, first alternative that
//! completes), without backtracking: for every start position the domain
//! chain is computed once and shared by the positions that would re-scan it,
//! so the work stays linear in the length of the text.
//!
//! Top-level domains come from the public suffix list (the `psl` crate), see
//! [`is_tld`]. Every range is a UTF-8 byte range into the scanned text.

use std::ops::Range;

/// Whose rules a scan follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rules {
    /// twitter-text v3 (X).
    Twitter,
    /// Mastodon's `Twitter::TwitterText::Regex[:valid_url]` override.
    Mastodon,
}

/// The URLs X counts in `text` (23 weighted characters each): with or
/// without `http(s)://`, a domain under a real top-level domain.
pub fn twitter_urls(text: &str) -> Vec<Range<usize>> {
    scan(text, Rules::Twitter, true)
}

/// The URLs twitter-text finds in `text` when a protocol is required.
pub fn twitter_urls_with_protocol(text: &str) -> Vec<Range<usize>> {
    scan(text, Rules::Twitter, false)
}

/// The URLs Mastodon's `StatusLengthValidator` counts as `url_weight`: only
/// with a protocol (`http(s)`, `dat`, `dweb`, `ipfs`, `ipns`, `ssb`,
/// `gopher`, `gemini`), a domain under a real top-level domain, and a path
/// that runs to the next white space (minus trailing punctuation).
pub fn mastodon_urls(text: &str) -> Vec<Range<usize>> {
    scan(text, Rules::Mastodon, false)
}

/// A mention as Mastodon finds it: `@user` or `@user@domain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// The whole mention, `@` included.
    pub range: Range<usize>,
    /// Where `@user` ends (the start of `@domain`, or `range.end`).
    pub user_end: usize,
}

/// Mentions by Mastodon's `Account::MENTION_RE`
/// (`(?<![=/[:word:]])@(([a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?)(?:@[[:word:].-]+[[:word:]]+)?)`)
/// with twitter-text's `end_mention_match` filter (no `@`, Latin accent or
/// `://` right after).
pub fn mastodon_mentions(text: &str) -> Vec<Mention> {
    let mut out = Vec::new();
    if !text.contains('@') {
        return out;
    }
    let bytes = text.as_bytes();
    let mut search = 0;
    while let Some(at) = text[search..].find('@').map(|p| p + search) {
        let prev = text[..at].chars().next_back();
        if prev.is_some_and(|p| p == '=' || p == '/' || is_word(p)) {
            search = at + 1;
            continue;
        }
        let user_start = at + 1;
        let run = bytes[user_start..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
            .map_or(bytes.len(), |p| p + user_start);
        let user_end = user_start + text[user_start..run].trim_end_matches(['.', '-']).len();
        if user_end == user_start || matches!(bytes[user_start], b'.' | b'-') {
            search = at + 1;
            continue;
        }
        let mut end = user_end;
        if bytes.get(user_end) == Some(&b'@') {
            let dom_start = user_end + 1;
            let dom_run = text[dom_start..]
                .char_indices()
                .find(|&(_, c)| !(is_word(c) || c == '.' || c == '-'))
                .map_or(text.len(), |(p, _)| p + dom_start);
            let domain = text[dom_start..dom_run].trim_end_matches(['.', '-']);
            if domain.chars().nth(1).is_some() {
                end = dom_start + domain.len();
            }
        }
        let after = &text[end..];
        let rejected = after.starts_with(['@', '＠'])
            || after.starts_with("://")
            || after.chars().next().is_some_and(is_latin_accent);
        if !rejected {
            out.push(Mention {
                range: at..end,
                user_end,
            });
        }
        search = end;
    }
    out
}

/// Ruby's `[[:word:]]`: letters, marks, decimal numbers, connector
/// punctuation (approximated: Rust's alphanumerics, `_` and the common
/// combining-mark blocks).
fn is_word(c: char) -> bool {
    c.is_alphanumeric()
        || c == '_'
        || matches!(c as u32, 0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD
            | 0x0610..=0x061A | 0x064B..=0x065F | 0x0900..=0x0903 | 0x093A..=0x094F
            | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
            | 0x203F | 0x2040 | 0x2054 | 0xFE33 | 0xFE34 | 0xFE4D..=0xFE4F | 0xFF3F)
}

/// twitter-text's `latinAccentChars`.
fn is_latin_accent(c: char) -> bool {
    matches!(c as u32,
        0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0xFF | 0x0100..=0x024F | 0x0253 | 0x0254
        | 0x0256 | 0x0257 | 0x0259 | 0x025B | 0x0263 | 0x0268 | 0x026F | 0x0272
        | 0x0289 | 0x028B | 0x02BB | 0x0300..=0x036F | 0x1E00..=0x1EFF)
}

fn is_cyrillic(c: char) -> bool {
    matches!(c as u32, 0x0400..=0x04FF)
}

/// `invalidCharsGroup`: characters a post may not contain.
pub fn is_invalid_char(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

fn is_directional(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `spacesGroup`.
fn is_space(c: char) -> bool {
    matches!(c, '\u{09}'..='\u{0D}' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{180E}'
        | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

/// `validUrlPrecedingChars`: what may stand right before a URL.
fn is_url_preceding(c: char) -> bool {
    !(c.is_ascii_alphanumeric() || matches!(c, '@' | '＠' | '$' | '#' | '＃') || is_invalid_char(c))
        || is_directional(c)
}

/// `validDomainChars`: anything but punctuation, spaces, control,
/// invalid and directional characters (the Ruby gem's set, which also
/// excludes `"` and `` ` ``).
fn is_domain_char(c: char) -> bool {
    // ASCII is control, space, punctuation or alphanumeric.
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    !(c.is_ascii_punctuation()
        || c.is_ascii_control()
        || c == '\u{7F}'
        || is_space(c)
        || is_invalid_char(c)
        || is_directional(c))
}

/// A label character: a domain character, or `-` / `_` inside a label.
fn is_label_char(c: char) -> bool {
    c == '-' || c == '_' || is_domain_char(c)
}

/// Whether `label` (lower case, no dot) is a top-level domain.
///
/// The public suffix list's ICANN section holds every delegated top-level
/// domain (IANA's root zone), in Unicode and punycode forms. twitter-text
/// ships its own list (`tld_lib.yml`, conformance `tlds.yml`), which still
/// holds a few domains since retired from the root zone (and `onion`, a
/// special-use name); X recognises those, so for them the conformance suite
/// wins over the crate: [`TWITTER_ONLY_TLDS`]. The crate, being newer, also
/// knows a few top-level domains twitter-text lacks; those count as URLs
/// here, as they will once X updates its list.
pub fn is_tld(label: &str) -> bool {
    if label.is_empty() || label.len() > 63 {
        return false;
    }
    if TWITTER_ONLY_TLDS.binary_search(&label).is_ok() {
        return true;
    }
    // `a.<label>`: a wildcard rule (`*.ck`) has no rule for the bare label.
    let mut buf = [0u8; 66];
    buf[..2].copy_from_slice(b"a.");
    buf[2..2 + label.len()].copy_from_slice(label.as_bytes());
    psl::Psl::suffix(&psl::List, &buf[..2 + label.len()])
        .is_some_and(|s| s.is_known() && s.typ() == Some(psl::Type::Icann))
}

/// Top-level domains in twitter-text's list (conformance `tlds.yml`) for
/// which the public suffix list has no rule: brand and city domains since
/// withdrawn from the root zone, retired or reserved country codes (`an`,
/// `tp`, `bl`, `bq`, `eh`, `mf`, `um`), and `za`, which the list knows
/// only through its second-level rules (`co.za`, ...). X still links
/// them, so its conformance suite wins. Sorted by bytes (binary search).
const TWITTER_ONLY_TLDS: &[&str] = &[
    "abarth",
    "active",
    "adac",
    "afamilycompany",
    "aigo",
    "alfaromeo",
    "an",
    "avianca",
    "bananarepublic",
    "bentley",
    "bl",
    "blanco",
    "bnl",
    "boots",
    "bq",
    "budapest",
    "bugatti",
    "cancerresearch",
    "cartier",
    "caseih",
    "cbs",
    "ceb",
    "chloe",
    "chrysler",
    "cityeats",
    "comcast",
    "cookingchannel",
    "csc",
    "dabur",
    "dodge",
    "doha",
    "doosan",
    "duck",
    "dunlop",
    "duns",
    "eh",
    "epost",
    "esurance",
    "etisalat",
    "everbank",
    "fiat",
    "flsmidth",
    "foodnetwork",
    "frontdoor",
    "fujixerox",
    "glade",
    "goo",
    "goodhands",
    "guardian",
    "helsinki",
    "hgtv",
    "honeywell",
    "hoteles",
    "htc",
    "iinet",
    "intel",
    "iselect",
    "iveco",
    "iwc",
    "jcp",
    "jlc",
    "juniper",
    "kerrylogistics",
    "kinder",
    "ladbrokes",
    "lancaster",
    "lancia",
    "lancome",
    "liaison",
    "linde",
    "lipsy",
    "lixil",
    "loft",
    "lupin",
    "macys",
    "maserati",
    "mcd",
    "mcdonalds",
    "meo",
    "metlife",
    "mf",
    "mobily",
    "montblanc",
    "mopar",
    "movistar",
    "mtpc",
    "mutual",
    "mutuelle",
    "nadex",
    "nationwide",
    "natura",
    "newholland",
    "northwesternmutual",
    "off",
    "oldnavy",
    "onyourside",
    "orientexpress",
    "pamperedchef",
    "panerai",
    "passagens",
    "piaget",
    "pramerica",
    "qvc",
    "raid",
    "redstone",
    "rightathome",
    "rmit",
    "rocher",
    "sapo",
    "sca",
    "scjohnson",
    "scor",
    "ses",
    "shaw",
    "showtime",
    "shriram",
    "spiegel",
    "spreadbetting",
    "srt",
    "starhub",
    "statoil",
    "swiftcover",
    "symantec",
    "telecity",
    "telefonica",
    "tiffany",
    "tp",
    "travelchannel",
    "uconnect",
    "um",
    "vermögensberater",
    "vermögensberatung",
    "vista",
    "vistaprint",
    "volkswagen",
    "vuelos",
    "warman",
    "wolterskluwer",
    "xfinity",
    "xperia",
    "za",
    "zippo",
    "اتصالات",
    "موبايلي",
    "大众汽车",
    "工行",
    "手表",
    "珠宝",
    "诺基亚",
];

/// A top-level domain at `p` (twitter-text's `validGTLD | validCCTLD |
/// validPunycode`, with its look-ahead `(?=[^0-9a-z@+-]|$)`), reading no
/// further than `limit`. Returns where it ends.
fn tld_at(text: &str, p: usize, limit: usize, rules: Rules) -> Option<usize> {
    let rest = &text[p..limit];
    let first = rest.chars().next()?;
    let lookahead_ok = |c: Option<char>| {
        c.is_none_or(|c| !(c.is_ascii_alphanumeric() || matches!(c, '@' | '+' | '-')))
    };
    if first.is_ascii_alphanumeric() || (!first.is_ascii() && is_domain_char(first)) {
        // Candidates end where the look-ahead allows; the longest that is
        // a top-level domain wins (the reference lists longer names before
        // their prefixes). Names mix scripts: `vermögensberatung`.
        let mut ends = [0usize; 32];
        let mut count = 0;
        for (i, c) in rest.char_indices() {
            let name_char = c.is_ascii_alphanumeric() || (!c.is_ascii() && is_domain_char(c));
            if !name_char || count == ends.len() {
                break;
            }
            ends[count] = i + c.len_utf8();
            count += 1;
        }
        // Candidates are prefixes of the longest: an ASCII name (at most
        // 32 bytes) is lowered once, on the stack.
        let name = &rest[..ends[..count].last().copied().unwrap_or(0)];
        let mut ascii = [0u8; 32];
        let is_ascii = name.is_ascii();
        if is_ascii {
            for (to, b) in ascii.iter_mut().zip(name.bytes()) {
                *to = b.to_ascii_lowercase();
            }
        }
        let mut lower = String::new();
        for &e in ends[..count].iter().rev() {
            if !lookahead_ok(rest[e..].chars().next()) {
                continue;
            }
            let candidate = if is_ascii {
                std::str::from_utf8(&ascii[..e]).unwrap_or_default()
            } else {
                lower.clear();
                lower.extend(rest[..e].chars().flat_map(char::to_lowercase));
                &lower
            };
            if is_tld(candidate) {
                return Some(p + e);
            }
        }
    }
    // `xn--[\-0-9a-z]+` (the Ruby gem: `xn--[0-9a-z]+`), no look-ahead.
    if rest.len() > 4 && rest.as_bytes()[..4].eq_ignore_ascii_case(b"xn--") {
        let n = rest.as_bytes()[4..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || (b == b'-' && rules == Rules::Twitter)))
            .unwrap_or(rest.len() - 4);
        if n > 0 {
            return Some(p + 4 + n);
        }
    }
    None
}

/// One label of a domain chain: `[start, end)` followed by a dot.
struct Label {
    start: usize,
    end: usize,
    /// The last `_` in the label (a domain name, unlike a subdomain, may
    /// not contain one).
    last_underscore: Option<usize>,
    /// Where a top-level domain right after this label's dot ends.
    tld_end: Option<usize>,
    /// The domain end when a later label is the domain name (the regex
    /// prefers the most subdomains).
    later: Option<usize>,
}

/// The domain chains computed so far (see the module comment).
#[derive(Default)]
struct DomainCache {
    labels: Vec<Label>,
    /// Positions known to start no domain (a label not followed by a dot).
    dead: Range<usize>,
    cursor: usize,
}

/// Scans a label from `p`: its end and last underscore, or None when it is
/// not a valid label (must start and end with a domain character).
fn scan_label(text: &str, p: usize) -> (usize, Option<usize>, bool) {
    let mut end = p;
    let mut last_us = None;
    let mut last_char = None;
    // ASCII label characters byte by byte, the rest char by char.
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(end) {
        if !(b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            break;
        }
        if b == b'_' {
            last_us = Some(end);
        }
        last_char = Some(b as char);
        end += 1;
    }
    let from = end;
    for (i, c) in text[from..].char_indices() {
        if !is_label_char(c) {
            break;
        }
        if c == '_' {
            last_us = Some(from + i);
        }
        end = from + i + c.len_utf8();
        last_char = Some(c);
    }
    let first_ok = text[p..].chars().next().is_some_and(is_domain_char);
    let valid = first_ok && last_char.is_some_and(is_domain_char);
    (end, last_us, valid)
}

impl DomainCache {
    /// `validSubdomain* validDomainName (gTLD | ccTLD | punycode)` at `d`
    /// (whose character is a domain character): where the domain ends.
    fn domain_at(&mut self, text: &str, d: usize, rules: Rules) -> Option<usize> {
        if self.dead.contains(&d) {
            return None;
        }
        let inside = self
            .labels
            .first()
            .is_some_and(|f| f.start <= d && d < self.labels.last().map_or(0, |l| l.end));
        if !inside {
            self.build(text, d, rules);
            if self.dead.contains(&d) || self.labels.is_empty() {
                return None;
            }
            self.cursor = 0;
        }
        if self.labels[self.cursor].start > d {
            self.cursor = 0;
        }
        while self.labels[self.cursor].end <= d {
            self.cursor += 1;
        }
        let m = &self.labels[self.cursor];
        if d < m.start {
            // On a dot between labels: not a domain character.
            return None;
        }
        m.later.or_else(|| {
            m.tld_end
                .filter(|_| m.last_underscore.is_none_or(|u| u < d))
        })
    }

    fn build(&mut self, text: &str, d: usize, rules: Rules) {
        self.labels.clear();
        let bytes = text.as_bytes();
        let mut p = d;
        loop {
            let (end, last_underscore, valid) = scan_label(text, p);
            if !valid || bytes.get(end) != Some(&b'.') {
                if self.labels.is_empty() {
                    self.dead = d..end.max(d + 1);
                }
                break;
            }
            self.labels.push(Label {
                start: p,
                end,
                last_underscore,
                tld_end: tld_at(text, end + 1, text.len(), rules),
                later: None,
            });
            p = end + 1;
        }
        let mut later = None;
        for l in self.labels.iter_mut().rev() {
            l.later = later;
            if l.last_underscore.is_none() && l.tld_end.is_some() && later.is_none() {
                later = l.tld_end;
            }
        }
    }
}

/// The URL a match found, before twitter-text's checks.
struct Body {
    start: usize,
    protocol: usize,
    domain: Range<usize>,
    path: bool,
    end: usize,
}

fn protocol_at(text: &str, s: usize, rules: Rules) -> usize {
    let rest = &text.as_bytes()[s..];
    // Every scheme starts with one of these letters (`| 0x20`: lower case).
    if !rest
        .first()
        .is_some_and(|b| matches!(b | 0x20, b'h' | b'd' | b'i' | b's' | b'g'))
    {
        return 0;
    }
    let schemes: &[&[u8]] = match rules {
        Rules::Twitter => &[b"https://", b"http://"],
        Rules::Mastodon => &[
            b"https://",
            b"http://",
            b"dat://",
            b"dweb://",
            b"ipfs://",
            b"ipns://",
            b"ssb://",
            b"gopher://",
            b"gemini://",
        ],
    };
    schemes
        .iter()
        .find(|p| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p))
        .map_or(0, |p| p.len())
}

fn path_char(c: char, rules: Rules) -> bool {
    match rules {
        Rules::Twitter => {
            c.is_ascii_alphanumeric()
                || "!*';:=+,.$/%#[]-_~@|&".contains(c)
                || c == '\u{2013}'
                || is_latin_accent(c)
                || is_cyrillic(c)
        }
        Rules::Mastodon => !(c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '?')),
    }
}

fn path_ending_char(c: char, rules: Rules) -> bool {
    match rules {
        Rules::Twitter => {
            c.is_ascii_alphanumeric()
                || "+-=_#/".contains(c)
                || is_latin_accent(c)
                || is_cyrillic(c)
        }
        Rules::Mastodon => !(c.is_whitespace() || "()?!*\"'「」<>;:=,.$%[]~&|@".contains(c)),
    }
}

/// `validUrlBalancedParens` at `p` (a `(`): where it ends.
fn balanced_parens(text: &str, p: usize, rules: Rules) -> Option<usize> {
    let run = |from: usize| {
        text[from..]
            .char_indices()
            .find(|&(_, c)| !path_char(c, rules))
            .map_or(text.len(), |(i, _)| from + i)
    };
    let a = run(p + 1);
    match text.as_bytes().get(a) {
        Some(b')') if a > p + 1 => Some(a + 1),
        Some(b'(') => {
            let b = run(a + 1);
            if b == a + 1 || text.as_bytes().get(b) != Some(&b')') {
                return None;
            }
            let c = run(b + 1);
            (text.as_bytes().get(c) == Some(&b')')).then_some(c + 1)
        }
        _ => None,
    }
}

/// `validUrlPath*` from `p` (after the `/`): the longest run of path
/// characters and balanced parentheses that ends in an ending character.
fn path_end(text: &str, p: usize, rules: Rules) -> usize {
    let mut i = p;
    let mut last_end = p;
    while i < text.len() {
        let c = text[i..].chars().next().unwrap_or_default();
        if c == '(' {
            match balanced_parens(text, i, rules) {
                Some(e) => {
                    i = e;
                    last_end = e;
                }
                None => break,
            }
        } else if path_char(c, rules) {
            i += c.len_utf8();
            if path_ending_char(c, rules) {
                last_end = i;
            }
        } else {
            break;
        }
    }
    last_end
}

fn query_char(c: char, rules: Rules) -> bool {
    c.is_ascii_alphanumeric()
        || "!?*'@();:&=+$/%#[]-_.,~|".contains(c)
        || (rules == Rules::Mastodon && (c == '^' || mastodon_uchar(c)))
}

fn query_ending_char(c: char, rules: Rules) -> bool {
    c.is_ascii_alphanumeric()
        || "-_&=#/".contains(c)
        || (rules == Rules::Mastodon && mastodon_uchar(c))
}

/// Mastodon's `UCHARS` (query characters beyond ASCII).
fn mastodon_uchar(c: char) -> bool {
    let u = c as u32;
    matches!(u, 0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF | 0xE000..=0xF8FF | 0xE1000..=0xEFFFD)
        || (matches!(u, 0x10000..=0xDFFFD | 0xF0000..=0x10FFFD) && u & 0xFFFF <= 0xFFFD)
}

/// `\?validUrlQueryChars*validUrlQueryEndingChars` from `p` (after `?`).
fn query_end(text: &str, p: usize, rules: Rules) -> Option<usize> {
    let mut last = None;
    for (i, c) in text[p..].char_indices() {
        if !query_char(c, rules) {
            break;
        }
        if query_ending_char(c, rules) {
            last = Some(p + i + c.len_utf8());
        }
    }
    last
}

/// The URL (protocol, domain, port, path, query) starting at `s`.
fn body_at(text: &str, s: usize, rules: Rules, cache: &mut DomainCache) -> Option<Body> {
    let domain_from = |cache: &mut DomainCache, d: usize| {
        text[d..]
            .chars()
            .next()
            .filter(|&c| is_domain_char(c))
            .and_then(|_| cache.domain_at(text, d, rules))
    };
    let proto = protocol_at(text, s, rules);
    let (protocol, dstart, dend) =
        match (proto > 0).then(|| domain_from(cache, s + proto)).flatten() {
            Some(e) => (proto, s + proto, e),
            None => (0, s, domain_from(cache, s)?),
        };
    let bytes = text.as_bytes();
    let mut end = dend;
    if bytes.get(end) == Some(&b':') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + bytes[end + 1..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    }
    let mut path = false;
    if bytes.get(end) == Some(&b'/') {
        path = true;
        end = path_end(text, end + 1, rules);
    }
    if bytes.get(end) == Some(&b'?')
        && let Some(q) = query_end(text, end + 1, rules)
    {
        end = q;
    }
    Some(Body {
        start: s,
        protocol,
        domain: dstart..dend,
        path,
        end,
    })
}

fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// twitter-text's `idna.toAscii` check: every label, punycode-encoded,
/// 1 to 63 characters long (the Ruby gem's `IDN::Idna.toASCII` fails
/// likewise). Returns how many characters encoding adds, or None.
fn punycode_growth(domain: &str) -> Option<usize> {
    let mut growth = 0;
    for label in domain.split('.') {
        // punycode.js's toASCII also splits at the other full stops.
        let mut encoded = 0;
        for (i, part) in label
            .split(['\u{3002}', '\u{FF0E}', '\u{FF61}'])
            .enumerate()
        {
            encoded += usize::from(i > 0);
            if part.bytes().all(|b| b < 0x7F) {
                encoded += part.len();
            } else {
                encoded += 4 + idna::punycode::encode_str(part)?.len();
            }
        }
        if encoded == 0 || encoded > 63 {
            return None;
        }
        growth += encoded.saturating_sub(label.chars().count());
    }
    Some(growth)
}

const MAX_URL_LENGTH: usize = 4096;
const MAX_TCO_SLUG_LENGTH: usize = 40;

/// `validAsciiDomain` matches inside `domain` (global, left to right).
fn ascii_domains(text: &str, domain: Range<usize>, rules: Rules) -> Vec<Range<usize>> {
    let is_ascii_label = |c: char| c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c);
    let label_end = |p: usize| {
        text[p..domain.end]
            .char_indices()
            .find(|&(_, c)| !is_ascii_label(c))
            .map_or(domain.end, |(i, _)| p + i)
    };
    let mut out = Vec::new();
    let mut q = domain.start;
    while q < domain.end {
        let c = text[q..].chars().next().unwrap_or_default();
        if !is_ascii_label(c) {
            q += c.len_utf8();
            continue;
        }
        let first_end = label_end(q);
        let mut dots = Vec::new();
        let mut p = q;
        loop {
            let e = label_end(p);
            if e == p || e >= domain.end || text.as_bytes()[e] != b'.' {
                break;
            }
            dots.push(e);
            p = e + 1;
        }
        let found = dots
            .iter()
            .rev()
            .find_map(|&dot| tld_at(text, dot + 1, domain.end, rules));
        match found {
            Some(e) => {
                out.push(q..e);
                q = e;
            }
            // Every later start in this label sees the same chain.
            None => q = first_end.max(q + c.len_utf8()),
        }
    }
    out
}

/// `extractUrlsWithIndices`: every URL in `text` by `rules`.
fn scan(text: &str, rules: Rules, without_protocol: bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    // A URL without a protocol needs a dot in its domain; one with a
    // protocol (all end in `://`) needs that, and only those are kept
    // when a protocol is required.
    let needed = if without_protocol {
        text.contains('.')
    } else {
        text.contains("://")
    };
    if !needed {
        return out;
    }
    let bytes = text.as_bytes();
    let mut cache = DomainCache::default();
    let mut i = 0;
    while i <= text.len() {
        // An ASCII letter or digit precedes no URL: only the start does.
        if i > 0 && bytes.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
            continue;
        }
        let c = text[i..].chars().next();
        // `validUrlPrecedingChars`: a character (consumed), or the start.
        let mut found = None;
        if let Some(c) = c.filter(|&c| is_url_preceding(c)) {
            found = body_at(text, i + c.len_utf8(), rules, &mut cache).map(|b| (Some(c), b));
        }
        if found.is_none() && i == 0 {
            found = body_at(text, 0, rules, &mut cache).map(|b| (None, b));
        }
        let Some((before, body)) = found else {
            match c {
                Some(c) => {
                    i += c.len_utf8();
                    continue;
                }
                None => break,
            }
        };
        i = body.end;
        accept(text, rules, without_protocol, before, &body, &mut out);
    }
    out
}

/// twitter-text's checks on one match; pushes what it keeps.
fn accept(
    text: &str,
    rules: Rules,
    without_protocol: bool,
    before: Option<char>,
    body: &Body,
    out: &mut Vec<Range<usize>>,
) {
    let url = &text[body.start..body.end];
    let domain = &text[body.domain.clone()];
    // twitter-text's `isValidUrl` (JavaScript) / `is_valid_domain` (Ruby):
    // the domain must encode (labels of 1 to 63 characters), and the URL
    // with its protocol stay within 4096 characters.
    let Some(growth) = punycode_growth(domain) else {
        return;
    };
    let too_long = match rules {
        Rules::Twitter => {
            // Punycode cannot hold non-ASCII characters.
            if domain.len() >= 4
                && domain.as_bytes()[..4].eq_ignore_ascii_case(b"xn--")
                && ascii_domains(text, body.domain.clone(), rules).is_empty()
            {
                return;
            }
            // The protocol counts once more (or `https://` when absent).
            let protocol = if body.protocol > 0 { body.protocol } else { 8 };
            protocol + utf16_len(url) > MAX_URL_LENGTH
        }
        Rules::Mastodon => url.chars().count() + growth > MAX_URL_LENGTH,
    };
    if too_long {
        return;
    }
    if body.protocol == 0 {
        if !without_protocol || before.is_some_and(|c| matches!(c, '-' | '_' | '.' | '/')) {
            return;
        }
        let mut found = ascii_domains(text, body.domain.clone(), rules);
        let Some(last) = found.last_mut() else {
            return;
        };
        if body.path {
            last.end = body.end;
        }
        out.extend(found);
        return;
    }
    let mut end = body.end;
    if let Some(tco) = tco_end(text, body, rules) {
        match tco {
            Some(e) => end = e,
            None => return,
        }
    }
    out.push(body.start..end);
}

/// `validTcoUrl`: a t.co link may not carry more path. Some(None) when its
/// slug is too long, Some(end) for a t.co link, None for other URLs.
fn tco_end(text: &str, body: &Body, rules: Rules) -> Option<Option<usize>> {
    let url = &text[body.start..body.end];
    let after = url.get(body.protocol..)?;
    if body.protocol > "https://".len()
        || !url[..body.protocol]
            .to_ascii_lowercase()
            .starts_with("http")
        || after.len() < 5
        || !after.as_bytes()[..5].eq_ignore_ascii_case(b"t.co/")
    {
        return None;
    }
    let slug = after[5..]
        .bytes()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    if slug == 0 {
        return None;
    }
    if slug > MAX_TCO_SLUG_LENGTH {
        return Some(None);
    }
    let mut end = body.start + body.protocol + 5 + slug;
    if rules == Rules::Twitter
        && text.as_bytes().get(end) == Some(&b'?')
        && end < body.end
        && let Some(q) = query_end(&text[..body.end], end + 1, rules)
    {
        end = q;
    }
    Some(Some(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> Vec<&str> {
        twitter_urls(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn url_ends_where_japanese_text_resumes() {
        let t = "詳しくはhttps://example.com/aboutをご覧ください。";
        assert_eq!(urls(t), ["https://example.com/about"]);
        assert_eq!(
            mastodon_urls(t)
                .into_iter()
                .map(|r| &t[r])
                .collect::<Vec<_>>(),
            ["https://example.com/aboutをご覧ください。"]
        );
    }

    #[test]
    fn bare_domains_need_a_real_tld() {
        assert_eq!(
            urls("node.js config.yaml http://no-tld"),
            Vec::<&str>::new()
        );
        assert_eq!(urls("see example.com, or t.co"), ["example.com", "t.co"]);
        assert_eq!(urls("日本語example.comです"), ["example.com"]);
        assert!(is_tld("com") && is_tld("ck") && is_tld("한국") && !is_tld("js"));
    }

    #[test]
    fn mastodon_mentions_with_dots_and_dashes() {
        let t = "hi @alice.b-c@social.example.org! and @bob mail@x.y";
        let m = mastodon_mentions(t);
        assert_eq!(m.len(), 2);
        assert_eq!(&t[m[0].range.clone()], "@alice.b-c@social.example.org");
        assert_eq!(&t[m[0].range.start..m[0].user_end], "@alice.b-c");
        assert_eq!(&t[m[1].range.clone()], "@bob");
    }

    #[test]
    fn twitter_only_tlds_are_sorted_for_binary_search() {
        assert!(TWITTER_ONLY_TLDS.windows(2).all(|w| w[0] < w[1]));
        assert!(TWITTER_ONLY_TLDS.iter().all(|t| is_tld(t)));
    }

    #[test]
    fn long_runs_stay_linear() {
        let text = "日本語".repeat(20_000) + &"a.".repeat(20_000);
        let start = std::time::Instant::now();
        assert!(twitter_urls(&text).is_empty());
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
    }
}
