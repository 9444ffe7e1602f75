//! What the platform clients' tests share: a fast-retrying HTTP layer, a
//! post parsed and rendered the way the engine builds a job, and a sink that
//! collects the published parts.

use super::http::Http;
use super::{Job, PartSink, PlatformError, ReplyTo};
use crate::config::Account;
use crate::content::Post;
use crate::render::{Rendered, render_for};
use crate::state::PublishedPart;
use crate::validate::MediaInfo;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::path::Path;
use std::time::Duration;

/// The shared HTTP layer with millisecond backoff, so retries are quick.
pub fn fast_http() -> Http {
    let mut h = Http::new().unwrap();
    h.base_backoff = Duration::from_millis(5);
    h.max_backoff = Duration::from_millis(20);
    h.max_attempts = 3;
    h
}

/// A parsed and rendered post, the way the engine builds a job.
pub struct Fixture {
    pub post: Post,
    pub account: Account,
    pub rendered: Rendered,
    pub media: Vec<MediaInfo>,
    pub first_claimed: DateTime<Utc>,
    /// The post's `at`, as the engine hands it over.
    pub scheduled: Option<DateTime<Utc>>,
    pub reply_to: Option<ReplyTo>,
    pub key: &'static str,
}

impl Fixture {
    /// Parses `src` and renders it for `account` under its platform's limits.
    pub fn new(account: Account, src: &str, key: &'static str) -> Fixture {
        let parsed = crate::content::parse_post(Path::new("posts/t.md"), src, Tz::UTC);
        let post = parsed.post.expect("the test post parses");
        let rendered = render_for(&post, &account, account.platform.limits());
        let scheduled = post.at.as_ref().map(|a| a.instant);
        Fixture {
            post,
            account,
            rendered,
            media: Vec::new(),
            first_claimed: Utc::now(),
            scheduled,
            reply_to: None,
            key,
        }
    }

    /// The job for the parts after `done`.
    pub fn job<'a>(&'a self, done: &'a [PublishedPart]) -> Job<'a> {
        Job {
            post: &self.post,
            account: &self.account,
            rendered: &self.rendered,
            media: &self.media,
            done,
            idempotency_key: self.key,
            first_claimed: self.first_claimed,
            scheduled: self.scheduled,
            reply_to: self.reply_to.clone(),
        }
    }

    /// A timestamp `mins` minutes after the first claim (RFC 3339, milliseconds).
    pub fn at(&self, mins: i64) -> String {
        (self.first_claimed + chrono::Duration::minutes(mins))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

/// A sink that keeps every part it is handed.
#[derive(Default)]
pub struct Collect(pub Vec<(usize, PublishedPart)>);

impl PartSink for Collect {
    fn part(&mut self, index: usize, part: PublishedPart) -> Result<(), PlatformError> {
        self.0.push((index, part));
        Ok(())
    }
}
