"""tests/realcode with Buck2's prelude: serde with its derive macro (a prelude rust_library with
proc_macro = True) and serde_json, crc32fast, the zstd C library with its x86-64 assembly,
zstd-safe and zstd; a C++ main with exceptions (cxx_binary) and a Rust main calling C++
(rust_binary). Built plainly and with distributed ThinLTO, the programs print the same, every
module goes through the thin link, calls are inlined across languages, and the distributed
binaries are not larger.

The crates' sources come from crates.io at setup (tools/setup.sh: `cargo vendor` of
tests/realcode/Cargo.lock into tests/realcode/vendor, git-ignored)."""

import subprocess

import pytest

from buck2_project import ROOT, VENDOR, manifest_entries, buck2_bin, helper, project  # noqa: F401
from thinlto_inspect import call_sites, functions, run

PKG = "//tests/realcode"
MAINS = ["cpp_main", "rust_main"]
# What both mains print first (the same file serves tests/e2e and tests/buck2).
REPORT = (ROOT / "tests/realcode" / "expected_output.txt").read_text().splitlines()
# As in test_example.py: the distributed binary's text may be at most this much larger.
SIZE_MARGIN = 0.005


@pytest.fixture(scope="module")
def built(project):
    if not (VENDOR / "serde-1.0.219").is_dir():
        pytest.fail(f"{VENDOR} is missing its crates: run tools/setup.sh (cargo vendor from crates.io)")
    # Both configurations in one command: Buck2 schedules them together.
    out = project.build(*[f"{PKG}:{n}" for n in MAINS], *[f"{PKG}:{n}?thinlto" for n in MAINS])
    plain = {t.rsplit(":", 1)[1]: p for t, p in out.items() if "?" not in t}
    dist = {t.rsplit(":", 1)[1].split("?")[0]: p for t, p in out.items() if "?" in t}
    assert sorted(plain) == sorted(dist) == sorted(MAINS), out
    return plain, dist


@pytest.mark.parametrize("name", MAINS)
def test_same_output_with_and_without_thinlto(built, name):
    plain, dist = built
    out = run([str(plain[name])])
    assert out.splitlines()[:len(REPORT)] == REPORT
    assert len(out.splitlines()) > len(REPORT), out
    assert run([str(dist[name])]) == out


@pytest.mark.parametrize("name", MAINS)
def test_every_module_went_through_the_thin_link(project, built, name):
    _, dist = built
    plan = project.plan(dist[name])
    modules = [m["module"].rsplit("/", 1)[1] for m in plan["modules"]]
    # The 36 C files of zstd and every crate of the program are bitcode modules.
    zstd_c = [m for m in modules if m.endswith(".c.pic.o")]
    assert len(zstd_c) == 36, sorted(zstd_c)
    for crate in ["serde", "serde_json", "crc32fast", "zstd", "zstd_safe", "zstd_sys", "realcode", "memchr"]:
        assert any(m.startswith(crate + "-") for m in modules), (crate, modules)
    for m in plan["modules"]:
        if m["loaded"]:
            assert (project.root / m["object"]).stat().st_size > 0, m["object"]
    # The assembly stays native code, beside the bitcode of its library; the proc macro is
    # not linked at all.
    entries = manifest_entries(project.manifest(dist[name]))
    assembly = [e for e in entries if "huf_decompress_amd64" in e["path"]]
    assert [e["kind"] for e in assembly] == ["object"], assembly
    assert not any("serde_derive" in e["path"] for e in entries)
    assert any("asm_loop" in f for f in functions(dist[name]))


def test_calls_inlined_across_languages(built):
    plain, dist = built
    fns = functions(dist["cpp_main"])
    # C++ into Rust: cpp_mix's body is inside realcode_mix.
    assert call_sites(fns, "cpp_mix") == [] and not any("call" in i for i in fns["realcode_mix"]), fns["realcode_mix"]
    # Without ThinLTO, Rust calls C++ through the GOT, and nothing is inlined across.
    base = functions(plain["cpp_main"])
    assert any("call" in i for i in base["realcode_mix"]), base["realcode_mix"]
    # Rust main: the C++ it calls through realcode is inlined too.
    fns = functions(dist["rust_main"])
    assert call_sites(fns, "cpp_mix") == [], [f for f, b in fns.items() if any("cpp_mix" in i for i in b)]
    assert "cpp_mix" in functions(plain["rust_main"])


@pytest.mark.parametrize("name", MAINS)
def test_distributed_text_is_not_larger_than_plain(built, name):
    plain, dist = built

    def text(binary):
        out = subprocess.run(["llvm-size-22", str(binary)], capture_output=True, text=True, check=True).stdout
        return int(out.splitlines()[1].split()[0])

    p, d = text(plain[name]), text(dist[name])
    print(f"{name} text: plain {p}, distributed {d} ({(d - p) / p:+.2%})")
    assert d <= p * (1 + SIZE_MARGIN), (p, d)
