//! `social status`: where each target stands.

use super::output::{Styles, table};
use super::{Outcome, Project, Ui, usage};
use crate::content::time;
use crate::state::{State, TargetRecord, from_ms};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::Args;
use comfy_table::Cell;
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
    /// The target's state by its one name (`scheduled`, `will-retry`, `missed`, …).
    status: State,
    /// When it is due, or was due when it was missed (RFC 3339 with offset).
    scheduled: Option<String>,
    /// When a will-retry target is tried again.
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_at: Option<String>,
    attempts: u32,
    last_error: Option<&'a str>,
    urls: Vec<&'a str>,
    posted_at: Option<String>,
    /// Who asked for a deletion (`command`, `withdrawn`), once asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    removal: Option<&'static str>,
    /// Parts deleted so far, while deleting or deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_parts: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted_at: Option<String>,
    /// When the published post was last edited (`social edit`, `edits = "apply"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    edited_at: Option<String>,
    /// The post's file is gone (deleting a file deletes nothing online).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    file_removed: bool,
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
    let removed: std::collections::HashSet<String> = store
        .posts()?
        .into_iter()
        .filter(|p| p.path.is_none())
        .map(|p| p.id)
        .collect();
    let rows: Vec<Row> = targets
        .iter()
        .map(|t| row(t, tz, removed.contains(&t.post_id)))
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
    let when = format!("when ({})", zone_label(&targets, tz));
    let width = super::output::width();
    // What the columns before `result` take (a long post id wraps at 24).
    let widest = |f: &dyn Fn(&Row) -> usize, header: &str| {
        rows.iter().map(f).max().unwrap_or(0).max(header.len())
    };
    let others = widest(&|r| r.post.chars().count().min(24), "post")
        + widest(&|r| r.account.chars().count(), "account")
        + widest(&|r| r.status.name().len(), "state")
        + "2026-05-04 12:00".len().max(when.len())
        + "tries".len()
        + 5 * 2;
    let mut notes = super::output::Notes::new(width, others);
    let mut t = table(&["post", "account", "state", &when, "tries", "result"]);
    // States and times are read whole; the post id and the result give way.
    for (i, w) in [(2, widest(&|r| r.status.name().len(), "state")), (3, 16)] {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
                // The width counts the cell's padding.
                comfy_table::Width::Fixed(w as u16 + 2),
            ));
        }
    }
    for (r, target) in rows.iter().zip(&targets) {
        let mut result = match (r.urls.is_empty(), r.last_error) {
            (false, _) => r.urls.join("\n"),
            (true, Some(e)) => e.to_string(),
            _ => String::new(),
        };
        match r.status {
            State::Deleting => {
                let mut head = format!(
                    "{} of {} part(s) deleted",
                    r.deleted_parts.unwrap_or(0),
                    target.parts.len()
                );
                if r.removal == Some("withdrawn") {
                    head.push_str(" (withdrawn)");
                }
                if let Some(e) = r.last_error {
                    head = format!("{head}: {e}");
                }
                result = format!("{head}\n{}", r.urls.join("\n"));
            }
            State::Deleted => result = format!("deleted: {result}"),
            State::Posted if r.last_error.is_some() => {
                // A platform that refused to delete it.
                result = format!("{result}\n{}", r.last_error.unwrap_or_default());
            }
            _ => {}
        }
        if let Some(at) = target.edited_at.and_then(from_ms)
            && r.status == State::Posted
        {
            result = format!("edited {}\n{result}", clock_time(at, tz));
        }
        if r.file_removed {
            result = format!("published, file removed\n{result}");
        }
        let result = result.trim().to_string();
        let result = notes.cell(&format!("{} → {}", r.post, r.account), result);
        let at = match r.status {
            State::Posted => target.posted_at,
            State::Deleted => target.deleted_at,
            State::WillRetry => target.next_attempt,
            State::Missed => target.planned,
            State::WaitingForLogin => target.planned.or(target.due),
            _ => target.due.or(target.slot),
        };
        let when = at
            .and_then(from_ms)
            .map(|t| clock_time(t, tz))
            .unwrap_or_else(|| "—".into());
        t.add_row(vec![
            Cell::new(r.post),
            Cell::new(r.account),
            Cell::new(r.status.name()),
            Cell::new(when),
            Cell::new(r.attempts),
            Cell::new(result),
        ]);
    }
    writeln!(out, "{t}")?;
    notes.write(&mut out)?;
    match crate::daemon::running(&project.config) {
        Some(d) => writeln!(
            out,
            "{}daemon: running (pid {}, since {}){}",
            Styles::DIM.render(),
            d.pid,
            time::format_zoned(d.started_at, tz),
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
        let line = format!(
            "next due: {key} at {} ({})",
            time::format_zoned(at, tz),
            time::relative(at, crate::clock::now()),
        );
        let lines = super::output::wrap(&line, width.map_or(usize::MAX, usize::from), 2);
        for (i, l) in lines.iter().enumerate() {
            let indent = if i == 0 { "" } else { "  " };
            writeln!(
                out,
                "{}{indent}{l}{}",
                Styles::DIM.render(),
                Styles::DIM.render_reset()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn row(t: &TargetRecord, tz: Tz, file_removed: bool) -> Row<'_> {
    let rfc = |ms: Option<i64>| ms.and_then(from_ms).map(|t| time::rfc3339_in(t, tz));
    let state = t.state();
    Row {
        post: &t.post_id,
        account: &t.account,
        status: state,
        scheduled: rfc(match state {
            State::Missed | State::WaitingForLogin => t.planned.or(t.due),
            _ => t.due.or(t.slot).or(t.planned),
        }),
        retry_at: rfc(t.next_attempt.filter(|_| state == State::WillRetry)),
        attempts: t.attempts,
        last_error: t.last_error.as_deref(),
        urls: t.parts.iter().filter_map(|p| p.url.as_deref()).collect(),
        posted_at: rfc(t.posted_at),
        removal: t.removal.as_ref().map(|r| r.why.as_str()),
        deleted_parts: t.status.is_removal().then_some(t.deleted.len()),
        deleted_at: rfc(t.deleted_at),
        edited_at: rfc(t.edited_at),
        file_removed: file_removed && !t.status.is_removal(),
    }
}

/// The zone of the listing for its header: the abbreviations its times
/// use (`CET`, or `CET/CEST` across a change), after the zone's name.
fn zone_label(targets: &[TargetRecord], tz: Tz) -> String {
    super::output::zone_label(
        targets
            .iter()
            .flat_map(|t| [t.due, t.slot, t.posted_at, t.next_attempt, t.planned])
            .filter_map(|ms| ms.and_then(from_ms)),
        tz,
    )
}

/// A time for the table, in the listing's zone (named in the header).
fn clock_time(t: DateTime<Utc>, tz: Tz) -> String {
    time::format_local(t, tz)
}
