//! The HTTP layer every client shares: timeouts, a User-Agent, rate-limit
//! budgets read from response headers, 429 handling, and retries with capped
//! exponential backoff and jitter for requests that are safe to repeat.
//!
//! Budgets are kept per account *and bucket*: platforms count some endpoint
//! families separately (X every endpoint; Mastodon media uploads and status
//! deletes apart from the general 300 per 5 minutes; a Bluesky PDS logins,
//! blob uploads and repo writes), so each client names the bucket of each
//! request ([`Http::send_in`]) and one used-up bucket holds back only the
//! requests that count against it.

use super::error::PlatformError;
use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The User-Agent of every request.
pub const USER_AGENT: &str = concat!(
    "social/",
    env!("CARGO_PKG_VERSION"),
    " (+https://crates.io/crates/social)"
);

/// Whether a request may be sent again after a failure whose outcome is unclear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, deletes, and creates carrying an idempotency key: resend freely.
    Safe,
    /// Creates without an idempotency key: a dropped connection after the
    /// request left is [`PlatformError::Unknown`], never a blind resend.
    Unsafe,
}

/// How long to wait for a rate limit in place before giving the target back
/// to the scheduler instead.
pub const MAX_INLINE_WAIT: Duration = Duration::from_secs(60);

/// The bucket of requests that count against an account's general limit.
pub const GENERAL: &str = "";

/// What the platform last said about one rate limit of an account.
#[derive(Clone, Copy, Debug, Default)]
pub struct Budget {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset: Option<DateTime<Utc>>,
}

/// The shared HTTP client.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    /// Attempts per request (the first included) for transient failures.
    pub max_attempts: u32,
    /// First backoff delay; doubles per attempt, capped at `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Keyed by account and bucket.
    budgets: Arc<Mutex<HashMap<(String, String), Budget>>>,
}

impl Http {
    /// A client with the default timeouts and 3 attempts per request.
    pub fn new() -> Result<Http, PlatformError> {
        Self::build(reqwest::Client::builder())
    }

    /// The same, with `host` resolved to `addr`: tests reach a fake server
    /// under a platform's real host name (`graph.facebook.com`).
    #[cfg(test)]
    pub fn resolving(host: &str, addr: std::net::SocketAddr) -> Result<Http, PlatformError> {
        Self::build(reqwest::Client::builder().resolve(host, addr))
    }

    fn build(builder: reqwest::ClientBuilder) -> Result<Http, PlatformError> {
        let client = builder
            .user_agent(USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| PlatformError::config(format!("cannot start the HTTP client: {e}")))?;
        Ok(Http {
            client,
            max_attempts: 3,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            budgets: Arc::default(),
        })
    }

    /// The underlying client, to build requests.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The rate-limit budget last seen for `account`'s general bucket.
    pub fn budget(&self, account: &str) -> Budget {
        self.bucket_budget(account, GENERAL)
    }

    /// The rate-limit budget last seen for `bucket` of `account`.
    pub fn bucket_budget(&self, account: &str, bucket: &str) -> Budget {
        self.budgets
            .lock()
            .map(|b| {
                b.get(&(account.to_string(), bucket.to_string()))
                    .copied()
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    }

    fn note_budget(&self, account: &str, bucket: &str, resp: &Response) {
        let b = read_budget(resp.headers());
        let seen = b.limit.is_some() || b.remaining.is_some() || b.reset.is_some();
        if seen && let Ok(mut map) = self.budgets.lock() {
            map.insert((account.to_string(), bucket.to_string()), b);
        }
    }

    /// [`Http::send_in`] the account's [`GENERAL`] bucket.
    pub async fn send(
        &self,
        account: &str,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, PlatformError> {
        self.send_in(account, GENERAL, repeat, build).await
    }

    /// Sends a request built by `build` (called again for each attempt) on
    /// behalf of `account`, counted against its rate-limit `bucket` (the
    /// endpoint family the platform limits it with; [`GENERAL`] for the
    /// rest). Returns the response for any status below 400 and for 4xx
    /// other than 429; maps 429, 5xx and network failures to typed errors
    /// after retrying what `repeat` allows.
    pub async fn send_in(
        &self,
        account: &str,
        bucket: &str,
        repeat: Repeat,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, PlatformError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // An exhausted budget: wait for its reset, or hand the target back.
            let b = self.bucket_budget(account, bucket);
            if b.remaining == Some(0)
                && let Some(reset) = b.reset
            {
                let wait = (reset - crate::clock::wall()).to_std().unwrap_or_default();
                if wait > MAX_INLINE_WAIT {
                    let which = if bucket == GENERAL {
                        String::new()
                    } else {
                        format!(" for {bucket}")
                    };
                    return Err(PlatformError::RateLimited {
                        retry_at: Some(reset),
                        message: format!("the rate-limit budget{which} is used up"),
                    });
                }
                tokio::time::sleep(wait).await;
            }
            let result = build(&self.client).send().await;
            let err = match result {
                Ok(resp) => {
                    self.note_budget(account, bucket, &resp);
                    let status = resp.status();
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let retry_at = retry_at(resp.headers());
                        let body = resp.text().await.unwrap_or_default();
                        let wait = retry_at.and_then(|t| (t - crate::clock::wall()).to_std().ok());
                        match wait {
                            Some(w) if w <= MAX_INLINE_WAIT && attempt < self.max_attempts => {
                                tokio::time::sleep(w).await;
                                continue;
                            }
                            _ => {
                                return Err(PlatformError::RateLimited {
                                    retry_at,
                                    message: short(&body),
                                });
                            }
                        }
                    }
                    if status.is_server_error() {
                        let body = resp.text().await.unwrap_or_default();
                        let e =
                            PlatformError::unavailable(format!("HTTP {status}: {}", short(&body)));
                        // A 5xx says nothing about whether a create was applied.
                        if repeat == Repeat::Unsafe {
                            return Err(PlatformError::unknown(format!(
                                "HTTP {status}: {}",
                                short(&body)
                            )));
                        }
                        e
                    } else {
                        return Ok(resp);
                    }
                }
                Err(e) => {
                    let sent = !(e.is_connect() || e.is_builder());
                    if sent && repeat == Repeat::Unsafe {
                        return Err(PlatformError::unknown(describe(&e)));
                    }
                    PlatformError::unavailable(describe(&e))
                }
            };
            if attempt >= self.max_attempts {
                return Err(err);
            }
            tokio::time::sleep(self.backoff(attempt)).await;
        }
    }

    /// Capped exponential backoff with full jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        let cap = exp.min(self.max_backoff);
        let jitter = fastrand::f64() * 0.5 + 0.5;
        cap.mul_f64(jitter)
    }
}

fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut msg = format!("{what}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// The first 300 characters of a response body, for messages.
pub fn short(body: &str) -> String {
    let t = body.trim();
    match t.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| h.get(*n))
        .and_then(|v| v.to_str().ok())
}

/// Parses a reset time: epoch seconds, seconds from now (small numbers), an
/// HTTP date, or ISO 8601 (Mastodon).
pub fn parse_reset(v: &str) -> Option<DateTime<Utc>> {
    let v = v.trim();
    if let Ok(n) = v.parse::<f64>() {
        return if n > 1_000_000_000.0 {
            DateTime::from_timestamp(n as i64, 0)
        } else {
            Some(crate::clock::wall() + chrono::Duration::milliseconds((n * 1000.0) as i64))
        };
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    httpdate::parse_http_date(v).ok().map(DateTime::<Utc>::from)
}

/// Reads the rate-limit headers of Bluesky (`ratelimit-*`), Mastodon
/// (`x-ratelimit-*`) and X (`x-rate-limit-*`).
pub fn read_budget(h: &reqwest::header::HeaderMap) -> Budget {
    let num = |names: &[&str]| header(h, names).and_then(|v| v.trim().parse::<u64>().ok());
    Budget {
        limit: num(&["ratelimit-limit", "x-ratelimit-limit", "x-rate-limit-limit"]),
        remaining: num(&[
            "ratelimit-remaining",
            "x-ratelimit-remaining",
            "x-rate-limit-remaining",
        ]),
        reset: header(
            h,
            &["ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"],
        )
        .and_then(parse_reset),
    }
}

/// When a 429 says to come back: `Retry-After`, else the reset header.
pub fn retry_at(h: &reqwest::header::HeaderMap) -> Option<DateTime<Utc>> {
    // X also caps POSTs per 24 hours (per user and per app): when one of
    // those is used up, its reset, not the 15-minute window's, says when.
    let daily = ["x-user-limit-24hour", "x-app-limit-24hour"]
        .iter()
        .filter(|p| {
            header(h, &[&format!("{p}-remaining")]).and_then(|v| v.trim().parse::<u64>().ok())
                == Some(0)
        })
        .filter_map(|p| header(h, &[&format!("{p}-reset")]).and_then(parse_reset))
        .max();
    daily
        .or_else(|| header(h, &["retry-after"]).and_then(parse_reset))
        .or_else(|| read_budget(h).reset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_formats() {
        let t = parse_reset("1767225600").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let t = parse_reset("2026-12-01T10:00:00.000Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T10:00:00+00:00");
        assert!(parse_reset("Tue, 01 Dec 2026 10:00:00 GMT").is_some());
        let soon = parse_reset("30").unwrap();
        assert!(soon > Utc::now());
    }

    #[test]
    fn an_exhausted_daily_limit_decides_the_retry_time() {
        use reqwest::header::{HeaderMap, HeaderValue};
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1767225600"));
        assert_eq!(
            retry_at(&h).unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        h.insert(
            "x-user-limit-24hour-remaining",
            HeaderValue::from_static("5"),
        );
        h.insert(
            "x-user-limit-24hour-reset",
            HeaderValue::from_static("1767300000"),
        );
        assert_eq!(
            retry_at(&h).unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        h.insert(
            "x-user-limit-24hour-remaining",
            HeaderValue::from_static("0"),
        );
        assert_eq!(
            retry_at(&h).unwrap().to_rfc3339(),
            "2026-01-01T20:40:00+00:00"
        );
    }

    #[tokio::test]
    async fn a_used_up_bucket_holds_back_only_its_own_requests() {
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        let reset = (Utc::now() + chrono::Duration::minutes(20)).to_rfc3339();
        Mock::given(path("/media"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ratelimit-limit", "30")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", reset.as_str()),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(path("/statuses"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("x-ratelimit-limit", "300")
                    .insert_header("x-ratelimit-remaining", "299"),
            )
            .expect(2)
            .mount(&server)
            .await;
        let h = Http::new().unwrap();
        let media = format!("{}/media", server.uri());
        let statuses = format!("{}/statuses", server.uri());
        h.send_in("fedi", "media", Repeat::Safe, |c| c.post(&media))
            .await
            .unwrap();
        assert_eq!(h.bucket_budget("fedi", "media").remaining, Some(0));
        // The general bucket of the same account is untouched...
        let started = std::time::Instant::now();
        h.send("fedi", Repeat::Safe, |c| c.post(&statuses))
            .await
            .unwrap();
        h.send_in("other", "media", Repeat::Safe, |c| c.post(&statuses))
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(h.budget("fedi").remaining, Some(299));
        // ...while the used-up bucket hands the request back, unsent.
        let err = h
            .send_in("fedi", "media", Repeat::Safe, |c| c.post(&media))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, PlatformError::RateLimited { retry_at: Some(_), message } if message.contains("media")),
            "{err:?}"
        );
    }

    #[test]
    fn backoff_is_capped() {
        let h = Http::new().unwrap();
        for attempt in 1..30 {
            assert!(h.backoff(attempt) <= h.max_backoff);
        }
    }
}
