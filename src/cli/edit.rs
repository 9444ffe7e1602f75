//! `social edit`: make published posts say what their file says now.

use super::post::{TermProgress, exit, print_results, runtime};
use super::{Outcome, Project, Ui, usage};
use crate::model::PlatformError;
use crate::platforms::{self, Context, EditMode, Job};
use crate::publish::{Engine, Ready, TargetResult, Verdict, with_links};
use crate::state::{RemovalReason, State, TargetRecord, TargetStatus};
use crate::validate::{self, Options};
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

/// Edit a published post to match its file, where the platform can edit
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social edit 2026-12-01-launch
  social edit 2026-12-01-launch --to fedi --yes
  social edit 2026-12-01-launch --dry-run
  social edit 2026-12-01-launch --to bsky --force
  social edit 2026-12-01-launch --to x --repost

Mastodon edits the text, content warning, language and media descriptions
in place; LinkedIn the text. Bluesky can replace a post's record, but other
people may already have replied to or quoted it: only with --force. X
cannot edit published posts, and an edit cannot add or remove thread parts
or media: with --repost, such a post is deleted there (every part, last
first) and the file published again as a new post, with new links; replies,
likes and reposts of the old post stay with the old post. Instagram's API
can neither edit nor delete a published post: the command names its link,
to edit it in the app.

With `edits = \"apply\"` in social.toml, `social publish --due` and the
daemon edit published posts whose file changed (Bluesky never: it needs
--force).")]
pub struct EditArgs {
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
    /// Also edit where that changes a post others may have replied to or
    /// quoted (Bluesky)
    #[arg(long)]
    pub force: bool,
    /// Where the platform cannot make the edit, delete the post there and
    /// publish the file again as a new post (both confirmed together)
    #[arg(long)]
    pub repost: bool,
    /// Print the results as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ui: &Ui, project: &Project, args: EditArgs) -> Outcome {
    super::known_accounts(&project.config, &args.to)?;
    let store = project.store()?;
    project.sync(&store)?;
    let Some(record) = store.post(&args.post)? else {
        let ids: Vec<String> = store.posts()?.into_iter().map(|p| p.id).collect();
        let help = crate::diag::suggest(&args.post, ids.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| Some("`social status` lists the posts".into()));
        return Err(usage(format!("no post with id `{}`", args.post), help));
    };
    let Some(rel) = record.path.clone() else {
        return Err(usage(
            format!(
                "the file of post `{}` is gone: there is nothing to edit it to",
                args.post
            ),
            Some(
                "restore the file (git checkout), or `social delete` to take the post back".into(),
            ),
        ));
    };
    let path = crate::content::files::display_path(&project.config.root.join(&rel));
    let report = validate::check_file(&path, &project.config, &Options::default());
    let checked = match report.checked {
        Some(c) if !report.diagnostics.iter().any(|d| d.is_error()) => c,
        _ => {
            ui.error(
                &format!(
                    "{}: the file has errors; run `social validate`",
                    path.display()
                ),
                None,
            );
            return Ok(ExitCode::from(1));
        }
    };
    let ready = Arc::new(Ready { checked });
    let targets = store.targets(Some(&args.post))?;
    let published: Vec<&TargetRecord> = targets
        .iter()
        .filter(|t| t.status == TargetStatus::Posted)
        .collect();
    for a in &args.to {
        if !published.iter().any(|t| &t.account == a) {
            let on: Vec<&str> = published.iter().map(|t| t.account.as_str()).collect();
            return Err(usage(
                format!("post `{}` is not published on `{a}`", args.post),
                Some(if on.is_empty() {
                    "it is not published anywhere".into()
                } else {
                    format!("it is published on: {}", on.join(", "))
                }),
            ));
        }
    }
    let mode = EditMode { force: args.force };
    let hash = ready.checked.post.content_hash();
    let mut results = Vec::new();
    let mut work = Vec::new();
    let mut doc = Vec::new();
    let mut reposts: Vec<String> = Vec::new();
    for t in published
        .into_iter()
        .filter(|t| args.to.is_empty() || args.to.contains(&t.account))
    {
        if t.content_hash == hash {
            results.push(skipped(t, "published as the file is now: nothing to edit"));
            continue;
        }
        let plan = plan(project, &ready, t, mode);
        let plan = match plan {
            Err(PlatformError::Unsupported { message }) if args.repost => {
                match super::delete::plan(project, t) {
                    Ok(delete) => {
                        if args.dry_run {
                            doc.push(serde_json::json!({
                                "post": t.post_id,
                                "account": t.account,
                                "repost": true,
                                "why": with_links(&message, t),
                                "requests": delete.describe(),
                                "then": "publish the post again, as `social post` does",
                            }));
                        } else {
                            reposts.push(t.account.clone());
                        }
                        continue;
                    }
                    Err(e) => Err(PlatformError::unsupported(format!(
                        "{message}; and it cannot be reposted: {e}"
                    ))),
                }
            }
            other => other,
        };
        if args.dry_run {
            doc.push(serde_json::json!({
                "post": t.post_id,
                "account": t.account,
                "requests": match &plan {
                    Ok(p) => p.describe(),
                    Err(e) => vec![serde_json::json!({ "error": with_links(&e.to_string(), t) })],
                },
            }));
            continue;
        }
        match plan {
            Err(e @ (PlatformError::Unsupported { .. } | PlatformError::Config { .. })) => results
                .push(TargetResult {
                    post: t.post_id.clone(),
                    account: t.account.clone(),
                    result: Verdict::EditFailed {
                        error: with_links(&e.to_string(), t),
                        retry_at: None,
                    },
                }),
            _ => work.push((ready.clone(), t.account.clone())),
        }
    }
    if args.dry_run {
        let mut out = ui.out();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
        if !ui.quiet {
            ui.note("dry run: nothing was sent");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if results.is_empty() && work.is_empty() && reposts.is_empty() {
        ui.error(
            &format!("post `{}` is not published anywhere to edit", args.post),
            Some("`social status POST` shows where it stands"),
        );
        return Ok(ExitCode::from(1));
    }
    let editing: Vec<&str> = work.iter().map(|(_, a)| a.as_str()).collect();
    let anything = !(work.is_empty() && reposts.is_empty());
    if anything && !confirm(&args, &editing, &reposts)? {
        ui.note("nothing was edited");
        return Ok(ExitCode::from(1));
    }
    if anything {
        let engine = Engine::new(project.config.clone(), store)?;
        let progress = TermProgress::new(ui, args.json);
        let rt = runtime()?;
        if !work.is_empty() {
            results.extend(rt.block_on(engine.edit_targets(work, mode, false, &progress)));
        }
        if !reposts.is_empty() {
            results.extend(rt.block_on(repost(ui, &engine, ready, &reposts, &progress))?);
        }
    }
    print_results(ui, &results, args.json)?;
    Ok(exit(&results, false))
}

fn skipped(t: &TargetRecord, reason: &str) -> TargetResult {
    TargetResult {
        post: t.post_id.clone(),
        account: t.account.clone(),
        result: Verdict::Skipped {
            state: State::Posted,
            reason: reason.into(),
        },
    }
}

/// The edit requests for one published target (no credential needed).
fn plan(
    project: &Project,
    ready: &Ready,
    t: &TargetRecord,
    mode: EditMode,
) -> Result<platforms::plan::Plan, PlatformError> {
    let c = &ready.checked;
    let Some(mut account) = project.config.accounts.get(&t.account).cloned() else {
        return Err(PlatformError::config(format!(
            "account `{}` is no longer in social.toml",
            t.account
        )));
    };
    if account.media_base_url.is_none() {
        account.media_base_url = project.config.media_base_url.clone();
    }
    let Some(rendered) = c.rendered.iter().find(|r| r.account == t.account) else {
        return Err(PlatformError::config(format!(
            "post `{}` no longer goes to {}: add it back to `to` to edit it there",
            t.post_id, t.account
        )));
    };
    let ctx = Context {
        http: platforms::http::Http::new()?,
        secret: Some(crate::credentials::Secret::new("dry-run")),
        memo: None,
    };
    let client = platforms::connect(&account, ctx)?;
    let job = Job {
        post: &c.post,
        account: &account,
        rendered,
        media: &c.media,
        done: &t.parts,
        idempotency_key: t.idempotency_key.as_deref().unwrap_or_default(),
        first_claimed: crate::clock::now(),
        scheduled: c.post.at.as_ref().map(|a| a.instant),
        reply_to: None,
    };
    client.plan_edit(&job, mode)
}

/// Deletes the post from `accounts` (recorded as `social delete` records
/// it), then publishes it again where the deletion finished: a new
/// generation, so its idempotency handles are new and no platform or clone
/// mistakes it for the deleted post. Where the deletion stopped half-way,
/// nothing is published; `social delete` (or `publish --due`) finishes it.
async fn repost(
    ui: &Ui,
    engine: &Engine,
    ready: Arc<Ready>,
    accounts: &[String],
    progress: &TermProgress,
) -> anyhow::Result<Vec<TargetResult>> {
    let post = ready.checked.post.id.clone();
    let store = &engine.store;
    for r in store.request_delete(&post, Some(accounts), RemovalReason::Command, engine.now())? {
        if let Err(m) = r {
            ui.error(&m, None);
        }
    }
    // The request is in published.toml before anything is sent.
    engine.flush_ledger();
    let keys: Vec<(String, String)> = accounts.iter().map(|a| (post.clone(), a.clone())).collect();
    let mut results = engine.delete_targets(&keys, true, progress).await;
    let mut again = Vec::new();
    for r in &results {
        if !matches!(r.result, Verdict::Deleted { .. }) {
            continue;
        }
        for done in store.retry(&post, Some(&r.account), engine.now(), true)? {
            match done {
                Ok(_) => again.push((ready.clone(), r.account.clone())),
                Err(m) => ui.error(&m, None),
            }
        }
    }
    engine.flush_ledger();
    if !again.is_empty() {
        results.extend(engine.publish_now(again, progress).await);
    }
    Ok(results)
}

/// Asks before editing, on a terminal; off a terminal `--yes` is required.
fn confirm(args: &EditArgs, editing: &[&str], reposts: &[String]) -> anyhow::Result<bool> {
    if args.yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            "refusing to edit without confirmation: standard input is not a terminal",
            Some("pass --yes to edit without asking".into()),
        ));
    }
    let mut err = std::io::stderr().lock();
    if !editing.is_empty() {
        writeln!(
            err,
            "Edit the published `{}` on {} to match its file.",
            args.post,
            editing.join(", ")
        )?;
    }
    if !reposts.is_empty() {
        writeln!(
            err,
            "Delete `{}` from {} (every part), then publish it there again as a new post, with new links.",
            args.post,
            reposts.join(", ")
        )?;
    }
    write!(err, "Go ahead? [y/N] ")?;
    err.flush()?;
    drop(err);
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
