//! What a platform gave back for one published part.

use serde::{Deserialize, Serialize};

/// A published thread part: the platform's id and the public URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPart {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extra handle a platform needs to reply to the part (Bluesky's CID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}
