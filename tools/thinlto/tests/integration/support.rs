//! Shared fixtures: the toolchain, a scratch exec root, and running the helper.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const TARGET: &str = "x86_64-unknown-linux-gnu";

pub fn clang() -> String {
    std::env::var("THINLTO_CLANG").unwrap_or_else(|_| "clang-22".to_string())
}

pub fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A manifest entry for the bitcode module `obj/REST`: its files go to `lto/REST.*`
/// (the index, imports list and pack) and its backend object to `lto/REST`.
pub fn bitcode(path: &str) -> serde_json::Value {
    let rest = path.strip_prefix("obj/").expect("fixture modules live under obj/");
    serde_json::json!({"kind": "bitcode", "path": path, "outputs": {
        "index": format!("lto/{rest}.thinlto.bc"),
        "imports": format!("lto/{rest}.imports"),
        "object": format!("lto/{rest}"),
        "pack": format!("lto/{rest}.pack"),
    }})
}

/// A version-2 manifest linking `inputs` into `bin/prog` with clang and lld.
pub fn manifest(inputs: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "version": 2,
        "output": "bin/prog",
        "linker": {"driver": clang(), "flags": [format!("--target={TARGET}"), "-fuse-ld=lld"]},
        "inputs": inputs,
    })
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

/// The thin link of the manifest at `manifest` (relative to `root`): the plan at lto/plan.json,
/// the final link's param file at lto/final.params.
pub fn index(root: &Path, manifest: &str) {
    run(thinlto(root).args([
        "index",
        &format!("--manifest={manifest}"),
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
    ]));
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
        // The allocator shim's crates, compiled as rules/private/rust.bzl compiles them.
        c.env("RUSTC_BOOTSTRAP", "1").args(["-Zunstable-options", "-Csymbol-mangling-version=legacy", "-Zplt=yes"]);
    }
    run(&mut c);
}

/// The Rust std rlibs and system libraries a program links, as `tools/thinlto/rust_std.json` lists them.
pub struct RustStd {
    /// The sysroot's target libdir.
    pub libdir: PathBuf,
    /// The rlib file names in `libdir`, in link order, with the unwinding panic runtime.
    pub rlibs: Vec<String>,
    pub native_libs: Vec<String>,
}

pub fn rust_std() -> RustStd {
    let out = run(Command::new(rustc()).args(["--print", "target-libdir", "--target", TARGET]));
    let libdir = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
    let list: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo_root().join("tools/thinlto/rust_std.json")).unwrap()).unwrap();
    let strings = |key: &str| -> Vec<String> {
        list[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let names: Vec<String> =
        std::fs::read_dir(&libdir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    let mut rlibs = Vec::new();
    let panic_runtime = list["panic_runtimes"]["unwind"].as_str().unwrap().to_string();
    for krate in strings("crates").into_iter().chain([panic_runtime]) {
        let found: Vec<&String> =
            names.iter().filter(|n| n.starts_with(&format!("lib{krate}-")) && n.ends_with(".rlib")).collect();
        assert!(found.len() <= 1, "{} holds {found:?}", libdir.display());
        assert!(!found.is_empty() || !strings("required").contains(&krate), "{} has no lib{krate}", libdir.display());
        rlibs.extend(found.into_iter().cloned());
    }
    RustStd { libdir, rlibs, native_libs: strings("native_libs") }
}

/// Every function of `binary`, name -> its disassembly with what depends on layout removed,
/// as `tools/thinlto_inspect.py functions` normalizes it for every test of this project.
pub fn functions(binary: &Path) -> std::collections::HashMap<String, Vec<String>> {
    let out =
        run(Command::new("python3").arg(repo_root().join("tools/thinlto_inspect.py")).arg("functions").arg(binary));
    serde_json::from_slice(&out.stdout).expect("thinlto_inspect.py prints JSON")
}
