//! The Bluesky client: being written; until then connecting fails with a clear error.

use super::{Context, Job, PartSink, Platform, PlatformError};
use crate::config::Account;
use crate::state::PublishedPart;

/// The Bluesky client.
pub struct Bluesky;

impl Bluesky {
    pub fn new(_account: &Account, _ctx: Context) -> Result<Self, PlatformError> {
        Err(PlatformError::config(
            "the Bluesky client is not part of this build yet",
        ))
    }
}

#[async_trait::async_trait]
impl Platform for Bluesky {
    async fn publish(&self, _job: &Job<'_>, _sink: &mut dyn PartSink) -> Result<(), PlatformError> {
        Err(PlatformError::config(
            "the Bluesky client is not part of this build yet",
        ))
    }

    async fn reconcile(&self, _job: &Job<'_>) -> Result<Vec<PublishedPart>, PlatformError> {
        Err(PlatformError::config(
            "the Bluesky client is not part of this build yet",
        ))
    }

    fn dry_run(&self, _job: &Job<'_>) -> Vec<serde_json::Value> {
        Vec::new()
    }
}
