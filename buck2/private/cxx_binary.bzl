"""`thinlto_cxx_binary`: the prelude's `cxx_binary`, linked with distributed ThinLTO when asked.

It is the prelude's rule (`clone_rule("cxx_binary")`: the same attributes) with another
implementation: when the binary asks for distributed ThinLTO and its C++ toolchain does it
(link.bzl `distributed_thinlto_requested`), the prelude compiles the sources and assembles
the link exactly as for an ordinary link (`cxx_executable`), and the link arguments it
would hand the linker go through distributed ThinLTO instead; otherwise it is the prelude's
`cxx_binary_impl`, unchanged.

`linkshared = True` (set by the `cxx_binary` macro, which also gives the link `-shared` and the
library's soname) makes it a shared library: the same link, whose backends compile
position-independent code. A binary that depends on a shared library (a
`prebuilt_cxx_library(shared_lib = ...)`) links it where the prelude's link has it, with a
RUNPATH to a symlink tree beside it, as the prelude's link has.
"""

load("@prelude//:rules.bzl", "clone_rule")
load("@prelude//cxx:compile_types.bzl", "UseHeaderUnitsMode")
load("@prelude//cxx:cuda.bzl", "CudaCompileStyle")
load("@prelude//cxx:cxx.bzl", "cxx_binary_impl", "get_auto_link_group_specs")
load("@prelude//cxx:cxx_context.bzl", "get_cxx_toolchain_info")
load("@prelude//cxx:cxx_executable.bzl", "cxx_executable")
load(
    "@prelude//cxx:cxx_library_utility.bzl",
    "cxx_attr_deps",
    "cxx_attr_link_style",
    "cxx_attr_use_content_based_paths",
)
load("@prelude//cxx:cxx_link_utility.bzl", "executable_shared_lib_arguments")
load("@prelude//cxx:cxx_sources.bzl", "get_srcs_with_flags")
load("@prelude//cxx:cxx_toolchain_types.bzl", "RuntimeDependencyHandling")
load("@prelude//cxx:cxx_types.bzl", "CxxRuleConstructorParams", "LinkPreference")
load("@prelude//cxx:cxx_utility.bzl", "cxx_attrs_get_allow_cache_upload", "cxx_attrs_use_fbcc_rust_wrapper")
load("@prelude//cxx:headers.bzl", "cxx_get_regular_cxx_headers_layout")
load("@prelude//cxx:link_groups.bzl", "get_link_group_info")
load("@prelude//linking:link_info.bzl", "LinkStrategy", "to_link_strategy")
load("@prelude//linking:linkable_graph.bzl", "LinkableGraph")
load("@prelude//linking:linkables.bzl", "linkables")
load("@prelude//utils:utils.bzl", "filter_and_map_idx")
load(":link.bzl", "distributed_thinlto_requested", "thinlto_link")
load(":toolchain.bzl", "ThinLtoToolchainInfo", "thinlto_configured")

def _use_header_units_mode(use_header_units: bool | str) -> UseHeaderUnitsMode:
    # As cxx.bzl's _get_use_header_units_mode.
    if use_header_units == True:
        return UseHeaderUnitsMode("pcm")
    elif use_header_units == "stub":
        return UseHeaderUnitsMode("stub")
    return UseHeaderUnitsMode("none")

def _cxx_executable(ctx: AnalysisContext):
    """The prelude's cxx_executable with the parameters cxx_binary_impl gives it (cxx/cxx.bzl)."""
    link_group_info = get_link_group_info(
        ctx,
        filter_and_map_idx(LinkableGraph, cxx_attr_deps(ctx)),
        to_link_strategy(cxx_attr_link_style(ctx)),
    )
    toolchain = get_cxx_toolchain_info(ctx)
    params = CxxRuleConstructorParams(
        rule_type = "cxx_binary",
        executable_name = ctx.attrs.executable_name,
        headers_layout = cxx_get_regular_cxx_headers_layout(ctx),
        srcs = get_srcs_with_flags(ctx),
        link_group_info = link_group_info,
        auto_link_group_specs = get_auto_link_group_specs(ctx, link_group_info),
        prefer_stripped_objects = ctx.attrs.prefer_stripped_objects,
        exe_allow_cache_upload = cxx_attrs_get_allow_cache_upload(ctx.attrs),
        extra_link_roots = linkables(ctx.attrs.link_group_deps),
        compiler_flags = ctx.attrs.compiler_flags,
        lang_compiler_flags = ctx.attrs.lang_compiler_flags,
        preprocessor_flags = ctx.attrs.preprocessor_flags,
        lang_preprocessor_flags = ctx.attrs.lang_preprocessor_flags,
        use_header_units = _use_header_units_mode(ctx.attrs.use_header_units),
        runtime_dependency_handling = RuntimeDependencyHandling(ctx.attrs.runtime_dependency_handling) if ctx.attrs.runtime_dependency_handling else toolchain.runtime_dependency_handling,
        error_handler = toolchain.cxx_error_handler,
        extra_dwp_flags = ctx.attrs.extra_dwp_flags,
        use_fbcc_rust_wrapper = cxx_attrs_use_fbcc_rust_wrapper(ctx.attrs),
        allow_cache_upload = cxx_attrs_get_allow_cache_upload(ctx.attrs, toolchain.cxx_compiler_info.allow_cache_upload),
        precompiled_header = ctx.attrs.precompiled_header,
        prefix_header = ctx.attrs.prefix_header,
        _cxx_toolchain = ctx.attrs._cxx_toolchain,
        use_content_based_paths = cxx_attr_use_content_based_paths(ctx),
        coverage_instrumentation_compiler_flags = ctx.attrs.coverage_instrumentation_compiler_flags,
        coverage_profile_list = ctx.attrs.coverage_profile_list[DefaultInfo].default_outputs[0] if ctx.attrs.coverage_profile_list else None,
        separate_debug_info = ctx.attrs.separate_debug_info,
        cuda_compile_style = CudaCompileStyle(ctx.attrs.cuda_compile_style),
        link_preference = LinkPreference(ctx.attrs.link_preference),
    )
    return cxx_executable(ctx, params)

# Sub-targets of the prelude's executable that describe its own link, not ours.
_PRELUDE_LINK_SUB_TARGETS = ["exe", "linker.argsfile", "linker.command", "index.argsfile", "dwp", "debuginfo", "linker-map", "gc-sections", "rpath-tree", "shared-libraries"]

def _impl(ctx: AnalysisContext) -> list[Provider]:
    if ctx.attrs.enable_distributed_thinlto:
        fail("{}: thinlto_cxx_binary reads distributed_thinlto; the cxx_binary macro of @thinlto//buck2:defs.bzl passes enable_distributed_thinlto on as it (set distributed_thinlto = True, or use the macro)".format(ctx.label))
    toolchain = get_cxx_toolchain_info(ctx)
    if ctx.attrs.linkshared and to_link_strategy(cxx_attr_link_style(ctx)) == LinkStrategy("static"):
        fail("{}: linkshared = True links a shared library, of position-independent code: give it link_style = \"static_pic\" (the cxx_binary macro's default for it), not \"static\"".format(ctx.label))
    if not distributed_thinlto_requested(ctx.label, toolchain, ctx.attrs.distributed_thinlto, ctx.attrs._thinlto_configured):
        return cxx_binary_impl(ctx)

    output = _cxx_executable(ctx)
    linker = toolchain.linker_info

    # Beside the prelude's own (declared, built only as [prelude-link]).
    binary = ctx.actions.declare_output("thinlto/" + output.binary.basename, has_content_based_path = False)

    # Shared libraries it depends on: found at run time in a symlink tree beside the binary,
    # through a RUNPATH relative to it ($ORIGIN/...), as the prelude links its own binary.
    shlibs = executable_shared_lib_arguments(ctx, toolchain, binary, output.shared_libs)

    # What the prelude's link would run (cxx_link_into, cxx_link_cmd_parts): the toolchain's
    # linker_flags and executable_linker_flags, the link arguments (the binary's objects
    # with the toolchain's and the target's binary_linker_flags and linker_flags before them,
    # then the deps'), and the toolchain's post_linker_flags.
    link = thinlto_link(
        ctx,
        binary,
        output.link_args,
        pre_flags = cmd_args(linker.linker_flags or [], linker.executable_linker_flags or [], shlibs.extra_link_args),
        post_flags = cmd_args(linker.post_linker_flags or []),
        shared = ctx.attrs.linkshared,
    )

    # [prelude-link]: the prelude's own link of the same objects (in a ThinLTO configuration,
    # lld's in-process ThinLTO), with the sub-targets that describe it ([linker.argsfile], ...).
    sub_targets = {k: v for k, v in output.sub_targets.items() if k not in _PRELUDE_LINK_SUB_TARGETS}
    sub_targets["prelude-link"] = [DefaultInfo(
        default_output = output.binary,
        sub_targets = {k: v for k, v in output.sub_targets.items() if k in _PRELUDE_LINK_SUB_TARGETS},
    )]

    # [thinlto-report]: what ThinLTO did to this binary, as one HTML page (docs/report.md).
    sub_targets["thinlto-report"] = [DefaultInfo(default_output = link.report)]
    return [
        DefaultInfo(default_output = binary, other_outputs = shlibs.runtime_files, sub_targets = sub_targets),
        RunInfo(args = cmd_args(binary, hidden = output.runtime_files + shlibs.runtime_files)),
        output.compilation_db,
    ]

thinlto_cxx_binary = clone_rule(
    "cxx_binary",
    extra_attrs = {
        "backend_flags": attrs.list(attrs.arg(), default = [], doc = "Extra flags for this binary's distributed ThinLTO backends."),
        "distributed_thinlto": attrs.bool(default = False, doc = "Link with distributed ThinLTO when the C++ toolchain does ThinLTO (the cxx_binary macro's enable_distributed_thinlto)."),
        "linkshared": attrs.bool(default = False, doc = "A shared library: the link has -shared among its flags (the cxx_binary macro puts them there), and distributed ThinLTO backends compile position-independent code."),
        "_thinlto_configured": attrs.bool(default = thinlto_configured()),
        "_thinlto_toolchain": attrs.toolchain_dep(default = "toolchains//:thinlto", providers = [ThinLtoToolchainInfo]),
    },
    impl_override = _impl,
)
