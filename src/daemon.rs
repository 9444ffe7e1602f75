//! `social daemon`: the long-running scheduler. It sleeps until the earliest
//! of the next due time (a timer, not a polling loop), a change in the
//! project's files (debounced), a periodic job, or a signal; then it syncs
//! what changed and publishes what is due.

use crate::config::Config;
use crate::publish::{self, Engine, Progress};
use crate::state::Store;
use chrono::{DateTime, Utc};
use notify::{RecursiveMode, Watcher};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long to wait after a file event for more of the same burst.
pub const DEBOUNCE: Duration = Duration::from_millis(150);
/// The longest the daemon sleeps without looking at the clock again.
pub const MAX_SLEEP: Duration = Duration::from_secs(15 * 60);
/// How long requests in flight may take to finish after SIGTERM.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// What `.social/daemon.json` says about the running daemon.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DaemonInfo {
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub host: String,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another social daemon is running for this project (pid {pid}, since {since})")]
    AlreadyRunning { pid: String, since: String },
    #[error("{0}")]
    Watch(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

fn social_dir(config: &Config) -> PathBuf {
    config.root.join(".social")
}

/// The running daemon of a project, if any: its lock is held and its info readable.
pub fn running(config: &Config) -> Option<DaemonInfo> {
    let dir = social_dir(config);
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("daemon.lock"))
        .ok()?;
    match lock.try_lock() {
        // We got the lock: nobody holds it.
        Ok(()) => None,
        Err(_) => std::fs::read(dir.join("daemon.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok()),
    }
}

/// The lock that makes a daemon the only one of its project; released on drop.
pub struct DaemonLock {
    _file: std::fs::File,
    info_path: PathBuf,
}

impl Drop for DaemonLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.info_path);
    }
}

/// Takes the project's daemon lock, or says who holds it.
pub fn lock(config: &Config) -> Result<DaemonLock, DaemonError> {
    let dir = social_dir(config);
    crate::fsx::private_dir(&dir)?;
    let file = crate::fsx::private_open(&dir.join("daemon.lock"))?;
    let info_path = dir.join("daemon.json");
    if file.try_lock().is_err() {
        let info: Option<DaemonInfo> = std::fs::read(&info_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        return Err(DaemonError::AlreadyRunning {
            pid: info
                .as_ref()
                .map(|i| i.pid.to_string())
                .unwrap_or_else(|| "unknown".into()),
            since: info
                .map(|i| {
                    i.started_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                })
                .unwrap_or_else(|| "unknown".into()),
        });
    }
    let info = DaemonInfo {
        pid: std::process::id(),
        started_at: crate::clock::now(),
        host: crate::state::process_tag()
            .rsplit_once(':')
            .map(|(h, _)| h.to_string())
            .unwrap_or_default(),
    };
    crate::fsx::write_private(
        &info_path,
        serde_json::to_vec_pretty(&info).unwrap_or_default(),
    )?;
    Ok(DaemonLock {
        _file: file,
        info_path,
    })
}

/// A change the daemon reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Content,
    Config,
}

/// Whether a changed path matters: not inside a hidden directory (.social,
/// .git), not an editor's temporary file.
fn classify(root: &Path, path: &Path) -> Option<Change> {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let hidden = rel
        .components()
        .any(|c| c.as_os_str().to_str().is_some_and(|s| s.starts_with('.')));
    if hidden {
        return None;
    }
    let name = rel.file_name()?.to_str()?;
    if name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.starts_with(".#")
        || name.ends_with(".tmp")
    {
        return None;
    }
    if rel == Path::new(crate::config::CONFIG_FILE) {
        Some(Change::Config)
    } else {
        Some(Change::Content)
    }
}

/// A periodic job on the daemon's one timer.
struct Periodic {
    name: &'static str,
    every: chrono::Duration,
    next: DateTime<Utc>,
}

/// Runs the daemon until SIGINT or SIGTERM.
pub async fn run(
    config: Config,
    store_path: PathBuf,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    let _lock = lock(&config)?;
    let root = config.root.clone();
    tracing::info!(pid = std::process::id(), project = %root.display(), "daemon started");

    // File events: notify calls back on its own thread; forward what matters.
    let (tx, mut rx) = mpsc::unbounded_channel::<Change>();
    let watch_root = root.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res {
            if matches!(ev.kind, notify::EventKind::Access(_)) {
                return;
            }
            for p in &ev.paths {
                if let Some(c) = classify(&watch_root, p) {
                    let _ = tx.send(c);
                }
            }
        }
    })
    .map_err(watch_error)?;
    watcher
        .watch(&root, RecursiveMode::Recursive)
        .map_err(watch_error)?;

    let mut config = config;
    let store = Store::open(&store_path)?;
    let mut engine = Engine::new(config.clone(), store.clone())?;
    let mut periodic = [
        Periodic {
            name: "credentials check",
            every: chrono::Duration::days(1),
            // Both run once at start: a missing credential is reported at once.
            next: crate::clock::now(),
        },
        Periodic {
            name: "server limits",
            every: chrono::Duration::days(1),
            next: crate::clock::now(),
        },
    ];

    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let mut sighup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;

    let mut dirty = true;
    loop {
        if dirty {
            dirty = false;
            match crate::state::sync::sync(&store, &config, crate::clock::now()) {
                Ok(r) => {
                    for d in r.diagnostics.iter().filter(|d| d.is_error()) {
                        tracing::warn!(file = %d.path.display(), line = d.line, "{}", d.message);
                    }
                    tracing::debug!(
                        files = r.files,
                        read = r.read,
                        updated = r.updated,
                        removed = r.removed,
                        "synced"
                    );
                }
                Err(e) => tracing::error!("sync failed: {e}"),
            }
        }

        // Publish what is due; a signal now stops new work and lets requests in flight finish.
        let stopped = {
            let mut work = std::pin::pin!(publish::publish_due(&engine, progress));
            let stop = tokio::select! {
                r = &mut work => {
                    if let Err(e) = r {
                        tracing::error!("publishing failed: {e}");
                    }
                    None
                }
                _ = sigterm.recv() => Some("SIGTERM"),
                _ = sigint.recv() => Some("SIGINT"),
            };
            if let Some(sig) = stop {
                tracing::info!("{sig}: finishing requests in flight");
                engine.stop.store(true, Ordering::SeqCst);
                if tokio::time::timeout(SHUTDOWN_GRACE, work).await.is_err() {
                    tracing::warn!(
                        "requests still in flight after {SHUTDOWN_GRACE:?}; the next start reconciles them"
                    );
                }
            }
            stop.is_some()
        };
        if stopped {
            break;
        }

        // Sleep until the next due time, a periodic job, a change or a signal.
        release_freed_memory();
        let now = crate::clock::now();
        let next_due = match store.next_due() {
            Ok(n) => n.map(|(t, _)| t),
            Err(e) => {
                tracing::error!("reading the schedule failed: {e}");
                None
            }
        };
        let next_job = periodic.iter().map(|p| p.next).min();
        let wake = [next_due, next_job].into_iter().flatten().min();
        let sleep = wake
            .map(|t| (t - now).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        if let Some(t) = next_due {
            tracing::debug!(next_due = %t.to_rfc3339(), sleep_ms = sleep.as_millis() as u64, "sleeping");
        }
        tokio::select! {
            _ = tokio::time::sleep(sleep) => {}
            Some(change) = rx.recv() => {
                // Let the burst (an editor's save, a git pull) settle into one sync.
                let mut reload = change == Change::Config;
                while let Ok(Some(c)) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    reload |= c == Change::Config;
                }
                if reload {
                    reload_config(&root, &mut config, &mut engine, &store);
                }
                dirty = true;
            }
            _ = sighup.recv() => {
                reload_config(&root, &mut config, &mut engine, &store);
                dirty = true;
            }
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); break; }
        }

        let now = crate::clock::now();
        for job in periodic.iter_mut().filter(|p| p.next <= now) {
            job.next = now + job.every;
            match job.name {
                "credentials check" => check_credentials(&engine).await,
                "server limits" => {
                    publish::refresh_server_limits(&engine).await;
                    // Validation during sync uses the new limits.
                    reload_config(&root, &mut config, &mut engine, &store);
                }
                _ => {}
            }
        }
    }
    drop(watcher);
    tracing::info!("daemon stopped");
    Ok(())
}

/// Hands memory freed after a sync back to the system, so that the idle
/// daemon stays small (glibc keeps freed heap pages otherwise).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: malloc_trim only returns free pages of the heap to the system.
        unsafe {
            malloc_trim(0);
        }
    }
}

fn watch_error(e: notify::Error) -> DaemonError {
    let msg = e.to_string();
    if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) || msg.contains("No space left") {
        DaemonError::Watch(format!(
            "cannot watch the project's files: the system's limit of file watches is reached ({msg}); raise it with `sysctl fs.inotify.max_user_watches=524288`"
        ))
    } else {
        DaemonError::Watch(format!("cannot watch the project's files: {msg}"))
    }
}

/// Reloads social.toml; a bad file keeps the old configuration, logged.
fn reload_config(root: &Path, config: &mut Config, engine: &mut Engine, store: &Store) {
    match Config::load(root) {
        Ok(c) => {
            tracing::info!("configuration reloaded");
            *config = c;
            match Engine::new(config.clone(), store.clone()) {
                Ok(e) => *engine = e,
                Err(e) => tracing::error!("cannot rebuild the publishing engine: {e}"),
            }
        }
        Err(e) => {
            tracing::error!("social.toml has an error; keeping the previous configuration: {e}")
        }
    }
}

/// The daily credentials check: renews tokens close to expiry; warns about
/// logins that run out soon and accounts without a credential.
async fn check_credentials(engine: &Engine) {
    use crate::credentials::RefreshOutcome;
    for (account, r) in engine.credentials.maintain(&engine.config).await {
        match r {
            Ok(RefreshOutcome::Renewed { expires_at }) => {
                tracing::info!(account = %account, expires_at = ?expires_at, "credentials check: token renewed")
            }
            Ok(RefreshOutcome::Skipped(reason)) => {
                tracing::debug!(account = %account, "credentials check: {reason}")
            }
            Err(e) => {
                tracing::warn!(account = %account, error = %e, "credentials check: renewing the token failed")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_ignores_hidden_and_temporary_files() {
        let root = Path::new("/p");
        assert_eq!(
            classify(root, Path::new("/p/posts/a.md")),
            Some(Change::Content)
        );
        assert_eq!(
            classify(root, Path::new("/p/social.toml")),
            Some(Change::Config)
        );
        assert_eq!(classify(root, Path::new("/p/.social/state.redb")), None);
        assert_eq!(classify(root, Path::new("/p/.git/index")), None);
        assert_eq!(classify(root, Path::new("/p/posts/.a.md.swp")), None);
        assert_eq!(classify(root, Path::new("/p/posts/a.md~")), None);
    }
}
