//! `social completions`: shell completion scripts.

use super::{Outcome, Ui};
use clap::Args;
use clap_complete::Shell;
use std::io::Write;
use std::process::ExitCode;

/// Print a shell completion script
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social completions bash > ~/.local/share/bash-completion/completions/social
  social completions zsh > ~/.zfunc/_social
  social completions fish > ~/.config/fish/completions/social.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(_ui: &Ui, args: CompletionsArgs) -> Outcome {
    // Generated into memory first: clap_complete panics on a failed write.
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut super::command(), "social", &mut buf);
    std::io::stdout().lock().write_all(&buf)?;
    Ok(ExitCode::SUCCESS)
}
