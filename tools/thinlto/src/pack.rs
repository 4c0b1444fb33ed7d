//! Import packs: the bitcode of every module one backend imports, in one file.
//!
//! A build system without input discovery (Bazel's Starlark) must declare a
//! backend's inputs before the thin link has said what it imports. The thin
//! link therefore writes, per module, a pack holding exactly the modules its
//! `.imports` names, and the backend declares its module, its index, its
//! imports list and that one file: a handful of declared inputs whatever the
//! program's size, and only the bytes the backend reads (what Bazel's native
//! input discovery gives its backends, plus a line of header per import).
//! The backend unpacks the members into its private directory, at their
//! exec-root paths, where clang looks for them.
//!
//! The format is a text header, then the members' bytes back to back:
//!
//! ```text
//! thinlto-pack 1\n
//! <size> <exec-root path>\n      one line per member, sorted by path
//! \n
//! <bytes of the first member><bytes of the second member>...
//! ```
//!
//! Nothing in it depends on the machine or the time: the same imports give
//! the same pack byte for byte.

use crate::execpath::{ExecPath, ExecPathError};
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"thinlto-pack 1\n";

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("cannot read pack '{file}': {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("'{file}' is not an import pack (no 'thinlto-pack 1' header line)")]
    NotAPack { file: PathBuf },
    #[error("pack '{file}' header line {line}: {reason}")]
    BadHeader { file: PathBuf, line: usize, reason: String },
    #[error("pack '{file}' header line {line}: {source}")]
    BadPath { file: PathBuf, line: usize, source: ExecPathError },
    #[error("pack '{file}' header line {line}: member '{path}' is not in sorted order or repeats")]
    Unsorted { file: PathBuf, line: usize, path: String },
    #[error("pack '{file}' is truncated: its header promises {expected} bytes of members, it holds {actual}")]
    Truncated { file: PathBuf, expected: u64, actual: u64 },
    #[error("pack '{file}': the sizes in its header add up to more than any file can hold")]
    SizesOverflow { file: PathBuf },
    #[error("pack '{file}' has {extra} bytes after its last member")]
    TrailingBytes { file: PathBuf, extra: u64 },
}

/// A pack read into memory.
#[derive(Debug)]
pub struct Pack {
    bytes: Vec<u8>,
    members: Vec<(ExecPath, Range<usize>)>,
}

impl Pack {
    pub fn read(file: &Path) -> Result<Pack, PackError> {
        let bytes = std::fs::read(file).map_err(|source| PackError::Read { file: file.to_path_buf(), source })?;
        Pack::parse(file, bytes)
    }

    /// Parses the bytes of a pack; `file` is only used in messages.
    pub fn parse(file: &Path, bytes: Vec<u8>) -> Result<Pack, PackError> {
        let file = || file.to_path_buf();
        if !bytes.starts_with(MAGIC) {
            return Err(PackError::NotAPack { file: file() });
        }
        let mut pos = MAGIC.len();
        let mut line = 1;
        let mut sizes: Vec<(ExecPath, u64)> = Vec::new();
        loop {
            line += 1;
            let Some(len) = bytes[pos..].iter().position(|&c| c == b'\n') else {
                return Err(PackError::BadHeader {
                    file: file(),
                    line,
                    reason: "header ends without its empty line".into(),
                });
            };
            let raw = &bytes[pos..pos + len];
            pos += len + 1;
            if raw.is_empty() {
                break;
            }
            let bad = |reason: &str| PackError::BadHeader { file: file(), line, reason: reason.to_string() };
            let text = std::str::from_utf8(raw).map_err(|_| bad("not valid UTF-8"))?;
            let (size, path) = text.split_once(' ').ok_or_else(|| bad("expected '<size> <path>'"))?;
            let size: u64 = size.parse().map_err(|_| bad(&format!("size '{size}' is not a number")))?;
            let path = ExecPath::new(path).map_err(|source| PackError::BadPath { file: file(), line, source })?;
            if sizes.last().is_some_and(|(last, _)| *last >= path) {
                return Err(PackError::Unsorted { file: file(), line, path: path.to_string() });
            }
            sizes.push((path, size));
        }
        // Sizes come from the file: sum them checked, so that sizes adding up
        // past u64 are an error, not a wrap.
        let expected = sizes
            .iter()
            .try_fold(0u64, |sum, (_, size)| sum.checked_add(*size))
            .ok_or(PackError::SizesOverflow { file: file() })?;
        let actual = (bytes.len() - pos) as u64;
        if actual < expected {
            return Err(PackError::Truncated { file: file(), expected, actual });
        }
        if actual > expected {
            return Err(PackError::TrailingBytes { file: file(), extra: actual - expected });
        }
        // Every size fits: their sum is the number of bytes after the header.
        let mut members = Vec::with_capacity(sizes.len());
        for (path, size) in sizes {
            let end = pos + size as usize;
            members.push((path, pos..end));
            pos = end;
        }
        Ok(Pack { bytes, members })
    }

    /// The members' paths, sorted.
    pub fn paths(&self) -> impl ExactSizeIterator<Item = &ExecPath> {
        self.members.iter().map(|(p, _)| p)
    }

    pub fn contains(&self, path: &ExecPath) -> bool {
        self.get(path).is_some()
    }

    /// The bytes of one member.
    pub fn get(&self, path: &ExecPath) -> Option<&[u8]> {
        let i = self.members.binary_search_by(|(p, _)| p.cmp(path)).ok()?;
        Some(&self.bytes[self.members[i].1.clone()])
    }

    /// Whether `root` holds every member at its exec-root path with exactly
    /// the pack's bytes (symlinks followed).
    pub fn matches_files_under(&self, root: &Path) -> bool {
        self.members
            .iter()
            .all(|(path, range)| std::fs::read(path.under(root)).is_ok_and(|have| have == self.bytes[range.clone()]))
    }

    /// Writes every member below `dir` at its exec-root path.
    pub fn unpack(&self, dir: &Path) -> anyhow::Result<()> {
        use anyhow::Context;
        let mut made = std::collections::HashSet::new();
        for (path, range) in &self.members {
            let dest = path.under(dir);
            if let Some(parent) = dest.parent().filter(|p| !made.contains(*p)) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create directory '{}'", parent.display()))?;
                made.insert(parent.to_path_buf());
            }
            std::fs::write(&dest, &self.bytes[range.clone()])
                .with_context(|| format!("cannot unpack '{path}' to '{}'", dest.display()))?;
        }
        Ok(())
    }
}

/// Writes a pack of `members` (each an exec-root path and where to read it
/// now) to `w`. A member whose size changes while it is copied is an error.
pub fn write(w: &mut dyn Write, members: &[(&ExecPath, PathBuf)]) -> std::io::Result<()> {
    let mut sorted: Vec<&(&ExecPath, PathBuf)> = members.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut files = Vec::with_capacity(sorted.len());
    let mut header = MAGIC.to_vec();
    for (path, source) in sorted {
        let f = std::fs::File::open(source)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read '{}': {e}", source.display())))?;
        let size = f.metadata()?.len();
        header.extend_from_slice(format!("{size} {path}\n").as_bytes());
        files.push((f, size, source));
    }
    header.push(b'\n');
    w.write_all(&header)?;
    for (f, size, source) in files {
        let copied = std::io::copy(&mut f.take(size), w)?;
        if copied != size {
            return Err(std::io::Error::other(format!(
                "'{}' changed while being packed: {copied} bytes, not {size}",
                source.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pack_of(files: &[(&str, &[u8])]) -> (tempfile::TempDir, Vec<u8>) {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<ExecPath> = files.iter().map(|(p, _)| ExecPath::new(p).unwrap()).collect();
        for ((_, bytes), p) in files.iter().zip(&paths) {
            let disk = p.under(dir.path());
            std::fs::create_dir_all(disk.parent().unwrap()).unwrap();
            std::fs::write(disk, bytes).unwrap();
        }
        let members: Vec<(&ExecPath, PathBuf)> = paths.iter().map(|p| (p, p.under(dir.path()))).collect();
        let mut out = Vec::new();
        write(&mut out, &members).unwrap();
        (dir, out)
    }

    fn parse_err(bytes: &[u8]) -> String {
        Pack::parse(Path::new("m.o.pack"), bytes.to_vec()).unwrap_err().to_string()
    }

    #[test]
    fn round_trips_sorted_and_deterministic() {
        let (_d, bytes) = pack_of(&[("out/b.o", b"BBB"), ("out/a.o", b"A"), ("out/empty.o", b"")]);
        assert_eq!(bytes, b"thinlto-pack 1\n1 out/a.o\n3 out/b.o\n0 out/empty.o\n\nABBB");
        let (_d2, again) = pack_of(&[("out/a.o", b"A"), ("out/empty.o", b""), ("out/b.o", b"BBB")]);
        assert_eq!(bytes, again);

        let pack = Pack::parse(Path::new("p"), bytes).unwrap();
        let paths: Vec<&str> = pack.paths().map(ExecPath::as_str).collect();
        assert_eq!(paths, ["out/a.o", "out/b.o", "out/empty.o"]);
        assert_eq!(pack.get(&ExecPath::new("out/b.o").unwrap()), Some(&b"BBB"[..]));
        assert!(!pack.contains(&ExecPath::new("out/c.o").unwrap()));

        let dir = tempfile::tempdir().unwrap();
        pack.unpack(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("out/b.o")).unwrap(), b"BBB");
        assert_eq!(std::fs::read(dir.path().join("out/empty.o")).unwrap(), b"");
    }

    #[test]
    fn empty_pack() {
        let (_d, bytes) = pack_of(&[]);
        assert_eq!(bytes, b"thinlto-pack 1\n\n");
        assert_eq!(Pack::parse(Path::new("p"), bytes).unwrap().paths().len(), 0);
    }

    #[test]
    fn rejects_bad_packs_naming_file_and_reason() {
        assert_eq!(parse_err(b"!<arch>\n"), "'m.o.pack' is not an import pack (no 'thinlto-pack 1' header line)");
        assert!(parse_err(b"thinlto-pack 1\n1 a.o\n").contains("header ends without its empty line"));
        assert!(parse_err(b"thinlto-pack 1\nx a.o\n\n").contains("line 2: size 'x' is not a number"));
        assert!(parse_err(b"thinlto-pack 1\n1\n\nA").contains("line 2: expected '<size> <path>'"));
        assert!(parse_err(b"thinlto-pack 1\n1 ../a.o\n\nA").contains("line 2: path '../a.o' escapes the exec root"));
        assert!(parse_err(b"thinlto-pack 1\n1 /a.o\n\nA").contains("line 2: absolute path '/a.o'"));
        assert!(
            parse_err(b"thinlto-pack 1\n1 b.o\n1 a.o\n\nBA").contains("line 3: member 'a.o' is not in sorted order")
        );
        assert!(parse_err(b"thinlto-pack 1\n1 a.o\n1 a.o\n\nAA").contains("not in sorted order or repeats"));
        assert!(parse_err(b"thinlto-pack 1\n4 a.o\n\nAB")
            .contains("truncated: its header promises 4 bytes of members, it holds 2"));
        assert!(parse_err(b"thinlto-pack 1\n1 a.o\n\nAB").contains("1 bytes after its last member"));
        // Sizes that add up past u64 (this panicked once: "slice index starts at 47 but ends at 46").
        assert!(parse_err(b"thinlto-pack 1\n18446744073709551615 a.o\n2 b.o\n\nAB").contains("add up to more than"));
        assert!(parse_err(b"thinlto-pack 1\n18446744073709551615 a.o\n\nAB").contains("truncated"));
    }
}
