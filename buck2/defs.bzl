"""Distributed ThinLTO for Buck2 programs mixing C++ and Rust: public API.

    load("@thinlto//buck2:defs.bzl", "cxx_binary")

    cxx_binary(name = "app", srcs = ["main.cc"], deps = [":geometry", ":stats"])

`[thinlto] mode` in .buckconfig decides how it links:

- `none` (default): the prelude's own `cxx_binary`, unchanged.
- `distributed`: the sources become a `cxx_library` (linked whole) and the binary a
  `thinlto_cxx_binary`: thin link, one backend action per bitcode module, final link.

The toolchains must agree with the mode: `thinlto_cxx_flags()` in the C++ toolchain's
`c_flags`/`cxx_flags`, `thinlto_rustc_flags()` in the Rust toolchain's `rustc_flags`, and a
`thinlto_toolchain` at `toolchains//:thinlto`. See buck2/README.md.

Everything else in this directory is private.
"""

load(
    "//buck2/private:link.bzl",
    _thinlto_cxx_binary = "thinlto_cxx_binary",
)
load(
    "//buck2/private:toolchain.bzl",
    _ThinLtoToolchainInfo = "ThinLtoToolchainInfo",
    _thinlto_cxx_flags = "thinlto_cxx_flags",
    _thinlto_mode = "thinlto_mode",
    _thinlto_rustc_flags = "thinlto_rustc_flags",
    _thinlto_toolchain = "thinlto_toolchain",
)

ThinLtoToolchainInfo = _ThinLtoToolchainInfo
thinlto_cxx_binary = _thinlto_cxx_binary
thinlto_cxx_flags = _thinlto_cxx_flags
thinlto_mode = _thinlto_mode
thinlto_rustc_flags = _thinlto_rustc_flags
thinlto_toolchain = _thinlto_toolchain

# cxx_binary attributes that belong to the link, not to the compile of its sources.
_LINK_ATTRS = ["linker_flags"]

# Attributes only the ThinLTO link has.
_THINLTO_ATTRS = ["backend_flags"]

# Attributes both generated targets get.
_SHARED_ATTRS = ["labels", "visibility", "target_compatible_with", "compatible_with", "exec_compatible_with"]

def cxx_binary(name: str, deps: list[str] = [], **kwargs):
    """The prelude's `cxx_binary`, or under `[thinlto] mode = distributed` the same program through distributed ThinLTO.

    Args:
      name: the binary's name (the target to build and run in both modes).
      deps: what it links: prelude `cxx_library`, `rust_library`, ...
      **kwargs: `cxx_binary` attributes. Under `distributed`, those of the link
        (`linker_flags`, and `backend_flags`: extra flags for this binary's backends) go
        to the `thinlto_cxx_binary`, the rest to the `cxx_library` `<name>__srcs`
        holding the binary's own sources.
    """
    mode = _thinlto_mode()
    if mode == "none":
        for attr in _THINLTO_ATTRS:
            kwargs.pop(attr, None)
        native.cxx_binary(name = name, deps = deps, **kwargs)
        return

    link_kwargs = {k: kwargs.pop(k) for k in _LINK_ATTRS + _THINLTO_ATTRS if k in kwargs}
    shared = {k: kwargs.pop(k) for k in _SHARED_ATTRS if k in kwargs}
    srcs_name = name + "__srcs"
    native.cxx_library(
        name = srcs_name,
        deps = deps,
        # The binary's own code: linked whole, as a binary's objects are.
        link_whole = True,
        preferred_linkage = "static",
        **(kwargs | {k: v for k, v in shared.items() if k != "visibility"})
    )
    _thinlto_cxx_binary(
        name = name,
        deps = [":" + srcs_name] + deps,
        **(link_kwargs | shared)
    )
