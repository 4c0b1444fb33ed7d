//! Shared fixtures: the toolchain, a scratch exec root, and running the helper.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const TARGET: &str = "x86_64-unknown-linux-gnu";

pub fn clang() -> String {
    std::env::var("THINLTO_CLANG").unwrap_or_else(|_| "clang-22".to_string())
}

pub fn objdump() -> String {
    std::env::var("THINLTO_OBJDUMP").unwrap_or_else(|_| "llvm-objdump-22".to_string())
}

pub fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs a command, panicking with its output if it fails.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `thinlto` binary under test, run in `root`.
pub fn thinlto(root: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_thinlto"));
    c.current_dir(root);
    c
}

/// Runs `thinlto` expecting failure; returns its stderr.
pub fn thinlto_fails(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "expected exit 1 from {cmd:?}; stderr:\n{stderr}");
    stderr
}

pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Every file below `dir`, relative, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_type().is_dir())
        .map(|e| e.path().strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Compiles a C++ file to ThinLTO bitcode plus its minimized thin-link file.
pub fn compile_cpp(root: &Path, src: &str, obj: &str) {
    let indexing = obj.strip_suffix(".o").unwrap().to_string() + ".indexing.o";
    std::fs::create_dir_all(root.join(obj).parent().unwrap()).unwrap();
    run(Command::new(clang())
        .current_dir(root)
        .args([&format!("--target={TARGET}"), "-O2", "-flto=thin", "-c", src, "-o", obj])
        .arg(format!("-fthin-link-bitcode={indexing}")));
}

/// Compiles a Rust crate to one bitcode object.
pub fn compile_rust(root: &Path, src: &str, crate_name: &str, obj: &str, bootstrap: bool) {
    std::fs::create_dir_all(root.join(obj).parent().unwrap()).unwrap();
    let mut c = Command::new(rustc());
    c.current_dir(root).args([
        "--edition=2021",
        "--crate-type=rlib",
        "--target",
        TARGET,
        "-Clinker-plugin-lto",
        "-Copt-level=2",
        "-Ccodegen-units=1",
        "--crate-name",
        crate_name,
        &format!("--emit=obj={obj}"),
        src,
    ]);
    if bootstrap {
        c.env("RUSTC_BOOTSTRAP", "1").args(["-Zunstable-options", "-Csymbol-mangling-version=legacy", "-Cpanic=abort"]);
    }
    run(&mut c);
}

/// The Rust sysroot's target libdir and its std rlibs, in link order.
pub fn std_rlibs() -> (PathBuf, Vec<String>) {
    let out = run(Command::new(rustc()).args(["--print", "target-libdir", "--target", TARGET]));
    let dir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let names = thinlto::rust_std::find_rlibs(&dir).unwrap();
    (dir, names)
}

/// The disassembly of one function with what depends on layout removed:
/// addresses, RIP-relative offsets, and objdump's comments naming the
/// nearest symbol of a data address.
pub fn disassemble(binary: &Path, symbol: &str) -> Vec<String> {
    let out = run(Command::new(objdump())
        .args(["-d", "--no-show-raw-insn", "--no-leading-addr", &format!("--disassemble-symbols={symbol}")])
        .arg(binary));
    let text = String::from_utf8(out.stdout).unwrap();
    let comment = regex::Regex::new(r"\s+# .*$").unwrap();
    let hex = regex::Regex::new(r"-?0x[0-9a-f]+|\b[0-9a-f]{4,}\b").unwrap();
    text.lines()
        .skip_while(|l| !l.contains(&format!("<{symbol}>:")))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| hex.replace_all(&comment.replace(l.trim(), ""), "#").into_owned())
        .filter(|l| !l.starts_with("int3") && !l.starts_with("nop"))
        .collect()
}
