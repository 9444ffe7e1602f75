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
    /// Cancellations and failure history live only in the store and are lost.
    Rebuild,
}

pub fn run(ui: &Ui, project: &Project, args: StateArgs) -> Outcome {
    match args.command {
        StateCommand::Rebuild => {
            let path = project.store_path.clone();
            if path.exists() {
                std::fs::remove_file(&path)?;
            }
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
            Ok(ExitCode::SUCCESS)
        }
    }
}
