//! Stale thin links, caught before clang runs.
//!
//! A backend compiles its module with the summaries the thin link made of
//! the program. When those no longer describe the bitcode in front of it,
//! LLVM does not complain: a function whose summary is missing or does not
//! match is silently not imported, and the program is linked with less
//! inlining than it should have. So the backend checks, before clang runs:
//!
//! * its index (`.thinlto.bc`) names no module that its imports list does
//!   not: the backend is given exactly the modules the list names, and LLVM
//!   would import nothing from one it was not given;
//! * its module, and each module it imports, is the bitcode the thin link
//!   indexed: the thin link recorded their SHA-256 ([`crate::digest`]) in the
//!   module's import pack (Bazel) or its own plan (Buck2), and a module that
//!   changed after the thin link fails the backend, naming it and both
//!   digests. (Imports from a pack are the bytes the thin link copied; their
//!   digests are checked too, against a corrupt pack.)

use crate::bitcode;
use crate::digest::Digest;
use crate::execpath::ExecPath;
use crate::pack::Pack;
use crate::plan::ModulePlanFile;
use anyhow::{Context, Result};
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StaleError {
    #[error(
        "module '{module}' changed after the thin link: the thin link indexed SHA-256 {expected}, the backend \
         was given {actual} (per '{recorded_in}'). Its index and imports describe the old module, and LLVM would \
         silently import less than they say: the thin link is stale; re-run it (`thinlto index`) before this backend"
    )]
    ModuleChanged { module: ExecPath, recorded_in: ExecPath, expected: Digest, actual: Digest },
    #[error(
        "imported module '{import}' (listed in '{imports_file}' line {line}) changed after the thin link: the \
         thin link indexed SHA-256 {expected}, the backend was given {actual} (per '{recorded_in}'). LLVM would \
         silently import nothing that no longer matches its summary: the thin link is stale; re-run it \
         (`thinlto index`) before this backend"
    )]
    ImportChanged {
        import: ExecPath,
        imports_file: ExecPath,
        line: usize,
        recorded_in: ExecPath,
        expected: Digest,
        actual: Digest,
    },
    #[error(
        "index '{index}' names module '{named}', which imports list '{imports_file}' does not: the backend is \
         not given it, and LLVM would silently import nothing from it (index and imports list from different \
         thin links?)"
    )]
    IndexNamesUnlisted { index: ExecPath, named: String, imports_file: ExecPath },
    #[error(
        "index '{index}' does not describe module '{module}' (it names {named}): the index of another module, \
         or of another thin link"
    )]
    IndexOfAnother { index: ExecPath, module: ExecPath, named: String },
    #[error("{what} '{file}' was written for module '{written_for}', not '{module}'")]
    ForAnother { what: &'static str, file: ExecPath, written_for: ExecPath, module: ExecPath },
    #[error(
        "module plan '{plan}' records no digest of '{import}', which imports list '{imports_file}' names (line \
         {line}): plan and imports list from different thin links?"
    )]
    PlanLacksDigest { plan: ExecPath, import: ExecPath, imports_file: ExecPath, line: usize },
}

/// What one backend is given, as [`check`] needs it.
pub struct BackendInputs<'a> {
    pub exec_root: &'a Path,
    pub module: &'a ExecPath,
    pub index: &'a ExecPath,
    pub imports_file: &'a ExecPath,
    /// The lines of the imports list.
    pub imports: &'a [ExecPath],
    /// The import pack, read and checked against the imports list (Bazel).
    pub pack: Option<(&'a Pack, &'a ExecPath)>,
    /// The module's own plan (Buck2).
    pub module_plan: Option<&'a ExecPath>,
}

/// Every check of this module's doc, in that order; the first that fails is the error.
pub fn check(b: &BackendInputs) -> Result<()> {
    check_index(b)?;
    // The module's digest, taken once; none if it is missing (staging reports that).
    let mut own: Option<Option<Digest>> = None;
    let mut own_digest = || -> Result<Option<Digest>> {
        if let Some(d) = own {
            return Ok(d);
        }
        let d = match Digest::of_file(&b.module.under(b.exec_root)) {
            Ok(d) => Some(d),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("cannot read module '{}'", b.module)),
        };
        own = Some(d);
        Ok(d)
    };
    if let Some((pack, pack_path)) = b.pack {
        if let Some((written_for, expected)) = pack.module() {
            if written_for != b.module {
                return Err(StaleError::ForAnother {
                    what: "pack",
                    file: pack_path.clone(),
                    written_for: written_for.clone(),
                    module: b.module.clone(),
                }
                .into());
            }
            let actual = own_digest()?;
            if let Some(actual) = actual.filter(|a| a != expected) {
                return Err(StaleError::ModuleChanged {
                    module: b.module.clone(),
                    recorded_in: pack_path.clone(),
                    expected: *expected,
                    actual,
                }
                .into());
            }
        }
        pack.verify_members(&pack_path.under(b.exec_root))?;
    }
    if let Some(plan_path) = b.module_plan {
        let disk = plan_path.under(b.exec_root);
        let text = std::fs::read(&disk).with_context(|| format!("cannot read module plan '{plan_path}'"))?;
        let plan: ModulePlanFile =
            serde_json::from_slice(&text).with_context(|| format!("invalid module plan '{plan_path}'"))?;
        if plan.module != *b.module {
            return Err(StaleError::ForAnother {
                what: "module plan",
                file: plan_path.clone(),
                written_for: plan.module,
                module: b.module.clone(),
            }
            .into());
        }
        if plan.digests.is_empty() {
            return Ok(()); // a plan from before digests were recorded
        }
        if let Some(expected) = plan.digests.get(b.module) {
            let actual = own_digest()?;
            if let Some(actual) = actual.filter(|a| a != expected) {
                return Err(StaleError::ModuleChanged {
                    module: b.module.clone(),
                    recorded_in: plan_path.clone(),
                    expected: *expected,
                    actual,
                }
                .into());
            }
        }
        for (i, import) in b.imports.iter().enumerate() {
            if import == b.module {
                continue;
            }
            let line = i + 1;
            let Some(expected) = plan.digests.get(import) else {
                return Err(StaleError::PlanLacksDigest {
                    plan: plan_path.clone(),
                    import: import.clone(),
                    imports_file: b.imports_file.clone(),
                    line,
                }
                .into());
            };
            // A missing import is reported where it is staged, with where it was expected.
            let Ok(actual) = Digest::of_file(&import.under(b.exec_root)) else { continue };
            if actual != *expected {
                return Err(StaleError::ImportChanged {
                    import: import.clone(),
                    imports_file: b.imports_file.clone(),
                    line,
                    recorded_in: plan_path.clone(),
                    expected: *expected,
                    actual,
                }
                .into());
            }
        }
    }
    Ok(())
}

/// The index names no module but this one and those of its imports list.
fn check_index(b: &BackendInputs) -> Result<()> {
    let bytes =
        std::fs::read(b.index.under(b.exec_root)).with_context(|| format!("cannot read index '{}'", b.index))?;
    let index = bitcode::read_index(&bytes)
        .with_context(|| format!("index '{}' of module '{}' is not a ThinLTO index", b.index, b.module))?;
    if index.modules.is_empty() {
        return Ok(()); // nothing to import from (the index of a module the linker did not load)
    }
    if !index.modules.iter().any(|m| m.path == b.module.as_str()) {
        let mut named: Vec<String> = index.modules.iter().map(|m| format!("'{}'", m.path)).collect();
        named.sort();
        return Err(StaleError::IndexOfAnother {
            index: b.index.clone(),
            module: b.module.clone(),
            named: named.join(", "),
        }
        .into());
    }
    let listed: HashSet<&str> = b.imports.iter().map(ExecPath::as_str).collect();
    let mut unlisted: Vec<&str> = index
        .modules
        .iter()
        .map(|m| m.path.as_str())
        .filter(|p| *p != b.module.as_str() && !listed.contains(p))
        .collect();
    unlisted.sort_unstable();
    if let Some(named) = unlisted.first() {
        return Err(StaleError::IndexNamesUnlisted {
            index: b.index.clone(),
            named: named.to_string(),
            imports_file: b.imports_file.clone(),
        }
        .into());
    }
    Ok(())
}
