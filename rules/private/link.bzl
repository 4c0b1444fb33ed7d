"""Linking a binary: ordinary linking, or distributed ThinLTO when thin_lto is on.

Under thin_lto the link becomes four kinds of actions, each cacheable and remotely
executable on its own:

    bitcode (C++ and Rust)
        -> ThinLtoIndex   (one: the thin link; per module .thinlto.bc + .imports, plan, params)
        -> ThinLtoBackend (one per module: its bitcode + what its .imports names -> object)
        -> ThinLtoLink    (one: backend objects in place of bitcode, native inputs in place)

The helper (`thinlto`) runs each step; see ARCHITECTURE.md.
"""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":bitcode.bzl", "CollectedBitcodeInfo", "bitcode_aspect")
load(":compat.bzl", "CC_TOOLCHAIN_ATTRS", "TOOLCHAIN_TRANSITION", "action_toolchain", "find_cc_toolchain", "toolchain_type", "use_cc_toolchain")
load(":features.bzl", "features_without_thin_lto", "opt_level", "thin_lto_enabled")
load(":profile.bzl", "PROFILE_ATTRS", "fdo_profile")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

# The thin link, the backends and the final link run outside Bazel's local sandbox; the
# helper confines clang and lld itself. Why, and what it costs: ARCHITECTURE.md.
UNSANDBOXED = {"no-sandbox": "1"}

# A backend may also run in a persistent worker (`thinlto backend --persistent_worker`, proto
# protocol): locally, Bazel's worker strategy then sends it to a long-running helper that
# compiles through a clang fork server, without a clang start-up per backend (BENCHMARKS.md).
# Execution requirements are not part of a remote action's key, and the command line is the
# same on every strategy. `--strategy=ThinLtoBackend=local` runs plain processes instead;
# `--worker_extra_flag=ThinLtoBackend=--no-clang-server` keeps the worker without the server.
BACKEND_EXECUTION = dict(UNSANDBOXED, **{"supports-workers": "1"})

def _link_native(ctx, cc_info):
    cc_toolchain = find_cc_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    shared = getattr(ctx.attr, "linkshared", False)
    outputs = cc_common.link(
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        linking_contexts = [cc_info.linking_context],
        user_link_flags = _linkopts(ctx),
        additional_inputs = ctx.files.additional_linker_inputs,
        name = _shared_library_stem(ctx.label.name) if shared else ctx.label.name,
        output_type = "dynamic_library" if shared else "executable",
        link_deps_statically = True,
    )
    if not shared:
        return outputs.executable
    library = outputs.library_to_link.resolved_symlink_dynamic_library or outputs.library_to_link.dynamic_library
    if library.basename == ctx.label.name:
        return library

    # As Bazel's cc_binary, the shared library is named as the target.
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = library)
    return out

def _shared_library_stem(name):
    """What cc_common.link, which names a shared library lib<stem>.so, needs to name it `name`."""
    if name.startswith("lib") and name.endswith(".so"):
        return name[len("lib"):-len(".so")]
    return name + ".link"

def _toolchain_link_flags(ctx):
    """The C++ toolchain's flags for linking an executable, as Bazel's own cc_binary gets them.

    They carry what a C++ link needs (`-lstdc++`, `-lm`) and the compilation mode's choices
    (`-Wl,--gc-sections` under opt), so that a ThinLTO link differs from an ordinary one only
    in what ThinLTO changes. Our `-fuse-ld=` comes after them and wins.
    """
    cc_toolchain = find_cc_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    shared = getattr(ctx.attr, "linkshared", False)
    variables = cc_common.create_link_variables(
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        is_linking_dynamic_library = shared,
        is_static_linking_mode = True,
    )
    return cc_common.get_memory_inefficient_command_line(
        feature_configuration = features,
        action_name = "c++-link-nodeps-dynamic-library" if shared else "c++-link-executable",
        variables = variables,
    )

def _manifest_inputs(ctx, cc_info, toolchain_libraries):
    """The link's inputs in command-line order, as manifest entries, plus their files.

    Archives other than `toolchain_libraries` (paths of native archives, such as Rust's std)
    are entries of kind "extracted" whose files _link_thinlto declares.
    """
    main_owner = ctx.attr.main.label if ctx.attr.main else None
    shared = ctx.attr.linkshared
    bitcode_of = {}
    flags_of = {}
    for d in ctx.attr.deps + ([ctx.attr.malloc] if ctx.attr.malloc else []):
        for obj, bc, flags in d[CollectedBitcodeInfo].objects.to_list():
            bitcode_of[obj] = bc
            flags_of[bc] = list(flags)

    inputs = []
    bitcode = []
    native = []
    post_flags = []
    for li in cc_info.linking_context.linker_inputs.to_list():
        owner = str(li.owner)

        # Each library's flags as it gives them, as Bazel's own links keep them: a pair like
        # `-Xlinker --defsym=...` and a repeated `-lm` mean something.
        post_flags.extend(li.user_link_flags)
        for lib in li.libraries:
            objects = (lib.pic_objects or lib.objects) if shared else (lib.objects or lib.pic_objects)
            if not objects:
                archive = lib.static_library or lib.pic_static_library
                if not archive and lib.dynamic_library:
                    # A shared library (cc_import): found by name, through its solib directory,
                    # and at run time through an rpath relative to the binary, as Bazel links it.
                    so = lib.dynamic_library
                    inputs.append({"flag": "-l:" + so.basename, "kind": "library"})
                    post_flags.extend(["-L" + so.dirname, "-Wl,-rpath,$ORIGIN/" + _relative_dir(ctx, so.dirname)])
                    native.append(so)
                elif archive and archive.path not in toolchain_libraries:
                    # Members may be bitcode (a cc_import of an LTO archive, a rules_rust rlib
                    # under lto=thin): _link_thinlto has it extracted, for the thin link to see them.
                    inputs.append({"archive": archive, "kind": "extracted", "owner": owner, "whole": lib.alwayslink})
                elif archive:
                    inputs.append({"kind": "archive", "owner": owner, "path": archive.path})
                    native.append(archive)
                continue
            entries = []
            for o in objects:
                bc = bitcode_of.get(o)
                if bc:
                    entries.append({"kind": "bitcode", "owner": owner, "path": bc.path})
                    bitcode.append(bc)
                else:
                    entries.append({"kind": "object", "owner": owner, "path": o.path})
                    native.append(o)
            if li.owner == main_owner or lib.alwayslink:
                inputs.extend(entries)
            else:
                inputs.append({"kind": "start_lib", "members": entries})
    return inputs, bitcode, flags_of, native, post_flags

def _relative_dir(ctx, directory):
    """`directory` (below the output directory) relative to the directory of this target's output."""
    here = ctx.bin_dir.path + "/" + ctx.label.package if ctx.label.package else ctx.bin_dir.path
    if ctx.label.workspace_root:
        here = ctx.bin_dir.path + "/" + ctx.label.workspace_root + ("/" + ctx.label.package if ctx.label.package else "")
    up = len(here.split("/")) - len(ctx.bin_dir.path.split("/"))
    return "/".join([".."] * up + [directory[len(ctx.bin_dir.path) + 1:]])

def _module_rest(ctx, bitcode):
    """Where below `<name>.lto/` a module's files go: its path below the output root, or its own path."""
    prefix = ctx.bin_dir.path + "/"
    return bitcode.path[len(prefix):] if bitcode.path.startswith(prefix) else bitcode.path

def _link_thinlto(ctx, cc_info):
    tc = find_toolchain(ctx, "--features=thin_lto")
    helper = tc.helper
    if not helper:
        fail("{}: --features=thin_lto needs the `thinlto` helper, and the rules_thinlto toolchain has none (`helper` of thinlto_toolchain; for the host toolchain, thinlto.host_toolchain(helper = ...) or THINLTO_HELPER)".format(ctx.label))

    # Every action here runs a tool of the toolchain, whose versions its environment carries.
    run = dict(action_toolchain(TOOLCHAIN_TYPE), env = tc.env)
    name = ctx.label.name
    out = ctx.actions.declare_file(ctx.label.name)
    lto_dir = name + ".lto"  # relative to the package, as declare_file wants

    std = tc.rust_std + tc.rust_test_std + [f for f in tc.rust_panic_runtimes.values() if f]
    inputs, bitcode, flags_of, native, post_flags = _manifest_inputs(ctx, cc_info, {f.path: True for f in std})

    # Per module, the files the thin link and the backend write, named here and nowhere else:
    # the manifest tells the helper where each goes.
    split_dwarf = ctx.attr._split_dwarf[BuildSettingInfo].value
    remarks = ctx.attr._thinlto_remarks[BuildSettingInfo].value
    modules = {}
    for b in bitcode:
        rest = lto_dir + "/" + _module_rest(ctx, b)
        modules[b.path] = struct(
            dwo = ctx.actions.declare_file((rest[:-len(".o")] if rest.endswith(".o") else rest) + ".dwo") if split_dwarf else None,
            bitcode = b,
            index = ctx.actions.declare_file(rest + ".thinlto.bc"),
            imports = ctx.actions.declare_file(rest + ".imports"),
            object = ctx.actions.declare_file(rest),
            pack = ctx.actions.declare_file(rest + ".pack"),
            remarks = ctx.actions.declare_file(rest + ".remarks.yaml") if remarks else None,
            flags = flags_of.get(b, []),
        )
    for entry in inputs:
        for e in entry.get("members", [entry]):
            m = modules.get(e["path"]) if e["kind"] == "bitcode" else None
            if m:
                e["outputs"] = {"imports": m.imports.path, "index": m.index.path, "object": m.object.path, "pack": m.pack.path}

    # Archives whose members may be bitcode: Bazel cannot know the members before they are
    # extracted, so each archive gets directories for them, for its members' thin-link files
    # and for their objects, and one backend action for all its members.
    archives = []
    for entry in inputs:
        if entry["kind"] != "extracted":
            continue
        base = "{}/x{}.".format(lto_dir, len(archives))
        x = struct(
            archive = entry.pop("archive"),
            fragment = ctx.actions.declare_file(base + "fragment.json"),
            members = ctx.actions.declare_directory(base + "members"),
            outputs = ctx.actions.declare_directory(base + "lto"),
            objects = ctx.actions.declare_directory(base + "objects"),
            remarks = ctx.actions.declare_directory(base + "remarks") if remarks else None,
        )
        archives.append(x)
        entry.update({"archive": x.archive.path, "fragment": x.fragment.path, "members": x.members.path, "objects": x.objects.path, "outputs": x.outputs.path})
        ctx.actions.run(
            executable = helper,
            arguments = ["extract", "--archive", x.archive.path, "--out-dir", x.members.path, "--fragment", x.fragment.path],
            inputs = [x.archive],
            outputs = [x.members, x.fragment],
            mnemonic = "ThinLtoExtract",
            progress_message = "ThinLTO: splitting {} into its members".format(x.archive.short_path),
            **run
        )

    manifest = ctx.actions.declare_file(lto_dir + "/manifest.json")
    ctx.actions.write(manifest, json.encode_indent({
        "inputs": inputs,
        "linker": {
            "driver": tc.clang,
            "flags": _toolchain_link_flags(ctx) + tc.link_flags,
            # As Bazel's own links order them: the binary's linkopts, its deps', --linkopt. Our
            # -fuse-ld= comes last too, so that no --linkopt=-fuse-ld=... takes the thin link from lld.
            "post_flags": _linkopts(ctx) + post_flags + ctx.fragments.cpp.linkopts + [tc.use_linker],
        },
        "output": out.path,
        "version": 2,
    }) + "\n")

    plan = ctx.actions.declare_file(lto_dir + "/plan.json")
    final_params = ctx.actions.declare_file(lto_dir + "/final.params")
    index_outputs = [plan, final_params] + [x.outputs for x in archives]
    for m in modules.values():
        index_outputs.extend([m.index, m.imports, m.pack])
    extracted = [f for x in archives for f in [x.fragment, x.members]]
    ctx.actions.run(
        executable = helper,
        arguments = ["index", "--manifest", manifest.path, "--plan", plan.path, "--final-link-params", final_params.path],
        inputs = depset([manifest] + bitcode + native + extracted + ctx.files.additional_linker_inputs, transitive = [tc.tool_files]),
        outputs = index_outputs,
        mnemonic = "ThinLtoIndex",
        progress_message = "ThinLTO thin link (index) of {} ({} bitcode modules)".format(ctx.label, len(modules)),
        execution_requirements = UNSANDBOXED,
        **run
    )

    # A shared library's code is position-independent, whatever its modules' compiles said.
    compiler = [tc.clang, "--target=" + tc.target, "-O" + opt_level(ctx)] + (["-fPIC"] if ctx.attr.linkshared else [])

    # The build's profile (//rules/settings:fdo_profile) reaches every backend, C++ and Rust modules alike.
    profile = fdo_profile(ctx)
    profile_flags, profile_files = (profile.backend_flags, [profile.file]) if profile else ([], [])
    for m in modules.values():
        # The arguments go in a param file (`thinlto backend @FILE`), on every strategy alike,
        # so that a persistent worker can run the action (see BACKEND_EXECUTION).
        args = ctx.actions.args()
        args.use_param_file("@%s", use_always = True)
        args.set_param_file_format("multiline")
        args.add_all(["--module", m.bitcode, "--index", m.index, "--imports", m.imports, "--import-pack", m.pack, "--out", m.object])
        if m.dwo:
            args.add("--dwo", m.dwo)
        if m.remarks:
            args.add("--remarks", m.remarks)
        args.add("--")
        args.add_all(compiler)

        # The codegen flags of the module's own compile, the profile, the binary's backend_copts.
        args.add_all(m.flags)
        args.add_all(profile_flags)
        args.add_all(ctx.attr.backend_copts)
        ctx.actions.run(
            executable = helper,
            arguments = ["backend", args],
            inputs = depset([m.bitcode, m.index, m.imports, m.pack] + profile_files, transitive = [tc.tool_files]),
            outputs = [m.object] + ([m.dwo] if m.dwo else []) + ([m.remarks] if m.remarks else []),
            execution_requirements = BACKEND_EXECUTION,
            mnemonic = "ThinLtoBackend",
            progress_message = "ThinLTO backend {}".format(m.bitcode.short_path),
            **run
        )
    for x in archives:
        args = ctx.actions.args()
        args.add_all(["archive-backends", "--fragment", x.fragment, "--members", x.members.path, "--outputs", x.outputs.path, "--objects", x.objects.path])
        if x.remarks:
            args.add("--remarks-dir", x.remarks.path)
        args.add("--")
        args.add_all(compiler)
        args.add_all(profile_flags)
        args.add_all(ctx.attr.backend_copts)
        ctx.actions.run(
            executable = helper,
            arguments = [args],
            inputs = depset([x.fragment, x.members, x.outputs] + profile_files, transitive = [tc.tool_files]),
            outputs = [x.objects] + ([x.remarks] if x.remarks else []),
            execution_requirements = UNSANDBOXED,
            mnemonic = "ThinLtoBackend",
            progress_message = "ThinLTO backends of the members of {}".format(x.archive.short_path),
            **run
        )

    ctx.actions.run(
        executable = helper,
        arguments = ["link", "--manifest", manifest.path, "--params", final_params.path],
        inputs = depset([manifest, final_params] + [m.object for m in modules.values()] + native + extracted + [x.objects for x in archives] + ctx.files.additional_linker_inputs, transitive = [tc.tool_files]),
        outputs = [out],
        execution_requirements = UNSANDBOXED,
        mnemonic = "ThinLtoLink",
        progress_message = "ThinLTO final link of {}".format(ctx.label),
        **run
    )

    # The HTML report (output group thinlto_report): built only when asked for.
    report = ctx.actions.declare_file(lto_dir + "/report.html")
    remark_files = [m.remarks for m in modules.values() if m.remarks] + [x.remarks for x in archives if x.remarks]
    report_args = ctx.actions.args()
    report_args.add_all(["report", "--plan", plan, "--manifest", manifest, "--out", report])
    report_args.add_all(remark_files, before_each = "--remarks", expand_directories = False)
    report_args.use_param_file("@%s", use_always = True)
    report_args.set_param_file_format("multiline")
    ctx.actions.run(
        executable = helper,
        arguments = [report_args],
        inputs = depset([plan, manifest] + bitcode + [m.index for m in modules.values()] + [m.pack for m in modules.values()] + extracted + [x.outputs for x in archives] + remark_files),
        outputs = [report],
        mnemonic = "ThinLtoReport",
        progress_message = "ThinLTO report of {}".format(ctx.label),
        **run
    )
    return out, struct(files = [manifest, plan, final_params], dwo = [m.dwo for m in modules.values() if m.dwo], report = [report])

def _linkopts(ctx):
    """The binary's linkopts, with $(location) of additional_linker_inputs expanded."""
    return [ctx.expand_location(f, ctx.attr.additional_linker_inputs) for f in ctx.attr.linkopts]

def _thinlto_binary_impl(ctx):
    deps = ctx.attr.deps + ([ctx.attr.malloc] if ctx.attr.malloc else [])
    cc_info = cc_common.merge_cc_infos(cc_infos = [d[CcInfo] for d in deps if CcInfo in d])
    if thin_lto_enabled(ctx):
        executable, lto = _link_thinlto(ctx, cc_info)
    else:
        executable, lto = _link_native(ctx, cc_info), struct(files = [], dwo = [], report = [])
    runfiles = ctx.runfiles(files = ctx.files.data)
    for d in ctx.attr.deps + ctx.attr.data:
        runfiles = runfiles.merge(d[DefaultInfo].default_runfiles)
    providers = [
        DefaultInfo(executable = executable, files = depset([executable]), runfiles = runfiles),
        # `thinlto`: what the thin link planned; `dwo`: split DWARF of the backends (for dwp);
        # `thinlto_report`: the HTML report (docs/report.md).
        OutputGroupInfo(thinlto = depset(lto.files), dwo = depset(lto.dwo), thinlto_report = depset(lto.report)),
    ]
    env = {k: ctx.expand_location(v, ctx.attr.data) for k, v in ctx.attr.env.items()}
    if env or ctx.attr._is_test:
        # A test's environment; from Bazel 5.3 on the same provider is RunEnvironmentInfo,
        # which `bazel run` of a binary reads too.
        providers.append(testing.TestEnvironment(env))
    return providers

_LINK_ATTRS = dict(dict(PROFILE_ATTRS, **CC_TOOLCHAIN_ATTRS), **{
    "additional_linker_inputs": attr.label_list(allow_files = True, doc = "Files the link reads, named in linkopts with $(location)."),
    "backend_copts": attr.string_list(doc = "Extra flags for every ThinLTO backend compile of this binary (e.g. -march), after each module's own."),
    "data": attr.label_list(allow_files = True, doc = "Runtime data."),
    "deps": attr.label_list(providers = [[CcInfo]], aspects = [bitcode_aspect], doc = "What the binary links: cc_library, rust_library, ..."),
    "env": attr.string_dict(doc = "Environment of the test (and from Bazel 5.3 on, of `bazel run`)."),
    "linkopts": attr.string_list(doc = "Extra link flags."),
    "linkshared": attr.bool(doc = "Link a shared library (`-shared`, of PIC objects) instead of an executable, as cc_binary's linkshared."),
    "main": attr.label(doc = "The dep holding the binary's own code: linked whole, never lazily."),
    "malloc": attr.label(providers = [CcInfo], aspects = [bitcode_aspect], doc = "The malloc implementation to link (as cc_binary's malloc)."),
    "stamp": attr.int(default = -1, doc = "Accepted as cc_binary takes it; these links build no linkstamps."),
    "_split_dwarf": attr.label(default = Label("//rules/settings:split_dwarf")),
    "_thinlto_remarks": attr.label(default = Label("//rules/settings:thinlto_remarks")),
})

# Optional: an ordinary link needs only the C++ toolchain; thin_lto asks for this one.
_TOOLCHAINS = [toolchain_type(TOOLCHAIN_TYPE, mandatory = False)] + use_cc_toolchain()

thinlto_binary = rule(
    implementation = _thinlto_binary_impl,
    doc = "Links an executable from C++ and Rust deps; with thin_lto on, through distributed ThinLTO.",
    attrs = dict(_LINK_ATTRS, _is_test = attr.bool(default = False)),
    executable = True,
    fragments = ["cpp"],
    toolchains = _TOOLCHAINS,
    **TOOLCHAIN_TRANSITION
)

thinlto_test = rule(
    implementation = _thinlto_binary_impl,
    doc = "Links a test from C++ and Rust deps, as thinlto_binary links a binary.",
    attrs = dict(_LINK_ATTRS, _is_test = attr.bool(default = True)),
    test = True,
    fragments = ["cpp"],
    toolchains = _TOOLCHAINS,
    **TOOLCHAIN_TRANSITION
)
