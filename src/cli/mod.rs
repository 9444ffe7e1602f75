//! The command line: clap definitions, one file per command, and the
//! mapping of outcomes to exit codes (0 success, 1 a check or post failed,
//! 2 usage or configuration error).

mod accounts;
mod cancel;
mod completions;
mod daemon;
mod delete;
mod edit;
mod init;
mod new;
mod output;
mod post;
mod preview;
mod queue;
mod schedule;
mod state;
mod status;
mod validate;

pub use output::Ui;

use crate::config::{Config, ConfigError};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  social init my-posts                 Create a project
  social new \"Launch day\" --at \"2026-12-01 09:00\" --to bsky,fedi
  social validate                      Check every post
  social preview posts/2026-12-01-launch-day.md
  social schedule                      Sync and show the timeline
  social status                        Where every target stands
  social accounts add bsky --platform bluesky --handle alice.bsky.social
";

/// Publish Markdown posts from a git repository to Bluesky, Mastodon, X, LinkedIn and Instagram.
#[derive(Debug, Parser)]
#[command(name = "social", version, about, after_help = EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project directory (default: the nearest directory above holding social.toml)
    #[arg(long, global = true, value_name = "DIR", env = "SOCIAL_PROJECT")]
    pub project: Option<PathBuf>,
    /// State store file (default: .social/state.redb in the project)
    #[arg(long, global = true, value_name = "PATH", env = "SOCIAL_STATE")]
    pub state: Option<PathBuf>,
    /// When to use colors (NO_COLOR is honoured)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Say more (repeat for even more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Say only what went wrong
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// The `--color` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Init(init::InitArgs),
    New(new::NewArgs),
    Validate(validate::ValidateArgs),
    Preview(preview::PreviewArgs),
    Post(post::PostArgs),
    Publish(post::PublishArgs),
    Schedule(schedule::ScheduleArgs),
    Daemon(daemon::DaemonArgs),
    Status(status::StatusArgs),
    Cancel(cancel::CancelArgs),
    Retry(cancel::RetryArgs),
    Delete(delete::DeleteArgs),
    Edit(edit::EditArgs),
    Queue(queue::QueueArgs),
    State(state::StateArgs),
    Accounts(accounts::AccountsArgs),
    Completions(completions::CompletionsArgs),
}

/// A command's context: the project's configuration and where its state lives.
pub struct Project {
    pub config: Config,
    pub store_path: PathBuf,
}

impl Project {
    fn open(g: &GlobalArgs) -> Result<Project, ConfigError> {
        let config = crate::project::open(g.project.as_deref())?;
        let store_path = match &g.state {
            Some(p) => p.clone(),
            None => crate::state::Store::default_path(&config.root),
        };
        Ok(Project { config, store_path })
    }

    /// Opens the state store.
    pub fn store(&self) -> Result<crate::state::Store, crate::state::StateError> {
        crate::state::Store::open(&self.store_path)
    }

    /// Syncs the files into the store.
    pub fn sync(
        &self,
        store: &crate::state::Store,
    ) -> Result<crate::state::sync::SyncReport, crate::state::sync::SyncError> {
        crate::state::sync::sync(store, &self.config, crate::clock::now())
    }
}

/// An error in how the command was used (exit code 2).
#[derive(Debug)]
pub struct UsageError {
    pub message: String,
    pub help: Option<String>,
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}

/// Builds a usage error (exit code 2).
pub fn usage(message: impl Into<String>, help: Option<String>) -> anyhow::Error {
    UsageError {
        message: message.into(),
        help,
    }
    .into()
}

/// What a command reports back: success, or that something it checked failed.
pub type Outcome = anyhow::Result<ExitCode>;

/// The clap command, for completions and man pages.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let ui = Ui::new(cli.global.color, cli.global.quiet, cli.global.verbose);
    match run(cli, &ui) {
        Ok(code) => code,
        Err(e) => report_error(&ui, e),
    }
}

fn run(cli: Cli, ui: &Ui) -> Outcome {
    let g = &cli.global;
    match cli.command {
        Command::Init(args) => init::run(ui, args),
        Command::New(args) => new::run(ui, &open_project(g)?, args),
        Command::Validate(args) => validate::run(ui, &open_project(g)?, args),
        Command::Preview(args) => preview::run(ui, &open_project(g)?, args),
        Command::Post(args) => post::run_post(ui, &Project::open(g)?, args),
        Command::Publish(args) => post::run_publish(ui, &Project::open(g)?, args),
        Command::Schedule(args) => schedule::run(ui, &Project::open(g)?, args),
        Command::Daemon(args) => daemon::run(ui, &Project::open(g)?, args),
        Command::Status(args) => status::run(ui, &Project::open(g)?, args),
        Command::Cancel(args) => cancel::run_cancel(ui, &Project::open(g)?, args),
        Command::Retry(args) => cancel::run_retry(ui, &Project::open(g)?, args),
        Command::Delete(args) => delete::run(ui, &Project::open(g)?, args),
        Command::Edit(args) => edit::run(ui, &Project::open(g)?, args),
        Command::Queue(args) => queue::run(ui, &Project::open(g)?, args),
        Command::State(args) => state::run(ui, &Project::open(g)?, args),
        Command::Accounts(args) => accounts::run(ui, &Project::open(g)?, args),
        Command::Completions(args) => completions::run(ui, args),
    }
}

fn open_project(g: &GlobalArgs) -> Result<Config, ConfigError> {
    crate::project::open(g.project.as_deref())
}

fn report_error(ui: &Ui, e: anyhow::Error) -> ExitCode {
    // `social … | head` closing the pipe early is not a failure.
    if e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    }) {
        return ExitCode::SUCCESS;
    }
    if let Some(c) = e.downcast_ref::<ConfigError>() {
        ui.config_error(c);
        return ExitCode::from(2);
    }
    if let Some(crate::state::sync::SyncError::Config(c)) =
        e.downcast_ref::<crate::state::sync::SyncError>()
    {
        ui.config_error(c);
        return ExitCode::from(2);
    }
    match state_error(&e) {
        Some(s @ crate::state::StateError::NewerSchema { .. }) => {
            ui.error(
                &s.to_string(),
                Some("upgrade social, or point --state at another file"),
            );
            return ExitCode::from(2);
        }
        Some(s @ crate::state::StateError::Damaged { .. }) => {
            ui.error(
                &s.to_string(),
                Some(
                    "run `social state rebuild`: it recreates the store from the post files and published.toml",
                ),
            );
            return ExitCode::from(2);
        }
        // The message carries the way out (`social state rebuild`).
        Some(s @ crate::state::StateError::Corrupt { .. }) => {
            ui.error(&s.to_string(), None);
            return ExitCode::from(2);
        }
        _ => {}
    }
    if let Some(d @ crate::daemon::DaemonError::AlreadyRunning { .. }) =
        e.downcast_ref::<crate::daemon::DaemonError>()
    {
        ui.error(
            &d.to_string(),
            Some("stop it first (`kill PID`), or let it do the publishing"),
        );
        return ExitCode::from(2);
    }
    if let Some(u) = e.downcast_ref::<UsageError>() {
        ui.error(&u.message, u.help.as_deref());
        return ExitCode::from(2);
    }
    ui.error(&chain_message(&e), None);
    ExitCode::from(1)
}

/// The state store error behind `e`, when there is one (also inside a sync error).
fn state_error(e: &anyhow::Error) -> Option<&crate::state::StateError> {
    e.chain().find_map(|c| {
        c.downcast_ref::<crate::state::StateError>()
            .or_else(|| match c.downcast_ref::<crate::state::sync::SyncError>() {
                Some(crate::state::sync::SyncError::State(s)) => Some(s),
                _ => None,
            })
    })
}

/// The error and its causes, each said once: a message that already holds
/// its cause's text (`"…: {source}"`) is not followed by it again.
fn chain_message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Refuses an account name social.toml does not define (exit 2): with a
/// suggestion for a near miss, else the accounts there are.
pub(crate) fn known_accounts(
    config: &Config,
    names: impl IntoIterator<Item = impl AsRef<str>>,
) -> Result<(), anyhow::Error> {
    for a in names {
        let a = a.as_ref();
        if config.accounts.contains_key(a) {
            continue;
        }
        let known: Vec<&str> = config.accounts.keys().map(String::as_str).collect();
        let help = crate::diag::suggest(a, known.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| {
                if known.is_empty() {
                    "social.toml defines no accounts yet; add one under [accounts.NAME]".into()
                } else {
                    format!("accounts in social.toml: {}", known.join(", "))
                }
            });
        return Err(usage(format!("unknown account `{a}`"), Some(help)));
    }
    Ok(())
}

/// Warns on ready posts whose `at` passed by more than `catch_up` (they
/// would be marked missed), leaving alone the targets published.toml
/// already settles (a post published long ago is not late).
pub(crate) fn warn_past(config: &Config, reports: &mut [crate::validate::FileReport]) {
    let ledger = crate::state::ledger::Ledger::load(&config.root).ok();
    let settled = |post: &str, account: &str| {
        ledger
            .as_ref()
            .is_some_and(|l| l.get(post, account).is_some())
    };
    let now = crate::clock::now();
    for r in reports {
        crate::validate::warn_past(r, config, now, &settled);
    }
}

#[cfg(test)]
mod generated_files {
    //! completions/ and man/ are generated from the clap definition; this
    //! test fails when they are stale. Regenerate with:
    //! `SOCIAL_BLESS=1 cargo test --lib generated_files`
    use std::collections::BTreeMap;
    use std::path::Path;

    fn read_dir(dir: &Path) -> BTreeMap<String, String> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().is_file())
                    .map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        (name, std::fs::read_to_string(e.path()).unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// clap_mangen's synopsis names options without their values
    /// (`[--at]`); the pages show them as `--help` does (`[--at WHEN]`).
    fn synopsis_values(cmd: &clap::Command, page: &str, out: &Path) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            synopsis_values(sub, &format!("{page}-{}", sub.get_name()), out);
        }
        let path = out.join(format!("{page}.1"));
        let text = std::fs::read_to_string(&path).unwrap();
        let Some((head, rest)) = text.split_once(".SH SYNOPSIS\n") else {
            return;
        };
        let (synopsis, tail) = rest.split_once('\n').unwrap_or((rest, ""));
        let mut synopsis = synopsis.to_string();
        for arg in cmd.get_arguments() {
            let (Some(long), true) = (arg.get_long(), arg.get_action().takes_values()) else {
                continue;
            };
            let Some(values) = arg.get_value_names() else {
                continue;
            };
            let value = values
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let flag = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
            if let Some(at) = synopsis.find(&flag)
                && let Some(close) = synopsis[at..].find(']')
            {
                let insert = at + close;
                synopsis.insert_str(insert, &format!(" \\fI{}\\fR", value.replace('-', "\\-")));
            }
        }
        std::fs::write(&path, format!("{head}.SH SYNOPSIS\n{synopsis}\n{tail}")).unwrap();
    }

    fn generate(kind: &str, out: &Path) {
        std::fs::create_dir_all(out).unwrap();
        if kind == "man" {
            clap_mangen::generate_to(super::command(), out).unwrap();
            let mut cmd = super::command().disable_help_subcommand(true);
            cmd.build();
            synopsis_values(&cmd, "social", out);
        } else {
            for shell in [
                clap_complete::Shell::Bash,
                clap_complete::Shell::Zsh,
                clap_complete::Shell::Fish,
            ] {
                clap_complete::generate_to(shell, &mut super::command(), "social", out).unwrap();
            }
        }
    }

    #[test]
    fn completions_and_man_pages_are_current() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bless = std::env::var_os("SOCIAL_BLESS").is_some();
        let mut stale = Vec::new();
        for kind in ["completions", "man"] {
            let committed = root.join(kind);
            let tmp =
                std::env::temp_dir().join(format!("social-gen-{}-{kind}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            generate(kind, &tmp);
            let fresh = read_dir(&tmp);
            let _ = std::fs::remove_dir_all(&tmp);
            if bless {
                let _ = std::fs::remove_dir_all(&committed);
                std::fs::create_dir_all(&committed).unwrap();
                for (name, text) in &fresh {
                    std::fs::write(committed.join(name), text).unwrap();
                }
            } else if read_dir(&committed) != fresh {
                stale.push(kind);
            }
        }
        assert!(
            stale.is_empty(),
            "{stale:?} are stale; regenerate with `SOCIAL_BLESS=1 cargo test --lib generated_files`"
        );
    }
}
