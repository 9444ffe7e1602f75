//! What can go wrong talking to a platform, typed so that the engine can
//! decide: retry now, retry later, refresh a token, give up, or check first.

use chrono::{DateTime, Utc};

/// A failed platform request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// Over a rate limit; try again at `retry_at` (when the platform said).
    #[error("rate limited{}: {message}", retry_at.map(|t| format!(" until {}", t.format("%H:%M:%S UTC"))).unwrap_or_default())]
    RateLimited {
        retry_at: Option<DateTime<Utc>>,
        message: String,
    },
    /// The credential is missing, expired or invalid.
    #[error("authentication failed: {message}")]
    Auth { expired: bool, message: String },
    /// The platform refused the content (validation, duplicate): retrying will not help.
    #[error("rejected: {message}")]
    Rejected { duplicate: bool, message: String },
    /// The platform could not be reached or failed (5xx, timeout, refused
    /// connection) and the request was certainly not applied.
    #[error("unavailable: {message}")]
    Unavailable { message: String },
    /// The request may or may not have been applied (a dropped connection
    /// after sending): check before sending it again.
    #[error("outcome unknown: {message}")]
    Unknown { message: String },
    /// Misconfiguration on our side (no credential, bad URL).
    #[error("{message}")]
    Config { message: String },
    /// The platform cannot do this at all (Instagram deleting a feed post,
    /// X editing without its paid edit window): the message names what the
    /// user can do instead. Never retried.
    #[error("{message}")]
    Unsupported { message: String },
}

impl PlatformError {
    /// Whether trying the same request again later can succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            PlatformError::RateLimited { .. }
                | PlatformError::Unavailable { .. }
                | PlatformError::Unknown { .. }
        )
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        PlatformError::Unavailable {
            message: message.into(),
        }
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        PlatformError::Unknown {
            message: message.into(),
        }
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        PlatformError::Rejected {
            duplicate: false,
            message: message.into(),
        }
    }

    pub fn unsupported(message: impl Into<String>) -> Self {
        PlatformError::Unsupported {
            message: message.into(),
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        PlatformError::Config {
            message: message.into(),
        }
    }
}
