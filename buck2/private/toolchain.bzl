"""The `thinlto` toolchain: the helper binary, the backend flags, and the mode.

The mode comes from the buckconfig key `[thinlto] mode`, read once here so that the
binary macro, the C++ and Rust toolchain flags and the toolchain rule always agree.
"""

# The values `[thinlto] mode` may take.
MODES = ["none", "distributed"]

# What every message about configuration points at.
CONFIG_HINT = "set `[thinlto] mode = distributed` in .buckconfig (or pass `-c thinlto.mode=distributed`)"

def thinlto_mode() -> str:
    """The mode `[thinlto] mode` selects: `none` (default) or `distributed`.

    Fails on any other value, naming the allowed ones: a typo must not silently
    mean `none`.

    Returns:
      "none" or "distributed".
    """
    mode = read_root_config("thinlto", "mode", "none").strip()
    if mode not in MODES:
        fail("[thinlto] mode = {} is not one of: {}. {}; `none` links as the prelude always does.".format(
            repr(mode),
            ", ".join(MODES),
            CONFIG_HINT,
        ))
    return mode

def thinlto_cxx_flags() -> list[str]:
    """Flags for a C or C++ toolchain: `-flto=thin` under `[thinlto] mode = distributed`.

    Add them to the toolchain's `c_flags` and `cxx_flags` (`system_cxx_toolchain`), so
    that every `cxx_library` compiles to ThinLTO bitcode exactly when the links need it.
    """
    return ["-flto=thin"] if thinlto_mode() == "distributed" else []

def thinlto_rustc_flags() -> list[str]:
    """Flags for a Rust toolchain: `-Clinker-plugin-lto` under `[thinlto] mode = distributed`.

    Add them to the toolchain's `rustc_flags` (`system_rust_toolchain`): every crate is
    then LLVM bitcode, which clang's thin link reads like C++'s.
    """
    return ["-Clinker-plugin-lto"] if thinlto_mode() == "distributed" else []

ThinLtoToolchainInfo = provider(
    doc = "What the distributed ThinLTO link needs besides the C++ toolchain.",
    fields = {
        "backend_flags": provider_field(list[typing.Any], default = []),
        "helper": provider_field(RunInfo),
        "mode": provider_field(str),
    },
)

def _thinlto_toolchain_impl(ctx: AnalysisContext) -> list[Provider]:
    if ctx.attrs.mode not in MODES:
        fail("{}: mode = {} is not one of: {}".format(ctx.label, repr(ctx.attrs.mode), ", ".join(MODES)))
    if ctx.attrs.helper_dep:
        helper = ctx.attrs.helper_dep[RunInfo]
    else:
        helper = RunInfo(args = [ctx.attrs.helper])
    return [
        DefaultInfo(),
        ThinLtoToolchainInfo(
            backend_flags = ctx.attrs.backend_flags,
            helper = helper,
            mode = ctx.attrs.mode,
        ),
    ]

thinlto_toolchain = rule(
    impl = _thinlto_toolchain_impl,
    doc = """The `thinlto` helper and ThinLTO backend settings (conventionally `toolchains//:thinlto`).

The helper is this rule set's Rust binary (`tools/thinlto`, built with
`cargo build --release --bin thinlto`): give it as a command (`helper`, a path or a
name on PATH, as `system_cxx_toolchain` takes its compilers) or as a target
(`helper_dep`, anything with RunInfo).""",
    attrs = {
        "backend_flags": attrs.list(
            attrs.arg(),
            default = ["-O2"],
            doc = "Flags for every backend compile (clang -c -x ir ...): the optimisation level (required), -march, ...",
        ),
        "helper": attrs.string(default = "thinlto", doc = "The helper as a command: absolute path or name on PATH."),
        "helper_dep": attrs.option(attrs.exec_dep(providers = [RunInfo]), default = None, doc = "The helper as a target; wins over `helper`."),
        "mode": attrs.string(default = thinlto_mode(), doc = "Default: `[thinlto] mode`. Recorded so that links can check it."),
    },
    is_toolchain_rule = True,
)
