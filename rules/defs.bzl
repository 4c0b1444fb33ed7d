"""rules_thinlto: distributed ThinLTO for programs mixing C++ and Rust.

This file is the public API; everything under `//rules/private` may change.

    load("@rules_thinlto//rules:defs.bzl", "cc_binary", "cc_test", "rust_binary", "rust_library", "rust_test")

Without `--features=thin_lto` these build and link as usual. With it, C++ (clang-22)
and Rust (`-Clinker-plugin-lto`) compile to bitcode, and every binary and test links through
one thin link, one backend action per module (declaring only the bitcode it imports), and
one final native link.

`cc_binary` and `cc_test` take what rules_cc's take: the attributes of the compile of their
sources go to a `cc_library` named `<name>.objs`, linked whole; those of the link go to the
binary. `rust_binary` and `rust_test` do the same with a crate named `<name>.crate`.
"""

load("@rules_cc//cc:defs.bzl", _cc_library = "cc_library")
load("//rules/private:link.bzl", _thinlto_binary = "thinlto_binary", _thinlto_test = "thinlto_test")
load("//rules/private:rust.bzl", _rust_bin_crate = "rust_bin_crate", _rust_library = "rust_library", _rust_proc_macro = "rust_proc_macro", _rust_test_crate = "rust_test_crate")
load("//rules/private:toolchain.bzl", _thinlto_toolchain = "thinlto_toolchain")

rust_library = _rust_library
rust_proc_macro = _rust_proc_macro
thinlto_binary = _thinlto_binary
thinlto_test = _thinlto_test
thinlto_toolchain = _thinlto_toolchain

# Attributes of cc_binary/cc_test (and rust_binary/rust_test) that belong to the link.
_LINK_ATTRS = [
    "additional_linker_inputs",
    "backend_copts",
    "data",
    "env",
    "linkopts",
    "linkshared",
    "malloc",
    "stamp",
    # Executable and test attributes Bazel gives every binary and test rule.
    "args",
    "env_inherit",
    "flaky",
    "local",
    "output_licenses",
    "shard_count",
    "size",
    "timeout",
]

# Attributes both targets get: where the compile runs, who may see or use it.
_SHARED_ATTRS = [
    "compatible_with",
    "deprecation",
    "exec_compatible_with",
    "features",
    "restricted_to",
    "tags",
    "target_compatible_with",
    "testonly",
]

def _split(name, kwargs, what):
    """Splits a macro's attributes into (link, compile) attributes; fails on unsupported ones."""
    linkstatic = kwargs.pop("linkstatic", True)
    if not linkstatic:
        fail("{} {}: linkstatic = False is not supported: rules_thinlto links executables and shared libraries with their libraries' code linked in".format(what, name))
    for unsupported in ["dynamic_deps", "win_def_file"]:
        if kwargs.get(unsupported):
            fail("{} {}: `{}` is not supported: rules_thinlto links executables and shared libraries with their libraries' code linked in".format(what, name, unsupported))
        kwargs.pop(unsupported, None)
    link = {k: kwargs.pop(k) for k in _LINK_ATTRS if k in kwargs}
    for k in _SHARED_ATTRS:
        if k in kwargs:
            link[k] = kwargs[k]
    return link, kwargs

def _cc_executable(name, link_rule, what, kwargs):
    link, compile = _split(name, kwargs, what)
    visibility = compile.pop("visibility", None)
    objs = name + ".objs"
    _cc_library(
        name = objs,
        alwayslink = True,
        linkstatic = True,
        visibility = ["//visibility:private"],
        **compile
    )
    link_rule(
        name = name,
        deps = [":" + objs],
        main = ":" + objs,
        visibility = visibility,
        **link
    )

def cc_binary(name, **kwargs):
    """A C++ binary; may depend on `cc_library` and `rust_library` targets.

    Takes rules_cc cc_binary's attributes: those of the compile (`srcs`, `deps`, `copts`,
    `defines`, `local_defines`, `includes`, ...) go to a `cc_library` named `<name>.objs`,
    linked whole; those of the link (`linkopts`, `additional_linker_inputs`, `malloc`,
    `data`, `env`, `args`, `stamp`, `backend_copts`) to the binary; `tags`, `testonly`,
    `features` and the compatibility attributes to both.

    Args:
      name: the binary's name.
      **kwargs: cc_binary's attributes, and `backend_copts` (extra flags for this binary's
        ThinLTO backends). `linkshared = True` links a shared library, named as the target (as
        Bazel's own), with its own thin link. `linkstatic = False` and `dynamic_deps` fail:
        libraries are linked in.
    """
    _cc_executable(name, _thinlto_binary, "cc_binary", kwargs)

def cc_test(name, **kwargs):
    """A C++ test, as rules_cc's cc_test, linked like cc_binary (through ThinLTO under thin_lto).

    Args:
      name: the test's name.
      **kwargs: cc_test's attributes (and `backend_copts`), split as cc_binary splits them.
    """
    kwargs.setdefault("testonly", True)
    _cc_executable(name, _thinlto_test, "cc_test", kwargs)

def _rust_executable(name, crate_rule, link_rule, what, kwargs):
    link, crate = _split(name, kwargs, what)
    visibility = crate.pop("visibility", None)
    krate = name + ".crate"
    crate_rule(
        name = krate,
        crate_name = crate.pop("crate_name", name.replace("-", "_")),
        visibility = ["//visibility:private"],
        **crate
    )
    link_rule(
        name = name,
        deps = [":" + krate],
        main = ":" + krate,
        visibility = visibility,
        **link
    )

def rust_binary(name, **kwargs):
    """A Rust binary; may depend on `rust_library` and `cc_library` targets.

    Its crate compiles as `<name>.crate` (one object holding `main`) with rust_library's
    attributes (`srcs`, `deps`, `crate_root`, `edition`, `crate_features`, `rustc_flags`,
    `rustc_env`, `proc_macro_deps`, ...); the link's attributes (`linkopts`, `data`, `env`,
    `args`, `malloc`, `backend_copts`, ...) go to the binary.

    Args:
      name: the binary's name (also its crate name, `-` as `_`, unless `crate_name` says).
      **kwargs: the attributes above.
    """
    _rust_executable(name, _rust_bin_crate, _thinlto_binary, "rust_binary", kwargs)

def rust_test(name, **kwargs):
    """A Rust test: its crate compiled with libtest's harness (`rustc --test`), linked like rust_binary.

    Needs the panic strategy `unwind` (libtest catches each test's panic).

    Args:
      name: the test's name.
      **kwargs: as rust_binary's.
    """
    kwargs.setdefault("testonly", True)
    _rust_executable(name, _rust_test_crate, _thinlto_test, "rust_test", kwargs)
