//! `social state`: maintenance of the state store.

use super::output::plural;
use super::{Outcome, Project, Ui};
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Maintain the state store
#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub command: StateCommand,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// Recreate the store from the post files and published.toml
    ///
    /// published.toml keeps publications and what was cancelled, retried,
    /// failed or left unconfirmed, so those come back as they were; attempt
    /// counts and retry times of targets still in play start afresh.
    Rebuild,
}

pub fn run(ui: &Ui, project: &Project, args: StateArgs) -> Outcome {
    match args.command {
        StateCommand::Rebuild => {
            let path = project.store_path.clone();
            // Never opened first: a damaged store is moved aside unread (kept
            // for inspection, replacing an earlier one) and a new one made.
            let mut aside = path.clone().into_os_string();
            aside.push(".old");
            let aside = std::path::PathBuf::from(aside);
            let moved = match std::fs::rename(&path, &aside) {
                Ok(()) => {
                    crate::fsx::tighten(&aside)?;
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot move {} aside", path.display())));
                }
            };
            let store = project.store()?;
            let report = project.sync(&store)?;
            let targets = store.targets(None)?;
            let posted = targets
                .iter()
                .filter(|t| t.status == crate::state::TargetStatus::Posted)
                .count();
            ui.note(&format!(
                "rebuilt {}: {} from {}, {} already posted",
                path.display(),
                plural(targets.len(), "target"),
                plural(report.files, "file"),
                posted
            ));
            if moved {
                ui.note(&format!(
                    "the previous store is kept as {}",
                    aside.display()
                ));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
