"""Compiling Rust crates with rustc directly, to one object per crate.

rustc never links a program here: every crate, library or binary, is emitted as one object
(`--emit=obj`) plus its `.rmeta`, which is all a dependent compiles against. Linking is
clang's, so C++ and Rust share one thin link. Under thin_lto a crate has two objects: the
ThinLTO bitcode (`-Clinker-plugin-lto`) that this rule set's links use, named by
`BitcodeInfo`, and a native one in its `CcInfo`, for any other rule that links it (Bazel's
own `cc_binary` and `cc_test` under `--features=thin_lto`); Bazel runs that second compile
only when such a rule asks for it. A crate's CcInfo carries its object (in an archive for
ordinary links), its C++ deps, and the Rust runtime: std's rlibs, a panic runtime and the
allocator shim.

Proc macros (`rust_proc_macro`) are host dylibs that rustc links itself; the crates they
depend on are compiled once more as ordinary rlibs for that link, again only when one is
asked for.
"""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":compat.bzl", "CC_TOOLCHAIN_ATTRS", "TOOLCHAIN_TRANSITION", "action_toolchain", "find_cc_toolchain", "toolchain_type", "use_cc_toolchain")
load(":features.bzl", "features_without_thin_lto", "opt_level", "thin_lto_enabled")
load(":profile.bzl", "PROFILE_ATTRS", "fdo_profile")
load(":providers.bzl", "BitcodeInfo", "RustCrateInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

# Rust rules cannot do without the toolchain (it is their rustc) but declare it optional, so
# that its absence fails with find_toolchain's message rather than toolchain resolution's.
_TOOLCHAINS = [toolchain_type(TOOLCHAIN_TYPE, mandatory = False)]

def _crate_name(ctx):
    return ctx.attr.crate_name or ctx.label.name.replace("-", "_")

def _crate_root(ctx, crate_type):
    if ctx.file.crate_root:
        return ctx.file.crate_root
    wanted = ["main.rs", "lib.rs"] if crate_type in ["bin", "test"] else ["lib.rs", "main.rs"]
    for basename in wanted + [ctx.label.name + ".rs"]:
        for f in ctx.files.srcs:
            if f.basename == basename:
                return f
    if len(ctx.files.srcs) == 1:
        return ctx.files.srcs[0]
    fail("{}: cannot tell the crate root among srcs; set crate_root".format(ctx.label))

def _dependency_dir(f):
    return f.dirname

def _setting(ctx, name, default):
    target = getattr(ctx.attr, name, None)
    return target[BuildSettingInfo].value if target else default

def panic_strategy(ctx):
    """The program's panic strategy, from `//rules/settings:panic`: "unwind" or "abort".

    Args:
      ctx: a rule context with the `_panic` attribute.

    Returns:
      string.
    """
    return _setting(ctx, "_panic", "unwind")

def _extern(crate, rlibs, alias = None):
    """`--extern` for a dependency: its metadata, or its rlib where rustc links (proc macros)."""
    path = crate.rlib.path if rlibs and crate.rlib else crate.metadata.path
    return "--extern={}={}".format(alias or crate.crate_name, path)

def _out_dir(ctx):
    """OUT_DIR for rustc: a directory of the files a build script would have written there.

    Returns:
      (list[File], string): its files, and its path; empty when the crate has none.
    """
    files = []
    for f in getattr(ctx.files, "out_dir", []):
        link = ctx.actions.declare_file("{}.out_dir/{}".format(ctx.label.name, f.basename))
        ctx.actions.symlink(output = link, target_file = f)
        files.append(link)
    return files, (files[0].dirname if files else "")

def _rustc(ctx, tc, crate_type, name, root, emit, outputs, codegen, inputs, out_dir, rlibs = False, bootstrap = False, mnemonic = "RustcCompile", what = ""):
    """One rustc action for the crate of `ctx`.

    Args:
      ctx: the rule context.
      tc: ThinLtoToolchainInfo.
      crate_type: rustc's --crate-type.
      name: the crate's name.
      root: the crate root.
      emit: the value of --emit.
      outputs: what it writes.
      codegen: flags that differ between the crate's compiles (-Clinker-plugin-lto, ...).
      inputs: depset of the dependencies' files rustc reads.
      out_dir: what _out_dir returned.
      rlibs: link against the dependencies' rlibs (a proc macro's link) rather than their metadata.
      bootstrap: set RUSTC_BOOTSTRAP=1 (the allocator shim needs unstable attributes).
      mnemonic: the action's mnemonic.
      what: what the progress message adds.
    """
    attr = ctx.attr
    aliases = {k.label: v for k, v in getattr(attr, "aliases", {}).items()}
    deps = [d for d in getattr(attr, "deps", []) if RustCrateInfo in d] + getattr(attr, "proc_macro_deps", [])

    args = ctx.actions.args()
    args.add(root)
    args.add("--crate-name=" + name)
    args.add("--crate-type=" + crate_type)
    args.add("--edition=" + attr.edition)
    args.add("--target=" + tc.target)
    args.add("--emit=" + emit)
    args.add("-Copt-level=" + opt_level(ctx))
    args.add("-Ccodegen-units=1")
    args.add("-Cdebuginfo=" + ("2" if ctx.var["COMPILATION_MODE"] == "dbg" else "0"))
    if panic_strategy(ctx) == "abort":
        args.add("-Cpanic=abort")
    args.add_all(codegen)

    # Distinct crates of the same name get distinct symbols and crate identities.
    args.add("-Cmetadata=" + str(ctx.label))
    args.add_all(["--cfg=feature=\"{}\"".format(f) for f in getattr(attr, "crate_features", [])])
    if getattr(attr, "cap_lints", ""):
        args.add("--cap-lints=" + attr.cap_lints)
    for d in deps:
        args.add(_extern(d[RustCrateInfo], rlibs, aliases.get(d.label)))
    args.add_all(inputs, map_each = _dependency_dir, format_each = "-Ldependency=%s", uniquify = True)
    args.add_all(_setting(ctx, "_extra_rustc_flags", []))
    args.add_all(getattr(attr, "rustc_flags", []))
    profile = fdo_profile(ctx)
    if profile:
        args.add_all(profile.rustc_flags)

    env = {"RUSTC_BOOTSTRAP": "1"} if bootstrap else {}
    out_dir_files, out_dir_path = out_dir
    env.update(tc.env)
    executable, wrapper = tc.rustc, []
    if out_dir_path:
        # rustc resolves include!(concat!(env!("OUT_DIR"), ...)) against the including file:
        # the wrapper makes OUT_DIR absolute when the action runs, and remaps it away again.
        env["OUT_DIR"] = out_dir_path
        executable, wrapper = ctx.executable._rustc_out_dir, [tc.rustc]
    data = getattr(attr, "compile_data", [])
    for k, v in getattr(attr, "rustc_env", {}).items():
        env[k] = ctx.expand_location(v, data)
    ctx.actions.run(
        executable = executable,
        arguments = wrapper + [args],
        inputs = depset(ctx.files.srcs + getattr(ctx.files, "compile_data", []) + out_dir_files + ([profile.file] if profile else []), transitive = [inputs, tc.rustc_files] + ([tc.tool_files] if crate_type == "proc-macro" else [])),
        outputs = outputs,
        env = env,
        mnemonic = mnemonic,
        progress_message = "Compiling Rust crate {} ({}{})".format(ctx.label, crate_type, what),
        **action_toolchain(TOOLCHAIN_TYPE)
    )

def compile_crate(ctx, crate_type, extra_rustc_flags = [], bootstrap = False):
    """Compiles the crate of `ctx` to its objects and metadata (and, on demand, an rlib).

    Args:
      ctx: the rule context (attrs srcs, deps, edition, crate_name, rustc_flags, ...).
      crate_type: "rlib" or "bin".
      extra_rustc_flags: flags for this crate only.
      bootstrap: set RUSTC_BOOTSTRAP=1 (the allocator shim needs unstable attributes).

    Returns:
      RustCrateInfo.
    """
    tc = find_toolchain(ctx, "a Rust crate")
    name = _crate_name(ctx)
    root = _crate_root(ctx, crate_type)
    lto = thin_lto_enabled(ctx)
    dep_crates = [d[RustCrateInfo] for d in getattr(ctx.attr, "deps", []) + getattr(ctx.attr, "proc_macro_deps", []) if RustCrateInfo in d]
    metadata_inputs = depset(transitive = [c.transitive_metadata for c in dep_crates])

    out_dir = _out_dir(ctx)
    rmeta = ctx.actions.declare_file("{}/lib{}.rmeta".format(ctx.label.name, name))
    native = ctx.actions.declare_file("{}/{}{}".format(ctx.label.name, name, ".native.o" if lto else ".o"))
    if lto:
        bitcode = ctx.actions.declare_file("{}/{}.o".format(ctx.label.name, name))
        _rustc(ctx, tc, crate_type, name, root, "obj={},metadata={}".format(bitcode.path, rmeta.path), [bitcode, rmeta], ["-Clinker-plugin-lto"] + extra_rustc_flags, metadata_inputs, out_dir, bootstrap = bootstrap, what = ", bitcode")
        _rustc(ctx, tc, crate_type, name, root, "obj=" + native.path, [native], extra_rustc_flags, metadata_inputs, out_dir, bootstrap = bootstrap, mnemonic = "RustcNative", what = ", native object for other linkers")
    else:
        bitcode = None
        _rustc(ctx, tc, crate_type, name, root, "obj={},metadata={}".format(native.path, rmeta.path), [native, rmeta], extra_rustc_flags, metadata_inputs, out_dir, bootstrap = bootstrap)

    rlib = None
    transitive_rlibs = depset(transitive = [c.transitive_rlibs for c in dep_crates])
    if crate_type == "rlib":
        # For proc macros, which rustc links itself: compiled only if one depends on this crate.
        rlib = ctx.actions.declare_file("{}/lib{}.rlib".format(ctx.label.name, name))
        _rustc(ctx, tc, crate_type, name, root, "link=" + rlib.path, [rlib], extra_rustc_flags, transitive_rlibs, out_dir, rlibs = True, bootstrap = bootstrap, mnemonic = "RustcRlib", what = ", rlib for a proc macro")
    return RustCrateInfo(
        crate_name = name,
        metadata = rmeta,
        object = native,
        bitcode = bitcode,
        backend_flags = _backend_flags(ctx, _setting(ctx, "_extra_rustc_flags", []) + getattr(ctx.attr, "rustc_flags", []) + extra_rustc_flags),
        rlib = rlib,
        transitive_metadata = depset([rmeta], transitive = [metadata_inputs]),
        transitive_rlibs = depset([rlib] if rlib else [], transitive = [transitive_rlibs]),
    )

def crate_cc_info(ctx, crate, cc_deps, alwayslink = False, name = None):
    """A CcInfo that links `crate`'s native object after its C++ and Rust deps.

    Args:
      ctx: the rule context (needs the C++ toolchain).
      crate: RustCrateInfo.
      cc_deps: list[CcInfo] of the crate's deps (C++ libraries, Rust crates, the runtime).
      alwayslink: link the object whole, even if nothing references it when it is seen.
      name: names the archive of an ordinary link (default: the target's name).

    Returns:
      CcInfo.
    """
    cc_toolchain = find_cc_toolchain(ctx)
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
        name = name or ctx.label.name,
        linking_contexts = [d.linking_context for d in cc_deps],
        disallow_dynamic_library = True,
        alwayslink = alwayslink,
    )
    return cc_common.merge_cc_infos(
        direct_cc_infos = [CcInfo(linking_context = linking_context)],
        cc_infos = cc_deps,
    )

def bitcode_info(crates):
    """The BitcodeInfo of a target whose CcInfo links `crates`' native objects.

    Args:
      crates: list[RustCrateInfo].

    Returns:
      BitcodeInfo.
    """
    return BitcodeInfo(objects = depset([(c.object, c.bitcode, c.backend_flags) for c in crates if c.bitcode]))

# rustc's -Copt-level values as clang spells the same optimisation level.
_CLANG_OPT_LEVELS = {"0": "-O0", "1": "-O1", "2": "-O2", "3": "-O3", "s": "-Os", "z": "-Oz"}

def _backend_flags(ctx, flags):
    """A crate's ThinLTO backend flags: its optimisation level, and -g with debug info.

    The level is the last -Copt-level among `flags`, as rustc reads them.
    """
    level = opt_level(ctx)
    debug = ctx.var["COMPILATION_MODE"] == "dbg"
    for i, f in enumerate(flags):
        value = f[len("-Copt-level="):] if f.startswith("-Copt-level=") else (flags[i + 1][len("opt-level="):] if f == "-C" and i + 1 < len(flags) and flags[i + 1].startswith("opt-level=") else None)
        if value:
            level = value
        info = f[len("-Cdebuginfo="):] if f.startswith("-Cdebuginfo=") else None
        if info:
            debug = info not in ["0", "none"]
    return tuple([_CLANG_OPT_LEVELS.get(level, "-O2")] + (["-g"] if debug else []))

def _rust_library_impl(ctx):
    crate_type = ctx.attr._crate_type
    runtime = [ctx.attr._runtime[CcInfo]]
    extra = []
    if crate_type == "test":
        # libtest's harness: a `main` that runs the crate's #[test] functions.
        if panic_strategy(ctx) != "unwind":
            fail("{}: rust_test needs --@rules_thinlto//rules/settings:panic=unwind: libtest catches each test's panic".format(ctx.label))
        crate_type, extra = "bin", ["--test"]
        runtime = [_static_libraries_cc_info(ctx, find_toolchain(ctx, "rust_test").rust_test_std)] + runtime
    crate = compile_crate(ctx, crate_type, extra_rustc_flags = extra)
    cc_deps = [d[CcInfo] for d in ctx.attr.deps if CcInfo in d] + runtime
    return [
        DefaultInfo(files = depset([crate.bitcode or crate.object, crate.metadata])),
        crate,
        crate_cc_info(ctx, crate, cc_deps, alwayslink = crate_type == "bin"),
        bitcode_info([crate]),
    ]

def _static_libraries_cc_info(ctx, files, link_flags = []):
    """A CcInfo linking `files` (static libraries, such as Rust's std rlibs) in order."""
    cc_toolchain = find_cc_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    return CcInfo(linking_context = cc_common.create_linking_context(linker_inputs = depset([
        cc_common.create_linker_input(
            owner = ctx.label,
            libraries = depset([_library_to_link(ctx, features, cc_toolchain, f) for f in files]),
            user_link_flags = depset(link_flags),
        ),
    ])))

# Settings every crate compile reads.
_SETTINGS = dict(PROFILE_ATTRS, **{
    "_extra_rustc_flags": attr.label(default = Label("//rules/settings:extra_rustc_flags")),
    "_panic": attr.label(default = Label("//rules/settings:panic")),
    # Gives rustc an absolute OUT_DIR (crates with `out_dir`): no helper in a plain build.
    "_rustc_out_dir": attr.label(default = Label("//rules/private:rustc_out_dir.sh"), executable = True, cfg = "exec", allow_single_file = True),
})

_COMMON_ATTRS = dict(dict(_SETTINGS, **CC_TOOLCHAIN_ATTRS), **{
    "aliases": attr.label_keyed_string_dict(doc = "Names other than their own for some `deps` crates (`--extern NAME=...`)."),
    "cap_lints": attr.string(doc = "rustc's `--cap-lints` (e.g. `allow` for third-party crates)."),
    "compile_data": attr.label_list(allow_files = True, doc = "Files the sources read at compile time (`include_str!`, ...); `$(location)` of them may appear in `rustc_env`."),
    "crate_features": attr.string_list(doc = "Cargo features of the crate: each becomes `--cfg feature=\"NAME\"`."),
    "crate_name": attr.string(doc = "The crate's name (default: the target name, `-` as `_`)."),
    "crate_root": attr.label(allow_single_file = [".rs"], doc = "The root source file (default: lib.rs / main.rs / NAME.rs among srcs)."),
    "deps": attr.label_list(providers = [[RustCrateInfo], [CcInfo]], doc = "Rust crates (rust_library) and C++ libraries (anything with CcInfo)."),
    "edition": attr.string(default = "2021", doc = "The Rust edition."),
    "out_dir": attr.label_list(allow_files = True, doc = "Files a build script would write to OUT_DIR (made by a genrule, say): rustc gets OUT_DIR, a directory holding them by their base names."),
    "proc_macro_deps": attr.label_list(cfg = "exec", providers = [RustCrateInfo], doc = "Procedural macros (rust_proc_macro) the crate uses."),
    "rustc_env": attr.string_dict(doc = "Environment variables for rustc (what a build script would set: `env!`/`option_env!` values, OUT_DIR)."),
    "rustc_flags": attr.string_list(doc = "Extra flags for rustc (`--cfg` values a build script would print, ...)."),
    "srcs": attr.label_list(allow_files = [".rs"], mandatory = True, doc = "The crate's source files."),
    "_runtime": attr.label(default = Label("//rules/private:rust_runtime"), providers = [CcInfo]),
})

def _crate_rule(crate_type, doc):
    return rule(
        implementation = _rust_library_impl,
        doc = doc,
        attrs = dict(_COMMON_ATTRS, _crate_type = attr.string(default = crate_type)),
        fragments = ["cpp"],
        toolchains = _TOOLCHAINS + use_cc_toolchain(),
        **TOOLCHAIN_TRANSITION
    )

rust_library = _crate_rule("rlib", """A Rust library crate, compiled to one object (bitcode under thin_lto).

Provides RustCrateInfo for Rust dependents and CcInfo for C++ ones: `cc_binary` and
`cc_library` can depend on it directly.""")

rust_bin_crate = _crate_rule("bin", "The crate of a Rust binary (its `main`), linked by `rust_binary`.")

rust_test_crate = _crate_rule("test", "The crate of a Rust test, with libtest's harness (`rustc --test`), linked by `rust_test`.")

def _rust_proc_macro_impl(ctx):
    tc = find_toolchain(ctx, "rust_proc_macro")
    name = _crate_name(ctx)
    dylib = ctx.actions.declare_file("{}/lib{}.so".format(ctx.label.name, name))
    deps = [d[RustCrateInfo] for d in ctx.attr.deps + ctx.attr.proc_macro_deps]
    _rustc(
        ctx,
        tc,
        "proc-macro",
        name,
        _crate_root(ctx, "proc-macro"),
        "link=" + dylib.path,
        [dylib],
        # rustc links the dylib itself, with the toolchain's clang and lld (an action has no
        # PATH on which clang could look for another linker).
        ["--extern=proc_macro", "-Clinker=" + tc.clang, "-Clink-arg=" + tc.use_linker],
        depset(transitive = [d.transitive_rlibs for d in deps]),
        _out_dir(ctx),
        rlibs = True,
        what = ", for the compiler",
    )
    return [
        DefaultInfo(files = depset([dylib])),
        RustCrateInfo(
            crate_name = name,
            metadata = dylib,
            object = None,
            bitcode = None,
            backend_flags = (),
            rlib = dylib,
            transitive_metadata = depset([dylib]),
            transitive_rlibs = depset([dylib]),
        ),
    ]

rust_proc_macro = rule(
    implementation = _rust_proc_macro_impl,
    doc = """A procedural macro crate (`serde_derive`, ...): a host dylib that rustc loads.

Depend on it with `proc_macro_deps` of `rust_library`; its own `deps` are compiled as rlibs
for its link.""",
    attrs = dict(
        {k: v for k, v in _COMMON_ATTRS.items() if k not in ["deps", "_runtime"]},
        deps = attr.label_list(providers = [RustCrateInfo], doc = "The Rust crates the macro uses."),
    ),
    fragments = ["cpp"],
    toolchains = _TOOLCHAINS + use_cc_toolchain(),
    **TOOLCHAIN_TRANSITION
)

def _library_to_link(ctx, features, cc_toolchain, f):
    return cc_common.create_library_to_link(
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        static_library = f,
    )

def _shim_crate_impl(ctx):
    flags = ["-Zunstable-options", "-Csymbol-mangling-version=legacy", "-Zplt=yes"]
    return [compile_crate(ctx, "rlib", extra_rustc_flags = flags, bootstrap = True)]

shim_crate = rule(
    implementation = _shim_crate_impl,
    doc = """A crate of the Rust allocator shim (tools/alloc_shim), which needs unstable attributes.

`-Zplt=yes` makes its calls to std's `__rdl_*` direct calls, as in the shim rustc generates.""",
    attrs = dict(_SETTINGS, **{
        "crate_name": attr.string(mandatory = True),
        "crate_root": attr.label(allow_single_file = [".rs"]),
        "edition": attr.string(default = "2021"),
        "srcs": attr.label_list(allow_files = [".rs"], mandatory = True),
    }),
    toolchains = _TOOLCHAINS,
    **TOOLCHAIN_TRANSITION
)

def _rust_runtime_impl(ctx):
    tc = find_toolchain(ctx, "the Rust runtime")
    std = _static_libraries_cc_info(ctx, tc.rust_std + [tc.rust_panic_runtimes[panic_strategy(ctx)]], tc.rust_native_libs)

    # The allocator shim's marker every program needs, linked whole (std references it and
    # comes after it on the command line), and its forwarders, linked lazily: a crate with a
    # #[global_allocator] defines them itself, and then they stay out of the link. They come
    # after std, which references them, for linkers that read archives in one pass (gold).
    marker = ctx.attr.marker[RustCrateInfo]
    forwarders = ctx.attr.forwarders[RustCrateInfo]
    lazy = crate_cc_info(ctx, forwarders, [], name = forwarders.crate_name)
    return [
        DefaultInfo(files = depset([c.bitcode or c.object for c in [marker, forwarders]])),
        crate_cc_info(ctx, marker, [std, lazy], alwayslink = True, name = marker.crate_name),
        bitcode_info([marker, forwarders]),
    ]

rust_runtime = rule(
    implementation = _rust_runtime_impl,
    doc = "What every Rust program links besides its crates: the allocator shim, std and a panic runtime.",
    attrs = dict(dict(_SETTINGS, **CC_TOOLCHAIN_ATTRS), **{
        "forwarders": attr.label(mandatory = True, providers = [RustCrateInfo], doc = "The shim's forwarders (tools/alloc_shim/alloc_shim.rs)."),
        "marker": attr.label(mandatory = True, providers = [RustCrateInfo], doc = "The shim's marker (tools/alloc_shim/alloc_shim_marker.rs)."),
    }),
    fragments = ["cpp"],
    toolchains = _TOOLCHAINS + use_cc_toolchain(),
    **TOOLCHAIN_TRANSITION
)
