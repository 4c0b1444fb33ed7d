//! Bad input, case by case: each fails with exit 1, a message naming the
//! file and the reason, and leaves no output behind.

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use thinlto::digest::Digest;

/// A two-module C++ program (main imports helper), thin-linked.
pub(crate) fn indexed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("src/main.cpp"),
        "extern \"C\" int cpp_square(int);\nint main(int argc, char**) { return cpp_square(argc) - 1; }\n",
    );
    write(&root.join("src/helper.cpp"), "extern \"C\" int cpp_square(int x) { return x * x; }\n");
    compile_cpp(root, "src/main.cpp", "obj/main.o");
    compile_cpp(root, "src/helper.cpp", "obj/helper.o");
    write_manifest(root, json!([bitcode("obj/main.o"), bitcode("obj/helper.o")]));
    run(&mut index(root));
    assert_eq!(std::fs::read_to_string(root.join("lto/main.o.imports")).unwrap(), "obj/helper.o\n");
    dir
}

pub(crate) fn write_manifest(root: &Path, inputs: serde_json::Value) {
    write(&root.join("manifest.json"), serde_json::to_vec(&manifest(inputs)).unwrap());
}

pub(crate) fn index(root: &Path) -> Command {
    let mut c = thinlto(root);
    c.args(["index", "--manifest=manifest.json", "--plan=lto/plan.json", "--final-link-params=lto/final.params"]);
    c
}

fn backend(root: &Path) -> Command {
    backend_with(root, &[&clang(), "-O2"])
}

/// The backend of main.o with `compiler` (a compiler and its flags).
fn backend_with(root: &Path, compiler: &[&str]) -> Command {
    backend_cmd(root, &[], compiler)
}

/// The backend of main.o with extra helper flags `opts` and `compiler`.
pub(crate) fn backend_cmd(root: &Path, opts: &[&str], compiler: &[&str]) -> Command {
    let mut c = thinlto(root);
    c.args([
        "backend",
        "--module=obj/main.o",
        "--index=lto/main.o.thinlto.bc",
        "--imports=lto/main.o.imports",
        "--out=lto/main.o",
    ]);
    c.args(opts).arg("--").args(compiler);
    c
}

/// The backend fails with `expected` in its message and writes no object
/// (nor leaves its work directory).
fn backend_fails(root: &Path, expected: &str) {
    let stderr = thinlto_fails(&mut backend(root));
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    let left: Vec<String> = files_below(&root.join("lto"))
        .into_iter()
        .filter(|f| f.starts_with("main.o") || f.contains(".thinlto-"))
        .collect();
    assert_eq!(left, ["main.o.imports", "main.o.pack", "main.o.thinlto.bc"], "outputs left behind");
}

#[test]
fn backend_succeeds_on_good_input() {
    let dir = indexed();
    run(&mut backend(dir.path()));
    assert!(std::fs::metadata(dir.path().join("lto/main.o")).unwrap().len() > 0);
}

/// A compiler named by its exec-root-relative path (a toolchain's label tool) runs even
/// where clang runs in the work directory (the pack's copies, as in a sandbox).
#[test]
fn backend_runs_a_compiler_given_relative_to_the_exec_root() {
    let dir = indexed();
    let root = dir.path();
    let found = Command::new("sh").args(["-c", &format!("command -v {}", clang())]).output().unwrap();
    let clang_path = std::fs::canonicalize(String::from_utf8(found.stdout).unwrap().trim()).unwrap();
    std::fs::create_dir_all(root.join("toolchain/bin")).unwrap();
    std::os::unix::fs::symlink(clang_path, root.join("toolchain/bin/clang")).unwrap();
    std::fs::remove_file(root.join("obj/helper.o")).unwrap();
    run(&mut backend_cmd(root, &["--import-pack=lto/main.o.pack"], &["toolchain/bin/clang", "-O2"]));
    assert!(std::fs::metadata(root.join("lto/main.o")).unwrap().len() > 0);
}

/// The same backend with its imports from the pack `index` wrote, as Bazel runs it.
pub(crate) fn backend_from_pack(root: &Path) -> Command {
    backend_cmd(root, &["--import-pack=lto/main.o.pack"], &[&clang(), "-O2"])
}

#[test]
fn index_packs_exactly_the_imports_and_the_backend_uses_them() {
    let dir = indexed();
    let root = dir.path();
    run(&mut backend(root));
    let staged = std::fs::read(root.join("lto/main.o")).unwrap();
    std::fs::remove_file(root.join("lto/main.o")).unwrap();

    let helper = std::fs::read(root.join("obj/helper.o")).unwrap();
    let sha = |p: &str| Digest::of(&std::fs::read(root.join(p)).unwrap());
    let mut expected = format!(
        "thinlto-pack 2\n{} obj/main.o\n{} {} obj/helper.o\n\n",
        sha("obj/main.o"),
        helper.len(),
        sha("obj/helper.o")
    )
    .into_bytes();
    expected.extend_from_slice(&helper);
    assert!(std::fs::read(root.join("lto/main.o.pack")).unwrap() == expected, "main's pack is not exactly helper.o");
    let helper_pack = format!("thinlto-pack 2\n{} obj/helper.o\n\n", sha("obj/helper.o"));
    assert_eq!(std::fs::read(root.join("lto/helper.o.pack")).unwrap(), helper_pack.as_bytes());

    // The exec root holds the imports as packed: clang reads them in place.
    run(&mut backend_from_pack(root));
    assert!(staged == std::fs::read(root.join("lto/main.o")).unwrap(), "objects differ (imports in place)");
    // A stale copy in the exec root is not used: the pack's bytes are.
    let helper = std::fs::read(root.join("obj/helper.o")).unwrap();
    write(&root.join("obj/helper.o"), b"BC\xC0\xDEstale bitcode that is not a module");
    run(&mut backend_from_pack(root));
    assert!(staged == std::fs::read(root.join("lto/main.o")).unwrap(), "objects differ (stale import in exec root)");
    // And none at all (a sandbox or a remote worker): the pack alone.
    std::fs::remove_file(root.join("obj/helper.o")).unwrap();
    run(&mut backend_from_pack(root));
    assert!(staged == std::fs::read(root.join("lto/main.o")).unwrap(), "objects differ (import only in the pack)");
    write(&root.join("obj/helper.o"), &helper);
    let left: Vec<String> = files_below(&root.join("lto")).into_iter().filter(|f| f.contains(".thinlto-")).collect();
    assert!(left.is_empty(), "work files left behind: {left:?}");
}

#[test]
fn backend_rejects_a_pack_that_does_not_match_its_imports() {
    let dir = indexed();
    let root = dir.path();
    let expect_failure = |expected: &str| {
        let stderr = thinlto_fails(&mut backend_from_pack(root));
        assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
        let left: Vec<String> = files_below(&root.join("lto"))
            .into_iter()
            .filter(|f| f.starts_with("main.o") && f != "main.o.pack" || f.contains(".thinlto-"))
            .collect();
        assert_eq!(left, ["main.o.imports", "main.o.thinlto.bc"], "outputs left behind");
    };

    let good = std::fs::read(root.join("lto/main.o.pack")).unwrap();
    write(&root.join("lto/main.o.pack"), &good[..good.len() - 1]);
    expect_failure("pack 'lto/main.o.pack' is truncated: its header promises");

    write(&root.join("lto/main.o.pack"), b"thinlto-pack 1\n\n");
    expect_failure(
        "imported file 'obj/helper.o' (listed in 'lto/main.o.imports' line 1) is missing from pack 'lto/main.o.pack'",
    );

    let helper = std::fs::read(root.join("obj/helper.o")).unwrap();
    let mut extra = format!("thinlto-pack 1\n{} obj/helper.o\n1 obj/zzz.o\n\n", helper.len()).into_bytes();
    extra.extend_from_slice(&helper);
    extra.push(b'Z');
    write(&root.join("lto/main.o.pack"), &extra);
    expect_failure("holds 'obj/zzz.o', which imports list 'lto/main.o.imports' does not name");

    write(&root.join("lto/main.o.pack"), b"thinlto-pack 1\n1 ../escape.o\n\nX");
    expect_failure("pack 'lto/main.o.pack' header line 2: path '../escape.o' escapes the exec root");

    std::fs::remove_file(root.join("lto/main.o.pack")).unwrap();
    expect_failure("cannot read pack 'lto/main.o.pack'");
}

#[test]
fn timings_are_appended_only_when_asked() {
    let dir = indexed();
    run(&mut backend(dir.path()));
    let timings = dir.path().join("timings.jsonl");
    assert!(!timings.exists());
    std::fs::remove_file(dir.path().join("lto/main.o")).unwrap();
    run(backend(dir.path()).env("THINLTO_TIMINGS", &timings));
    run(backend(dir.path()).env("THINLTO_TIMINGS", &timings));
    let text = std::fs::read_to_string(&timings).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in lines {
        assert_eq!(l["command"], "backend");
        let (total, tools) = (l["total_s"].as_f64().unwrap(), l["tools_s"].as_f64().unwrap());
        assert!(tools > 0.0 && tools <= total, "{l}");
    }
}

#[test]
fn imports_with_absolute_path() {
    let dir = indexed();
    let abs = dir.path().join("obj/helper.o");
    write(&dir.path().join("lto/main.o.imports"), format!("{}\n", abs.display()));
    backend_fails(dir.path(), &format!("'lto/main.o.imports' line 1: absolute path '{}'", abs.display()));
}

#[test]
fn imports_escaping_the_exec_root() {
    let dir = indexed();
    write(&dir.path().join("lto/main.o.imports"), "obj/../../helper.o\n");
    backend_fails(dir.path(), "'lto/main.o.imports' line 1: path 'obj/../../helper.o' escapes the exec root");
}

#[test]
fn imports_with_crlf_line_ends() {
    let dir = indexed();
    write(&dir.path().join("lto/main.o.imports"), "obj/helper.o\r\n");
    backend_fails(dir.path(), "'lto/main.o.imports' line 1: carriage return");
}

#[test]
fn imports_not_utf8() {
    let dir = indexed();
    write(&dir.path().join("lto/main.o.imports"), b"obj/\xffhelper.o\n");
    backend_fails(dir.path(), "'lto/main.o.imports' line 1: not valid UTF-8");
}

#[test]
fn missing_imported_file() {
    let dir = indexed();
    std::fs::remove_file(dir.path().join("obj/helper.o")).unwrap();
    backend_fails(dir.path(), "imported file 'obj/helper.o' (listed in 'lto/main.o.imports' line 1) is missing");
}

#[test]
fn corrupt_imported_bitcode_is_caught_although_clang_exits_0() {
    // clang prints "Error running ThinLTO backend" and exits 0 with an empty object (llvm#75441).
    let dir = indexed();
    write(&dir.path().join("obj/helper.o"), b"BC\xC0\xDEgarbage that is not a module");
    backend_fails(dir.path(), "printed an error but exited 0 (llvm#75441)");
}

#[test]
fn truncated_module_bitcode() {
    let dir = indexed();
    let bytes = std::fs::read(dir.path().join("obj/main.o")).unwrap();
    write(&dir.path().join("obj/main.o"), &bytes[..bytes.len() / 2]);
    backend_fails(dir.path(), "backend for 'obj/main.o'");
}

#[test]
fn empty_index() {
    let dir = indexed();
    write(&dir.path().join("lto/main.o.thinlto.bc"), b"");
    backend_fails(dir.path(), "index 'lto/main.o.thinlto.bc' of module 'obj/main.o' is empty");
}

#[test]
fn missing_index() {
    let dir = indexed();
    std::fs::remove_file(dir.path().join("lto/main.o.thinlto.bc")).unwrap();
    let stderr = thinlto_fails(&mut backend(dir.path()));
    assert!(stderr.contains("cannot read index 'lto/main.o.thinlto.bc'"), "{stderr}");
    assert!(!dir.path().join("lto/main.o").exists());
}

#[test]
fn backend_without_optimisation_level() {
    let dir = indexed();
    let stderr = thinlto_fails(&mut backend_with(dir.path(), &[&clang()]));
    assert!(stderr.contains("no -O level"), "{stderr}");
}

/// Index fails with `expected` and leaves no output and no staging directory.
fn index_fails(root: &Path, expected: &str) {
    std::fs::remove_dir_all(root.join("lto")).ok();
    let stderr = thinlto_fails(&mut index(root));
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    let left = if root.join("lto").exists() { files_below(&root.join("lto")) } else { vec![] };
    assert!(left.is_empty(), "outputs (or the staging directory) left behind: {left:?}");
}

#[test]
fn manifest_with_unknown_field_or_wrong_type() {
    let dir = indexed();
    let root = dir.path();
    let text = std::fs::read_to_string(root.join("manifest.json")).unwrap();
    write(
        &root.join("manifest.json"),
        text.replacen("{\"inputs\"", "{\"surprise\":1,\"inputs\"", 1).replacen(
            "\"version\":2",
            "\"version\":2,\"surprise\":1",
            1,
        ),
    );
    index_fails(root, "invalid manifest 'manifest.json': unknown field `surprise`");
    write(&root.join("manifest.json"), text.replacen("\"version\":2", "\"version\":[2]", 1));
    index_fails(root, "invalid manifest 'manifest.json': invalid type");
}

#[test]
fn missing_bitcode_input() {
    let dir = indexed();
    std::fs::remove_file(dir.path().join("obj/helper.o")).unwrap();
    index_fails(dir.path(), "bitcode input 'obj/helper.o' does not exist");
}

#[test]
fn archive_holding_bitcode() {
    // lld names such modules "lib.a(m.o at N)", which no backend can open.
    let dir = indexed();
    let root = dir.path();
    run(Command::new("llvm-ar-22").current_dir(root).args(["rc", "obj/libhelper.a", "obj/helper.o"]));
    write_manifest(root, json!([bitcode("obj/main.o"), {"kind": "archive", "path": "obj/libhelper.a"}]));
    index_fails(root, "is a member of an archive that holds bitcode");
}

#[test]
fn bitcode_given_as_a_native_object() {
    // What a rule that forgets to say its object is bitcode gives the thin link.
    let dir = indexed();
    write_manifest(dir.path(), json!([bitcode("obj/main.o"), {"kind": "object", "path": "obj/helper.o"}]));
    index_fails(dir.path(), "'obj/helper.o' is LLVM bitcode, but the manifest gives it as a native object");
}

#[test]
fn thin_link_failure_leaves_nothing() {
    let dir = indexed();
    write(&dir.path().join("obj/helper.o"), b"BC\xC0\xDEcorrupt");
    index_fails(dir.path(), "thin link failed");
}

/// A stand-in for clang (a test double: no real clang writes an empty object with a clean
/// stderr on demand) that exits 0 after writing an empty `-o` file, as llvm#75441 does.
fn fake_compiler_writing_empty_object(root: &Path) -> String {
    let script = root.join("fake-clang-empty-object.sh");
    write(&script, "#!/bin/sh\nwhile [ \"$1\" != -o ]; do shift; done\n: > \"$2\"\nexit 0\n");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    script.to_string_lossy().into_owned()
}

#[test]
fn empty_object_with_clean_stderr_from_fake_compiler() {
    let dir = indexed();
    let fake = fake_compiler_writing_empty_object(dir.path());
    let stderr = thinlto_fails(&mut backend_with(dir.path(), &[&fake, "-O2"]));
    assert!(stderr.contains("exited 0 but wrote an empty object (llvm#75441"), "{stderr}");
    assert!(!dir.path().join("lto/main.o").exists());
}

#[test]
fn index_writes_one_plan_per_module_where_declared() {
    let dir = indexed();
    let root = dir.path();
    let mut main = bitcode("obj/main.o");
    main["outputs"]["plan"] = json!("lto/main.o.plan.json");
    write_manifest(root, json!([main, bitcode("obj/helper.o")]));
    run(&mut index(root));
    let own: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("lto/main.o.plan.json")).unwrap()).unwrap();
    let sha = |p: &str| Digest::of(&std::fs::read(root.join(p)).unwrap()).to_string();
    let digests = json!({"obj/main.o": sha("obj/main.o"), "obj/helper.o": sha("obj/helper.o")});
    assert_eq!(own, json!({"version": 2, "module": "obj/main.o", "loaded": true, "imports": [1], "digests": digests}));
    assert!(!root.join("lto/helper.o.plan.json").exists(), "a plan nobody declared was written");
}

#[test]
fn index_moves_every_file_to_where_the_manifest_declares_it() {
    let dir = indexed();
    let root = dir.path();
    let mut helper = bitcode("obj/helper.o");
    helper["outputs"] = json!({"index": "elsewhere/h.idx", "imports": "x/y/h.imports", "object": "o/h.o"});
    write_manifest(root, json!([bitcode("obj/main.o"), helper]));
    std::fs::remove_dir_all(root.join("lto")).unwrap();
    run(&mut index(root));
    let mut all = files_below(root);
    all.retain(|f| !f.starts_with("src/") && !f.starts_with("obj/") && f != "manifest.json");
    assert_eq!(
        all,
        [
            "elsewhere/h.idx",
            "lto/final.params",
            "lto/main.o.imports",
            "lto/main.o.pack",
            "lto/main.o.thinlto.bc",
            "lto/plan.json",
            "x/y/h.imports"
        ]
    );
    let params = std::fs::read_to_string(root.join("lto/final.params")).unwrap();
    assert!(params.contains("lto/main.o\no/h.o\n"), "{params}");
}
