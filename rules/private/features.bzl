"""Reading the configuration: is thin_lto on, which optimisation level, which C++ features."""

load("@rules_cc//cc/common:cc_common.bzl", "cc_common")

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

def features_without_thin_lto(ctx, cc_toolchain):
    """The C++ feature configuration of this target, with Bazel's own thin_lto turned off.

    rules_thinlto links, archives and takes link flags through cc_common; Bazel's thin_lto
    feature there would start Bazel's native LTO instead of ours.

    Args:
      ctx: the rule context.
      cc_toolchain: the C++ toolchain.

    Returns:
      FeatureConfiguration.
    """
    return cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features + ["thin_lto"],
    )
