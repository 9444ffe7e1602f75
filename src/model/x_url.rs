//! The one reader of X post URLs (`https://x.com/<user>/status/<id>`,
//! twitter.com too): validation asks it who wrote the post a reply goes to,
//! the X client which post id to reply to.

/// What an X post URL names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XPostUrl {
    /// The author's handle, where the URL names one (`/<user>/status/<id>`);
    /// `None` for `/i/status/<id>` and `/i/web/status/<id>`.
    pub author: Option<String>,
    /// The post id (digits).
    pub id: String,
}

impl XPostUrl {
    /// Reads an x.com or twitter.com post URL (`www.` and `mobile.` too,
    /// with or without a tail such as `/photo/1` or `?s=20`); `None` for
    /// other URLs.
    pub fn parse(url: &str) -> Option<XPostUrl> {
        let u = reqwest::Url::parse(url.trim()).ok()?;
        let host = u.host_str()?.to_ascii_lowercase();
        let host = host
            .strip_prefix("www.")
            .or_else(|| host.strip_prefix("mobile."))
            .unwrap_or(&host);
        if !matches!(host, "x.com" | "twitter.com") {
            return None;
        }
        let segs: Vec<&str> = u.path_segments()?.filter(|s| !s.is_empty()).collect();
        let at = segs.windows(2).position(|w| {
            matches!(w[0], "status" | "statuses")
                && !w[1].is_empty()
                && w[1].bytes().all(|b| b.is_ascii_digit())
        })?;
        // Only `/<user>/status/<id>` names its author; `i` is X's own path.
        let author = match at {
            1 if !segs[0].eq_ignore_ascii_case("i") => Some(segs[0].to_string()),
            _ => None,
        };
        Some(XPostUrl {
            author,
            id: segs[at + 1].to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_and_authors() {
        for (url, author, id) in [
            ("https://x.com/alice/status/123", Some("alice"), Some("123")),
            (
                "https://twitter.com/alice/status/123?s=20&t=abc",
                Some("alice"),
                Some("123"),
            ),
            (
                "https://mobile.twitter.com/alice/status/123/photo/1",
                Some("alice"),
                Some("123"),
            ),
            ("https://x.com/bob/statuses/9", Some("bob"), Some("9")),
            ("https://www.x.com/i/web/status/456", None, Some("456")),
            ("https://x.com/i/status/789", None, Some("789")),
            ("https://x.com/I/status/789", None, Some("789")),
            ("https://x.com/alice", None, None),
            ("https://x.com/alice/status/abc", None, None),
            ("https://x.com/alice/status/", None, None),
            ("https://example.com/alice/status/123", None, None),
            ("not a url", None, None),
        ] {
            let got = XPostUrl::parse(url);
            assert_eq!(got.as_ref().map(|p| p.id.as_str()), id, "{url}");
            assert_eq!(
                got.as_ref().and_then(|p| p.author.as_deref()),
                author,
                "{url}"
            );
        }
    }
}
