//! `thinlto report`: what ThinLTO did to one program, as one self-contained
//! HTML file (docs/report.md).
//!
//! [`gather`] reads the thin link's record of the program (the plan, and the
//! manifest for owners, lazy members and packs), and from the exec root each
//! module's bitcode (its producer, hence its language, and the globals it
//! defines: [`crate::bitcode`]) and each backend's index (what it imports
//! from each module, by GUID, named here from the definitions); optionally
//! the backends' optimization remarks ([`crate::remarks`]) and timings. A
//! file that cannot be read becomes a note in the report, not an error: the
//! report is for looking at, and says what it could not see.
//!
//! [`render`] writes the model as compact JSON inside one HTML page whose
//! script draws every view from it on demand (long lists are virtual), so
//! that a 1,000-module program's report stays small and opens fast. The
//! page loads nothing from anywhere (its Content-Security-Policy forbids it)
//! and puts every string from the data into the page as text, never as HTML.
//! Nothing in it depends on the time, the machine or absolute paths: the
//! same inputs give the same bytes.

use crate::bitcode::{self, SummaryKind};
use crate::execpath::ExecPath;
use crate::manifest::Manifest;
use crate::plan::Plan;
use crate::remarks;
use anyhow::{Context, Result};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The suffix of a backend's remarks next to its object (`thinlto backend --remarks`).
pub use crate::backend::REMARKS_SUFFIX;

/// Inlining decisions kept in a report at most (the rest are counted).
pub const MAX_INLINE_ROWS: usize = 100_000;
/// Functions listed per import at most (the rest are counted).
pub const MAX_FUNCTIONS_PER_IMPORT: usize = 200;

/// What [`gather`] reads.
pub struct Inputs<'a> {
    pub plan: &'a Plan,
    pub manifest: Option<&'a Manifest>,
    pub exec_root: &'a Path,
    /// Remarks files, or directories searched for `*.yaml` files.
    pub remarks: &'a [PathBuf],
    /// A timings file (JSON lines; see [`parse_timings`]).
    pub timings: Option<&'a Path>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Lang {
    #[serde(rename = "C++")]
    Cpp,
    C,
    Rust,
    #[serde(rename = "?")]
    Unknown,
}

impl Lang {
    pub fn name(self) -> &'static str {
        match self {
            Lang::Cpp => "C++",
            Lang::C => "C",
            Lang::Rust => "Rust",
            Lang::Unknown => "?",
        }
    }

    /// Rust on one side, C or C++ on the other.
    pub fn crosses(self, other: Lang) -> bool {
        self != Lang::Unknown && other != Lang::Unknown && (self == Lang::Rust) != (other == Lang::Rust)
    }

    /// A module's language: Rust when rustc produced it (its producer string
    /// names Rust), else C when its source file ends in `.c`, else C++.
    pub fn of(info: &bitcode::ModuleInfo) -> Lang {
        if info.is_rust() {
            Lang::Rust
        } else if info.source_filename.ends_with(".c") {
            Lang::C
        } else {
            Lang::Cpp
        }
    }
}

/// One module, as the report shows it.
#[derive(Debug, Clone)]
pub struct ModuleFacts {
    pub path: ExecPath,
    pub owner: Option<String>,
    /// A `start_lib` member: the linker loads it only if something refers to it.
    pub lazy: bool,
    pub loaded: bool,
    pub size: Option<u64>,
    /// The size of its import pack, where it has one.
    pub pack_size: Option<u64>,
    pub lang: Option<Lang>,
    pub producer: String,
    /// The globals it defines.
    pub definitions: usize,
    /// Positions of the modules it imports from (the plan's).
    pub imports: Vec<u32>,
    /// Per import (in `imports`' order): the functions (and variables) the
    /// index selected, as (name, declaration only), sorted; and how many more
    /// there were than listed. Empty if the index could not be read.
    pub selected: Vec<(Vec<(u32, bool)>, usize)>,
    /// Why this module's backend works from a stale thin link, if it does.
    pub stale: Vec<String>,
    /// Its backend's time, if the timings say.
    pub seconds: Option<f64>,
    /// Its backend's remarks: (inlined, not inlined) call sites, all of them.
    pub remarks: Option<(u64, u64)>,
}

/// One inlining decision (or several alike), from the remarks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InlineRow {
    /// The module whose backend decided (its remarks file), if known.
    pub backend: Option<u32>,
    pub caller: u32,
    pub callee: u32,
    /// The modules defining caller and callee, if known.
    pub caller_module: Option<u32>,
    pub callee_module: Option<u32>,
    pub inlined: bool,
    pub reason: u32,
    pub count: u32,
}

/// Everything a report shows, before rendering.
#[derive(Debug, Default)]
pub struct Model {
    pub output: String,
    pub modules: Vec<ModuleFacts>,
    /// Function names (demangled for display), referenced by index.
    pub names: Vec<String>,
    /// The mangled name where it differs from the displayed one ("" where not).
    pub mangled: Vec<String>,
    pub reasons: Vec<String>,
    pub inlines: Vec<InlineRow>,
    pub index_seconds: Option<f64>,
    pub link_seconds: Option<f64>,
    /// What the report could not read or had to leave out.
    pub notes: Vec<String>,
    /// Whether remarks were given at all.
    pub has_remarks: bool,
    /// Per name: the modules defining it (not rendered; for `explain --why`).
    pub definers: HashMap<u32, Vec<u32>>,
}

/// Interns strings, keeping the first-seen order.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    all: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.all.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.all.push(s.to_string());
        i
    }
}

/// A symbol as a person reads it: Rust and C++ names demangled (Rust's
/// without the hash), others as they are.
pub fn demangle(name: &str) -> String {
    if let Ok(d) = rustc_demangle::try_demangle(name) {
        return format!("{d:#}");
    }
    if name.starts_with("_Z") {
        if let Ok(sym) = cpp_demangle::Symbol::new(name) {
            if let Ok(d) = sym.demangle() {
                return d;
            }
        }
    }
    name.to_string()
}

/// What each module's bitcode and index say.
struct Read {
    size: Option<u64>,
    pack_size: Option<u64>,
    module: std::result::Result<bitcode::ModuleInfo, String>,
    index: std::result::Result<bitcode::Index, String>,
}

/// Reads everything the report shows.
pub fn gather(inputs: &Inputs) -> Result<Model> {
    let plan = inputs.plan;
    let root = inputs.exec_root;
    let mut notes = Vec::new();

    // From the manifest: which modules are lazy, where their packs are.
    let mut lazy = BTreeSet::new();
    let mut packs: HashMap<&str, &ExecPath> = HashMap::default();
    if let Some(m) = inputs.manifest {
        for b in m.bitcode() {
            if b.lazy {
                lazy.insert(b.module.path.as_str());
            }
            if let Some(p) = &b.module.outputs.pack {
                packs.insert(b.module.path.as_str(), p);
            }
        }
    }

    let read: Vec<Read> = plan
        .modules
        .par_iter()
        .map(|m| {
            let disk = m.module.under(root);
            let bytes = std::fs::read(&disk);
            let size = bytes.as_ref().ok().map(|b| b.len() as u64);
            let module = match &bytes {
                Ok(b) => bitcode::read_module(b).map_err(|e| format!("module '{}': {e}", m.module)),
                Err(e) => Err(format!("cannot read module '{}': {e}", m.module)),
            };
            let index = match std::fs::read(m.index.under(root)) {
                Ok(b) => bitcode::read_index(&b).map_err(|e| format!("index '{}': {e}", m.index)),
                Err(e) => Err(format!("cannot read index '{}': {e}", m.index)),
            };
            let pack_size =
                packs.get(m.module.as_str()).and_then(|p| std::fs::metadata(p.under(root)).ok()).map(|meta| meta.len());
            Read { size, pack_size, module, index }
        })
        .collect();

    // Unreadable files: one note per kind, naming the first few.
    note_failures(&mut notes, "module", read.iter().filter_map(|r| r.module.as_ref().err()));
    note_failures(&mut notes, "index", read.iter().filter_map(|r| r.index.as_ref().err()));

    let position: HashMap<&str, u32> =
        plan.modules.iter().enumerate().map(|(i, m)| (m.module.as_str(), i as u32)).collect();

    // Every definition: GUID -> name, and name -> defining modules.
    let mut names = Interner::default();
    let mut by_guid: HashMap<u64, u32> = HashMap::default();
    let mut defined_in: HashMap<u32, Vec<u32>> = HashMap::default();
    for (i, r) in read.iter().enumerate() {
        if let Ok(info) = &r.module {
            for d in &info.definitions {
                let id = names.id(&d.name);
                by_guid.entry(d.guid).or_insert(id);
                let v = defined_in.entry(id).or_default();
                if v.last() != Some(&(i as u32)) {
                    v.push(i as u32);
                }
            }
        }
    }

    let mut modules = Vec::with_capacity(plan.modules.len());
    let mut truncated_lists = 0usize;
    for (i, (m, r)) in plan.modules.iter().zip(&read).enumerate() {
        let mut facts = ModuleFacts {
            path: m.module.clone(),
            owner: m.owner.clone(),
            lazy: lazy.contains(m.module.as_str()),
            loaded: m.loaded,
            size: r.size,
            pack_size: r.pack_size,
            imports: m.imports.clone(),
            lang: None,
            producer: String::new(),
            definitions: 0,
            selected: Vec::new(),
            stale: Vec::new(),
            seconds: None,
            remarks: None,
        };
        if let Ok(info) = &r.module {
            facts.lang = Some(Lang::of(info));
            facts.producer = info.producer.clone();
            facts.definitions = info.definitions.len();
        }
        let mut selected: BTreeMap<u32, BTreeSet<(u32, bool)>> = BTreeMap::new();
        if let Ok(index) = &r.index {
            let mut by_id: HashMap<u64, u32> = HashMap::default();
            for im in &index.modules {
                let Some(&j) = position.get(im.path.as_str()) else {
                    facts.stale.push(format!(
                        "its index names '{}', which is not a module of this program: the index of another thin link",
                        im.path
                    ));
                    continue;
                };
                by_id.insert(im.id, j);
                // LLVM's own module hash: what the thin link saw against what is there now.
                if let Ok(now) = &read[j as usize].module {
                    if im.hash != [0; 5] && now.hash != [0; 5] && im.hash != now.hash {
                        facts.stale.push(if j as usize == i {
                            "this module changed after the thin link (its LLVM module hash differs from the one its \
                             index records)"
                                .to_string()
                        } else {
                            format!(
                                "imported module '{}' changed after the thin link (its LLVM module hash differs from the \
                                 one this index records)",
                                im.path
                            )
                        });
                    }
                }
            }
            for s in &index.summaries {
                let Some(&j) = by_id.get(&s.module) else { continue };
                if j as usize == i || s.kind == SummaryKind::Alias && s.guid == 0 {
                    continue;
                }
                let name = match by_guid.get(&s.guid) {
                    Some(&n) => n,
                    None => names.id(&format!("(GUID {:#018x})", s.guid)),
                };
                selected.entry(j).or_default().insert((name, s.declaration));
            }
        }
        // Nothing to say per import where the index could not be read.
        facts.selected = if r.index.is_err() { Vec::new() } else { m.imports.clone() }
            .into_iter()
            .map(|j| {
                let all: Vec<(u32, bool)> = selected.remove(&j).map(|s| s.into_iter().collect()).unwrap_or_default();
                let more = all.len().saturating_sub(MAX_FUNCTIONS_PER_IMPORT);
                if more > 0 {
                    truncated_lists += 1;
                }
                (all.into_iter().take(MAX_FUNCTIONS_PER_IMPORT).collect(), more)
            })
            .collect();
        if !selected.is_empty() {
            let extra: Vec<&str> = selected.keys().map(|&j| plan.modules[j as usize].module.as_str()).collect();
            facts.stale.push(format!(
                "its index selects from {} module(s) its imports list does not name ({}): index and imports list \
                 from different thin links",
                extra.len(),
                extra.join(", ")
            ));
        }
        modules.push(facts);
    }
    if truncated_lists > 0 {
        notes.push(format!(
            "{truncated_lists} import(s) select more than {MAX_FUNCTIONS_PER_IMPORT} functions; the lists show the first \
             {MAX_FUNCTIONS_PER_IMPORT}"
        ));
    }
    let stale = modules.iter().filter(|m| !m.stale.is_empty()).count();
    if stale > 0 {
        notes.push(format!("{stale} backend(s) work from a stale thin link: see each module's page"));
    }

    let mut model = Model { output: plan.output.to_string(), ..Model::default() };
    let mut reasons = Interner::default();
    if !inputs.remarks.is_empty() {
        model.has_remarks = true;
        let files = remark_files(inputs.remarks, &mut notes)?;
        let rows = read_remarks(&files, inputs, &mut modules, &mut names, &mut reasons, &defined_in, &mut notes);
        model.inlines = rows;
    }
    if let Some(t) = inputs.timings {
        let timings = parse_timings(
            &std::fs::read_to_string(t).with_context(|| format!("cannot read timings '{}'", t.display()))?,
        );
        let mut unknown = 0usize;
        for (module, seconds) in &timings.backends {
            match position.get(module.as_str()) {
                Some(&i) => modules[i as usize].seconds = Some(*seconds),
                None => unknown += 1,
            }
        }
        if unknown > 0 {
            notes.push(format!("{unknown} backend timing(s) name modules not in this program; ignored"));
        }
        let mine = |v: &[(Option<String>, f64)]| {
            v.iter().rev().find(|(o, _)| o.as_deref().is_none_or(|o| o == plan.output.as_str())).map(|(_, s)| *s)
        };
        model.index_seconds = mine(&timings.index);
        model.link_seconds = mine(&timings.link);
        if timings.bad_lines > 0 {
            notes.push(format!("{} line(s) of the timings file are not timings; ignored", timings.bad_lines));
        }
    }
    model.modules = modules;
    for name in names.all {
        let shown = demangle(&name);
        if shown == name {
            model.names.push(name);
            model.mangled.push(String::new());
        } else {
            model.names.push(shown);
            model.mangled.push(name);
        }
    }
    model.reasons = reasons.all;
    model.notes = notes;
    model.definers = defined_in;
    Ok(model)
}

fn note_failures<'a>(notes: &mut Vec<String>, what: &str, errors: impl Iterator<Item = &'a String>) {
    let errors: Vec<&String> = errors.collect();
    if errors.is_empty() {
        return;
    }
    let shown: Vec<&str> = errors.iter().take(3).map(|s| s.as_str()).collect();
    let more = if errors.len() > 3 { format!(" (and {} more)", errors.len() - 3) } else { String::new() };
    notes.push(format!("{} {what} file(s) could not be read: {}{more}", errors.len(), shown.join("; ")));
}

/// The remarks files: each given file, and every `*.yaml` file below each
/// given directory, sorted.
fn remark_files(given: &[PathBuf], notes: &mut Vec<String>) -> Result<Vec<PathBuf>> {
    let mut files = BTreeSet::new();
    for p in given {
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read remarks '{}'", p.display()))?;
        if !meta.is_dir() {
            files.insert(p.clone());
            continue;
        }
        let mut stack = vec![p.clone()];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("cannot read directory '{}'", dir.display()))?
            {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.insert(path);
                }
            }
        }
    }
    if files.is_empty() {
        notes.push("no remarks file was found where --remarks points".to_string());
    }
    Ok(files.into_iter().collect())
}

/// The module whose backend wrote `file`: the one whose object is
/// `file` without `.remarks.yaml` (exec-root relative), or else the one whose
/// object path shares the longest tail with it.
fn backend_of(file: &Path, exec_root: &Path, objects: &HashMap<String, Vec<(u32, Vec<String>)>>) -> Option<u32> {
    let rel = relative_to(file, exec_root);
    let text = rel.to_string_lossy();
    let stem = text.strip_suffix(REMARKS_SUFFIX).or_else(|| text.strip_suffix(".yaml"))?;
    let parts: Vec<&str> = stem.split('/').collect();
    let candidates = objects.get(*parts.last()?)?;
    let score = |obj: &[String]| obj.iter().rev().zip(parts.iter().rev()).take_while(|(a, b)| a == *b).count();
    let best = candidates.iter().map(|(i, obj)| (score(obj), *i)).max()?;
    let ties = candidates.iter().filter(|(_, obj)| score(obj) == best.0).count();
    (ties == 1).then_some(best.1)
}

fn relative_to(file: &Path, root: &Path) -> PathBuf {
    if let (Ok(f), Ok(r)) = (file.canonicalize(), root.canonicalize()) {
        if let Ok(rel) = f.strip_prefix(&r) {
            return rel.to_path_buf();
        }
    }
    file.to_path_buf()
}

#[allow(clippy::too_many_arguments)]
fn read_remarks(
    files: &[PathBuf],
    inputs: &Inputs,
    modules: &mut [ModuleFacts],
    names: &mut Interner,
    reasons: &mut Interner,
    defined_in: &HashMap<u32, Vec<u32>>,
    notes: &mut Vec<String>,
) -> Vec<InlineRow> {
    let mut objects: HashMap<String, Vec<(u32, Vec<String>)>> = HashMap::default();
    for (i, m) in inputs.plan.modules.iter().enumerate() {
        let parts: Vec<String> = m.object.as_str().split('/').map(str::to_string).collect();
        objects.entry(parts.last().cloned().unwrap_or_default()).or_default().push((i as u32, parts));
    }
    type Decisions = std::result::Result<Vec<remarks::InlineDecision>, String>;
    let parsed: Vec<(Option<u32>, Decisions)> = files
        .par_iter()
        .map(|f| {
            let backend = backend_of(f, inputs.exec_root, &objects);
            let decisions = std::fs::read_to_string(f)
                .map_err(|e| format!("cannot read '{}': {e}", f.display()))
                .and_then(|t| remarks::parse(&t).map_err(|e| format!("'{}' {e}", f.display())))
                .map(|rs| rs.iter().filter_map(remarks::inline_decision).collect());
            (backend, decisions)
        })
        .collect();
    let mut errors = Vec::new();
    let mut unattributed = 0usize;
    let mut rows: HashMap<InlineRow, u32> = HashMap::default();
    let mut dropped_local = 0u64;
    for (backend, decisions) in parsed {
        let decisions = match decisions {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if backend.is_none() {
            unattributed += 1;
        }
        if let Some(b) = backend {
            let counts = modules[b as usize].remarks.get_or_insert((0, 0));
            for d in &decisions {
                if d.inlined {
                    counts.0 += 1;
                } else {
                    counts.1 += 1;
                }
            }
        }
        // Where a name is defined: the backend's own module if it defines it, else one
        // the backend imports from, else the first that does.
        let home = |name: u32| -> Option<u32> {
            let defs = defined_in.get(&name)?;
            if let Some(b) = backend {
                if defs.contains(&b) {
                    return Some(b);
                }
                let imports = &modules[b as usize].imports;
                if let Some(&j) = defs.iter().find(|j| imports.contains(j)) {
                    return Some(j);
                }
            }
            defs.first().copied()
        };
        for d in decisions {
            let caller = names.id(&d.caller);
            let callee = names.id(&d.callee);
            let (caller_module, callee_module) = (home(caller), home(callee));
            // Kept: decisions about a callee from another module than the caller's (what
            // imports are for). Inlining within a module, and calls to functions no
            // module of the program defines (libc, ...), are only counted.
            let Some(callee_module) = callee_module else {
                dropped_local += 1;
                continue;
            };
            if caller_module == Some(callee_module) {
                dropped_local += 1;
                continue;
            }
            let row = InlineRow {
                backend,
                caller,
                callee,
                caller_module,
                callee_module: Some(callee_module),
                inlined: d.inlined,
                reason: reasons.id(&d.reason),
                count: 0,
            };
            *rows.entry(row).or_default() += 1;
        }
    }
    note_failures(notes, "remarks", errors.iter());
    if unattributed > 0 {
        notes.push(format!(
            "{unattributed} remarks file(s) could not be matched to a backend (expected '<object>{REMARKS_SUFFIX}'); \
             their decisions are shown without one"
        ));
    }
    if dropped_local > 0 {
        notes.push(format!(
            "{dropped_local} inlining decision(s) within one module, or about functions no module of the program \
             defines, are counted per backend but not listed"
        ));
    }
    let mut rows: Vec<InlineRow> = rows
        .into_iter()
        .map(|(mut r, n)| {
            r.count = n;
            r
        })
        .collect();
    // Cross-language first, then by module order; the order is the report's, deterministic.
    let lang = |m: Option<u32>| m.and_then(|m| modules[m as usize].lang).unwrap_or(Lang::Unknown);
    rows.sort_by_key(|r| {
        (
            !lang(r.caller_module).crosses(lang(r.callee_module)),
            r.backend,
            r.callee_module,
            r.caller_module,
            r.callee,
            r.caller,
            !r.inlined,
            r.reason,
        )
    });
    if rows.len() > MAX_INLINE_ROWS {
        notes.push(format!("{} inlining decisions; the report lists the first {MAX_INLINE_ROWS}", rows.len()));
        rows.truncate(MAX_INLINE_ROWS);
    }
    rows
}

/// Timings read from a file of JSON lines, one per step:
///
/// * `{"module": "obj/m.o", "seconds": 1.2}`: a backend;
/// * `{"step": "index" | "link", "seconds": 3.4}`: the thin link, the final link;
/// * what `THINLTO_TIMINGS` appends (`{"command": "backend", "total_s": 1.2,
///   "module": ...}`, `{"command": "index", "total_s": 3.4, "output": ...}`).
///
/// A later line for the same step wins (a re-run).
#[derive(Debug, Default, PartialEq)]
pub struct Timings {
    pub backends: Vec<(String, f64)>,
    /// (the program it linked, if named; seconds)
    pub index: Vec<(Option<String>, f64)>,
    pub link: Vec<(Option<String>, f64)>,
    pub bad_lines: usize,
}

pub fn parse_timings(text: &str) -> Timings {
    let mut t = Timings::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            t.bad_lines += 1;
            continue;
        };
        let seconds = v
            .get("seconds")
            .or_else(|| v.get("total_s"))
            .and_then(|s| s.as_f64())
            .filter(|s| s.is_finite() && *s >= 0.0);
        let step = v.get("step").or_else(|| v.get("command")).and_then(|s| s.as_str());
        let output = v.get("output").and_then(|o| o.as_str()).map(str::to_string);
        match (seconds, step, v.get("module").and_then(|m| m.as_str())) {
            (Some(s), None | Some("backend"), Some(module)) => t.backends.push((module.to_string(), s)),
            (Some(s), Some("index"), _) => t.index.push((output, s)),
            (Some(s), Some("link"), _) => t.link.push((output, s)),
            (Some(_), Some(_), _) => {} // another command (extract, ...)
            _ => t.bad_lines += 1,
        }
    }
    t
}

/// The model as the page's data: compact JSON, columns of the module table.
fn data_json(model: &Model) -> String {
    #[derive(Serialize)]
    struct Modules<'a> {
        path: Vec<&'a str>,
        owner: Vec<i64>,
        lang: Vec<&'a str>,
        loaded: Vec<u8>,
        lazy: Vec<u8>,
        size: Vec<i64>,
        pack: Vec<i64>,
        defs: Vec<usize>,
        seconds: Vec<Option<f64>>,
        imports: Vec<&'a [u32]>,
        /// Per import: [name * 2 + declaration, ...], then how many more.
        sel: Vec<Vec<(Vec<u64>, usize)>>,
        stale: Vec<&'a [String]>,
        remarks: Vec<Option<(u64, u64)>>,
    }
    #[derive(Serialize)]
    struct Data<'a> {
        version: u32,
        output: &'a str,
        owners: Vec<&'a str>,
        modules: Modules<'a>,
        names: &'a [String],
        mangled: &'a [String],
        reasons: &'a [String],
        /// [backend, caller, callee, caller module, callee module, inlined, reason, count], -1 for unknown
        inlines: Vec<[i64; 8]>,
        has_remarks: bool,
        index_seconds: Option<f64>,
        link_seconds: Option<f64>,
        notes: &'a [String],
    }
    let mut owners = Interner::default();
    let ms = &model.modules;
    let owner: Vec<i64> = ms.iter().map(|m| m.owner.as_deref().map_or(-1, |o| owners.id(o) as i64)).collect();
    let opt = |v: Option<u64>| v.map_or(-1, |v| v as i64);
    let round = |s: Option<f64>| s.map(|s| (s * 1000.0).round() / 1000.0);
    let data = Data {
        version: 1,
        output: &model.output,
        owners: owners.all.iter().map(String::as_str).collect(),
        modules: Modules {
            path: ms.iter().map(|m| m.path.as_str()).collect(),
            owner,
            lang: ms.iter().map(|m| m.lang.map_or("?", Lang::name)).collect(),
            loaded: ms.iter().map(|m| m.loaded as u8).collect(),
            lazy: ms.iter().map(|m| m.lazy as u8).collect(),
            size: ms.iter().map(|m| opt(m.size)).collect(),
            pack: ms.iter().map(|m| opt(m.pack_size)).collect(),
            defs: ms.iter().map(|m| m.definitions).collect(),
            seconds: ms.iter().map(|m| round(m.seconds)).collect(),
            imports: ms.iter().map(|m| m.imports.as_slice()).collect(),
            sel: ms
                .iter()
                .map(|m| {
                    m.selected
                        .iter()
                        .map(|(fs, more)| (fs.iter().map(|&(n, decl)| n as u64 * 2 + decl as u64).collect(), *more))
                        .collect()
                })
                .collect(),
            stale: ms.iter().map(|m| m.stale.as_slice()).collect(),
            remarks: ms.iter().map(|m| m.remarks).collect(),
        },
        names: &model.names,
        mangled: &model.mangled,
        reasons: &model.reasons,
        inlines: model
            .inlines
            .iter()
            .map(|r| {
                let o = |v: Option<u32>| v.map_or(-1, i64::from);
                [
                    o(r.backend),
                    r.caller as i64,
                    r.callee as i64,
                    o(r.caller_module),
                    o(r.callee_module),
                    r.inlined as i64,
                    r.reason as i64,
                    r.count as i64,
                ]
            })
            .collect(),
        has_remarks: model.has_remarks,
        index_seconds: round(model.index_seconds),
        link_seconds: round(model.link_seconds),
        notes: &model.notes,
    };
    let json = serde_json::to_string(&data).expect("the model serializes");
    // Inside <script>: no '<' (no "</script>", no "<!--"), no '>' or '&' either. They
    // can only occur inside JSON strings, where the escapes mean the same characters.
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

const TEMPLATE: &str = include_str!("report.html");
const SCRIPT: &str = include_str!("report.js");
const STYLE: &str = include_str!("report.css");

/// Escapes text for HTML (element content and quoted attributes).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The report page.
pub fn render(model: &Model) -> String {
    use sha2::Digest as _;
    // The page runs only its own script: the policy names it by its hash.
    let script_hash = base64(&sha2::Sha256::digest(SCRIPT.as_bytes()));
    let title = html_escape(&model.output);
    let data = data_json(model);
    // One pass over the template, so that nothing substituted is substituted again.
    let mut out = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + data.len());
    let mut rest = TEMPLATE;
    while let Some(start) = rest.find("{{") {
        let end = rest[start..].find("}}").map(|e| start + e).expect("template placeholders are closed");
        out.push_str(&rest[..start]);
        out.push_str(match &rest[start + 2..end] {
            "TITLE" => &title,
            "SCRIPT_HASH" => &script_hash,
            "STYLE" => STYLE,
            "DATA" => &data,
            "SCRIPT" => SCRIPT,
            other => panic!("unknown placeholder {other} in report.html"),
        });
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_escaping() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
    }

    #[test]
    fn demangles_rust_and_cpp_names() {
        assert_eq!(demangle("_ZN5stats14sum_of_squares17hf49aeac05423489fE"), "stats::sum_of_squares");
        assert_eq!(demangle("_Z3fooi"), "foo(int)");
        assert_eq!(demangle("cpp_square"), "cpp_square");
        assert_eq!(demangle("_Znot a symbol"), "_Znot a symbol");
    }

    #[test]
    fn languages_cross_between_rust_and_c_or_cpp() {
        assert!(Lang::Rust.crosses(Lang::Cpp) && Lang::C.crosses(Lang::Rust));
        assert!(!Lang::Cpp.crosses(Lang::C) && !Lang::Rust.crosses(Lang::Rust) && !Lang::Unknown.crosses(Lang::Rust));
    }

    #[test]
    fn reads_timings_in_both_forms() {
        let t = parse_timings(
            "{\"module\": \"obj/a.o\", \"seconds\": 1.5}\n\
             {\"command\":\"backend\",\"total_s\":0.25,\"tools_s\":0.2,\"module\":\"obj/b.o\"}\n\
             {\"command\":\"index\",\"total_s\":3.0,\"tools_s\":2.9,\"output\":\"bin/x\"}\n\
             {\"step\": \"link\", \"seconds\": 0.5}\n\
             {\"command\":\"extract\",\"total_s\":0.1,\"tools_s\":0}\n\
             not json\n\
             {\"module\": \"obj/c.o\"}\n",
        );
        assert_eq!(t.backends, [("obj/a.o".to_string(), 1.5), ("obj/b.o".to_string(), 0.25)]);
        assert_eq!(t.index, [(Some("bin/x".to_string()), 3.0)]);
        assert_eq!(t.link, [(None, 0.5)]);
        assert_eq!(t.bad_lines, 2);
    }

    #[test]
    fn data_cannot_close_the_script() {
        let model = Model {
            output: "bin/</script><script>alert(1)</script>&".into(),
            names: vec!["<!--".into()],
            mangled: vec![String::new()],
            ..Model::default()
        };
        let html = render(&model);
        let data_start = html.find("id=\"thinlto-data\"").unwrap();
        let data = &html[data_start..];
        let data = &data[data.find('>').unwrap() + 1..data.find("</script>").unwrap()];
        assert!(!data.contains('<') && !data.contains('>') && !data.contains('&'), "{data}");
        let back: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(back["output"], "bin/</script><script>alert(1)</script>&");
        assert_eq!(back["names"][0], "<!--");
        assert!(html
            .contains("<title>ThinLTO report: bin/&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&amp;</title>"));
    }
}
