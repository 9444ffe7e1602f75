//! Finding the project (the directory holding social.toml) and its post files.

use crate::config::{CONFIG_FILE, Config, ConfigError};
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

/// Whether a file is a post file: Markdown, not hidden, not a README.
pub fn is_post_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let md = name.ends_with(".md") || name.ends_with(".markdown");
    md && !name.starts_with('.') && !name.eq_ignore_ascii_case("readme.md")
}

/// Post files under `dir`, recursively, sorted by path; hidden directories are skipped.
pub fn post_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            let hidden = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('.'));
            if ft.is_dir() && !hidden {
                stack.push(path);
            } else if (ft.is_file() || ft.is_symlink()) && is_post_file(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
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

/// `path` relative to the current directory when it lies below it, for display.
pub fn display_path(path: &Path) -> PathBuf {
    let cwd = std::env::current_dir().ok();
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        return path.to_path_buf();
    };
    match cwd.and_then(|c| abs.strip_prefix(&c).ok().map(Path::to_path_buf)) {
        Some(rel) if !rel.as_os_str().is_empty() => rel,
        _ => abs,
    }
}
