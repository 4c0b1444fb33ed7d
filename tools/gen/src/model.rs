//! The program model: libraries, modules, crates and the bodies of their functions.
//!
//! Everything is drawn from one seeded generator in a fixed order, so the same parameters
//! always give the same program. Function bodies are small expression trees rendered to C++
//! and to Rust (see `render`) and interpreted by `eval`, so the generator knows the checksum
//! every rendering must print.

use std::ops::Range;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    /// C++ modules (`.cc` files in libraries), including the unreferenced ones.
    pub modules: usize,
    /// Rust crates (C++ libraries of the same shape under `cpp_only`).
    pub crates: usize,
    pub seed: u64,
    /// No Rust: the crates become C++ libraries, and a second binary links with Bazel's own `cc_binary`.
    pub cpp_only: bool,
    /// The Bazel package of the output directory, e.g. `bench/gen/n1000` (empty: the workspace root).
    pub package_prefix: String,
    /// Workload iterations of `app` run without arguments (default: about 1 s at `-c opt`).
    pub iterations: Option<u32>,
}

/// Hot functions per module and per crate: `<name>_h0` .. `<name>_h2`.
pub const HOT_PER_UNIT: usize = 3;
/// Iterations of the loop in every `_run` function.
pub const RUN_LOOP: u32 = 4;
/// `app` without arguments runs about `ITERATION_BUDGET / (used modules + crates)` iterations:
/// about 1 s at N = 1,000 with ThinLTO at -O2 (0.73 s user with 25,000,000 on the 2-core machine).
pub const ITERATION_BUDGET: u64 = 34_000_000;

/// Variables of a function body: its argument `x`, the accumulator `a`, the loop counter `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    X,
    A,
    I,
}

/// Who owns a function: a C++ module or a crate (global indices).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Module(usize),
    Crate(usize),
}

/// A called function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// `<owner>_h<idx>`: small, exported (extern "C"), called across modules and languages.
    Hot(Owner, usize),
    /// `<owner>_cold<idx>`: bigger, rarely called, only by its own unit.
    Cold(Owner, usize),
}

/// A `uint32_t` / `u32` expression; all arithmetic wraps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    Var(Var),
    Const(u32),
    Add(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
    Xor(Box<Expr>, Box<Expr>),
    /// Shift right by a constant in 1..=31.
    Shr(Box<Expr>, u32),
    /// Rotate left by a constant in 1..=31.
    Rotl(Box<Expr>, u32),
    Call(Callee, Box<Expr>),
}

/// A statement of a body that starts with `a = x` and returns `a`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    /// `a = <expr>`
    Set(Expr),
    /// `for i in 0..n { .. }` (never nested)
    Loop(u32, Vec<Stmt>),
    /// `if (a & mask) == value { .. }`
    IfLow { mask: u32, value: u32, then: Vec<Stmt> },
}

/// The functions of one module or crate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unit {
    /// Bodies of `_h0`.. (expressions of `x`).
    pub hot: Vec<Expr>,
    /// Body of `_run`: the entry point `main` calls.
    pub run: Vec<Stmt>,
    /// Bodies of `_cold0` (called by `_run` about once in 256 calls) and `_cold1` (called by `_cold0`).
    pub cold: [Vec<Stmt>; 2],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Library {
    /// Layer 0 depends on nothing; every dependency is in a lower layer.
    pub layer: usize,
    /// Global indices of its modules.
    pub modules: Range<usize>,
    /// C++ libraries it depends on (lower indices).
    pub deps: Vec<usize>,
    /// Crates it depends on (each placed below this library).
    pub crate_deps: Vec<usize>,
    /// False for the library nobody references (linked, never loaded).
    pub used: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub lib: usize,
    pub unit: Unit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crate {
    /// C++ libraries below `position` whose hot functions it calls.
    pub lib_deps: Vec<usize>,
    /// Crates with lower indices whose hot functions it calls.
    pub crate_deps: Vec<usize>,
    /// It sits between libraries `position - 1` and `position`: only libraries `>= position` may depend on it.
    pub position: usize,
    pub unit: Unit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub params: Params,
    pub libs: Vec<Library>,
    pub modules: Vec<Module>,
    pub crates: Vec<Crate>,
    /// Added to `argc * 2654435761` to seed the workload.
    pub main_seed: u32,
    /// Iterations of `app` without arguments.
    pub iterations: u32,
}

/// SplitMix64: small, fast and fully specified, so outputs never depend on a crate's version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick(&mut self, r: Range<usize>) -> usize {
        r.start + self.below(r.end - r.start)
    }

    fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    /// An odd multiplier with high bits set.
    fn mul_const(&mut self) -> u32 {
        self.u32() | 0x8000_0001
    }

    fn shift(&mut self) -> u32 {
        1 + self.below(31) as u32
    }
}

fn var(v: Var) -> Box<Expr> {
    Box::new(Expr::Var(v))
}

fn cst(k: u32) -> Box<Expr> {
    Box::new(Expr::Const(k))
}

/// A few arithmetic operations on `v`: the body of a hot function, or one step of a cold one.
fn mix(rng: &mut Rng, v: Var) -> Expr {
    use Expr::*;
    match rng.below(6) {
        0 => Add(Box::new(Mul(var(v), cst(rng.mul_const()))), cst(rng.u32())),
        1 => Mul(Box::new(Xor(var(v), Box::new(Shr(var(v), rng.shift())))), cst(rng.mul_const())),
        2 => Add(Box::new(Rotl(var(v), rng.shift())), cst(rng.u32())),
        3 => Xor(Box::new(Add(var(v), cst(rng.u32()))), Box::new(Shr(var(v), rng.shift()))),
        4 => Xor(Box::new(Mul(var(v), cst(rng.mul_const()))), cst(rng.u32())),
        _ => Add(Box::new(Xor(var(v), cst(rng.u32()))), Box::new(Rotl(var(v), rng.shift()))),
    }
}

/// `a = f(<something of a>)`, in one of a few shapes.
fn call_stmt(rng: &mut Rng, callee: Callee) -> Stmt {
    let a = || var(Var::A);
    let arg = match rng.below(3) {
        0 => Expr::Var(Var::A),
        1 => Expr::Xor(a(), cst(rng.u32())),
        _ => Expr::Add(a(), cst(rng.u32())),
    };
    let call = Expr::Call(callee, Box::new(arg));
    Stmt::Set(match rng.below(3) {
        0 => call,
        1 => Expr::Add(Box::new(call), cst(rng.u32())),
        _ => Expr::Xor(Box::new(call), Box::new(Expr::Shr(a(), rng.shift()))),
    })
}

/// The body of `_run`: a loop calling `callees` and an own hot function, then rarely `_cold0`.
fn run_body(rng: &mut Rng, owner: Owner, callees: &[Callee]) -> Vec<Stmt> {
    let mut body = vec![Stmt::Set(Expr::Add(var(Var::A), var(Var::I)))];
    for &c in callees {
        body.push(call_stmt(rng, c));
    }
    let own = Callee::Hot(owner, rng.below(HOT_PER_UNIT));
    body.push(call_stmt(rng, own));
    vec![
        Stmt::Loop(RUN_LOOP, body),
        Stmt::IfLow {
            mask: 255,
            value: rng.below(256) as u32,
            then: vec![Stmt::Set(Expr::Call(Callee::Cold(owner, 0), var(Var::A)))],
        },
    ]
}

/// A bigger straight-line body with a short loop; `_cold0` ends by calling `_cold1`.
fn cold_body(rng: &mut Rng, owner: Owner, idx: usize) -> Vec<Stmt> {
    let mut body: Vec<Stmt> = (0..10 + rng.below(8)).map(|_| Stmt::Set(mix(rng, Var::A))).collect();
    let mut inner = vec![Stmt::Set(Expr::Xor(var(Var::A), Box::new(Expr::Mul(var(Var::I), cst(rng.mul_const())))))];
    inner.extend((0..3).map(|_| Stmt::Set(mix(rng, Var::A))));
    body.push(Stmt::Loop(3, inner));
    if idx == 0 {
        body.push(Stmt::Set(Expr::Xor(
            Box::new(Expr::Call(Callee::Cold(owner, 1), var(Var::A))),
            Box::new(Expr::Shr(var(Var::A), rng.shift())),
        )));
    }
    body
}

fn unit(rng: &mut Rng, owner: Owner, callees: &[Callee]) -> Unit {
    let hot = (0..HOT_PER_UNIT).map(|_| mix(rng, Var::X)).collect();
    let run = run_body(rng, owner, callees);
    let cold = [cold_body(rng, owner, 0), cold_body(rng, owner, 1)];
    Unit { hot, run, cold }
}

/// Adds `n` distinct picks from `r` (or fewer if `r` is smaller) to `out`, then sorts it.
fn pick_distinct(rng: &mut Rng, r: Range<usize>, n: usize, out: &mut Vec<usize>) {
    let free = r.clone().filter(|p| !out.contains(p)).count();
    let want = out.len() + n.min(free);
    while out.len() < want {
        let p = rng.pick(r.clone());
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.sort_unstable();
}

impl Program {
    /// Builds the program. `params` must satisfy `validate`.
    pub fn generate(params: &Params) -> Program {
        let mut rng = Rng(params.seed ^ 0x7468_696e_6c74_6f21); // "thinlto!"
        let n = params.modules;
        let m = params.crates;

        // ~N/10 libraries; the last one is referenced by nobody.
        let nlibs = n.div_ceil(10).max(2);
        let used = nlibs - 1;
        let layers = ((used as f64).sqrt().round() as usize).max(1);
        let layer_of = |j: usize| j * layers / used;
        let mut libs: Vec<Library> = (0..nlibs)
            .map(|j| Library {
                layer: if j < used { layer_of(j) } else { layers },
                modules: (j * n / nlibs)..((j + 1) * n / nlibs),
                deps: Vec::new(),
                crate_deps: Vec::new(),
                used: j < used,
            })
            .collect();

        // Library deps: one from the layer just below, up to two more from any lower layer.
        for j in 0..nlibs {
            let layer = libs[j].layer;
            if layer == 0 {
                continue;
            }
            let below_start = (0..j).find(|&k| libs[k].layer == layer - 1).unwrap_or(0);
            let below_end = (0..j).find(|&k| libs[k].layer == layer).unwrap_or(j.min(used));
            let mut deps = Vec::new();
            pick_distinct(&mut rng, below_start..below_end, 1, &mut deps);
            let extra = rng.below(3);
            pick_distinct(&mut rng, 0..below_end, extra, &mut deps);
            libs[j].deps = deps;
        }

        // Crates, spread between the used libraries: crate i calls libraries below its position,
        // libraries at or above it call crate i.
        let mut crates: Vec<Crate> = Vec::with_capacity(m);
        for i in 0..m {
            let position = 1 + i * (used - 1) / m;
            let mut lib_deps = Vec::new();
            let n_lib = 1 + rng.below(2);
            pick_distinct(&mut rng, position.saturating_sub(5)..position, n_lib, &mut lib_deps);
            let mut crate_deps = Vec::new();
            if i == 1 || (i > 1 && rng.below(2) == 0) {
                pick_distinct(&mut rng, i.saturating_sub(3)..i, 1, &mut crate_deps);
            }
            if position < used {
                let mut dependents = Vec::new();
                let n_dep = 1 + rng.below(2);
                pick_distinct(&mut rng, position..(position + 5).min(used), n_dep, &mut dependents);
                for j in dependents {
                    libs[j].crate_deps.push(i);
                }
            }
            crates.push(Crate { lib_deps, crate_deps, position, unit: Unit::default() });
        }

        // Module bodies: each calls 3-5 hot functions of modules in its library's deps (or of
        // earlier modules of its own library), and one of every crate its library depends on.
        let mut modules = Vec::with_capacity(n);
        for (j, lib) in libs.iter().enumerate() {
            let dep_modules: Vec<usize> = lib.deps.iter().flat_map(|&d| libs[d].modules.clone()).collect();
            for g in lib.modules.clone() {
                let own_lower = lib.modules.start..g;
                let mut callees = Vec::new();
                for _ in 0..3 + rng.below(3) {
                    let target = if !dep_modules.is_empty() && (own_lower.is_empty() || rng.below(5) != 0) {
                        dep_modules[rng.below(dep_modules.len())]
                    } else if !own_lower.is_empty() {
                        rng.pick(own_lower.clone())
                    } else {
                        continue;
                    };
                    callees.push(Callee::Hot(Owner::Module(target), rng.below(HOT_PER_UNIT)));
                }
                for &c in &lib.crate_deps {
                    let at = rng.below(callees.len() + 1);
                    callees.insert(at, Callee::Hot(Owner::Crate(c), rng.below(HOT_PER_UNIT)));
                }
                modules.push(Module { lib: j, unit: unit(&mut rng, Owner::Module(g), &callees) });
            }
        }

        for (i, c) in crates.iter_mut().enumerate() {
            let dep_modules: Vec<usize> = c.lib_deps.iter().flat_map(|&d| libs[d].modules.clone()).collect();
            let mut callees: Vec<Callee> = (0..2 + rng.below(2))
                .map(|_| Callee::Hot(Owner::Module(dep_modules[rng.below(dep_modules.len())]), rng.below(HOT_PER_UNIT)))
                .collect();
            for &k in &c.crate_deps {
                let at = rng.below(callees.len() + 1);
                callees.insert(at, Callee::Hot(Owner::Crate(k), rng.below(HOT_PER_UNIT)));
            }
            c.unit = unit(&mut rng, Owner::Crate(i), &callees);
        }

        let main_seed = rng.u32();
        let work = (libs[..used].iter().map(|l| l.modules.len()).sum::<usize>() + m).max(1) as u64;
        let iterations =
            params.iterations.unwrap_or_else(|| (ITERATION_BUDGET / work).clamp(1, u32::MAX as u64) as u32);
        Program { params: params.clone(), libs, modules, crates, main_seed, iterations }
    }

    /// Libraries `main` calls (all but the unreferenced one).
    pub fn used_libs(&self) -> impl Iterator<Item = (usize, &Library)> {
        self.libs.iter().enumerate().filter(|(_, l)| l.used)
    }
}

/// Checks parameters before generating.
pub fn validate(params: &Params) -> Result<(), String> {
    if params.modules < 2 {
        return Err("--modules must be at least 2 (one library called by main, one nobody references)".into());
    }
    if params.iterations == Some(0) {
        return Err("--iterations must be at least 1".into());
    }
    let p = &params.package_prefix;
    if p.starts_with('/') || p.ends_with('/') || p.contains("//") || p.contains(':') {
        return Err(format!("--package-prefix '{p}' must be a package path like bench/gen/n1000 (no leading //)"));
    }
    if p.split('/').any(|s| s == "." || s == "..") {
        return Err(format!("--package-prefix '{p}' must not contain '.' or '..'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn params(modules: usize, crates: usize, seed: u64) -> Params {
        Params { modules, crates, seed, cpp_only: false, package_prefix: "bench/gen/t".into(), iterations: None }
    }

    fn called(stmts: &[Stmt], out: &mut Vec<Callee>) {
        fn expr(e: &Expr, out: &mut Vec<Callee>) {
            match e {
                Expr::Var(_) | Expr::Const(_) => {}
                Expr::Add(a, b) | Expr::Mul(a, b) | Expr::Xor(a, b) => {
                    expr(a, out);
                    expr(b, out);
                }
                Expr::Shr(a, _) | Expr::Rotl(a, _) => expr(a, out),
                Expr::Call(c, a) => {
                    out.push(*c);
                    expr(a, out);
                }
            }
        }
        for s in stmts {
            match s {
                Stmt::Set(e) => expr(e, out),
                Stmt::Loop(_, b) | Stmt::IfLow { then: b, .. } => called(b, out),
            }
        }
    }

    #[test]
    fn same_params_same_program() {
        for (n, m) in [(2, 0), (200, 4), (1000, 12)] {
            assert_eq!(Program::generate(&params(n, m, 7)), Program::generate(&params(n, m, 7)));
        }
        assert_ne!(Program::generate(&params(200, 4, 1)), Program::generate(&params(200, 4, 2)));
    }

    #[test]
    fn structure_is_a_layered_dag() {
        for (n, m) in [(2, 0), (2, 3), (19, 1), (200, 4), (1000, 12), (5000, 40)] {
            let p = Program::generate(&params(n, m, 3));
            assert_eq!(p.modules.len(), n);
            assert_eq!(p.crates.len(), m);
            let unused = p.libs.len() - 1;
            assert!(!p.libs[unused].used && p.libs[..unused].iter().all(|l| l.used));
            let mut next = 0;
            for (j, lib) in p.libs.iter().enumerate() {
                assert_eq!(lib.modules.start, next, "libraries hold consecutive modules");
                assert!(!lib.modules.is_empty());
                next = lib.modules.end;
                for &d in &lib.deps {
                    assert!(d < unused && p.libs[d].layer < lib.layer, "lib {j} -> lib {d}");
                }
                for &c in &lib.crate_deps {
                    assert!(p.crates[c].position <= j && j < unused, "lib {j} -> crate {c}");
                }
            }
            assert_eq!(next, n);
            for (i, c) in p.crates.iter().enumerate() {
                assert!(!c.lib_deps.is_empty());
                assert!(c.lib_deps.iter().all(|&d| d < c.position));
                assert!(c.crate_deps.iter().all(|&k| k < i));
            }
            // Every call goes to a unit the caller's target depends on (or to itself).
            for (g, module) in p.modules.iter().enumerate() {
                let lib = &p.libs[module.lib];
                let mut calls = Vec::new();
                called(&module.unit.run, &mut calls);
                for c in calls {
                    match c {
                        Callee::Hot(Owner::Module(t), _) => {
                            let tl = p.modules[t].lib;
                            assert!(lib.deps.contains(&tl) || (tl == module.lib && t <= g), "m{g} -> m{t}");
                        }
                        Callee::Hot(Owner::Crate(k), _) => assert!(lib.crate_deps.contains(&k)),
                        Callee::Cold(o, _) => assert_eq!(o, Owner::Module(g)),
                    }
                }
            }
            // Nothing references the unused library.
            let unused_mods = p.libs[unused].modules.clone();
            for (i, c) in p.crates.iter().enumerate() {
                let mut calls = Vec::new();
                called(&c.unit.run, &mut calls);
                for call in calls {
                    if let Callee::Hot(Owner::Module(t), _) = call {
                        assert!(!unused_mods.contains(&t));
                        assert!(c.lib_deps.contains(&p.modules[t].lib), "rs{i} -> m{t}");
                    }
                }
            }
        }
    }

    #[test]
    fn crates_are_called_both_ways() {
        let p = Program::generate(&params(200, 4, 1));
        assert!(p.crates.iter().any(|c| !c.crate_deps.is_empty()));
        assert!(p.libs.iter().any(|l| !l.crate_deps.is_empty()));
    }

    #[test]
    fn validation() {
        assert!(validate(&params(200, 4, 1)).is_ok());
        assert!(validate(&params(1, 0, 1)).is_err());
        for bad in ["/x", "x/", "//x", "a/../b", "x:y", "./x"] {
            assert!(validate(&Params { package_prefix: bad.into(), ..params(10, 0, 1) }).is_err(), "{bad}");
        }
        assert!(validate(&Params { package_prefix: String::new(), ..params(10, 0, 1) }).is_ok());
    }
}
