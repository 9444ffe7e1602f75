//! Finding the project (the directory holding social.toml) and its post files.

use crate::config::{CONFIG_FILE, Config, ConfigError};
pub use crate::content::files::{display_path, is_post_file, post_files};
use std::path::{Path, PathBuf};

/// Walks up from `start` to the nearest directory holding social.toml.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join(CONFIG_FILE).is_file())
        .map(Path::to_path_buf)
}

/// Opens the project: `explicit` when given (`--project`), else the nearest
/// social.toml above the current directory.
pub fn open(explicit: Option<&Path>) -> Result<Config, ConfigError> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = match explicit {
        Some(dir) => {
            let dir = if dir.is_absolute() {
                dir.to_path_buf()
            } else {
                cwd.join(dir)
            };
            if !dir.join(CONFIG_FILE).is_file() {
                return Err(ConfigError {
                    path: dir.join(CONFIG_FILE),
                    pos: None,
                    message: "no social.toml here".into(),
                    help: Some(format!(
                        "run `social init {}` to create a project there",
                        dir.display()
                    )),
                });
            }
            dir
        }
        None => find_root(&cwd).ok_or_else(|| ConfigError {
            path: cwd.clone(),
            pos: None,
            message: "not inside a social project (no social.toml here or in any parent directory)"
                .into(),
            help: Some("run `social init` to create one, or pass `--project DIR`".into()),
        })?,
    };
    Config::load(&root)
}

/// The post files named on the command line (files or directories), or the
/// project's posts directory when none are named.
pub fn select_files(config: &Config, paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if paths.is_empty() {
        let dir = config.posts_path();
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        return post_files(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()));
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(post_files(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
