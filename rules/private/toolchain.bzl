"""The `thinlto_toolchain` rule: the tools every rules_thinlto action runs."""

load(":providers.bzl", "ThinLtoToolchainInfo")

TOOLCHAIN_TYPE = str(Label("//rules:toolchain_type"))

def _thinlto_toolchain_impl(ctx):
    info = ThinLtoToolchainInfo(
        clang = ctx.attr.clang,
        rustc = ctx.attr.rustc,
        rust_std = ctx.files.rust_std,
        rust_panic_runtimes = {"abort": ctx.file.rust_panic_abort, "unwind": ctx.file.rust_panic_unwind},
        rust_test_std = ctx.files.rust_test_std,
        rust_native_libs = ctx.attr.rust_native_libs,
        helper = ctx.executable.helper,
        target = ctx.attr.target,
        link_flags = ["--target=" + ctx.attr.target, "-fuse-ld=" + ctx.attr.linker],
        use_linker = "-fuse-ld=" + ctx.attr.linker,
    )
    return [platform_common.ToolchainInfo(thinlto = info)]

thinlto_toolchain = rule(
    implementation = _thinlto_toolchain_impl,
    doc = "Names clang, lld, rustc, the Rust standard library and the `thinlto` helper.",
    attrs = {
        "clang": attr.string(mandatory = True, doc = "The clang driver (absolute path or name on PATH)."),
        "helper": attr.label(mandatory = True, executable = True, cfg = "exec", allow_single_file = True, doc = "The `thinlto` helper binary."),
        "linker": attr.string(default = "lld", doc = "What `-fuse-ld=` names: `lld` or a path to ld.lld."),
        "rust_native_libs": attr.string_list(doc = "System libraries the Rust standard library links against (`-lpthread`, ...)."),
        "rust_panic_abort": attr.label(allow_single_file = [".a"], doc = "panic_abort's rlib, as a `.a` file: the panic runtime of `-Cpanic=abort` programs."),
        "rust_panic_unwind": attr.label(allow_single_file = [".a"], doc = "panic_unwind's rlib, as a `.a` file: the panic runtime of unwinding programs."),
        "rust_std": attr.label_list(allow_files = [".a"], doc = "The std rlibs, as `.a` files, in link order, without a panic runtime."),
        "rust_test_std": attr.label_list(allow_files = [".a"], doc = "The rlibs a test harness (`rustc --test`) links besides std."),
        "rustc": attr.string(mandatory = True, doc = "rustc (absolute path or name on PATH)."),
        "target": attr.string(default = "x86_64-unknown-linux-gnu", doc = "Target triple of every compile, backend and link."),
    },
)

def find_toolchain(ctx):
    """Returns the ThinLtoToolchainInfo resolved for this target.

    Args:
      ctx: a rule context whose rule declares the toolchain type.

    Returns:
      ThinLtoToolchainInfo.
    """
    return ctx.toolchains[TOOLCHAIN_TYPE].thinlto
