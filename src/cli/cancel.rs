//! `social cancel` and `social retry`: act on targets in the store.

use super::{Outcome, Project, Ui, usage};
use crate::state::{Store, TargetRecord};
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

/// Stop a post from being published (all accounts, or one)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social cancel 2026-12-01-launch
  social cancel 2026-12-01-launch --to x")]
pub struct CancelArgs {
    /// The post id
    pub post: String,
    /// Only this account
    #[arg(long, value_name = "ACCOUNT")]
    pub to: Option<String>,
}

/// Put failed, unconfirmed or cancelled targets back on the schedule
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social retry 2026-12-01-launch
  social retry 2026-12-01-launch --to fedi
  social retry 2026-12-01-launch --force     Publish a deleted post again")]
pub struct RetryArgs {
    /// The post id
    pub post: String,
    /// Only this account
    #[arg(long, value_name = "ACCOUNT")]
    pub to: Option<String>,
    /// Also publish again a post that was deleted (`social delete`, a
    /// withdrawn file): a new post on the platform, with new links
    #[arg(long)]
    pub force: bool,
}

fn check_post(
    store: &Store,
    project: &Project,
    post: &str,
    to: Option<&str>,
) -> anyhow::Result<()> {
    if store.post(post)?.is_none() {
        let ids: Vec<String> = store.posts()?.into_iter().map(|p| p.id).collect();
        let help = crate::diag::suggest(post, ids.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"));
        return Err(usage(format!("no post with id `{post}`"), help));
    }
    super::known_accounts(&project.config, to)?;
    Ok(())
}

/// Prints what changed. With one account named, a refusal is a failure; for a
/// whole post, refused targets are notes unless nothing changed at all.
fn report(
    ui: &Ui,
    results: Vec<Result<TargetRecord, String>>,
    verb: &str,
    one_account: bool,
) -> Outcome {
    let mut out = ui.out();
    let changed = results.iter().filter(|r| r.is_ok()).count();
    let strict = one_account || changed == 0;
    for r in results {
        match r {
            Ok(t) => writeln!(
                out,
                "{verb} {} → {} (now {})",
                t.post_id, t.account, t.status
            )?,
            Err(m) if strict => ui.error(&m, None),
            Err(m) => ui.note(&format!("skipped: {m}")),
        }
    }
    Ok(if changed == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn run_cancel(ui: &Ui, project: &Project, args: CancelArgs) -> Outcome {
    let store = project.store()?;
    project.sync(&store)?;
    check_post(&store, project, &args.post, args.to.as_deref())?;
    let results = store.cancel(&args.post, args.to.as_deref())?;
    if results.is_empty() {
        return Err(usage(
            format!("post `{}` has no targets to cancel", args.post),
            None,
        ));
    }
    record(ui, project, &store);
    report(ui, results, "cancelled", args.to.is_some())
}

/// Writes the decision to published.toml, where `state rebuild` and a fresh
/// clone read it; a failed write is kept in the store for the next run.
fn record(ui: &Ui, project: &Project, store: &Store) {
    if let Err(e) = store.flush_ledger(&project.config.root, crate::clock::now()) {
        ui.warn(&format!(
            "{e}; the store keeps the change and the next run writes it to published.toml"
        ));
    }
}

pub fn run_retry(ui: &Ui, project: &Project, args: RetryArgs) -> Outcome {
    let store = project.store()?;
    project.sync(&store)?;
    check_post(&store, project, &args.post, args.to.as_deref())?;
    let results = store.retry(
        &args.post,
        args.to.as_deref(),
        crate::clock::now(),
        args.force,
    )?;
    if results.is_empty() {
        return Err(usage(
            format!("post `{}` has no targets to retry", args.post),
            None,
        ));
    }
    record(ui, project, &store);
    report(ui, results, "re-queued", args.to.is_some())
}
