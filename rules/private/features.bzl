"""Reading the configuration: is thin_lto on, and which optimisation level."""

def thin_lto_enabled(ctx):
    """Whether `--features=thin_lto` (or the target's `features`) turns ThinLTO on.

    Args:
      ctx: the rule context.

    Returns:
      bool.
    """
    return "thin_lto" in ctx.features and "thin_lto" not in ctx.disabled_features

def opt_level(ctx):
    """The `-O` level matching Bazel's compilation mode, as clang spells it.

    Args:
      ctx: the rule context.

    Returns:
      string: "2" under `-c opt`, else "0" (as Bazel's C++ compiles).
    """
    return "2" if ctx.var["COMPILATION_MODE"] == "opt" else "0"
