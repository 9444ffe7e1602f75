//! Media facts: what a media file of a post is, as found on disk.

use serde::Serialize;
use std::path::PathBuf;

/// What kind of file a media item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Gif,
    Video,
}

/// A media file as found on disk.
#[derive(Clone, Debug, Serialize)]
pub struct MediaInfo {
    /// The path as written in the post.
    pub path: String,
    /// The path from the project root (`/`-separated): where the file is
    /// served under a `media_base_url`.
    pub project_path: String,
    pub resolved: PathBuf,
    pub mime: &'static str,
    pub kind: MediaKind,
    pub bytes: u64,
    pub alt: Option<String>,
}
