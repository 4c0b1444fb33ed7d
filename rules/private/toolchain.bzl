"""The `thinlto_toolchain` rule: the tools every rules_thinlto action runs."""

load(":providers.bzl", "ThinLtoToolchainInfo")

TOOLCHAIN_TYPE = str(Label("//rules:toolchain_type"))

# The environment variable through which the tools' versions enter every action key.
VERSIONS_ENV = "THINLTO_TOOL_VERSIONS"

def _tool(ctx, name):
    """A tool given as a label (a File, an action input) or as a string (a host path): (path, files)."""
    target = getattr(ctx.attr, name + "_tool")
    given = getattr(ctx.attr, name)
    if target and given:
        fail("{}: give `{}` or `{}_tool`, not both".format(ctx.label, name, name))
    if target:
        f = getattr(ctx.executable, name + "_tool")
        return f.path, [f]
    return given, []

def _thinlto_toolchain_impl(ctx):
    clang, clang_files = _tool(ctx, "clang")
    rustc, rustc_files = _tool(ctx, "rustc")
    linker, linker_files = _tool(ctx, "linker")
    linker = linker or "lld"
    if not clang or not rustc:
        fail("{}: a thinlto_toolchain needs clang (or clang_tool) and rustc (or rustc_tool)".format(ctx.label))
    versions = ctx.attr.tool_versions
    info = ThinLtoToolchainInfo(
        clang = clang,
        rustc = rustc,
        rust_std = ctx.files.rust_std,
        rust_panic_runtimes = {"abort": ctx.file.rust_panic_abort, "unwind": ctx.file.rust_panic_unwind},
        rust_test_std = ctx.files.rust_test_std,
        rust_native_libs = ctx.attr.rust_native_libs,
        helper = ctx.executable.helper,
        target = ctx.attr.target,
        link_flags = ["--target=" + ctx.attr.target, "-fuse-ld=" + linker],
        use_linker = "-fuse-ld=" + linker,
        tool_files = depset(clang_files + linker_files + ctx.files.clang_files, transitive = []),
        rustc_files = depset(rustc_files + ctx.files.rustc_files),
        tool_versions = versions,
        # Sorted, so that the same versions always give the same action key.
        env = {VERSIONS_ENV: ";".join(["{}={}".format(k, versions[k]) for k in sorted(versions)])} if versions else {},
    )
    return [platform_common.ToolchainInfo(thinlto = info)]

thinlto_toolchain = rule(
    implementation = _thinlto_toolchain_impl,
    doc = """Names clang, lld, rustc, the Rust standard library and the `thinlto` helper.

Each tool is either a label (`clang_tool`, `linker_tool`, `rustc_tool`: a file that becomes an
input of every action running it, as hermetic LLVM and Rust toolchains provide) or a string (a
path on the machine that runs the action, as host detection finds it). `tool_versions` enters
every action key either way, so that a new compiler at the same path re-runs what it compiles.""",
    attrs = {
        "clang": attr.string(doc = "The clang driver as a host path (or name on PATH); or give `clang_tool`."),
        "clang_files": attr.label_list(allow_files = True, cfg = "exec", doc = "Files clang needs besides itself (its resource directory, lld, ...): inputs of every action running clang."),
        "clang_tool": attr.label(executable = True, cfg = "exec", allow_single_file = True, doc = "The clang driver as a file."),
        "helper": attr.label(executable = True, cfg = "exec", allow_single_file = True, doc = "The `thinlto` helper binary; only ThinLTO links run it (optional: without it, thin_lto fails with an error naming this attribute)."),
        "linker": attr.string(doc = "What `-fuse-ld=` names: `lld` or a path to ld.lld; or give `linker_tool`."),
        "linker_tool": attr.label(executable = True, cfg = "exec", allow_single_file = True, doc = "ld.lld as a file."),
        "rust_native_libs": attr.string_list(doc = "System libraries the Rust standard library links against (`-lpthread`, ...)."),
        "rust_panic_abort": attr.label(allow_single_file = [".a"], doc = "panic_abort's rlib, as a `.a` file: the panic runtime of `-Cpanic=abort` programs."),
        "rust_panic_unwind": attr.label(allow_single_file = [".a"], doc = "panic_unwind's rlib, as a `.a` file: the panic runtime of unwinding programs."),
        "rust_std": attr.label_list(allow_files = [".a"], doc = "The std rlibs, as `.a` files, in link order, without a panic runtime."),
        "rust_test_std": attr.label_list(allow_files = [".a"], doc = "The rlibs a test harness (`rustc --test`) links besides std."),
        "rustc": attr.string(doc = "rustc as a host path (or name on PATH); or give `rustc_tool`."),
        "rustc_files": attr.label_list(allow_files = True, cfg = "exec", doc = "Files rustc needs besides itself (its sysroot): inputs of every rustc action."),
        "rustc_tool": attr.label(executable = True, cfg = "exec", allow_single_file = True, doc = "rustc as a file."),
        "target": attr.string(default = "x86_64-unknown-linux-gnu", doc = "Target triple of every compile, backend and link."),
        "tool_versions": attr.string_dict(doc = "What each tool reports as its version (`clang --version`, `rustc -vV`, ...): part of every action key."),
    },
)

def _unavailable_toolchain_impl(ctx):
    return [platform_common.ToolchainInfo(thinlto = None, unavailable = ctx.attr.reason)]

thinlto_unavailable_toolchain = rule(
    implementation = _unavailable_toolchain_impl,
    doc = """A toolchain that says why there is none (a host without clang, or Bazel 4.2.3's stand-in for an unresolved optional toolchain).""",
    attrs = {"reason": attr.string(mandatory = True)},
)

_HOW = """register one: thinlto_register_toolchains() in WORKSPACE; or in MODULE.bazel
    thinlto = use_extension("@rules_thinlto//rules:extensions.bzl", "thinlto")
    use_repo(thinlto, "thinlto_toolchains")
    register_toolchains("@thinlto_toolchains//:all")
or a thinlto_toolchain of your own (docs/bazel-versions.md)"""

def find_toolchain(ctx, what):
    """Returns the ThinLtoToolchainInfo resolved for this target, or fails saying what to register.

    Args:
      ctx: a rule context whose rule declares the toolchain type.
      what: what needs it, for the error message ("rust_library", "--features=thin_lto", ...).

    Returns:
      ThinLtoToolchainInfo.
    """
    tc = find_toolchain_or_none(ctx)
    if tc == None:
        found = ctx.toolchains[TOOLCHAIN_TYPE] if TOOLCHAIN_TYPE in ctx.toolchains else None
        reason = getattr(found, "unavailable", None) if found != None else None
        fail("{}: {} needs a rules_thinlto toolchain, and {}. To {}".format(
            ctx.label,
            what,
            reason or "no rules_thinlto toolchain is registered",
            _HOW,
        ))
    return tc

def find_toolchain_or_none(ctx):
    """The ThinLtoToolchainInfo resolved for this target, or None where there is none.

    Args:
      ctx: a rule context whose rule declares the toolchain type (optional or not).

    Returns:
      ThinLtoToolchainInfo or None.
    """
    found = ctx.toolchains[TOOLCHAIN_TYPE] if TOOLCHAIN_TYPE in ctx.toolchains else None
    return found.thinlto if found != None else None
