//! The plan: per bitcode module, what its backend reads and writes.
//!
//! Built from the thin link's outputs and checked against the manifest, so
//! that a backend is never handed a path that is not a module of this link.

use crate::execpath::{ExecDir, ExecPath};
use crate::layout::{module_files, ModuleFiles};
use crate::linelist;
use crate::manifest::Manifest;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub version: u32,
    /// The final linked output of the manifest.
    pub output: ExecPath,
    /// Bitcode modules in command-line order.
    pub modules: Vec<ModulePlan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModulePlan {
    /// The bitcode module (the backend's main input).
    pub module: ExecPath,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether the linker loaded it; unloaded modules (lazy members nothing
    /// referenced) get a skip index and no place in the final link.
    pub loaded: bool,
    pub index: ExecPath,
    pub imports_file: ExecPath,
    /// The backend's output object.
    pub object: ExecPath,
    /// The modules whose bitcode the backend imports from, sorted.
    pub imports: Vec<ExecPath>,
}

impl ModulePlan {
    /// Exactly the files the backend reads: its module, its index, its imports.
    pub fn backend_inputs(&self) -> Vec<&ExecPath> {
        let mut v = vec![&self.module, &self.index];
        v.extend(self.imports.iter());
        v
    }
}

impl Plan {
    pub fn read(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan '{}'", path.display()))?;
        let plan: Plan = serde_json::from_str(&text).with_context(|| format!("invalid plan '{}'", path.display()))?;
        if plan.version != VERSION {
            bail!("plan '{}' has version {}, this helper reads {VERSION}", path.display(), plan.version);
        }
        Ok(plan)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).expect("plan serializes");
        bytes.push(b'\n');
        bytes
    }

    pub fn loaded(&self) -> impl Iterator<Item = &ModulePlan> {
        self.modules.iter().filter(|m| m.loaded)
    }
}

/// Builds the plan from the thin link's outputs.
///
/// `written` is the directory the thin link actually wrote to (a staging
/// directory, or `prefix_replace.new`); `index_list` is its index list, read
/// from `index_list_file`. Paths in the plan always use `prefix_replace.new`.
pub fn build(
    manifest: &Manifest,
    exec_root: &Path,
    written: &ExecDir,
    index_list_file: &Path,
    index_list: &[ExecPath],
) -> Result<Plan> {
    let prefix = &manifest.prefix_replace;
    let modules = manifest.bitcode();
    let known: BTreeSet<&ExecPath> = modules.iter().map(|m| m.path).collect();

    // Each index-list entry is the backend object of one loaded module.
    let mut by_written_object: BTreeMap<ExecPath, usize> = BTreeMap::new();
    for (i, m) in modules.iter().enumerate() {
        let files = module_files(prefix, written, m.path).expect("manifest validated prefixes");
        by_written_object.insert(files.object, i);
    }
    let mut loaded = vec![false; modules.len()];
    for (line, entry) in index_list.iter().enumerate() {
        match by_written_object.get(entry) {
            Some(&i) => loaded[i] = true,
            None if entry.as_str().contains('(') => bail!(
                "'{}' line {}: '{entry}' is a member of an archive that holds bitcode; \
                 split such archives with `thinlto extract` and pass their members in a start_lib group",
                index_list_file.display(),
                line + 1
            ),
            None => bail!(
                "'{}' line {}: '{entry}' is not the backend object of any bitcode module of the manifest",
                index_list_file.display(),
                line + 1
            ),
        }
    }

    let mut out = Vec::with_capacity(modules.len());
    for (i, m) in modules.iter().enumerate() {
        let written_files = module_files(prefix, written, m.path).expect("validated");
        let final_files: ModuleFiles = module_files(prefix, &prefix.new, m.path).expect("validated");
        if !m.lazy && !loaded[i] {
            bail!(
                "bitcode module '{}' is not in the index list '{}', but only lazy (start_lib) members may be left unloaded",
                m.path,
                index_list_file.display()
            );
        }
        let index_disk = written_files.index.under(exec_root);
        let meta = std::fs::metadata(&index_disk).with_context(|| {
            format!("the thin link wrote no index '{}' for bitcode module '{}'", written_files.index, m.path)
        })?;
        if meta.len() == 0 {
            // clang would compile a 0-byte index's module in full, unoptimized by the link.
            bail!("index '{}' of bitcode module '{}' is empty", written_files.index, m.path);
        }
        let imports_disk = written_files.imports.under(exec_root);
        let imports = linelist::read(&imports_disk)?;
        for (line, imp) in imports.iter().enumerate() {
            if !known.contains(imp) {
                bail!("'{}' line {}: '{imp}' is not a bitcode module of the manifest", written_files.imports, line + 1);
            }
        }
        if !loaded[i] && !imports.is_empty() {
            bail!(
                "'{}': module '{}' was not loaded but imports {} modules",
                written_files.imports,
                m.path,
                imports.len()
            );
        }
        out.push(ModulePlan {
            module: m.path.clone(),
            owner: m.owner.map(str::to_string),
            loaded: loaded[i],
            index: final_files.index,
            imports_file: final_files.imports,
            object: final_files.object,
            imports,
        });
    }
    Ok(Plan { version: VERSION, output: manifest.output.clone(), modules: out })
}
