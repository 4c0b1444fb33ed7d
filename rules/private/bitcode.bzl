"""Which objects of a link are bitcode, and with which flags each one's backend compiles.

One aspect, over every edge an object can come along, collects both from the whole
dependency graph, whatever its shape (C++ and Rust in any order and depth):

- a target providing BitcodeInfo (this rule set's Rust crates, or another rule set) names
  its objects' bitcode and backend flags itself;
- a C++ library's objects are bitcode when Bazel's thin_lto feature made them so
  (LibraryToLink.lto_bitcode_files); their backend flags are the codegen flags of their
  compile, as Bazel's native ThinLTO replays them (rules_cc lto_backends.bzl: the object's
  copts): the library's copts and the global --copt, --cxxopt or --conlyopt, without the
  flags that only preprocess or warn (docs/cpp.md lists both).
"""

load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")
load(":providers.bzl", "BitcodeInfo")

CollectedBitcodeInfo = provider(
    doc = "BitcodeInfo of a target and everything below it (bitcode_aspect).",
    fields = {"objects": "depset[(File, File, tuple[string])]: (object in a CcInfo, its bitcode, its backend flags)."},
)

# Every edge along which a linked object can come: C++ and Rust deps (a cc_library's
# implementation_deps link too), the Rust runtime.
_LINK_EDGES = ["deps", "implementation_deps", "_runtime", "forwarders", "marker"]

# Flags that take their value as the next argument and only matter before code generation.
_DROP_WITH_VALUE = ["-D", "-U", "-I", "-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-MF", "-MT", "-MQ", "-x"]

# Prefixes of flags that only preprocess, choose the language, or warn: the backend compiles
# IR, where they mean nothing.
_DROP_PREFIXES = ["-D", "-U", "-I", "-include", "-imacros", "-isystem", "-iquote", "-idirafter", "-M", "-std=", "-x", "-W", "-pedantic", "-fdiagnostics", "-fcolor-diagnostics", "-fno-color-diagnostics", "-ferror-limit", "-fmessage-length", "--include-directory"]

def codegen_flags(flags):
    """The flags of a compile that its ThinLTO backend needs: all but those listed above.

    Args:
      flags: list[string], as the compile got them.

    Returns:
      list[string].
    """
    out = []
    skip = False
    for f in flags:
        if skip:
            skip = False
            continue
        if f in _DROP_WITH_VALUE:
            skip = True
            continue
        if f.startswith("-Wa,"):
            out.append(f)
            continue
        if any([f.startswith(p) for p in _DROP_PREFIXES]):
            continue
        out.append(f)
    return out

_C_EXTENSIONS = ["c"]

def _copts_tokens(copts):
    tokens = []
    for c in copts:
        tokens.extend(c.split(" ") if " " in c and "'" not in c and "\"" not in c else [c])
    return [t for t in tokens if t]

def _cc_library_objects(target, ctx):
    """(object, object, flags) for each bitcode object the C++ library `target` compiled."""
    if CcInfo not in target or not hasattr(ctx.rule.attr, "copts"):
        return []
    cpp = ctx.fragments.cpp
    own = _copts_tokens(ctx.rule.attr.copts)
    languages = {}
    for src in getattr(ctx.rule.files, "srcs", []):
        stem = src.basename.rsplit(".", 1)[0]
        languages[stem] = "c" if src.extension in _C_EXTENSIONS else "c++"
    out = []
    for li in target[CcInfo].linking_context.linker_inputs.to_list():
        if li.owner != target.label:
            continue
        for lib in li.libraries:
            pic = {f: True for f in lib.pic_lto_bitcode_files}
            for o in lib.lto_bitcode_files + lib.pic_lto_bitcode_files:
                # foo.pic.o or foo.o from foo.cc
                language = languages.get(o.basename.split(".")[0], "c++")
                flags = cpp.copts + (cpp.conlyopts if language == "c" else cpp.cxxopts) + own
                out.append((o, o, tuple(codegen_flags(flags) + (["-fPIC"] if o in pic else []))))
    return out

def _bitcode_aspect_impl(target, ctx):
    if BitcodeInfo in target:
        own = [target[BitcodeInfo].objects]
    else:
        own = [depset(_cc_library_objects(target, ctx))]
    below = []
    for attr in _LINK_EDGES:
        value = getattr(ctx.rule.attr, attr, None)
        for d in (value if type(value) == "list" else [value] if value else []):
            if CollectedBitcodeInfo in d:
                below.append(d[CollectedBitcodeInfo].objects)
    return [CollectedBitcodeInfo(objects = depset(transitive = own + below))]

bitcode_aspect = aspect(
    implementation = _bitcode_aspect_impl,
    attr_aspects = _LINK_EDGES,
    fragments = ["cpp"],
    doc = "Collects which objects are bitcode, and each one's backend flags, from the whole dependency graph.",
)
