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
load("//rules/settings:settings.bzl", "BackendInputsInfo")
load(":features.bzl", "features_without_thin_lto", "opt_level", "thin_lto_enabled")
load(":providers.bzl", "BitcodeInfo")
load(":rust.bzl", "CPP_TOOLCHAIN_TYPE")
load(":toolchain.bzl", "TOOLCHAIN_TYPE", "find_toolchain")

# The thin link, the backends and the final link run outside Bazel's local sandbox, which
# would cost a symlink per declared input and a directory per action: ~15 ms per backend and
# ~1 s for a thin link and a final link of 1,000 modules, on the critical path of every
# build (BENCHMARKS.md). The helper confines them itself: it hands clang and lld only paths
# from the manifest and the plan, and in `packed` and `bundle` mode runs each backend's clang
# in a private directory holding only its module, index and imports. Remote execution (which
# ignores this tag) proves the declared inputs complete: tests/e2e/test_remote.py.
UNSANDBOXED = {"no-sandbox": "1"}

def _bitcode_aspect_impl(target, ctx):
    if BitcodeInfo in target:
        return []
    deps = getattr(ctx.rule.attr, "deps", [])
    return [BitcodeInfo(objects = depset(transitive = [d[BitcodeInfo].objects for d in deps if BitcodeInfo in d]))]

bitcode_aspect = aspect(
    implementation = _bitcode_aspect_impl,
    attr_aspects = ["deps"],
    doc = "Collects BitcodeInfo (bitcode objects from rustc and other non-C++ compilers) through deps.",
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

def _manifest_inputs(ctx, cc_info):
    """The link's inputs in command-line order, as manifest entries, plus their files."""
    main_owner = ctx.attr.main.label if ctx.attr.main else None
    non_cc_bitcode = {}
    for d in ctx.attr.deps:
        if BitcodeInfo in d:
            for f in d[BitcodeInfo].objects.to_list():
                non_cc_bitcode[f] = True

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
                if archive:
                    inputs.append({"kind": "archive", "path": archive.path, "owner": owner})
                    native.append(archive)
                continue
            lto = {f: True for f in lib.lto_bitcode_files + lib.pic_lto_bitcode_files}
            entries = []
            for o in objects:
                if o in lto or o in non_cc_bitcode:
                    entries.append({"kind": "bitcode", "path": o.path, "owner": owner})
                    bitcode.append(o)
                else:
                    entries.append({"kind": "object", "path": o.path, "owner": owner})
                    native.append(o)
            if li.owner == main_owner or lib.alwayslink:
                inputs.extend(entries)
            else:
                inputs.append({"kind": "start_lib", "members": entries})
    return inputs, bitcode, native, post_flags

def _link_thinlto(ctx, cc_info):
    tc = find_toolchain(ctx)
    helper = tc.helper
    name = ctx.label.name
    out = ctx.actions.declare_file(name)
    bin_dir = ctx.bin_dir.path
    lto_dir = name + ".lto"  # relative to the package, as declare_file wants
    lto_path = "/".join([p for p in [bin_dir, ctx.label.package, lto_dir] if p])
    mode = ctx.attr._backend_inputs[BackendInputsInfo].value

    inputs, bitcode, native, post_flags = _manifest_inputs(ctx, cc_info)
    manifest = ctx.actions.declare_file(lto_dir + "/manifest.json")
    ctx.actions.write(manifest, json.encode_indent({
        "version": 1,
        "output": out.path,
        "linker": {
            "driver": tc.clang,
            "flags": _toolchain_link_flags(ctx) + tc.link_flags,
            "post_flags": ctx.attr.linkopts + post_flags,
        },
        "prefix_replace": {"old": bin_dir, "new": lto_path},
        "inputs": inputs,
    }) + "\n")

    # Per module: the thin link's index and imports list, and the backend's object.
    modules = []
    for b in bitcode:
        if not b.path.startswith(bin_dir + "/"):
            fail("{}: bitcode input {} is not a build output (under {}); ThinLTO needs it compiled by the build".format(ctx.label, b.path, bin_dir))
        rest = lto_dir + "/" + b.path[len(bin_dir) + 1:]
        modules.append(struct(
            bitcode = b,
            index = ctx.actions.declare_file(rest + ".thinlto.bc"),
            imports = ctx.actions.declare_file(rest + ".imports"),
            object = ctx.actions.declare_file(rest),
            bundle = ctx.actions.declare_directory(rest + ".bundle") if mode == "bundle" else None,
            pack = ctx.actions.declare_file(rest + ".pack") if mode == "packed" else None,
            unused = ctx.actions.declare_file(rest + ".unused") if mode == "all_bitcode" else None,
        ))

    plan = ctx.actions.declare_file(lto_dir + "/plan.json")
    final_params = ctx.actions.declare_file(lto_dir + "/final.params")
    index_outputs = [plan, final_params] + [m.index for m in modules] + [m.imports for m in modules]
    index_args = ctx.actions.args()
    index_args.add_all(["index", "--manifest", manifest, "--plan", plan, "--final-link-params", final_params])
    if mode == "packed":
        index_args.add("--packs")
        index_outputs.extend([m.pack for m in modules])
    elif mode == "bundle":
        index_args.add("--bundles")
        index_outputs.extend([m.bundle for m in modules])
    link_inputs = depset([manifest] + bitcode + native)
    ctx.actions.run(
        executable = helper,
        arguments = [index_args],
        inputs = link_inputs,
        outputs = index_outputs,
        mnemonic = "ThinLtoIndex",
        progress_message = "ThinLTO thin link (index) of {} ({} bitcode modules)".format(ctx.label, len(modules)),
        execution_requirements = UNSANDBOXED,
    )

    all_bitcode = depset(bitcode)
    bitcode_list = None
    if mode == "all_bitcode":
        bitcode_list = ctx.actions.declare_file(lto_dir + "/bitcode.list")
        ctx.actions.write(bitcode_list, "".join([b.path + "\n" for b in bitcode]))

    # all_bitcode declares every module so that the unused list can name what a backend
    # skipped; clang runs in the exec root: a private directory would cost one symlink per
    # import, ~0.5 s for a `main` that imports every module, on the critical path.
    compiler = [tc.clang, "--target=" + tc.target, "-O" + opt_level(ctx)] + ctx.fragments.cpp.copts + ctx.attr.backend_copts
    for m in modules:
        args = ctx.actions.args()
        args.add_all(["backend", "--module", m.bitcode, "--index", m.index, "--imports", m.imports, "--out", m.object])
        outputs = [m.object]
        if mode == "packed":
            args.add("--import-pack", m.pack)
            inputs = depset([m.bitcode, m.index, m.imports, m.pack])
            unused = None
        elif mode == "bundle":
            args.add("--import-root", m.bundle.path)
            inputs = depset([m.bitcode, m.index, m.imports, m.bundle])
            unused = None
        else:
            args.add_all(["--in-exec-root", "--unused-inputs-list", m.unused, "--bitcode-list", bitcode_list])
            inputs = depset([m.index, m.imports, bitcode_list], transitive = [all_bitcode])
            outputs.append(m.unused)
            unused = m.unused
        args.add("--")
        args.add_all(compiler)
        ctx.actions.run(
            executable = helper,
            arguments = [args],
            inputs = inputs,
            outputs = outputs,
            unused_inputs_list = unused,
            execution_requirements = UNSANDBOXED,
            mnemonic = "ThinLtoBackend",
            progress_message = "ThinLTO backend {}".format(m.bitcode.short_path),
        )

    ctx.actions.run(
        executable = helper,
        arguments = ["link", "--manifest", manifest.path, "--params", final_params.path],
        inputs = depset([manifest, final_params] + [m.object for m in modules] + native),
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
        "_backend_inputs": attr.label(default = Label("//rules/settings:backend_inputs")),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    executable = True,
    fragments = ["cpp"],
    toolchains = [TOOLCHAIN_TYPE, CPP_TOOLCHAIN_TYPE],
)
