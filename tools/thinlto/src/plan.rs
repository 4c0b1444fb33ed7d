//! The plan: per bitcode module, whether the linker loaded it and which
//! modules its backend imports.
//!
//! Built from the thin link's outputs and checked against the manifest, so
//! that a backend is never handed a path that is not a module of this link.

use crate::digest::Digest;
use crate::execpath::{ExecDir, ExecPath};
use crate::linelist;
use crate::manifest::{BitcodeModule, Manifest};
use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

pub const VERSION: u32 = 2;

/// The suffixes lld gives a module's index and imports list.
pub const INDEX_SUFFIX: &str = ".thinlto.bc";
pub const IMPORTS_SUFFIX: &str = ".imports";

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

/// One module of the plan file, each import named by its path.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModuleFile<M, I> {
    module: M,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    loaded: bool,
    index: M,
    imports_file: M,
    object: M,
    imports: I,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanFile<M> {
    version: u32,
    output: ExecPath,
    modules: Vec<M>,
}

/// The imports of one module, named by path as they are written.
struct ImportPaths<'a>(&'a Plan, &'a ModulePlan);

impl Serialize for ImportPaths<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.imports(self.1).map(|i| &i.module))
    }
}

/// The plan file's form: each import named by its path.
impl Serialize for Plan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let modules: Vec<_> = self
            .modules
            .iter()
            .map(|m| ModuleFile {
                module: &m.module,
                owner: m.owner.clone(),
                loaded: m.loaded,
                index: &m.index,
                imports_file: &m.imports_file,
                object: &m.object,
                imports: ImportPaths(self, m),
            })
            .collect();
        PlanFile { version: self.version, output: self.output.clone(), modules }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file = PlanFile::<ModuleFile<ExecPath, Vec<ExecPath>>>::deserialize(d)?;
        Plan::from_file(file).map_err(|e| serde::de::Error::custom(format!("{e:#}")))
    }
}

/// One module's own plan (`outputs.plan` in the manifest), for a build system
/// that reads a backend's inputs from a file: whether the linker loaded the
/// module, and the positions of the modules it imports among the manifest's
/// bitcode modules in command-line order (what a front end can map back to
/// its own artifacts without knowing their paths); and, for the backend to
/// check that none changed after the thin link ([`crate::stale`]), the
/// SHA-256 of the module and of each import when the thin link read them, by
/// path. (A front end reads `version`, `loaded` and `imports`; `digests` is
/// the helper's, and older plans without it are still read.)
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ModulePlanFile {
    pub version: u32,
    pub module: ExecPath,
    pub loaded: bool,
    pub imports: Vec<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub digests: BTreeMap<ExecPath, Digest>,
}

impl Plan {
    /// The modules `m` (a module of this plan) imports from, in its imports list's order.
    pub fn imports<'a>(&'a self, m: &'a ModulePlan) -> impl ExactSizeIterator<Item = &'a ModulePlan> + 'a {
        m.imports.iter().map(|&j| &self.modules[j as usize])
    }

    /// The plan of module `m` alone, as JSON ([`ModulePlanFile`]), without digests.
    pub fn module_json(&self, m: &ModulePlan) -> Vec<u8> {
        let one = ModulePlanFile {
            version: VERSION,
            module: m.module.clone(),
            loaded: m.loaded,
            imports: m.imports.clone(),
            digests: BTreeMap::new(),
        };
        json_bytes(&one)
    }

    /// The plan of module `i` (its position in [`Plan::modules`]) alone, as
    /// JSON ([`ModulePlanFile`]), with the digests of the module and of its
    /// imports: `digests` holds one per module of the plan, in its order.
    pub fn module_json_with_digests(&self, i: usize, digests: &[Digest]) -> Vec<u8> {
        let m = &self.modules[i];
        let mut recorded = BTreeMap::new();
        recorded.insert(m.module.clone(), digests[i]);
        for &j in &m.imports {
            recorded.insert(self.modules[j as usize].module.clone(), digests[j as usize]);
        }
        let one = ModulePlanFile {
            version: VERSION,
            module: m.module.clone(),
            loaded: m.loaded,
            imports: m.imports.clone(),
            digests: recorded,
        };
        json_bytes(&one)
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
        let file: PlanFile<ModuleFile<ExecPath, Vec<ExecPath>>> =
            serde_json::from_str(&text).with_context(|| format!("invalid plan '{}'", path.display()))?;
        if file.version != VERSION {
            bail!("plan '{}' has version {}, this helper reads {VERSION}", path.display(), file.version);
        }
        Plan::from_file(file).with_context(|| format!("invalid plan '{}'", path.display()))
    }

    fn from_file(file: PlanFile<ModuleFile<ExecPath, Vec<ExecPath>>>) -> Result<Plan> {
        let mut positions = HashMap::with_capacity_and_hasher(file.modules.len(), Default::default());
        for (i, m) in file.modules.iter().enumerate() {
            if positions.insert(m.module.as_str(), i as u32).is_some() {
                bail!("module '{}' is listed twice", m.module);
            }
        }
        let mut imports = Vec::with_capacity(file.modules.len());
        for m in &file.modules {
            let mut v = Vec::with_capacity(m.imports.len());
            for imp in &m.imports {
                match positions.get(imp.as_str()) {
                    Some(&j) => v.push(j),
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

    /// The plan file's bytes: pretty JSON and a newline.
    pub fn to_json(&self) -> Vec<u8> {
        json_bytes(self)
    }

    /// Writes [`Plan::to_json`]'s bytes to `w` as they are made, rather than
    /// holding them all (hundreds of MB for 100,000 modules) in memory.
    pub fn write_json(&self, mut w: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        w.write_all(b"\n")
    }

    pub fn loaded(&self) -> impl Iterator<Item = &ModulePlan> {
        self.modules.iter().filter(|m| m.loaded)
    }
}

fn json_bytes(value: &impl Serialize) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("a plan serializes");
    bytes.push(b'\n');
    bytes
}

/// Where lld, given `--thinlto-prefix-replace=;STAGING/`, wrote one module's
/// file: `STAGING/<module path><suffix>`.
pub fn staged(staging: &ExecDir, module: &ExecPath, suffix: &str) -> ExecPath {
    module.prefixed(staging).with_suffix(suffix)
}

/// Builds the plan from what the thin link wrote into `staging`: each
/// module's index and imports list, and `index_list` (the backend objects of
/// the loaded modules, `STAGING/<module path>`, read from `index_list_file`).
///
/// Modules are checked on all cores (a link may have 100,000 of them, each
/// with an index to stat and an imports list to read); the error reported is
/// the one a check in command-line order would meet first.
pub fn build(
    manifest: &Manifest,
    exec_root: &Path,
    staging: &ExecDir,
    index_list_file: &Path,
    index_list: &[ExecPath],
) -> Result<Plan> {
    let modules = manifest.bitcode();
    if modules.len() >= u32::MAX as usize {
        bail!("{} bitcode modules are more than a plan can hold", modules.len());
    }
    let mut known = HashMap::with_capacity_and_hasher(modules.len(), Default::default());
    for (i, m) in modules.iter().enumerate() {
        known.insert(m.module.path.as_str(), i as u32);
    }

    let prefix = staging.as_prefix();
    let mut loaded = vec![false; modules.len()];
    for (line, entry) in index_list.iter().enumerate() {
        let path = entry.as_str().strip_prefix(prefix.as_str());
        match path.and_then(|path| known.get(path)) {
            Some(&i) => loaded[i as usize] = true,
            None if path.is_some_and(|p| manifest.is_native_object(p)) => bail!(
                "'{}' line {}: '{}' is LLVM bitcode, but the manifest gives it as a native object: \
                 the build did not say it is bitcode (in Bazel, its rule must provide BitcodeInfo)",
                index_list_file.display(),
                line + 1,
                path.unwrap_or_default()
            ),
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

    let checked: Vec<Result<ModulePlan>> = modules
        .par_iter()
        .zip(loaded.par_iter())
        .map(|(m, &loaded)| check_module(m, loaded, &known, exec_root, staging, index_list_file))
        .collect();
    let modules = checked.into_iter().collect::<Result<Vec<_>>>()?;
    Ok(Plan { version: VERSION, output: manifest.output.clone(), modules })
}

/// Checks one module: its place in the index list, its index, its imports.
fn check_module(
    b: &BitcodeModule,
    loaded: bool,
    known: &HashMap<&str, u32>,
    exec_root: &Path,
    staging: &ExecDir,
    index_list_file: &Path,
) -> Result<ModulePlan> {
    let m = b.module;
    if !b.lazy && !loaded {
        bail!(
            "bitcode module '{}' is not in the index list '{}', but only lazy (start_lib) members may be left unloaded",
            m.path,
            index_list_file.display()
        );
    }
    let index = staged(staging, &m.path, INDEX_SUFFIX);
    let meta = std::fs::metadata(index.under(exec_root))
        .with_context(|| format!("the thin link wrote no index '{index}' for bitcode module '{}'", m.path))?;
    if meta.len() == 0 {
        // clang would compile a 0-byte index's module in full, unoptimized by the link.
        bail!("index '{index}' of bitcode module '{}' is empty", m.path);
    }

    let imports_file = staged(staging, &m.path, IMPORTS_SUFFIX);
    let imports_disk = imports_file.under(exec_root);
    let bytes = std::fs::read(&imports_disk)
        .map_err(|source| linelist::LineListError::Read { file: imports_disk.clone(), source })?;
    let mut imports = Vec::new();
    let mut unknown = None;
    for (line, raw) in linelist::split_lines(&imports_disk, &bytes)? {
        // A line equal to a module's path is a valid path: no need to check it.
        match std::str::from_utf8(raw).ok().and_then(|p| known.get(p)) {
            Some(&j) => imports.push(j),
            None => {
                let imp = linelist::check_line(&imports_disk, line, raw)?;
                unknown.get_or_insert((line, imp.to_string()));
            }
        }
    }
    if let Some((line, imp)) = unknown {
        bail!("'{imports_file}' line {line}: '{imp}' is not a bitcode module of the manifest");
    }
    if !loaded && !imports.is_empty() {
        bail!("'{imports_file}': module '{}' was not loaded but imports {} modules", m.path, imports.len());
    }
    Ok(ModulePlan {
        module: m.path.clone(),
        owner: m.owner.clone(),
        loaded,
        index: m.outputs.index.clone(),
        imports_file: m.outputs.imports.clone(),
        object: m.outputs.object.clone(),
        imports,
    })
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
        let one: ModulePlanFile = serde_json::from_slice(&plan.module_json(&plan.modules[0])).unwrap();
        assert_eq!(
            one,
            ModulePlanFile {
                version: VERSION,
                module: path("obj/main.o"),
                loaded: true,
                imports: vec![1, 2],
                digests: BTreeMap::new()
            }
        );
        let digests: Vec<Digest> = ["a", "b", "c"].iter().map(|s| Digest::of(s.as_bytes())).collect();
        let one: ModulePlanFile = serde_json::from_slice(&plan.module_json_with_digests(1, &digests)).unwrap();
        assert_eq!(one.imports, [0]);
        assert_eq!(
            one.digests,
            BTreeMap::from([(path("obj/main.o"), digests[0]), (path("obj/quote\"and\\back\tslash é.o"), digests[1])])
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

    /// An exec root holding what lld leaves in `stage/` for `n` modules
    /// `obj/mI.o` (every third lazy), all loaded, each importing its two
    /// neighbours; and the index list.
    fn thin_link_outputs(n: usize) -> (tempfile::TempDir, Manifest, Vec<ExecPath>) {
        let dir = tempfile::tempdir().unwrap();
        let mut inputs = Vec::new();
        let mut list = Vec::new();
        for i in 0..n {
            let m = format!("obj/m{i}.o");
            let bitcode = serde_json::json!({"kind": "bitcode", "path": m, "outputs": {
                "index": format!("lto/m{i}.bc"), "imports": format!("lto/m{i}.imports"), "object": format!("lto/m{i}.o")}});
            inputs.push(if i % 3 == 2 {
                serde_json::json!({"kind": "start_lib", "members": [bitcode]})
            } else {
                bitcode
            });
            let staged = dir.path().join(format!("stage/obj/m{i}.o"));
            std::fs::create_dir_all(staged.parent().unwrap()).unwrap();
            std::fs::write(staged.with_extension("o.thinlto.bc"), b"BC\xc0\xde").unwrap();
            let imports = format!("obj/m{}.o\nobj/m{}.o\n", (i + 1) % n, (i + n - 1) % n);
            std::fs::write(staged.with_extension("o.imports"), imports).unwrap();
            list.push(path(&format!("stage/obj/m{i}.o")));
        }
        let manifest = Manifest::from_json(
            &serde_json::json!({
                "version": 2, "output": "bin/prog", "linker": {"driver": "clang"}, "inputs": inputs,
            })
            .to_string(),
        )
        .unwrap();
        (dir, manifest, list)
    }

    fn build_in(dir: &tempfile::TempDir, m: &Manifest, list: &[ExecPath]) -> Result<Plan> {
        build(m, dir.path(), &ExecDir::new("stage").unwrap(), Path::new("stage/index.list"), list)
    }

    #[test]
    fn builds_many_modules_in_order() {
        let n = 1000;
        let (dir, m, list) = thin_link_outputs(n);
        let plan = build_in(&dir, &m, &list).unwrap();
        assert_eq!(plan.modules.len(), n);
        for (i, mp) in plan.modules.iter().enumerate() {
            assert_eq!(mp.module.as_str(), format!("obj/m{i}.o"));
            assert_eq!(mp.object.as_str(), format!("lto/m{i}.o"));
            assert_eq!(mp.index.as_str(), format!("lto/m{i}.bc"));
            assert!(mp.loaded);
            assert_eq!(mp.imports, [((i + 1) % n) as u32, ((i + n - 1) % n) as u32]);
        }
    }

    #[test]
    fn reports_the_first_bad_module_in_command_line_order() {
        let n = 2000;
        let (dir, m, list) = thin_link_outputs(n);
        let stage = dir.path().join("stage/obj");
        // Bad modules everywhere; the first in command-line order is m300's.
        for i in [n - 1, 1500, 700, 301] {
            std::fs::write(stage.join(format!("m{i}.o.imports")), "obj/nowhere.o\n").unwrap();
        }
        std::fs::write(stage.join("m300.o.thinlto.bc"), b"").unwrap();
        for _ in 0..5 {
            let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
            assert_eq!(e, "index 'stage/obj/m300.o.thinlto.bc' of bitcode module 'obj/m300.o' is empty");
        }
        std::fs::remove_file(stage.join("m300.o.thinlto.bc")).unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(
            e.starts_with(
                "the thin link wrote no index 'stage/obj/m300.o.thinlto.bc' for bitcode module 'obj/m300.o': "
            ),
            "{e}"
        );
        std::fs::write(stage.join("m300.o.thinlto.bc"), b"BC").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(e, "'stage/obj/m301.o.imports' line 1: 'obj/nowhere.o' is not a bitcode module of the manifest");
    }

    #[test]
    fn a_bad_line_comes_before_an_unknown_module_on_an_earlier_line() {
        let (dir, m, list) = thin_link_outputs(3);
        let imports = dir.path().join("stage/obj/m0.o.imports");
        std::fs::write(&imports, "obj/m1.o\nobj/nowhere.o\nobj/m2.o\r\n").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(e.ends_with("m0.o.imports' line 3: carriage return (CRLF line end); the linker writes LF only"), "{e}");
        std::fs::write(&imports, "obj/m1.o\nobj/nowhere.o\nobj/m2.o\n").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(e, "'stage/obj/m0.o.imports' line 2: 'obj/nowhere.o' is not a bitcode module of the manifest");
        std::fs::write(&imports, "/abs/m1.o\n").unwrap();
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(e.contains("line 1: absolute path '/abs/m1.o'"), "{e}");
    }

    #[test]
    fn index_list_entries_must_be_backend_objects_of_modules() {
        let (dir, m, mut list) = thin_link_outputs(3);
        list.push(path("stage/obj/m9.o"));
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert_eq!(
            e,
            "'stage/index.list' line 4: 'stage/obj/m9.o' is not the backend object of any bitcode module of the manifest"
        );
        list.pop();
        list.push(path("stage/obj/libx.a(m1.o at 120)"));
        let e = format!("{:#}", build_in(&dir, &m, &list).unwrap_err());
        assert!(e.contains("split such archives with `thinlto extract`"), "{e}");
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

    /// 100,000 modules (correctness at that size; its speed is a benchmark,
    /// `tools/bench/plan_bench.sh`, not a test). Writes 200,000 files, so it
    /// runs only when asked.
    #[test]
    #[ignore = "writes 200,000 files; run with `cargo test -- --ignored`"]
    fn builds_a_plan_of_100000_modules() {
        let n = 100_000;
        let (dir, m, list) = thin_link_outputs(n);
        let plan = build_in(&dir, &m, &list).unwrap();
        assert_eq!(plan.modules.len(), n);
        let last = &plan.modules[n - 1];
        let names: Vec<&str> = plan.imports(last).map(|m| m.module.as_str()).collect();
        assert_eq!(names, ["obj/m0.o", "obj/m99998.o"]);
    }
}
