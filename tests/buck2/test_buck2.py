"""The Buck2 front end (buck2/, buck2/README.md) on examples/mixed: the prelude's link and distributed ThinLTO side by side in one
project (ThinLTO is a configuration, `-m thinlto`); inlining across languages both ways; each
backend declares exactly its inputs; an edit re-runs exactly the affected backends; the final
link is the prelude's link with ThinLTO's objects; every misconfiguration fails saying what to
set; and the Starlark lint. tests/buck2/test_buck2_{shapes,realcode,remote,capture}.py test
the rest; buck2_project.py finds buck2 (skipping loudly without one) and makes the scratch
projects."""

import re
import shutil
import subprocess

import pytest

from buck2_project import ROOT, THINLTO, buck2_bin, edited, helper, install_helper, manifest_entries, project  # noqa: F401
from thinlto_inspect import call_sites, functions, run

TARGET = "//examples/mixed:mixed"
TOOLCHAINS = "buck2/toolchains/BUCK"
EXPECTED = (ROOT / "examples/mixed/expected_output.txt").read_text().splitlines()
# How much larger than the plain binary's the distributed binary's text may be. It is smaller
# today (the backends inline across languages and --gc-sections drops what that leaves).
SIZE_MARGIN = 0.005


@pytest.fixture(scope="module")
def plain(project):
    return project.build1(TARGET)


@pytest.fixture(scope="module")
def distributed(project, plain):
    return project.build1(TARGET, *THINLTO)


def text_size(binary):
    out = subprocess.run(["llvm-size-22", str(binary)], capture_output=True, text=True, check=True).stdout
    return int(out.splitlines()[1].split()[0])


def test_runs_with_the_prelude_link(plain):
    assert run([str(plain)]).splitlines() == EXPECTED


def test_runs_with_distributed_thinlto(project, distributed):
    assert run([str(distributed)]).splitlines() == EXPECTED
    assert len(project.plan(distributed)["modules"]) >= 4


def test_plain_and_distributed_sit_side_by_side(project, plain, distributed):
    # Two configurations: two output paths, both built by one command, neither rebuilt.
    assert plain != distributed and plain.exists() and distributed.exists()
    both = project.build(TARGET, TARGET + "?thinlto")
    assert set(both.values()) == {plain, distributed}, both
    assert project.what_ran() == []
    assert run([str(plain)]).splitlines() == EXPECTED
    assert run([str(distributed)]).splitlines() == EXPECTED
    # The plain binary is the prelude's ordinary link: no ThinLTO action ran for it.
    assert not list(plain.parent.glob("**/thinlto/plan.json"))


def test_rust_inlined_into_cpp_and_cpp_into_rust(distributed, plain):
    fns = functions(distributed)
    assert call_sites(fns, "rust_square_plus_one") == [], fns["main"]  # Rust into C++
    assert call_sites(fns, "geometry_initialized") == [], fns["main"]  # C++ into C++ across libraries
    assert call_sites(fns, "cpp_square") == []  # C++ into Rust
    assert call_sites(fns, "sum_of_squares") == []  # Rust into Rust across crates
    assert "rust_report" in fns and "main" in fns

    # The prelude's ordinary link keeps every one of those calls: the assertions above can fail.
    # (rustc itself may inline sum_of_squares across crates: it is small and not generic.)
    base = functions(plain)
    assert call_sites(base, "rust_square_plus_one") == ["main"]
    assert call_sites(base, "geometry_initialized") == ["main"]
    # (an ordinary link calls cpp_square through the GOT: an indirect call)
    assert any("call" in i for i in base["rust_square_plus_one"]), base["rust_square_plus_one"]


def module_of(argv):
    return argv[argv.index("--module") + 1]


def test_each_backend_declares_exactly_its_module_index_and_imports(project, distributed):
    plan = project.plan(distributed)
    # Re-run every backend (a flag they all get), so that the event log has all of them.
    project.build1(TARGET, *THINLTO, "-c", "thinlto.backend_flags=-DTHINLTO_TEST_RERUN")
    backends = project.input_bytes("thinlto_backend")
    # The loaded modules' backends ran, and no other: the final link needs no object of an
    # unloaded module, so Buck2 never runs its backend.
    loaded = [m for m in plan["modules"] if m["loaded"]]
    assert len(backends) == len(loaded)
    commands = project.ran("thinlto_backend")
    assert sorted(commands) == sorted(backends)
    # The helper is a declared input too (the toolchain's tracked helper_dep).
    helper = project.root / "buck2/toolchains/bin/thinlto"
    assert any(str(helper.relative_to(project.root)) == argv[0] for argv in commands.values()), commands

    def size(path):
        return (project.root / path).stat().st_size

    for identifier, argv in commands.items():
        m = next(m for m in loaded if m["module"] == module_of(argv))
        assert argv[argv.index("--index") + 1] == m["index"]
        assert argv[argv.index("--imports") + 1] == m["imports_file"]
        # The imports list file too: the helper reads it to stage the imports.
        files = {m["module"], m["index"], m["imports_file"], *m["imports"]}
        expected = helper.stat().st_size + sum(size(f) for f in files)
        assert backends[identifier] == expected, (m["module"], backends[identifier], {f: size(f) for f in files})
    assert any(m["imports"] for m in plan["modules"]), "no module imports anything: the test would show nothing"


def rerun_after_edit(project, distributed, path, old, new):
    """Edits a source, rebuilds; returns (backends re-run, backends whose inputs changed, all modules)."""
    project.build1(TARGET, *THINLTO)  # the state to change from, whatever ran before
    plan = project.plan(distributed)

    def snapshot():
        files = {m["module"] for m in plan["modules"]} | {m["index"] for m in plan["modules"]}
        return {f: (project.root / f).read_bytes() for f in files}

    before = snapshot()
    with edited(project, path, old, new):
        out = project.build1(TARGET, *THINLTO)
        ran = project.ran("thinlto_backend")
        after = snapshot()
        assert run([str(out)]).splitlines() == EXPECTED
    changed = {f for f in before if before[f] != after[f]}
    affected = {m["module"] for m in plan["modules"] if m["loaded"] and {m["module"], m["index"], *m["imports"]} & changed}
    ran_modules = {module_of(argv) for argv in ran.values()}
    assert len(ran) == len(ran_modules)
    print(f"changed: {sorted(changed)}\nbackends re-run: {sorted(ran_modules)}")
    return ran_modules, affected, [m["module"] for m in plan["modules"] if m["loaded"]]


def test_one_leaf_body_reruns_only_affected_backends(project, distributed):
    body = 'extern "C" int cpp_square(int x) { return x * x; }'
    ran, affected, loaded = rerun_after_edit(
        project, distributed, "examples/mixed/geometry.cc", body,
        'static volatile int zero = 0;\nextern "C" int cpp_square(int x) { return x * x + zero; }')
    assert ran == affected
    assert any("geometry" in m for m in ran), ran
    assert len(ran) < len(loaded), "every backend re-ran"


def test_one_header_edit_reruns_only_affected_backends(project, distributed):
    # Both C++ files include the header; the attribute changes both modules' bitcode (a hidden
    # declaration in main.cc, a hidden definition in geometry.cc).
    decl = "int geometry_initialized();"
    ran, affected, loaded = rerun_after_edit(
        project, distributed, "examples/mixed/geometry.h", decl, '__attribute__((visibility("hidden"))) ' + decl)
    assert ran == affected
    assert any("main.cc" in m for m in ran) and any("geometry" in m for m in ran), ran
    assert len(ran) < len(loaded), "every backend re-ran"


def test_a_module_unloaded_and_loaded_again_is_rebuilt(project, distributed):
    """report's code unit leaves the link (nothing calls it) and comes back, in one daemon.

    Its object is declared either way; it must be the backend's output again afterwards,
    not what the unloaded state left at the same path.
    """
    with edited(project, "examples/mixed/main.cc", "long b = rust_report(n);", "long b = 30;"):
        out = project.build1(TARGET, *THINLTO)
        assert "rust_report" not in functions(out)
    out = project.build1(TARGET, *THINLTO)
    assert run([str(out)]).splitlines() == EXPECTED


def test_loose_objects_link_too(project, distributed):
    """A cxx_library giving its objects rather than an archive (use_archive = False)."""
    with edited(project, "examples/mixed/BUCK", 'preferred_linkage = "static",\n)', 'preferred_linkage = "static",\n    use_archive = False,\n)'):
        out = project.build1(TARGET, *THINLTO)
        assert run([str(out)]).splitlines() == EXPECTED
        members = manifest_entries(project.manifest(out))
        # The library's object joins the thin link where it is, not as an archive member.
        assert any("geometry" in e["path"] and "/thinlto/bc/" not in e["path"] and e["kind"] == "bitcode" for e in members), members
        assert call_sites(functions(out), "geometry_initialized") == []


def flags_of(argsfile):
    """The flags of a link argsfile (one shell-quoted argument per line), without -o's value.

    Leaves out what only lld's in-process ThinLTO uses: `-Xlinker -plugin-opt -Xlinker
    dwo_dir=...` (where its split debug info goes), which the prelude adds to an LTO link.
    """
    args = [line.strip().strip('"') for line in argsfile.read_text().splitlines() if line.strip()]
    flags = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-o":
            i += 2
            continue
        if a == "-Xlinker" and i + 3 < len(args) and args[i + 1] == "-plugin-opt" and args[i + 3].startswith("dwo_dir="):
            i += 4
            continue
        if a.startswith("-"):
            flags.append(a)
        i += 1
    return flags


def test_the_final_link_has_the_prelude_links_flags(project, distributed):
    """The toolchain's and the target's link flags reach the distributed link as the prelude passes them."""
    extra = 'enable_distributed_thinlto = True,\n    linker_flags = ["-Wl,-z,stack-size=1048576"],\n    binary_linker_flags = ["-Wl,--build-id=sha1"],'
    with edited(project, "examples/mixed/BUCK", "enable_distributed_thinlto = True,", extra):
        out = project.build1(TARGET, *THINLTO)
        # The prelude's own link of the same binary in the same configuration: [prelude-link].
        prelude_args = project.build1(TARGET + "[prelude-link][linker.argsfile]", *THINLTO)
        manifest = project.manifest(out)
        ours = manifest["linker"]["flags"] + manifest["linker"]["post_flags"]
        theirs = flags_of(prelude_args)
        assert "-Wl,--gc-sections" in theirs and "-Wl,--build-id=sha1" in theirs, theirs
        missing = [f for f in theirs if f not in ours]
        assert missing == [], (missing, ours)
        # In the prelude's order (ours adds -fuse-ld=lld, which the thin link needs).
        rest = iter(ours)
        assert all(f in rest for f in theirs), (theirs, ours)
        notes = subprocess.run(["llvm-readelf-22", "-n", str(out)], capture_output=True, text=True, check=True).stdout
        assert "Build ID" in notes, notes
        assert run([str(out)]).splitlines() == EXPECTED


def test_distributed_text_is_not_larger_than_plain(plain, distributed):
    p, d = text_size(plain), text_size(distributed)
    print(f"text: plain {p}, distributed {d} ({(d - p) / p:+.2%})")
    assert d <= p * (1 + SIZE_MARGIN), (p, d)


def test_config_key_is_the_switch_without_a_modifier(project, plain, distributed):
    """`[thinlto] mode = distributed` switches ThinLTO on where no modifier says otherwise."""
    out = project.build1(TARGET, "-c", "thinlto.mode=distributed")
    assert out.parent.name == "thinlto" and out != distributed
    assert project.ran("thinlto_index")
    assert run([str(out)]).splitlines() == EXPECTED
    # ...and the constraint value `none` switches it off again.
    out = project.build1(TARGET, "-c", "thinlto.mode=distributed", "-m", "thinlto//buck2/cfg:none")
    assert out.parent.name != "thinlto"
    assert run([str(out)]).splitlines() == EXPECTED


def test_a_rebuilt_helper_reruns_every_thinlto_action(project, helper, distributed):
    """The toolchain's helper is a tracked file: another helper binary means other actions."""
    project.build1(TARGET, *THINLTO)
    try:
        install_helper(project.root, helper, extra=b"\0" * 64)  # same program, other bytes
        out = project.build1(TARGET, *THINLTO)
        ran = project.what_ran()
        for category in ["thinlto_extract", "thinlto_index", "thinlto_backend", "thinlto_link"]:
            assert any(f"({category} " in a["identity"] for a in ran), category
        assert len(project.ran("thinlto_backend")) == len([m for m in project.plan(out)["modules"] if m["loaded"]])
        assert run([str(out)]).splitlines() == EXPECTED
    finally:
        install_helper(project.root, helper)


def test_an_untracked_helper_is_not_rehashed(project, helper, tmp_path, distributed):
    """`[thinlto] helper = PATH` is untracked: Buck2 does not notice the file change (documented)."""
    copy = tmp_path / "thinlto"
    shutil.copy(helper, copy)
    flag = ("-c", f"thinlto.helper={copy}")
    project.build1(TARGET, *THINLTO, *flag)
    copy.write_bytes(copy.read_bytes() + b"\0" * 64)
    project.build1(TARGET, *THINLTO, *flag)
    assert project.ran("thinlto_index") == {}


PRELUDE_CXX_TOOLCHAIN = """
load(":host_tool.bzl", "host_tool")
load("@thinlto//buck2:defs.bzl", "thinlto_lto_mode")

[host_tool(name = n, path = p) for n, p in [("clang", "clang-22"), ("clangxx", "clang++-22"), ("ar", "llvm-ar-22"),
                                             ("nm", "llvm-nm-22"), ("objcopy", "llvm-objcopy-22"), ("strip", "llvm-strip-22")]]

cxx_toolchain(
    name = "cxx",
    archiver = ":ar",
    archiver_type = "gnu",
    assembler = ":clang",
    c_compiler = ":clang",
    cxx_compiler = ":clangxx",
    compiler_type = "clang",
    linker = ":clangxx",
    linker_type = "gnu",
    nm = ":nm",
    objcopy_for_shared_library_interface = ":objcopy",
    strip = ":strip",
    c_compiler_flags = _TARGET + ["-O2"],
    cxx_compiler_flags = _TARGET + ["-O2", "-std=c++17"],
    linker_flags = _TARGET + ["-fuse-ld=lld", "-Wl,--gc-sections"],
    link_style = "static_pic",
    generate_linker_maps = False,
    lto_mode = thinlto_lto_mode(),
    supports_distributed_thinlto = True,
    dist_thin_lto_codegen_flags = _TARGET + ["-O2", "-fno-unroll-loops"],
    visibility = ["PUBLIC"],
)
"""


def test_a_prelude_cxx_toolchain_says_it_with_its_own_attributes(project):
    """The prelude's cxx_toolchain: lto_mode, supports_distributed_thinlto, dist_thin_lto_codegen_flags."""
    (project.root / "buck2/toolchains/host_tool.bzl").write_text(
        "def _impl(ctx):\n"
        "    return [DefaultInfo(), RunInfo(args = cmd_args(ctx.attrs.path))]\n"
        "host_tool = rule(impl = _impl, attrs = {\"path\": attrs.string()})\n"
    )
    toolchains = (project.root / TOOLCHAINS).read_text()
    start = toolchains.index('thinlto_cxx_toolchain(\n    name = "cxx",')
    end = toolchains.index("\n)\n", start) + 3
    with edited(project, TOOLCHAINS, toolchains[start:end], PRELUDE_CXX_TOOLCHAIN):
        plain = project.build1(TARGET)
        assert project.ran("thinlto_index") == {}
        out = project.build1(TARGET, *THINLTO)
        backends = project.ran("thinlto_backend")
        assert backends and all(argv[-2:] == ["-O2", "-fno-unroll-loops"] for argv in backends.values()), backends
        assert run([str(out)]).splitlines() == EXPECTED
        assert run([str(plain)]).splitlines() == EXPECTED
        assert call_sites(functions(out), "rust_square_plus_one") == []


# --- misconfigurations: each fails saying what to set ---



def test_unknown_mode_fails_naming_the_allowed_ones(project):
    err = project.fails("-c", "thinlto.mode=distribted", TARGET)
    assert "is not one of: none, distributed" in err, err[-4000:]


def test_system_toolchain_without_the_wrapper_says_what_to_set(project):
    """facebook/buck2#323: enable_distributed_thinlto with a toolchain that cannot do it."""
    with edited(project, TOOLCHAINS, 'name = "cxx_base",', 'name = "cxx",\n    visibility = ["PUBLIC"],'), \
            edited(project, TOOLCHAINS, '    name = "cxx",\n    base = ":cxx_base",', '    name = "cxx_wrapped",\n    base = ":cxx",'):
        err = project.fails(TARGET)  # also in the plain configuration: the toolchain cannot do what the binary asks
    assert "does not support distributed ThinLTO" in err, err[-4000:]
    assert "thinlto_cxx_toolchain" in err and "supports_distributed_thinlto = True" in err


def test_thinlto_configuration_with_lto_mode_none_says_what_to_set(project):
    with edited(project, TOOLCHAINS, '    base = ":cxx_base",', '    base = ":cxx_base",\n    lto_mode = "none",'):
        err = project.fails(*THINLTO, TARGET)
    assert "the configuration asks for ThinLTO" in err and "lto_mode = thinlto_lto_mode()" in err, err[-4000:]


def test_backends_without_an_optimisation_level_say_what_to_set(project):
    with edited(project, TOOLCHAINS, 'dist_thin_lto_codegen_flags = _TARGET + ["-O2"] +', "dist_thin_lto_codegen_flags = _TARGET +"):
        err = project.fails(*THINLTO, TARGET)
    assert "no optimisation level" in err and "dist_thin_lto_codegen_flags" in err, err[-4000:]


def test_rust_without_bitcode_says_what_to_set(project):
    with edited(project, TOOLCHAINS, "thinlto_rustc_flags(profile = _PROFILE) + ", ""):
        err = project.fails(*THINLTO, TARGET)
    assert "was compiled by rustc without -Clinker-plugin-lto" in err, err[-4000:]
    assert "thinlto_rustc_flags()" in err


def test_cxx_toolchain_without_lto_flags_says_what_to_set(project):
    """A hand-written wrapper that sets lto_mode = "thin" but compiles native code."""
    (project.root / "buck2/toolchains/bare.bzl").write_text(
        'load("@prelude//cxx:cxx_toolchain_types.bzl", "CxxPlatformInfo", "CxxToolchainInfo", "LinkerInfo")\n'
        'load("@prelude//linking:lto.bzl", "LtoMode")\n'
        "def _copy(v, p, **c):\n"
        "    f = {k: getattr(v, k) for k in dir(v)}\n"
        "    f.update(c)\n"
        "    return p(**f)\n"
        "def _impl(ctx):\n"
        "    b = ctx.attrs.base[CxxToolchainInfo]\n"
        '    li = _copy(b.linker_info, LinkerInfo, lto_mode = LtoMode("thin"), supports_distributed_thinlto = True, dist_thin_lto_codegen_flags = cmd_args("-O2"))\n'
        "    return [DefaultInfo(), _copy(b, CxxToolchainInfo, linker_info = li), ctx.attrs.base[CxxPlatformInfo]]\n"
        "bare = rule(impl = _impl, attrs = {\"base\": attrs.toolchain_dep()}, is_toolchain_rule = True)\n"
    )
    with edited(project, TOOLCHAINS, "thinlto_cxx_toolchain(\n    name = \"cxx\",", 'load(":bare.bzl", "bare")\nbare(name = "cxx", base = ":cxx_base", visibility = ["PUBLIC"])\nthinlto_cxx_toolchain(\n    name = "cxx_unused",'):
        err = project.fails(TARGET)
    assert "compiler flags have no -flto=thin although its lto_mode is \"thin\"" in err, err[-4000:]
    assert "thinlto_cxx_toolchain" in err


def test_missing_helper_says_what_to_set(project, helper):
    tracked = project.root / "buck2/toolchains/bin/thinlto"
    tracked.unlink()
    try:
        # Builds without distributed ThinLTO do not need it...
        project.build1(TARGET)
        # ...those with it fail at analysis, naming both ways to give it.
        err = project.fails(*THINLTO, TARGET)
        assert "buck2/toolchains/bin/thinlto is missing" in err and "[thinlto] helper" in err, err[-4000:]
    finally:
        install_helper(project.root, helper)
    # An untracked helper that is not there fails when it is run, naming the setting.
    err = project.fails(*THINLTO, "-c", "thinlto.helper=/nonexistent/thinlto", TARGET)
    assert "the helper /nonexistent/thinlto ([thinlto] helper" in err, err[-4000:]
    assert "Spawning executable" not in err


def test_rule_used_directly_says_which_attribute_it_reads(project):
    (project.root / "misconfigured").mkdir(exist_ok=True)
    (project.root / "misconfigured/main.cc").write_text("int main() { return 0; }\n")
    (project.root / "misconfigured/BUCK").write_text(
        'load("@thinlto//buck2:defs.bzl", "thinlto_cxx_binary")\n'
        'thinlto_cxx_binary(name = "direct", srcs = ["main.cc"], enable_distributed_thinlto = True)\n'
    )
    err = project.fails("//misconfigured:direct")
    assert "thinlto_cxx_binary reads distributed_thinlto" in err, err[-4000:]
    (project.root / "misconfigured/BUCK").write_text(
        'load("@thinlto//buck2:defs.bzl", "thinlto_cxx_binary")\n'
        'thinlto_cxx_binary(name = "direct", srcs = ["main.cc"], distributed_thinlto = True)\n'
    )
    out = project.build1("//misconfigured:direct", *THINLTO)
    assert out.parent.name == "thinlto"
    assert subprocess.run([str(out)]).returncode == 0


def test_the_manifest_is_json_the_helper_reads(project, distributed):
    """Sanity of what the rules write: version 2, every bitcode module with its declared outputs."""
    manifest = project.manifest(distributed)
    assert manifest["version"] == 2
    bitcode = [e for e in manifest_entries(manifest) if e["kind"] == "bitcode"]
    assert bitcode and all(set(e["outputs"]) == {"index", "imports", "object", "plan"} for e in bitcode)
    assert all(not re.match(r"^/", e["path"]) for e in manifest_entries(manifest))


BUILDIFIER = ROOT / "third_party/offline/node/node_modules/.bin/buildifier"


def starlark_files():
    files = [*ROOT.glob("buck2/**/*.bzl"), *ROOT.glob("buck2/**/BUCK"), *ROOT.glob("tests/buck2/**/*.bzl"),
             *ROOT.glob("tests/buck2/**/BUCK"), *ROOT.glob("examples/**/BUCK"), ROOT / "tests/shapes/BUCK",
             ROOT / "tests/realcode/BUCK", ROOT / "tests/shared/BUCK", ROOT / "tests/pgo/BUCK", ROOT / "PACKAGE"]
    return [str(p.relative_to(ROOT)) for p in files]


def test_starlark_lint():
    if not BUILDIFIER.exists():
        pytest.fail(f"{BUILDIFIER} missing: run tools/setup.sh")
    files = starlark_files()
    assert "buck2/private/rust_binary.bzl" in files and "tests/shared/BUCK" in files and "PACKAGE" in files, files
    proc = subprocess.run([str(BUILDIFIER), "--lint=warn", "--mode=check", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
