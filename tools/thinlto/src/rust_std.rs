//! The Rust standard library as a native link input.
//!
//! std stays native code under `-Clinker-plugin-lto` (its rlibs hold ELF
//! objects; the embedded `.llvmbc` sections are ignored by lld), so its rlibs
//! go to both the thin link and the final link as archives. This is the set a
//! std program links with unwinding panics; `panic_abort`, `test` and
//! `proc_macro` are left out, since lld would otherwise be free to pick
//! `panic_abort`'s `__rust_start_panic`.

use anyhow::{bail, Context, Result};
use std::path::Path;

/// Crate names of the std rlibs, in link order.
pub const STD_CRATES: &[&str] = &[
    "std",
    "panic_unwind",
    "unwind",
    "alloc",
    "core",
    "compiler_builtins",
    "libc",
    "std_detect",
    "hashbrown",
    "rustc_demangle",
    "addr2line",
    "gimli",
    "object",
    "memchr",
    "miniz_oxide",
    "adler2",
    "cfg_if",
    "rustc_std_workspace_alloc",
    "rustc_std_workspace_core",
];

/// The crates every std program needs; the others may be absent from a toolchain.
const REQUIRED: &[&str] = &["std", "core", "alloc", "panic_unwind", "compiler_builtins"];

/// The system libraries std needs (`rustc --print native-static-libs`).
pub const NATIVE_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

/// The std rlib file names found in `libdir` (`rustc --print target-libdir`), in link order.
pub fn find_rlibs(libdir: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(libdir)
        .with_context(|| format!("cannot list Rust target libdir '{}'", libdir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rlib"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for krate in STD_CRATES {
        let prefix = format!("lib{krate}-");
        let found: Vec<&String> = names.iter().filter(|n| n.starts_with(&prefix)).collect();
        match found.as_slice() {
            [one] => out.push(one.to_string()),
            [] if !REQUIRED.contains(krate) => {}
            [] => bail!("Rust target libdir '{}' has no lib{krate}-*.rlib", libdir.display()),
            many => bail!("Rust target libdir '{}' has {} lib{krate}-*.rlib files", libdir.display(), many.len()),
        }
    }
    Ok(out)
}
