//! Benchmarks building the plan from a large thin link's outputs, without lld.
//!
//! ```text
//! cargo run --release --example plan_bench -- write --modules N --out DIR [--seed S]
//! cargo run --release --example plan_bench -- plan --exec-root DIR
//! ```
//!
//! `write` makes `DIR` an exec root holding what lld leaves in the thin
//! link's staging directory for a link of `N` bitcode modules, and the
//! manifest:
//!
//! * `manifest.json`: bitcode inputs `bazel-out/k8-opt/bin/pkgNNN/_objs/libNNN/modNNNNN.o`
//!   in about `N/10` packages (1 to 19 modules each), each declaring its
//!   outputs under `bazel-out/k8-opt/bin/app.lto/`; about a tenth of the
//!   packages linked as `start_lib` groups of which about a third of the
//!   members stay unloaded; plus a native object, an archive and a library flag.
//! * per module, under `stage/` (lld's `--thinlto-prefix-replace=;stage/`):
//!   `PATH.thinlto.bc` (200–700 bytes starting with the bitcode magic; the
//!   plan only checks that it is not empty) and `PATH.imports` (sorted,
//!   newline-terminated; empty for unloaded modules).
//! * `stage/index.list`: the loaded modules' staged paths, in command-line order.
//!
//! `plan` then does what `thinlto index` does after lld returns, and times
//! it: reads the manifest, builds and checks the plan, writes `plan.json`.
//!
//! Imports per loaded module: log-normal with a median of 18 (capped at 400),
//! half from nearby modules and half from anywhere, skewed towards popular
//! ones; `N/2000` (at least 3) modules import about 1,000; the first module,
//! `main`, imports `min(N - 1, 3000)`. Only loaded modules are imported.
//!
//! Everything is a function of `--modules` and `--seed` (a splitmix64
//! generator, no `rand`), so two runs write identical trees.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::collections::HashSet;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use thinlto::execpath::{ExecDir, ExecPath};
use thinlto::manifest::{
    Input, Library, Linker, Manifest, Module as BitcodeInput, ModuleOutputs, Native, StartLib, VERSION,
};

const BIN: &str = "bazel-out/k8-opt/bin";
const LTO: &str = "bazel-out/k8-opt/bin/app.lto";
const STAGE: &str = "stage";

#[derive(Debug, Parser)]
#[command(about = "Write a synthetic thin link's outputs, or build the plan from them, timed.")]
enum Cli {
    /// Write the fixture.
    Write {
        /// Number of bitcode modules.
        #[arg(long)]
        modules: usize,
        /// The exec root to write (created if missing; must be empty or absent).
        #[arg(long)]
        out: PathBuf,
        /// Seed of the generator.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Build the plan from a fixture and write `plan.json`, as `thinlto index` does after lld.
    Plan {
        #[arg(long)]
        exec_root: PathBuf,
    },
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, good enough for a fixture.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n); n > 0.
    fn below(&mut self, n: usize) -> usize {
        ((self.next() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

struct Module {
    /// Path below `BIN` (and below `LTO` for its thin link outputs).
    rest: String,
    lazy: bool,
    loaded: bool,
    owner: String,
}

fn main() -> Result<()> {
    match Cli::parse() {
        Cli::Write { modules, out, seed } => write_fixture(modules, &out, seed),
        Cli::Plan { exec_root } => {
            let started = std::time::Instant::now();
            let manifest = Manifest::read(&exec_root.join("manifest.json"))?;
            let list_file = exec_root.join(STAGE).join("index.list");
            let list = thinlto::linelist::read(&list_file)?;
            let plan = thinlto::plan::build(&manifest, &exec_root, &ExecDir::new(STAGE)?, &list_file, &list)?;
            let mut outputs = thinlto::atomic::OutputSet::new();
            outputs.add_with(&exec_root.join(LTO).join("plan.json"), |w| plan.write_json(w))?;
            outputs.commit()?;
            eprintln!("plan_bench: {} modules in {:.3} s", plan.modules.len(), started.elapsed().as_secs_f64());
            // As the helper does at exit: the process ends here, so do not free piece by piece.
            std::mem::forget((manifest, list, plan));
            Ok(())
        }
    }
}

fn write_fixture(n: usize, out: &Path, seed: u64) -> Result<()> {
    if n == 0 {
        bail!("--modules must be at least 1");
    }
    if out.exists() && fs::read_dir(out)?.next().is_some() {
        bail!("--out '{}' is not empty", out.display());
    }
    let mut rng = Rng(seed);

    // Packages of 1..=19 modules (mean 10); about a tenth are start_lib groups.
    let mut modules: Vec<Module> = Vec::with_capacity(n);
    let mut packages: Vec<(usize, usize, bool)> = Vec::new(); // (first module, count, lazy)
    let mut pkg = 0usize;
    while modules.len() < n {
        let count = (1 + rng.below(19)).min(n - modules.len());
        // The first package holds `main`: never lazy.
        let lazy = pkg > 0 && rng.below(10) == 0;
        let first = modules.len();
        for _ in 0..count {
            let id = modules.len();
            let loaded = !lazy || rng.below(3) != 0;
            modules.push(Module {
                rest: format!("pkg{pkg:03}/_objs/lib{pkg:03}/mod{id:05}.o"),
                lazy,
                loaded,
                owner: format!("//pkg{pkg:03}:lib{pkg:03}"),
            });
        }
        packages.push((first, count, lazy));
        pkg += 1;
    }

    let loaded: Vec<usize> = (0..n).filter(|&i| modules[i].loaded).collect();
    // Position of each module among the loaded ones (for "nearby" imports).
    let mut loaded_pos = vec![0usize; n];
    for (pos, &i) in loaded.iter().enumerate() {
        loaded_pos[i] = pos;
    }
    let heavy: HashSet<usize> = {
        let want = (n / 2000).max(3).min(loaded.len().saturating_sub(1));
        let mut s = HashSet::new();
        while s.len() < want {
            let i = loaded[1 + rng.below(loaded.len() - 1)];
            s.insert(i);
        }
        s
    };

    let root = out;
    let mut dirs_made: HashSet<String> = HashSet::new();
    let mut index_list = Vec::new();
    let mut total_imports = 0usize;
    let mut chosen: HashSet<usize> = HashSet::new();
    let mut buf = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        let obj = format!("{STAGE}/{BIN}/{}", m.rest);
        let dir = obj.rsplit_once('/').expect("has a directory").0;
        if dirs_made.insert(dir.to_string()) {
            fs::create_dir_all(root.join(dir)).with_context(|| format!("cannot create '{dir}'"))?;
        }

        // The index: non-empty; its bytes do not matter to `plan`.
        let len = 200 + rng.below(501);
        buf.clear();
        buf.extend_from_slice(b"BC\xC0\xDE");
        while buf.len() < len {
            buf.push((rng.next() & 0xFF) as u8);
        }
        write(&root.join(format!("{obj}.thinlto.bc")), &buf)?;

        // The imports.
        buf.clear();
        if m.loaded {
            index_list.extend_from_slice(obj.as_bytes());
            index_list.push(b'\n');
            let max = loaded.len() - 1;
            let want = if i == 0 {
                3000.min(max)
            } else if heavy.contains(&i) {
                (900 + rng.below(201)).min(max)
            } else {
                ((18.0 * (0.9 * rng.normal()).exp()) as usize).min(400).min(max)
            };
            chosen.clear();
            let me = loaded_pos[i];
            let mut attempts = 0usize;
            while chosen.len() < want {
                attempts += 1;
                let pos = if attempts > 50 * want || want * 2 > max {
                    rng.below(loaded.len())
                } else if rng.below(2) == 0 {
                    // Nearby on the command line: the same or neighbouring packages.
                    let d = 1 + rng.below(64);
                    if rng.below(2) == 0 {
                        me.saturating_sub(d)
                    } else {
                        (me + d).min(loaded.len() - 1)
                    }
                } else {
                    // Anywhere, skewed towards a popular few (base libraries).
                    let u = rng.unit();
                    ((u * u * u) * loaded.len() as f64) as usize
                };
                if pos != me {
                    chosen.insert(loaded[pos]);
                }
            }
            let mut paths: Vec<String> = chosen.iter().map(|&j| format!("{BIN}/{}", modules[j].rest)).collect();
            paths.sort_unstable();
            total_imports += paths.len();
            for p in &paths {
                buf.extend_from_slice(p.as_bytes());
                buf.push(b'\n');
            }
        }
        write(&root.join(format!("{obj}.imports")), &buf)?;
    }
    write(&root.join(format!("{STAGE}/index.list")), &index_list)?;

    // The manifest, in command-line order: main's package first, then a
    // native object, the other packages, Rust's std and a library flag.
    let path = |s: String| ExecPath::new(&s).expect("generated paths are valid");
    let bitcode = |m: &Module| {
        Input::Bitcode(BitcodeInput {
            path: path(format!("{BIN}/{}", m.rest)),
            thin_link: None,
            owner: Some(m.owner.clone()),
            outputs: ModuleOutputs {
                index: path(format!("{LTO}/{}.thinlto.bc", m.rest)),
                imports: path(format!("{LTO}/{}.imports", m.rest)),
                object: path(format!("{LTO}/{}", m.rest)),
                pack: Some(path(format!("{LTO}/{}.pack", m.rest))),
                plan: None,
            },
        })
    };
    let mut inputs = Vec::with_capacity(n + 4);
    for (k, &(first, count, lazy)) in packages.iter().enumerate() {
        let ms = &modules[first..first + count];
        if lazy {
            inputs.push(Input::StartLib(StartLib { members: ms.iter().map(bitcode).collect() }));
        } else {
            inputs.extend(ms.iter().map(bitcode));
        }
        if k == 0 {
            inputs.push(Input::Object(Native { path: path(format!("{BIN}/native/crt_shim.o")), owner: None }));
        }
    }
    inputs.push(Input::Archive(Native { path: path("external/rust_toolchain/lib/libstd.rlib".into()), owner: None }));
    inputs.push(Input::Library(Library { flag: "-lpthread".into() }));
    let manifest = Manifest {
        version: VERSION,
        output: path(format!("{BIN}/app")),
        linker: Linker {
            driver: "clang".into(),
            flags: vec!["-fuse-ld=lld".into(), "--target=x86_64-unknown-linux-gnu".into()],
            post_flags: vec![],
        },
        inputs,
        extracted_outputs: vec![],
    };
    let file = fs::File::create(root.join("manifest.json")).context("cannot create manifest.json")?;
    let mut w = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, &manifest)?;
    w.write_all(b"\n")?;
    w.flush()?;

    let lazy = modules.iter().filter(|m| m.lazy).count();
    eprintln!(
        "plan_bench: {} modules in {} packages ({} lazy, {} unloaded), {} imports, under '{}'",
        n,
        packages.len(),
        lazy,
        n - loaded.len(),
        total_imports,
        root.display()
    );
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    fs::write(path, bytes).with_context(|| format!("cannot write '{}'", path.display()))
}
