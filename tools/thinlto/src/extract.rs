//! Splits an archive (`.a`, a rustc staticlib or rlib) into member files.
//!
//! The thin link names a bitcode member of an archive `lib.a(m.o at 1234)`,
//! which no backend can open; members written out as files and passed in a
//! `start_lib` group (or whole, as `--whole-archive` would) keep archive
//! semantics and get real paths. Members are told apart by content (bitcode,
//! ELF, other such as `lib.rmeta`), and two members of the same name, which
//! `ar x` would let overwrite each other, get distinct file names. The
//! fragment says which member is which; the build system turns it into
//! manifest inputs.

use crate::atomic::OutputSet;
use crate::execpath::{ExecDir, ExecPath};
use crate::magic::{self, Kind};
use anyhow::{bail, Context, Result};
use object::read::archive::ArchiveFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const VERSION: u32 = 2;

/// The member of an rlib that holds the crate's metadata.
const RUST_METADATA_MEMBER: &str = "lib.rmeta";

/// What `extract` reports: the archive's code members as files, in archive order.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Fragment {
    pub version: u32,
    pub archive: ExecPath,
    pub members: Vec<ExtractedMember>,
    /// Members that are neither bitcode nor ELF (for example `lib.rmeta`).
    pub skipped: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExtractedMember {
    pub path: ExecPath,
    /// LLVM bitcode (a module of the thin link) rather than a native object.
    pub bitcode: bool,
}

impl Fragment {
    pub fn read(path: &Path) -> Result<Fragment> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read fragment '{}'", path.display()))?;
        let f: Fragment =
            serde_json::from_slice(&bytes).with_context(|| format!("invalid fragment '{}'", path.display()))?;
        if f.version != VERSION {
            bail!("fragment '{}' has version {}, this helper reads {VERSION}", path.display(), f.version);
        }
        Ok(f)
    }
}

pub struct ExtractRequest<'a> {
    pub exec_root: &'a Path,
    pub archive: &'a ExecPath,
    pub out_dir: &'a ExecDir,
}

/// One member of an archive that is code: where its bytes are and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeMember {
    /// A file name unique within the archive (`m.o`, `m~2.o`, ...).
    pub file_name: String,
    pub bitcode: bool,
    pub range: std::ops::Range<usize>,
}

/// The archive's members in order: code members (bitcode or ELF) with unique file names,
/// and the names of the others. `archive` names it in messages.
pub fn read_members(data: &[u8], archive: &ExecPath) -> Result<(Vec<CodeMember>, Vec<String>)> {
    if magic::sniff(data) != Kind::Archive {
        bail!("'{archive}' is not an ar archive");
    }
    let parsed = ArchiveFile::parse(data).with_context(|| format!("corrupt archive '{archive}'"))?;
    if parsed.is_thin() {
        bail!("'{archive}' is a thin archive: pass its members directly");
    }
    let mut used_names: BTreeMap<String, usize> = BTreeMap::new();
    let mut code = Vec::new();
    let mut skipped = Vec::new();
    for (i, member) in parsed.members().enumerate() {
        let member = member.with_context(|| format!("corrupt archive '{archive}': member {}", i + 1))?;
        let name = String::from_utf8_lossy(member.name()).into_owned();
        let (offset, size) = member.file_range();
        let range = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(size).ok())
            .and_then(|(o, n)| Some(o..o.checked_add(n)?))
            .filter(|r| r.end <= data.len())
            .with_context(|| format!("corrupt archive '{archive}': member '{name}' is truncated"))?;
        let kind = magic::sniff(&data[range.clone()]);
        // rustc wraps an rlib's metadata in an ELF object of its own; it holds no code.
        if !matches!(kind, Kind::Bitcode | Kind::Elf) || name == RUST_METADATA_MEMBER {
            skipped.push(name);
            continue;
        }
        let file_name = unique_name(&mut used_names, &name, archive)?;
        code.push(CodeMember { file_name, bitcode: kind == Kind::Bitcode, range });
    }
    Ok((code, skipped))
}

pub fn extract(req: &ExtractRequest) -> Result<Fragment> {
    let disk = req.archive.under(req.exec_root);
    let data = std::fs::read(&disk).with_context(|| format!("cannot read archive '{}'", req.archive))?;
    let (code, skipped) = read_members(&data, req.archive)?;
    // The directory is an output even when no member is code (build systems declare it).
    let out_dir = req.out_dir.under(req.exec_root);
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create '{}'", out_dir.display()))?;

    let mut outputs = OutputSet::new();
    let mut members = Vec::new();
    for m in code {
        let path = ExecPath::new(&m.file_name).expect("sanitized").prefixed(req.out_dir);
        outputs.add(&path.under(req.exec_root), &data[m.range])?;
        members.push(ExtractedMember { path, bitcode: m.bitcode });
    }
    outputs.commit()?;
    Ok(Fragment { version: VERSION, archive: req.archive.clone(), members, skipped })
}

/// A file name for member `name` that no earlier member of the archive got:
/// `m.o`, then `m~2.o`, `m~3.o`, ... for later members of the same name.
fn unique_name(used: &mut BTreeMap<String, usize>, name: &str, archive: &ExecPath) -> Result<String> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0', '\r', '\n']) {
        bail!("archive '{archive}' has a member named {name:?}, which is not a plain file name");
    }
    let count = used.entry(name.to_string()).or_insert(0);
    *count += 1;
    if *count == 1 {
        return Ok(name.to_string());
    }
    let (stem, ext) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    let candidate = format!("{stem}~{count}{ext}");
    if used.contains_key(&candidate) {
        bail!("archive '{archive}': cannot give duplicate member '{name}' a unique name ('{candidate}' is taken)");
    }
    Ok(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_duplicates_apart() {
        let a = ExecPath::new("x.a").unwrap();
        let mut used = BTreeMap::new();
        assert_eq!(unique_name(&mut used, "common.o", &a).unwrap(), "common.o");
        assert_eq!(unique_name(&mut used, "common.o", &a).unwrap(), "common~2.o");
        assert_eq!(unique_name(&mut used, "other.o", &a).unwrap(), "other.o");
        assert_eq!(unique_name(&mut used, "common.o", &a).unwrap(), "common~3.o");
        assert!(unique_name(&mut used, "../evil.o", &a).unwrap_err().to_string().contains("not a plain file name"));
    }
}
