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
