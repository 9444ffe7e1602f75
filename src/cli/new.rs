//! `social new`: start a post file with a stable id.

use super::{Outcome, Ui, usage};
use crate::config::Config;
use crate::content::time;
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

/// Create posts/<date>-<slug>.md with a stable id (as a draft)
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social new \"Launch day\"
  social new \"Launch day\" --at \"2026-12-01 09:00\" --to bsky,fedi
  social new \"Launch day\" --at \"tomorrow 09:30\" --ready   Ready at once, no draft
  social new \"Weekly tip\" --queue weekdays
  $EDITOR \"$(social new 'Quick note' --at +2h)\"

WHEN is `YYYY-MM-DD HH:MM` (project timezone), `YYYY-MM-DD HH:MM Area/City`,
RFC 3339, `+DURATION` from now (`+2h`, `+1d 30m`), or `today HH:MM` /
`tomorrow HH:MM` (`tomorrow` alone is 09:00).
A time already past is written as given, with a warning: more than
`catch_up` ago, a ready post would be marked missed.")]
pub struct NewArgs {
    /// The post's title (also names the file and the id)
    pub title: String,
    /// When to publish
    #[arg(long, value_name = "WHEN")]
    pub at: Option<String>,
    /// Accounts to publish to, comma-separated
    #[arg(long, value_name = "ACCOUNTS", value_delimiter = ',')]
    pub to: Vec<String>,
    /// Queue to join instead of a fixed time
    #[arg(long, value_name = "NAME", conflicts_with = "at")]
    pub queue: Option<String>,
    /// Write `status: ready` (publish at its time) instead of a draft
    #[arg(long)]
    pub ready: bool,
}

pub fn run(ui: &Ui, config: &Config, args: NewArgs) -> Outcome {
    let now = crate::clock::now();
    let at = match args.at.as_deref() {
        None => None,
        Some(w) => Some(parse_when(w, config, now).map_err(|m| usage(m, None))?),
    };
    super::known_accounts(config, &args.to)?;
    if let Some(q) = &args.queue
        && !config.queues.contains_key(q)
    {
        return Err(usage(
            format!("unknown queue `{q}`"),
            Some("define it in social.toml under [queues.NAME]".into()),
        ));
    }
    let date = at
        .unwrap_or(now)
        .with_timezone(&config.timezone)
        .format("%Y-%m-%d")
        .to_string();
    let mut slug = slug::slugify(args.title.replace(['\'', '’'], ""));
    slug.truncate(60);
    let slug = slug.trim_end_matches('-').to_string();
    let base = if slug.is_empty() {
        date.clone()
    } else {
        format!("{date}-{slug}")
    };
    let dir = config.posts_path();
    std::fs::create_dir_all(&dir)?;
    let existing_ids = existing_ids(config);
    let mut n = 1;
    let (id, path) = loop {
        let id = if n == 1 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        let path = dir.join(format!("{id}.md"));
        if !path.exists() && !existing_ids.contains(&id) {
            break (id, path);
        }
        n += 1;
    };

    let mut text = String::from("---\n");
    text.push_str(&format!("id: {id}\n"));
    text.push_str(&format!("title: {}\n", yaml_string(&args.title)));
    if let Some(t) = at {
        text.push_str(&format!("at: {}\n", time::format_local(t, config.timezone)));
    }
    if let Some(q) = &args.queue {
        text.push_str(&format!("queue: {q}\n"));
    }
    if !args.to.is_empty() {
        text.push_str(&format!("to: [{}]\n", args.to.join(", ")));
    }
    text.push_str(if args.ready {
        "status: ready\n"
    } else {
        "status: draft   # set to `ready` to publish\n"
    });
    text.push_str("---\n");
    text.push_str(&args.title);
    text.push('\n');

    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    f.write_all(text.as_bytes())?;
    let shown = crate::project::display_path(&path);
    writeln!(std::io::stdout().lock(), "{}", shown.display())?;
    if let Some(t) = at.filter(|t| *t < now) {
        let when = time::format_local(t, config.timezone);
        let ago = time::relative(t, now);
        let late = now - t > chrono::Duration::from_std(config.catch_up).unwrap_or_default();
        ui.warn(&if late {
            format!(
                "{when} is {ago}, more than catch_up = {}: once ready, the post will be marked missed instead of published; change `at` (`--at +2h` counts from now), or publish it now with `social post {}`",
                humantime::format_duration(config.catch_up),
                shown.display()
            )
        } else {
            format!(
                "{when} is {ago}: once ready, the post goes out at the next `social publish --due` (or at once from a running daemon)"
            )
        });
    }
    if !args.ready {
        ui.note("created as a draft: set `status: ready` when it is done");
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `--at`: the post time formats, or `+DURATION` from now.
fn parse_when(
    w: &str,
    config: &Config,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Some(d) = w.trim().strip_prefix('+') {
        let d = humantime::parse_duration(d.trim()).map_err(|e| format!("`{w}`: {e}"))?;
        let d = chrono::Duration::from_std(d).map_err(|e| format!("`{w}`: {e}"))?;
        // Whole minutes read better in a file.
        let t = now + d;
        return Ok(t - chrono::Duration::seconds(t.timestamp() % 60));
    }
    // `today 18:00`, `tomorrow 09:00` (`tomorrow` alone: 09:00), in the
    // project timezone.
    let lower = w.trim().to_ascii_lowercase();
    for (word, days) in [("today", 0), ("tomorrow", 1)] {
        let Some(rest) = lower.strip_prefix(word) else {
            continue;
        };
        let rest = rest.trim();
        let clock = if rest.is_empty() { "09:00" } else { rest };
        if chrono::NaiveTime::parse_from_str(clock, "%H:%M").is_err() {
            return Err(format!(
                "`{w}`: after `{word}`, give a time as HH:MM (`{word} 09:30`)"
            ));
        }
        let date = now.with_timezone(&config.timezone).date_naive() + chrono::Days::new(days);
        return time::parse_at(&format!("{date} {clock}"), config.timezone).map(|p| p.instant);
    }
    time::parse_at(w, config.timezone).map(|p| p.instant)
}

fn existing_ids(config: &Config) -> std::collections::HashSet<String> {
    let files = crate::project::select_files(config, &[]).unwrap_or_default();
    files
        .iter()
        .filter_map(|p| {
            let src = std::fs::read_to_string(p).ok()?;
            crate::content::parse_post(p, &src, config.timezone)
                .post
                .map(|post| post.id)
        })
        .collect()
}

/// Quotes a title for YAML when it needs quoting.
fn yaml_string(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| "!&*-?[]{}|>@`\"'%#,:".contains(c) || c.is_whitespace())
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.ends_with(':')
        && !s.ends_with(char::is_whitespace)
        && s.parse::<f64>().is_err()
        && !["true", "false", "null", "~", "yes", "no", "on", "off"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}
