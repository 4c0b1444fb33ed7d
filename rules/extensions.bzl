"""The `thinlto` module extension (bzlmod): the host toolchain's repositories.

    thinlto = use_extension("@rules_thinlto//rules:extensions.bzl", "thinlto")
    thinlto.host_toolchain(clang = "clang-22", lld = "ld.lld-22", rustc = "rustc")
    use_repo(thinlto, "thinlto_toolchains")
    register_toolchains("@thinlto_toolchains//:all")

rules_thinlto's own MODULE.bazel already does the above with the defaults, so a module that
depends on it gets the host toolchain unless it registers a toolchain of its own first.
"""

load("//rules/private:host_toolchain.bzl", "thinlto_helper_repository", "thinlto_host_toolchain", "thinlto_toolchains_repository")

_host_toolchain = tag_class(
    doc = "Where the host's tools are; every attribute is optional.",
    attrs = {
        "cargo": attr.string(default = "cargo", doc = "cargo, to build the helper when `helper` is not given."),
        "clang": attr.string(default = "clang-22", doc = "The clang driver."),
        "helper": attr.string(doc = "Absolute path of a prebuilt `thinlto` helper (default: $THINLTO_HELPER, else cargo)."),
        "lld": attr.string(default = "ld.lld-22", doc = "ld.lld; its LLVM major must match clang's and rustc's."),
        "rustc": attr.string(default = "rustc", doc = "rustc; its LLVM major must match clang's."),
        "target": attr.string(default = "x86_64-unknown-linux-gnu", doc = "Target triple."),
    },
)

def _thinlto_impl(module_ctx):
    tags = []
    for mod in module_ctx.modules:
        if mod.is_root and mod.tags.host_toolchain:
            tags = mod.tags.host_toolchain
    if len(tags) > 1:
        fail("thinlto.host_toolchain: give it once in the root module, not {} times".format(len(tags)))
    t = tags[0] if tags else None
    thinlto_helper_repository(
        name = "thinlto_host_helper",
        helper = t.helper if t else "",
        cargo = t.cargo if t else "cargo",
    )
    thinlto_host_toolchain(
        name = "thinlto_host",
        helper_label = "@thinlto_host_helper//:thinlto",
        **({"clang": t.clang, "lld": t.lld, "rustc": t.rustc, "target": t.target} if t else {})
    )
    thinlto_toolchains_repository(name = "thinlto_toolchains", host = "thinlto_host")

    # The repositories follow from the tags alone (what they find on the host is theirs to
    # refetch), so the lockfile need not record them. `reproducible` came with Bazel 7.1,
    # as did module_ctx.watch, by which rules_cc's cc/extensions.bzl detects it too.
    if hasattr(module_ctx, "watch"):
        return module_ctx.extension_metadata(reproducible = True, root_module_direct_deps = "all", root_module_direct_dev_deps = [])
    return None

thinlto = module_extension(
    implementation = _thinlto_impl,
    doc = "Creates @thinlto_toolchains (register it), @thinlto_host and @thinlto_host_helper from the host's clang, lld and rustc.",
    tag_classes = {"host_toolchain": _host_toolchain},
)
