//! Group commit: the records of targets that finish at about the same time
//! share one durable transaction.
//!
//! A worker hands its change to [`Committer::commit`] and waits. The first
//! waiter with no commit under way leads: it lets the other ready workers add
//! theirs, then commits everything queued in one transaction (off the async
//! thread, so that requests in flight go on meanwhile), answers each waiter,
//! and repeats while more arrived. Every waiter returns only once its own
//! change is durable, so nothing counts as recorded before it is.

use crate::clock::Clock;
use crate::state::{Change, StateError, Store, TargetRecord};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Answer = Result<Option<TargetRecord>, StateError>;

pub(crate) struct Committer {
    store: Store,
    clock: Arc<dyn Clock>,
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    queue: Vec<(String, Change, oneshot::Sender<Answer>)>,
    leading: bool,
}

/// Hands the lead back if a leader's future is dropped mid-commit.
struct Lead(Option<Arc<Mutex<Inner>>>);

impl Drop for Lead {
    fn drop(&mut self) {
        if let Some(inner) = self.0.take() {
            lock(&inner).leading = false;
        }
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Committer {
    pub(crate) fn new(store: Store, clock: Arc<dyn Clock>) -> Committer {
        Committer {
            store,
            clock,
            inner: Arc::default(),
        }
    }

    /// Commits `change` to target `key` durably, together with the changes
    /// of other workers that are ready at the same moment.
    pub(crate) async fn commit(&self, key: String, change: Change) -> Answer {
        let (tx, rx) = oneshot::channel();
        let lead = {
            let mut inner = lock(&self.inner);
            inner.queue.push((key, change, tx));
            !std::mem::replace(&mut inner.leading, true)
        };
        if lead {
            let mut lead = Lead(Some(self.inner.clone()));
            // Let the other workers that are ready queue their changes.
            tokio::task::yield_now().await;
            loop {
                let batch = {
                    let mut inner = lock(&self.inner);
                    if inner.queue.is_empty() {
                        // Handing the lead back under the same lock: a change
                        // queued after this finds no leader and leads itself.
                        inner.leading = false;
                        lead.0 = None;
                        break;
                    }
                    std::mem::take(&mut inner.queue)
                };
                let (changes, senders): (Vec<_>, Vec<_>) =
                    batch.into_iter().map(|(k, c, tx)| ((k, c), tx)).unzip();
                let store = self.store.clone();
                let now = self.clock.now();
                let answers =
                    tokio::task::spawn_blocking(move || store.commit(&changes, now)).await;
                match answers {
                    Ok(Ok(answers)) => {
                        for (tx, a) in senders.into_iter().zip(answers) {
                            let _ = tx.send(a);
                        }
                    }
                    Ok(Err(e)) => {
                        let message = e.to_string();
                        for tx in senders {
                            let _ = tx.send(Err(StateError::Refused(message.clone())));
                        }
                    }
                    Err(join) => {
                        for tx in senders {
                            let _ = tx.send(Err(StateError::Refused(format!(
                                "the state store write did not finish: {join}"
                            ))));
                        }
                    }
                }
            }
        }
        rx.await.unwrap_or_else(|_| {
            Err(StateError::Refused(
                "the state store write was abandoned".into(),
            ))
        })
    }

    /// Commits `change` at once, on this thread (a thread part, which the
    /// next part waits for anyway).
    pub(crate) fn commit_now(&self, key: String, change: Change) -> Answer {
        let mut answers = self.store.commit(&[(key, change)], self.clock.now())?;
        answers.pop().unwrap_or(Ok(None))
    }
}
