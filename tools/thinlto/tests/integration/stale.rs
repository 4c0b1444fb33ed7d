//! Stale thin links, caught by the backend before clang runs (src/stale.rs):
//! each case fails with exit 1 and a message naming the file and the reason,
//! and leaves no output behind.

use crate::bad_input::{backend_cmd, backend_from_pack, index, indexed, write_manifest};
use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use thinlto::digest::Digest;

fn sha(root: &Path, p: &str) -> Digest {
    Digest::of(&std::fs::read(root.join(p)).unwrap())
}

/// Recompiles `src/NAME.cpp` with a changed body, after the thin link.
fn change(root: &Path, name: &str, source: &str) {
    write(&root.join(format!("src/{name}.cpp")), source);
    compile_cpp(root, &format!("src/{name}.cpp"), &format!("obj/{name}.o"));
}

const MAIN_CHANGED: &str =
    "extern \"C\" int cpp_square(int);\nint main(int argc, char**) { return cpp_square(argc) - 2; }\n";
const HELPER_CHANGED: &str = "extern \"C\" int cpp_square(int x) { return x * x + 1; }\n";

/// The test's program indexed with a module plan for main (as Buck2 declares one).
fn indexed_with_module_plan() -> tempfile::TempDir {
    let dir = indexed();
    let root = dir.path();
    let mut main = bitcode("obj/main.o");
    main["outputs"]["plan"] = json!("lto/main.o.plan.json");
    write_manifest(root, json!([main, bitcode("obj/helper.o")]));
    run(&mut index(root));
    dir
}

/// The backend of main.o as Buck2 runs it: imports from the exec root, checked against its plan.
fn backend_with_module_plan(root: &Path) -> Command {
    backend_cmd(root, &["--module-plan=lto/main.o.plan.json"], &[&clang(), "-O2"])
}

/// `cmd` fails with `expected` in its message, and main's backend leaves nothing behind.
fn fails_leaving_nothing(root: &Path, cmd: &mut Command, expected: &str) {
    let stderr = thinlto_fails(cmd);
    assert!(stderr.contains(expected), "expected {expected:?} in:\n{stderr}");
    let left: Vec<String> = files_below(&root.join("lto"))
        .into_iter()
        .filter(|f| f == "main.o" || f.contains(".thinlto-") || f.contains("remarks"))
        .collect();
    assert!(left.is_empty(), "outputs left behind: {left:?}");
}

#[test]
fn module_changed_after_the_thin_link_with_its_pack() {
    let dir = indexed();
    let root = dir.path();
    let indexed_digest = sha(root, "obj/main.o");
    change(root, "main", MAIN_CHANGED);
    let expected = format!(
        "module 'obj/main.o' changed after the thin link: the thin link indexed SHA-256 {indexed_digest}, the \
         backend was given {} (per 'lto/main.o.pack'). Its index and imports describe the old module, and LLVM \
         would silently import less than they say: the thin link is stale; re-run it (`thinlto index`) before \
         this backend",
        sha(root, "obj/main.o")
    );
    fails_leaving_nothing(root, &mut backend_from_pack(root), &expected);
    // Re-run the thin link, and the same backend succeeds.
    run(&mut index(root));
    run(&mut backend_from_pack(root));
}

#[test]
fn module_changed_after_the_thin_link_with_its_own_plan() {
    let dir = indexed_with_module_plan();
    let root = dir.path();
    run(&mut backend_with_module_plan(root));
    std::fs::remove_file(root.join("lto/main.o")).unwrap();
    change(root, "main", MAIN_CHANGED);
    fails_leaving_nothing(
        root,
        &mut backend_with_module_plan(root),
        "module 'obj/main.o' changed after the thin link: the thin link indexed SHA-256 ",
    );
}

#[test]
fn import_changed_after_the_thin_link_with_its_own_plan() {
    let dir = indexed_with_module_plan();
    let root = dir.path();
    let indexed_digest = sha(root, "obj/helper.o");
    change(root, "helper", HELPER_CHANGED);
    let expected = format!(
        "imported module 'obj/helper.o' (listed in 'lto/main.o.imports' line 1) changed after the thin link: the \
         thin link indexed SHA-256 {indexed_digest}, the backend was given {} (per 'lto/main.o.plan.json')",
        sha(root, "obj/helper.o")
    );
    fails_leaving_nothing(root, &mut backend_with_module_plan(root), &expected);
}

#[test]
fn module_plan_of_another_module_or_without_a_digest() {
    let dir = indexed_with_module_plan();
    let root = dir.path();
    let plan = std::fs::read_to_string(root.join("lto/main.o.plan.json")).unwrap();
    write(
        &root.join("lto/main.o.plan.json"),
        plan.replacen("\"module\": \"obj/main.o\"", "\"module\": \"obj/x.o\"", 1),
    );
    fails_leaving_nothing(
        root,
        &mut backend_with_module_plan(root),
        "module plan 'lto/main.o.plan.json' was written for module 'obj/x.o', not 'obj/main.o'",
    );
    let mut value: serde_json::Value = serde_json::from_str(&plan).unwrap();
    value["digests"].as_object_mut().unwrap().remove("obj/helper.o");
    write(&root.join("lto/main.o.plan.json"), value.to_string());
    fails_leaving_nothing(
        root,
        &mut backend_with_module_plan(root),
        "module plan 'lto/main.o.plan.json' records no digest of 'obj/helper.o', which imports list \
         'lto/main.o.imports' names (line 1)",
    );
}

#[test]
fn index_names_a_module_its_imports_list_does_not() {
    // What LLVM meets when index and imports list come from different thin links: the backend is
    // not given helper.o, and clang would import nothing from it, silently.
    let dir = indexed();
    let root = dir.path();
    write(&root.join("lto/main.o.imports"), "");
    fails_leaving_nothing(
        root,
        &mut backend_cmd(root, &[], &[&clang(), "-O2"]),
        "index 'lto/main.o.thinlto.bc' names module 'obj/helper.o', which imports list 'lto/main.o.imports' \
         does not: the backend is not given it, and LLVM would silently import nothing from it",
    );
}

#[test]
fn index_of_another_module() {
    let dir = indexed();
    let root = dir.path();
    std::fs::copy(root.join("lto/helper.o.thinlto.bc"), root.join("lto/main.o.thinlto.bc")).unwrap();
    fails_leaving_nothing(
        root,
        &mut backend_from_pack(root),
        "index 'lto/main.o.thinlto.bc' does not describe module 'obj/main.o' (it names 'obj/helper.o')",
    );
}

#[test]
fn index_that_is_not_an_index() {
    let dir = indexed();
    let root = dir.path();
    write(&root.join("lto/main.o.thinlto.bc"), b"BC\xC0\xDEnot an index at all");
    fails_leaving_nothing(
        root,
        &mut backend_from_pack(root),
        "index 'lto/main.o.thinlto.bc' of module 'obj/main.o' is not a ThinLTO index: malformed bitcode",
    );
}

#[test]
fn pack_written_for_another_module() {
    let dir = indexed();
    let root = dir.path();
    let pack = std::fs::read(root.join("lto/main.o.pack")).unwrap();
    let text = String::from_utf8_lossy(&pack).replacen(" obj/main.o\n", " obj/elsewhere.o\n", 1);
    let mut bytes = text.as_bytes()[..text.find("\n\n").unwrap() + 2].to_vec();
    bytes.extend_from_slice(&pack[pack.windows(2).position(|w| w == b"\n\n").unwrap() + 2..]);
    write(&root.join("lto/main.o.pack"), bytes);
    fails_leaving_nothing(
        root,
        &mut backend_from_pack(root),
        "pack 'lto/main.o.pack' was written for module 'obj/elsewhere.o', not 'obj/main.o'",
    );
}

#[test]
fn pack_member_whose_bytes_do_not_match_their_digest() {
    let dir = indexed();
    let root = dir.path();
    let mut pack = std::fs::read(root.join("lto/main.o.pack")).unwrap();
    let last = pack.len() - 1;
    pack[last] ^= 0xff;
    write(&root.join("lto/main.o.pack"), pack);
    fails_leaving_nothing(
        root,
        &mut backend_from_pack(root),
        "pack 'lto/main.o.pack': the bytes of member 'obj/helper.o' do not match the digest in its header",
    );
}

#[test]
fn a_version_1_pack_is_still_read_without_digests() {
    let dir = indexed();
    let root = dir.path();
    let helper = std::fs::read(root.join("obj/helper.o")).unwrap();
    let mut v1 = format!("thinlto-pack 1\n{} obj/helper.o\n\n", helper.len()).into_bytes();
    v1.extend_from_slice(&helper);
    write(&root.join("lto/main.o.pack"), v1);
    run(&mut backend_from_pack(root));
    assert!(std::fs::metadata(root.join("lto/main.o")).unwrap().len() > 0);
}

#[test]
fn backend_writes_remarks_only_when_asked() {
    let dir = indexed();
    let root = dir.path();
    run(&mut backend_from_pack(root));
    let plain = std::fs::read(root.join("lto/main.o")).unwrap();
    assert!(files_below(&root.join("lto")).iter().all(|f| !f.contains("remarks")));
    std::fs::remove_file(root.join("lto/main.o")).unwrap();
    run(&mut backend_cmd(
        root,
        &["--import-pack=lto/main.o.pack", "--remarks=lto/main.o.remarks.yaml"],
        &[&clang(), "-O2"],
    ));
    let remarks = std::fs::read_to_string(root.join("lto/main.o.remarks.yaml")).unwrap();
    assert!(remarks.contains("--- !Passed\nPass:            inline\nName:            Inlined\n"), "{remarks}");
    assert!(remarks.contains("Callee:          cpp_square"), "{remarks}");
    assert!(plain == std::fs::read(root.join("lto/main.o")).unwrap(), "remarks changed the object");
    let left: Vec<String> = files_below(&root.join("lto")).into_iter().filter(|f| f.contains(".thinlto-")).collect();
    assert!(left.is_empty(), "work files left behind: {left:?}");
}
