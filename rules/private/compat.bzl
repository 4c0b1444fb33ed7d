"""What differs between Bazel 4.2.3 and Bazel 7, 8 and 9, bridged in this one file.

Every check is by feature (`hasattr`), never by version: Debian's Bazel 4.2.3 reports no
version at all (`native.bazel_version` is empty), so a version comparison cannot tell it
from a development build. docs/bazel-versions.md says which Bazel has what.
"""

load("@rules_cc//cc:find_cc_toolchain.bzl", _find_cc_toolchain = "find_cc_toolchain")

# Optional toolchains (config_common.toolchain_type, bazelbuild/bazel#14726) came with Bazel
# 6.0, shortly before `toolchain =` of ctx.actions.run (automatic exec groups, #17134).
# Bazel 4.2.3 has neither: its run() rejects the parameter ("unexpected keyword argument").
# rules_thinlto supports 4.2.3 and 7+, where both are absent or both present.
MODERN_TOOLCHAINS = hasattr(config_common, "toolchain_type")

# rules_cc's own CC_TOOLCHAIN_TYPE is a string in 0.0.4 and a Label from 0.1; one spelling here.
CC_TOOLCHAIN_TYPE = "@bazel_tools//tools/cpp:toolchain_type"

# Bazel 4.2.3 analyses a rule's toolchains in the host configuration unless the rule opts into
# the toolchain transition (then: the rule's own configuration, the exec platform's). Without
# it, a select() in a toolchain does not see the features an analysistest transition sets.
# Bazel 5 made the transition the default (the parameter became a no-op, rules_rust#2344);
# newer Bazel removed the parameter, so it is passed only where optional toolchains are not.
TOOLCHAIN_TRANSITION = {} if MODERN_TOOLCHAINS else {"incompatible_use_toolchain_transition": True}

def toolchain_type(name, mandatory = True):
    """A `rule(toolchains = ...)` entry: optional where Bazel can say so.

    Args:
      name: the toolchain type's label, as a string.
      mandatory: False for a toolchain the rule can do without.

    Returns:
      config_common.toolchain_type(...) on Bazel 6+, the bare label on 4.2.3 (where an
      optional type must still resolve: repositories.bzl registers a fallback toolchain).
    """
    if MODERN_TOOLCHAINS:
        return config_common.toolchain_type(name, mandatory = mandatory)
    return name

def use_cc_toolchain():
    """`toolchains` entries for the C++ toolchain (rules_cc's use_cc_toolchain(), which 4.2.3 cannot run).

    Returns:
      list.
    """
    return [toolchain_type(CC_TOOLCHAIN_TYPE)]

# Bazel 4.2.3 to 6 select the C++ toolchain through this attribute; from 7.0 C++ toolchain
# resolution is on (bazelbuild/bazel#7260) and rules_cc's find_cc_toolchain reads
# ctx.toolchains instead. rules_cc spells it so in cc/use_cc_toolchain.bzl (CC_TOOLCHAIN_ATTRS).
CC_TOOLCHAIN_ATTRS = {
    "_cc_toolchain": attr.label(default = Label("@rules_cc//cc:current_cc_toolchain")),
}

def find_cc_toolchain(ctx):
    """The C++ toolchain (CcToolchainInfo), by rules_cc's find_cc_toolchain.

    Args:
      ctx: a rule context with CC_TOOLCHAIN_ATTRS and use_cc_toolchain().

    Returns:
      CcToolchainInfo.
    """
    return _find_cc_toolchain(ctx)

def action_toolchain(toolchain):
    """Keyword arguments naming the toolchain whose tool an action runs (automatic exec groups).

    Args:
      toolchain: the toolchain type's label as a string, or None for an action whose
        executable comes from no toolchain.

    Returns:
      dict: {"toolchain": ...} where ctx.actions.run takes it, else {}.
    """
    return {"toolchain": toolchain} if MODERN_TOOLCHAINS else {}
