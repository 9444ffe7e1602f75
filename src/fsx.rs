//! Files under `.social/`: private to their owner, like `~/.ssh`. The
//! directory is made 0700 and every file social writes there 0600 (the
//! store holds encrypted sessions, container ids and the schedule). A looser
//! `.social/` left by an older social is tightened when it is next used.
//! Unix only; elsewhere these are the plain operations.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The mode of the directory.
pub const DIR_MODE: u32 = 0o700;
/// The mode of every file in it.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) with mode 0700; an existing `dir`
/// open to others is tightened to 0700, and so are the files directly in it.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    create_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            // Best effort: a directory of another user's stays usable.
            if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
            {
                tracing::debug!("cannot make {} private: {e}", dir.display());
                return Ok(());
            }
            for entry in std::fs::read_dir(dir)? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    tighten(&entry.path())?;
                }
            }
        }
    }
    Ok(())
}

/// Creates `dir` (and missing parents) with mode 0700, leaving an existing
/// one as it is (for a directory that is not `.social/`, such as `--state`'s).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Makes an existing file 0600 when others (or its group) may read it.
pub fn tighten(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0
            && let Err(e) =
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE))
        {
            // Best effort, as for the directory.
            tracing::debug!("cannot make {} private: {e}", path.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Options that create a file with mode 0600.
fn options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(FILE_MODE);
    }
    o
}

/// Opens `path` for reading and writing, creating it with mode 0600 (a lock
/// file, or a file another program fills); an existing one is tightened.
pub fn private_open(path: &Path) -> io::Result<File> {
    let f = options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    tighten(path)?;
    Ok(f)
}

/// Writes `bytes` to `path` (replacing it), which only its owner may read.
pub fn write_private(path: &Path, bytes: impl AsRef<[u8]>) -> io::Result<()> {
    let mut f = options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    tighten(path)?;
    f.write_all(bytes.as_ref())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_private_and_tightens_what_is_loose() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/.social");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        write_private(&dir.join("x.json"), "{}").unwrap();
        private_open(&dir.join("x.lock")).unwrap();
        assert_eq!(mode(&dir.join("x.json")), 0o600);
        assert_eq!(mode(&dir.join("x.lock")), 0o600);

        // An older social's world-readable directory and files.
        let old = tmp.path().join("b/.social");
        std::fs::create_dir_all(&old).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(old.join("state.redb"), "").unwrap();
        std::fs::set_permissions(
            old.join("state.redb"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        private_dir(&old).unwrap();
        assert_eq!(mode(&old), 0o700);
        assert_eq!(mode(&old.join("state.redb")), 0o600);
    }
}
