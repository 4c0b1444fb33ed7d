"""Providers shared by the rules_thinlto rules (private: load `//rules:defs.bzl`)."""

RustCrateInfo = provider(
    doc = "A Rust crate compiled by rustc to one object, for dependents and for the link.",
    fields = {
        "crate_name": "string: the crate's name, as `--extern` and `use` spell it.",
        "metadata": "File: the crate's `.rmeta`; all dependents compile against.",
        "object": "File: the crate's code, one object (ThinLTO bitcode when thin_lto is on).",
        "transitive_metadata": "depset[File]: `.rmeta` files of this crate and every crate it depends on.",
    },
)

BitcodeInfo = provider(
    doc = """ThinLTO bitcode objects that Bazel's CcInfo cannot mark as such.

C++ objects are known to be bitcode from LibraryToLink.lto_bitcode_files; objects from
other compilers (rustc, or a later rules_rust integration) say so with this provider, which
the link rule collects through every `deps` edge with an aspect.""",
    fields = {
        "objects": "depset[File]: bitcode objects of this target and its dependencies.",
    },
)

ThinLtoToolchainInfo = provider(
    doc = "The tools of the rules_thinlto toolchain.",
    fields = {
        "clang": "string: the clang driver (path or name on PATH); compiles backends and links.",
        "rustc": "string: the rustc to compile crates with.",
        "rust_std": "list[File]: the Rust standard library rlibs, as `.a` files, in link order.",
        "rust_native_libs": "list[string]: system library flags std needs (`-lpthread`, ...).",
        "helper": "File: the `thinlto` helper binary.",
        "target": "string: the target triple every compile, backend and link uses.",
        "link_flags": "list[string]: flags every link (thin and final) gets, such as `-fuse-ld=lld`.",
    },
)
