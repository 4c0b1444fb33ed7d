//! Split DWARF from ThinLTO backends: each writes its `.dwo` where the build system declared
//! it, and its skeleton unit names it by that path.

use crate::support::*;
use serde_json::json;
use std::process::Command;

#[test]
fn backend_writes_split_dwarf_where_declared() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("src/main.cpp"),
        "extern \"C\" int twice(int);\nint main(int argc, char**) { return twice(argc); }\n",
    );
    write(&root.join("src/twice.cpp"), "extern \"C\" int twice(int x) { return 2 * x; }\n");
    for m in ["main", "twice"] {
        std::fs::create_dir_all(root.join("obj")).unwrap();
        run(Command::new(clang()).current_dir(root).args([
            &format!("--target={TARGET}"),
            "-O2",
            "-g",
            "-flto=thin",
            "-c",
            &format!("src/{m}.cpp"),
            "-o",
            &format!("obj/{m}.o"),
        ]));
    }
    let m = manifest(json!([bitcode("obj/main.o"), bitcode("obj/twice.o")]));
    write(&root.join("manifest.json"), serde_json::to_vec(&m).unwrap());
    index(root, "manifest.json");
    for pack in [false, true] {
        std::fs::remove_file(root.join("lto/main.dwo")).ok();
        let mut c = thinlto(root);
        c.args(["backend", "--module=obj/main.o", "--index=lto/main.o.thinlto.bc", "--imports=lto/main.o.imports"]);
        if pack {
            c.arg("--import-pack=lto/main.o.pack");
        }
        c.args(["--out=lto/main.o", "--dwo=lto/main.dwo", "--", &clang(), &format!("--target={TARGET}"), "-O2"]);
        run(&mut c);
        assert!(std::fs::metadata(root.join("lto/main.dwo")).unwrap().len() > 0, "no .dwo (pack: {pack})");
        let info = run(Command::new("llvm-dwarfdump-22").args(["--debug-info"]).arg(root.join("lto/main.o")));
        let info = String::from_utf8(info.stdout).unwrap();
        assert!(info.contains("DW_AT_dwo_name\t(\"lto/main.dwo\")"), "{info}");
        let dwo = run(Command::new("llvm-dwarfdump-22").args(["--debug-info"]).arg(root.join("lto/main.dwo")));
        assert!(String::from_utf8(dwo.stdout).unwrap().contains("\"main\""), "the .dwo does not describe main");
        let left: Vec<String> =
            files_below(&root.join("lto")).into_iter().filter(|f| f.contains(".thinlto-")).collect();
        assert!(left.is_empty(), "work files left behind: {left:?}");
    }
}
