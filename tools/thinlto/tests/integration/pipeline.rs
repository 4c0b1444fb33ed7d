//! The whole distributed ThinLTO pipeline on a small mixed C++/Rust program,
//! without a build system: compile, thin link, one backend per module in a
//! fresh directory holding only what the plan lists, final link, run.
//!
//! The program has a C++ main, a library with one loaded member (with a
//! static constructor) and one member the linker never loads, two files with
//! the same basename, a native object, a Rust crate calling back into C++,
//! the allocator shim and std's rlibs.

use crate::support::*;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use thinlto::plan::Plan;

const CPP_MODULES: &[&str] = &["main", "helper", "a/common", "b/common", "lib/used", "lib/unused"];

pub(crate) fn build_inputs(root: &Path) -> serde_json::Value {
    let fixture = repo_root().join("tests/fixtures/pipeline");
    for src in [
        "main.cpp",
        "helper.cpp",
        "a/common.cpp",
        "b/common.cpp",
        "lib/used.cpp",
        "lib/unused.cpp",
        "native.c",
        "rust/rs.rs",
    ] {
        write(&root.join("src").join(src), std::fs::read(fixture.join(src)).unwrap());
    }
    for shim in ["alloc_shim", "alloc_shim_marker"] {
        let source = std::fs::read(repo_root().join(format!("tools/alloc_shim/{shim}.rs"))).unwrap();
        write(&root.join(format!("src/{shim}.rs")), source);
    }
    for m in CPP_MODULES {
        compile_cpp(root, &format!("src/{m}.cpp"), &format!("obj/{m}.o"));
    }
    run(Command::new(clang()).current_dir(root).args(["-O2", "-c", "src/native.c", "-o", "obj/native.o"]));
    compile_rust(root, "src/rust/rs.rs", "rs", "obj/rust/rs.o", false);
    compile_rust(root, "src/alloc_shim.rs", "alloc_shim", "obj/rust/alloc_shim.o", true);
    compile_rust(root, "src/alloc_shim_marker.rs", "alloc_shim_marker", "obj/rust/alloc_shim_marker.o", true);
    let std = rust_std();
    std::os::unix::fs::symlink(&std.libdir, root.join("sysroot")).unwrap();

    let cpp = |m: &str| {
        let mut b = bitcode(&format!("obj/{m}.o"));
        b["thin_link"] = json!(format!("obj/{m}.indexing.o"));
        b["owner"] = json!(format!("cpp:{m}"));
        b
    };
    let mut inputs = vec![cpp("main"), cpp("helper"), cpp("a/common"), cpp("b/common")];
    inputs.push(json!({"kind": "object", "path": "obj/native.o"}));
    inputs.push(json!({"kind": "start_lib", "members": [cpp("lib/used"), cpp("lib/unused")]}));
    // Rust crates go to the thin link as full bitcode: lld-22 cannot read
    // rustc's minimized files (another LLVM producer string).
    inputs.push(bitcode("obj/rust/rs.o"));
    // As the rules link the allocator shim: its marker whole, before std; its forwarders lazily, after.
    inputs.push(bitcode("obj/rust/alloc_shim_marker.o"));
    for r in &std.rlibs {
        inputs.push(json!({"kind": "archive", "path": format!("sysroot/{r}")}));
    }
    inputs.push(json!({"kind": "start_lib", "members": [bitcode("obj/rust/alloc_shim.o")]}));
    for l in &std.native_libs {
        inputs.push(json!({"kind": "library", "flag": l}));
    }
    manifest(json!(inputs))
}

#[test]
fn mixed_program_links_with_distributed_thinlto() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let manifest = build_inputs(root);
    write(&root.join("lto/manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap());

    index(root, "lto/manifest.json");
    let plan = Plan::read(&root.join("lto/plan.json")).unwrap();
    assert_eq!(plan.modules.len(), 9);
    let module = |p: &str| plan.modules.iter().find(|m| m.module.as_str() == p).unwrap();
    assert!(!module("obj/lib/unused.o").loaded, "the never-referenced library member must stay unloaded");
    assert!(module("obj/lib/used.o").loaded);
    let imports = |p: &str| plan.imports(module(p)).map(|i| i.module.as_str().to_string()).collect::<Vec<_>>();
    assert!(
        imports("obj/main.o").contains(&"obj/rust/rs.o".to_string()),
        "main imports Rust: {:?}",
        imports("obj/main.o")
    );
    assert!(
        imports("obj/rust/rs.o").contains(&"obj/helper.o".to_string()),
        "Rust imports C++: {:?}",
        imports("obj/rust/rs.o")
    );
    let staging_left: Vec<String> =
        files_below(&root.join("lto")).into_iter().filter(|f| f.contains(".thinlto-")).collect();
    assert!(staging_left.is_empty(), "staging files left behind: {staging_left:?}");

    // Each backend runs in a fresh directory holding only its declared inputs (as Bazel
    // declares them: its module, index, imports list and pack), the pack unpacked.
    for m in &plan.modules {
        let sandbox = root.join("sandbox").join(m.module.as_str().replace('/', "_"));
        let pack = format!("{}.pack", m.object);
        let declared = vec![m.module.to_string(), m.index.to_string(), m.imports_file.to_string(), pack.clone()];
        for f in &declared {
            write(&sandbox.join(f), std::fs::read(root.join(f)).unwrap());
        }
        run(thinlto(&sandbox).args([
            "backend",
            &format!("--module={}", m.module),
            &format!("--index={}", m.index),
            &format!("--imports={}", m.imports_file),
            &format!("--import-pack={pack}"),
            &format!("--out={}", m.object),
            "--",
            &clang(),
            &format!("--target={TARGET}"),
            "-O2",
        ]));
        let mut expected = declared.clone();
        expected.push(m.object.to_string());
        expected.sort();
        expected.dedup();
        assert_eq!(files_below(&sandbox), expected, "backend of {} left other files", m.module);
        write(&root.join(m.object.as_str()), std::fs::read(sandbox.join(m.object.as_str())).unwrap());
    }

    let params = std::fs::read_to_string(root.join("lto/final.params")).unwrap();
    assert!(!params.contains("lib/unused"), "an unloaded module reached the final link:\n{params}");
    assert!(params.contains("lto/lib/used.o\n"), "{params}");
    assert!(!params.contains("--start-lib"), "backend objects must not be lazy:\n{params}");
    assert!(params.contains("obj/native.o\n"), "{params}");
    run(thinlto(root).args(["link", "--manifest=lto/manifest.json", "--params=lto/final.params"]));

    let out = run(&mut Command::new(root.join("bin/prog")));
    // C's stdio and Rust's println! buffer separately, so compare lines, not order.
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<&str> = stdout.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["OK", "lib static ctor ran", "r=26 s=30 a=1 b=2 lib=30 native=42", "rust: sum of squares below 5 = 30"]
    );

    // Cross-language inlining, both ways.
    let dist = root.join("bin/prog");
    let dist_fns = functions(&dist);
    let rust_process = &dist_fns["rust_process"];
    assert!(!rust_process.is_empty());
    assert!(
        !rust_process.iter().any(|l| l.contains("call")),
        "C++ cpp_square was not inlined into Rust: {rust_process:#?}"
    );
    let main = &dist_fns["main"];
    for callee in ["rust_process", "cpp_square", "lib_used", "common_a", "common_b"] {
        assert!(
            !main.iter().any(|l| l.contains("call") && l.contains(callee)),
            "{callee} still called from main: {main:#?}"
        );
    }
    assert!(
        main.iter().any(|l| l.contains("call") && l.contains("rust_describe")),
        "main should still call rust_describe"
    );

    // The same bitcode through in-process ThinLTO gives the same code.
    let mut inprocess: thinlto::manifest::Manifest = serde_json::from_value(manifest).unwrap();
    strip_thin_link(&mut inprocess.inputs);
    let mut argv = thinlto::final_link::thin_link_args(&inprocess);
    argv.extend(["-flto=thin", "-O2", "-o", "bin/prog_inprocess"].map(String::from));
    run(Command::new(clang()).current_dir(root).args(&argv));
    let inproc = root.join("bin/prog_inprocess");
    let inproc_fns = functions(&inproc);
    for f in ["main", "rust_process", "rust_describe", "cpp_square", "lib_used"] {
        assert_eq!(dist_fns.get(f), inproc_fns.get(f), "{f} differs from in-process ThinLTO");
    }

    let explained = run(thinlto(root).args(["explain", "--plan=lto/plan.json"]));
    let text = String::from_utf8(explained.stdout).unwrap();
    assert!(text.contains("9 bitcode modules, 8 loaded"), "{text}");
}

fn strip_thin_link(inputs: &mut [thinlto::manifest::Input]) {
    use thinlto::manifest::Input;
    for input in inputs {
        match input {
            Input::Bitcode(m) => m.thin_link = None,
            Input::StartLib(group) => strip_thin_link(&mut group.members),
            _ => {}
        }
    }
}
