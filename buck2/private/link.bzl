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

Paths. The helper names each module's files by lld's prefix rule (tools/thinlto/src/
layout.rs): module `OLD/REST` gets `NEW/REST.thinlto.bc`, `NEW/REST.imports` and the backend
object `NEW/REST`. Buck2 wants every output declared by name before its action runs, so
every bitcode module is first put under one directory of this target, OLD = `thinlto/bc`,
at a REST chosen here (`a<N>/<member>` for archive members, `o<N>/<name>` for loose
objects), and the thin-link dynamic action declares `thinlto/lto/REST.*` for each. All of
these outputs have configuration-based paths (`has_content_based_path = False`): the
helper and lld must know the paths before the contents exist.
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

# Per-module plans (`thinlto index --module-plans` writes `<object>.plan.json` next to
# each module's index): each backend's dynamic action reads only its own module's plan,
# so a change to one plan re-analyses one backend. False reads the whole plan instead.
_PER_MODULE_PLANS = True

# The fragment and manifest formats (tools/thinlto/src/{extract,manifest}.rs) this file writes and reads.
_FRAGMENT_VERSION = 1
_MANIFEST_VERSION = 1

# Where, below the target's output directory, bitcode modules (OLD) and their
# per-module files (NEW) go.
_BC_DIR = "thinlto/bc"
_LTO_DIR = "thinlto/lto"

# One loose object of an ObjectsLinkable, copied to `thinlto/bc/<rest>`.
# buildifier: disable=name-conventions
_LooseObject = record(
    # `o<N>/<basename>`.
    rest = str,
    copy = Artifact,
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
    # kind == "archive": `a<N>`, the directory of its members and the fragment's position
    # in the dynamic action's list of fragments.
    tag = field(str, ""),
    members_dir = field(Artifact | None, None),
    fragment = field(int, -1),
    # kind == "native": the archive.
    archive = field(Artifact | None, None),
)

# One bitcode module of the link, once the fragments are read.
# buildifier: disable=name-conventions
_Module = record(
    # Path below `thinlto/bc/`; the module's files are `thinlto/lto/<rest>.*`.
    rest = str,
    # The bitcode (a copy or an archive member).
    bitcode = Artifact,
    index = Artifact,
    imports_file = Artifact,
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
                    rest = "o{}/{}".format(n_objects, obj.basename)
                    n_objects += 1
                    copy = ctx.actions.copy_file(_BC_DIR + "/" + rest, obj, has_content_based_path = False)
                    objects.append(_LooseObject(rest = rest, copy = copy, owner = _owner(obj)))
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
                    "--owner",
                    _owner(archive.artifact),
                )
                if linkable.link_whole:
                    cmd.add("--whole")
                ctx.actions.run(cmd, category = "thinlto_extract", identifier = tag)
                parts.append(_Part(kind = "archive", tag = tag, members_dir = members, fragment = len(fragments)))
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
    """The fragment's manifest inputs, with each bitcode member registered as a module."""
    if fragment.get("version") != _FRAGMENT_VERSION:
        fail("{}: fragment of {} has version {}, these rules read {}: rules and helper are out of step".format(
            label,
            fragment.get("archive"),
            fragment.get("version"),
            _FRAGMENT_VERSION,
        ))

    def register(entry: dict):
        if entry["kind"] == "bitcode":
            name = _member_name(entry["path"])
            add_module(part.tag + "/" + name, part.members_dir.project(name, hide_prefix = False))

    entries = []
    for entry in fragment["inputs"]:
        entries.extend(entry["members"] if entry["kind"] == "start_lib" else [entry])
    for entry in entries:
        register(entry)

    # A staticlib rustc made with -Clinker-plugin-lto always has bitcode members (the crates'
    # code units and the allocator shim; std's are native). One with none was compiled
    # without it, and its Rust code would silently stay out of the thin link.
    archive = fragment["archive"]
    from_rustc = any([e["path"].endswith(".rcgu.o") for e in entries])
    if from_rustc and archive.endswith(".a") and not any([e["kind"] == "bitcode" for e in entries]):
        fail("{}: {} was compiled by rustc without -Clinker-plugin-lto (it has no bitcode members): add thinlto_rustc_flags() from @thinlto//buck2:defs.bzl to the Rust toolchain's rustc_flags ({})".format(
            label,
            archive,
            CONFIG_HINT,
        ))
    return fragment["inputs"]

def _module_plan(plan: dict, rest: str, label: Label) -> dict:
    """The plan of module `rest`: a per-module plan file as it is, or its entry in the whole plan."""
    if "modules" not in plan:
        return plan
    suffix = "/" + rest
    for m in plan["modules"]:
        if m["module"].endswith(suffix):
            return m
    fail("{}: the plan has no module {}".format(label, rest))

def _backend_impl(
        actions: AnalysisActions,
        plan: ArtifactValue,
        module: _Module,
        modules: dict[str, Artifact],
        helper: RunInfo,
        compiler: cmd_args,
        label: Label,
        out: OutputArtifact) -> list[Provider]:
    p = _module_plan(plan.read_json(), module.rest, label)

    # A module the linker left unloaded (a lazy member nothing referenced) has a skip
    # index; its backend writes an empty object, which the final link leaves out. It
    # still runs here rather than `write`-ing an empty file: with buck2 83b3d4e270 an
    # output bound by a write action in one build and by the same run action as an
    # earlier build in the next kept the write's empty content (the final link then
    # missed the module's symbols), measured by tests/buck2 (unloaded and loaded again).

    # The module's path is OLD/rest: what precedes `rest` is OLD, the prefix every
    # import shares (the helper checked each import is a module of the manifest).
    old = p["module"][:len(p["module"]) - len(module.rest)]
    imports = []
    for path in p["imports"]:
        rest = path[len(old):] if path.startswith(old) else None
        if rest not in modules:
            fail("{}: module {} imports {}, which is not a bitcode module of this link".format(label, p["module"], path))
        imports.append(modules[rest])
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
        identifier = module.rest,
    )
    return []

_backend = dynamic_actions(
    impl = _backend_impl,
    attrs = {
        "compiler": dynattrs.value(cmd_args),
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "module": dynattrs.value(_Module),
        "modules": dynattrs.value(dict[str, Artifact]),
        "out": dynattrs.output(),
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
    by_rest = {}
    inputs = []
    native = []

    def add_module(rest: str, bitcode: Artifact):
        index = actions.declare_output(_LTO_DIR + "/" + rest + ".thinlto.bc", has_content_based_path = False)
        imports_file = actions.declare_output(_LTO_DIR + "/" + rest + ".imports", has_content_based_path = False)
        m = _Module(rest = rest, bitcode = bitcode, index = index, imports_file = imports_file)
        modules.append(m)
        by_rest[rest] = bitcode

    for part in parts:
        if part.kind == "objects":
            entries = []
            for o in part.objects:
                add_module(o.rest, o.copy)
                entries.append({"kind": "bitcode", "owner": o.owner, "path": o.copy})
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

    # OLD and NEW of the prefix rule, as paths: every module is OLD/<x>/<name> (a copy
    # or an archive member), every index NEW/<x>/<name>.thinlto.bc.
    old = cmd_args(modules[0].bitcode, parent = 2, delimiter = "", ignore_artifacts = True)
    new = cmd_args(modules[0].index, parent = 2, delimiter = "", ignore_artifacts = True)

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
            "output": cmd_args(binary, delimiter = "", ignore_artifacts = True),
            "prefix_replace": {"new": new, "old": old},
            "version": _MANIFEST_VERSION,
        },
        pretty = True,
        has_content_based_path = False,
    )

    plan = actions.declare_output("thinlto/plan.json", has_content_based_path = False)
    params = actions.declare_output("thinlto/final.params", has_content_based_path = False)
    objects = {m.rest: actions.declare_output(_LTO_DIR + "/" + m.rest, has_content_based_path = False) for m in modules}
    module_plans = {}
    index_outputs = [plan.as_output(), params.as_output()]
    for m in modules:
        index_outputs.extend([m.index.as_output(), m.imports_file.as_output()])
        if _PER_MODULE_PLANS:
            module_plans[m.rest] = actions.declare_output(_LTO_DIR + "/" + m.rest + ".plan.json", has_content_based_path = False)
            index_outputs.append(module_plans[m.rest].as_output())
    link_inputs = [m.bitcode for m in modules] + native
    index_cmd = cmd_args(
        helper,
        "index",
        "--manifest",
        manifest,
        "--plan",
        plan.as_output(),
        "--final-link-params",
        params.as_output(),
        hidden = link_inputs + index_outputs[2:] + [pre_flags, post_flags],
    )
    if _PER_MODULE_PLANS:
        index_cmd.add("--module-plans")
    actions.run(index_cmd, category = "thinlto_index", identifier = "index")

    for m in modules:
        actions.dynamic_output_new(_backend(
            plan = module_plans[m.rest] if _PER_MODULE_PLANS else plan,
            module = m,
            modules = by_rest,
            helper = helper,
            compiler = compiler,
            label = label,
            out = objects[m.rest].as_output(),
        ))

    actions.run(
        cmd_args(
            helper,
            "link",
            "--manifest",
            manifest,
            "--params",
            params,
            hidden = list(objects.values()) + native + [binary, pre_flags, post_flags],
        ),
        category = "thinlto_link",
        identifier = "link",
    )
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
