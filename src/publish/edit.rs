//! Correcting published posts: the engine's side of `social edit` and of
//! `edits = "apply"`.
//!
//! An edit sends the post as its file renders it now over the parts the
//! platform holds (where the platform can edit at all), then records the
//! text it sent (`content_hash`, `edited_at`, in the store and in
//! published.toml), so that no run and no clone edits it again for the
//! same text. Edits replace whole fields and are safe to send twice: a run
//! that stops half-way edits every part again the next time.

use super::{Engine, Progress, Ready, TargetResult, Verdict, log_result, skipped, urls};
use crate::model::PlatformError;
use crate::platforms::{DoneSink, EditMode, Job};
use crate::state::{State, TargetStatus};
use std::sync::Arc;

impl Engine {
    /// Edits the published targets of `work` (post, account) to their
    /// files. `auto`: applied by `publish --due` (`edits = "apply"`), where
    /// a failure that passes is tried again later.
    pub async fn edit_targets(
        &self,
        work: Vec<(Arc<Ready>, String)>,
        mode: EditMode,
        auto: bool,
        progress: &dyn Progress,
    ) -> Vec<TargetResult> {
        let mut out = Vec::with_capacity(work.len());
        for (ready, account) in work {
            let r = self.edit_one(&ready, &account, mode, auto, progress).await;
            log_result(&r);
            out.push(r);
        }
        self.flush_ledger();
        out
    }

    /// The edits `edits = "apply"` has made due (published targets whose
    /// file changed), by post id and account.
    pub fn due_edits(&self) -> Result<Vec<(String, String)>, crate::state::StateError> {
        Ok(self
            .store
            .due_targets_until(self.now())?
            .into_iter()
            .filter(|(_, t)| t.status == TargetStatus::Posted)
            .map(|(_, t)| (t.post_id, t.account))
            .collect())
    }

    async fn edit_one(
        &self,
        ready: &Ready,
        account_name: &str,
        mode: EditMode,
        auto: bool,
        progress: &dyn Progress,
    ) -> TargetResult {
        let post = &ready.checked.post.id;
        let t = match self.store.target(post, account_name) {
            Ok(Some(t)) => t,
            Ok(None) => return skipped(post, account_name, State::Scheduled, "not published"),
            Err(e) => return super::failed_result(post, account_name, e.to_string()),
        };
        if t.status != TargetStatus::Posted {
            let reason = format!("{}: only a published post can be edited", t.state());
            return skipped(post, account_name, t.state(), &reason);
        }
        let hash = ready.checked.post.content_hash();
        if t.content_hash == hash {
            return skipped(
                post,
                account_name,
                State::Posted,
                "published as the file is now: nothing to edit",
            );
        }
        progress.started(post, account_name);
        let result = self.send_edit(ready, &t, mode).await;
        let verdict = match result {
            Ok(()) => match self
                .store
                .record_edit(post, account_name, &hash, self.now())
            {
                Ok(_) => Verdict::Edited {
                    urls: urls(&t.parts),
                },
                Err(e) => Verdict::EditFailed {
                    error: format!("edited, but recording it failed: {e}"),
                    retry_at: None,
                },
            },
            Err(e) => {
                let retry_at = (auto && e.is_transient()).then(|| {
                    self.now()
                        + chrono::Duration::from_std(self.http.backoff(t.attempts + 2))
                            .unwrap_or_default()
                });
                let retry_at = match &e {
                    PlatformError::RateLimited {
                        retry_at: Some(at), ..
                    } if auto => Some(*at),
                    _ => retry_at,
                };
                let error = super::with_links(&e.to_string(), &t);
                if let Err(se) = self.store.edit_failed(post, account_name, &error, retry_at) {
                    tracing::error!("recording a failed edit failed: {se}");
                }
                Verdict::EditFailed {
                    error,
                    retry_at: retry_at.map(|r| r.to_rfc3339()),
                }
            }
        };
        let r = TargetResult {
            post: post.clone(),
            account: account_name.to_string(),
            result: verdict,
        };
        progress.finished(&r);
        r
    }

    /// Sends the edit of every published part, renewing a refused token once.
    async fn send_edit(
        &self,
        ready: &Ready,
        t: &crate::state::TargetRecord,
        mode: EditMode,
    ) -> Result<(), PlatformError> {
        let (account, rendered) = self.target_account(ready, t)?;
        let job = Job {
            post: &ready.checked.post,
            account: &account,
            rendered,
            media: &ready.checked.media,
            done: &t.parts,
            idempotency_key: t.idempotency_key.as_deref().unwrap_or_default(),
            first_claimed: t
                .first_claimed
                .and_then(crate::state::from_ms)
                .unwrap_or_else(|| self.now()),
            scheduled: ready.checked.post.at.as_ref().map(|a| a.instant),
            reply_to: None,
        };
        let (mut client, secret) = self.client(&account).await?;
        let mut sink = Edited;
        match client.edit(&job, mode, &mut sink).await {
            Err(e @ PlatformError::Auth { .. }) => {
                match self.renewed_client(&account, &secret).await? {
                    Some((c, _)) => client = c,
                    None => return Err(e),
                }
                client.edit(&job, mode, &mut sink).await
            }
            other => other,
        }
    }
}

/// Edits are whole and safe to repeat: nothing is recorded part by part.
struct Edited;

impl DoneSink for Edited {
    fn done(&mut self, _: usize, _: bool) -> Result<(), PlatformError> {
        Ok(())
    }
}
