//! Atomic writes: every output is written to a temporary file in its own
//! directory and renamed into place, so a failed or killed run leaves either
//! the old file or nothing, never half a file.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create directory '{}'", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".thinlto-tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in '{}'", dir.display()))?;
    // No fsync: atomicity is against failed runs, not power loss, and a build
    // system re-runs an action whose outputs it did not record.
    tmp.write_all(bytes).with_context(|| format!("cannot write '{}'", path.display()))?;
    tmp.persist(path).with_context(|| format!("cannot rename into '{}'", path.display()))?;
    Ok(())
}

/// Moves a finished file into place (same file system), creating parent directories.
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    let dir = parent_dir(to);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create directory '{}'", dir.display()))?;
    std::fs::rename(from, to).with_context(|| format!("cannot move '{}' to '{}'", from.display(), to.display()))
}

/// A new temporary file in the directory of `path` (created if missing).
fn temp_next_to(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = parent_dir(path);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create directory '{}'", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".thinlto-tmp")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a temporary file in '{}'", dir.display()))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A set of outputs committed together: each is written to a temporary name
/// and renamed only by [`OutputSet::commit`]. Dropping the set uncommitted
/// deletes the temporaries.
#[derive(Default)]
pub struct OutputSet {
    pending: Vec<(tempfile::TempPath, PathBuf)>,
    /// Finished files elsewhere on the same file system (a staging
    /// directory the caller removes), moved into place on commit.
    moves: Vec<(PathBuf, PathBuf)>,
}

impl OutputSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        let mut tmp = temp_next_to(path)?;
        tmp.write_all(bytes).with_context(|| format!("cannot write '{}'", path.display()))?;
        self.pending.push((tmp.into_temp_path(), path.to_path_buf()));
        Ok(())
    }

    /// Like [`OutputSet::add`], with the bytes written by `write` as it makes
    /// them, for outputs too large to hold in memory. Writes of 64 KiB or
    /// more go straight to the file; smaller ones are buffered.
    pub fn add_with(&mut self, path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
        let mut tmp = temp_next_to(path)?;
        let mut w = std::io::BufWriter::with_capacity(64 << 10, tmp.as_file_mut());
        write(&mut w).and_then(|()| w.flush()).with_context(|| format!("cannot write '{}'", path.display()))?;
        drop(w);
        self.pending.push((tmp.into_temp_path(), path.to_path_buf()));
        Ok(())
    }

    /// Adds a finished file, `from`, to be moved to `path` on commit.
    pub fn add_file(&mut self, from: PathBuf, path: &Path) {
        self.moves.push((from, path.to_path_buf()));
    }

    pub fn commit(self) -> Result<()> {
        for (from, to) in &self.moves {
            rename(from, to)?;
        }
        for (tmp, path) in self.pending {
            tmp.persist(&path).with_context(|| format!("cannot rename into '{}'", path.display()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncommitted_set_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/b.txt");
        {
            let mut set = OutputSet::new();
            set.add(&out, b"x").unwrap();
        }
        assert!(!out.exists());
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 0);
        let mut set = OutputSet::new();
        set.add(&out, b"y").unwrap();
        set.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"y");
    }

    #[test]
    fn streamed_output_is_committed_whole_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a/plan.json");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut set = OutputSet::new();
        let failed = set.add_with(&out, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(format!("{:#}", failed.unwrap_err()).contains("disk full"));
        drop(set);
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 0);
        let mut set = OutputSet::new();
        set.add_with(&out, |w| {
            w.write_all(&big[..10])?;
            w.write_all(&big[10..])
        })
        .unwrap();
        assert!(!out.exists());
        set.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), big);
    }
}
