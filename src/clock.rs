//! The current time. Production code asks [`now`] (the system clock, or
//! `SOCIAL_NOW` when set, so that binary tests need not sleep); the engine is
//! handed a [`Clock`] so that its tests can move time by hand.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

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

/// The system's wall clock, never pinned: for comparing with times that
/// servers send (a rate limit's reset), which a pinned `SOCIAL_NOW` must not
/// turn into hours of waiting.
pub fn wall() -> DateTime<Utc> {
    Utc::now()
}

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (through [`now`], so `SOCIAL_NOW` holds).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    /// Sets the time.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
