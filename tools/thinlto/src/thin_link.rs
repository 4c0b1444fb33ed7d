//! The thin link: lld in index-only mode over the whole program, then the
//! plan and the final link's param file, all committed together.
//!
//! lld writes its per-module files into a staging directory next to
//! `prefix_replace.new`; only when every module has a non-empty index and a
//! valid imports list are they moved into place. A failed run leaves none of
//! its outputs behind.

use crate::atomic::OutputSet;
use crate::execpath::{ExecDir, ExecPath};
use crate::layout::module_files;
use crate::manifest::{Manifest, OBJECT_SUFFIX, THIN_LINK_SUFFIX};
use crate::plan::{self, Plan};
use crate::{command, final_link, linelist, paramfile};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

pub struct IndexRequest<'a> {
    pub manifest: &'a Manifest,
    /// The exec root: every manifest path is relative to it.
    pub exec_root: &'a Path,
    /// Where to write the plan JSON.
    pub plan: Option<&'a Path>,
    /// Where to write the final link's param file.
    pub final_link_params: Option<&'a Path>,
    /// Where to write the index list (in final paths).
    pub index_list: Option<&'a Path>,
    /// Write each module's imports into `<object>.bundle/`, laid out as in
    /// the exec root, for backends whose inputs must be declared exactly.
    pub bundles: bool,
    /// Write each module's imports into one file, `<object>.pack` (see
    /// [`crate::pack`]): exact backend inputs in one declared file each.
    pub packs: bool,
    /// Write each module's own plan to `<object>.plan.json`, for build systems
    /// that read plans (Buck2's dynamic actions): one per module, so that a
    /// change to one module's plan re-runs only that module's backend.
    pub module_plans: bool,
}

/// Appended to a module's backend object path to name its own plan.
pub const MODULE_PLAN_SUFFIX: &str = ".plan.json";

/// The staging directory lld writes to: a sibling of `new`, never inside it,
/// so that a half-finished run leaves nothing among the declared outputs.
fn staging_dir(new: &ExecDir) -> ExecDir {
    let name = match new.as_str() {
        "" => "thinlto-staging".to_string(),
        d => format!("{d}.thinlto-staging"),
    };
    ExecDir::new(&name).expect("valid by construction")
}

/// Runs the thin link and writes the per-module files, the plan, the final
/// link's param file and the index list.
pub fn index(req: &IndexRequest) -> Result<Plan> {
    let m = req.manifest;
    let prefix = &m.prefix_replace;
    let staging = staging_dir(&prefix.new);
    let staging_disk = staging.under(req.exec_root);
    if staging_disk.exists() {
        std::fs::remove_dir_all(&staging_disk)
            .with_context(|| format!("cannot remove stale staging directory '{}'", staging_disk.display()))?;
    }
    std::fs::create_dir_all(&staging_disk)
        .with_context(|| format!("cannot create staging directory '{}'", staging_disk.display()))?;
    let result = index_in(req, &staging);
    std::fs::remove_dir_all(&staging_disk).ok();
    result
}

fn index_in(req: &IndexRequest, staging: &ExecDir) -> Result<Plan> {
    let m = req.manifest;
    let prefix = &m.prefix_replace;
    for b in m.bitcode() {
        for p in std::iter::once(b.path).chain(b.thin_link) {
            if !p.under(req.exec_root).is_file() {
                bail!("bitcode input '{p}' does not exist");
            }
        }
    }

    let list = ExecPath::new(&format!("{}/index.list", staging.as_str())).expect("valid");
    let mut argv = vec![m.linker.driver.clone()];
    argv.extend(final_link::thin_link_args(m));
    argv.extend([
        "-Xlinker".to_string(),
        format!("--thinlto-index-only={list}"),
        "-Xlinker".to_string(),
        "--thinlto-emit-imports-files".to_string(),
        "-Xlinker".to_string(),
        format!("--thinlto-prefix-replace={};{}", prefix.old.as_prefix(), staging.as_prefix()),
    ]);
    // Put summaries of referenced but not imported functions into each module's index, so
    // that its backend knows which callees are dso_local, as in-process ThinLTO does:
    // without them Rust's GOT calls (rustc uses no PLT) stay indirect, or become
    // `addr32 call` after lld's relaxation, where in-process ThinLTO emits a direct call.
    argv.extend(["-Xlinker", "-mllvm", "-Xlinker", "-import-declaration"].map(String::from));
    if m.uses_thin_link_files() {
        argv.extend([
            "-Xlinker".to_string(),
            format!("--thinlto-object-suffix-replace={THIN_LINK_SUFFIX};{OBJECT_SUFFIX}"),
        ]);
    }
    // lld wants the directory of -o to exist, but writes nothing there.
    argv.extend(["-o".to_string(), format!("{}/thin-link.out", staging.as_str())]);
    let ran = command::run(&argv, Some(req.exec_root), "thin link")?;
    eprint!("{}", ran.stderr);

    let list_disk = list.under(req.exec_root);
    if !list_disk.exists() {
        bail!(
            "the thin link wrote no index list '{list}': is the linker lld (-fuse-ld=lld) and are the bitcode inputs ThinLTO bitcode?"
        );
    }
    let index_list = linelist::read(&list_disk)?;
    let plan = plan::build(m, req.exec_root, staging, &list_disk, &index_list)?;

    // Everything checked: stage the derived files, then move all into place.
    let mut outputs = OutputSet::new();
    if let Some(p) = req.plan {
        outputs.add(&req.exec_root.join(p), &plan.to_json())?;
    }
    if let Some(p) = req.final_link_params {
        outputs.add(&req.exec_root.join(p), &paramfile::render(&final_link::final_link_args(m, &plan)))?;
    }
    if let Some(p) = req.index_list {
        outputs.add(&req.exec_root.join(p), &linelist::render(plan.loaded().map(|mp| &mp.object)))?;
    }
    if req.packs {
        for mp in &plan.modules {
            let pack = module_files(prefix, &prefix.new, &mp.module).expect("validated").pack;
            let members: Vec<(&ExecPath, PathBuf)> = plan
                .imports(mp)
                .filter(|i| i.module != mp.module)
                .map(|i| (&i.module, i.module.under(req.exec_root)))
                .collect();
            outputs.add_with(&pack.under(req.exec_root), |w| crate::pack::write(w, &members))?;
        }
    }
    if req.module_plans {
        for mp in &plan.modules {
            outputs.add(&mp.object.with_suffix(MODULE_PLAN_SUFFIX).under(req.exec_root), &plan.module_json(mp))?;
        }
    }
    let mut moves: Vec<(PathBuf, PathBuf)> = Vec::new();
    for b in m.bitcode() {
        let from = module_files(prefix, staging, b.path).expect("validated");
        let to = module_files(prefix, &prefix.new, b.path).expect("validated");
        moves.push((from.index.under(req.exec_root), to.index.under(req.exec_root)));
        moves.push((from.imports.under(req.exec_root), to.imports.under(req.exec_root)));
    }
    if req.bundles {
        for mp in &plan.modules {
            let bundle = module_files(prefix, staging, &mp.module).expect("validated").bundle;
            let bundle_disk = bundle.under(req.exec_root);
            std::fs::create_dir_all(&bundle_disk)
                .with_context(|| format!("cannot create bundle '{}'", bundle_disk.display()))?;
            for imp in plan.imports(mp).map(|i| &i.module) {
                link_or_copy(&imp.under(req.exec_root), &imp.under(&bundle_disk))?;
            }
            let final_bundle = module_files(prefix, &prefix.new, &mp.module).expect("validated").bundle;
            moves.push((bundle_disk, final_bundle.under(req.exec_root)));
        }
    }
    for (from, to) in &moves {
        if to.is_dir() {
            std::fs::remove_dir_all(to).with_context(|| format!("cannot replace '{}'", to.display()))?;
        }
        crate::atomic::rename(from, to)?;
    }
    outputs.commit()?;
    Ok(plan)
}

/// Hard-links `from` to `to` where the file system allows it (no bytes
/// written), and copies otherwise. A symlink (as sandboxes stage inputs) is
/// copied: a link to it would dangle wherever the bundle goes next.
pub fn link_or_copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory '{}'", dir.display()))?;
    }
    let is_symlink = std::fs::symlink_metadata(from).map(|m| m.file_type().is_symlink()).unwrap_or(false);
    if !is_symlink && std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to).with_context(|| format!("cannot copy '{}' to '{}'", from.display(), to.display()))?;
    Ok(())
}
