//! `social status`: where each target stands.

use super::output::{Styles, table};
use super::{Outcome, Project, Ui, usage};
use crate::content::time;
use crate::state::{TargetRecord, TargetStatus, from_ms};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Show where each target (post × account) stands: status, time, attempts, errors, URLs
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social status                       Every target
  social status 2026-12-01-launch     One post
  social status --json")]
pub struct StatusArgs {
    /// A post id (default: every post)
    pub post: Option<String>,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    post: &'a str,
    account: &'a str,
    status: TargetStatus,
    scheduled: Option<String>,
    attempts: u32,
    last_error: Option<&'a str>,
    urls: Vec<&'a str>,
    posted_at: Option<String>,
}

pub fn run(ui: &Ui, project: &Project, args: StatusArgs) -> Outcome {
    let store = project.store()?;
    let report = project.sync(&store)?;
    if let Some(id) = &args.post
        && store.post(id)?.is_none()
    {
        let ids: Vec<String> = store.posts()?.into_iter().map(|p| p.id).collect();
        let help = crate::diag::suggest(id, ids.iter().map(String::as_str))
            .map(|s| format!("did you mean `{s}`?"));
        let blocked = report.blocked.contains(id);
        return Err(usage(
            if blocked {
                format!("post `{id}` has errors and is not scheduled; run `social validate`")
            } else {
                format!("no post with id `{id}`")
            },
            help,
        ));
    }
    let targets = store.targets(args.post.as_deref())?;
    let tz = project.config.timezone;
    let fmt = |ms: Option<i64>| ms.and_then(from_ms).map(|t| time::format_local(t, tz));
    let rows: Vec<Row> = targets
        .iter()
        .map(|t: &TargetRecord| Row {
            post: &t.post_id,
            account: &t.account,
            status: t.status,
            scheduled: fmt(t.due.or(t.slot)),
            attempts: t.attempts,
            last_error: t.last_error.as_deref(),
            urls: t.parts.iter().filter_map(|p| p.url.as_deref()).collect(),
            posted_at: fmt(t.posted_at),
        })
        .collect();
    if args.json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &rows)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = ui.out();
    if rows.is_empty() {
        writeln!(
            out,
            "no targets yet: write a post with `social new`, then `social schedule`"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = table(&["post", "account", "status", "when", "tries", "result"]);
    for r in &rows {
        let result = match (r.status, r.urls.is_empty(), r.last_error) {
            (_, false, _) => r.urls.join("\n"),
            (_, true, Some(e)) => e.to_string(),
            _ => String::new(),
        };
        let when = match r.status {
            TargetStatus::Posted => r.posted_at.clone(),
            _ => r.scheduled.clone(),
        };
        t.add_row(vec![
            r.post.to_string(),
            r.account.to_string(),
            r.status.to_string(),
            when.unwrap_or_else(|| "—".into()),
            r.attempts.to_string(),
            result,
        ]);
    }
    writeln!(out, "{t}")?;
    match crate::daemon::running(&project.config) {
        Some(d) => writeln!(
            out,
            "{}daemon: running (pid {}, since {}){}",
            Styles::DIM.render(),
            d.pid,
            time::format_local(d.started_at, tz),
            Styles::DIM.render_reset()
        )?,
        None => writeln!(
            out,
            "{}daemon: not running{}",
            Styles::DIM.render(),
            Styles::DIM.render_reset()
        )?,
    }
    if let Some((at, key)) = store.next_due()? {
        writeln!(
            out,
            "{}next due: {key} at {} ({}){}",
            Styles::DIM.render(),
            time::format_local(at, tz),
            time::relative(at, crate::clock::now()),
            Styles::DIM.render_reset()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
