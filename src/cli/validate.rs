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
    let format = if args.json { Format::Json } else { args.format };
    match format {
        Format::Text => {
            print_text(ui, &report)?;
            if !ui.quiet {
                let mut err = ui.err();
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
        Format::Json => print_json(&report, &expiring)?,
        Format::Github => {
            print_github(ui, &report)?;
            let mut out = std::io::stdout().lock();
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
}

fn print_json(
    report: &Report,
    expiring: &[crate::credentials::ExpiryWarning],
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
