//! `social schedule`: sync the files into the store and show the timeline.

use super::output::{Styles, plural, table};
use super::{Outcome, Project, Ui};
use crate::content::time;
use crate::state::{State, TargetRecord, sync::SyncReport};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// Sync post files into the state store and show what is scheduled
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social schedule              The upcoming timeline
  social schedule --limit 10   The next ten
  social schedule --json       The same as data")]
pub struct ScheduleArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
    /// Show at most this many rows
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// One row of the timeline: a post's targets that share a time and state.
#[derive(Debug, Serialize)]
pub struct Row {
    /// RFC 3339 in the project timezone, with its offset.
    pub at: String,
    pub local: String,
    pub relative: String,
    pub post: String,
    pub accounts: Vec<String>,
    /// The target state by its one name (`scheduled`, `queued`, `will-retry`, …).
    pub status: State,
    #[serde(skip)]
    instant: chrono::DateTime<chrono::Utc>,
}

/// Groups timeline targets by (time, post, status).
pub fn rows(targets: &[TargetRecord], project: &Project) -> Vec<Row> {
    let now = crate::clock::now();
    let tz = project.config.timezone;
    let mut out: Vec<Row> = Vec::new();
    for t in targets {
        let Some(due) = t.due_time() else { continue };
        // A target waiting for a login lists at its own time.
        let due = match t.state() {
            State::WaitingForLogin => t.planned.and_then(crate::state::from_ms).unwrap_or(due),
            _ => due,
        };
        if let Some(last) = out.last_mut()
            && last.post == t.post_id
            && last.status == t.state()
            && last.instant == due
        {
            last.accounts.push(t.account.clone());
            continue;
        }
        out.push(Row {
            at: time::rfc3339_in(due, tz),
            local: time::format_local(due, tz),
            relative: time::relative(due, now),
            post: t.post_id.clone(),
            accounts: vec![t.account.clone()],
            status: t.state(),
            instant: due,
        });
    }
    out
}

/// Prints sync problems to stderr.
pub fn print_problems(ui: &Ui, report: &SyncReport) -> std::io::Result<()> {
    let mut err = ui.err();
    for d in &report.diagnostics {
        if d.is_error() || !ui.quiet {
            ui.diagnostic(&mut err, d)?;
        }
    }
    if !report.blocked.is_empty() {
        writeln!(
            err,
            "{}{} not scheduled{} because of errors: {}",
            Styles::ERROR.render(),
            plural(report.blocked.len(), "post"),
            Styles::ERROR.render_reset(),
            report.blocked.join(", ")
        )?;
    }
    Ok(())
}

#[derive(Serialize)]
struct Json<'a> {
    timezone: &'a str,
    now: String,
    upcoming: &'a [Row],
    on_demand: Vec<String>,
    blocked: &'a [String],
    problems: &'a [crate::diag::Diagnostic],
}

pub fn run(ui: &Ui, project: &Project, args: ScheduleArgs) -> Outcome {
    let store = project.store()?;
    let report = project.sync(&store)?;
    if ui.verbose > 0 {
        ui.note(&format!(
            "synced {} ({} read, {} updated, {} removed)",
            plural(report.files, "file"),
            report.read,
            report.updated,
            report.removed
        ));
    }
    let limit = args.limit.unwrap_or(usize::MAX);
    let timeline = store.timeline(limit.saturating_mul(8).max(limit))?;
    let mut rows = rows(&timeline, project);
    rows.truncate(limit);
    let on_demand = report.on_demand.clone();
    // Due long ago and not yet out: the next run marks it missed. Say so now.
    let now = crate::clock::now();
    let grace = chrono::Duration::from_std(project.config.catch_up).unwrap_or_default();
    for r in &rows {
        if matches!(
            r.status,
            State::Scheduled | State::Queued | State::WaitingForLogin
        ) && now - r.instant > grace
        {
            ui.warn(&format!(
                "{}: {} is {}, more than catch_up = {}: it will be marked missed instead of published; change `at` to reschedule it, or publish it now with `social post {}`",
                r.post,
                r.local,
                r.relative,
                humantime::format_duration(project.config.catch_up),
                r.post
            ));
        }
    }
    if args.json {
        let doc = Json {
            timezone: project.config.timezone.name(),
            now: crate::clock::now().to_rfc3339(),
            upcoming: &rows,
            on_demand,
            blocked: &report.blocked,
            problems: &report.diagnostics,
        };
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, &doc)?;
        writeln!(out)?;
    } else {
        print_problems(ui, &report)?;
        let mut out = ui.out();
        if rows.is_empty() {
            writeln!(out, "nothing scheduled")?;
        } else {
            let tz = project.config.timezone;
            let when = format!(
                "when ({})",
                super::output::zone_label(rows.iter().map(|r| r.instant), tz)
            );
            let mut t = table(&[&when, "", "post", "accounts", "state"]);
            for r in &rows {
                t.add_row(vec![
                    r.local.clone(),
                    r.relative.clone(),
                    r.post.clone(),
                    r.accounts.join(", "),
                    r.status.to_string(),
                ]);
            }
            writeln!(out, "{t}")?;
        }
        if !on_demand.is_empty() && !ui.quiet {
            writeln!(
                out,
                "{}{} without a time (publish with `social post`): {}{}",
                Styles::DIM.render(),
                plural(on_demand.len(), "post"),
                on_demand.join(", "),
                Styles::DIM.render_reset()
            )?;
        }
    }
    Ok(if report.blocked.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
