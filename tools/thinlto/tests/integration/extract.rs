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
