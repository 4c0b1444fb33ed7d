//! The thin link: lld in index-only mode over the whole program, then every
//! file the later steps read, all committed together.
//!
//! lld writes its per-module files into a private staging directory
//! (`--thinlto-prefix-replace=;STAGING/`: module `P` gets
//! `STAGING/P.thinlto.bc` and `STAGING/P.imports`). Only when every module
//! has a non-empty index and a valid imports list are they moved to the
//! paths the manifest declares, with the plan, the final link's param file,
//! and each module's pack and own plan where the manifest asks for them (both
//! carrying the SHA-256 of the modules as the thin link read them, which each
//! backend checks: [`crate::stale`]). A failed run leaves none of its outputs
//! behind.

use crate::atomic::OutputSet;
use crate::execpath::{ExecDir, ExecPath};
use crate::manifest::{Manifest, OBJECT_SUFFIX, THIN_LINK_SUFFIX};
use crate::plan::{self, Plan, IMPORTS_SUFFIX, INDEX_SUFFIX};
use crate::{command, final_link, linelist, paramfile};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use std::path::Path;

pub struct IndexRequest<'a> {
    pub manifest: &'a Manifest,
    /// The exec root: every manifest path is relative to it.
    pub exec_root: &'a Path,
    /// Where to write the plan JSON; lld's staging directory goes next to it.
    pub plan: &'a ExecPath,
    /// Where to write the final link's param file.
    pub final_link_params: &'a ExecPath,
}

/// Runs the thin link and writes every module's files, the plan and the
/// final link's param file.
pub fn index(req: &IndexRequest) -> Result<Plan> {
    let dir = req.plan.parent();
    let dir_disk = dir.under(req.exec_root);
    std::fs::create_dir_all(&dir_disk).with_context(|| format!("cannot create directory '{}'", dir_disk.display()))?;
    // Removed when dropped, whatever happens. Its name reaches no output:
    // lld records modules by their input paths, not by where it writes.
    let staging_disk = tempfile::Builder::new()
        .prefix(".thinlto-index")
        .tempdir_in(&dir_disk)
        .with_context(|| format!("cannot create a staging directory in '{}'", dir_disk.display()))?;
    let name = staging_disk.path().file_name().expect("a temporary directory has a name").to_string_lossy();
    let staging = ExecDir::new(&format!("{}{name}", dir.as_prefix())).expect("valid by construction");
    index_in(req, &staging)
}

fn index_in(req: &IndexRequest, staging: &ExecDir) -> Result<Plan> {
    let m = req.manifest;
    for b in m.bitcode() {
        for p in std::iter::once(&b.module.path).chain(&b.module.thin_link) {
            if !p.under(req.exec_root).is_file() {
                bail!("bitcode input '{p}' does not exist");
            }
        }
    }

    let list = ExecPath::new("index.list").expect("valid").prefixed(staging);
    let mut argv = vec![m.linker.driver.clone()];
    argv.extend(final_link::thin_link_args(m));
    argv.extend([
        "-Xlinker".to_string(),
        format!("--thinlto-index-only={list}"),
        "-Xlinker".to_string(),
        "--thinlto-emit-imports-files".to_string(),
        "-Xlinker".to_string(),
        format!("--thinlto-prefix-replace=;{}", staging.as_prefix()),
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
        // A minimized file holds no IR: lld reads its symbol table as stored, where it would
        // rebuild it from the (absent) IR because rustc's LLVM producer string is not lld's.
        argv.extend(["-Xlinker", "-mllvm", "-Xlinker", "-disable-bitcode-version-upgrade"].map(String::from));
    }
    // lld wants the directory of -o to exist, but writes nothing there.
    argv.extend(["-o".to_string(), ExecPath::new("thin-link.out").expect("valid").prefixed(staging).to_string()]);
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
    // Where backends will read them: a pack's header, a module's own plan.
    let wanted = m.bitcode().iter().any(|b| b.module.outputs.pack.is_some() || b.module.outputs.plan.is_some());
    let digests = if wanted { digest_modules(&plan, req.exec_root)? } else { Vec::new() };

    // Everything checked: stage the derived files, then move all into place.
    for dir in &m.extracted_outputs {
        let disk = dir.under(req.exec_root);
        std::fs::create_dir_all(&disk).with_context(|| format!("cannot create directory '{}'", disk.display()))?;
    }
    let mut outputs = OutputSet::new();
    outputs.add_with(&req.plan.under(req.exec_root), |w| plan.write_json(w))?;
    outputs
        .add(&req.final_link_params.under(req.exec_root), &paramfile::render(&final_link::final_link_args(m, &plan)))?;
    for (k, (b, mp)) in m.bitcode().iter().zip(&plan.modules).enumerate() {
        let declared = &b.module.outputs;
        for (suffix, to) in [(INDEX_SUFFIX, &declared.index), (IMPORTS_SUFFIX, &declared.imports)] {
            outputs.add_file(plan::staged(staging, &mp.module, suffix).under(req.exec_root), &to.under(req.exec_root));
        }
        if let Some(pack) = &declared.pack {
            let members: Vec<crate::pack::Member> = mp
                .imports
                .iter()
                .map(|&j| (&plan.modules[j as usize], digests[j as usize]))
                .filter(|(i, _)| i.module != mp.module)
                .map(|(i, digest)| crate::pack::Member {
                    path: &i.module,
                    source: i.module.under(req.exec_root),
                    digest,
                })
                .collect();
            outputs
                .add_with(&pack.under(req.exec_root), |w| crate::pack::write(w, &mp.module, &digests[k], &members))?;
        }
        if let Some(own) = &declared.plan {
            outputs.add(&own.under(req.exec_root), &plan.module_json_with_digests(k, &digests))?;
        }
    }
    outputs.commit()?;
    Ok(plan)
}

/// The SHA-256 of every module of the plan as the thin link read it, in the
/// plan's order, hashed on all cores (a 1,000-module program has ~33 MB of
/// bitcode). Backends compare their inputs with them ([`crate::stale`]).
fn digest_modules(plan: &Plan, exec_root: &Path) -> Result<Vec<crate::digest::Digest>> {
    plan.modules
        .par_iter()
        .map(|m| {
            crate::digest::Digest::of_file(&m.module.under(exec_root))
                .with_context(|| format!("cannot read bitcode module '{}'", m.module))
        })
        .collect()
}
