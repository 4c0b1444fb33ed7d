"""Real, widely used open-source code through the public API (tests/realcode): serde with its
derive macro and serde_json, crc32fast with cargo features, the zstd C library with its x86-64
assembly that zstd-sys bundles, wrapped by zstd-safe and zstd; a C++ main that uses exceptions
and a Rust main that calls C++. Built without and with thin_lto, the two print the same, and
under thin_lto every module goes through the thin link and its own backend, and calls are
inlined across the language boundary.

The crates' sources come from crates.io at test setup (tools/setup.sh: `cargo vendor` of
tests/realcode/Cargo.lock into tests/realcode/vendor, git-ignored)."""

import json
import subprocess

import pytest

from conftest import ROOT, THINLTO, bazel, bin_dir, call_sites, calls, functions, run

PKG = "tests/realcode"
# What both mains print first (the same file serves tests/e2e and tests/buck2).
REPORT = (ROOT / PKG / "expected_output.txt").read_text().splitlines()


@pytest.fixture(scope="module")
def built():
    vendor = ROOT / PKG / "vendor"
    if not (vendor / "serde-1.0.219").is_dir():
        pytest.fail(f"{vendor} is missing its crates: run tools/setup.sh (cargo vendor from crates.io)")
    bazel("build", f"//{PKG}:all")
    bazel("build", *THINLTO, f"//{PKG}:all")
    return bin_dir() / PKG, bin_dir(*THINLTO) / PKG


@pytest.mark.parametrize("name", ["cpp_main", "rust_main"])
def test_same_output_with_and_without_thinlto(built, name):
    plain, thinlto = built
    out = run([str(plain / name)])
    assert out.splitlines()[:len(REPORT)] == REPORT
    assert len(out.splitlines()) > len(REPORT), out
    assert run([str(thinlto / name)]) == out


@pytest.mark.parametrize("name", ["cpp_main", "rust_main"])
def test_every_module_went_through_the_thin_link(built, execroot, name):
    _, thinlto = built
    lto = thinlto / f"{name}.lto"
    plan = json.loads((lto / "plan.json").read_text())
    modules = {m["module"]: m for m in plan["modules"]}
    # The 36 C files of zstd and every crate of the program are bitcode modules with a backend.
    zstd_c = [m for m in modules if "/_objs/zstd_c/" in m]
    assert len(zstd_c) == 36, len(zstd_c)
    for crate in ["serde", "serde_json", "crc32fast", "zstd", "zstd_safe", "zstd_sys", "realcode", "memchr"]:
        assert any(f"/{PKG}/{crate}/{crate}.o" in m for m in modules), crate
    for m in plan["modules"]:
        if m["loaded"]:
            assert (execroot / m["object"]).stat().st_size > 0, m["object"]
    # The assembly stays native code, beside the bitcode of its library.
    manifest = json.loads((lto / "manifest.json").read_text())
    entries = [e for i in manifest["inputs"] for e in i.get("members", [i])]
    assembly = [e for e in entries if "huf_decompress_amd64" in e["path"]]
    assert [e["kind"] for e in assembly] == ["object"], assembly
    assert any("asm_loop" in f for f in functions(thinlto / name))


def test_calls_inlined_across_languages(built):
    plain, thinlto = built
    fns = functions(thinlto / "cpp_main")
    # C into Rust: zstd-safe and zstd call static C functions of zstd, which they could only
    # reach by having zstd's API functions inlined (ThinLTO renames imported statics `.llvm.`).
    rust_calling_c_internals = [f for f, body in fns.items()
                                if f.startswith("_ZN") and any("<ZSTD_" in c and ".llvm." in c for c in calls(body))]
    assert rust_calling_c_internals, "no zstd C code was inlined into Rust"
    # C++ into Rust: cpp_mix's body is inside realcode_mix.
    assert call_sites(fns, "cpp_mix") == [] and not any("call" in i for i in fns["realcode_mix"]), fns["realcode_mix"]
    # Rust into C++ stops at a C++ caller with exception handling, under the default panic
    # strategy (unwind): these Rust functions carry Rust's personality (tests/e2e/test_panic.py
    # shows them inlined with panic=abort).
    for f in ["realcode_mix", "realcode_ratio", "realcode_digit"]:
        assert call_sites(fns, f) == ["main"], f
    # Without ThinLTO, Rust calls C++ through the GOT, and nothing is inlined across.
    base = functions(plain / "cpp_main")
    assert any("call" in i for i in base["realcode_mix"]), base["realcode_mix"]


def test_as_a_shared_library(built):
    """The same crates and zstd's C code in librealcode.so, which exports only realcode's C
    API (its version script), with a thin link of its own; cpp_main linked against it prints
    what the static cpp_main prints, from any directory."""
    plain, thinlto = built
    for out in (plain, thinlto):
        assert run([str(out / "cpp_main_shared")], cwd="/") == run([str(out / "cpp_main")])
        dynsym = subprocess.run(["nm", "-D", "--defined-only", str(out / "librealcode.so")], capture_output=True, text=True, check=True).stdout
        exported = sorted(line.split()[-1] for line in dynsym.splitlines() if line.split()[1] in "TDBR")
        assert exported == ["realcode_digit", "realcode_mix", "realcode_ratio", "realcode_report"], exported
    plan = json.loads((thinlto / "librealcode.so.lto/plan.json").read_text())
    assert len([m for m in plan["modules"] if "/_objs/zstd_c/" in m["module"]]) == 36
