//! One ThinLTO backend: a module, its index and its imports in, one native
//! object out.
//!
//! clang runs in a private directory that holds only those files, laid out
//! as in the exec root, so a backend can never read an import its plan did
//! not name, whatever the surrounding sandbox allows. The imports come from
//! the exec root as symlinks (where the build system declared each of them,
//! as Buck2 does), or from the module's import pack ([`crate::pack`]; Bazel),
//! unpacked there unless the exec root already holds every member byte for
//! byte: then clang runs in the exec root, reading exactly what the pack
//! declares, and nothing is unpacked (why: ARCHITECTURE.md). Every import
//! must exist before clang starts, and the result is checked: clang exits 0
//! when an import is missing, prints the error and writes an empty object
//! (llvm#75441); that, and any other empty or non-ELF output, is a failure.

use crate::execpath::ExecPath;
use crate::magic::{self, Kind};
use crate::pack::Pack;
use crate::{atomic, command, linelist};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What clang prints, exiting 0, when a ThinLTO backend fails.
const SILENT_FAILURE: &str = "Error running ThinLTO backend";

pub struct BackendRequest<'a> {
    pub exec_root: &'a Path,
    pub module: &'a ExecPath,
    pub index: &'a ExecPath,
    /// The module's `.imports` file, as the thin link wrote it.
    pub imports: &'a ExecPath,
    /// A pack holding the imported modules (see [`crate::pack`]): exactly
    /// what the imports list names. Without one they are read from the exec root.
    pub import_pack: Option<&'a ExecPath>,
    pub output: &'a ExecPath,
    /// Split DWARF: where the object's `.dwo` goes (its skeleton unit names it
    /// by this path).
    pub dwo: Option<&'a ExecPath>,
    /// The module's own plan, with the digests the thin link took of the
    /// module and its imports (Buck2); see [`crate::stale`].
    pub module_plan: Option<&'a ExecPath>,
    /// Where to write the backend's optimization remarks (YAML), if asked.
    pub remarks: Option<&'a Remarks<'a>>,
    /// The compiler and its flags (target, optimisation level, ...).
    pub compiler: &'a [String],
}

/// Optimization remarks a backend writes on request (`--remarks`): clang's
/// YAML records of the passes `passes` (a regex; the inliner by default),
/// for `thinlto report`.
pub struct Remarks<'a> {
    pub output: &'a ExecPath,
    pub passes: &'a str,
}

/// What a backend's remarks file is called next to its object, by convention
/// (`thinlto report` finds it there): `<object>.remarks.yaml`.
pub const REMARKS_SUFFIX: &str = ".remarks.yaml";

/// The flags the helper adds to every backend: the code layout lld's
/// in-process ThinLTO uses, so the output matches it function by function.
pub const SECTION_FLAGS: [&str; 2] = ["-ffunction-sections", "-fdata-sections"];

pub fn run(req: &BackendRequest) -> Result<()> {
    let root = req.exec_root;
    if !req.compiler.iter().skip(1).any(|a| a.starts_with("-O")) {
        bail!("backend compiler flags have no -O level: clang would run the backend at -O0 and inline nothing");
    }
    let imports = linelist::read(&req.imports.under(root))?;
    match std::fs::metadata(req.index.under(root)) {
        // clang compiles a module with a 0-byte index in full, as if no thin link had run.
        Ok(meta) if meta.len() == 0 => bail!("index '{}' of module '{}' is empty", req.index, req.module),
        Ok(_) => {}
        Err(e) => bail!("cannot read index '{}' of module '{}': {e}", req.index, req.module),
    }

    // The work directory sits next to the output (same file system, so the
    // object is renamed into place) and is removed whatever happens.
    let out_disk = req.output.under(root);
    let out_dir = out_disk.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&out_dir).with_context(|| format!("cannot create directory '{}'", out_dir.display()))?;
    let work = tempfile::Builder::new()
        .prefix(".thinlto-backend")
        .tempdir_in(&out_dir)
        .with_context(|| format!("cannot create a work directory in '{}'", out_dir.display()))?;
    let abs_root =
        std::fs::canonicalize(root).with_context(|| format!("cannot resolve exec root '{}'", root.display()))?;
    let pack = match req.import_pack {
        Some(pack_path) => {
            let pack = Pack::read(&pack_path.under(root))?;
            check_pack(&pack, pack_path, &imports, req)?;
            Some(pack)
        }
        None => None,
    };
    // A thin link that no longer matches its inputs makes LLVM import less, silently.
    crate::stale::check(&crate::stale::BackendInputs {
        exec_root: root,
        module: req.module,
        index: req.index,
        imports_file: req.imports,
        imports: &imports,
        pack: pack.as_ref().zip(req.import_pack),
        module_plan: req.module_plan,
    })?;
    // Where the exec root already holds every member of the pack byte for byte (a local,
    // unsandboxed action), clang reads them there, as from the pack: nothing to unpack.
    // Anywhere else (a sandbox, a remote worker, a stale file) it gets the pack's copies.
    let in_exec_root = pack.as_ref().is_some_and(|p| p.matches_files_under(&abs_root));
    let stage_in = (!in_exec_root).then(|| work.path());
    stage(&abs_root.join(req.module.as_str()), stage_in, req.module, req.module, None)?;
    stage(&abs_root.join(req.index.as_str()), stage_in, req.index, req.index, None)?;
    match &pack {
        Some(pack) => {
            if let Some(dir) = stage_in {
                pack.unpack(dir)?;
            }
        }
        None => {
            for (line, imp) in imports.iter().enumerate() {
                if imp == req.module {
                    continue;
                }
                stage(&abs_root.join(imp.as_str()), stage_in, imp, req.imports, Some(line + 1))?;
            }
        }
    }
    // clang finds each module by the exact relative path the thin link saw,
    // so it runs where those paths resolve: the private directory or the exec root.
    // The -o path is relative too: nothing absolute reaches the command line.
    let (cwd, out_dir_arg) = match stage_in {
        Some(dir) => (dir.to_path_buf(), PathBuf::new()),
        None => {
            let work_name = work.path().file_name().expect("a temporary directory has a name");
            let rel_dir = Path::new(req.output.as_str()).parent().unwrap_or(Path::new(""));
            (abs_root.clone(), rel_dir.join(work_name))
        }
    };
    let out_arg = out_dir_arg.join("backend.o");
    let produced = work.path().join("backend.o");

    let mut argv: Vec<String> = req.compiler.to_vec();
    // A compiler given as a path relative to the exec root (a toolchain's label tool) must
    // still resolve where clang runs, which may be the work directory.
    if !Path::new(&argv[0]).is_absolute() && argv[0].contains('/') {
        argv[0] = abs_root.join(&argv[0]).to_string_lossy().into_owned();
    }
    argv.extend(SECTION_FLAGS.iter().map(|s| s.to_string()));
    argv.extend([
        "-c".to_string(),
        "-x".to_string(),
        "ir".to_string(),
        req.module.to_string(),
        format!("-fthinlto-index={}", req.index),
        "-o".to_string(),
        out_arg.to_string_lossy().into_owned(),
    ]);
    if let Some(dwo) = req.dwo {
        // The skeleton unit names the .dwo by its declared path; clang writes it into the
        // work directory, from where it is moved there.
        argv.extend(["-gsplit-dwarf", "-Xclang", "-split-dwarf-file", "-Xclang"].map(String::from));
        argv.push(dwo.to_string());
        argv.extend(["-Xclang", "-split-dwarf-output", "-Xclang"].map(String::from));
        argv.push(out_dir_arg.join("backend.dwo").to_string_lossy().into_owned());
    }
    if let Some(remarks) = req.remarks {
        // Into the work directory too (a relative path: nothing absolute on the command line).
        argv.extend([
            "-fsave-optimization-record=yaml".to_string(),
            format!("-foptimization-record-file={}", out_dir_arg.join("backend.remarks.yaml").display()),
            format!("-foptimization-record-passes={}", remarks.passes),
        ]);
    }
    // In a persistent worker, through a clang server (the same compiler, without its start-up).
    let ran = crate::clang_server::run(&argv, &cwd, &format!("backend for '{}'", req.module))?;
    if ran.stderr.contains(SILENT_FAILURE) || ran.stderr.contains("error:") {
        bail!(
            "backend for '{}' printed an error but exited 0 (llvm#75441):\n  {}\n{}",
            req.module,
            command::display(&argv),
            ran.stderr.trim_end()
        );
    }
    check_object(&produced, req.module)?;
    if !ran.stderr.is_empty() {
        eprint!("{}", ran.stderr);
    }

    if let Some(dwo) = req.dwo {
        // A module without debug info gives no .dwo; the build system declared one anyway.
        let produced_dwo = work.path().join("backend.dwo");
        if !produced_dwo.exists() {
            std::fs::write(&produced_dwo, b"").with_context(|| format!("cannot write '{}'", produced_dwo.display()))?;
        }
        atomic::rename(&produced_dwo, &dwo.under(root))?;
    }
    if let Some(remarks) = req.remarks {
        // clang creates the file even when it has no remark to write.
        let produced_remarks = work.path().join("backend.remarks.yaml");
        if !produced_remarks.exists() {
            bail!("backend for '{}' was asked for optimization remarks but wrote none", req.module);
        }
        atomic::rename(&produced_remarks, &remarks.output.under(root))?;
    }
    atomic::rename(&produced, &out_disk)
}

/// Runs the backend of every bitcode member of an extracted archive, from its
/// pack, into the archive's objects directory (created even when no member is
/// bitcode: build systems declare it).
///
/// With `remarks` (a directory and the passes), each member `M`'s remarks go
/// to `DIR/M.remarks.yaml` (the directory created even when empty).
pub fn run_archive(
    exec_root: &Path,
    archive: &crate::manifest::Extracted,
    remarks: Option<(&crate::execpath::ExecDir, &str)>,
    compiler: &[String],
) -> Result<()> {
    let objects = archive.objects.under(exec_root);
    std::fs::create_dir_all(&objects).with_context(|| format!("cannot create directory '{}'", objects.display()))?;
    if let Some((dir, _)) = remarks {
        let disk = dir.under(exec_root);
        std::fs::create_dir_all(&disk).with_context(|| format!("cannot create directory '{}'", disk.display()))?;
    }
    for member in archive.members(exec_root)? {
        if let crate::manifest::Input::Bitcode(m) = member {
            let output = remarks.map(|(dir, _)| {
                let name = m.outputs.object.strip_dir(&archive.objects).unwrap_or_else(|| m.outputs.object.clone());
                name.with_suffix(REMARKS_SUFFIX).prefixed(dir)
            });
            let remarks = remarks.zip(output.as_ref()).map(|((_, passes), output)| Remarks { output, passes });
            run(&BackendRequest {
                exec_root,
                module: &m.path,
                index: &m.outputs.index,
                imports: &m.outputs.imports,
                import_pack: m.outputs.pack.as_ref(),
                output: &m.outputs.object,
                dwo: None,
                module_plan: None,
                remarks: remarks.as_ref(),
                compiler,
            })?;
        }
    }
    Ok(())
}

/// A pack must hold exactly the modules the imports list names (but the
/// backend's own module): one from another thin link is an error, not a guess.
fn check_pack(pack: &Pack, pack_path: &ExecPath, imports: &[ExecPath], req: &BackendRequest) -> Result<()> {
    let mut named = BTreeSet::new();
    for (line, imp) in imports.iter().enumerate() {
        if imp == req.module {
            continue;
        }
        if !pack.contains(imp) {
            bail!(
                "imported file '{imp}' (listed in '{}' line {}) is missing from pack '{pack_path}'",
                req.imports,
                line + 1
            );
        }
        named.insert(imp);
    }
    if let Some(extra) = pack.paths().find(|p| !named.contains(p)) {
        bail!(
            "pack '{pack_path}' holds '{extra}', which imports list '{}' does not name (a pack from another thin link?)",
            req.imports
        );
    }
    Ok(())
}

/// Checks that `source` exists and, given a private directory `work`, links
/// it there at `rel`. `listed_in`/`line` name where the path came from, for
/// the error when the file is missing.
fn stage(source: &Path, work: Option<&Path>, rel: &ExecPath, listed_in: &ExecPath, line: Option<usize>) -> Result<()> {
    if !source.is_file() {
        match line {
            Some(n) => bail!(
                "imported file '{rel}' (listed in '{listed_in}' line {n}) is missing: expected at '{}'",
                source.display()
            ),
            None => bail!("backend input '{rel}' is missing"),
        }
    }
    let Some(work) = work else { return Ok(()) };
    let dest = rel.under(work);
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory '{}'", dir.display()))?;
    }
    std::os::unix::fs::symlink(source, &dest)
        .with_context(|| format!("cannot link '{}' into the backend's work directory", source.display()))
}

/// A backend object must be a non-empty ELF file.
pub fn check_object(path: &Path, module: &ExecPath) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("backend for '{module}' exited 0 but wrote no object"))?;
    if meta.len() == 0 {
        bail!(
            "backend for '{module}' exited 0 but wrote an empty object (llvm#75441: a missing or unreadable import?)"
        );
    }
    match magic::sniff_file(path)? {
        Kind::Elf => Ok(()),
        other => bail!("backend for '{module}' wrote a {other:?} file, not an ELF object"),
    }
}
