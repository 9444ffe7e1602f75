//! What every client does the same way with an answer: read its JSON, map
//! an error status to a [`PlatformError`], put an id into a path segment,
//! and reduce a text for comparing what was sent with what a platform shows
//! (reconcile). A platform says only what is its own: how its error bodies
//! explain themselves and which statuses mean something special, through
//! [`Dialect`].

use super::error::PlatformError;
use super::http::short;
use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

/// Whether a failed answer may leave something created behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A read, an upload, or a create that cannot have happened: an answer
    /// that cannot be read is [`PlatformError::Unavailable`].
    Read,
    /// A create the platform may have applied: a success answer that cannot
    /// be read is [`PlatformError::Unknown`], so the engine checks before
    /// sending it again.
    Create,
}

/// How one platform explains and classifies its error answers. The
/// defaults read the common shapes (`{"error": …}`, `{"message": …}`,
/// `{"detail": …}`) and map 401 to an auth error, other 4xx to a refusal.
pub trait Dialect: Sync {
    /// The server's explanation in an error body.
    fn message(&self, body: &str) -> String {
        message(body)
    }

    /// Whether a 401 means the access token expired (a refresh can help)
    /// rather than that it is invalid.
    fn expiring_tokens(&self) -> bool {
        false
    }

    /// The error of a non-success answer the HTTP layer handed back (it
    /// handles 429 and 5xx itself). `effect` says whether the request may
    /// have created something.
    fn error(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &str,
        what: &str,
        effect: Effect,
    ) -> PlatformError {
        let _ = (headers, effect);
        let message = format!("{what}: HTTP {status}: {}", self.message(body));
        status_error(status, message, self.expiring_tokens())
    }
}

/// The usual meaning of an error status: 401 an auth error (`expired` says
/// whether refreshing can help), other 4xx a refusal, the rest (3xx, an
/// unexpected 5xx) unavailable.
pub fn status_error(status: StatusCode, message: String, expired: bool) -> PlatformError {
    match status.as_u16() {
        401 => PlatformError::Auth { expired, message },
        400..=499 => PlatformError::rejected(message),
        _ => PlatformError::unavailable(message),
    }
}

/// A successful answer, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    /// The body as `T`; an unreadable body is an error of `effect`.
    pub fn json<T: DeserializeOwned>(
        &self,
        what: &str,
        effect: Effect,
    ) -> Result<T, PlatformError> {
        serde_json::from_str(&self.body).map_err(|e| {
            unclear(
                effect,
                format!(
                    "{what}: HTTP {} with an unreadable answer ({e}): {}",
                    self.status,
                    short(&self.body)
                ),
            )
        })
    }
}

fn unclear(effect: Effect, message: String) -> PlatformError {
    match effect {
        Effect::Create => PlatformError::unknown(message),
        Effect::Read => PlatformError::unavailable(message),
    }
}

/// Reads an answer: a success whole, anything else as the dialect's error.
pub async fn read(
    resp: Response,
    what: &str,
    effect: Effect,
    dialect: &dyn Dialect,
) -> Result<Answer, PlatformError> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.text().await.map_err(|e| {
        let m = format!("{what}: the answer was cut off: {e}");
        if status.is_success() {
            unclear(effect, m)
        } else {
            PlatformError::unavailable(m)
        }
    })?;
    if !status.is_success() {
        return Err(dialect.error(status, &headers, &body, what, effect));
    }
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Reads the answer of a request that deletes a part: 404 and 410 mean the
/// part is gone already (deleted elsewhere, or by an earlier attempt whose
/// answer was lost), which is [`super::plan::gone`]; a success is its JSON
/// (or `{}` when it has no body); anything else the dialect's error.
pub async fn read_removal(
    resp: Response,
    what: &str,
    dialect: &dyn Dialect,
) -> Result<Value, PlatformError> {
    if matches!(resp.status().as_u16(), 404 | 410) {
        return Ok(super::plan::gone());
    }
    let answer = read(resp, what, Effect::Read, dialect).await?;
    if answer.body.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    answer.json(what, Effect::Read)
}

/// Reads a success answer's JSON as `T`, anything else as a typed error.
pub async fn read_json<T: DeserializeOwned>(
    resp: Response,
    what: &str,
    effect: Effect,
    dialect: &dyn Dialect,
) -> Result<T, PlatformError> {
    read(resp, what, effect, dialect).await?.json(what, effect)
}

/// Checks that a request whose answer carries nothing we need succeeded.
pub async fn expect_success(
    resp: Response,
    what: &str,
    effect: Effect,
    dialect: &dyn Dialect,
) -> Result<(), PlatformError> {
    read(resp, what, effect, dialect).await.map(|_| ())
}

/// The common shapes of an error body's explanation: `error` (with
/// `error_description`, as OAuth servers write), `message`, `detail`
/// (with `title`, as problem objects write); else the start of the body.
pub fn message(body: &str) -> String {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let pair = |a: Option<&str>, b: Option<&str>| match (a, b) {
        (Some(a), Some(b)) if a != b => Some(format!("{a} ({b})")),
        (Some(a), _) | (None, Some(a)) => Some(a.to_string()),
        (None, None) => None,
    };
    pair(field("error"), field("error_description"))
        .or_else(|| field("message").map(str::to_string))
        .or_else(|| pair(field("detail"), field("title")))
        .map(|m| short(&m))
        .unwrap_or_else(|| {
            if body.trim().is_empty() {
                "no details given".into()
            } else {
                short(body)
            }
        })
}

/// An id as one path segment: every byte but RFC 3986's unreserved
/// characters (letters, digits, `-`, `.`, `_`, `~`) percent-encoded, so an
/// id from a server or a file can never reach another path.
pub fn segment(id: &str) -> String {
    let mut s = String::with_capacity(id.len() + 8);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// A text reduced for comparing what was sent with what a platform shows:
/// NFC, whitespace runs as one space, ends trimmed. A platform that shows
/// text differently (X's t.co links, Mastodon's `@user` for
/// `@user@domain`) reduces its side first and then calls this.
pub fn comparable(text: &str) -> String {
    let text: String = text.nfc().collect();
    let mut out = String::with_capacity(text.len());
    for w in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_only_unreserved_characters() {
        assert_eq!(segment("abc-1_2.3~4"), "abc-1_2.3~4");
        assert_eq!(segment("urn:li:share:7"), "urn%3Ali%3Ashare%3A7");
        assert_eq!(segment("../x y/é"), "..%2Fx%20y%2F%C3%A9");
    }

    #[test]
    fn comparable_is_nfc_with_single_spaces() {
        assert_eq!(comparable("  Cafe\u{301}\n\n  au  lait "), "Café au lait");
        assert_eq!(comparable(""), "");
    }

    #[test]
    fn messages_are_read_from_the_common_shapes() {
        assert_eq!(message(r#"{"error":"bad"}"#), "bad");
        assert_eq!(
            message(r#"{"error":"invalid_grant","error_description":"expired"}"#),
            "invalid_grant (expired)"
        );
        assert_eq!(message(r#"{"message":"nope"}"#), "nope");
        assert_eq!(message(r#"{"detail":"d","title":"t"}"#), "d (t)");
        assert_eq!(message(""), "no details given");
        assert_eq!(message("<html>oops</html>"), "<html>oops</html>");
    }

    #[test]
    fn status_errors_have_their_usual_meaning() {
        let m = || "m".to_string();
        assert!(matches!(
            status_error(StatusCode::UNAUTHORIZED, m(), true),
            PlatformError::Auth { expired: true, .. }
        ));
        assert!(matches!(
            status_error(StatusCode::UNPROCESSABLE_ENTITY, m(), false),
            PlatformError::Rejected { .. }
        ));
        assert!(matches!(
            status_error(StatusCode::MOVED_PERMANENTLY, m(), false),
            PlatformError::Unavailable { .. }
        ));
    }
}
