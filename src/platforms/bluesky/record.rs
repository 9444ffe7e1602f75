//! Building `app.bsky.feed.post` records from rendered parts, with
//! atrium-api's types: facets from spans, image embeds. Reply refs are
//! filled in by the plan from earlier answers (see the client).

use crate::render::{RichText, SpanKind};
use atrium_api::app::bsky::embed::{defs::AspectRatioData, images};
use atrium_api::app::bsky::feed::post::{RecordData, RecordEmbedRefs};
use atrium_api::app::bsky::richtext::facet;
use atrium_api::record::KnownRecord;
use atrium_api::types::string::{Datetime, Did, Language};
use atrium_api::types::{BlobRef, Union};
use chrono::{DateTime, Utc};
use std::num::NonZeroU64;
use unicode_segmentation::UnicodeSegmentation;

/// The collection of posts.
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// Longest tag a facet may carry (lexicon: 64 graphemes, 640 bytes).
const MAX_TAG_GRAPHEMES: usize = 64;
const MAX_TAG_BYTES: usize = 640;

/// An uploaded image, ready to embed.
#[derive(Clone, Debug)]
pub struct EmbedImage {
    pub blob: BlobRef,
    pub alt: String,
    /// Width and height in pixels, where they could be read.
    pub size: Option<(u64, u64)>,
}

/// The facets of `text`: one per span, at the span's UTF-8 byte offsets.
/// `did_of` resolves a mentioned handle; a mention it cannot resolve, a
/// span outside the text and an over-long tag get no facet.
pub fn facets(text: &RichText, did_of: impl Fn(&str) -> Option<String>) -> Vec<facet::Main> {
    let t = &text.text;
    let mut out = Vec::new();
    for span in &text.spans {
        let inside = span.start < span.end
            && span.end <= t.len()
            && t.is_char_boundary(span.start)
            && t.is_char_boundary(span.end);
        if !inside {
            continue;
        }
        let feature = match &span.kind {
            SpanKind::Link { uri } if !uri.is_empty() => {
                facet::MainFeaturesItem::Link(Box::new(facet::LinkData { uri: uri.clone() }.into()))
            }
            SpanKind::Tag { tag } => {
                let tag = tag.trim_start_matches(['#', '＃']);
                let too_long =
                    tag.len() > MAX_TAG_BYTES || tag.graphemes(true).count() > MAX_TAG_GRAPHEMES;
                if tag.is_empty() || too_long {
                    continue;
                }
                facet::MainFeaturesItem::Tag(Box::new(
                    facet::TagData {
                        tag: tag.to_string(),
                    }
                    .into(),
                ))
            }
            SpanKind::Mention { handle } => {
                let Some(did) =
                    did_of(handle.trim_start_matches('@')).and_then(|d| Did::new(d).ok())
                else {
                    continue;
                };
                facet::MainFeaturesItem::Mention(Box::new(facet::MentionData { did }.into()))
            }
            SpanKind::Link { .. } => continue,
        };
        out.push(
            facet::MainData {
                features: vec![Union::Refs(feature)],
                index: facet::ByteSliceData {
                    byte_start: span.start,
                    byte_end: span.end,
                }
                .into(),
            }
            .into(),
        );
    }
    out
}

/// Up to three well-formed language tags from the post's `lang`.
pub fn langs(lang: &[String]) -> Vec<Language> {
    lang.iter()
        .filter_map(|l| Language::new(l.trim().to_string()).ok())
        .take(3)
        .collect()
}

/// The parts of a post record (its reply refs aside).
pub struct PostRecord<'a> {
    pub text: &'a str,
    pub facets: Vec<facet::Main>,
    pub langs: Vec<Language>,
    pub images: Vec<EmbedImage>,
    pub created_at: DateTime<Utc>,
}

impl PostRecord<'_> {
    /// The record as JSON, `$type` included.
    pub fn to_json(&self) -> Result<serde_json::Value, String> {
        let embed = if self.images.is_empty() {
            None
        } else {
            let images = self
                .images
                .iter()
                .map(|img| {
                    images::ImageData {
                        alt: img.alt.clone(),
                        aspect_ratio: img.size.and_then(|(w, h)| {
                            Some(
                                AspectRatioData {
                                    width: NonZeroU64::new(w)?,
                                    height: NonZeroU64::new(h)?,
                                }
                                .into(),
                            )
                        }),
                        image: img.blob.clone(),
                    }
                    .into()
                })
                .collect();
            Some(Union::Refs(RecordEmbedRefs::AppBskyEmbedImagesMain(
                Box::new(images::MainData { images }.into()),
            )))
        };
        let record = RecordData {
            created_at: Datetime::new(self.created_at.fixed_offset()),
            embed,
            entities: None,
            facets: (!self.facets.is_empty()).then(|| self.facets.clone()),
            labels: None,
            langs: (!self.langs.is_empty()).then(|| self.langs.clone()),
            reply: None,
            tags: None,
            text: self.text.to_string(),
        };
        serde_json::to_value(KnownRecord::AppBskyFeedPost(Box::new(record.into())))
            .map_err(|e| format!("cannot encode the post record: {e}"))
    }
}

/// A time as a record's `createdAt` writes it.
pub fn datetime(t: DateTime<Utc>) -> serde_json::Value {
    serde_json::to_value(Datetime::new(t.fixed_offset())).unwrap_or_default()
}

/// The parts of an `at://` URI: repo (DID or handle), collection, record key.
pub fn parse_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut it = rest.splitn(3, '/');
    let (repo, coll, rkey) = (it.next()?, it.next()?, it.next()?);
    let ok = |s: &str| !s.is_empty() && !s.contains(['/', '?', '#']);
    (ok(repo) && ok(coll) && ok(rkey)).then_some((repo, coll, rkey))
}

/// A post given as a bsky.app URL (`https://bsky.app/profile/<actor>/post/<rkey>`,
/// any web client with the same paths) or an `at://` URI: (actor, rkey).
pub fn parse_post_link(link: &str) -> Option<(String, String)> {
    let link = link.trim();
    if let Some((repo, coll, rkey)) = parse_at_uri(link) {
        return (coll == POST_COLLECTION).then(|| (repo.to_string(), rkey.to_string()));
    }
    let url = reqwest::Url::parse(link).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    let segs: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["profile", actor, "post", rkey] => Some((actor.to_string(), rkey.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Span;

    fn rich(text: &str, spans: Vec<(usize, usize, SpanKind)>) -> RichText {
        RichText {
            text: text.to_string(),
            spans: spans
                .into_iter()
                .map(|(start, end, kind)| Span { start, end, kind })
                .collect(),
        }
    }

    fn at(text: &str, needle: &str) -> (usize, usize) {
        let s = text.find(needle).unwrap();
        (s, s + needle.len())
    }

    #[test]
    fn facet_offsets_are_utf8_bytes_after_non_ascii_text() {
        let text = "Grüße 🇩🇪 日本語: read the post #Rust with @bob.test ✨";
        let (ls, le) = at(text, "read the post");
        let (ts, te) = at(text, "#Rust");
        let (ms, me) = at(text, "@bob.test");
        // Non-ASCII before every span: byte offsets differ from chars and UTF-16.
        assert_ne!(ls, text[..ls].chars().count());
        let rt = rich(
            text,
            vec![
                (
                    ls,
                    le,
                    SpanKind::Link {
                        uri: "https://example.com/post".into(),
                    },
                ),
                (ts, te, SpanKind::Tag { tag: "Rust".into() }),
                (
                    ms,
                    me,
                    SpanKind::Mention {
                        handle: "bob.test".into(),
                    },
                ),
            ],
        );
        let f = facets(&rt, |h| {
            (h == "bob.test").then(|| "did:plc:bob".to_string())
        });
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"index": {"byteStart": ls, "byteEnd": le},
                 "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/post"}]},
                {"index": {"byteStart": ts, "byteEnd": te},
                 "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Rust"}]},
                {"index": {"byteStart": ms, "byteEnd": me},
                 "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}]},
            ])
        );
        assert_eq!(&text.as_bytes()[ls..le], b"read the post");
        assert_eq!(&text.as_bytes()[ms..me], b"@bob.test");
    }

    #[test]
    fn unresolved_mentions_bad_spans_and_long_tags_get_no_facet() {
        let long = "x".repeat(65);
        let text = format!("é @nobody.test #{long} #ok");
        let (ms, me) = at(&text, "@nobody.test");
        let (ls, le) = at(&text, &format!("#{long}"));
        let (os, oe) = at(&text, "#ok");
        let rt = rich(
            &text,
            vec![
                (
                    ms,
                    me,
                    SpanKind::Mention {
                        handle: "nobody.test".into(),
                    },
                ),
                (ls, le, SpanKind::Tag { tag: long.clone() }),
                (
                    0,
                    1,
                    SpanKind::Tag {
                        tag: "inside-a-char".into(),
                    },
                ),
                (
                    os,
                    oe + 100,
                    SpanKind::Tag {
                        tag: "past-the-end".into(),
                    },
                ),
                (os, oe, SpanKind::Tag { tag: "#ok".into() }),
            ],
        );
        let f = facets(&rt, |_| None);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].index.byte_start, os);
        let json = serde_json::to_value(&f[0]).unwrap();
        assert_eq!(json["features"][0]["tag"], "ok");
    }

    #[test]
    fn record_json_has_the_lexicon_shape() {
        let created = DateTime::parse_from_rfc3339("2026-12-01T09:00:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let blob: BlobRef = serde_json::from_value(serde_json::json!({
            "$type": "blob",
            "ref": {"$link": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
            "mimeType": "image/png",
            "size": 1234
        }))
        .unwrap();
        let r = PostRecord {
            text: "hello",
            facets: vec![],
            langs: langs(&[
                "en".into(),
                "de-AT".into(),
                "not a tag!".into(),
                "fr".into(),
                "es".into(),
            ]),
            images: vec![EmbedImage {
                blob,
                alt: "a cat".into(),
                size: Some((640, 480)),
            }],
            created_at: created,
        };
        let v = r.to_json().unwrap();
        assert_eq!(v["$type"], "app.bsky.feed.post");
        assert_eq!(v["text"], "hello");
        assert_eq!(v["createdAt"], "2026-12-01T09:00:00.500000Z");
        assert_eq!(v["langs"], serde_json::json!(["en", "de-AT", "fr"]));
        assert!(v.get("facets").is_none());
        assert!(v.get("reply").is_none());
        assert_eq!(datetime(created), v["createdAt"]);
        let img = &v["embed"]["images"][0];
        assert_eq!(v["embed"]["$type"], "app.bsky.embed.images");
        assert_eq!(img["alt"], "a cat");
        assert_eq!(
            img["aspectRatio"],
            serde_json::json!({"width": 640, "height": 480})
        );
        assert_eq!(img["image"]["$type"], "blob");
        assert_eq!(img["image"]["mimeType"], "image/png");
        assert_eq!(img["image"]["size"], 1234);
        assert_eq!(
            img["image"]["ref"]["$link"],
            "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        );
    }

    #[test]
    fn post_links() {
        assert_eq!(
            parse_post_link("https://bsky.app/profile/alice.test/post/3lbcdefghij22"),
            Some(("alice.test".into(), "3lbcdefghij22".into()))
        );
        assert_eq!(
            parse_post_link("at://did:plc:abc/app.bsky.feed.post/3lbcdefghij22"),
            Some(("did:plc:abc".into(), "3lbcdefghij22".into()))
        );
        assert_eq!(
            parse_post_link("at://did:plc:abc/app.bsky.feed.like/3l"),
            None
        );
        assert_eq!(parse_post_link("https://example.com/@alice/123"), None);
        assert_eq!(parse_post_link("not a url"), None);
        assert_eq!(
            parse_at_uri("at://did:plc:abc/app.bsky.feed.post/3lb"),
            Some(("did:plc:abc", "app.bsky.feed.post", "3lb"))
        );
        assert_eq!(parse_at_uri("at://did:plc:abc/app.bsky.feed.post"), None);
    }
}
