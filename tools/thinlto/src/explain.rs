//! A short, human-readable account of a plan: what the thin link loaded,
//! what each backend imports, and how much smaller the pruned backend inputs
//! are than handing every backend all the bitcode.

use crate::plan::Plan;
use std::fmt::Write;

pub fn explain(plan: &Plan) -> String {
    let mut s = String::new();
    let total = plan.modules.len();
    let loaded = plan.loaded().count();
    let _ = writeln!(s, "thin link for '{}': {total} bitcode modules, {loaded} loaded by the linker", plan.output);
    for m in &plan.modules {
        let owner = m.owner.as_deref().unwrap_or("?");
        if !m.loaded {
            let _ = writeln!(s, "  {} [{owner}]: not loaded; no backend output reaches the final link", m.module);
            continue;
        }
        let _ = writeln!(s, "  {} [{owner}]: imports from {} module(s)", m.module, m.imports.len());
        for imp in plan.imports(m) {
            let from = imp.owner.as_deref().unwrap_or("?");
            let cross = if from != owner { "  <- other target" } else { "" };
            let _ = writeln!(s, "      {} [{from}]{cross}", imp.module);
        }
    }
    let mut counts: Vec<usize> = plan.loaded().map(|m| m.imports.len()).collect();
    counts.sort_unstable();
    if let (Some(max), false) = (counts.last(), counts.is_empty()) {
        let median = counts[counts.len() / 2];
        let pruned: usize = counts.iter().map(|c| c + 1).sum();
        let naive = loaded * total;
        let _ = writeln!(
            s,
            "backend bitcode inputs: median {} file(s), max {}; {pruned} in all against {naive} if every backend got all bitcode ({:.1}%)",
            median + 1,
            max + 1,
            100.0 * pruned as f64 / naive.max(1) as f64
        );
    }
    s
}

/// `explain --why X`: for a module X (its path, or the end of its path),
/// which modules import it and what each takes from it (and, with remarks,
/// what was inlined), and what it imports; for a symbol X (as linked, or
/// demangled), where it is defined, which backends' indexes selected it and
/// what the inliner decided about it.
pub fn why(model: &crate::report::Model, x: &str) -> anyhow::Result<String> {
    let ms = &model.modules;
    let exact: Vec<usize> = (0..ms.len()).filter(|&i| ms[i].path.as_str() == x).collect();
    let tail: Vec<usize> = (0..ms.len()).filter(|&i| ms[i].path.as_str().ends_with(&format!("/{x}"))).collect();
    let matches = if !exact.is_empty() { exact } else { tail };
    match matches.len() {
        1 => return Ok(why_module(model, matches[0])),
        0 => {}
        n => {
            let mut s = format!("{n} modules match '{x}'; give more of the path:\n");
            for &i in matches.iter().take(20) {
                let _ = writeln!(s, "  {}", ms[i].path);
            }
            return Ok(s);
        }
    }
    let named: Vec<u32> = (0..model.names.len() as u32)
        .filter(|&n| model.names[n as usize] == x || model.mangled[n as usize] == x)
        .collect();
    let named = if named.is_empty() {
        let needle = x.to_lowercase();
        (0..model.names.len() as u32)
            .filter(|&n| {
                model.names[n as usize].to_lowercase().contains(&needle)
                    || model.mangled[n as usize].to_lowercase().contains(&needle)
            })
            .collect()
    } else {
        named
    };
    match named.len() {
        0 => anyhow::bail!(
            "no module or symbol of the plan for '{}' matches '{x}' (symbols are known only from modules the exec root holds)",
            model.output
        ),
        1 => Ok(why_symbol(model, named[0])),
        n => {
            let mut s = format!("{n} symbols match '{x}'; give one exactly:\n");
            for &f in named.iter().take(30) {
                let _ = writeln!(s, "  {}", model.names[f as usize]);
            }
            Ok(s)
        }
    }
}

fn describe_module(model: &crate::report::Model, i: usize) -> String {
    let m = &model.modules[i];
    format!("{} [{}]", m.path, m.owner.as_deref().unwrap_or("?"))
}

/// The functions of an import, as `a, b (declaration)`.
fn functions(model: &crate::report::Model, i: usize, k: usize) -> String {
    let Some((fs, more)) = model.modules[i].selected.get(k) else {
        return "? (its index was not read)".to_string();
    };
    let mut names: Vec<String> = fs
        .iter()
        .map(|&(n, decl)| {
            let name = &model.names[n as usize];
            if decl {
                format!("{name} (declaration)")
            } else {
                name.clone()
            }
        })
        .collect();
    if *more > 0 {
        names.push(format!("and {more} more"));
    }
    if names.is_empty() {
        "nothing the index names".to_string()
    } else {
        names.join(", ")
    }
}

/// What the remarks say about functions of module `from` in the backend of `backend`.
fn inlined(model: &crate::report::Model, backend: usize, from: usize) -> Vec<String> {
    let mut out = Vec::new();
    for r in &model.inlines {
        if r.backend == Some(backend as u32) && r.callee_module == Some(from as u32) {
            out.push(format!(
                "{} {} {}: {}",
                model.names[r.callee as usize],
                if r.inlined { "inlined into" } else { "NOT inlined into" },
                model.names[r.caller as usize],
                model.reasons[r.reason as usize]
            ));
        }
    }
    out
}

fn why_module(model: &crate::report::Model, i: usize) -> String {
    let mut s = String::new();
    let m = &model.modules[i];
    let lang = m.lang.map_or("?", crate::report::Lang::name);
    let size = m.size.map_or("?".to_string(), |b| format!("{b} bytes"));
    let state = if m.loaded {
        "loaded"
    } else if m.lazy {
        "not loaded: a lazy member nothing referred to"
    } else {
        "not loaded"
    };
    let _ = writeln!(s, "module {} ({lang}, {size}, {state})", describe_module(model, i));
    for reason in &m.stale {
        let _ = writeln!(s, "  STALE: {reason}");
    }
    let importers: Vec<(usize, usize)> = model
        .modules
        .iter()
        .enumerate()
        .flat_map(|(j, mj)| mj.imports.iter().enumerate().filter(|(_, &t)| t as usize == i).map(move |(k, _)| (j, k)))
        .collect();
    let _ = writeln!(s, "  imported by {} of {} modules:", importers.len(), model.modules.len());
    for &(j, k) in &importers {
        let _ = writeln!(s, "    {}: {}", describe_module(model, j), functions(model, j, k));
        for line in inlined(model, j, i) {
            let _ = writeln!(s, "      {line}");
        }
    }
    let _ = writeln!(s, "  imports from {} modules:", m.imports.len());
    for (k, &j) in m.imports.iter().enumerate() {
        let _ = writeln!(s, "    {}: {}", describe_module(model, j as usize), functions(model, i, k));
        for line in inlined(model, i, j as usize) {
            let _ = writeln!(s, "      {line}");
        }
    }
    s
}

fn why_symbol(model: &crate::report::Model, f: u32) -> String {
    let mut s = String::new();
    let name = &model.names[f as usize];
    let mangled = &model.mangled[f as usize];
    if mangled.is_empty() {
        let _ = writeln!(s, "symbol {name}");
    } else {
        let _ = writeln!(s, "symbol {name} ({mangled})");
    }
    let definers = model.definers.get(&f).cloned().unwrap_or_default();
    if definers.is_empty() {
        let _ = writeln!(s, "  defined in no module of the program the exec root holds");
    }
    for &d in &definers {
        let lang = model.modules[d as usize].lang.map_or("?", crate::report::Lang::name);
        let _ = writeln!(s, "  defined in {} ({lang})", describe_module(model, d as usize));
    }
    let mut selected = Vec::new();
    for (i, m) in model.modules.iter().enumerate() {
        for (k, (fs, _)) in m.selected.iter().enumerate() {
            for &(n, decl) in fs {
                if n == f {
                    selected.push((i, m.imports[k] as usize, decl));
                }
            }
        }
    }
    let _ = writeln!(s, "  selected by the indexes of {} backends:", selected.len());
    for (i, from, decl) in selected {
        let what = if decl { "declaration only" } else { "definition" };
        let _ = writeln!(s, "    {} ({what}, from {})", describe_module(model, i), model.modules[from].path);
    }
    if model.has_remarks {
        let rows: Vec<&crate::report::InlineRow> =
            model.inlines.iter().filter(|r| r.callee == f || r.caller == f).collect();
        let _ = writeln!(s, "  inlining decisions about calls into other modules ({}):", rows.len());
        for r in rows {
            let lang =
                |m: Option<u32>| m.and_then(|m| model.modules[m as usize].lang).map_or("?", crate::report::Lang::name);
            let backend = r.backend.map_or("?".to_string(), |b| model.modules[b as usize].path.to_string());
            let _ = writeln!(
                s,
                "    {} ({}) {} {} ({}) in the backend of {backend}: {}{}",
                model.names[r.callee as usize],
                lang(r.callee_module),
                if r.inlined { "inlined into" } else { "NOT inlined into" },
                model.names[r.caller as usize],
                lang(r.caller_module),
                model.reasons[r.reason as usize],
                if r.count > 1 { format!(" (x{})", r.count) } else { String::new() }
            );
        }
    }
    s
}
