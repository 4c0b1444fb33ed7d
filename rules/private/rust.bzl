"""Compiling Rust crates with rustc directly, to one object per crate.

rustc never links here: every crate, library or binary, is emitted as one object
(`--emit=obj`, ThinLTO bitcode with `-Clinker-plugin-lto` when thin_lto is on) plus
its `.rmeta`, which is all a dependent compiles against. Linking is clang's, so C++
and Rust share one thin link. A crate's CcInfo carries its object (in an archive for
ordinary links), its C++ deps, and the Rust runtime: std's rlibs and the allocator shim.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":features.bzl", "features_without_thin_lto", "opt_level", "thin_lto_enabled")
load(":providers.bzl", "BitcodeInfo", "RustCrateInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

CPP_TOOLCHAIN_TYPE = "@bazel_tools//tools/cpp:toolchain_type"

def _crate_name(ctx):
    return ctx.attr.crate_name or ctx.label.name.replace("-", "_")

def _crate_root(ctx):
    if ctx.file.crate_root:
        return ctx.file.crate_root
    wanted = ["main.rs", "lib.rs"] if ctx.attr._crate_type == "bin" else ["lib.rs", "main.rs"]
    for basename in wanted + [ctx.label.name + ".rs"]:
        for f in ctx.files.srcs:
            if f.basename == basename:
                return f
    if len(ctx.files.srcs) == 1:
        return ctx.files.srcs[0]
    fail("{}: cannot tell the crate root among srcs; set crate_root".format(ctx.label))

def compile_crate(ctx, crate_type, extra_rustc_flags = [], bootstrap = False):
    """Runs rustc for one crate, emitting its object and metadata.

    Args:
      ctx: the rule context (attrs srcs, deps, edition, crate_name, rustc_flags).
      crate_type: "rlib" or "bin".
      extra_rustc_flags: flags for this crate only.
      bootstrap: set RUSTC_BOOTSTRAP=1 (the allocator shim needs unstable attributes).

    Returns:
      RustCrateInfo.
    """
    tc = find_toolchain(ctx)
    name = _crate_name(ctx)
    lto = thin_lto_enabled(ctx)
    obj = ctx.actions.declare_file("{}/{}.o".format(ctx.label.name, name))
    rmeta = ctx.actions.declare_file("{}/lib{}.rmeta".format(ctx.label.name, name))
    dep_crates = [d[RustCrateInfo] for d in getattr(ctx.attr, "deps", []) if RustCrateInfo in d]
    transitive = depset(transitive = [c.transitive_metadata for c in dep_crates])

    args = ctx.actions.args()
    args.add(_crate_root(ctx))
    args.add("--crate-name=" + name)
    args.add("--crate-type=" + crate_type)
    args.add("--edition=" + ctx.attr.edition)
    args.add("--target=" + tc.target)
    args.add("--emit=obj={},metadata={}".format(obj.path, rmeta.path))
    args.add("-Copt-level=" + opt_level(ctx))
    args.add("-Ccodegen-units=1")
    args.add("-Cdebuginfo=0")
    if lto:
        args.add("-Clinker-plugin-lto")

    # Distinct crates of the same name get distinct symbols and crate identities.
    args.add("-Cmetadata=" + str(ctx.label))
    for c in dep_crates:
        args.add("--extern={}={}".format(c.crate_name, c.metadata.path))
    args.add_all(transitive, map_each = _dependency_dir, format_each = "-Ldependency=%s", uniquify = True)
    args.add_all(extra_rustc_flags)
    args.add_all(getattr(ctx.attr, "rustc_flags", []))

    env = {"RUSTC_BOOTSTRAP": "1"} if bootstrap else {}
    ctx.actions.run(
        executable = tc.rustc,
        arguments = [args],
        inputs = depset(ctx.files.srcs, transitive = [transitive]),
        outputs = [obj, rmeta],
        env = env,
        mnemonic = "RustcCompile",
        progress_message = "Compiling Rust crate {} ({}{})".format(ctx.label, crate_type, ", bitcode" if lto else ""),
    )
    return RustCrateInfo(
        crate_name = name,
        metadata = rmeta,
        object = obj,
        transitive_metadata = depset([rmeta], transitive = [transitive]),
    )

def _dependency_dir(f):
    return f.dirname

def crate_cc_info(ctx, crate, cc_deps, alwayslink = False):
    """A CcInfo that links `crate`'s object after its C++ and Rust deps.

    Args:
      ctx: the rule context (needs the C++ toolchain).
      crate: RustCrateInfo.
      cc_deps: list[CcInfo] of the crate's deps (C++ libraries, Rust crates, the runtime).
      alwayslink: link the object whole, even if nothing references it when it is seen.

    Returns:
      CcInfo.
    """
    cc_toolchain = find_cpp_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    outputs = cc_common.create_compilation_outputs(
        objects = depset([crate.object]),
        pic_objects = depset([crate.object]),
    )
    linking_context, _ = cc_common.create_linking_context_from_compilation_outputs(
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        compilation_outputs = outputs,
        name = ctx.label.name,
        linking_contexts = [d.linking_context for d in cc_deps],
        disallow_dynamic_library = True,
        alwayslink = alwayslink,
    )
    return cc_common.merge_cc_infos(
        direct_cc_infos = [CcInfo(linking_context = linking_context)],
        cc_infos = cc_deps,
    )

def _bitcode_info(ctx, crate, lto):
    return BitcodeInfo(objects = depset(
        [crate.object] if lto else [],
        transitive = [d[BitcodeInfo].objects for d in getattr(ctx.attr, "deps", []) + [ctx.attr._runtime] if BitcodeInfo in d],
    ))

def _rust_library_impl(ctx):
    crate = compile_crate(ctx, ctx.attr._crate_type)
    cc_deps = [d[CcInfo] for d in ctx.attr.deps if CcInfo in d] + [ctx.attr._runtime[CcInfo]]
    return [
        DefaultInfo(files = depset([crate.object, crate.metadata])),
        crate,
        crate_cc_info(ctx, crate, cc_deps, alwayslink = ctx.attr._crate_type == "bin"),
        _bitcode_info(ctx, crate, thin_lto_enabled(ctx)),
    ]

_COMMON_ATTRS = {
    "crate_name": attr.string(doc = "The crate's name (default: the target name, `-` as `_`)."),
    "crate_root": attr.label(allow_single_file = [".rs"], doc = "The root source file (default: lib.rs / main.rs / NAME.rs among srcs)."),
    "deps": attr.label_list(providers = [[RustCrateInfo], [CcInfo]], doc = "Rust crates (rust_library) and C++ libraries (anything with CcInfo)."),
    "edition": attr.string(default = "2021", doc = "The Rust edition."),
    "rustc_flags": attr.string_list(doc = "Extra flags for rustc."),
    "srcs": attr.label_list(allow_files = [".rs"], mandatory = True, doc = "The crate's source files."),
    "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    "_runtime": attr.label(default = Label("//rules/private:rust_runtime"), providers = [CcInfo]),
}

def _crate_rule(crate_type, doc):
    return rule(
        implementation = _rust_library_impl,
        doc = doc,
        attrs = dict(_COMMON_ATTRS, _crate_type = attr.string(default = crate_type)),
        fragments = ["cpp"],
        toolchains = [TOOLCHAIN_TYPE, CPP_TOOLCHAIN_TYPE],
    )

rust_library = _crate_rule("rlib", """A Rust library crate, compiled to one object (bitcode under thin_lto).

Provides RustCrateInfo for Rust dependents and CcInfo for C++ ones: `cc_binary` and
`cc_library` can depend on it directly.""")

rust_bin_crate = _crate_rule("bin", "The crate of a Rust binary (its `main`), linked by `rust_binary`.")

def _rust_runtime_impl(ctx):
    tc = find_toolchain(ctx)
    lto = thin_lto_enabled(ctx)
    shim = compile_crate(
        ctx,
        "rlib",
        extra_rustc_flags = ["-Zunstable-options", "-Csymbol-mangling-version=legacy", "-Cpanic=abort"],
        bootstrap = True,
    )
    cc_toolchain = find_cpp_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    std_libs = [
        cc_common.create_library_to_link(
            actions = ctx.actions,
            feature_configuration = features,
            cc_toolchain = cc_toolchain,
            static_library = f,
        )
        for f in tc.rust_std
    ]
    std = CcInfo(linking_context = cc_common.create_linking_context(linker_inputs = depset([
        cc_common.create_linker_input(
            owner = ctx.label,
            libraries = depset(std_libs),
            user_link_flags = depset(tc.rust_native_libs),
        ),
    ])))
    return [
        DefaultInfo(files = depset([shim.object])),
        # Whole: std references the shim, and comes after it on the command line.
        crate_cc_info(ctx, shim, [std], alwayslink = True),
        BitcodeInfo(objects = depset([shim.object] if lto else [])),
    ]

rust_runtime = rule(
    implementation = _rust_runtime_impl,
    doc = "What every Rust program links besides its crates: the allocator shim and std.",
    attrs = {
        "crate_name": attr.string(default = "thinlto_alloc_shim"),
        "crate_root": attr.label(allow_single_file = [".rs"]),
        "edition": attr.string(default = "2021"),
        "srcs": attr.label_list(allow_files = [".rs"], mandatory = True),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
        "_crate_type": attr.string(default = "rlib"),
    },
    fragments = ["cpp"],
    toolchains = [TOOLCHAIN_TYPE, CPP_TOOLCHAIN_TYPE],
)
