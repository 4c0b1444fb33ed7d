"""Toolchains for distributed ThinLTO on Buck2, in the prelude's own terms.

A C++ toolchain says what a configuration does with the prelude's `LinkerInfo` fields:
`lto_mode = "thin"` (compile ThinLTO bitcode), `supports_distributed_thinlto = True` (links
may distribute it) and `dist_thin_lto_codegen_flags` (flags of every backend compile). The
prelude's `cxx_toolchain` takes them as attributes. `system_cxx_toolchain` hard-codes
`lto_mode = "none"`; `thinlto_cxx_toolchain` wraps it (or any C++ toolchain) and sets them,
by default from the configuration: the constraint `thinlto//buck2/cfg:thinlto` (`-m thinlto`),
else `[thinlto] mode`.

The `thinlto` toolchain holds what the prelude has no field for: the helper, and whether
backends write optimization remarks (`[thinlto] remarks`, for the report).

A profile (PGO) is the C++ toolchain's (`thinlto_cxx_toolchain(profile = ...)`: its C and C++
compiles and every backend) and the Rust toolchain's (`thinlto_rustc_flags(profile = ...)`).
"""

load(
    "@prelude//cxx:cxx_toolchain_types.bzl",
    "CCompilerInfo",
    "CxxCompilerInfo",
    "CxxObjectFormat",
    "CxxPlatformInfo",
    "CxxToolchainInfo",
    "LinkerInfo",
)
load("@prelude//linking:lto.bzl", "LtoMode")

# The values `[thinlto] mode` may take.
MODES = ["none", "distributed"]

# The constraint values of ThinLTO as a configuration (buck2/cfg/BUCK). The rule set is the
# cell `thinlto` of the project that uses it.
DISTRIBUTED = "thinlto//buck2/cfg:distributed"
NONE = "thinlto//buck2/cfg:none"

# How to switch ThinLTO on, for messages.
SWITCH_HINT = "build with `-m thinlto` (the modifier alias of thinlto//buck2/cfg:distributed), or set `[thinlto] mode = distributed` in .buckconfig"

def thinlto_mode() -> str:
    """The mode `[thinlto] mode` selects: `none` (default) or `distributed`.

    Fails on any other value, naming the allowed ones: a typo must not silently
    mean `none`.

    Returns:
      "none" or "distributed".
    """
    mode = read_root_config("thinlto", "mode", "none").strip()
    if mode not in MODES:
        fail("[thinlto] mode = {} is not one of: {}. `distributed` compiles ThinLTO bitcode and links binaries that ask for it (enable_distributed_thinlto = True) with distributed ThinLTO; `none` compiles and links as the prelude always does.".format(
            repr(mode),
            ", ".join(MODES),
        ))
    return mode

def thinlto_config_bool(key: str) -> bool:
    """`[thinlto] <key>` as a bool (`true` or `false`, the default); fails on anything else.

    Args:
      key: the key of the `[thinlto]` section.

    Returns:
      Its value.
    """
    value = read_root_config("thinlto", key, "false").strip().lower()
    if value not in ["true", "false"]:
        fail("[thinlto] {} = {} is neither true nor false (`-c thinlto.{}=true`)".format(key, repr(value), key))
    return value == "true"

def _by_configuration(on, off):
    """`on` in a configuration with ThinLTO, else `off`: the constraint, else `[thinlto] mode`."""
    return select({
        DISTRIBUTED: on,
        NONE: off,
        "DEFAULT": on if thinlto_mode() == "distributed" else off,
    })

def thinlto_lto_mode():
    """The C++ toolchain's `lto_mode` for the configuration: `thin` with ThinLTO, else `none`.

    The default of `thinlto_cxx_toolchain`'s `lto_mode`; give it to a prelude `cxx_toolchain`
    (`lto_mode = thinlto_lto_mode()`) to switch it with `-m thinlto` too.
    """
    return _by_configuration("thin", "none")

def thinlto_rustc_flags(profile: str | None = None):
    """Flags for a Rust toolchain: `-Clinker-plugin-lto` in a configuration with ThinLTO, and a profile.

    Add them to the toolchain's `rustc_flags` (`system_rust_toolchain`): every crate is then
    LLVM bitcode, which clang's thin link reads like C++'s.

    Args:
      profile: a target whose output is an indexed profile (`.profdata`, from
        `llvm-profdata merge`), the one `thinlto_cxx_toolchain(profile = ...)` names: every
        crate is then compiled with `-Cprofile-use=` it, in every configuration, and the
        profile is an input of every rustc action.

    Returns:
      The flags (a select over the configuration, and the profile's).
    """
    flags = _by_configuration(["-Clinker-plugin-lto"], [])
    if profile:
        # `$(location)`: the profile is an input of every rustc action. (A sample profile
        # has no rustc flag: -Zprofile-sample-use is nightly-only.)
        flags = flags + ["-Cprofile-use=$(location {})".format(profile)]
    return flags

def thinlto_configured():
    """True in a configuration that asks for ThinLTO (the constraint, else `[thinlto] mode`)."""
    return _by_configuration(True, False)

# buildifier: disable=provider-params
def _copy(value, provider, **changes):
    """`value` (an instance of `provider`) with some fields replaced."""
    fields = {f: getattr(value, f) for f in dir(value)}
    fields.update(changes)
    return provider(**fields)

def _with_flag(flags, flag):
    if flags == None:
        return [flag]
    if type(flags) == "list":
        return flags + [flag]
    return cmd_args(flags, flag)

def _thinlto_cxx_toolchain_impl(ctx: AnalysisContext) -> list[Provider]:
    base = ctx.attrs.base[CxxToolchainInfo]
    mode = ctx.attrs.lto_mode
    if mode not in ["none", "thin"]:
        fail("{}: lto_mode = {} is not one of: none, thin".format(ctx.label, repr(mode)))
    thin = mode == "thin"
    linker = base.linker_info
    profile_flags = _profile_flags(ctx.label, ctx.attrs.profile)
    changes = {
        "linker_info": _copy(
            linker,
            LinkerInfo,
            dist_thin_lto_codegen_flags = cmd_args(ctx.attrs.dist_thin_lto_codegen_flags),
            # As the prelude's cxx_toolchain: an ordinary link of bitcode is lld's in-process ThinLTO.
            linker_flags = _with_flag(linker.linker_flags, "-flto=thin") if thin else linker.linker_flags,
            lto_mode = LtoMode(mode),
            supports_distributed_thinlto = ctx.attrs.supports_distributed_thinlto,
        ),
    }
    if thin:
        # As the prelude's cxx_toolchain does for lto_mode = "thin": C and C++ compile to
        # ThinLTO bitcode (assembly stays native), and objects are known to be bitcode.
        changes["object_format"] = CxxObjectFormat("bitcode")
    for field, provider in [("c_compiler_info", CCompilerInfo), ("cxx_compiler_info", CxxCompilerInfo)]:
        info = getattr(base, field)
        if info and (thin or profile_flags.compile):
            flags = _with_flag(info.compiler_flags, "-flto=thin") if thin else info.compiler_flags
            if profile_flags.compile:
                flags = _with_flag(flags, profile_flags.compile)
            changes[field] = _copy(info, provider, compiler_flags = flags)
    return [
        DefaultInfo(),
        _copy(base, CxxToolchainInfo, **changes),
        ctx.attrs.base[CxxPlatformInfo],
        # For the backends, which the rule set's link gives the profile itself (link.bzl).
        ThinLtoProfileInfo(file = ctx.attrs.profile, backend_flag = profile_flags.backend_flag),
    ]

ThinLtoProfileInfo = provider(
    doc = "The profile of a thinlto_cxx_toolchain (PGO), for the distributed ThinLTO backends.",
    fields = {
        # The backend's flag naming it: "-fprofile-use" or "-fprofile-sample-use".
        "backend_flag": provider_field(str, default = ""),
        "file": provider_field(Artifact | None, default = None),
    },
)

def _profile_flags(label: Label, profile: Artifact | None):
    """The flags of a profile for C and C++ compiles and for backends, as Bazel's --fdo_profile gives them."""
    if not profile:
        return struct(compile = None, backend_flag = "")
    if profile.extension == ".profdata":
        # Instrumentation PGO: the compiles annotate the IR with it, and the backends read it
        # again (context-sensitive profiles need it there, as Bazel's native ThinLTO does).
        return struct(compile = cmd_args(profile, format = "-fprofile-use={}"), backend_flag = "-fprofile-use")
    if profile.extension == ".afdo":
        # Sample PGO (AutoFDO): LLVM's sample loader runs again in the backends, after importing.
        return struct(compile = cmd_args(profile, format = "-fprofile-sample-use={}"), backend_flag = "-fprofile-sample-use")
    fail("{}: profile {} is neither an indexed instrumentation profile (.profdata; merge .profraw files with llvm-profdata merge) nor a sample profile (.afdo)".format(label, profile.short_path))

thinlto_cxx_toolchain = rule(
    impl = _thinlto_cxx_toolchain_impl,
    doc = """A C++ toolchain (`base`, e.g. a `system_cxx_toolchain`) with the prelude's LTO fields set.

`system_cxx_toolchain` hard-codes `lto_mode = "none"` and has no `supports_distributed_thinlto`
or `dist_thin_lto_codegen_flags`; this sets them as the prelude's `cxx_toolchain` would take
them. With `lto_mode = "thin"` it also adds `-flto=thin` to the C and C++ compiler flags and
the linker flags (an ordinary link of the bitcode is then lld's in-process ThinLTO), as
`cxx_toolchain` does.""",
    attrs = {
        "base": attrs.toolchain_dep(providers = [CxxToolchainInfo, CxxPlatformInfo], doc = "The toolchain to wrap."),
        "dist_thin_lto_codegen_flags": attrs.list(
            attrs.arg(),
            default = [],
            doc = "Flags of every distributed ThinLTO backend compile (`clang -c -x ir ...`): the optimisation level (required, e.g. -O2), --target, -march, ...",
        ),
        "lto_mode": attrs.string(
            default = thinlto_lto_mode(),
            doc = "`thin` or `none`. Default: `thin` in a configuration with ThinLTO (`-m thinlto`, else `[thinlto] mode = distributed`).",
        ),
        "profile": attrs.option(
            attrs.source(),
            default = None,
            doc = "A profile (PGO): an indexed instrumentation profile (`.profdata`, `llvm-profdata merge`) or a sample profile (`.afdo`). Every C and C++ compile gets `-fprofile-use=` it (`-fprofile-sample-use=` for `.afdo`), in every configuration, and so does every distributed ThinLTO backend; it is an input of each. Give the Rust toolchain the same with `thinlto_rustc_flags(profile = ...)`.",
        ),
        "supports_distributed_thinlto": attrs.bool(default = True, doc = "Whether links may distribute ThinLTO (binaries with enable_distributed_thinlto = True)."),
    },
    is_toolchain_rule = True,
)

ThinLtoToolchainInfo = provider(
    doc = "What a distributed ThinLTO link needs besides the C++ toolchain: the helper.",
    fields = {
        # Extra flags for every backend, after the C++ toolchain's dist_thin_lto_codegen_flags.
        "backend_flags": provider_field(list[typing.Any], default = []),
        # The helper, or None and why not (`missing`).
        "helper": provider_field(RunInfo | None, default = None),
        "missing": provider_field(str, default = ""),
        # Whether every backend writes its optimization remarks (`<object>.remarks.yaml`,
        # for the report).
        "remarks": provider_field(bool, default = False),
    },
)

ThinLtoHelperInfo = provider(
    doc = "Set by `thinlto_helper` when the helper file it names is missing.",
    fields = {"missing": provider_field(str)},
)

# What to do when there is no helper.
HELPER_HINT = "build it (`cargo build --release --bin thinlto` in rules_thinlto) and either copy it where the `thinlto_helper` target of the thinlto toolchain looks for it (buck2/toolchains/bin/thinlto in this repository), or name it with `[thinlto] helper = /abs/path/thinlto` (`-c thinlto.helper=...`)"

def _thinlto_helper_impl(ctx: AnalysisContext) -> list[Provider]:
    if len(ctx.attrs.srcs) > 1:
        fail("{}: srcs holds {} files; the helper is one".format(ctx.label, len(ctx.attrs.srcs)))
    if not ctx.attrs.srcs:
        # Not an error here: a build without distributed ThinLTO needs no helper. A link that
        # does fails at analysis, with this message.
        return [
            DefaultInfo(),
            RunInfo(args = ["false"]),
            ThinLtoHelperInfo(missing = "{} has no helper: {} is missing; {}".format(ctx.label, ctx.attrs.expected, HELPER_HINT)),
        ]
    src = ctx.attrs.srcs[0]
    return [DefaultInfo(default_output = src), RunInfo(args = cmd_args(src))]

thinlto_helper = rule(
    impl = _thinlto_helper_impl,
    doc = """The `thinlto` helper as a file of the project: tracked, so a rebuilt helper re-runs every action that uses it, and a declared input of remote actions.

`srcs = glob(["bin/thinlto"])`: when the file is missing, links with distributed ThinLTO fail
at analysis saying so; other builds do not need it.""",
    attrs = {
        "expected": attrs.string(default = "bin/thinlto", doc = "Where the helper is expected, for the message when `srcs` is empty."),
        "srcs": attrs.list(attrs.source(), default = [], doc = "The helper binary (a glob of its path: empty when missing)."),
    },
)

def _shell_quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"

def _thinlto_toolchain_impl(ctx: AnalysisContext) -> list[Provider]:
    helper = None
    missing = ""
    if ctx.attrs.helper_dep:
        dep = ctx.attrs.helper_dep
        if ThinLtoHelperInfo in dep:
            missing = dep[ThinLtoHelperInfo].missing
        else:
            helper = dep[RunInfo]
    elif ctx.attrs.helper:
        # Untracked: a path or a name on PATH. A script checks it is there, so that a missing
        # helper fails naming the setting rather than "Spawning executable failed".
        script = ctx.actions.write(
            "thinlto_helper.sh",
            "\n".join([
                "#!/bin/sh",
                "h={}".format(_shell_quote(ctx.attrs.helper)),
                "if ! command -v \"$h\" >/dev/null 2>&1; then",
                "  echo \"thinlto: the helper $h ([thinlto] helper, helper of {}) is not there: {}\" >&2".format(ctx.label, HELPER_HINT.replace("`", "'")),
                "  exit 127",
                "fi",
                "exec \"$h\" \"$@\"",
                "",
            ]),
            is_executable = True,
        )
        helper = RunInfo(args = cmd_args(script))
    else:
        missing = "{} names no helper (neither helper_dep nor helper): {}".format(ctx.label, HELPER_HINT)
    return [
        DefaultInfo(),
        ThinLtoToolchainInfo(
            backend_flags = ctx.attrs.backend_flags,
            helper = helper,
            missing = missing,
            remarks = ctx.attrs.remarks,
        ),
    ]

thinlto_toolchain = rule(
    impl = _thinlto_toolchain_impl,
    doc = """The `thinlto` helper (conventionally `toolchains//:thinlto`).

The helper is this rule set's Rust binary (`tools/thinlto`, `cargo build --release --bin
thinlto`). Give it as a target (`helper_dep`: a `thinlto_helper` over a file of the project,
or anything with RunInfo), which Buck2 tracks and uploads to remote execution, or as a command
(`helper`: an absolute path or a name on PATH), which it does not: a rebuilt helper at the same
path does not re-run the actions that used the old one.""",
    attrs = {
        "backend_flags": attrs.list(
            attrs.arg(),
            default = [],
            doc = "Extra flags for every backend compile, after the C++ toolchain's dist_thin_lto_codegen_flags.",
        ),
        "helper": attrs.string(default = "", doc = "The helper as a command: absolute path or name on PATH (untracked)."),
        "helper_dep": attrs.option(attrs.exec_dep(providers = [RunInfo]), default = None, doc = "The helper as a target (tracked); wins over `helper`."),
        "remarks": attrs.bool(
            default = thinlto_config_bool("remarks"),
            doc = "Every backend writes its optimization remarks of the inliner (`<object>.remarks.yaml`), which the report ([thinlto-report]) shows. Default: `[thinlto] remarks` (`-c thinlto.remarks=true`), else False.",
        ),
    },
    is_toolchain_rule = True,
)
