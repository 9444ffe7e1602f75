//! The content-addressed cache of fitted media under `.social/media/`: the
//! key is a hash of the file's bytes and of what it was fitted to, so a
//! file is processed once per platform, a retry sends the very same bytes,
//! and an edited file (new bytes) gets a new entry.

use super::fit::{self, Fitted, MediaError, Spec};
use std::path::{Path, PathBuf};

/// Where fitted media is kept.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache of the project at `root`.
    pub fn new(root: &Path) -> Cache {
        Cache {
            dir: root.join(".social").join("media"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file at `path` (named `name` in messages) as it will be sent
    /// under `spec`: from the cache, else fitted now and kept.
    pub fn fit(&self, path: &Path, name: &str, spec: &Spec) -> Result<Fitted, MediaError> {
        let unreadable = |e: std::io::Error| MediaError(format!("cannot read `{name}`: {e}"));
        let size = std::fs::metadata(path).map_err(unreadable)?.len();
        if size > fit::MAX_INPUT_BYTES {
            return Err(MediaError(format!(
                "`{name}` is {}; social processes images up to {}: export it smaller",
                fit::human_bytes(size),
                fit::human_bytes(fit::MAX_INPUT_BYTES)
            )));
        }
        let data = std::fs::read(path).map_err(unreadable)?;
        let key = key(&data, spec);
        let sidecar = self.dir.join(format!("{key}.json"));
        if let Some(hit) = std::fs::read(&sidecar)
            .ok()
            .and_then(|b| serde_json::from_slice::<Fitted>(&b).ok())
            .map(|mut f| {
                if f.path.as_os_str().is_empty() {
                    // Sent as it is: the file itself.
                    f.path = path.to_path_buf();
                }
                f
            })
            .filter(|f| f.path.is_file())
        {
            return Ok(hit);
        }
        let out = fit::fit(&data, name, spec)?;
        let mut fitted = Fitted {
            path: PathBuf::new(),
            mime: out.mime.to_string(),
            bytes: out.data.as_ref().map_or(data.len(), Vec::len) as u64,
            width: out.width,
            height: out.height,
            original_bytes: data.len() as u64,
            changes: out.changes,
        };
        let keep = |e: std::io::Error| {
            MediaError(format!(
                "cannot keep the fitted `{name}` in {}: {e}",
                self.dir.display()
            ))
        };
        std::fs::create_dir_all(&self.dir).map_err(keep)?;
        if let Some(bytes) = &out.data {
            let file = self.dir.join(format!("{key}.{}", extension(out.mime)));
            write_atomically(&file, bytes).map_err(keep)?;
            fitted.path = file;
        }
        let json =
            serde_json::to_vec_pretty(&fitted).map_err(|e| keep(std::io::Error::other(e)))?;
        write_atomically(&sidecar, &json).map_err(keep)?;
        if fitted.path.as_os_str().is_empty() {
            fitted.path = path.to_path_buf();
        }
        Ok(fitted)
    }
}

/// The cache key of `data` fitted to `spec`.
fn key(data: &[u8], spec: &Spec) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(spec.fingerprint().as_bytes());
    h.update(&[0]);
    h.update(data);
    format!("{:032x}", h.digest128())
}

fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "jpg",
    }
}

/// Writes through a temporary file and a rename, so a reader never sees
/// half a file (two processes fitting the same file write the same bytes).
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}-{}", std::process::id(), fastrand::u64(..)));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
