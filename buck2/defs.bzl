"""Distributed ThinLTO for Buck2 programs mixing C++ and Rust: public API.

    load("@thinlto//buck2:defs.bzl", "cxx_binary", "rust_binary")

    cxx_binary(name = "app", srcs = ["main.cc"], deps = [":geometry", ":stats"], enable_distributed_thinlto = True)
    rust_binary(name = "tool", srcs = ["main.rs"], deps = [":stats"], enable_distributed_thinlto = True)
    cxx_binary(name = "libplugin.so", srcs = ["plugin.cc"], deps = [":stats"], linkshared = True,
               linker_flags = ["-Wl,--version-script=$(location :plugin.lds)"], enable_distributed_thinlto = True)

They are the prelude's `cxx_binary` and `rust_binary` (same attributes, same compile). A
binary with `enable_distributed_thinlto = True` links with distributed ThinLTO when its C++
toolchain does ThinLTO, which the prelude's LinkerInfo fields say: `lto_mode = "thin"` and
`supports_distributed_thinlto = True`, with `dist_thin_lto_codegen_flags` for the backends.
The prelude's `cxx_toolchain` takes them as attributes; `thinlto_cxx_toolchain` sets them on a
`system_cxx_toolchain`, by default from the configuration: `-m thinlto` (the constraint
thinlto//buck2/cfg:distributed), else `[thinlto] mode = distributed`. Rust crates need
`thinlto_rustc_flags()` in the Rust toolchain, and the helper a `thinlto_toolchain` at
`toolchains//:thinlto`. A ThinLTO binary's sub-target `[thinlto-report]` is the HTML report
(with the inliner's decisions under `[thinlto] remarks = true`); a profile (PGO) is
`thinlto_cxx_toolchain(profile = ...)` and `thinlto_rustc_flags(profile = ...)`. See
buck2/README.md.

Everything else in this directory is private.
"""

load("//buck2/private:cxx_binary.bzl", _thinlto_cxx_binary = "thinlto_cxx_binary")
load("//buck2/private:rust_binary.bzl", _thinlto_rust_binary = "thinlto_rust_binary")
load(
    "//buck2/private:toolchain.bzl",
    _ThinLtoToolchainInfo = "ThinLtoToolchainInfo",
    _thinlto_configured = "thinlto_configured",
    _thinlto_cxx_toolchain = "thinlto_cxx_toolchain",
    _thinlto_helper = "thinlto_helper",
    _thinlto_lto_mode = "thinlto_lto_mode",
    _thinlto_mode = "thinlto_mode",
    _thinlto_rustc_flags = "thinlto_rustc_flags",
    _thinlto_toolchain = "thinlto_toolchain",
)

ThinLtoToolchainInfo = _ThinLtoToolchainInfo
thinlto_configured = _thinlto_configured
thinlto_cxx_binary = _thinlto_cxx_binary
thinlto_cxx_toolchain = _thinlto_cxx_toolchain
thinlto_helper = _thinlto_helper
thinlto_lto_mode = _thinlto_lto_mode
thinlto_mode = _thinlto_mode
thinlto_rust_binary = _thinlto_rust_binary
thinlto_rustc_flags = _thinlto_rustc_flags
thinlto_toolchain = _thinlto_toolchain

def cxx_binary(name: str, enable_distributed_thinlto = False, linkshared = False, **kwargs):
    """The prelude's `cxx_binary`; with `enable_distributed_thinlto = True`, linked with distributed ThinLTO when its C++ toolchain does ThinLTO.

    Args:
      name: the binary's name.
      enable_distributed_thinlto: the prelude's attribute (True, False or a select): link with
        distributed ThinLTO when the C++ toolchain has lto_mode = "thin" and
        supports_distributed_thinlto = True. With a toolchain that does not support it, the
        build fails saying what to set (the prelude would link as usual, silently).
      linkshared: link a shared library instead of an executable, as rules_cc's
        `cc_binary(linkshared = True)`: the link gets `-shared` and `-Wl,-soname,<name>`
        (`executable_name`, else `name`) before the target's `linker_flags`, `link_style`
        defaults to "static_pic" (its dependencies' code is linked in, position-independent),
        and distributed ThinLTO backends compile with -fPIC. What it exports is what the
        target's `linker_flags` say (a `--version-script`), as in any link. Other targets
        link it through `prebuilt_cxx_library(shared_lib = ":<name>", preferred_linkage = "shared")`.
      **kwargs: `cxx_binary` attributes, and `backend_flags` (extra flags for this binary's
        backends).
    """
    if linkshared:
        soname = kwargs.get("executable_name") or name
        kwargs["linker_flags"] = ["-shared", "-Wl,-soname," + soname] + kwargs.get("linker_flags", [])
        kwargs.setdefault("link_style", "static_pic")

    # The prelude's cxx_binary would take its own (Meta-only) distributed path on this
    # attribute: the rule reads it as distributed_thinlto.
    thinlto_cxx_binary(name = name, distributed_thinlto = enable_distributed_thinlto, linkshared = linkshared, **kwargs)

def rust_binary(name: str, **kwargs):
    """The prelude's `rust_binary`; with `enable_distributed_thinlto = True`, linked with distributed ThinLTO when its C++ toolchain does ThinLTO.

    The crate is compiled by the prelude, as always; rustc's own link is captured instead of
    run, and its inputs (the crate's code units, the rlibs, std) join the C++ deps in the
    thin link.

    Args:
      name: the binary's name.
      **kwargs: `rust_binary` attributes (`enable_distributed_thinlto` as for cxx_binary),
        and `backend_flags`.
    """
    thinlto_rust_binary(name = name, **kwargs)
