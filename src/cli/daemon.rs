//! `social daemon`: watch the project and publish posts when they are due.

use super::{Outcome, Project, Ui};
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::process::ExitCode;

/// Run in the foreground: publish posts when they are due, re-reading files as they change
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social daemon                     Logs to stderr; stop with Ctrl-C
  social daemon --log-format json   For journald or a log collector
  systemctl --user enable --now social   (see examples/systemd/social.service)

Signals: SIGINT/SIGTERM finish requests in flight and exit; SIGHUP reloads
social.toml (a bad file keeps the previous configuration).")]
pub struct DaemonArgs {
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines
    Text,
    /// One JSON object per line
    Json,
}

/// Sends tracing output to stderr at the level -v/-q ask for.
pub fn init_logging(ui: &Ui, format: LogFormat) {
    let level = if ui.quiet {
        tracing::Level::WARN
    } else {
        match ui.verbose {
            0 => tracing::Level::INFO,
            1 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        }
    };
    let ansi = std::io::stderr().is_terminal()
        && anstream::ColorChoice::global() != anstream::ColorChoice::Never
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}

pub fn run(ui: &Ui, project: &Project, args: DaemonArgs) -> Outcome {
    init_logging(ui, args.log_format);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(crate::daemon::run(
        project.config.clone(),
        project.store_path.clone(),
        &crate::publish::Silent,
    ))?;
    Ok(ExitCode::SUCCESS)
}
