//! Post files on disk: which files are posts, finding them under a
//! directory, and showing their paths.

use std::path::{Path, PathBuf};

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
