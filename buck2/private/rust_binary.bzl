"""`thinlto_rust_binary`: the prelude's `rust_binary`, linked with distributed ThinLTO when asked.

It is the prelude's rule (`clone_rule("rust_binary")`: the same attributes) with another
implementation. Without distributed ThinLTO it is the prelude's `rust_binary_impl`. With it:

1. The prelude compiles the crate exactly as for its own binary (`rust_compile`, Emit
   "link", the same flags, deps and proc macros), except that rustc's linker is
   capture_rustc_link.py: rustc hands it everything it would link (the crate's code units
   and allocator shim as bitcode, symbols.o, the rlibs, std's rlibs, its flags), and the
   script keeps that in a directory and a record instead of linking.
2. The thin link takes rustc's inputs in rustc's order (each rlib split by
   `thinlto extract`), then the C++ deps' link arguments the prelude gives rustc
   (`-Clink-arg=@...`), and the flags the prelude's linker wrapper puts before them.

So the program is linked from what rustc itself chose (its allocator shim, std's rlibs, the
system libraries), not from a list that has to follow rustc's versions.
"""

load("@prelude//:rules.bzl", "clone_rule")
load("@prelude//cxx:cxx_context.bzl", "get_cxx_toolchain_info")
load("@prelude//linking:link_info.bzl", "LinkStrategy", "get_link_args_for_strategy")
load("@prelude//os_lookup:defs.bzl", "OsLookup")
load("@prelude//python_bootstrap:python_bootstrap.bzl", "PythonBootstrapToolchainInfo")
load("@prelude//rust:build.bzl", "rust_compile")
load("@prelude//rust:build_params.bzl", "Emit", "LinkageLang", "MetadataKind", "RuleType", "build_params")
load("@prelude//rust:context.bzl", "CompileContext", "compile_context")
load(
    "@prelude//rust:link_info.bzl",
    "DEFAULT_STATIC_LINK_STRATEGY",
    "inherited_merged_link_infos",
    "resolve_rust_deps",
    "strategy_info",
)
load("@prelude//rust:rust_binary.bzl", "rust_binary_impl")
load("@prelude//utils:cmd_script.bzl", "cmd_script")
load(":link.bzl", "Capture", "distributed_thinlto_requested", "thinlto_link")
load(":toolchain.bzl", "ThinLtoToolchainInfo", "thinlto_configured")

def _rlibs(ctx: AnalysisContext, compile_ctx: CompileContext, link_strategy: LinkStrategy) -> list[Artifact]:
    """The rlibs of every Rust crate the binary links (not proc macros), as rustc finds them."""
    rlibs = {}
    for dep in resolve_rust_deps(ctx, compile_ctx.dep_ctx):
        if dep.proc_macro_marker != None:
            continue
        info = strategy_info(compile_ctx.toolchain_info, dep.info, link_strategy)
        rlibs[info.outputs[MetadataKind("link")]] = True
        for rust_artifacts in info.transitive_deps[MetadataKind("link")].traverse():
            for a in (rust_artifacts if type(rust_artifacts) == "list" else [rust_artifacts]):
                rlibs[a.artifact] = True
    return list(rlibs.keys())

def _impl(ctx: AnalysisContext) -> list[Provider]:
    cxx = get_cxx_toolchain_info(ctx)
    if not distributed_thinlto_requested(ctx.label, cxx, ctx.attrs.enable_distributed_thinlto, ctx.attrs._thinlto_configured):
        return rust_binary_impl(ctx)

    compile_ctx = compile_context(ctx, binary = True)
    link_strategy = LinkStrategy(ctx.attrs.link_style) if ctx.attrs.link_style else DEFAULT_STATIC_LINK_STRATEGY
    if link_strategy == LinkStrategy("shared"):
        fail("{}: link_style = \"shared\": distributed ThinLTO links static executables only".format(ctx.label))
    params = build_params(
        rule = RuleType("binary"),
        proc_macro = False,
        link_strategy = link_strategy,
        lib_output_style = None,
        lang = LinkageLang("rust"),
        linker_type = cxx.linker_info.type,
        target_os_type = ctx.attrs._target_os_type[OsLookup],
    )

    # rustc's linker: the capture, writing into outputs of the rustc action.
    captured = ctx.actions.declare_output("thinlto/rustc_link", dir = True, has_content_based_path = False)
    record = ctx.actions.declare_output("thinlto/rustc_link.json", has_content_based_path = False)
    capture_linker = cmd_script(
        actions = ctx.actions,
        name = "thinlto/capture_rustc_link",
        cmd = cmd_args(
            ctx.attrs._python_bootstrap[PythonBootstrapToolchainInfo].interpreter,
            ctx.attrs._capture_rustc_link,
            "--out-dir",
            captured.as_output(),
            "--record",
            record.as_output(),
        ),
        language = ctx.attrs._exec_os_type[OsLookup].script,
    )
    capture_ctx = CompileContext(**({f: getattr(compile_ctx, f) for f in dir(compile_ctx)} | {"linker_with_pre_args": capture_linker}))
    placeholder = ctx.actions.declare_output("thinlto/rustc_link.placeholder", has_content_based_path = False)
    rust_compile(
        ctx = ctx,
        compile_ctx = capture_ctx,
        emit = Emit("link"),
        params = params,
        default_roots = ["main.rs"],
        incremental_enabled = False,
        predeclared_output = placeholder,
        extra_flags = compile_ctx.toolchain_info.rustc_binary_flags,
    )

    # After rustc's inputs, the C++ deps' link arguments, which the prelude gives rustc in a
    # file (-Clink-arg=@..., at the end of rustc's command line); before them, the flags of
    # the prelude's linker wrapper (the C++ toolchain's linker_flags and binary_linker_flags,
    # the Rust toolchain's linker_flags, the target's linker_flags).
    native = get_link_args_for_strategy(
        ctx.actions,
        ctx.label,
        cxx.linker_info,
        inherited_merged_link_infos(ctx, compile_ctx.dep_ctx),
        params.dep_link_strategy,
        False,
        None,
    )
    link = thinlto_link(
        ctx,
        ctx.actions.declare_output(ctx.label.name, has_content_based_path = False),
        [native],
        pre_flags = compile_ctx.linker_pre_args,
        post_flags = cmd_args(),
        capture = Capture(record = record, dir = captured, rlibs = _rlibs(ctx, compile_ctx, params.dep_link_strategy)),
    )
    return [
        DefaultInfo(default_output = link.binary, sub_targets = {
            "rustc-link": [DefaultInfo(default_output = record, other_outputs = [captured])],
            # What ThinLTO did to this binary, as one HTML page (docs/report.md).
            "thinlto-report": [DefaultInfo(default_output = link.report)],
        }),
        RunInfo(args = cmd_args(link.binary)),
    ]

thinlto_rust_binary = clone_rule(
    "rust_binary",
    extra_attrs = {
        "backend_flags": attrs.list(attrs.arg(), default = [], doc = "Extra flags for this binary's distributed ThinLTO backends."),
        "_capture_rustc_link": attrs.source(default = "thinlto//buck2:capture_rustc_link.py"),
        "_python_bootstrap": attrs.toolchain_dep(default = "toolchains//:python_bootstrap", providers = [PythonBootstrapToolchainInfo]),
        "_thinlto_configured": attrs.bool(default = thinlto_configured()),
        "_thinlto_toolchain": attrs.toolchain_dep(default = "toolchains//:thinlto", providers = [ThinLtoToolchainInfo]),
    },
    impl_override = _impl,
)
