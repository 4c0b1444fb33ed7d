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
//! thinlto-pack 2\n
//! <sha256> <exec-root path>\n            the backend's own module, as the thin link indexed it
//! <size> <sha256> <exec-root path>\n     one line per member, sorted by path
//! \n
//! <bytes of the first member><bytes of the second member>...
//! ```
//!
//! Each `<sha256>` is the SHA-256 of the module's bitcode when the thin link
//! read it (64 lowercase hex digits, [`crate::digest`]): the backend checks
//! its own module against the first line (a module changed after the thin
//! link gets a stale index and imports, which LLVM does not notice) and each
//! member's bytes against its line ([`crate::stale`]). Version 1 packs
//! (`thinlto-pack 1`, lines `<size> <path>`, no digests, no module line) are
//! still read; the thin link writes version 2.
//!
//! Nothing in it depends on the machine or the time: the same imports give
//! the same pack byte for byte.

use crate::digest::Digest;
use crate::execpath::{ExecPath, ExecPathError};
use std::io::{Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The first line of a version 1 pack (read, no longer written).
const MAGIC_V1: &[u8] = b"thinlto-pack 1\n";
/// The first line of the packs the thin link writes.
const MAGIC: &[u8] = b"thinlto-pack 2\n";

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("cannot read pack '{file}': {source}")]
    Read { file: PathBuf, source: std::io::Error },
    #[error("'{file}' is not an import pack (no 'thinlto-pack 2' or 'thinlto-pack 1' header line)")]
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
    #[error(
        "pack '{file}': the bytes of member '{path}' do not match the digest in its header \
         (header {expected}, bytes {actual}): a corrupt pack"
    )]
    MemberDigest { file: PathBuf, path: String, expected: Digest, actual: Digest },
}

/// A pack read into memory.
#[derive(Debug)]
pub struct Pack {
    bytes: Vec<u8>,
    /// Version 2: the backend's own module and its digest when the thin link read it.
    module: Option<(ExecPath, Digest)>,
    members: Vec<(ExecPath, Range<usize>)>,
    /// Version 2: each member's digest, in the order of `members`.
    digests: Vec<Digest>,
}

/// One member to [`write`]: its exec-root path, where to read it now, and
/// the digest the thin link took of it.
pub struct Member<'a> {
    pub path: &'a ExecPath,
    pub source: PathBuf,
    pub digest: Digest,
}

impl Pack {
    pub fn read(file: &Path) -> Result<Pack, PackError> {
        let bytes = std::fs::read(file).map_err(|source| PackError::Read { file: file.to_path_buf(), source })?;
        Pack::parse(file, bytes)
    }

    /// Parses the bytes of a pack; `file` is only used in messages.
    pub fn parse(file: &Path, bytes: Vec<u8>) -> Result<Pack, PackError> {
        let file = || file.to_path_buf();
        let v2 = bytes.starts_with(MAGIC);
        if !v2 && !bytes.starts_with(MAGIC_V1) {
            return Err(PackError::NotAPack { file: file() });
        }
        let mut pos = MAGIC.len();
        let mut line = 1;
        let mut module = None;
        let mut sizes: Vec<(ExecPath, u64)> = Vec::new();
        let mut digests = Vec::new();
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
                if v2 && module.is_none() {
                    return Err(PackError::BadHeader {
                        file: file(),
                        line,
                        reason: "expected the module line '<sha256> <path>'".into(),
                    });
                }
                break;
            }
            let bad = |reason: &str| PackError::BadHeader { file: file(), line, reason: reason.to_string() };
            let text = std::str::from_utf8(raw).map_err(|_| bad("not valid UTF-8"))?;
            let digest = |s: &str| {
                Digest::parse(s).ok_or_else(|| bad(&format!("'{s}' is not a SHA-256 digest (64 lowercase hex digits)")))
            };
            let path = |s: &str| ExecPath::new(s).map_err(|source| PackError::BadPath { file: file(), line, source });
            if v2 && module.is_none() {
                let (d, p) = text.split_once(' ').ok_or_else(|| bad("expected the module line '<sha256> <path>'"))?;
                module = Some((path(p)?, digest(d)?));
                continue;
            }
            let (size, rest) = text.split_once(' ').ok_or_else(|| {
                bad(if v2 { "expected '<size> <sha256> <path>'" } else { "expected '<size> <path>'" })
            })?;
            let size: u64 = size.parse().map_err(|_| bad(&format!("size '{size}' is not a number")))?;
            let rest = if v2 {
                let (d, p) = rest.split_once(' ').ok_or_else(|| bad("expected '<size> <sha256> <path>'"))?;
                digests.push(digest(d)?);
                p
            } else {
                rest
            };
            let path = path(rest)?;
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
        Ok(Pack { bytes, module, members, digests })
    }

    /// The backend's own module and its digest when the thin link read it
    /// (version 2 packs; `None` for version 1).
    pub fn module(&self) -> Option<(&ExecPath, &Digest)> {
        self.module.as_ref().map(|(p, d)| (p, d))
    }

    /// The digest the thin link took of member `path` (version 2 packs).
    pub fn digest(&self, path: &ExecPath) -> Option<&Digest> {
        let i = self.members.binary_search_by(|(p, _)| p.cmp(path)).ok()?;
        self.digests.get(i)
    }

    /// Checks every member's bytes against its digest (version 2 packs; a
    /// version 1 pack has none to check). `file` is only used in messages.
    pub fn verify_members(&self, file: &Path) -> Result<(), PackError> {
        for ((path, range), expected) in self.members.iter().zip(&self.digests) {
            let actual = Digest::of(&self.bytes[range.clone()]);
            if actual != *expected {
                return Err(PackError::MemberDigest {
                    file: file.to_path_buf(),
                    path: path.to_string(),
                    expected: *expected,
                    actual,
                });
            }
        }
        Ok(())
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

/// Writes a pack for the backend of `module` (whose digest the thin link
/// took: `module_digest`) holding `members` to `w`. A member whose size
/// changes while it is copied is an error.
pub fn write(w: &mut dyn Write, module: &ExecPath, module_digest: &Digest, members: &[Member]) -> std::io::Result<()> {
    let mut sorted: Vec<&Member> = members.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut files = Vec::with_capacity(sorted.len());
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(format!("{module_digest} {module}\n").as_bytes());
    for m in sorted {
        let source = &m.source;
        let f = std::fs::File::open(source)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot read '{}': {e}", source.display())))?;
        let size = f.metadata()?.len();
        header.extend_from_slice(format!("{size} {} {}\n", m.digest, m.path).as_bytes());
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
        let members: Vec<Member> = paths
            .iter()
            .zip(files)
            .map(|(p, (_, bytes))| Member { path: p, source: p.under(dir.path()), digest: Digest::of(bytes) })
            .collect();
        let mut out = Vec::new();
        write(&mut out, &ExecPath::new("out/m.o").unwrap(), &Digest::of(b"M"), &members).unwrap();
        (dir, out)
    }

    /// The header line of a member with `bytes` at `path`.
    fn line(bytes: &[u8], path: &str) -> String {
        format!("{} {} {path}\n", bytes.len(), Digest::of(bytes))
    }

    fn module_line() -> String {
        format!("{} out/m.o\n", Digest::of(b"M"))
    }

    fn parse_err(bytes: &[u8]) -> String {
        Pack::parse(Path::new("m.o.pack"), bytes.to_vec()).unwrap_err().to_string()
    }

    #[test]
    fn round_trips_sorted_and_deterministic() {
        let (_d, bytes) = pack_of(&[("out/b.o", b"BBB"), ("out/a.o", b"A"), ("out/empty.o", b"")]);
        let header = format!(
            "thinlto-pack 2\n{}{}{}{}\n",
            module_line(),
            line(b"A", "out/a.o"),
            line(b"BBB", "out/b.o"),
            line(b"", "out/empty.o")
        );
        assert_eq!(String::from_utf8_lossy(&bytes), header + "ABBB");
        let (_d2, again) = pack_of(&[("out/a.o", b"A"), ("out/empty.o", b""), ("out/b.o", b"BBB")]);
        assert_eq!(bytes, again);

        let pack = Pack::parse(Path::new("p"), bytes).unwrap();
        let paths: Vec<&str> = pack.paths().map(ExecPath::as_str).collect();
        assert_eq!(paths, ["out/a.o", "out/b.o", "out/empty.o"]);
        assert_eq!(pack.get(&ExecPath::new("out/b.o").unwrap()), Some(&b"BBB"[..]));
        assert!(!pack.contains(&ExecPath::new("out/c.o").unwrap()));
        assert_eq!(pack.module(), Some((&ExecPath::new("out/m.o").unwrap(), &Digest::of(b"M"))));
        assert_eq!(pack.digest(&ExecPath::new("out/b.o").unwrap()), Some(&Digest::of(b"BBB")));
        pack.verify_members(Path::new("p")).unwrap();

        let dir = tempfile::tempdir().unwrap();
        pack.unpack(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join("out/b.o")).unwrap(), b"BBB");
        assert_eq!(std::fs::read(dir.path().join("out/empty.o")).unwrap(), b"");
    }

    #[test]
    fn empty_pack() {
        let (_d, bytes) = pack_of(&[]);
        assert_eq!(String::from_utf8_lossy(&bytes), format!("thinlto-pack 2\n{}\n", module_line()));
        assert_eq!(Pack::parse(Path::new("p"), bytes).unwrap().paths().len(), 0);
    }

    #[test]
    fn reads_version_1_packs_which_have_no_digests() {
        let pack = Pack::parse(Path::new("p"), b"thinlto-pack 1\n1 out/a.o\n3 out/b.o\n\nABBB".to_vec()).unwrap();
        assert_eq!(pack.get(&ExecPath::new("out/b.o").unwrap()), Some(&b"BBB"[..]));
        assert_eq!(pack.module(), None);
        assert_eq!(pack.digest(&ExecPath::new("out/a.o").unwrap()), None);
        pack.verify_members(Path::new("p")).unwrap();
    }

    #[test]
    fn a_member_whose_bytes_do_not_match_its_digest_is_a_corrupt_pack() {
        let (_d, mut bytes) = pack_of(&[("out/a.o", b"A"), ("out/b.o", b"BBB")]);
        *bytes.last_mut().unwrap() = b'X';
        let pack = Pack::parse(Path::new("m.o.pack"), bytes).unwrap();
        let e = pack.verify_members(Path::new("m.o.pack")).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "pack 'm.o.pack': the bytes of member 'out/b.o' do not match the digest in its header \
                 (header {}, bytes {}): a corrupt pack",
                Digest::of(b"BBB"),
                Digest::of(b"BBX")
            )
        );
    }

    #[test]
    fn rejects_bad_version_2_headers() {
        let d = Digest::of(b"A").to_string();
        let m = module_line();
        assert!(parse_err(b"thinlto-pack 2\n\n").contains("line 2: expected the module line '<sha256> <path>'"));
        assert!(parse_err(b"thinlto-pack 2\nout/m.o\n\n").contains("line 2: expected the module line"));
        assert!(
            parse_err(format!("thinlto-pack 2\n{} out/m.o\n\n", &d[1..]).as_bytes()).contains("line 2: '")
                && parse_err(format!("thinlto-pack 2\n{} out/m.o\n\n", &d[1..]).as_bytes())
                    .contains("is not a SHA-256 digest")
        );
        assert!(
            parse_err(format!("thinlto-pack 2\n{d} ../m.o\n\n").as_bytes()).contains("line 2: path '../m.o' escapes")
        );
        assert!(parse_err(format!("thinlto-pack 2\n{m}1 a.o\n\nA").as_bytes())
            .contains("line 3: expected '<size> <sha256> <path>'"));
        assert!(
            parse_err(format!("thinlto-pack 2\n{m}1 {} a.o\n\nA", d.to_uppercase()).as_bytes()).contains("line 3: '")
        );
        assert!(parse_err(format!("thinlto-pack 2\n{m}2 {d} a.o\n\nA").as_bytes()).contains("truncated"));
        assert!(parse_err(format!("thinlto-pack 2\n{m}1 {d} b.o\n1 {d} a.o\n\nAA").as_bytes())
            .contains("line 4: member 'a.o' is not in sorted order"));
        // A path with spaces is one path.
        let pack = Pack::parse(Path::new("p"), format!("thinlto-pack 2\n{m}1 {d} a b.o\n\nA").into_bytes()).unwrap();
        assert!(pack.contains(&ExecPath::new("a b.o").unwrap()));
    }

    #[test]
    fn rejects_bad_packs_naming_file_and_reason() {
        assert_eq!(
            parse_err(b"!<arch>\n"),
            "'m.o.pack' is not an import pack (no 'thinlto-pack 2' or 'thinlto-pack 1' header line)"
        );
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
