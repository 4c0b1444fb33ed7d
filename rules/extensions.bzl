"""The `thinlto` module extension (bzlmod): the host toolchain repository.

    thinlto = use_extension("@rules_thinlto//rules:extensions.bzl", "thinlto")
    thinlto.host_toolchain(clang = "clang-22", lld = "ld.lld-22", rustc = "rustc")
    use_repo(thinlto, "thinlto_host")
    register_toolchains("@thinlto_host//:toolchain")
"""

load("//rules/private:host_toolchain.bzl", "thinlto_host_toolchain")

_host_toolchain = tag_class(
    doc = "Where the host's tools are; every attribute is optional.",
    attrs = {
        "cargo": attr.string(default = "cargo", doc = "cargo, to build the helper when `helper` is not given."),
        "clang": attr.string(default = "clang-22", doc = "The clang driver."),
        "helper": attr.string(doc = "Absolute path of a prebuilt `thinlto` helper."),
        "lld": attr.string(default = "ld.lld-22", doc = "ld.lld; its LLVM major must match clang's and rustc's."),
        "rustc": attr.string(default = "rustc", doc = "rustc; its LLVM major must match clang's."),
        "target": attr.string(default = "x86_64-unknown-linux-gnu", doc = "Target triple."),
    },
)

def _thinlto_impl(module_ctx):
    tags = []
    for mod in module_ctx.modules:
        if mod.is_root:
            tags = mod.tags.host_toolchain
    if len(tags) > 1:
        fail("thinlto.host_toolchain: give it once in the root module, not {} times".format(len(tags)))
    attrs = {}
    if tags:
        t = tags[0]
        attrs = {"cargo": t.cargo, "clang": t.clang, "helper": t.helper, "lld": t.lld, "rustc": t.rustc, "target": t.target}
    thinlto_host_toolchain(name = "thinlto_host", **attrs)

thinlto = module_extension(
    implementation = _thinlto_impl,
    doc = "Creates @thinlto_host, the rules_thinlto toolchain made of the host's clang, lld and rustc.",
    tag_classes = {"host_toolchain": _host_toolchain},
)
