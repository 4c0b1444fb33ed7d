"""WORKSPACE setup of rules_thinlto (Bazel 4.2.3, and Bazel 7 and 8 with WORKSPACE on)."""

load("//rules/private:compat.bzl", "MODERN_TOOLCHAINS")
load(
    "//rules/private:host_toolchain.bzl",
    _thinlto_helper_repository = "thinlto_helper_repository",
    _thinlto_host_toolchain = "thinlto_host_toolchain",
    _thinlto_toolchains_repository = "thinlto_toolchains_repository",
)

thinlto_host_toolchain = _thinlto_host_toolchain
thinlto_helper_repository = _thinlto_helper_repository
thinlto_toolchains_repository = _thinlto_toolchains_repository

# buildifier: disable=unnamed-macro
def thinlto_dependencies():
    """Registers what the rules need whatever the toolchain (Bazel 4.2.3 to 5 only).

    On Bazel 4.2.3 an optional toolchain must still resolve: this registers the stand-in
    //rules:no_toolchain, which makes the rules say what to register. Bazel 6+ needs nothing.
    Call it after registering toolchains of your own: the first registered toolchain wins.
    """
    if not MODERN_TOOLCHAINS:
        native.register_toolchains(str(Label("//rules:no_toolchain")))

# buildifier: disable=unnamed-macro
def thinlto_register_toolchains(name = "thinlto_host", helper = "", cargo = "cargo", **kwargs):
    """Detects the host's clang, lld and rustc and registers them as the rules_thinlto toolchain.

    Creates @<name>_toolchains (registered), @<name> (the tools) and @<name>_helper.

    Args:
      name: the name of the tools' repository.
      helper: absolute path of a prebuilt `thinlto` helper (default: $THINLTO_HELPER, else cargo).
      cargo: cargo, to build the helper when none is given.
      **kwargs: attributes of `thinlto_host_toolchain` (clang, lld, rustc, target).
    """
    _thinlto_helper_repository(name = name + "_helper", helper = helper, cargo = cargo)
    _thinlto_host_toolchain(name = name, helper_label = "@{}_helper//:thinlto".format(name), **kwargs)
    _thinlto_toolchains_repository(name = name + "_toolchains", host = name)
    native.register_toolchains("@{}_toolchains//:all".format(name))
    thinlto_dependencies()
