"""Each backend compiles with the codegen flags of its own module's compile, as Bazel's native
ThinLTO replays them (tests/cxxflags): a library whose copts forbid vectorization gets no SIMD
code, and every function equals native thin_lto's for the same C++ program."""

import json

import pytest

from conftest import THINLTO, aquery_inputs, bazel, bin_dir, functions, run

PKG = "tests/cxxflags"


@pytest.fixture(scope="module")
def built():
    bazel("build", *THINLTO, f"//{PKG}:all")
    return bin_dir(*THINLTO) / PKG


def test_same_output_as_native(built):
    assert run([str(built / "flags")]) == run([str(built / "flags_native")]) == "1498500 1498503 42\n"


def test_a_librarys_copts_reach_its_backend(built):
    ours = functions(built / "flags")
    simd = lambda body: any("xmm" in i or "ymm" in i for i in body)  # noqa: E731
    assert not simd(ours["scalar_sum"]), ours["scalar_sum"]  # copts: -fno-vectorize -fno-slp-vectorize
    assert simd(ours["fast_sum"]), ours["fast_sum"]  # the same loop without them
    args = {a[a.index("--module") + 1].rsplit("/", 1)[1]: a for a, _ in aquery_inputs(*THINLTO, f'mnemonic("ThinLtoBackend", //{PKG}:flags)')}
    assert "-fno-vectorize" in args["scalar.o"] and "-O3" in args["fast.o"], args
    # Flags that only preprocess stay out of the backend.
    assert "-DFAST_BIAS=3" not in args["fast.o"] and "-fno-vectorize" not in args["fast.o"]


def test_every_function_equals_native_thin_lto(built):
    ours, native = functions(built / "flags"), functions(built / "flags_native")
    assert (built / "flags_native.lto").is_dir(), "Bazel's native thin_lto did not run"
    for f in ["main", "scalar_sum", "fast_sum"]:
        assert ours[f] == native[f], (f, ours[f], native[f])
