"""Distributed ThinLTO link of a Buck2 binary, one action per step, through the `thinlto` helper.

    the link's inputs (the binary's objects, prelude cxx_library / rust_library archives,
    rustc's own link inputs for a Rust main), compiled to bitcode
      -> thinlto_extract  one per archive: `thinlto extract` splits it into member files
                          and a fragment (JSON) saying which are bitcode
      -> thinlto_index    one per binary, in a dynamic action reading the fragments:
                          `thinlto index` (lld --thinlto-index-only) writes each module's
                          .thinlto.bc and .imports, the plan and the final link's params
      -> thinlto_backend  one per bitcode module, each in its OWN dynamic action reading
                          its plan: inputs are the module, its index, its imports list and
                          exactly the modules it imports (`thinlto backend`)
      -> thinlto_link     one per binary: `thinlto link`, backend objects in place of bitcode
    -> thinlto_report   on request (the sub-target [thinlto-report]): `thinlto report`, the
                        HTML page of what the thin link decided and, with `[thinlto] remarks`,
                        what each backend's inliner did (docs/report.md)

As in prelude/cxx/dist_lto/dist_lto.bzl, each backend has a dynamic action of its own,
reading only its plan: a change to one module's plan re-analyses only its backend. (The
prelude adds that an action re-runs whenever its analysis re-runs; the buck2 built here,
83b3d4e270, does not re-execute a re-analysed action whose command and inputs are
unchanged, so what one action per module saves there is analysis.) Everything the helper
can parse (fragments, plans) it writes as JSON; Starlark only maps paths to artifacts.

Paths. The manifest names, per bitcode module, where the thin link and the backend write its
files; the helper runs lld into a staging directory of its own and moves each file there.
Loose objects are linked where they are; archive members are extracted under
`thinlto/bc/a<N>/`, and each module's files go to `thinlto/lto/<o|a|c><N>/<name>.*`. All of
these outputs have configuration-based paths (`has_content_based_path = False`): the helper
and lld must know the paths before the contents exist.

The final link is a dynamic action too, reading the plan: it depends on the backend objects
of the modules the linker loaded only, so a module nothing referenced (a lazy member) never
has its backend run. So does the report, for the backends' remarks.

A shared library (`linkshared`) is the same link with `-shared` among its flags, and its
backends compile position-independent code (`-fPIC`): clang takes the relocation model of
`-x ir` from its command line, not from the bitcode.
"""

load("@prelude//cxx:cxx_toolchain_types.bzl", "CxxToolchainInfo")
load(
    "@prelude//linking:link_info.bzl",
    "ArchiveContentsType",
    "ArchiveLinkable",
    "FrameworksLinkable",
    "LinkArgs",
    "LinkInfo",
    "ObjectsLinkable",
    "SharedLibLinkable",
    "SwiftmoduleLinkable",
    "map_to_link_infos",
)
load("@prelude//linking:lto.bzl", "LtoMode")
load(":toolchain.bzl", "ThinLtoProfileInfo", "ThinLtoToolchainInfo")

# The fragment, manifest and plan formats (tools/thinlto/src/{extract,manifest,plan}.rs)
# this file writes and reads, and the capture's (capture_rustc_link.py).
_FRAGMENT_VERSION = 2
_MANIFEST_VERSION = 2
_PLAN_VERSION = 2
_CAPTURE_VERSION = 1

# Where, below the target's output directory, extracted archive members and each module's
# files go.
_BC_DIR = "thinlto/bc"
_LTO_DIR = "thinlto/lto"

# What a Rust toolchain needs for its crates to join the thin link.
RUST_HINT = "add thinlto_rustc_flags() from @thinlto//buck2:defs.bzl (-Clinker-plugin-lto in a configuration with ThinLTO) to the Rust toolchain's rustc_flags"

# One loose object of an ObjectsLinkable.
# buildifier: disable=name-conventions
_LooseObject = record(
    # `o<N>/<basename>`: where below thinlto/lto/ its files go.
    name = str,
    object = Artifact,
    owner = str,
    bitcode = bool,
)

# One position on the link command line, before the archives are split.
# buildifier: disable=name-conventions
_Part = record(
    # "objects": loose objects (bitcode unless compiled from assembly, see _parts)
    # "archive": an archive split by `thinlto extract` (fragment tells what is bitcode)
    # "native": an archive passed as it is
    # "shared": a shared library the link depends on
    # "captured": what rustc would have linked for a Rust main (capture_rustc_link.py)
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
    # kind == "native": the archive; kind == "shared": the shared library, and whether it is
    # linked by name (`-l<name>`) rather than by path.
    archive = field(Artifact | None, None),
    without_soname = field(bool, False),
    # kind == "captured": the directory of rustc's objects and std's rlibs, and the parts
    # (kind "archive") of the rlibs rustc may link, by file name.
    captured_dir = field(Artifact | None, None),
    rlibs = field(dict[str, typing.Any], {}),
)

# What the Rust main's compile captured of its link (see rust_binary.bzl).
# buildifier: disable=name-conventions
Capture = record(
    # JSON: rustc's link command line, classified.
    record = Artifact,
    # rustc's objects (obj/) and the std rlibs it links (sysroot/).
    dir = Artifact,
    # The dependencies' rlibs rustc may link.
    rlibs = list[Artifact],
)

# One bitcode module of the link, once the fragments are read.
# buildifier: disable=name-conventions
_Module = record(
    # `<o|a|c><N>/<name>`: its files are `thinlto/lto/<name>.*`.
    name = str,
    # The bitcode (a loose object or an extracted archive member).
    bitcode = Artifact,
    index = Artifact,
    imports_file = Artifact,
    # Its own plan: loaded or not, and what it imports.
    plan = Artifact,
    object = Artifact,
    # `<object>.remarks.yaml`, with `[thinlto] remarks`: the backend's optimization remarks,
    # where `thinlto report` looks for them.
    remarks = field(Artifact | None, None),
)

# What `thinlto_link` declared.
# buildifier: disable=name-conventions
ThinLtoLink = record(
    # The linked executable or shared library.
    binary = Artifact,
    # The HTML report (`thinlto report`), built only when asked for: [thinlto-report].
    report = Artifact,
)

def _owner(artifact: Artifact) -> str:
    owner = artifact.owner
    return str(owner.raw_target()) if owner else artifact.short_path

# Sources the prelude compiles to native code even under lto_mode = "thin" (compile.bzl):
# the prelude names an object `<source>.<flavor>.o`.
_NATIVE_SOURCES = [".s.", ".S.", ".asm.", ".sx."]

def _compiled_to_bitcode(obj: Artifact) -> bool:
    return not any([s in obj.basename for s in _NATIVE_SOURCES])

def _extract(ctx: AnalysisContext, helper: RunInfo, archive: Artifact, tag: str) -> (Artifact, Artifact):
    """Declares `thinlto extract` of `archive`: the directory of its members, and its fragment."""
    members = ctx.actions.declare_output(_BC_DIR + "/" + tag, dir = True, has_content_based_path = False)
    fragment = ctx.actions.declare_output(_BC_DIR + "/" + tag + ".fragment.json", has_content_based_path = False)
    ctx.actions.run(
        cmd_args(
            helper,
            "extract",
            "--archive",
            archive,
            "--out-dir",
            members.as_output(),
            "--fragment",
            fragment.as_output(),
        ),
        category = "thinlto_extract",
        identifier = tag,
    )
    return members, fragment

def _parts(ctx: AnalysisContext, helper: RunInfo, infos: list[LinkInfo], fragments: list[Artifact], shared_ok: bool, n_objects: int = 0) -> list[_Part]:
    """The link's inputs in command-line order; each archive's extraction appends its fragment to `fragments`.

    A shared library the link depends on (`shared_ok`) is a native input where the prelude's
    link has it: its path, or `-l<name>` with `-L` its directory (`link_without_soname`).
    """
    parts = []
    for info in infos:
        for linkable in info.linkables:
            if isinstance(linkable, ObjectsLinkable):
                objects = []
                for obj in linkable.objects or []:
                    objects.append(_LooseObject(
                        name = "o{}/{}".format(n_objects, obj.basename),
                        object = obj,
                        owner = _owner(obj),
                        bitcode = _compiled_to_bitcode(obj),
                    ))
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
                members, fragment = _extract(ctx, helper, archive.artifact, tag)
                parts.append(_Part(kind = "archive", tag = tag, members_dir = members, fragment = len(fragments), whole = linkable.link_whole))
                fragments.append(fragment)
            elif isinstance(linkable, SharedLibLinkable):
                if not shared_ok:
                    fail("{}: {} is a shared library; a Rust main links its dependencies statically with distributed ThinLTO (give the dependency preferred_linkage = \"static\")".format(ctx.label, linkable.lib.short_path))
                parts.append(_Part(kind = "shared", archive = linkable.lib, without_soname = linkable.link_without_soname))
            elif isinstance(linkable, FrameworksLinkable) or isinstance(linkable, SwiftmoduleLinkable):
                # Apple only: a GNU link ignores them, as the prelude's does.
                continue
            else:
                fail("{}: cannot link {} with distributed ThinLTO".format(ctx.label, linkable))
    return parts

def check_bitcode_flags(label: Label, cxx: CxxToolchainInfo):
    """Fails unless the C and C++ compilers of the toolchain emit ThinLTO bitcode.

    Without it every C/C++ object would be native and silently left out of the thin link.
    The prelude's cxx_toolchain and thinlto_cxx_toolchain add -flto=thin for lto_mode =
    "thin"; a hand-written wrapper that only sets lto_mode does not.

    Args:
      label: the binary, for messages.
      cxx: its C++ toolchain.
    """
    for lang, info in [("C++", cxx.cxx_compiler_info), ("C", cxx.c_compiler_info)]:
        if not info:
            continue
        flags = info.compiler_flags
        text = [str(f).strip("\"") for f in (flags if type(flags) == "list" else [flags])]
        if not any(["-flto=thin" in t for t in text]):
            fail("{}: distributed ThinLTO needs {} compiled to ThinLTO bitcode, but the C++ toolchain's {} compiler flags have no -flto=thin although its lto_mode is \"thin\": add -flto=thin to them, or wrap the toolchain in thinlto_cxx_toolchain (@thinlto//buck2:defs.bzl), which adds it as the prelude's cxx_toolchain does".format(
                label,
                lang,
                lang,
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

    # An rlib or a staticlib rustc made with -Clinker-plugin-lto always has bitcode members
    # (the crates' code units, and in a staticlib the allocator shim; std's are native). One
    # with none was compiled without it, and its Rust code would silently stay out of the
    # thin link.
    from_rustc = any([m["path"].endswith(".rcgu.o") for m in fragment["members"]])
    if from_rustc and not any([m["bitcode"] for m in fragment["members"]]):
        fail("{}: {} was compiled by rustc without -Clinker-plugin-lto (it has no bitcode members): {}".format(
            label,
            archive,
            RUST_HINT,
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
        out: OutputArtifact,
        remarks: OutputArtifact | None) -> list[Provider]:
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
            ["--remarks", remarks] if remarks else [],
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
        "remarks": dynattrs.option(dynattrs.output()),
    },
)

def _read_plan(plan: ArtifactValue, label: Label) -> dict:
    p = plan.read_json()
    if p.get("version") != _PLAN_VERSION:
        fail("{}: plan version {}, these rules read {}: rules and helper are out of step".format(label, p.get("version"), _PLAN_VERSION))
    return p

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
    p = _read_plan(plan, label)

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

def _report_impl(
        actions: AnalysisActions,
        plan: ArtifactValue,
        plan_file: Artifact,
        manifest: Artifact,
        modules: list[_Module],
        helper: RunInfo,
        label: Label,
        report: OutputArtifact) -> list[Provider]:
    p = _read_plan(plan, label)

    # The report reads every module and its index (who imports what, named from the
    # modules' definitions), and the remarks of the backends that ran: the loaded modules'.
    remarks = [m.remarks for m, entry in zip(modules, p["modules"]) if entry["loaded"] and m.remarks]
    actions.run(
        cmd_args(
            helper,
            "report",
            "--plan",
            plan_file,
            "--manifest",
            manifest,
            [cmd_args("--remarks", r) for r in remarks],
            "--out",
            report,
            hidden = [m.bitcode for m in modules] + [m.index for m in modules],
        ),
        category = "thinlto_report",
        identifier = "report",
    )
    return []

_report = dynamic_actions(
    impl = _report_impl,
    attrs = {
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "manifest": dynattrs.value(Artifact),
        "modules": dynattrs.value(list[_Module]),
        "plan": dynattrs.artifact_value(),
        "plan_file": dynattrs.value(Artifact),
        "report": dynattrs.output(),
    },
)

def _splice_capture(part: _Part, capture: dict, fragments: list[ArtifactValue], label: Label, add_module) -> (list, list, list, list):
    """The manifest inputs of rustc's link, and its flags before and after them.

    Returns:
      (inputs, flags before the first input, flags after it, native files the links read)
    """
    if capture.get("version") != _CAPTURE_VERSION:
        fail("{}: the capture of rustc's link has version {}, these rules read {}".format(label, capture.get("version"), _CAPTURE_VERSION))
    inputs, pre, post, native = [], [], [], []
    for arg in capture["args"]:
        kind = arg["kind"]
        if kind == "flag":
            (post if inputs else pre).append(arg["value"])
        elif kind == "object":
            artifact = part.captured_dir.project("obj/" + arg["name"], hide_prefix = False)
            if arg["bitcode"]:
                inputs.append(add_module("c/" + arg["name"], artifact, str(label)))
            elif arg["name"].endswith(".rcgu.o"):
                fail("{}: rustc compiled the binary's crate to native code ({}): {}".format(label, arg["name"], RUST_HINT))
            else:
                inputs.append({"kind": "object", "owner": str(label), "path": artifact})
        elif kind == "rlib":
            rlib = part.rlibs.get(arg["name"])
            if not rlib:
                fail("{}: rustc linked {}, which is not the rlib of any Rust dependency of the binary".format(label, arg["name"]))
            inputs.extend(_splice_fragment(rlib, fragments[rlib.fragment].read_json(), label, add_module))
            native.append(rlib.members_dir)
        elif kind == "sysroot":
            inputs.append({"kind": "archive", "owner": "rust std", "path": part.captured_dir.project("sysroot/" + arg["name"], hide_prefix = False)})
        elif kind != "linker_args_file":
            fail("{}: unknown entry {} in the capture of rustc's link".format(label, arg))
    return inputs, pre, post, native

def _backend_profile(profile: Artifact | None, flag: str, obj: Artifact) -> list:
    """The profile's flag for the backend writing `obj`, with the profile as a declared input.

    The helper runs clang in a private directory beside the object
    (`<the object's directory>/.thinlto-backend*`, tools/thinlto/src/backend.rs) that holds
    only the module, its index and its imports at their exec-root paths: an exec-root path
    of the profile would not resolve there, so the flag names it from that directory.
    """
    if not profile:
        return []
    return [cmd_args(profile, format = flag + "=../{}", relative_to = (obj, 1))]

def _thin_link_impl(
        actions: AnalysisActions,
        fragments: list[ArtifactValue],
        captures: list[ArtifactValue],
        parts: list[_Part],
        linker: cmd_args,
        pre_flags: cmd_args,
        post_flags: cmd_args,
        compiler: cmd_args,
        helper: RunInfo,
        label: Label,
        remarks: bool,
        profile: Artifact | None,
        profile_flag: str,
        binary: OutputArtifact,
        report: OutputArtifact) -> list[Provider]:
    modules = []
    inputs = []
    native = []
    captured_pre, captured_post = [], []

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
            remarks = declare(".remarks.yaml") if remarks else None,
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
            entries = []
            for o in part.objects:
                if o.bitcode:
                    entries.append(add_module(o.name, o.object, o.owner))
                else:
                    entries.append({"kind": "object", "owner": o.owner, "path": o.object})
                    native.append(o.object)
            if part.lazy:
                inputs.append({"kind": "start_lib", "members": entries})
            else:
                inputs.extend(entries)
        elif part.kind == "archive":
            inputs.extend(_splice_fragment(part, fragments[part.fragment].read_json(), label, add_module))
            native.append(part.members_dir)
        elif part.kind == "shared":
            if part.without_soname:
                # As the prelude links it: by name, from its directory (-L, a flag before the inputs).
                inputs.append({"flag": "-l" + part.archive.basename.removeprefix("lib").split(".")[0], "kind": "library"})
            else:
                inputs.append({"kind": "object", "owner": _owner(part.archive), "path": part.archive})
            native.append(part.archive)
        elif part.kind == "captured":
            entries, captured_pre, captured_post, files = _splice_capture(part, captures[0].read_json(), fragments, label, add_module)
            inputs.extend(entries)
            native.extend(files + [part.captured_dir])
        else:
            inputs.append({"kind": "archive", "path": part.archive})
            native.append(part.archive)

    if not modules:
        fail("{}: no ThinLTO bitcode among the link's inputs: the C++ toolchain must compile with -flto=thin (lto_mode = \"thin\") and the Rust toolchain with -Clinker-plugin-lto ({})".format(label, RUST_HINT))

    pre = cmd_args(pre_flags, captured_pre)
    post = cmd_args(captured_post, post_flags)
    manifest = actions.declare_output("thinlto/manifest.json", has_content_based_path = False)
    actions.write_json(
        manifest,
        {
            "inputs": inputs,
            "linker": {
                "driver": cmd_args(linker, delimiter = ""),
                "flags": pre,
                "post_flags": post,
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
            hidden = [m.bitcode for m in modules] + native + index_outputs[2:] + [pre, post],
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
            compiler = cmd_args(compiler, _backend_profile(profile, profile_flag, m.object)),
            label = label,
            out = m.object.as_output(),
            remarks = m.remarks.as_output() if m.remarks else None,
        ))

    actions.dynamic_output_new(_final_link(
        plan = plan,
        objects = [m.object for m in modules],
        native = native,
        manifest = manifest,
        params = params,
        flags = cmd_args(pre, post),
        helper = helper,
        label = label,
        binary = binary,
    ))

    actions.dynamic_output_new(_report(
        plan = plan,
        plan_file = plan,
        manifest = manifest,
        modules = modules,
        helper = helper,
        label = label,
        report = report,
    ))
    return []

_thin_link = dynamic_actions(
    impl = _thin_link_impl,
    attrs = {
        "binary": dynattrs.output(),
        "captures": dynattrs.list(dynattrs.artifact_value()),
        "compiler": dynattrs.value(cmd_args),
        "fragments": dynattrs.list(dynattrs.artifact_value()),
        "helper": dynattrs.value(RunInfo),
        "label": dynattrs.value(Label),
        "linker": dynattrs.value(cmd_args),
        "parts": dynattrs.value(list[_Part]),
        "post_flags": dynattrs.value(cmd_args),
        "pre_flags": dynattrs.value(cmd_args),
        "profile": dynattrs.value(Artifact | None),
        "profile_flag": dynattrs.value(str),
        "remarks": dynattrs.value(bool),
        "report": dynattrs.output(),
    },
)

def distributed_thinlto_requested(label: Label, cxx: CxxToolchainInfo, requested: bool, configured: bool) -> bool:
    """Whether a binary that asks for distributed ThinLTO (`requested`) gets it; fails on a misconfiguration.

    The C++ toolchain decides, with the prelude's fields: `supports_distributed_thinlto` says
    its links may distribute ThinLTO, `lto_mode` whether this configuration compiles ThinLTO
    bitcode. A toolchain that supports it with `lto_mode = "none"` is the plain
    configuration: the binary links as usual, unless the configuration asks for ThinLTO
    (`configured`: -m thinlto, [thinlto] mode), which is then a misconfiguration.

    Args:
      label: the binary, for messages.
      cxx: its C++ toolchain.
      requested: the binary's enable_distributed_thinlto.
      configured: thinlto_configured() for the binary's configuration.

    Returns:
      True to link with distributed ThinLTO, False to link as the prelude does.
    """
    if not requested:
        return False
    linker = cxx.linker_info
    if not linker.supports_distributed_thinlto:
        fail("{}: enable_distributed_thinlto = True, but its C++ toolchain does not support distributed ThinLTO (supports_distributed_thinlto is not set; the prelude's system_cxx_toolchain also hard-codes lto_mode = \"none\"), so the prelude would silently link it as usual (facebook/buck2#323): wrap the toolchain in thinlto_cxx_toolchain from @thinlto//buck2:defs.bzl (`thinlto_cxx_toolchain(name = \"cxx\", base = \":cxx_base\", dist_thin_lto_codegen_flags = [\"-O2\"])`), or give a prelude cxx_toolchain lto_mode = thinlto_lto_mode() and supports_distributed_thinlto = True".format(label))
    if linker.lto_mode == LtoMode("none"):
        if configured:
            fail("{}: the configuration asks for ThinLTO (thinlto//buck2/cfg:distributed, or [thinlto] mode = distributed), but its C++ toolchain's lto_mode is \"none\": give the toolchain lto_mode = thinlto_lto_mode() from @thinlto//buck2:defs.bzl (thinlto_cxx_toolchain does by default)".format(label))
        return False
    if linker.lto_mode != LtoMode("thin"):
        fail("{}: distributed ThinLTO needs the C++ toolchain's lto_mode = \"thin\", not {}".format(label, linker.lto_mode))
    return True

def thinlto_link(
        ctx: AnalysisContext,
        binary: Artifact,
        links: list[LinkArgs],
        pre_flags: cmd_args,
        post_flags: cmd_args,
        capture: Capture | None = None,
        shared: bool = False) -> ThinLtoLink:
    """Links an executable or a shared library through distributed ThinLTO.

    Args:
      ctx: the rule's context; needs the attrs `_thinlto_toolchain`, `_cxx_toolchain` and
        `backend_flags`.
      binary: the executable or shared library to link (declared with
        `has_content_based_path = False`: the manifest names it before it exists).
      links: the prelude's link arguments of the executable, in link order (what
        make_link_args would put on the command line), after `capture`'s inputs.
      pre_flags: the toolchain's and target's flags before the inputs.
      post_flags: flags after them.
      capture: for a Rust main, what rustc would have linked (its objects, the rlibs, std).
        Its link takes no shared library: rustc's own link would have placed those.
      shared: a shared library (`-shared` is among the flags): its backends compile
        position-independent code.

    Returns:
      The binary (bound by the final link, inside the thin link's dynamic action) and the
      report (built only when asked for).
    """
    tc = ctx.attrs._thinlto_toolchain[ThinLtoToolchainInfo]
    if not tc.helper:
        fail("{}: links with distributed ThinLTO, but {}".format(ctx.label, tc.missing))
    cxx = ctx.attrs._cxx_toolchain[CxxToolchainInfo]
    linker_info = cxx.linker_info
    check_bitcode_flags(ctx.label, cxx)

    infos = map_to_link_infos(links)
    fragments = []
    parts = []
    if capture:
        rlibs = {}
        for rlib in capture.rlibs:
            if rlib.basename in rlibs:
                fail("{}: two rlibs named {}".format(ctx.label, rlib.basename))
            tag = "a{}".format(len(fragments))
            members, fragment = _extract(ctx, tc.helper, rlib, tag)
            rlibs[rlib.basename] = _Part(kind = "archive", tag = tag, members_dir = members, fragment = len(fragments))
            fragments.append(fragment)
        parts.append(_Part(kind = "captured", captured_dir = capture.dir, rlibs = rlibs))
    parts.extend(_parts(ctx, tc.helper, infos, fragments, shared_ok = not capture))

    info_pre, info_post, codegen = [], [], []
    for info in infos:
        info_pre.extend(info.pre_flags)
        info_post.extend(info.post_flags)
        codegen.extend(info.dist_thin_lto_codegen_flags)

    # Shared libraries linked by name are found in their directories.
    search = [cmd_args(p.archive, format = "-L{}", parent = 1) for p in parts if p.kind == "shared" and p.without_soname]

    # Backends: the C++ compiler with the toolchain's dist_thin_lto_codegen_flags (the
    # prelude's field for exactly this), the links' own (LinkInfo.dist_thin_lto_codegen_flags),
    # the thinlto toolchain's and the target's; for a shared library, -fPIC (clang compiles
    # `-x ir` with the relocation model of its command line, PIE by default).
    compiler = cmd_args(
        cxx.cxx_compiler_info.compiler,
        linker_info.dist_thin_lto_codegen_flags or [],
        codegen,
        tc.backend_flags,
        ctx.attrs.backend_flags,
        ["-fPIC"] if shared else [],
    )
    _check_opt_level(ctx.label, compiler)

    report = ctx.actions.declare_output("thinlto/report.html", has_content_based_path = False)

    # The C++ toolchain's profile (PGO; thinlto_cxx_toolchain(profile = ...)), for every
    # backend, C++ and Rust modules alike, after their other flags.
    profile = ctx.attrs._cxx_toolchain.get(ThinLtoProfileInfo) or ThinLtoProfileInfo()

    # The manifest keeps flags before and after all inputs, not between them: a flag that
    # must sit next to one input (`-Wl,--whole-archive` around a library) is not supported.
    # The thin link needs lld: our -fuse-ld= comes after the toolchain's and wins.
    ctx.actions.dynamic_output_new(_thin_link(
        fragments = fragments,
        captures = [capture.record] if capture else [],
        parts = parts,
        linker = cmd_args(linker_info.linker),
        pre_flags = cmd_args(pre_flags, "-fuse-ld=lld", info_pre, search),
        post_flags = cmd_args(info_post, post_flags),
        compiler = compiler,
        helper = tc.helper,
        label = ctx.label,
        remarks = tc.remarks,
        profile = profile.file,
        profile_flag = profile.backend_flag,
        binary = binary.as_output(),
        report = report.as_output(),
    ))
    return ThinLtoLink(binary = binary, report = report)

def _check_opt_level(label: Label, compiler: cmd_args):
    """Fails unless the backends get an optimisation level: clang would compile them at -O0."""
    for arg in str(compiler).split(" "):
        if arg.strip("\"'").startswith("-O"):
            return
    fail("{}: the distributed ThinLTO backends get no optimisation level, and clang would compile them at -O0: add one (e.g. -O2) to the C++ toolchain's dist_thin_lto_codegen_flags".format(label))
