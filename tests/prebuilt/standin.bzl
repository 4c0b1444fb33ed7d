"""A stand-in for rules_rust under `--@rules_rust//rust/settings:lto=thin` (rules_rust itself
cannot be fetched here): an rlib compiled as rules_rust compiles one for C++ to link, with
`-Clinker-plugin-lto` when thin_lto is on (its code units are then bitcode members), named
`.a`, as rules_rust hands rlibs to C++ in CcInfo. The matching rules_rust flags are in
docs/rust.md."""

load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")

# A test stand-in: it compiles with the rule set's own rustc, as rules_rust would with its own.
# buildifier: disable=bzl-visibility
load("//rules/private:toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

def _rules_rust_rlib_standin_impl(ctx):
    tc = find_toolchain(ctx, "rules_rust_rlib_standin")
    out = ctx.actions.declare_file("lib{}.a".format(ctx.attr.crate_name))
    args = ctx.actions.args()
    args.add(ctx.file.src)
    args.add_all([
        "--crate-name=" + ctx.attr.crate_name,
        "--crate-type=rlib",
        "--edition=2021",
        "--target=" + tc.target,
        "-Copt-level=2",
        "-Ccodegen-units={}".format(ctx.attr.codegen_units),
        "-Cmetadata=" + str(ctx.label),
        "-o",
        out,
    ])
    if "thin_lto" in ctx.features:
        args.add("-Clinker-plugin-lto")
    ctx.actions.run(executable = tc.rustc, arguments = [args], inputs = [ctx.file.src], outputs = [out], mnemonic = "RustcStandin")
    return [DefaultInfo(files = depset([out]))]

rules_rust_rlib_standin = rule(
    implementation = _rules_rust_rlib_standin_impl,
    attrs = {
        "codegen_units": attr.int(default = 1),
        "crate_name": attr.string(mandatory = True),
        "src": attr.label(allow_single_file = [".rs"], mandatory = True),
    },
    toolchains = [TOOLCHAIN_TYPE],
)

def _archive_of_impl(ctx):
    archives = [
        lib.static_library or lib.pic_static_library
        for li in ctx.attr.library[CcInfo].linking_context.linker_inputs.to_list()
        for lib in li.libraries
        if li.owner == ctx.attr.library.label
    ]
    return [DefaultInfo(files = depset([a for a in archives if a]))]

archive_of = rule(
    implementation = _archive_of_impl,
    doc = "The static library (`.a`) a cc_library makes: under thin_lto, an archive of ThinLTO bitcode.",
    attrs = {"library": attr.label(providers = [CcInfo])},
)
