//! Taking published posts back: the engine's side of `social delete` and of
//! a withdrawn post file.
//!
//! A target asked to be deleted is `deleting` in the store. A deletion is
//! claimed like a publication (one claimer; a dead claimer's claim lapses),
//! its parts are deleted last first, and each one the platform no longer has
//! is committed before the next request goes out, so that a run killed in
//! the middle resumes with the parts still there and never sends a delete
//! for a part recorded as deleted. A part the platform had lost already (a
//! 404) counts as deleted. A failure that passes (a 429, a 5xx) leaves the
//! rest due again later, by the same backoff as publishing.

use super::{Engine, Progress, TargetResult, Verdict, log_result, urls};
use crate::model::PlatformError;
use crate::platforms::{self, DoneSink};
use crate::state::{Change, Claimed, DeletionEnd, TargetRecord, TargetStatus, from_ms};
use chrono::{DateTime, Utc};

impl Engine {
    /// Deletes the published parts of `targets` (post id, account) that are
    /// `deleting`: all of them when `force` (`social delete`), else those
    /// whose time has come (`publish --due`, the daemon).
    pub async fn delete_targets(
        &self,
        targets: &[(String, String)],
        force: bool,
        progress: &dyn Progress,
    ) -> Vec<TargetResult> {
        let mut out = Vec::with_capacity(targets.len());
        for (post, account) in targets {
            if self.stop.load(std::sync::atomic::Ordering::SeqCst) {
                out.push(super::skipped(
                    post,
                    account,
                    crate::state::State::Deleting,
                    "shutting down; left for the next run",
                ));
                continue;
            }
            let r = match self.store.claim_deletion(post, account, self.now(), force) {
                Ok(Claimed::Yes(claim)) => self.delete_claimed(&claim.target, progress).await,
                Ok(Claimed::No(t)) => not_claimed(&t),
                Ok(Claimed::Missing) => super::skipped(
                    post,
                    account,
                    crate::state::State::Scheduled,
                    "not in the state store",
                ),
                Err(e) => super::failed_result(post, account, e.to_string()),
            };
            log_result(&r);
            out.push(r);
        }
        self.flush_ledger();
        out
    }

    /// The deletions due by now (including those a dead process left).
    pub fn due_deletions(&self) -> Result<Vec<(String, String)>, crate::state::StateError> {
        Ok(self
            .store
            .due_deletions(self.now())?
            .into_iter()
            .map(|t| (t.post_id, t.account))
            .collect())
    }

    /// Runs one claimed deletion to its end and records it.
    async fn delete_claimed(&self, t: &TargetRecord, progress: &dyn Progress) -> TargetResult {
        progress.started(&t.post_id, &t.account);
        let result = self.delete_parts(t, progress).await;
        let end = match result {
            Ok(()) => DeletionEnd::Done,
            Err(PlatformError::Unsupported { message }) => DeletionEnd::Refused {
                error: with_links(&message, t),
            },
            Err(e) => {
                let retry_at = (e.is_transient() && t.attempts < self.max_attempts)
                    .then(|| self.retry_time(&e, t.attempts));
                DeletionEnd::Failed {
                    error: e.to_string(),
                    retry_at,
                }
            }
        };
        let recorded = self
            .committer
            .commit(t.key(), Change::Deletion(end.clone()))
            .await;
        let after = match recorded {
            Ok(Some(after)) => after,
            Ok(None) => t.clone(),
            Err(e) => {
                // The claim stays; its lease ends and the next run goes on.
                return super::failed_result(
                    &t.post_id,
                    &t.account,
                    format!("the deletion could not be recorded ({e}); the next run goes on"),
                );
            }
        };
        let result = match end {
            DeletionEnd::Done => Verdict::Deleted {
                urls: urls(&t.parts),
            },
            DeletionEnd::Refused { error } => Verdict::NotDeletable { error },
            DeletionEnd::Failed { error, retry_at } => Verdict::DeleteLeft {
                error,
                left: after.parts_to_delete().len(),
                retry_at: retry_at.map(|r| r.to_rfc3339()),
            },
        };
        let r = TargetResult {
            post: t.post_id.clone(),
            account: t.account.clone(),
            result,
        };
        progress.finished(&r);
        r
    }

    /// Sends the deletes of the parts still there, last first, renewing a
    /// refused token once.
    async fn delete_parts(
        &self,
        t: &TargetRecord,
        progress: &dyn Progress,
    ) -> Result<(), PlatformError> {
        let Some(account) = self.config.accounts.get(&t.account).cloned() else {
            return Err(PlatformError::config(format!(
                "account `{}` is no longer in social.toml; add it back to delete what was published there",
                t.account
            )));
        };
        let total = t.parts.len();
        let mut sink = Removed {
            engine: self,
            key: t.key(),
            post: &t.post_id,
            account: &t.account,
            deleted: t.deleted.clone(),
            total,
            progress,
        };
        let (mut client, secret) = self.client(&account).await?;
        let mut renewed = false;
        loop {
            let left: Vec<platforms::Recorded> = t
                .parts_to_delete()
                .into_iter()
                .filter(|(i, _)| !sink.deleted.contains(i))
                .collect();
            if left.is_empty() {
                return Ok(());
            }
            match client.delete(&left, &mut sink).await {
                Err(e @ PlatformError::Auth { .. }) if !renewed => {
                    renewed = true;
                    match self.renewed_client(&account, &secret).await? {
                        Some((c, _)) => client = c,
                        None => return Err(e),
                    }
                }
                other => return other,
            }
        }
    }

    /// When a failure that passes is tried again: the platform's own time
    /// for a rate limit, else the publishing backoff.
    fn retry_time(&self, e: &PlatformError, attempts: u32) -> DateTime<Utc> {
        match e {
            PlatformError::RateLimited {
                retry_at: Some(at), ..
            } => *at,
            _ => {
                self.now()
                    + chrono::Duration::from_std(self.http.backoff(attempts + 2))
                        .unwrap_or_default()
            }
        }
    }
}

/// Commits each deleted part at once, before the next delete is sent.
struct Removed<'a> {
    engine: &'a Engine,
    key: String,
    post: &'a str,
    account: &'a str,
    deleted: Vec<usize>,
    total: usize,
    progress: &'a dyn Progress,
}

impl DoneSink for Removed<'_> {
    fn done(&mut self, index: usize, gone: bool) -> Result<(), PlatformError> {
        if gone {
            tracing::info!(post = %self.post, account = %self.account, part = index + 1, "part was gone already; counted as deleted");
        }
        self.engine
            .committer
            .commit_now(self.key.clone(), Change::Removed { index })
            .map_err(|e| {
                PlatformError::unavailable(format!(
                    "deleted part {} of {}, but the state store could not record it: {e}",
                    index + 1,
                    self.total
                ))
            })?;
        if !self.deleted.contains(&index) {
            self.deleted.push(index);
        }
        self.progress
            .part(self.post, self.account, self.deleted.len(), self.total);
        Ok(())
    }
}

/// The platform cannot delete: its words, and the links of the parts
/// (where the user can do it by hand) where they lack them.
pub fn with_links(message: &str, t: &TargetRecord) -> String {
    let links: Vec<&str> = t
        .parts
        .iter()
        .map(|p| p.url.as_deref().unwrap_or(p.id.as_str()))
        .collect();
    if links.is_empty() || links.iter().all(|l| message.contains(l)) {
        message.to_string()
    } else {
        format!("{message}: {}", links.join(", "))
    }
}

/// The result for a deletion that could not be claimed.
fn not_claimed(t: &TargetRecord) -> TargetResult {
    let (post, account) = (t.post_id.as_str(), t.account.as_str());
    let reason = match t.status {
        TargetStatus::Deleted => {
            let when = t
                .deleted_at
                .and_then(from_ms)
                .map(|d| format!(" ({})", d.to_rfc3339()))
                .unwrap_or_default();
            format!("deleted already{when}")
        }
        TargetStatus::Deleting if t.claimed_by.is_some() => {
            "another social process is deleting it right now".into()
        }
        TargetStatus::Deleting => match t.due.and_then(from_ms) {
            Some(d) => format!("the rest is due to be deleted at {}", d.to_rfc3339()),
            None => "waiting for `social delete` after an error".into(),
        },
        _ => format!("not being deleted ({})", t.state()),
    };
    super::skipped(post, account, t.state(), &reason)
}
