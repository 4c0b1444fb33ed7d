//! Builds the clang server's preload library (src/clang_server.c, see
//! src/clang_server.rs) with the host's C compiler ($CC, else cc, clang,
//! gcc); the helper embeds it. Without a working C compiler the helper is
//! built without it (cfg `thinlto_no_clang_server`) and its persistent worker
//! runs each compile as a plain process.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=src/clang_server.c");
    println!("cargo::rerun-if-env-changed=CC");
    println!("cargo::rustc-check-cfg=cfg(thinlto_no_clang_server)");
    let out =
        PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("libthinlto_clang_server.so");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    let compilers: Vec<String> = match std::env::var("CC") {
        Ok(cc) if !cc.is_empty() => vec![cc],
        _ => ["cc", "clang", "gcc"].map(String::from).to_vec(),
    };
    let mut why = String::from("not a Linux target");
    for cc in compilers.iter().filter(|_| linux) {
        let built = Command::new(cc)
            .args(["-O2", "-Wall", "-Wextra", "-shared", "-fPIC", "-fvisibility=hidden", "-o"])
            .arg(&out)
            .arg("src/clang_server.c")
            .output();
        match built {
            Ok(o) if o.status.success() => return,
            Ok(o) => why = format!("{cc} failed: {}", String::from_utf8_lossy(&o.stderr).trim()),
            Err(e) => why = format!("cannot run {cc}: {e}"),
        }
    }
    println!("cargo::warning=thinlto: no clang server in this helper (its worker compiles in plain processes): {why}");
    println!("cargo::rustc-cfg=thinlto_no_clang_server");
}
