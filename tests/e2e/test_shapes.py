"""Dependency shapes and Rust code the examples lack (tests/shapes): every DAG of C++ and Rust
libraries links under thin_lto, with each crate a module of the thin link; crates that
allocate zeroed memory or bring their own global allocator; Bazel's own cc_binary and
cc_test over this rule set's crates."""

import json
import subprocess

import pytest

from conftest import ROOT, THINLTO, bazel, bin_dir, call_sites, functions, run

PKG = "tests/shapes"
# Each program's whole output, shared with tests/buck2 (exceptions is test_panic.py's here).
EXPECTED = {k: v for k, v in json.loads((ROOT / PKG / "expected_output.json").read_text()).items() if k != "exceptions"}


@pytest.fixture(scope="module")
def plain():
    bazel("build", f"//{PKG}/...")
    return bin_dir() / PKG


@pytest.fixture(scope="module")
def thinlto():
    bazel("build", *THINLTO, f"//{PKG}/...")
    return bin_dir(*THINLTO) / PKG


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_runs_the_same_with_and_without_thinlto(plain, thinlto, name):
    assert run([str(plain / name)]) == EXPECTED[name]
    assert run([str(thinlto / name)]) == EXPECTED[name]


@pytest.mark.parametrize("name, crates", [
    ("cpp_chain", ["r1", "r2"]),
    ("rust_chain", ["r3", "r4", "rust_chain.crate"]),
    ("diamond", ["left", "base"]),
    ("global_allocator", ["counting"]),
])
def test_every_crate_is_a_module_of_the_thin_link(thinlto, name, crates):
    manifest = json.loads((thinlto / f"{name}.lto/manifest.json").read_text())
    entries = [e for i in manifest["inputs"] for e in i.get("members", [i])]
    modules = {e["path"] for e in entries if e["kind"] == "bitcode"}
    for crate in crates:
        assert any(f"/{PKG}/{crate}/" in m for m in modules), (crate, sorted(modules))
    natives = [e["path"] for e in entries if e["kind"] == "object"]
    assert not any(".native.o" in p or p.endswith("alloc_shim.o") for p in natives), natives


def test_inlining_along_the_chains(plain, thinlto):
    dist, base = functions(thinlto / "cpp_chain"), functions(plain / "cpp_chain")
    for callee in ["c1_value", "r1_value", "c2_value", "r2_value"]:
        assert call_sites(dist, callee) == [], (callee, dist["main"])
    assert call_sites(base, "c1_value") == ["main"]
    dist, base = functions(thinlto / "rust_chain"), functions(plain / "rust_chain")
    for callee in ["c3_value", "r4_value", "c4_value"]:
        assert call_sites(dist, callee) == [], callee
        # (the ordinary build's Rust calls them through the GOT: indirect calls, but there)
        assert callee in base, callee


def test_an_unloaded_allocator_function_does_not_break_the_backend(thinlto):
    # zeroed.o uses __rust_alloc_zeroed only; the shim's other functions are declared with
    # std's allocator attributes there. Before the shim carried them, LLVM's verifier
    # rejected the backend ("'alloc-variant-zeroed' must name a function belonging to the
    # same 'alloc-family'"); now it builds (the fixture) and runs (above), and the shim's
    # forwarder is inlined into zeroed_sum.
    fns = functions(thinlto / "zeroed_alloc")
    assert call_sites(fns, "__rust_alloc_zeroed") == [], [f for f in fns if "alloc_zeroed" in f]


def _define_attributes(ll):
    """{function: its attribute group's attributes} of every definition in an llvm-dis listing."""
    groups = {}
    for line in ll.splitlines():
        if line.startswith("attributes #"):
            key, _, body = line.partition(" = ")
            groups[key.split()[1]] = sorted(body.strip("{} ").split(" "))
    out = {}
    for line in ll.splitlines():
        if line.startswith("define "):
            name = line.split("@", 1)[1].split("(", 1)[0]
            attr = line.rsplit(")", 1)[1].split("{")[0].split()
            out[name] = [a for g in attr if g.startswith("#") for a in groups[g]]
    return out


def test_allocator_shim_carries_the_attributes_of_rustcs_own(thinlto, tmp_path):
    """The shim rustc generates when it links a staticlib, against ours, function by function."""
    (tmp_path / "empty.rs").write_text("pub fn nothing() {}\n")
    subprocess.run(["rustc", "--edition=2021", "--crate-type=staticlib", "--target=x86_64-unknown-linux-gnu",
                    "-Clinker-plugin-lto", "-Copt-level=2", "--crate-name=empty", "empty.rs", "-o", "libempty.a"],
                   cwd=tmp_path, check=True)
    members = tmp_path / "members"
    members.mkdir()
    subprocess.run(["llvm-ar-22", "x", "../libempty.a"], cwd=members, check=True)
    rustc_shim = None
    for m in members.iterdir():
        if m.read_bytes()[:4] == b"BC\xc0\xde" and "no_alloc_shim" in run(["llvm-nm-22", str(m)]):
            rustc_shim = m
    assert rustc_shim, "no bitcode member of rustc's staticlib defines the allocator shim"
    theirs = _define_attributes(run(["llvm-dis-22", str(rustc_shim), "-o", "-"]))
    ours = _define_attributes(run(["llvm-dis-22", str(bin_dir(*THINLTO) / "rules/private/alloc_shim/thinlto_alloc_shim.o"), "-o", "-"]))
    forwarders = [f for f in theirs if "no_alloc_shim" not in f]
    assert len(forwarders) == 4, theirs
    for f in forwarders:
        assert ours.get(f) == theirs[f], (f, ours.get(f), theirs[f])
    assert any("alloc-family" in a for a in theirs[forwarders[0]])


def test_bazels_own_rules_link_the_crates_under_thin_lto(thinlto):
    # Bazel's native ThinLTO ran for them (its own .lto directory), with the crates as
    # native objects (their bitcode would be imports Bazel cannot provide).
    assert (thinlto / "stock_chain.lto").is_dir()
    out = bazel("test", *THINLTO, f"//{PKG}:stock_diamond_test").stdout
    assert "1 test passes" in out or "PASSED" in out, out[-2000:]
