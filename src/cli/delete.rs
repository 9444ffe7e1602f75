//! `social delete`: take a published post back from its accounts.

use super::post::{TermProgress, exit, print_results, runtime};
use super::{Outcome, Project, Ui, usage};
use crate::model::PlatformError;
use crate::platforms::{self, Context};
use crate::publish::{Engine, TargetResult, Verdict, with_links};
use crate::state::{RemovalReason, State, Store, TargetRecord, TargetStatus};
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// Delete a published post from its accounts (every part, last first)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social delete 2026-12-01-launch
  social delete 2026-12-01-launch --to x,fedi --yes
  social delete 2026-12-01-launch --dry-run

Each part is recorded as it is deleted: a run that stops half-way (a rate
limit, a crash) goes on with the parts still there, from `social delete` or
`social publish --due`. A part already gone on the platform counts as
deleted. published.toml keeps the deletion, so that no clone publishes the
post again (`social retry POST --force` does, on purpose).

Instagram's API cannot delete a published post: the command says so and
prints its link, to delete it in the app.

To take a post back through a pull request instead, set `status: withdrawn`
in its frontmatter: `publish --due` and the daemon then delete it.")]
pub struct DeleteArgs {
    /// The post id
    pub post: String,
    /// Only these accounts, comma-separated (default: every account it was
    /// published to)
    #[arg(long, value_name = "ACCOUNTS", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Show the requests that would be sent, and send nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}

/// A target to take back, with the client's plan or why it cannot.
struct Candidate {
    target: TargetRecord,
    plan: Result<platforms::plan::Plan, PlatformError>,
}

pub fn run(ui: &Ui, project: &Project, args: DeleteArgs) -> Outcome {
    super::known_accounts(&project.config, &args.to)?;
    let store = project.store()?;
    project.sync(&store)?;
    let targets = post_targets(&store, &args.post)?;
    let published: Vec<&TargetRecord> = targets.iter().filter(|t| was_published(t)).collect();
    for a in &args.to {
        if !published.iter().any(|t| &t.account == a) {
            let on: Vec<&str> = published.iter().map(|t| t.account.as_str()).collect();
            let help = if on.is_empty() {
                "it was not published anywhere".to_string()
            } else {
                format!("it was published to: {}", on.join(", "))
            };
            return Err(usage(
                format!("post `{}` was not published to `{a}`", args.post),
                Some(help),
            ));
        }
    }
    let chosen: Vec<&TargetRecord> = published
        .into_iter()
        .filter(|t| args.to.is_empty() || args.to.contains(&t.account))
        .collect();
    let mut results: Vec<TargetResult> = Vec::new();
    let mut candidates = Vec::new();
    for t in chosen {
        if t.status == TargetStatus::Deleted {
            results.push(TargetResult {
                post: t.post_id.clone(),
                account: t.account.clone(),
                result: Verdict::Skipped {
                    state: State::Deleted,
                    reason: "deleted already".into(),
                },
            });
            continue;
        }
        candidates.push(Candidate {
            plan: plan(project, t),
            target: t.clone(),
        });
    }
    if candidates.is_empty() && results.is_empty() {
        ui.error(
            &format!("post `{}` has nothing published to delete", args.post),
            Some("`social status POST` shows where it stands"),
        );
        return Ok(ExitCode::from(1));
    }
    if args.dry_run {
        return dry_run(ui, &candidates);
    }
    // A platform that cannot delete is told at once: nothing is recorded.
    let (deletable, refused): (Vec<Candidate>, Vec<Candidate>) = candidates
        .into_iter()
        .partition(|c| !matches!(c.plan, Err(PlatformError::Unsupported { .. })));
    for c in &refused {
        let message = match &c.plan {
            Err(e) => e.to_string(),
            Ok(_) => String::new(),
        };
        results.push(TargetResult {
            post: c.target.post_id.clone(),
            account: c.target.account.clone(),
            result: Verdict::NotDeletable {
                error: with_links(&message, &c.target),
            },
        });
    }
    if !deletable.is_empty() && !confirm(&args, &deletable)? {
        ui.note("nothing was deleted");
        return Ok(ExitCode::from(1));
    }
    if !deletable.is_empty() {
        let accounts: Vec<String> = deletable.iter().map(|c| c.target.account.clone()).collect();
        let now = crate::clock::now();
        for r in store.request_delete(&args.post, Some(&accounts), RemovalReason::Command, now)? {
            if let Err(m) = r {
                ui.error(&m, None);
            }
        }
        let engine = Engine::new(project.config.clone(), store)?;
        // The request is in published.toml before anything is sent.
        engine.flush_ledger();
        let keys: Vec<(String, String)> = accounts
            .into_iter()
            .map(|a| (args.post.clone(), a))
            .collect();
        let progress = TermProgress::new(ui, args.json);
        let rt = runtime()?;
        results.extend(rt.block_on(engine.delete_targets(&keys, true, &progress)));
    }
    print_results(ui, &results, args.json)?;
    Ok(exit(&results, false))
}

/// The targets of post `id`; an unknown id is a usage error with the ids
/// closest to it.
fn post_targets(store: &Store, id: &str) -> anyhow::Result<Vec<TargetRecord>> {
    let targets = store.targets(Some(id))?;
    if store.post(id)?.is_none() && targets.is_empty() {
        let ids: Vec<String> = store.posts()?.into_iter().map(|p| p.id).collect();
        let help = crate::diag::suggest(id, ids.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some("`social status` lists the posts".into()));
        return Err(usage(format!("no post with id `{id}`"), help));
    }
    Ok(targets)
}

/// Whether some part of the target is (or was) on the platform.
fn was_published(t: &TargetRecord) -> bool {
    t.status.is_removal() || (!t.parts.is_empty() && t.status != TargetStatus::Posting)
}

/// The delete requests for the parts still there, last first.
pub(super) fn plan(
    project: &Project,
    t: &TargetRecord,
) -> Result<platforms::plan::Plan, PlatformError> {
    let Some(account) = project.config.accounts.get(&t.account) else {
        return Err(PlatformError::config(format!(
            "account `{}` is no longer in social.toml; add it back to delete what was published there",
            t.account
        )));
    };
    let ctx = Context {
        http: platforms::http::Http::new()?,
        // No credential is needed to describe a request.
        secret: Some(crate::credentials::Secret::new("dry-run")),
        memo: None,
    };
    platforms::connect(account, ctx)?.plan_delete(&t.parts_to_delete())
}

fn dry_run(ui: &Ui, candidates: &[Candidate]) -> Outcome {
    let doc: Vec<serde_json::Value> = candidates
        .iter()
        .map(|c| {
            let requests = match &c.plan {
                Ok(p) => p.describe(),
                Err(e) => {
                    vec![serde_json::json!({ "error": with_links(&e.to_string(), &c.target) })]
                }
            };
            serde_json::json!({
                "post": c.target.post_id,
                "account": c.target.account,
                "parts": c.target.parts_to_delete().len(),
                "requests": requests,
            })
        })
        .collect();
    let mut out = ui.out();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    if !ui.quiet {
        ui.note("dry run: nothing was sent");
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks before deleting, on a terminal; off a terminal `--yes` is required.
fn confirm(args: &DeleteArgs, deletable: &[Candidate]) -> anyhow::Result<bool> {
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            "refusing to delete without confirmation: standard input is not a terminal",
            Some("pass --yes to delete without asking".into()),
        ));
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "This deletes from the platforms:")?;
    for c in deletable {
        let parts = c.target.parts_to_delete();
        let link = parts
            .last()
            .and_then(|(_, p)| p.url.clone())
            .unwrap_or_default();
        writeln!(
            err,
            "  {} → {}: {} part(s) {link}",
            c.target.post_id,
            c.target.account,
            parts.len()
        )?;
    }
    write!(err, "Delete? [y/N] ")?;
    err.flush()?;
    drop(err);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
