"""Distributed ThinLTO link of a Buck2 binary, one action per step, through the `thinlto` helper.

    deps' objects and archives (prelude cxx_library / rust_library, compiled to bitcode)
      -> thinlto_extract  one per archive: `thinlto extract` splits it into member files
                          and a fragment (JSON) saying which are bitcode
      -> thinlto_index    one per binary, in a dynamic action reading the fragments:
                          `thinlto index` (lld --thinlto-index-only) writes each module's
                          .thinlto.bc and .imports, the plan and the final link's params
      -> thinlto_backend  one per bitcode module, each in its OWN dynamic action reading
                          its plan: inputs are the module, its index, its imports list and
                          exactly the modules it imports (`thinlto backend`)
      -> thinlto_link     one per binary: `thinlto link`, backend objects in place of bitcode

As in prelude/cxx/dist_lto/dist_lto.bzl, each backend has a dynamic action of its own,
reading only its plan: a change to one module's plan re-analyses only its backend. (The
prelude adds that an action re-runs whenever its analysis re-runs; the buck2 built here,
83b3d4e270, does not re-execute a re-analysed action whose command and inputs are
unchanged, so what one action per module saves there is analysis.) Everything the helper
can parse (fragments, plans) it writes as JSON; Starlark only maps paths to artifacts.

Paths. The manifest names, per bitcode module, where the thin link and the backend write its
files; the helper runs lld into a staging directory of its own and moves each file there.
Loose objects are linked where they are; archive members are extracted under
`thinlto/bc/a<N>/`, and each module's files go to `thinlto/lto/<o|a><N>/<name>.*`. All of
these outputs have configuration-based paths (`has_content_based_path = False`): the helper
and lld must know the paths before the contents exist.

The final link is a dynamic action too, reading the plan: it depends on the backend objects
of the modules the linker loaded only, so a module nothing referenced (a lazy member) never
has its backend run.
"""

load("@prelude//cxx:cxx_toolchain_types.bzl", "CxxToolchainInfo")
load(
    "@prelude//linking:link_info.bzl",
    "ArchiveContentsType",
    "ArchiveLinkable",
    "LinkInfo",
    "LinkStrategy",
    "MergedLinkInfo",
    "ObjectsLinkable",
    "SharedLibLinkable",
    "get_link_args_for_strategy",
    "map_to_link_infos",
)
load(":toolchain.bzl", "CONFIG_HINT", "ThinLtoToolchainInfo")

# The fragment, manifest and plan formats (tools/thinlto/src/{extract,manifest,plan}.rs)
# this file writes and reads.
_FRAGMENT_VERSION = 2
_MANIFEST_VERSION = 2
_PLAN_VERSION = 2

# Where, below the target's output directory, extracted archive members and each module's
# files go.
_BC_DIR = "thinlto/bc"
_LTO_DIR = "thinlto/lto"

# One loose object of an ObjectsLinkable.
# buildifier: disable=name-conventions
_LooseObject = record(
    # `o<N>/<basename>`: where below thinlto/lto/ its files go.
    name = str,
    object = Artifact,
    owner = str,
)

# One position on the link command line, before the archives are split.
# buildifier: disable=name-conventions
_Part = record(
    # "objects": loose objects (assumed bitcode, see _objects_part)
    # "archive": an archive split by `thinlto extract` (fragment tells what is bitcode)
    # "native": an archive passed as it is
    kind = str,
    # kind == "objects": the objects, and whether they are a lazy (--start-lib) group.
    objects = field(list[_LooseObject], []),
    lazy = field(bool, False),
    # kind == "archive": `a<N>`, the directory of its members, the fragment's position
    # in the dynamic action's list of fragments, and whether every member is linked.
    tag = field(str, ""),
    members_dir = field(Artifact | None, None),
    fragment = field(int, -1),
    whole = field(bool, False),
    # kind == "native": the archive.
    archive = field(Artifact | None, None),
)

# One bitcode module of the link, once the fragments are read.
# buildifier: disable=name-conventions
_Module = record(
    # `<o|a><N>/<name>`: its files are `thinlto/lto/<name>.*`.
    name = str,
    # The bitcode (a loose object or an extracted archive member).
    bitcode = Artifact,
    index = Artifact,
    imports_file = Artifact,
    # Its own plan: loaded or not, and what it imports.
    plan = Artifact,
    object = Artifact,
)

def _owner(artifact: Artifact) -> str:
    owner = artifact.owner
    return str(owner.raw_target()) if owner else artifact.short_path

def _flag_args(infos: list[LinkInfo]) -> (list, list):
    """Every LinkInfo's pre and post flags, in link order.

    The manifest keeps flags before and after all inputs, not between them: a flag that
    must sit next to one input (`-Wl,--whole-archive` around a library) is not supported.
    """
    pre, post = [], []
    for info in infos:
        pre.extend(info.pre_flags)
        post.extend(info.post_flags)
    return pre, post

def _parts(ctx: AnalysisContext, helper: RunInfo, infos: list[LinkInfo]) -> (list[_Part], list[Artifact]):
    """The link's inputs in command-line order, and the fragment each archive's extraction writes."""
    parts = []
    fragments = []
    n_objects = 0
    for info in infos:
        for linkable in info.linkables:
            if isinstance(linkable, ObjectsLinkable):
                objects = []
                for obj in linkable.objects or []:
                    objects.append(_LooseObject(name = "o{}/{}".format(n_objects, obj.basename), object = obj, owner = _owner(obj)))
                    n_objects += 1
                if objects:
                    parts.append(_Part(kind = "objects", objects = objects, lazy = not linkable.link_whole))
            elif isinstance(linkable, ArchiveLinkable):
                archive = linkable.archive
                if archive.archive_contents_type != ArchiveContentsType("normal"):
                    fail("{}: {} is a thin or virtual archive; distributed ThinLTO needs the archive's own members (use archive_contents = \"normal\")".format(ctx.label, archive.artifact.short_path))
                if not linkable.supports_lto:
                    parts.append(_Part(kind = "native", archive = archive.artifact))
                    continue
                tag = "a{}".format(len(fragments))
                members = ctx.actions.declare_output(_BC_DIR + "/" + tag, dir = True, has_content_based_path = False)
                fragment = ctx.actions.declare_output(_BC_DIR + "/" + tag + ".fragment.json", has_content_based_path = False)
                cmd = cmd_args(
                    helper,
                    "extract",
                    "--archive",
                    archive.artifact,
                    "--out-dir",
                    members.as_output(),
                    "--fragment",
                    fragment.as_output(),
                )
                ctx.actions.run(cmd, category = "thinlto_extract", identifier = tag)
                parts.append(_Part(kind = "archive", tag = tag, members_dir = members, fragment = len(fragments), whole = linkable.link_whole))
                fragments.append(fragment)
            elif isinstance(linkable, SharedLibLinkable):
                fail("{}: {} is a shared library; distributed ThinLTO links static executables only (give the dependency preferred_linkage = \"static\")".format(ctx.label, linkable.lib.short_path))
            else:
                fail("{}: cannot link {} with distributed ThinLTO".format(ctx.label, linkable))
    return parts, fragments

def _check_bitcode_flags(label: Label, cxx: CxxToolchainInfo):
    """Fails unless the C and C++ compilers of the toolchain emit ThinLTO bitcode.

    Without it every C/C++ object would be native and silently left out of the thin link.
    """
    for lang, info in [("C++", cxx.cxx_compiler_info), ("C", cxx.c_compiler_info)]:
        if not info:
            continue
        flags = [str(f).strip("\"") for f in info.compiler_flags]
        if "-flto=thin" not in flags:
            fail("{}: distributed ThinLTO needs {} compiled to ThinLTO bitcode, but the C++ toolchain's {} flags have no -flto=thin: add thinlto_cxx_flags() from @thinlto//buck2:defs.bzl to its c_flags and cxx_flags ({})".format(
                label,
                lang,
                lang,
                CONFIG_HINT,
            ))

def _member_name(path: str) -> str:
    return path[path.rfind("/") + 1:]

def _splice_fragment(part: _Part, fragment: dict, label: Label, add_module) -> list:
    """The manifest inputs of an extracted archive, each bitcode member registered as a module."""
    if fragment.get("version") != _FRAGMENT_VERSION:
        fail("{}: fragment of {} has version {}, these rules read {}: rules and helper are out of step".format(
            label,
            fragment.get("archive"),
            fragment.get("version"),
            _FRAGMENT_VERSION,
        ))
    archive = fragment["archive"]
    entries = []
    for member in fragment["members"]:
        name = _member_name(member["path"])
        artifact = part.members_dir.project(name, hide_prefix = False)
        if member["bitcode"]:
            entries.append(add_module(part.tag + "/" + name, artifact, archive))
        else:
            entries.append({"kind": "object", "owner": archive, "path": artifact})

    # A staticlib rustc made with -Clinker-plugin-lto always has bitcode members (the crates'
    # code units and the allocator shim; std's are native). One with none was compiled
    # without it, and its Rust code would silently stay out of the thin link.
    from_rustc = any([m["path"].endswith(".rcgu.o") for m in fragment["members"]])
    if from_rustc and archive.endswith(".a") and not any([m["bitcode"] for m in fragment["members"]]):
        fail("{}: {} was compiled by rustc without -Clinker-plugin-lto (it has no bitcode members): add thinlto_rustc_flags() from @thinlto//buck2:defs.bzl to the Rust toolchain's rustc_flags ({})".format(
            label,
            archive,
            CONFIG_HINT,
        ))
    if part.whole or not entries:
        return entries
    return [{"kind": "start_lib", "members": entries}]

def _path(artifact: Artifact | OutputArtifact) -> cmd_args:
    """An output's path for the manifest, before the action that writes it has run."""
    return cmd_args(artifact, delimiter = "", ignore_artifacts = True)

def _backend_impl(
        actions: AnalysisActions,
        module_plan: ArtifactValue,
        module: _Module,
        bitcode: list[Artifact],
        helper: RunInfo,
        compiler: cmd_args,
        label: Label,
        out: OutputArtifact) -> list[Provider]:
    p = module_plan.read_json()
    if p.get("version") != _PLAN_VERSION:
        fail("{}: the plan of {} has version {}, these rules read {}: rules and helper are out of step".format(label, module.name, p.get("version"), _PLAN_VERSION))

    # Exactly the modules its imports list names: `imports` holds their positions among the
    # link's bitcode modules, in the order the manifest lists them.
    imports = [bitcode[i] for i in p["imports"]]
    actions.run(
        cmd_args(
            helper,
            "backend",
            "--module",
            module.bitcode,
            "--index",
            module.index,
            "--imports",
            module.imports_file,
            "--out",
            out,
            "--",
            compiler,
            hidden = imports,
        ),
        category = "thinlto_backend",
        identifier = module.name,
    )
    return []

_backend = dynamic_actions(
    impl = _backend_impl,
    attrs = {
        "bitcode": dynattrs.value(list[Artifact]),
        "compiler": dynattrs.value(cmd_args),
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "module": dynattrs.value(_Module),
        "module_plan": dynattrs.artifact_value(),
        "out": dynattrs.output(),
    },
)

def _final_link_impl(
        actions: AnalysisActions,
        plan: ArtifactValue,
        objects: list[Artifact],
        native: list[Artifact],
        manifest: Artifact,
        params: Artifact,
        flags: cmd_args,
        helper: RunInfo,
        label: Label,
        binary: OutputArtifact) -> list[Provider]:
    p = plan.read_json()
    if p.get("version") != _PLAN_VERSION:
        fail("{}: plan version {}, these rules read {}: rules and helper are out of step".format(label, p.get("version"), _PLAN_VERSION))

    # Only the objects of modules the linker loaded: the backends of the others never run.
    loaded = [objects[i] for i, m in enumerate(p["modules"]) if m["loaded"]]
    actions.run(
        cmd_args(
            helper,
            "link",
            "--manifest",
            manifest,
            "--params",
            params,
            hidden = loaded + native + [binary, flags],
        ),
        category = "thinlto_link",
        identifier = "link",
    )
    return []

_final_link = dynamic_actions(
    impl = _final_link_impl,
    attrs = {
        "binary": dynattrs.output(),
        "flags": dynattrs.value(cmd_args),
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "manifest": dynattrs.value(Artifact),
        "native": dynattrs.value(list[Artifact]),
        "objects": dynattrs.value(list[Artifact]),
        "params": dynattrs.value(Artifact),
        "plan": dynattrs.artifact_value(),
    },
)

def _thin_link_impl(
        actions: AnalysisActions,
        fragments: list[ArtifactValue],
        parts: list[_Part],
        linker: cmd_args,
        pre_flags: cmd_args,
        post_flags: cmd_args,
        compiler: cmd_args,
        helper: RunInfo,
        label: Label,
        binary: OutputArtifact) -> list[Provider]:
    modules = []
    inputs = []
    native = []

    def add_module(name: str, bitcode: Artifact, owner: str) -> dict:
        def declare(suffix):
            return actions.declare_output(_LTO_DIR + "/" + name + suffix, has_content_based_path = False)

        m = _Module(
            name = name,
            bitcode = bitcode,
            index = declare(".thinlto.bc"),
            imports_file = declare(".imports"),
            plan = declare(".plan.json"),
            object = declare(""),
        )
        modules.append(m)
        return {
            "kind": "bitcode",
            "outputs": {
                "imports": _path(m.imports_file),
                "index": _path(m.index),
                "object": _path(m.object),
                "plan": _path(m.plan),
            },
            "owner": owner,
            "path": bitcode,
        }

    for part in parts:
        if part.kind == "objects":
            entries = [add_module(o.name, o.object, o.owner) for o in part.objects]
            if part.lazy:
                inputs.append({"kind": "start_lib", "members": entries})
            else:
                inputs.extend(entries)
        elif part.kind == "archive":
            inputs.extend(_splice_fragment(part, fragments[part.fragment].read_json(), label, add_module))
            native.append(part.members_dir)
        else:
            inputs.append({"kind": "archive", "path": part.archive})
            native.append(part.archive)

    if not modules:
        fail("{}: no ThinLTO bitcode among the link's inputs: compile C++ with -flto=thin and Rust with -Clinker-plugin-lto ({}, and add thinlto_cxx_flags() / thinlto_rustc_flags() from @thinlto//buck2:defs.bzl to the C++ and Rust toolchains)".format(label, CONFIG_HINT))

    manifest = actions.declare_output("thinlto/manifest.json", has_content_based_path = False)
    actions.write_json(
        manifest,
        {
            "inputs": inputs,
            "linker": {
                "driver": cmd_args(linker, delimiter = ""),
                "flags": pre_flags,
                "post_flags": post_flags,
            },
            "output": _path(binary),
            "version": _MANIFEST_VERSION,
        },
        pretty = True,
        has_content_based_path = False,
    )

    plan = actions.declare_output("thinlto/plan.json", has_content_based_path = False)
    params = actions.declare_output("thinlto/final.params", has_content_based_path = False)
    index_outputs = [plan.as_output(), params.as_output()]
    for m in modules:
        index_outputs.extend([m.index.as_output(), m.imports_file.as_output(), m.plan.as_output()])
    actions.run(
        cmd_args(
            helper,
            "index",
            "--manifest",
            manifest,
            "--plan",
            plan.as_output(),
            "--final-link-params",
            params.as_output(),
            hidden = [m.bitcode for m in modules] + native + index_outputs[2:] + [pre_flags, post_flags],
        ),
        category = "thinlto_index",
        identifier = "index",
    )

    # One dynamic action per backend, each reading only its module's own plan: a change to
    # one module's imports re-analyses only its backend (as the prelude's dist_lto does).
    bitcode = [m.bitcode for m in modules]
    for m in modules:
        actions.dynamic_output_new(_backend(
            module_plan = m.plan,
            module = m,
            bitcode = bitcode,
            helper = helper,
            compiler = compiler,
            label = label,
            out = m.object.as_output(),
        ))

    actions.dynamic_output_new(_final_link(
        plan = plan,
        objects = [m.object for m in modules],
        native = native,
        manifest = manifest,
        params = params,
        flags = cmd_args(pre_flags, post_flags),
        helper = helper,
        label = label,
        binary = binary,
    ))
    return []

_thin_link = dynamic_actions(
    impl = _thin_link_impl,
    attrs = {
        "binary": dynattrs.output(),
        "compiler": dynattrs.value(cmd_args),
        "fragments": dynattrs.list(dynattrs.artifact_value()),
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "linker": dynattrs.value(cmd_args),
        "parts": dynattrs.value(list[_Part]),
        "post_flags": dynattrs.value(cmd_args),
        "pre_flags": dynattrs.value(cmd_args),
    },
)

def thinlto_link(ctx: AnalysisContext, deps: list[Dependency], output_name: str) -> Artifact:
    """Links `deps` into an executable through distributed ThinLTO.

    Args:
      ctx: the rule's context; needs the attrs `_thinlto_toolchain`, `_cxx_toolchain`,
        `linker_flags` and `backend_flags`.
      deps: what the executable links (MergedLinkInfo), the one holding `main` linked whole.
      output_name: the executable's name, below the target's output directory.

    Returns:
      The executable (bound by the final link, inside the thin link's dynamic action).
    """
    tc = ctx.attrs._thinlto_toolchain[ThinLtoToolchainInfo]
    if tc.mode != "distributed":
        fail("{}: links with distributed ThinLTO, but the thinlto toolchain's mode is {}: {}".format(ctx.label, repr(tc.mode), CONFIG_HINT))
    cxx = ctx.attrs._cxx_toolchain[CxxToolchainInfo]
    linker_info = cxx.linker_info
    _check_bitcode_flags(ctx.label, cxx)

    link_args = get_link_args_for_strategy(
        ctx.actions,
        ctx.label,
        linker_info,
        [d[MergedLinkInfo] for d in deps],
        LinkStrategy("static_pic"),
        False,
        None,
    )
    infos = map_to_link_infos([link_args])
    parts, fragments = _parts(ctx, tc.helper, infos)
    info_pre, info_post = _flag_args(infos)

    binary = ctx.actions.declare_output(output_name, has_content_based_path = False)

    # The C++ toolchain's link flags, ours (lld, which the thin link needs: a later
    # -fuse-ld= wins), the deps' and the target's.
    pre_flags = cmd_args(linker_info.linker_flags, "-fuse-ld=lld", info_pre, ctx.attrs.linker_flags)
    post_flags = cmd_args(info_post, linker_info.post_linker_flags)
    compiler = cmd_args(cxx.cxx_compiler_info.compiler, tc.backend_flags, ctx.attrs.backend_flags)

    ctx.actions.dynamic_output_new(_thin_link(
        fragments = fragments,
        parts = parts,
        linker = cmd_args(linker_info.linker),
        pre_flags = pre_flags,
        post_flags = post_flags,
        compiler = compiler,
        helper = tc.helper,
        label = ctx.label,
        binary = binary.as_output(),
    ))
    return binary

def _thinlto_cxx_binary_impl(ctx: AnalysisContext) -> list[Provider]:
    binary = thinlto_link(ctx, ctx.attrs.deps, ctx.label.name)
    return [
        DefaultInfo(default_output = binary),
        RunInfo(args = cmd_args(binary)),
    ]

thinlto_cxx_binary = rule(
    impl = _thinlto_cxx_binary_impl,
    doc = """An executable linked from `deps` (prelude cxx_library, rust_library, ...) with distributed ThinLTO.

Needs the C++ toolchain to compile bitcode (`thinlto_cxx_flags()`), the Rust toolchain too
(`thinlto_rustc_flags()`), and `[thinlto] mode = distributed`. Usually created by the
`cxx_binary` macro of @thinlto//buck2:defs.bzl rather than directly.""",
    attrs = {
        "backend_flags": attrs.list(attrs.arg(), default = [], doc = "Extra flags for this binary's backend compiles."),
        "deps": attrs.list(attrs.dep(providers = [MergedLinkInfo]), default = [], doc = "What the binary links; the one holding `main` should have link_whole = True."),
        "linker_flags": attrs.list(attrs.arg(), default = [], doc = "Extra flags for the thin link and the final link."),
        "_cxx_toolchain": attrs.toolchain_dep(default = "toolchains//:cxx", providers = [CxxToolchainInfo]),
        "_thinlto_toolchain": attrs.toolchain_dep(default = "toolchains//:thinlto", providers = [ThinLtoToolchainInfo]),
    },
)
