"""Providers shared by the rules_thinlto rules (private: load `//rules:defs.bzl`)."""

RustCrateInfo = provider(
    doc = "A Rust crate compiled by rustc to one object, for dependents and for the link.",
    fields = {
        "backend_flags": "tuple[string]: the flags its ThinLTO backend compiles with (the crate's optimisation level, -g).",
        "bitcode": "File or None: the crate's ThinLTO bitcode object, under thin_lto.",
        "crate_name": "string: the crate's name, as `--extern` and `use` spell it.",
        "metadata": "File: the crate's `.rmeta` (a proc macro's dylib); all dependents compile against it.",
        "object": "File or None: the crate's native object, what its CcInfo links.",
        "rlib": "File or None: the crate as an rlib of native code, for a proc macro's link (built only when one asks).",
        "transitive_metadata": "depset[File]: metadata of this crate and every crate it depends on (proc macros' dylibs included).",
        "transitive_rlibs": "depset[File]: rlibs of this crate and every crate it depends on.",
    },
)

BitcodeInfo = provider(
    doc = """The ThinLTO bitcode of objects that Bazel's CcInfo cannot mark as such.

C++ objects are known to be bitcode from LibraryToLink.lto_bitcode_files. A target whose
CcInfo holds objects of another compiler (rustc, or a later rules_rust integration) names,
for each, the bitcode a ThinLTO link uses in its place; the object itself can be native code
(for other linkers, such as Bazel's own cc_binary) or the bitcode itself. The link rule
collects these from the whole dependency graph with an aspect.""",
    fields = {
        "objects": "depset[(File, File, tuple[string])]: (object in this target's CcInfo, its bitcode, the flags its backend compiles with), for this target's own objects only.",
    },
)

ThinLtoToolchainInfo = provider(
    doc = "The tools of the rules_thinlto toolchain.",
    fields = {
        "clang": "string: the clang driver (a host path or name on PATH, or the exec path of clang_tool); compiles backends and links.",
        "env": "dict[string, string]: environment of every action running a tool (the tools' versions, which enter the action key).",
        "helper": "File or None: the `thinlto` helper binary (ThinLTO links only).",
        "link_flags": "list[string]: flags every link (thin and final) gets, such as `-fuse-ld=lld`.",
        "rust_native_libs": "list[string]: system library flags std needs (`-lpthread`, ...).",
        "rust_panic_runtimes": "dict[string, File]: the panic runtime rlib of each strategy (`unwind`, `abort`).",
        "rust_std": "list[File]: the Rust standard library rlibs, as `.a` files, in link order, without a panic runtime.",
        "rust_test_std": "list[File]: the rlibs a test harness links besides std (`test`, `getopts`, ...).",
        "rustc": "string: the rustc to compile crates with (a host path, or the exec path of rustc_tool).",
        "rustc_files": "depset[File]: rustc and its sysroot, where given as labels: inputs of every rustc action.",
        "target": "string: the target triple every compile, backend and link uses.",
        "tool_files": "depset[File]: clang, lld and their files, where given as labels: inputs of every action running them.",
        "tool_versions": "dict[string, string]: the tools' versions, as recorded (by host detection, or by hand).",
        "use_linker": "string: the `-fuse-ld=` flag naming lld, which the thin link needs.",
    },
)
