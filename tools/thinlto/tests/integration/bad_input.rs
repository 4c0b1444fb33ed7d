//! Bad input, case by case: each fails with exit 1, a message naming the
//! file and the reason, and leaves no output behind.

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;

/// A two-module C++ program (main imports helper), thin-linked.
fn indexed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("src/main.cpp"),
        "extern \"C\" int cpp_square(int);\nint main(int argc, char**) { return cpp_square(argc) - 1; }\n",
    );
    write(&root.join("src/helper.cpp"), "extern \"C\" int cpp_square(int x) { return x * x; }\n");
    compile_cpp(root, "src/main.cpp", "obj/main.o");
    compile_cpp(root, "src/helper.cpp", "obj/helper.o");
    write_manifest(
        root,
        json!([
            {"kind": "bitcode", "path": "obj/main.o"},
            {"kind": "bitcode", "path": "obj/helper.o"}
        ]),
    );
    run(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--index-list=lto/index.list",
    ]));
    assert_eq!(std::fs::read_to_string(root.join("lto/main.o.imports")).unwrap(), "obj/helper.o\n");
    dir
}

fn write_manifest(root: &Path, inputs: serde_json::Value) {
    let m = json!({
        "version": 1,
        "output": "bin/prog",
        "linker": {"driver": clang(), "flags": [format!("--target={TARGET}"), "-fuse-ld=lld"]},
        "prefix_replace": {"old": "obj", "new": "lto"},
        "inputs": inputs,
    });
    write(&root.join("manifest.json"), serde_json::to_vec(&m).unwrap());
}

fn backend(root: &Path) -> Command {
    backend_with(root, &[&clang(), "-O2"])
}

/// The backend of main.o with `compiler` (a compiler and its flags).
fn backend_with(root: &Path, compiler: &[&str]) -> Command {
    backend_cmd(root, &[], compiler)
}

/// The backend of main.o with extra helper flags `opts` and `compiler`.
fn backend_cmd(root: &Path, opts: &[&str], compiler: &[&str]) -> Command {
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
    assert_eq!(left, ["main.o.imports", "main.o.thinlto.bc"], "outputs left behind");
}

#[test]
fn backend_succeeds_on_good_input() {
    let dir = indexed();
    run(&mut backend(dir.path()));
    assert!(std::fs::metadata(dir.path().join("lto/main.o")).unwrap().len() > 0);
}

/// The same backend run in the exec root (`--in-exec-root`), as Bazel's all_bitcode mode does.
fn backend_in_exec_root(root: &Path, compiler: &[&str]) -> Command {
    backend_cmd(root, &["--in-exec-root"], compiler)
}

#[test]
fn backend_in_exec_root_writes_the_same_object() {
    let dir = indexed();
    run(&mut backend(dir.path()));
    let staged = std::fs::read(dir.path().join("lto/main.o")).unwrap();
    std::fs::remove_file(dir.path().join("lto/main.o")).unwrap();
    run(&mut backend_in_exec_root(dir.path(), &[&clang(), "-O2"]));
    assert!(staged == std::fs::read(dir.path().join("lto/main.o")).unwrap(), "objects differ");
    let left: Vec<String> =
        files_below(&dir.path().join("lto")).into_iter().filter(|f| f.contains(".thinlto-")).collect();
    assert!(left.is_empty(), "work files left behind: {left:?}");
}

#[test]
fn backend_in_exec_root_still_checks_imports_and_output() {
    let dir = indexed();
    let fake = fake_compiler_writing_empty_object(dir.path());
    let stderr = thinlto_fails(&mut backend_in_exec_root(dir.path(), &[&fake, "-O2"]));
    assert!(stderr.contains("exited 0 but wrote an empty object (llvm#75441"), "{stderr}");
    assert!(!dir.path().join("lto/main.o").exists());

    write(&dir.path().join("obj/helper.o"), b"BC\xC0\xDEgarbage that is not a module");
    let stderr = thinlto_fails(&mut backend_in_exec_root(dir.path(), &[&clang(), "-O2"]));
    assert!(stderr.contains("printed an error but exited 0 (llvm#75441)"), "{stderr}");

    std::fs::remove_file(dir.path().join("obj/helper.o")).unwrap();
    let stderr = thinlto_fails(&mut backend_in_exec_root(dir.path(), &[&clang(), "-O2"]));
    assert!(
        stderr.contains("imported file 'obj/helper.o' (listed in 'lto/main.o.imports' line 1) is missing"),
        "{stderr}"
    );
    let left: Vec<String> = files_below(&dir.path().join("lto"))
        .into_iter()
        .filter(|f| f.starts_with("main.o") || f.contains(".thinlto-"))
        .collect();
    assert_eq!(left, ["main.o.imports", "main.o.thinlto.bc"], "outputs left behind");
}

/// The same backend with its imports from the pack `index --packs` wrote, as Bazel's default mode runs it.
fn backend_from_pack(root: &Path) -> Command {
    backend_cmd(root, &["--import-pack=lto/main.o.pack"], &[&clang(), "-O2"])
}

fn index_with_packs(root: &Path) {
    run(thinlto(root).args(["index", "--manifest=manifest.json", "--plan=lto/plan.json", "--packs"]));
}

#[test]
fn index_packs_exactly_the_imports_and_the_backend_uses_them() {
    let dir = indexed();
    let root = dir.path();
    run(&mut backend(root));
    let staged = std::fs::read(root.join("lto/main.o")).unwrap();
    std::fs::remove_file(root.join("lto/main.o")).unwrap();

    index_with_packs(root);
    let helper = std::fs::read(root.join("obj/helper.o")).unwrap();
    let mut expected = format!("thinlto-pack 1\n{} obj/helper.o\n\n", helper.len()).into_bytes();
    expected.extend_from_slice(&helper);
    assert!(std::fs::read(root.join("lto/main.o.pack")).unwrap() == expected, "main's pack is not exactly helper.o");
    assert_eq!(std::fs::read(root.join("lto/helper.o.pack")).unwrap(), b"thinlto-pack 1\n\n");

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
    index_with_packs(root);
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

fn plan_fails(root: &Path, expected: &str) {
    let stderr = thinlto_fails(thinlto(root).args([
        "plan",
        "--manifest=manifest.json",
        "--index-list=lto/index.list",
        "--out=lto/plan2.json",
    ]));
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    assert!(!root.join("lto/plan2.json").exists(), "plan written despite the error");
}

#[test]
fn plan_rejects_import_that_is_not_a_manifest_input() {
    let dir = indexed();
    write(&dir.path().join("lto/main.o.imports"), "obj/elsewhere.o\n");
    plan_fails(dir.path(), "'lto/main.o.imports' line 1: 'obj/elsewhere.o' is not a bitcode module of the manifest");
}

#[test]
fn plan_rejects_missing_and_empty_index() {
    let dir = indexed();
    write(&dir.path().join("lto/helper.o.thinlto.bc"), b"");
    plan_fails(dir.path(), "index 'lto/helper.o.thinlto.bc' of bitcode module 'obj/helper.o' is empty");
    std::fs::remove_file(dir.path().join("lto/helper.o.thinlto.bc")).unwrap();
    plan_fails(dir.path(), "wrote no index 'lto/helper.o.thinlto.bc'");
}

#[test]
fn plan_rejects_archive_members_in_index_list() {
    let dir = indexed();
    write(&dir.path().join("lto/index.list"), "lto/main.o\nlto/libx.a(helper.o at 120)\n");
    plan_fails(dir.path(), "split such archives with `thinlto extract`");
}

#[test]
fn plan_succeeds_and_writes_backend_params() {
    let dir = indexed();
    run(thinlto(dir.path()).args([
        "plan",
        "--manifest=manifest.json",
        "--index-list=lto/index.list",
        "--out=lto/plan2.json",
        "--backend-params",
    ]));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("lto/main.o.inputs")).unwrap(),
        "obj/main.o\nlto/main.o.thinlto.bc\nobj/helper.o\n"
    );
}

/// Index fails with `expected` and leaves no output and no staging directory.
fn index_fails(root: &Path, expected: &str) {
    std::fs::remove_dir_all(root.join("lto")).ok();
    let stderr = thinlto_fails(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
        "--index-list=lto/index.list",
    ]));
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    let left = if root.join("lto").exists() { files_below(&root.join("lto")) } else { vec![] };
    assert!(left.is_empty(), "outputs left behind: {left:?}");
    assert!(!root.join("lto.thinlto-staging").exists(), "staging directory left behind");
}

#[test]
fn manifest_with_unknown_field_or_wrong_type() {
    let dir = indexed();
    let root = dir.path();
    let text = std::fs::read_to_string(root.join("manifest.json")).unwrap();
    write(
        &root.join("manifest.json"),
        text.replacen("{\"inputs\"", "{\"surprise\":1,\"inputs\"", 1).replacen(
            "\"version\":1",
            "\"version\":1,\"surprise\":1",
            1,
        ),
    );
    index_fails(root, "invalid manifest 'manifest.json': unknown field `surprise`");
    write(&root.join("manifest.json"), text.replacen("\"version\":1", "\"version\":[1]", 1));
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
    write_manifest(
        root,
        json!([
            {"kind": "bitcode", "path": "obj/main.o"},
            {"kind": "archive", "path": "obj/libhelper.a"}
        ]),
    );
    index_fails(root, "is a member of an archive that holds bitcode");
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
fn index_writes_one_plan_per_module() {
    let dir = indexed();
    let root = dir.path();
    run(thinlto(root).args(["index", "--manifest=manifest.json", "--plan=lto/plan.json", "--module-plans"]));
    let plan: serde_json::Value = serde_json::from_slice(&std::fs::read(root.join("lto/plan.json")).unwrap()).unwrap();
    for entry in plan["modules"].as_array().unwrap() {
        let object = entry["object"].as_str().unwrap();
        let own: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join(format!("{object}.plan.json"))).unwrap()).unwrap();
        assert_eq!(&own, entry, "the module plan of {object} differs from its entry in plan.json");
    }
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(root.join("lto/main.o.plan.json")).unwrap())
            .unwrap()["imports"],
        serde_json::json!(["obj/helper.o"])
    );
}

/// 100,000 modules: `plan` handles a link of this size (correctness only; its speed is a
/// benchmark, tools/bench/plan_bench.sh, not a test).
#[test]
fn plan_for_100000_modules() {
    const N: usize = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let module = |i: usize| format!("obj/p{:03}/m{i:06}.o", i / 1000);
    let inputs: Vec<serde_json::Value> = (0..N).map(|i| json!({"kind": "bitcode", "path": module(i)})).collect();
    write_manifest(root, serde_json::Value::Array(inputs));
    let mut list = String::new();
    for i in 0..N {
        let rest = module(i).strip_prefix("obj/").unwrap().to_string();
        write(&root.join(format!("lto/{rest}.thinlto.bc")), b"BC\xC0\xDE index");
        // Each module imports from up to three lower modules, sorted as lld sorts them.
        let mut imports: Vec<String> = [i / 2, i / 3, i / 7].iter().filter(|&&j| j < i).map(|&j| module(j)).collect();
        imports.sort();
        imports.dedup();
        write(&root.join(format!("lto/{rest}.imports")), imports.iter().map(|p| format!("{p}\n")).collect::<String>());
        list.push_str(&format!("lto/{rest}\n"));
    }
    write(&root.join("lto/index.list"), list);
    run(thinlto(root).args(["plan", "--manifest=manifest.json", "--index-list=lto/index.list", "--out=lto/plan.json"]));
    let plan = thinlto::plan::Plan::read(&root.join("lto/plan.json")).unwrap();
    assert_eq!(plan.modules.len(), N);
    let last = &plan.modules[N - 1];
    let names: Vec<&str> = plan.imports(last).map(|m| m.module.as_str()).collect();
    assert_eq!(names, [module((N - 1) / 7), module((N - 1) / 3), module((N - 1) / 2)]);
}
