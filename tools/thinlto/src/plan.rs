//! The plan: per bitcode module, what its backend reads and writes.
//!
//! Built from the thin link's outputs and checked against the manifest, so
//! that a backend is never handed a path that is not a module of this link.

use crate::execpath::{ExecDir, ExecPath};
use crate::layout::{module_files, IMPORTS_SUFFIX, INDEX_SUFFIX};
use crate::linelist;
use crate::manifest::{BitcodeModule, Manifest};
use crate::pathindex::PathIndex;
use anyhow::{bail, Context, Result};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub version: u32,
    /// The final linked output of the manifest.
    pub output: ExecPath,
    /// Bitcode modules in command-line order.
    pub modules: Vec<ModulePlan>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModulePlan {
    /// The bitcode module (the backend's main input).
    pub module: ExecPath,
    pub owner: Option<String>,
    /// Whether the linker loaded it; unloaded modules (lazy members nothing
    /// referenced) get a skip index and no place in the final link.
    pub loaded: bool,
    pub index: ExecPath,
    pub imports_file: ExecPath,
    /// The backend's output object.
    pub object: ExecPath,
    /// The modules whose bitcode the backend imports from, as positions in
    /// [`Plan::modules`], in the order of the imports list (which the linker
    /// sorts by path). [`Plan::imports`] gives the modules themselves.
    ///
    /// Positions rather than paths: a large link's plan names millions of
    /// imports, each one of its own modules.
    pub imports: Vec<u32>,
}

/// The plan file: [`Plan`] with each import named by its path.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile {
    version: u32,
    output: ExecPath,
    modules: Vec<ModuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile {
    module: ExecPath,
    #[serde(default)]
    owner: Option<String>,
    loaded: bool,
    index: ExecPath,
    imports_file: ExecPath,
    object: ExecPath,
    imports: Vec<ExecPath>,
}

/// The plan file's form: each import named by its path.
impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Plan::from_file(PlanFile::deserialize(d)?).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
    }
}

/// The plan file's form: each import named by its path. [`Plan::write_json`]
/// writes the same bytes as `serde_json::to_writer_pretty`, faster.
impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Module<'a>(&'a Plan, &'a ModulePlan);
        impl Serialize for Module<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                struct Imports<'a>(&'a Plan, &'a ModulePlan);
                impl Serialize for Imports<'_> {
                    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        s.collect_seq(self.0.imports(self.1).map(|i| &i.module))
                    }
                }
                let Module(plan, m) = *self;
                let mut st = s.serialize_struct("ModulePlan", 7)?;
                st.serialize_field("module", &m.module)?;
                match &m.owner {
                    Some(owner) => st.serialize_field("owner", owner)?,
                    None => st.skip_field("owner")?,
                }
                st.serialize_field("loaded", &m.loaded)?;
                st.serialize_field("index", &m.index)?;
                st.serialize_field("imports_file", &m.imports_file)?;
                st.serialize_field("object", &m.object)?;
                st.serialize_field("imports", &Imports(plan, m))?;
                st.end()
            }
        }
        struct Modules<'a>(&'a Plan);
        impl Serialize for Modules<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.modules.iter().map(|m| Module(self.0, m)))
            }
        }
        let mut st = s.serialize_struct("Plan", 3)?;
        st.serialize_field("version", &self.version)?;
        st.serialize_field("output", &self.output)?;
        st.serialize_field("modules", &Modules(self))?;
        st.end()
    }
}

impl Plan {
    /// The modules `m` (a module of this plan) imports from, in its imports list's order.
    pub fn imports<'a>(&'a self, m: &'a ModulePlan) -> impl ExactSizeIterator<Item = &'a ModulePlan> + 'a {
        m.imports.iter().map(|&j| &self.modules[j as usize])
    }

    /// The plan of module `m` alone, as JSON: the fields of one entry of `modules` in the
    /// plan file, each import named by its path.
    pub fn module_json(&self, m: &ModulePlan) -> Vec<u8> {
        #[derive(Serialize)]
        struct One<'a> {
            module: &'a ExecPath,
            #[serde(skip_serializing_if = "Option::is_none")]
            owner: Option<&'a str>,
            loaded: bool,
            index: &'a ExecPath,
            imports_file: &'a ExecPath,
            object: &'a ExecPath,
            imports: Vec<&'a ExecPath>,
        }
        let one = One {
            module: &m.module,
            owner: m.owner.as_deref(),
            loaded: m.loaded,
            index: &m.index,
            imports_file: &m.imports_file,
            object: &m.object,
            imports: self.imports(m).map(|i| &i.module).collect(),
        };
        let mut bytes = serde_json::to_vec_pretty(&one).expect("a module plan serializes");
        bytes.push(b'\n');
        bytes
    }

    /// Exactly the files the backend of `m` reads: its module, its index, its imports.
    pub fn backend_inputs<'a>(&'a self, m: &'a ModulePlan) -> Vec<&'a ExecPath> {
        let mut v = Vec::with_capacity(2 + m.imports.len());
        v.extend([&m.module, &m.index]);
        v.extend(self.imports(m).map(|i| &i.module));
        v
    }

    pub fn read(path: &Path) -> Result<Plan> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan '{}'", path.display()))?;
        let file: PlanFile =
            serde_json::from_str(&text).with_context(|| format!("invalid plan '{}'", path.display()))?;
        if file.version != VERSION {
            bail!("plan '{}' has version {}, this helper reads {VERSION}", path.display(), file.version);
        }
        Plan::from_file(file).with_context(|| format!("invalid plan '{}'", path.display()))
    }

    fn from_file(file: PlanFile) -> Result<Plan> {
        let positions = PathIndex::new(file.modules.iter().map(|m| m.module.as_str()));
        for (i, m) in file.modules.iter().enumerate() {
            if positions.get(m.module.as_str().as_bytes()) != Some(i as u32) {
                bail!("module '{}' is listed twice", m.module);
            }
        }
        let mut imports = Vec::with_capacity(file.modules.len());
        for m in &file.modules {
            let mut v = Vec::with_capacity(m.imports.len());
            for imp in &m.imports {
                match positions.get(imp.as_str().as_bytes()) {
                    Some(j) => v.push(j),
                    None => bail!("module '{}' imports '{imp}', which is not a module of the plan", m.module),
                }
            }
            imports.push(v);
        }
        drop(positions);
        let modules = file
            .modules
            .into_iter()
            .zip(imports)
            .map(|(m, imports)| ModulePlan {
                module: m.module,
                owner: m.owner,
                loaded: m.loaded,
                index: m.index,
                imports_file: m.imports_file,
                object: m.object,
                imports,
            })
            .collect();
        Ok(Plan { version: file.version, output: file.output, modules })
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_json(&mut bytes).expect("a Vec takes every write");
        bytes
    }

    /// Writes [`Plan::to_json`]'s bytes to `w` as they are made, rather than
    /// holding them all (hundreds of MB for 100,000 modules) in memory.
    ///
    /// The bytes are exactly what `serde_json::to_writer_pretty` writes for
    /// the plan file and a newline (a test holds them to it), written
    /// directly: each module's quoted path is made once, however many
    /// modules import it.
    pub fn write_json(&self, mut w: impl Write) -> std::io::Result<()> {
        const FLUSH_AT: usize = 64 << 10;
        // Each module's path as a JSON string, end to end.
        let mut quoted = Vec::new();
        let mut ends = Vec::with_capacity(self.modules.len() + 1);
        ends.push(0);
        for m in &self.modules {
            json_str(&mut quoted, m.module.as_str());
            ends.push(quoted.len());
        }
        let quoted_module = |j: usize| &quoted[ends[j]..ends[j + 1]];

        let mut b = Vec::with_capacity(2 * FLUSH_AT);
        b.extend_from_slice(b"{\n  \"version\": ");
        b.extend_from_slice(self.version.to_string().as_bytes());
        b.extend_from_slice(b",\n  \"output\": ");
        json_str(&mut b, self.output.as_str());
        b.extend_from_slice(b",\n  \"modules\": [");
        for (k, m) in self.modules.iter().enumerate() {
            b.extend_from_slice(if k == 0 { b"\n    {\n      \"module\": " } else { b",\n    {\n      \"module\": " });
            b.extend_from_slice(quoted_module(k));
            if let Some(owner) = &m.owner {
                b.extend_from_slice(b",\n      \"owner\": ");
                json_str(&mut b, owner);
            }
            b.extend_from_slice(if m.loaded { b",\n      \"loaded\": true" } else { b",\n      \"loaded\": false" });
            b.extend_from_slice(b",\n      \"index\": ");
            json_str(&mut b, m.index.as_str());
            b.extend_from_slice(b",\n      \"imports_file\": ");
            json_str(&mut b, m.imports_file.as_str());
            b.extend_from_slice(b",\n      \"object\": ");
            json_str(&mut b, m.object.as_str());
            b.extend_from_slice(b",\n      \"imports\": [");
            for (i, &j) in m.imports.iter().enumerate() {
                b.extend_from_slice(if i == 0 { b"\n        " } else { b",\n        " });
                b.extend_from_slice(quoted_module(j as usize));
                if b.len() >= FLUSH_AT {
                    w.write_all(&b)?;
                    b.clear();
                }
            }
            b.extend_from_slice(if m.imports.is_empty() { b"]\n    }" } else { b"\n      ]\n    }" });
            if b.len() >= FLUSH_AT {
                w.write_all(&b)?;
                b.clear();
            }
        }
        b.extend_from_slice(if self.modules.is_empty() { b"]\n}\n" } else { b"\n  ]\n}\n" });
        w.write_all(&b)
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
///
/// Modules are checked on all cores (a link may have 100,000 of them, each
/// with an index to stat and an imports list to read); the error reported is
/// the one a check in command-line order would meet first.
pub fn build(
    manifest: &Manifest,
    exec_root: &Path,
    written: &ExecDir,
    index_list_file: &Path,
    index_list: &[ExecPath],
) -> Result<Plan> {
    let prefix = &manifest.prefix_replace;
    let modules = manifest.bitcode();
    if modules.len() >= u32::MAX as usize {
        bail!("{} bitcode modules are more than a plan can hold", modules.len());
    }
    let known = PathIndex::new(modules.iter().map(|m| m.path.as_str()));

    // Each index-list entry is the backend object `written/REST` of one
    // loaded module `old/REST` (the inverse of `layout::module_files`).
    let old = prefix.old.as_prefix();
    let written_prefix = written.as_prefix();
    let mut loaded = vec![false; modules.len()];
    let mut key = String::new();
    for (line, entry) in index_list.iter().enumerate() {
        let module = entry.as_str().strip_prefix(written_prefix.as_str()).and_then(|rest| {
            key.clear();
            key.push_str(&old);
            key.push_str(rest);
            known.get(key.as_bytes())
        });
        match module {
            Some(i) => loaded[i as usize] = true,
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

    let check = Check {
        manifest,
        modules: &modules,
        known: &known,
        loaded: &loaded,
        exec_root,
        written,
        old_prefix: &old,
        written_prefix: &written_prefix,
        index_list_file,
    };
    let modules = check.all()?;
    Ok(Plan { version: VERSION, output: manifest.output.clone(), modules })
}

/// Appends `s` as a JSON string, escaped as `serde_json` escapes it.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // No branch per byte: the common path has nothing to escape.
    let plain = s.bytes().fold(true, |ok, c| ok & (c >= 0x20) & (c != b'"') & (c != b'\\'));
    if plain {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("a Vec takes every write");
    }
}

/// The per-module checks of [`build`].
struct Check<'a> {
    manifest: &'a Manifest,
    modules: &'a [BitcodeModule<'a>],
    known: &'a PathIndex<'a>,
    loaded: &'a [bool],
    exec_root: &'a Path,
    written: &'a ExecDir,
    /// `prefix_replace.old` and `written` as prefixes: empty or ending in `/`.
    old_prefix: &'a str,
    written_prefix: &'a str,
    index_list_file: &'a Path,
}

/// Modules per unit of work handed to a thread.
const BLOCK: usize = 256;

/// Scratch space of one thread, reused from module to module.
#[derive(Default)]
struct Scratch {
    rel: String,
    disk: PathBuf,
    bytes: Vec<u8>,
    found: Vec<Option<u32>>,
}

impl Scratch {
    /// Points `disk` at `written/REST{suffix}` below the exec root, as
    /// [`ExecPath::under`] would, without allocating.
    fn set_disk(&mut self, check: &Check, rest: &str, suffix: &str) -> &Path {
        self.rel.clear();
        self.rel.push_str(check.written_prefix);
        self.rel.push_str(rest);
        self.rel.push_str(suffix);
        self.disk.as_mut_os_string().clear();
        if check.exec_root != Path::new(".") {
            self.disk.push(check.exec_root);
        }
        self.disk.push(&self.rel);
        &self.disk
    }
}

impl Check<'_> {
    /// Checks every module, in blocks spread over the available cores.
    fn all(&self) -> Result<Vec<ModulePlan>> {
        let blocks = self.modules.len().div_ceil(BLOCK);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(blocks).min(8);
        if threads <= 1 {
            let mut scratch = Scratch::default();
            return (0..self.modules.len()).map(|i| self.module(i, &mut scratch)).collect();
        }
        let next = AtomicUsize::new(0);
        // The first block that failed: later blocks need not be checked.
        let failed = AtomicUsize::new(usize::MAX);
        let work = || {
            let mut done = Vec::new();
            let mut scratch = Scratch::default();
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed);
                if b >= blocks || b > failed.load(Ordering::Relaxed) {
                    return done;
                }
                let range = b * BLOCK..((b + 1) * BLOCK).min(self.modules.len());
                let r: Result<Vec<ModulePlan>> = range.map(|i| self.module(i, &mut scratch)).collect();
                if r.is_err() {
                    failed.fetch_min(b, Ordering::Relaxed);
                }
                done.push((b, r));
            }
        };
        let mut results: Vec<Option<Result<Vec<ModulePlan>>>> = (0..blocks).map(|_| None).collect();
        std::thread::scope(|s| {
            let helpers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mine = work();
            for (b, r) in helpers.into_iter().flat_map(|h| h.join().expect("plan worker panicked")).chain(mine) {
                results[b] = Some(r);
            }
        });
        let mut out = Vec::with_capacity(self.modules.len());
        for r in results {
            // Every block before the first failed one was checked.
            out.extend(r.expect("block checked")?);
        }
        Ok(out)
    }

    /// Checks module `i`: its place in the index list, its index, its imports.
    fn module(&self, i: usize, scratch: &mut Scratch) -> Result<ModulePlan> {
        let prefix = &self.manifest.prefix_replace;
        let m = &self.modules[i];
        let loaded = self.loaded[i];
        if !m.lazy && !loaded {
            bail!(
                "bitcode module '{}' is not in the index list '{}', but only lazy (start_lib) members may be left unloaded",
                m.path,
                self.index_list_file.display()
            );
        }
        let rest = m.path.as_str().strip_prefix(self.old_prefix).expect("manifest validated prefixes");
        // The files as written, named for messages only when one is bad.
        let written_files = || module_files(prefix, self.written, m.path).expect("validated");

        let index_disk = scratch.set_disk(self, rest, INDEX_SUFFIX);
        debug_assert_eq!(index_disk, written_files().index.under(self.exec_root));
        let meta = std::fs::metadata(index_disk).with_context(|| {
            format!("the thin link wrote no index '{}' for bitcode module '{}'", written_files().index, m.path)
        })?;
        if meta.len() == 0 {
            // clang would compile a 0-byte index's module in full, unoptimized by the link.
            bail!("index '{}' of bitcode module '{}' is empty", written_files().index, m.path);
        }

        scratch.set_disk(self, rest, IMPORTS_SUFFIX);
        debug_assert_eq!(scratch.disk, written_files().imports.under(self.exec_root));
        let imports_disk = &scratch.disk;
        let bytes = linelist::read_into(imports_disk, &mut scratch.bytes)?;
        let lines: Vec<&[u8]> = linelist::split_lines(imports_disk, bytes)?.map(|(_, raw)| raw).collect();
        scratch.found.clear();
        self.known.get_many(&lines, &mut scratch.found);
        let mut imports = Vec::with_capacity(lines.len());
        let mut unknown = None;
        for (line, (raw, found)) in (1..).zip(lines.iter().zip(&scratch.found)) {
            match *found {
                // Equal to a module's path: a valid path, no need to check it.
                Some(j) => imports.push(j),
                None => {
                    let imp = linelist::check_line(imports_disk, line, raw)?;
                    unknown.get_or_insert((line, imp));
                }
            }
        }
        if let Some((line, imp)) = unknown {
            bail!("'{}' line {line}: '{imp}' is not a bitcode module of the manifest", written_files().imports);
        }
        if !loaded && !imports.is_empty() {
            bail!(
                "'{}': module '{}' was not loaded but imports {} modules",
                written_files().imports,
                m.path,
                imports.len()
            );
        }
        let files = module_files(prefix, &prefix.new, m.path).expect("validated");
        Ok(ModulePlan {
            module: m.path.clone(),
            owner: m.owner.map(str::to_string),
            loaded,
            index: files.index,
            imports_file: files.imports,
            object: files.object,
            imports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> ExecPath {
        ExecPath::new(s).unwrap()
    }

    fn module(p: &str, owner: Option<&str>, loaded: bool, imports: Vec<u32>) -> ModulePlan {
        ModulePlan {
            module: path(&format!("obj/{p}")),
            owner: owner.map(str::to_string),
            loaded,
            index: path(&format!("lto/{p}.thinlto.bc")),
            imports_file: path(&format!("lto/{p}.imports")),
            object: path(&format!("lto/{p}")),
            imports,
        }
    }

    fn sample() -> Plan {
        Plan {
            version: VERSION,
            output: path("bin/prog"),
            modules: vec![
                module("main.o", Some("//:main"), true, vec![1, 2]),
                module("quote\"and\\back\tslash é.o", None, true, vec![0]),
                module("lib/unused.o", Some("//lib:l\u{1}"), false, vec![]),
            ],
        }
    }

    /// The plan file as serde_json writes it, the format `write_json` must match byte for byte.
    fn serde_json_bytes(plan: &Plan) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(plan).unwrap();
        bytes.push(b'\n');
        bytes
    }

    #[test]
    fn writes_what_serde_json_writes() {
        let plan = sample();
        assert_eq!(String::from_utf8(plan.to_json()).unwrap(), String::from_utf8(serde_json_bytes(&plan)).unwrap());
        let empty = Plan { version: VERSION, output: path("bin/prog"), modules: vec![] };
        assert_eq!(empty.to_json(), serde_json_bytes(&empty));
        let mut big = sample();
        big.modules[0].imports = (0..20_000).map(|i| i % 3).collect();
        assert_eq!(big.to_json(), serde_json_bytes(&big));
    }

    #[test]
    fn reads_what_it_writes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plan.json");
        let plan = sample();
        std::fs::write(&f, plan.to_json()).unwrap();
        let read = Plan::read(&f).unwrap();
        assert_eq!(read, plan);
        assert_eq!(serde_json::from_slice::<Plan>(&plan.to_json()).unwrap(), plan);
        assert_eq!(
            read.backend_inputs(&read.modules[0]).iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            ["obj/main.o", "lto/main.o.thinlto.bc", "obj/quote\"and\\back\tslash é.o", "obj/lib/unused.o"]
        );
    }

    #[test]
    fn read_rejects_imports_outside_the_plan_and_repeated_modules() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("plan.json");
        let text = String::from_utf8(sample().to_json()).unwrap();
        std::fs::write(&f, text.replacen("\"obj/lib/unused.o\"\n", "\"obj/elsewhere.o\"\n", 1)).unwrap();
        let e = format!("{:#}", Plan::read(&f).unwrap_err());
        assert!(e.contains("module 'obj/main.o' imports 'obj/elsewhere.o', which is not a module of the plan"), "{e}");
        let e = serde_json::from_slice::<Plan>(&std::fs::read(&f).unwrap()).unwrap_err().to_string();
        assert!(e.contains("which is not a module of the plan"), "{e}");
        std::fs::write(&f, text.replace("\"module\": \"obj/lib/unused.o\"", "\"module\": \"obj/main.o\"")).unwrap();
        let e = format!("{:#}", Plan::read(&f).unwrap_err());
        assert!(e.contains("module 'obj/main.o' is listed twice"), "{e}");
    }

    /// An exec root with `n` modules `obj/mI.o` (every third lazy), all
    /// loaded, each importing its two neighbours.
    fn thin_link_outputs(n: usize) -> (tempfile::TempDir, Manifest, Vec<ExecPath>) {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        let mut list = Vec::new();
        for i in 0..n {
            let m = format!("obj/m{i}.o");
            inputs.push(if i % 3 == 2 {
                serde_json::json!({"kind": "start_lib", "members": [{"kind": "bitcode", "path": m}]})
            } else {
                serde_json::json!({"kind": "bitcode", "path": m})
            });
            let lto = dir.path().join(format!("lto/m{i}.o"));
            std::fs::create_dir_all(lto.parent().unwrap()).unwrap();
            std::fs::write(lto.with_extension("o.thinlto.bc"), b"BC\xc0\xde").unwrap();
            let imports = format!("obj/m{}.o\nobj/m{}.o\n", (i + 1) % n, (i + n - 1) % n);
            std::fs::write(lto.with_extension("o.imports"), imports).unwrap();
            list.push(path(&format!("lto/m{i}.o")));
        }
        let manifest = Manifest::from_json(
            &serde_json::json!({
                "version": 1, "output": "bin/prog", "linker": {"driver": "clang"},
                "prefix_replace": {"old": "obj", "new": "lto"}, "inputs": inputs,
            })
            .to_string(),
        )
        .unwrap();
        (dir, manifest, list)
    }

    fn build_in(dir: &tempfile::TempDir, m: &Manifest, list: &[ExecPath]) -> Result<Plan> {
        build(m, dir.path(), &m.prefix_replace.new, Path::new("lto/index.list"), list)
    }

    #[test]
    fn builds_many_modules_in_order() {
        let n = 5 * BLOCK + 7;
        let (dir, m, list) = thin_link_outputs(n);
        let plan = build_in(&dir, &m, &list).unwrap();
        assert_eq!(plan.modules.len(), n);
        for (i, mp) in plan.modules.iter().enumerate() {
            assert_eq!(mp.module.as_str(), format!("obj/m{i}.o"));
            assert_eq!(mp.object.as_str(), format!("lto/m{i}.o"));
            assert_eq!(mp.index.as_str(), format!("lto/m{i}.o.thinlto.bc"));
            assert!(mp.loaded);
            assert_eq!(mp.imports, [((i + 1) % n) as u32, ((i + n - 1) % n) as u32]);
        }
    }

    #[test]
    fn reports_the_first_bad_module_in_command_line_order() {
        let n = 8 * BLOCK;
        let (dir, m, list) = thin_link_outputs(n);
        let lto = dir.path().join("lto");
        // Bad modules everywhere; the first in command-line order is m300's (in the second block).
        for i in [n - 1, 4 * BLOCK + 3, 2 * BLOCK, 301] {
            std::fs::write(lto.join(format!("m{i}.o.imports")), "obj/nowhere.o\n").unwrap();
        }
        std::fs::write(lto.join("m300.o.thinlto.bc"), b"").unwrap();
        for _ in 0..5 {
            let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
            assert_eq!(e, "index 'lto/m300.o.thinlto.bc' of bitcode module 'obj/m300.o' is empty");
        }
        std::fs::write(lto.join("m300.o.thinlto.bc"), b"BC").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(e, "'lto/m301.o.imports' line 1: 'obj/nowhere.o' is not a bitcode module of the manifest");
    }

    #[test]
    fn a_bad_line_comes_before_an_unknown_module_on_an_earlier_line() {
        let (dir, m, list) = thin_link_outputs(3);
        let imports = dir.path().join("lto/m0.o.imports");
        std::fs::write(&imports, "obj/m1.o\nobj/nowhere.o\nobj/m2.o\r\n").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(e.ends_with("m0.o.imports' line 3: carriage return (CRLF line end); the linker writes LF only"), "{e}");
        std::fs::write(&imports, "obj/m1.o\nobj/nowhere.o\nobj/m2.o\n").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(e, "'lto/m0.o.imports' line 2: 'obj/nowhere.o' is not a bitcode module of the manifest");
    }

    #[test]
    fn index_list_entries_must_be_backend_objects_of_modules() {
        let (dir, m, mut list) = thin_link_outputs(3);
        list.push(path("lto/m9.o"));
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(
            e,
            "'lto/index.list' line 4: 'lto/m9.o' is not the backend object of any bitcode module of the manifest"
        );
        list.pop();
        list.push(path("obj/m1.o"));
        assert!(
            format!("{:#}", build_in(&dir, &m, &list).unwrap_err()).contains("'obj/m1.o' is not the backend object")
        );
        list.pop();
        list.remove(0);
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(e.starts_with("bitcode module 'obj/m0.o' is not in the index list"), "{e}");
    }
}
