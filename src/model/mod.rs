//! The model: the leaf layer of types that content, render, validate, state,
//! the engine and the platform clients share. It imports nothing of ours.

pub mod error;
pub mod limits;
pub mod media;
pub mod part;
pub mod settings;
pub mod x_url;

pub use error::PlatformError;
pub use limits::{
    AspectRange, BLUESKY, Counting, INSTAGRAM, LINKEDIN, Limits, MASTODON, PlatformKind, TWITTER,
    ThreadSupport,
};
pub use media::{MediaInfo, MediaKind};
pub use part::PublishedPart;
pub use settings::AccountSettings;
pub use x_url::XPostUrl;
