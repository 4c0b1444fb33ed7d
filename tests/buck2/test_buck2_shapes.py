"""tests/shapes with Buck2's prelude: every DAG of C++ and Rust libraries links with distributed
ThinLTO under a C++ main (the prelude's cxx_binary) and a Rust main (the prelude's
rust_binary, whose crate rustc compiles and whose link inputs join the thin link), and prints
what the ordinary build prints; every crate is a module of the thin link; calls are inlined
along the chains in both directions; global allocators, zeroed allocations, C++ exceptions
around Rust that may panic, and what a build script would give a crate."""

import json

import pytest

from buck2_project import ROOT, manifest_entries, buck2_bin, helper, project  # noqa: F401
from thinlto_inspect import call_sites, functions, run

PKG = "//tests/shapes"
# Each program's whole output, shared with tests/e2e (stock_chain is Bazel's own cc_binary).
EXPECTED = {k: v for k, v in json.loads((ROOT / "tests/shapes/expected_output.json").read_text()).items() if k != "stock_chain"}
RUST_MAINS = ["rust_chain", "global_allocator", "build_script_outputs"]


@pytest.fixture(scope="module")
def built(project):
    # Both configurations in one command: Buck2 schedules them together.
    out = project.build(*[f"{PKG}:{n}" for n in EXPECTED], *[f"{PKG}:{n}?thinlto" for n in EXPECTED])
    plain = {t.rsplit(":", 1)[1]: p for t, p in out.items() if "?" not in t}
    dist = {t.rsplit(":", 1)[1].split("?")[0]: p for t, p in out.items() if "?" in t}
    assert sorted(plain) == sorted(dist) == sorted(EXPECTED), out
    return plain, dist


@pytest.fixture(scope="module")
def plain(built):
    return built[0]


@pytest.fixture(scope="module")
def thinlto(built):
    return built[1]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_runs_the_same_with_and_without_thinlto(plain, thinlto, name):
    assert run([str(plain[name])]) == EXPECTED[name]
    assert run([str(thinlto[name])]) == EXPECTED[name]
    assert plain[name] != thinlto[name]


@pytest.mark.parametrize("name, crates", [
    ("cpp_chain", ["r1", "r2"]),
    ("rust_chain", ["r3", "r4", "rust_chain"]),
    ("diamond", ["left", "base"]),
    ("global_allocator", ["counting", "global_allocator"]),
])
def test_every_crate_is_a_module_of_the_thin_link(project, thinlto, name, crates):
    entries = manifest_entries(project.manifest(thinlto[name]))
    modules = [e["path"].rsplit("/", 1)[1] for e in entries if e["kind"] == "bitcode"]
    for crate in crates:
        assert any(m.startswith(crate + "-") or m.startswith(crate + ".") for m in modules), (crate, modules)


@pytest.mark.parametrize("name", RUST_MAINS)
def test_a_rust_main_links_what_rustc_would(project, thinlto, name):
    """rustc's own link inputs: its allocator shim and the crate as bitcode, std as native rlibs."""
    manifest = project.manifest(thinlto[name])
    entries = manifest_entries(manifest)
    captured = [e for e in entries if "/rustc_link/" in e["path"]]
    bitcode = [e["path"] for e in captured if e["kind"] == "bitcode"]
    assert any(f"/{name}.{name}." in p for p in bitcode), bitcode  # the crate's code unit
    assert len(bitcode) >= 2, bitcode  # and the allocator shim rustc generated
    std = [e["path"] for e in captured if e["kind"] == "archive"]
    assert any("/sysroot/libstd-" in p for p in std), std
    flags = manifest["linker"]["flags"] + manifest["linker"]["post_flags"]
    for f in ["-Wl,--gc-sections", "-pie", "-nodefaultlibs", "-lc"]:
        assert f in flags, (f, flags)
    assert not any(f.startswith("-B") or "plugin-opt" in f for f in flags), flags


def test_inlining_along_the_chains(plain, thinlto):
    # C++ main: C++ -> Rust -> C++ -> Rust, every call inlined into main.
    dist, base = functions(thinlto["cpp_chain"]), functions(plain["cpp_chain"])
    for callee in ["c1_value", "r1_value", "c2_value", "r2_value"]:
        assert call_sites(dist, callee) == [], (callee, dist["main"])
    assert call_sites(base, "c1_value") == ["main"]
    # Rust main: Rust -> C++ (c3_value into the Rust caller), C++ -> Rust (r4_value into
    # C++), Rust -> C++ again (c4_value).
    dist, base = functions(thinlto["rust_chain"]), functions(plain["rust_chain"])
    for callee in ["c3_value", "r4_value", "c4_value"]:
        assert callee not in dist and call_sites(dist, callee) == [], callee
        assert callee in base, callee
    assert call_sites(base, "r4_value") == ["c3_value"]


def test_the_allocator_shims_forwarder_is_inlined(thinlto):
    fns = functions(thinlto["zeroed_alloc"])
    assert call_sites(fns, "__rust_alloc_zeroed") == [], [f for f in fns if "alloc_zeroed" in f]
