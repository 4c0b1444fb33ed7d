//! thinlto-gen: writes a deterministic synthetic C++/Rust Bazel program for benchmarking ThinLTO.
//!
//! The program: N C++ modules in ~N/10 layered `cc_library` packages (`libNNN/`), each module with
//! small hot functions called by modules of higher layers, and bigger cold ones; M `rust_library`
//! crates (`rsNN/`) calling C++ and called by it; one library nobody references; and `app`, a
//! `cc_binary` from `//rules:defs.bzl` that calls every module and crate in a loop and prints
//! `checksum: <u64>`. `--cpp-only` turns the crates into C++ libraries with the same functions (so
//! the checksum is the same) and adds `app_native`, Bazel's own `cc_binary` with the same deps.

mod eval;
mod model;
mod render;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use model::{Params, Program};

#[derive(Parser, Debug)]
#[command(name = "thinlto-gen", version, about = "Generates a deterministic synthetic mixed C++/Rust Bazel program.")]
struct Cli {
    /// C++ modules (.cc files), in ~N/10 libraries; the last library is referenced by nobody.
    #[arg(long, value_name = "N")]
    modules: usize,
    /// Rust crates (rust_library), calling C++ and called by it.
    #[arg(long, value_name = "M")]
    rust_crates: usize,
    /// Seed of every random choice.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// Output directory, inside the workspace. A directory generated earlier is replaced whole.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The Bazel package of DIR, e.g. bench/gen/n1000 (default: DIR, if it is a plain relative path).
    #[arg(long, value_name = "PKG")]
    package_prefix: Option<String>,
    /// No Rust: the crates become C++ libraries, and `app_native` (Bazel's cc_binary) is added.
    #[arg(long)]
    cpp_only: bool,
    /// Iterations of `app` without arguments [default: about 1 s at N=1000 under --config=thinlto].
    #[arg(long, value_name = "K")]
    iterations: Option<u32>,
    /// Also print the line `app` prints: run without arguments, or as `app K` if K is given.
    #[arg(long, value_name = "K", num_args = 0..=1, default_missing_value = "0")]
    expect: Option<u32>,
}

fn default_prefix(out: &Path) -> Result<String, String> {
    let mut parts = Vec::new();
    for c in out.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str().ok_or("--out is not UTF-8")?.to_string()),
            Component::CurDir if parts.is_empty() => {}
            _ => {
                return Err(format!(
                    "cannot tell the Bazel package of --out '{}': give --package-prefix",
                    out.display()
                ))
            }
        }
    }
    Ok(parts.join("/"))
}

fn write_tree(out: &Path, files: &BTreeMap<String, String>) -> Result<(), String> {
    let err = |what: &str, p: &Path, e: std::io::Error| format!("cannot {what} {}: {e}", p.display());
    if out.join(render::MARKER).is_file() {
        fs::remove_dir_all(out).map_err(|e| err("remove", out, e))?;
    } else if out.exists() {
        let mut entries = fs::read_dir(out).map_err(|e| err("read", out, e))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} exists, is not empty and was not written by thinlto-gen (no {})",
                out.display(),
                render::MARKER
            ));
        }
    }
    for (rel, text) in files {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| err("create", dir, e))?;
        }
        fs::write(&path, text).map_err(|e| err("write", &path, e))?;
    }
    Ok(())
}

fn run(cli: Cli) -> Result<(), String> {
    let package_prefix = match cli.package_prefix {
        Some(p) => p,
        None => default_prefix(&cli.out)?,
    };
    let params = Params {
        modules: cli.modules,
        crates: cli.rust_crates,
        seed: cli.seed,
        cpp_only: cli.cpp_only,
        package_prefix,
        iterations: cli.iterations,
    };
    model::validate(&params)?;
    let program = Program::generate(&params);
    let files = render::files(&program);
    write_tree(&cli.out, &files)?;
    println!(
        "thinlto-gen: wrote {} files to {} (package //{}): {} modules in {} libraries, {} crates, {} iterations",
        files.len(),
        cli.out.display(),
        params.package_prefix,
        program.modules.len(),
        program.libs.len(),
        program.crates.len(),
        program.iterations
    );
    if let Some(k) = cli.expect {
        let (argc, iterations) = if k == 0 { (1, program.iterations) } else { (2, k) };
        println!("checksum: {}", program.checksum(argc, iterations));
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("thinlto-gen: error: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_from_out() {
        assert_eq!(default_prefix(Path::new("bench/gen/n200")).unwrap(), "bench/gen/n200");
        assert_eq!(default_prefix(Path::new("./bench/gen/n200/")).unwrap(), "bench/gen/n200");
        assert!(default_prefix(Path::new("/work/main/bench")).is_err());
        assert!(default_prefix(Path::new("../x")).is_err());
    }

    #[test]
    fn cli_parses() {
        let cli = Cli::try_parse_from([
            "thinlto-gen",
            "--modules",
            "200",
            "--rust-crates",
            "4",
            "--seed",
            "9",
            "--out",
            "d",
            "--cpp-only",
            "--expect",
        ])
        .unwrap();
        assert_eq!((cli.modules, cli.rust_crates, cli.seed, cli.cpp_only, cli.expect), (200, 4, 9, true, Some(0)));
    }

    #[test]
    fn checksum_is_the_same_in_both_modes_and_depends_on_argc() {
        let params = |cpp_only| Params {
            modules: 60,
            crates: 3,
            seed: 5,
            cpp_only,
            package_prefix: "g".into(),
            iterations: None,
        };
        let mixed = Program::generate(&params(false));
        let cpp = Program::generate(&params(true));
        assert_eq!(mixed.checksum(2, 3), cpp.checksum(2, 3));
        assert_ne!(mixed.checksum(1, 3), mixed.checksum(2, 3));
        assert_ne!(mixed.checksum(2, 3), mixed.checksum(2, 4));
    }

    #[test]
    fn replaces_only_generated_directories() {
        let dir = std::env::temp_dir().join(format!("thinlto-gen-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut files = BTreeMap::new();
        files.insert(render::MARKER.to_string(), "x\n".to_string());
        files.insert("a/BUILD.bazel".to_string(), "# a\n".to_string());
        write_tree(&dir, &files).unwrap();
        fs::write(dir.join("stale.txt"), "old").unwrap();
        files.remove("a/BUILD.bazel");
        write_tree(&dir, &files).unwrap();
        assert!(!dir.join("stale.txt").exists() && !dir.join("a").exists());
        fs::remove_file(dir.join(render::MARKER)).unwrap();
        fs::write(dir.join("user.txt"), "mine").unwrap();
        assert!(write_tree(&dir, &files).is_err());
        assert!(dir.join("user.txt").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
