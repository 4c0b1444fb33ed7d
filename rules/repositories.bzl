"""WORKSPACE setup of rules_thinlto (Bazel without bzlmod)."""

load("//rules/private:host_toolchain.bzl", _thinlto_host_toolchain = "thinlto_host_toolchain")

thinlto_host_toolchain = _thinlto_host_toolchain

def thinlto_register_toolchains(name = "thinlto_host", **kwargs):
    """Detects the host's clang, lld and rustc and registers them as the rules_thinlto toolchain.

    Args:
      name: the name of the generated repository.
      **kwargs: attributes of `thinlto_host_toolchain` (clang, lld, rustc, helper, ...).
    """
    _thinlto_host_toolchain(name = name, **kwargs)
    native.register_toolchains("@{}//:toolchain".format(name))
