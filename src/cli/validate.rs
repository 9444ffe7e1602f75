//! `social validate`: check post files against every target's platform.

use super::output::{Styles, plural};
use super::{Outcome, Ui, usage};
use crate::config::Config;
use crate::diag::Severity;
use crate::project;
use crate::validate::{self, Options, Report};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  social validate                        Check every post in the project
  social validate posts/launch.md        Check one file
  social validate --strict               Fail on warnings too (missing alt text…)
  social validate --format github        Annotations for GitHub Actions
  social validate --json                 One JSON document (as --format json)
";

/// Check posts: frontmatter, times, accounts, media and each platform's limits
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct ValidateArgs {
    /// Post files or directories (default: the project's posts directory)
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The same as `--format json`
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Treat warnings as errors
    #[arg(long)]
    pub strict: bool,
}

/// How `validate` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:column: severity: message`
    Text,
    /// One JSON document
    Json,
    /// GitHub Actions workflow commands (annotations)
    Github,
}

pub fn run(ui: &Ui, config: &Config, args: ValidateArgs) -> Outcome {
    let files = project::select_files(config, &args.paths).map_err(|m| usage(m, None))?;
    let files: Vec<PathBuf> = files.iter().map(|p| project::display_path(p)).collect();
    let mut report = validate::check_files(
        &files,
        config,
        &Options {
            strict: args.strict,
            ..Options::default()
        },
    );
    super::warn_past(config, &mut report.files);
    // Logins that run out soon, from .social/accounts.json: no network, no keyring.
    let expiring = crate::credentials::expiry_warnings(config, crate::clock::now());
    let notices = notices(config, &report, args.paths.is_empty());
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Text => {
            print_text(ui, &report)?;
            if !ui.quiet {
                let mut err = ui.err();
                for n in &notices {
                    writeln!(
                        err,
                        "{}{}:{} {}: {}",
                        Styles::WARNING.render(),
                        n.kind,
                        Styles::WARNING.render_reset(),
                        n.path.as_deref().unwrap_or(&n.post),
                        n.message
                    )?;
                }
                for w in &expiring {
                    writeln!(
                        err,
                        "{}warning:{} {}",
                        Styles::WARNING.render(),
                        Styles::WARNING.render_reset(),
                        w.message
                    )?;
                }
            }
        }
        Format::Json => print_json(&report, &expiring, &notices)?,
        Format::Github => {
            print_github(ui, &report)?;
            let mut out = std::io::stdout().lock();
            for n in &notices {
                let file = n
                    .path
                    .as_deref()
                    .map(|p| format!(" file={},", gh_escape(p, true)))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "::{}{file}title={}::{}",
                    if n.kind == "note" {
                        "notice"
                    } else {
                        "warning"
                    },
                    gh_escape("social validate", true),
                    gh_escape(&n.message, false)
                )?;
            }
            for w in &expiring {
                writeln!(
                    out,
                    "::warning title={}::{}",
                    gh_escape("social validate", true),
                    gh_escape(&w.message, false)
                )?;
            }
        }
    }
    Ok(if report.errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(report: &Report) -> String {
    let posts = report.files.iter().filter(|f| f.checked.is_some()).count();
    let targets: usize = report
        .files
        .iter()
        .filter_map(|f| f.checked.as_ref())
        .map(|c| c.targets.len())
        .sum();
    let files = report.files.len();
    let mut s = format!(
        "checked {} ({})",
        plural(files, "file"),
        plural(targets, "target")
    );
    if posts < files {
        s.push_str(&format!(", {} unreadable", files - posts));
    }
    s.push_str(&format!(
        ": {}, {}",
        plural(report.errors(), "error"),
        plural(report.warnings(), "warning")
    ));
    s
}

fn print_text(ui: &Ui, report: &Report) -> std::io::Result<()> {
    let mut out = ui.out();
    for d in report.diagnostics() {
        if ui.quiet && d.severity == Severity::Warning {
            continue;
        }
        ui.diagnostic(&mut out, d)?;
    }
    if !ui.quiet || report.errors() > 0 {
        let (style, word) = if report.errors() > 0 {
            (Styles::ERROR, "failed")
        } else {
            (Styles::OK, "ok")
        };
        if report.files.is_empty() {
            writeln!(out, "no post files found")?;
        } else {
            writeln!(
                out,
                "{}{word}{}: {}",
                style.render(),
                style.render_reset(),
                summary(report)
            )?;
        }
    }
    out.flush()
}

#[derive(Serialize)]
struct JsonReport<'a> {
    files: usize,
    targets: usize,
    errors: usize,
    warnings: usize,
    diagnostics: Vec<&'a crate::diag::Diagnostic>,
    /// Accounts whose login runs out within 7 days.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    credentials: &'a [crate::credentials::ExpiryWarning],
    /// What git-side changes will do: withdrawn posts, removed files.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    notices: &'a [Notice],
}

/// What a change in the repository will do online, beside the problems:
/// a withdrawn post (deleted where published), a published post whose file
/// is gone (nothing: deleting a file deletes nothing online).
#[derive(Serialize)]
struct Notice {
    /// `note` (withdrawn) or `warning` (file removed).
    kind: &'static str,
    post: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    message: String,
    /// Accounts it will be deleted from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    delete_from: Vec<String>,
}

/// The notices for the checked files, from published.toml (no state store,
/// no network: this runs in CI). A removed file is told once per post
/// (remembered in `.social/removed-noted`), and only when the whole project
/// is checked.
fn notices(config: &Config, report: &Report, whole: bool) -> Vec<Notice> {
    use crate::state::ledger::Ledger;
    let Ok(ledger) = Ledger::load(&config.root) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for f in &report.files {
        let Some(c) = &f.checked else { continue };
        ids.insert(c.post.id.clone());
        if c.post.status != crate::content::Status::Withdrawn {
            continue;
        }
        let entries = ledger.posts.get(&c.post.id);
        let of = |keep: &dyn Fn(&crate::state::ledger::LedgerEntry) -> bool| -> Vec<String> {
            entries
                .map(|m| {
                    m.iter()
                        .filter(|(_, e)| keep(e))
                        .map(|(a, _)| a.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let live = of(&|e| e.is_published() && !e.is_deleted());
        let gone = of(&|e| e.is_deleted());
        let never: Vec<String> = c
            .targets
            .iter()
            .filter(|a| !live.contains(a) && !gone.contains(a))
            .cloned()
            .collect();
        let mut said = Vec::new();
        if !live.is_empty() {
            said.push(format!(
                "`social publish --due` (or the daemon) deletes it from {}, where it was published",
                live.join(", ")
            ));
        }
        if !gone.is_empty() {
            said.push(format!("deleted already from {}", gone.join(", ")));
        }
        if !never.is_empty() {
            said.push(format!("it will not be published to {}", never.join(", ")));
        }
        if said.is_empty() {
            said.push("nothing was published, and nothing will be".into());
        }
        out.push(Notice {
            kind: "note",
            post: c.post.id.clone(),
            path: Some(f.path.display().to_string()),
            message: format!("withdrawn: {}", said.join("; ")),
            delete_from: live,
        });
    }
    if !whole {
        return out;
    }
    let noted_path = config.root.join(".social").join("removed-noted");
    let noted: std::collections::BTreeSet<String> = std::fs::read_to_string(&noted_path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let mut now_noted = noted.clone();
    for (id, accounts) in &ledger.posts {
        if ids.contains(id) || noted.contains(id) {
            continue;
        }
        let live: Vec<&str> = accounts
            .iter()
            .filter(|(_, e)| e.is_published() && !e.is_removal())
            .map(|(a, _)| a.as_str())
            .collect();
        if live.is_empty() {
            continue;
        }
        out.push(Notice {
            kind: "warning",
            post: id.clone(),
            path: None,
            message: format!(
                "post `{id}` was published to {} and its file is gone; removing a file deletes nothing online: `social delete {id}` takes it back (this is said once)",
                live.join(", ")
            ),
            delete_from: Vec::new(),
        });
        now_noted.insert(id.clone());
    }
    if now_noted != noted && crate::fsx::private_dir(&config.root.join(".social")).is_ok() {
        let text: String = now_noted.iter().map(|i| format!("{i}\n")).collect();
        let _ = std::fs::write(&noted_path, text);
    }
    out
}

fn print_json(
    report: &Report,
    expiring: &[crate::credentials::ExpiryWarning],
    notices: &[Notice],
) -> std::io::Result<()> {
    let doc = JsonReport {
        files: report.files.len(),
        targets: report
            .files
            .iter()
            .filter_map(|f| f.checked.as_ref())
            .map(|c| c.targets.len())
            .sum(),
        errors: report.errors(),
        warnings: report.warnings(),
        diagnostics: report.diagnostics().collect(),
        credentials: expiring,
        notices,
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    writeln!(out)?;
    out.flush()
}

/// Escapes data for a GitHub workflow command.
fn gh_escape(s: &str, property: bool) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s.replace(':', "%3A").replace(',', "%2C")
    } else {
        s
    }
}

fn print_github(ui: &Ui, report: &Report) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    for d in report.diagnostics() {
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(h) = &d.help {
            message.push_str(&format!("\nhelp: {h}"));
        }
        writeln!(
            out,
            "::{kind} file={},line={},col={},title={}::{}",
            gh_escape(&d.path.to_string_lossy(), true),
            d.line,
            d.column,
            gh_escape("social validate", true),
            gh_escape(&message, false)
        )?;
    }
    if !ui.quiet {
        writeln!(out, "{}", summary(report))?;
    }
    out.flush()
}
