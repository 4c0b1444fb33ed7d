"""Distributed ThinLTO produces the code in-process ThinLTO produces, function by function.

The in-process reference links the very bitcode and native inputs the thin link saw (read
from the helper's manifest) with `clang -flto=thin -fuse-ld=lld`. For the C++-only example
the reference is also Bazel's own native `--features=thin_lto` link of the same program.
"""

import json

import pytest

from conftest import CLANG, THINLTO, bazel, bin_dir, functions, run
from thinlto_inspect import inprocess_link_argv

FLAGS = (*THINLTO, "--linkopt=-fuse-ld=lld")


@pytest.fixture(scope="module")
def built(execroot):
    bazel("build", *FLAGS, "//examples/...")
    return execroot


def inprocess_link(execroot, name, out):
    manifest = json.loads((bin_dir(*FLAGS) / "examples" / name / f"{name}.lto" / "manifest.json").read_text())
    argv = inprocess_link_argv(manifest, out)
    argv[0] = CLANG
    run(argv, cwd=execroot)
    return out


def assert_same_functions(dist, ref, expected_present):
    d, r = functions(dist), functions(ref)
    for f in expected_present:
        assert f in d, f"{f} missing from the distributed build"
    assert sorted(d) == sorted(r), f"function sets differ: only dist {sorted(set(d) - set(r))[:10]}, only reference {sorted(set(r) - set(d))[:10]}"
    differing = [f for f in d if d[f] != r[f]]
    assert not differing, f"{len(differing)} functions differ, e.g. {differing[:5]}: {d[differing[0]]} vs {r[differing[0]]}"


@pytest.mark.parametrize("name", ["mixed", "cpp", "rust"])
def test_equals_inprocess_thinlto(built, tmp_path, name):
    ref = inprocess_link(built, name, tmp_path / f"{name}_inprocess")
    dist = bin_dir(*FLAGS) / "examples" / name / name
    assert_same_functions(dist, ref, ["main"])


def test_cpp_equals_bazel_native_thinlto(built):
    dist = bin_dir(*FLAGS) / "examples" / "cpp" / "cpp"
    native = bin_dir(*FLAGS) / "examples" / "cpp" / "cpp_native"
    assert (bin_dir(*FLAGS) / "examples" / "cpp" / "cpp_native.lto").is_dir(), "Bazel's native thin_lto did not run"
    d, n = functions(dist), functions(native)
    ours = ["main", "_Z6squarei", "_Z4cubei"]
    for f in ours:
        if f in d or f in n:
            assert d.get(f) == n.get(f), f"{f}: {d.get(f)} vs Bazel native {n.get(f)}"
    assert "main" in d
