"""Analysis tests of the toolchain: optional where it can be, versions in every action key.

They need the changes of docs/bazel-versions.md (rules/private/compat.bzl, the stand-in
//rules:no_toolchain, thinlto_toolchain's tool_versions); analysis_tests.bzl does not.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

# buildifier: disable=bzl-visibility
load("//rules/private:toolchain.bzl", "VERSIONS_ENV")
load(":analysis_tests.bzl", "THIN_LTO", "by_mnemonic")

# --extra_toolchains puts a toolchain ahead of every registered one. //rules:no_toolchain is
# what Bazel 4.2.3 resolves when no rules_thinlto toolchain is registered; on Bazel 6+ an
# unresolved optional toolchain gives the rules the same None.
NO_TOOLCHAIN = {"//command_line_option:extra_toolchains": ["//rules:no_toolchain"]}

def _registered(toolchain, settings = {}):
    return dict(settings, **{"//command_line_option:extra_toolchains": [toolchain]})

def _native_link_impl(ctx):
    env = analysistest.begin(ctx)
    actions = by_mnemonic(env)
    asserts.equals(env, 1, len(actions.get("CppLink", [])), "an ordinary link needs no rules_thinlto toolchain")
    return analysistest.end(env)

native_link_without_toolchain_test = analysistest.make(_native_link_impl, config_settings = NO_TOOLCHAIN)

def _versions_impl(ctx):
    env = analysistest.begin(ctx)
    seen = 0
    for a in analysistest.target_actions(env):
        if a.mnemonic.startswith("ThinLto") or a.mnemonic.startswith("Rustc"):
            seen += 1
            asserts.equals(env, ctx.attr.versions, a.env.get(VERSIONS_ENV), a.mnemonic + " carries the tools' versions in its environment (its key)")
    asserts.true(env, seen >= ctx.attr.actions, "found {} actions running a tool".format(seen))
    return analysistest.end(env)

_VERSIONS_ATTRS = {
    "actions": attr.int(doc = "At least how many actions run a tool."),
    "versions": attr.string(doc = "What their environment must say."),
}

versions_v1_test = analysistest.make(_versions_impl, attrs = _VERSIONS_ATTRS, config_settings = _registered("//tests/analysis:fake_v1_toolchain", THIN_LTO))

versions_v2_test = analysistest.make(_versions_impl, attrs = _VERSIONS_ATTRS, config_settings = _registered("//tests/analysis:fake_v2_toolchain", THIN_LTO))

rust_versions_test = analysistest.make(_versions_impl, attrs = _VERSIONS_ATTRS, config_settings = _registered("//tests/analysis:fake_v1_toolchain"))

def _fails_with_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

_MESSAGE = {"message": attr.string(doc = "What the error must say.")}

fails_test = analysistest.make(_fails_with_impl, attrs = _MESSAGE, expect_failure = True)

fails_without_toolchain_test = analysistest.make(_fails_with_impl, attrs = _MESSAGE, expect_failure = True, config_settings = NO_TOOLCHAIN)

fails_thin_lto_without_toolchain_test = analysistest.make(_fails_with_impl, attrs = _MESSAGE, expect_failure = True, config_settings = dict(THIN_LTO, **NO_TOOLCHAIN))

fails_thin_lto_without_helper_test = analysistest.make(_fails_with_impl, attrs = _MESSAGE, expect_failure = True, config_settings = _registered("//tests/analysis:fake_no_helper_toolchain", THIN_LTO))

def toolchain_tests(name):
    """The toolchain's analysis tests, and a test_suite `name` of them.

    Args:
      name: the test_suite's name.
    """
    native_link_without_toolchain_test(name = "native_link_without_toolchain_test", target_under_test = ":cpp")
    versions_v1_test(name = "versions_v1_test", target_under_test = ":cpp", actions = 4, versions = "clang=fake clang 1;rustc=fake rustc")
    versions_v2_test(name = "versions_v2_test", target_under_test = ":cpp", actions = 4, versions = "clang=fake clang 2;rustc=fake rustc")
    rust_versions_test(name = "rust_versions_test", target_under_test = ":crate", actions = 1, versions = "clang=fake clang 1;rustc=fake rustc")
    fails_without_toolchain_test(name = "rust_without_toolchain_test", target_under_test = ":crate", message = "a Rust crate needs a rules_thinlto toolchain")
    fails_thin_lto_without_toolchain_test(name = "thin_lto_without_toolchain_test", target_under_test = ":cpp", message = "--features=thin_lto needs a rules_thinlto toolchain")
    fails_thin_lto_without_helper_test(name = "thin_lto_without_helper_test", target_under_test = ":cpp", message = "needs the `thinlto` helper")
    fails_test(name = "tool_given_twice_test", target_under_test = ":clang_twice", message = "give `clang` or `clang_tool`, not both")
    native.test_suite(
        name = name,
        tests = [
            ":native_link_without_toolchain_test",
            ":rust_versions_test",
            ":rust_without_toolchain_test",
            ":thin_lto_without_helper_test",
            ":thin_lto_without_toolchain_test",
            ":tool_given_twice_test",
            ":versions_v1_test",
            ":versions_v2_test",
        ],
    )
