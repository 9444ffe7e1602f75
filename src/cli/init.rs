//! `social init`: scaffold a content project.

use super::{Outcome, Ui, usage};
use crate::config::CONFIG_FILE;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Create a project: social.toml, posts/ with an example post, .gitignore
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  social init              Make the current directory a project
  social init my-posts     Create and set up my-posts/
  social init --timezone Europe/Berlin")]
pub struct InitArgs {
    /// Directory to set up (created if missing)
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Timezone for times written without one (default: this machine's)
    #[arg(long, value_name = "AREA/CITY")]
    pub timezone: Option<String>,
}

/// The social.toml that `init` writes; `{timezone}` is filled in.
pub const CONFIG_TEMPLATE: &str = r#"# social.toml: the configuration of this social project.
# Every key is described in the README of social, section "social.toml".

# Times written without a zone (at: 2026-12-01 09:00) are in this timezone.
timezone = "{timezone}"

# Where post files live, relative to this file.
posts_dir = "posts"

# After downtime, posts missed by less than this are still published.
catch_up = "1h"

# Tries per request and per post for temporary failures (rate limits, 5xx).
# max_attempts = 3

# Defaults for posts that do not say otherwise.
[defaults]
to = ["bsky"]
# lang = "en"

# Accounts. Secrets never go in this file: set SOCIAL_<NAME>_TOKEN in the
# environment (for CI), or log in with `social accounts add`.

[accounts.bsky]
platform = "bluesky"
handle = "you.bsky.social"            # replace with your handle
# service = "https://bsky.social"     # your PDS, if not bsky.social

# [accounts.fedi]
# platform = "mastodon"
# instance = "https://mastodon.social"

# [accounts.x]
# platform = "twitter"
# username = "you"

# [accounts.linkedin]
# platform = "linkedin"

# [accounts.insta]
# platform = "instagram"
# media_base_url = "https://raw.githubusercontent.com/you/posts/main"  # where Instagram fetches media

# Queues: weekly posting slots. A post with `queue: weekdays` and no `at`
# takes the next free slot.
# [queues.weekdays]
# accounts = ["bsky"]
# mon = ["09:00", "15:00"]
# wed = ["12:30"]
# fri = ["10:00"]
"#;

const EXAMPLE_POST: &str = r#"---
id: hello-social
title: Hello from social
status: draft            # `ready` lets it be published
# at: 2026-12-01 09:00   # when; without `at` it goes out with `social post`
to: [bsky]
---
Hello! This post was written as a **Markdown file** and published with
[social](https://example.com/social). #hello
"#;

pub fn run(ui: &Ui, args: InitArgs) -> Outcome {
    let dir = args.dir;
    if dir.join(CONFIG_FILE).exists() {
        return Err(usage(
            format!(
                "{} already holds a social project",
                dir.join(CONFIG_FILE).display()
            ),
            Some("edit social.toml, or choose another directory".into()),
        ));
    }
    let timezone = match args.timezone {
        Some(tz) => crate::config::parse_timezone(&tz)
            .map_err(|m| usage(m, None))?
            .name()
            .to_string(),
        None => iana_time_zone::get_timezone()
            .ok()
            .filter(|tz| tz.parse::<chrono_tz::Tz>().is_ok())
            .unwrap_or_else(|| "UTC".to_string()),
    };
    std::fs::create_dir_all(dir.join("posts"))?;
    std::fs::create_dir_all(dir.join("media"))?;
    let mut created = Vec::new();
    write_new(
        &dir.join(CONFIG_FILE),
        &CONFIG_TEMPLATE.replace("{timezone}", &timezone),
        &mut created,
    )?;
    let example = dir.join("posts").join("hello-social.md");
    if !example.exists() {
        write_new(&example, EXAMPLE_POST, &mut created)?;
    }
    ensure_gitignore(&dir.join(".gitignore"), &mut created)?;
    let media_keep = dir.join("media").join(".gitkeep");
    if !media_keep.exists() {
        write_new(&media_keep, "", &mut created)?;
    }
    for p in &created {
        ui.note(&format!("created {}", p.display()));
    }
    ui.note(&next_steps(&dir));
    Ok(ExitCode::SUCCESS)
}

/// The "Next:" lines, each a command that works typed as shown, in order,
/// from the directory `init` ran in.
fn next_steps(dir: &Path) -> String {
    let mut s = String::from("\nNext:\n");
    let here = dir.as_os_str().is_empty() || dir == Path::new(".");
    if !here {
        s.push_str(&format!("  cd {}\n", shell_quote(&dir.to_string_lossy())));
    }
    s.push_str("  social validate\n");
    s.push_str("  social preview posts/hello-social.md\n");
    s.push_str(
        "Then put your handle in social.toml and log in with `social accounts add bsky` (or set SOCIAL_BSKY_TOKEN).",
    );
    s
}

/// `s` as one word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+=:,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn write_new(path: &Path, text: &str, created: &mut Vec<PathBuf>) -> std::io::Result<()> {
    std::fs::write(path, text)?;
    created.push(path.to_path_buf());
    Ok(())
}

/// Adds `.social/` (the state store) to .gitignore unless it is there.
fn ensure_gitignore(path: &Path, created: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    if existing
        .lines()
        .any(|l| matches!(l.trim(), ".social" | ".social/" | "/.social" | "/.social/"))
    {
        return Ok(());
    }
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(
        "# social's local state store (rebuildable from the files and published.toml)\n.social/\n",
    );
    std::fs::write(path, text)?;
    if existing.is_empty() {
        created.push(path.to_path_buf());
    }
    Ok(())
}
