"""Analysis tests of rules_thinlto's rules: their actions, providers and error messages.

Written against bazel_skylib's analysistest as Debian's skylib 1.0.3 has it (no
`extra_target_under_test_aspects`, no action filters), so that they run on Bazel 4.2.3 as on
Bazel 7 to 9. skylib's unittest toolchain must be registered: under bzlmod skylib does it;
in WORKSPACE, register_unittest_toolchains() (see WORKSPACE).
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("@rules_cc//cc/common:cc_info.bzl", "CcInfo")

# The tests read the rule set's own providers, which only //rules/private defines.
# buildifier: disable=bzl-visibility
load("//rules/private:providers.bzl", "BitcodeInfo", "RustCrateInfo")

THIN_LTO = {"//command_line_option:features": ["thin_lto"]}

PANIC_ABORT = {str(Label("//rules/settings:panic")): "abort"}

def by_mnemonic(env):
    """The target under test's actions, by mnemonic.

    Args:
      env: the analysistest environment.

    Returns:
      dict[string, list[Action]].
    """
    found = {}
    for a in analysistest.target_actions(env):
        found.setdefault(a.mnemonic, []).append(a)
    return found

def _kind(f):
    """What a backend input is, by its name: which of the four suffixes it has."""
    for suffix in [".thinlto.bc", ".imports", ".pack", ".o"]:
        if f.basename.endswith(suffix):
            return suffix
    return f.path

def _own_inputs(action):
    """An action's inputs but the executable it runs (argv[0]) and external tool files."""
    tool = action.argv[0] if action.argv else None
    return [f for f in action.inputs.to_list() if f.path != tool and not f.path.startswith("external/")]

# --- thinlto_binary under thin_lto: the thin link, one backend per module, the final link ---

def _thin_lto_actions_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = by_mnemonic(env)
    for m in ["CppLink", "ThinLtoExtract"]:
        asserts.false(env, m in actions, "this link runs no " + m)
    asserts.equals(env, 1, len(actions.get("ThinLtoIndex", [])), "one thin link (ThinLtoIndex)")
    asserts.equals(env, 1, len(actions.get("ThinLtoLink", [])), "one final link (ThinLtoLink)")
    backends = actions.get("ThinLtoBackend", [])
    asserts.equals(env, ctx.attr.modules, len(backends), "one ThinLtoBackend per bitcode module")
    if not backends:
        return analysistest.end(env)

    index = actions["ThinLtoIndex"][0]
    index_inputs = {f.path: True for f in index.inputs.to_list()}
    index_outputs = {f.path: True for f in index.outputs.to_list()}
    link_inputs = {f.path: True for f in actions["ThinLtoLink"][0].inputs.to_list()}
    for b in backends:
        inputs = _own_inputs(b)

        # Exactly the module, its index, its import list and its import pack: nothing else.
        asserts.equals(env, [".imports", ".o", ".pack", ".thinlto.bc"], sorted([_kind(f) for f in inputs]), "inputs of backend " + str(b.argv))
        for f in inputs:
            if _kind(f) == ".o":
                asserts.true(env, f.path in index_inputs, "the module is an input of the thin link: " + f.path)
            else:
                asserts.true(env, f.path in index_outputs, "the thin link writes " + f.path)
        outputs = b.outputs.to_list()
        asserts.equals(env, 1, len(outputs), "a backend writes one object")
        asserts.true(env, "/{}.lto/".format(ctx.attr.binary) in outputs[0].path, "the object is under <binary>.lto/: " + outputs[0].path)
        asserts.true(env, outputs[0].path in link_inputs, "the final link takes " + outputs[0].path)
    return analysistest.end(env)

thin_lto_actions_test = analysistest.make(
    _thin_lto_actions_test_impl,
    attrs = {
        "binary": attr.string(doc = "The binary's name."),
        "modules": attr.int(doc = "How many bitcode modules it links."),
    },
    config_settings = THIN_LTO,
)

def _native_link_test_impl(ctx):
    env = analysistest.begin(ctx)
    actions = by_mnemonic(env)
    asserts.equals(env, 1, len(actions.get("CppLink", [])), "an ordinary link is one CppLink")
    for m in ["ThinLtoIndex", "ThinLtoBackend", "ThinLtoLink"]:
        asserts.false(env, m in actions, "without thin_lto, no " + m)
    return analysistest.end(env)

native_link_test = analysistest.make(_native_link_test_impl)

# --- rust_library: RustCrateInfo, BitcodeInfo, CcInfo, and its compiles ---

def _rust_library_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    lto = ctx.attr.thin_lto
    name = ctx.attr.crate_name
    crate = target[RustCrateInfo]
    asserts.equals(env, name, crate.crate_name)
    asserts.equals(env, "lib{}.rmeta".format(name), crate.metadata.basename)
    asserts.equals(env, name + (".native.o" if lto else ".o"), crate.object.basename)
    asserts.true(env, crate.metadata in crate.transitive_metadata.to_list(), "its metadata is in transitive_metadata")
    pairs = [(t[0], t[1]) for t in target[BitcodeInfo].objects.to_list()]
    if lto:
        asserts.equals(env, name + ".o", crate.bitcode.basename)
        asserts.equals(env, [(crate.object, crate.bitcode)], pairs, "BitcodeInfo maps the native object to its bitcode")
    else:
        asserts.equals(env, None, crate.bitcode)
        asserts.equals(env, [], pairs, "no bitcode without thin_lto")

    # CcInfo: the native object in a linker input of the crate's own, the Rust runtime below.
    inputs = target[CcInfo].linking_context.linker_inputs.to_list()
    own = [li for li in inputs if li.owner == target.label]
    asserts.equals(env, 1, len(own), "one linker input of its own")
    objects = [o for lib in own[0].libraries for o in (lib.objects or lib.pic_objects or [])]
    asserts.true(env, crate.object in objects, "CcInfo links the native object")
    archives = [lib.static_library or lib.pic_static_library for li in inputs for lib in li.libraries]
    asserts.true(env, [a for a in archives if a and a.basename.startswith("libstd-")], "the Rust runtime brings std")

    actions = by_mnemonic(env)
    compiles = actions.get("RustcCompile", [])
    asserts.equals(env, 1, len(compiles), "one compile for dependents (metadata and the linked object)")
    if compiles:
        argv = compiles[0].argv
        asserts.equals(env, lto, "-Clinker-plugin-lto" in argv, "-Clinker-plugin-lto exactly under thin_lto")
        asserts.true(env, "--crate-name=" + name in argv, "--crate-name")
    asserts.equals(env, 1 if lto else 0, len(actions.get("RustcNative", [])), "a second, native compile under thin_lto")
    return analysistest.end(env)

rust_library_test = analysistest.make(
    _rust_library_test_impl,
    attrs = {"crate_name": attr.string(), "thin_lto": attr.bool()},
)

rust_library_thin_lto_test = analysistest.make(
    _rust_library_test_impl,
    attrs = {"crate_name": attr.string(), "thin_lto": attr.bool()},
    config_settings = THIN_LTO,
)

# --- the rules' fail() messages ---

def _fails_with_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

fails_test = analysistest.make(
    _fails_with_impl,
    attrs = {"message": attr.string(doc = "What the error must say.")},
    expect_failure = True,
)

fails_with_panic_abort_test = analysistest.make(
    _fails_with_impl,
    attrs = {"message": attr.string(doc = "What the error must say.")},
    expect_failure = True,
    config_settings = PANIC_ABORT,
)

def analysis_tests(name):
    """The analysis tests of this package, and a test_suite `name` of them.

    Args:
      name: the test_suite's name.
    """
    thin_lto_actions_test(name = "thin_lto_cpp_actions_test", target_under_test = ":cpp", binary = "cpp", modules = 2)
    thin_lto_actions_test(name = "thin_lto_mixed_actions_test", target_under_test = ":mixed", binary = "mixed", modules = 5)
    native_link_test(name = "native_link_test", target_under_test = ":cpp")
    rust_library_test(name = "rust_library_test", target_under_test = ":crate", crate_name = "crate", thin_lto = False)
    rust_library_thin_lto_test(name = "rust_library_thin_lto_test", target_under_test = ":crate", crate_name = "crate", thin_lto = True)
    fails_test(name = "crate_root_test", target_under_test = ":two_roots", message = "cannot tell the crate root among srcs; set crate_root")
    fails_with_panic_abort_test(name = "rust_test_panic_test", target_under_test = ":unwinding_test.crate", message = "rust_test needs --@rules_thinlto//rules/settings:panic=unwind")
    native.test_suite(
        name = name,
        tests = [
            ":crate_root_test",
            ":native_link_test",
            ":rust_library_test",
            ":rust_library_thin_lto_test",
            ":rust_test_panic_test",
            ":thin_lto_cpp_actions_test",
            ":thin_lto_mixed_actions_test",
        ],
    )
