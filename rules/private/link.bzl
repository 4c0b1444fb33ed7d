"""Linking a binary: ordinary linking, or distributed ThinLTO when thin_lto is on.

Under thin_lto the link becomes four kinds of actions, each cacheable and remotely
executable on its own:

    bitcode (C++ and Rust)
        -> ThinLtoIndex   (one: the thin link; per module .thinlto.bc + .imports, plan, params)
        -> ThinLtoBackend (one per module: its bitcode + what its .imports names -> object)
        -> ThinLtoLink    (one: backend objects in place of bitcode, native inputs in place)

The helper (`thinlto`) runs each step; see ARCHITECTURE.md.
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("@rules_cc//cc/common:cc_common.bzl", "cc_common")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":features.bzl", "features_without_thin_lto", "opt_level", "thin_lto_enabled")
load(":providers.bzl", "BitcodeInfo")
load(":rust.bzl", "CPP_TOOLCHAIN_TYPE")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

# The thin link, the backends and the final link run outside Bazel's local sandbox; the
# helper confines clang and lld itself. Why, and what it costs: ARCHITECTURE.md.
UNSANDBOXED = {"no-sandbox": "1"}

_CollectedBitcodeInfo = provider(
    doc = "BitcodeInfo of a target and everything below it (bitcode_aspect).",
    fields = {"objects": "depset[(File, File)]: (object in a CcInfo, its bitcode)."},
)

# Every edge along which a linked object can come: C++ and Rust deps, the Rust runtime.
_LINK_EDGES = ["deps", "_runtime", "forwarders", "marker"]

def _bitcode_aspect_impl(target, ctx):
    own = [target[BitcodeInfo].objects] if BitcodeInfo in target else []
    below = []
    for attr in _LINK_EDGES:
        value = getattr(ctx.rule.attr, attr, None)
        for d in (value if type(value) == "list" else [value] if value else []):
            if _CollectedBitcodeInfo in d:
                below.append(d[_CollectedBitcodeInfo].objects)
    return [_CollectedBitcodeInfo(objects = depset(transitive = own + below))]

bitcode_aspect = aspect(
    implementation = _bitcode_aspect_impl,
    attr_aspects = _LINK_EDGES,
    doc = "Collects BitcodeInfo (bitcode of objects from rustc and other non-C++ compilers) from the whole dependency graph.",
)

def _link_native(ctx, cc_info):
    cc_toolchain = find_cpp_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    outputs = cc_common.link(
        actions = ctx.actions,
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        linking_contexts = [cc_info.linking_context],
        user_link_flags = ctx.attr.linkopts,
        name = ctx.label.name,
        output_type = "executable",
    )
    return outputs.executable

def _toolchain_link_flags(ctx):
    """The C++ toolchain's flags for linking an executable, as Bazel's own cc_binary gets them.

    They carry what a C++ link needs (`-lstdc++`, `-lm`) and the compilation mode's choices
    (`-Wl,--gc-sections` under opt), so that a ThinLTO link differs from an ordinary one only
    in what ThinLTO changes. Our `-fuse-ld=` comes after them and wins.
    """
    cc_toolchain = find_cpp_toolchain(ctx)
    features = features_without_thin_lto(ctx, cc_toolchain)
    variables = cc_common.create_link_variables(
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        is_linking_dynamic_library = False,
        is_static_linking_mode = True,
    )
    return cc_common.get_memory_inefficient_command_line(
        feature_configuration = features,
        action_name = "c++-link-executable",
        variables = variables,
    )

def _manifest_inputs(ctx, cc_info, toolchain_libraries):
    """The link's inputs in command-line order, as manifest entries, plus their files.

    Archives other than `toolchain_libraries` (paths of native archives, such as Rust's std)
    are entries of kind "extracted" whose files _link_thinlto declares.
    """
    main_owner = ctx.attr.main.label if ctx.attr.main else None
    bitcode_of = {}
    for d in ctx.attr.deps:
        for obj, bc in d[_CollectedBitcodeInfo].objects.to_list():
            bitcode_of[obj] = bc

    inputs = []
    bitcode = []
    native = []
    post_flags = []
    for li in cc_info.linking_context.linker_inputs.to_list():
        owner = str(li.owner)
        for flag in li.user_link_flags:
            if flag not in post_flags:
                post_flags.append(flag)
        for lib in li.libraries:
            objects = lib.objects or lib.pic_objects
            if not objects:
                archive = lib.static_library or lib.pic_static_library or lib.dynamic_library
                if archive and archive.path not in toolchain_libraries:
                    # Members may be bitcode (a cc_import of an LTO archive, a rules_rust rlib
                    # under lto=thin): _link_thinlto has it extracted, for the thin link to see them.
                    inputs.append({"archive": archive, "kind": "extracted", "owner": owner, "whole": lib.alwayslink})
                elif archive:
                    inputs.append({"kind": "archive", "path": archive.path, "owner": owner})
                    native.append(archive)
                continue
            lto = {f: True for f in lib.lto_bitcode_files + lib.pic_lto_bitcode_files}
            entries = []
            for o in objects:
                bc = bitcode_of.get(o, o if o in lto else None)
                if bc:
                    entries.append({"kind": "bitcode", "path": bc.path, "owner": owner})
                    bitcode.append(bc)
                else:
                    entries.append({"kind": "object", "path": o.path, "owner": owner})
                    native.append(o)
            if li.owner == main_owner or lib.alwayslink:
                inputs.extend(entries)
            else:
                inputs.append({"kind": "start_lib", "members": entries})
    return inputs, bitcode, native, post_flags

def _module_rest(ctx, bitcode):
    """Where below `<name>.lto/` a module's files go: its path below the output root, or its own path."""
    prefix = ctx.bin_dir.path + "/"
    return bitcode.path[len(prefix):] if bitcode.path.startswith(prefix) else bitcode.path

def _link_thinlto(ctx, cc_info):
    tc = find_toolchain(ctx)
    helper = tc.helper
    name = ctx.label.name
    out = ctx.actions.declare_file(name)
    lto_dir = name + ".lto"  # relative to the package, as declare_file wants

    std = tc.rust_std + tc.rust_test_std + tc.rust_panic_runtimes.values()
    inputs, bitcode, native, post_flags = _manifest_inputs(ctx, cc_info, {f.path: True for f in std})

    # Per module, the files the thin link and the backend write, named here and nowhere else:
    # the manifest tells the helper where each goes.
    modules = {}
    for b in bitcode:
        rest = lto_dir + "/" + _module_rest(ctx, b)
        modules[b.path] = struct(
            bitcode = b,
            index = ctx.actions.declare_file(rest + ".thinlto.bc"),
            imports = ctx.actions.declare_file(rest + ".imports"),
            object = ctx.actions.declare_file(rest),
            pack = ctx.actions.declare_file(rest + ".pack"),
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
        )

    manifest = ctx.actions.declare_file(lto_dir + "/manifest.json")
    ctx.actions.write(manifest, json.encode_indent({
        "version": 2,
        "output": out.path,
        "linker": {
            "driver": tc.clang,
            "flags": _toolchain_link_flags(ctx) + tc.link_flags,
            # As Bazel's own links order them: --linkopt, the binary's linkopts, its deps'. Our
            # -fuse-ld= comes last too, so that no --linkopt=-fuse-ld=... takes the thin link from lld.
            "post_flags": ctx.fragments.cpp.linkopts + ctx.attr.linkopts + post_flags + [tc.use_linker],
        },
        "inputs": inputs,
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
        inputs = depset([manifest] + bitcode + native + extracted),
        outputs = index_outputs,
        mnemonic = "ThinLtoIndex",
        progress_message = "ThinLTO thin link (index) of {} ({} bitcode modules)".format(ctx.label, len(modules)),
        execution_requirements = UNSANDBOXED,
    )

    compiler = [tc.clang, "--target=" + tc.target, "-O" + opt_level(ctx)] + ctx.fragments.cpp.copts + ctx.attr.backend_copts
    for m in modules.values():
        args = ctx.actions.args()
        args.add_all(["backend", "--module", m.bitcode, "--index", m.index, "--imports", m.imports, "--import-pack", m.pack, "--out", m.object])
        args.add("--")
        args.add_all(compiler)
        ctx.actions.run(
            executable = helper,
            arguments = [args],
            inputs = [m.bitcode, m.index, m.imports, m.pack],
            outputs = [m.object],
            execution_requirements = UNSANDBOXED,
            mnemonic = "ThinLtoBackend",
            progress_message = "ThinLTO backend {}".format(m.bitcode.short_path),
        )
    for x in archives:
        args = ctx.actions.args()
        args.add_all(["archive-backends", "--fragment", x.fragment, "--members", x.members.path, "--outputs", x.outputs.path, "--objects", x.objects.path])
        args.add("--")
        args.add_all(compiler)
        ctx.actions.run(
            executable = helper,
            arguments = [args],
            inputs = [x.fragment, x.members, x.outputs],
            outputs = [x.objects],
            execution_requirements = UNSANDBOXED,
            mnemonic = "ThinLtoBackend",
            progress_message = "ThinLTO backends of the members of {}".format(x.archive.short_path),
        )

    ctx.actions.run(
        executable = helper,
        arguments = ["link", "--manifest", manifest.path, "--params", final_params.path],
        inputs = depset([manifest, final_params] + [m.object for m in modules.values()] + native + extracted + [x.objects for x in archives]),
        outputs = [out],
        execution_requirements = UNSANDBOXED,
        mnemonic = "ThinLtoLink",
        progress_message = "ThinLTO final link of {}".format(ctx.label),
    )
    return out, [manifest, plan, final_params]

def _thinlto_binary_impl(ctx):
    cc_info = cc_common.merge_cc_infos(cc_infos = [d[CcInfo] for d in ctx.attr.deps if CcInfo in d])
    if thin_lto_enabled(ctx):
        executable, lto_files = _link_thinlto(ctx, cc_info)
    else:
        executable, lto_files = _link_native(ctx, cc_info), []
    return [
        DefaultInfo(executable = executable, files = depset([executable]), runfiles = ctx.runfiles(files = ctx.files.data)),
        OutputGroupInfo(thinlto = depset(lto_files)),
    ]

thinlto_binary = rule(
    implementation = _thinlto_binary_impl,
    doc = "Links an executable from C++ and Rust deps; with thin_lto on, through distributed ThinLTO.",
    attrs = {
        "backend_copts": attr.string_list(doc = "Extra flags for every ThinLTO backend compile (e.g. -march)."),
        "data": attr.label_list(allow_files = True, doc = "Runtime data."),
        "deps": attr.label_list(providers = [[CcInfo]], aspects = [bitcode_aspect], doc = "What the binary links: cc_library, rust_library, ..."),
        "linkopts": attr.string_list(doc = "Extra link flags."),
        "main": attr.label(doc = "The dep holding the binary's own code: linked whole, never lazily."),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    executable = True,
    fragments = ["cpp"],
    toolchains = [TOOLCHAIN_TYPE, CPP_TOOLCHAIN_TYPE],
)
