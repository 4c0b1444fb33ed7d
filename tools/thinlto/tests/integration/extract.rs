//! `thinlto extract`: archives split by content, with no host `ar`.

use crate::support::*;
use std::process::Command;
use thinlto::extract::{ExtractedMember, Fragment};

#[test]
fn splits_members_by_content_and_names_duplicates_apart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("a/common.cpp"), "int common_a() { return 1; }\n");
    write(&root.join("b/common.cpp"), "int common_b() { return 2; }\n");
    compile_cpp(root, "a/common.cpp", "a/common.o");
    run(Command::new(clang()).current_dir(root).args(["-O2", "-c", "b/common.cpp", "-o", "b/common.o"]));
    write(&root.join("lib.rmeta"), b"rust metadata, neither bitcode nor ELF");
    // Two members named common.o: `ar x` would keep only the last.
    run(Command::new("llvm-ar-22").current_dir(root).args(["rcP", "libx.a", "a/common.o", "b/common.o", "lib.rmeta"]));
    run(Command::new("llvm-ar-22").current_dir(root).args(["rc", "liby.a", "a/common.o", "b/common.o", "lib.rmeta"]));
    run(thinlto(root).args(["extract", "--archive=liby.a", "--out-dir=ex", "--fragment=ex.json"]));
    let f: Fragment = serde_json::from_slice(&std::fs::read(root.join("ex.json")).unwrap()).unwrap();
    assert_eq!(f.skipped, ["lib.rmeta"]);
    let member = |p: &str, bitcode| ExtractedMember { path: thinlto::execpath::ExecPath::new(p).unwrap(), bitcode };
    assert_eq!(f.members, [member("ex/common.o", true), member("ex/common~2.o", false)]);
    assert_eq!(std::fs::read(root.join("ex/common.o")).unwrap(), std::fs::read(root.join("a/common.o")).unwrap());
    assert_eq!(std::fs::read(root.join("ex/common~2.o")).unwrap(), std::fs::read(root.join("b/common.o")).unwrap());
}

#[test]
fn splits_a_rust_rlib() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("rs.rs"), "#[no_mangle] pub extern \"C\" fn seven() -> i32 { 7 }\n");
    run(Command::new(rustc()).current_dir(root).args([
        "--crate-type=rlib",
        "--edition=2021",
        "-Clinker-plugin-lto",
        "-Copt-level=2",
        "--crate-name=rs",
        "-o",
        "librs.rlib",
        "rs.rs",
    ]));
    run(thinlto(root).args(["extract", "--archive=librs.rlib", "--out-dir=ex", "--fragment=ex.json"]));
    let f: Fragment = serde_json::from_slice(&std::fs::read(root.join("ex.json")).unwrap()).unwrap();
    assert_eq!(f.skipped, ["lib.rmeta"]);
    assert!(!f.members.is_empty() && f.members.iter().all(|m| m.bitcode), "{:?}", f.members);
}

#[test]
fn corrupt_or_truncated_archive() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("m.txt"), b"member data ".repeat(64));
    run(Command::new("llvm-ar-22").current_dir(root).args(["rc", "libz.a", "m.txt"]));
    let bytes = std::fs::read(root.join("libz.a")).unwrap();
    write(&root.join("libt.a"), &bytes[..bytes.len() - 100]);
    let stderr =
        thinlto_fails(thinlto(root).args(["extract", "--archive=libt.a", "--out-dir=ex", "--fragment=ex.json"]));
    assert!(stderr.contains("corrupt archive 'libt.a'"), "{stderr}");
    assert!(!root.join("ex").exists() || files_below(&root.join("ex")).is_empty(), "members written despite the error");
    assert!(!root.join("ex.json").exists());

    // An archive with no code member still gets its (empty) output directory.
    run(thinlto(root).args(["extract", "--archive=libz.a", "--out-dir=nocode", "--fragment=nocode.json"]));
    assert!(root.join("nocode").is_dir() && files_below(&root.join("nocode")).is_empty());

    write(&root.join("notar.a"), b"not an archive at all");
    let stderr =
        thinlto_fails(thinlto(root).args(["extract", "--archive=notar.a", "--out-dir=ex", "--fragment=ex.json"]));
    assert!(stderr.contains("'notar.a' is not an ar archive"), "{stderr}");
}

/// An archive of bitcode and native members, linked as Bazel links a cc_import: extracted
/// before the link, its members in the manifest only through the fragment, one backend
/// action for all of them.
#[test]
fn extracted_archive_links_member_by_member() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("src/main.cpp"),
        "extern \"C\" int used(int);\nint main(int argc, char**) { return used(argc) - 3; }\n",
    );
    write(&root.join("src/used.cpp"), "extern \"C\" int used(int x) { return x + 2; }\n");
    write(&root.join("src/unused.cpp"), "extern \"C\" int unused(int x) { return x * 7; }\n");
    write(&root.join("src/native.c"), "int native_member(void) { return 1; }\n");
    compile_cpp(root, "src/main.cpp", "obj/main.o");
    compile_cpp(root, "src/used.cpp", "obj/used.o");
    compile_cpp(root, "src/unused.cpp", "obj/unused.o");
    run(Command::new(clang()).current_dir(root).args(["-O2", "-c", "src/native.c", "-o", "obj/native.o"]));
    run(Command::new("llvm-ar-22").current_dir(root).args([
        "rc",
        "obj/liblib.a",
        "obj/used.o",
        "obj/unused.o",
        "obj/native.o",
    ]));
    run(thinlto(root).args(["extract", "--archive=obj/liblib.a", "--out-dir=x/members", "--fragment=x/fragment.json"]));

    let extracted = serde_json::json!({"kind": "extracted", "archive": "obj/liblib.a", "fragment": "x/fragment.json",
        "members": "x/members", "outputs": "x/lto", "objects": "x/objects"});
    write(
        &root.join("manifest.json"),
        serde_json::to_vec(&manifest(serde_json::json!([bitcode("obj/main.o"), extracted]))).unwrap(),
    );
    run(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
    ]));
    let plan = thinlto::plan::Plan::read(&root.join("lto/plan.json")).unwrap();
    let loaded: Vec<(&str, bool)> = plan.modules.iter().map(|m| (m.module.as_str(), m.loaded)).collect();
    assert_eq!(loaded, [("obj/main.o", true), ("x/members/used.o", true), ("x/members/unused.o", false)]);
    assert!(root.join("x/lto/used.o.pack").is_file() && root.join("x/lto/unused.o.thinlto.bc").is_file());

    run(thinlto(root).args([
        "backend",
        "--module=obj/main.o",
        "--index=lto/main.o.thinlto.bc",
        "--imports=lto/main.o.imports",
        "--import-pack=lto/main.o.pack",
        "--out=lto/main.o",
        "--",
        &clang(),
        &format!("--target={TARGET}"),
        "-O2",
    ]));
    run(thinlto(root).args([
        "archive-backends",
        "--fragment=x/fragment.json",
        "--members=x/members",
        "--outputs=x/lto",
        "--objects=x/objects",
        "--",
        &clang(),
        &format!("--target={TARGET}"),
        "-O2",
    ]));
    assert_eq!(files_below(&root.join("x/objects")), ["unused.o", "used.o"]);
    let params = std::fs::read_to_string(root.join("lto/final.params")).unwrap();
    assert!(params.contains("x/objects/used.o\n") && !params.contains("unused"), "{params}");
    assert!(params.contains("-Wl,--start-lib\nx/members/native.o\n-Wl,--end-lib\n"), "{params}");
    run(thinlto(root).args(["link", "--manifest=manifest.json", "--params=lto/final.params"]));
    let status = Command::new(root.join("bin/prog")).arg("x").status().unwrap();
    assert_eq!(status.code(), Some(1), "main(2 args) returns used(2) - 3 = 1");

    // A fragment of another archive, or one naming a file outside its members' directory.
    let text = std::fs::read_to_string(root.join("x/fragment.json")).unwrap();
    write(&root.join("x/fragment.json"), text.replace("\"obj/liblib.a\"", "\"obj/libother.a\""));
    let stderr = thinlto_fails(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
    ]));
    assert!(
        stderr.contains("fragment 'x/fragment.json' describes archive 'obj/libother.a', not 'obj/liblib.a'"),
        "{stderr}"
    );
    write(&root.join("x/fragment.json"), text.replace("x/members/used.o", "obj/used.o"));
    let stderr = thinlto_fails(thinlto(root).args([
        "index",
        "--manifest=manifest.json",
        "--plan=lto/plan.json",
        "--final-link-params=lto/final.params",
    ]));
    assert!(stderr.contains("lists member 'obj/used.o', which is not a file of 'x/members'"), "{stderr}");
}
