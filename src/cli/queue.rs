//! `social queue`: queues and their posting slots.

use super::output::{Styles, table};
use super::{Outcome, Project, Ui, usage};
use crate::content::time;
use crate::schedule;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

/// Show queues and which post fills each upcoming slot
#[derive(Debug, Args)]
pub struct QueueArgs {
    #[command(subcommand)]
    pub command: QueueCommand,
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Every queue: timezone, accounts, slots per week, posts waiting, next slot
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// A queue's upcoming slots and the post that fills each
    Show {
        /// The queue's name
        name: String,
        /// How many slots to show (default: every waiting post plus three free slots)
        #[arg(long, value_name = "N")]
        slots: Option<usize>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct QueueRow {
    name: String,
    timezone: String,
    accounts: Vec<String>,
    slots_per_week: usize,
    waiting: usize,
    /// RFC 3339 in the queue's timezone.
    next_slot: Option<String>,
    paused: bool,
    #[serde(skip)]
    next: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    tz: chrono_tz::Tz,
}

#[derive(Serialize)]
struct SlotRow {
    at: String,
    local: String,
    post: Option<String>,
}

pub fn run(ui: &Ui, project: &Project, args: QueueArgs) -> Outcome {
    let store = project.store()?;
    project.sync(&store)?;
    let now = crate::clock::now();
    let targets = store.targets(None)?;
    // Post id → held slot, per queue.
    let posts = store.posts()?;
    let queue_of: HashMap<&str, &str> = posts
        .iter()
        .filter_map(|p| p.queue.as_deref().map(|q| (p.id.as_str(), q)))
        .collect();
    let mut held: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for t in &targets {
        if let (Some(s), Some(q)) = (t.slot, queue_of.get(t.post_id.as_str()))
            && !t.is_final()
            && t.status != crate::state::TargetStatus::Posting
        {
            let v = held.entry(q).or_default();
            if !v.iter().any(|(_, id)| *id == t.post_id) {
                v.push((s, t.post_id.as_str()));
            }
        }
    }
    for v in held.values_mut() {
        v.sort();
    }
    let mut out = ui.out();
    match args.command {
        QueueCommand::List { json } => {
            let rows: Vec<QueueRow> = project
                .config
                .queues
                .values()
                .map(|q| QueueRow {
                    name: q.name.clone(),
                    timezone: q.timezone.name().to_string(),
                    accounts: q.accounts.clone(),
                    slots_per_week: q.slots.iter().map(Vec::len).sum(),
                    waiting: held.get(q.name.as_str()).map(Vec::len).unwrap_or(0),
                    next_slot: schedule::slots_from(q, now)
                        .next()
                        .map(|t| time::rfc3339_in(t, q.timezone)),
                    paused: q.paused,
                    next: schedule::slots_from(q, now).next(),
                    tz: q.timezone,
                })
                .collect();
            if json {
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else if rows.is_empty() {
                writeln!(out, "no queues: define one in social.toml as [queues.NAME]")?;
            } else {
                let mut t = table(&[
                    "queue",
                    "timezone",
                    "accounts",
                    "slots/week",
                    "waiting",
                    "next slot",
                    "",
                ]);
                for r in rows {
                    t.add_row(vec![
                        r.name,
                        r.timezone,
                        r.accounts.join(", "),
                        r.slots_per_week.to_string(),
                        r.waiting.to_string(),
                        // Each queue has its zone: the time says it.
                        r.next
                            .map(|t| time::format_zoned(t, r.tz))
                            .unwrap_or_else(|| "—".into()),
                        if r.paused {
                            "paused".into()
                        } else {
                            String::new()
                        },
                    ]);
                }
                writeln!(out, "{t}")?;
            }
        }
        QueueCommand::Show { name, slots, json } => {
            let Some(q) = project.config.queues.get(&name) else {
                let help =
                    crate::diag::suggest(&name, project.config.queues.keys().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"));
                return Err(usage(format!("no queue named `{name}`"), help));
            };
            let filled: HashMap<i64, &str> = held
                .get(name.as_str())
                .map(|v| v.iter().copied().collect())
                .unwrap_or_default();
            let waiting = filled.len();
            let n = slots.unwrap_or(waiting + 3);
            let mut rows: Vec<SlotRow> = Vec::new();
            // Held slots missed within the catch-up window come first.
            let mut past: Vec<(&i64, &&str)> = filled
                .iter()
                .filter(|(s, _)| **s < now.timestamp_millis())
                .collect();
            past.sort();
            for (s, id) in past {
                if let Some(t) = crate::state::from_ms(*s) {
                    rows.push(SlotRow {
                        at: time::rfc3339_in(t, q.timezone),
                        local: time::format_local(t, q.timezone),
                        post: Some(id.to_string()),
                    });
                }
            }
            for t in schedule::slots_from(q, now).take(n) {
                rows.push(SlotRow {
                    at: time::rfc3339_in(t, q.timezone),
                    local: time::format_local(t, q.timezone),
                    post: filled.get(&t.timestamp_millis()).map(|s| s.to_string()),
                });
            }
            if json {
                serde_json::to_writer_pretty(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                let paused = if q.paused {
                    " (paused: nothing is published from it)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{}queue {name}{}{paused} · {} · {}",
                    Styles::BOLD.render(),
                    Styles::BOLD.render_reset(),
                    q.timezone.name(),
                    q.accounts.join(", ")
                )?;
                let header = format!(
                    "slot ({})",
                    super::output::zone_label(
                        rows.iter()
                            .filter_map(|r| chrono::DateTime::parse_from_rfc3339(&r.at).ok())
                            .map(|d| d.with_timezone(&chrono::Utc)),
                        q.timezone
                    )
                );
                let mut t = table(&[&header, "", "post"]);
                for r in rows {
                    let when = chrono::DateTime::parse_from_rfc3339(&r.at)
                        .map(|d| time::relative(d.with_timezone(&chrono::Utc), now))
                        .unwrap_or_default();
                    t.add_row(vec![
                        r.local,
                        when,
                        r.post.unwrap_or_else(|| "— free —".into()),
                    ]);
                }
                writeln!(out, "{t}")?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
