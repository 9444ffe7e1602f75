//! The current time, injectable for tests through `SOCIAL_NOW`.

use chrono::{DateTime, Utc};

/// Environment variable that pins "now" (RFC 3339) so tests need not sleep.
pub const NOW_ENV: &str = "SOCIAL_NOW";

/// The current instant: `SOCIAL_NOW` when set and valid, else the system clock.
pub fn now() -> DateTime<Utc> {
    std::env::var(NOW_ENV)
        .ok()
        .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(Utc::now)
}
