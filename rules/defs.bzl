"""rules_thinlto: distributed ThinLTO for programs mixing C++ and Rust.

This file is the public API; everything under `//rules/private` may change.

    load("@rules_thinlto//rules:defs.bzl", "cc_binary", "rust_binary", "rust_library")

Without `--features=thin_lto` these build and link as usual. With it, C++ (clang-22)
and Rust (`-Clinker-plugin-lto`) compile to bitcode, and every binary links through one
thin link, one backend action per module (declaring only the bitcode it imports), and
one final native link.
"""

load("@rules_cc//cc:defs.bzl", _cc_library = "cc_library")
load("//rules/private:link.bzl", _thinlto_binary = "thinlto_binary")
load("//rules/private:rust.bzl", _rust_bin_crate = "rust_bin_crate", _rust_library = "rust_library", _rust_proc_macro = "rust_proc_macro")
load("//rules/private:toolchain.bzl", _thinlto_toolchain = "thinlto_toolchain")

rust_library = _rust_library
rust_proc_macro = _rust_proc_macro
thinlto_binary = _thinlto_binary
thinlto_toolchain = _thinlto_toolchain

def cc_binary(name, srcs = [], deps = [], copts = [], linkopts = [], defines = [], includes = [], data = [], visibility = None, tags = None, testonly = None, **kwargs):
    """A C++ binary; may depend on `cc_library` and `rust_library` targets.

    Its sources compile in a `cc_library` named `<name>.objs`, linked whole.

    Args:
      name: the binary's name.
      srcs: C++ sources and private headers.
      deps: cc_library, rust_library or anything else providing CcInfo.
      copts: compile flags for srcs.
      linkopts: link flags.
      defines: as cc_library's.
      includes: as cc_library's.
      data: runtime data files.
      visibility: of the binary.
      tags: of both targets.
      testonly: of both targets.
      **kwargs: further cc_library attributes for the binary's own sources.
    """
    objs = name + ".objs"
    _cc_library(
        name = objs,
        srcs = srcs,
        deps = deps,
        copts = copts,
        defines = defines,
        includes = includes,
        alwayslink = True,
        linkstatic = True,
        visibility = ["//visibility:private"],
        tags = tags,
        testonly = testonly,
        **kwargs
    )
    _thinlto_binary(
        name = name,
        deps = [":" + objs],
        main = ":" + objs,
        linkopts = linkopts,
        data = data,
        visibility = visibility,
        tags = tags,
        testonly = testonly,
    )

def rust_binary(name, srcs, deps = [], crate_root = None, edition = "2021", rustc_flags = [], linkopts = [], data = [], visibility = None, tags = None, testonly = None, **kwargs):
    """A Rust binary; may depend on `rust_library` and `cc_library` targets.

    Its crate compiles as `<name>.crate` (one object holding `main`).

    Args:
      name: the binary's name (also its crate name, `-` as `_`).
      srcs: the crate's sources.
      deps: rust_library and cc_library targets.
      crate_root: the root source (default: main.rs among srcs).
      edition: the Rust edition.
      rustc_flags: extra rustc flags.
      linkopts: link flags.
      data: runtime data files.
      visibility: of the binary.
      tags: of both targets.
      testonly: of both targets.
      **kwargs: further attributes of the crate (`crate_features`, `proc_macro_deps`,
        `rustc_env`, `compile_data`, `aliases`, `cap_lints`), as rust_library's.
    """
    crate = name + ".crate"
    _rust_bin_crate(
        name = crate,
        crate_name = name.replace("-", "_"),
        srcs = srcs,
        deps = deps,
        crate_root = crate_root,
        edition = edition,
        rustc_flags = rustc_flags,
        visibility = ["//visibility:private"],
        tags = tags,
        testonly = testonly,
        **kwargs
    )
    _thinlto_binary(
        name = name,
        deps = [":" + crate],
        main = ":" + crate,
        linkopts = linkopts,
        data = data,
        visibility = visibility,
        tags = tags,
        testonly = testonly,
    )
