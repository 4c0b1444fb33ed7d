"""The panic strategy setting (//rules/settings:panic) and inlining across the language boundary.

With `unwind` (Rust's default), an `extern "C"` Rust function that can panic carries Rust's
personality (rust_eh_personality, for its abort-on-unwind landing pad), and a C++ function
with exception handling (try/catch, or a local with a destructor) carries C++'s
(__gxx_personality_v0). LLVM never inlines a callee whose personality differs from its
caller's, so neither direction inlines there. With `abort`, every crate is compiled with
-Cpanic=abort and the program links panic_abort: the personalities go, and the calls inline.
A panic aborts the program either way (at an extern "C" boundary under unwind)."""

import shutil
import subprocess

import pytest

from conftest import THINLTO, bazel, bin_dir, call_sites, functions, run

TARGET = "//tests/shapes:exceptions"
ABORT = "--//rules/settings:panic=abort"
EXPECTED = "50: 452750\n100: 529387\n"
CROSSINGS = ["rs_digit", "rs_ratio", "rs_checked", "cpp_with_cleanup"]


def build(tmp_path, *flags):
    bazel("build", *flags, TARGET)
    # Both panic strategies build into the same output directory: keep each binary.
    out = tmp_path / ("exceptions" + "".join(f.rsplit("=", 1)[-1] for f in flags))
    shutil.copy(bin_dir(*flags) / "tests/shapes/exceptions", out)
    return out


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("panic")
    return {
        "unwind": build(tmp, *THINLTO),
        "abort": build(tmp, *THINLTO, ABORT),
        "plain abort": build(tmp, ABORT),
    }


def test_same_output_whatever_the_strategy(binaries):
    for b in binaries.values():
        assert run([str(b)]) == EXPECTED, b


def test_unwind_keeps_the_calls_across_exception_handling(binaries):
    fns = functions(binaries["unwind"])
    # C++ main (try/catch, std::vector/std::string) calls each Rust function...
    assert {c: call_sites(fns, c) for c in CROSSINGS[:3]} == {c: ["main"] for c in CROSSINGS[:3]}
    # ...and rs_checked (may panic) calls C++ that runs a destructor.
    assert call_sites(fns, "cpp_with_cleanup") == ["rs_checked"]


def test_abort_inlines_both_ways(binaries):
    fns = functions(binaries["abort"])
    assert {c: call_sites(fns, c) for c in CROSSINGS} == {c: [] for c in CROSSINGS}


@pytest.mark.parametrize("strategy", ["unwind", "abort"])
def test_a_panic_aborts_with_its_message(binaries, strategy):
    proc = subprocess.run([str(binaries[strategy])], env={"EXCEPTIONS_PANIC": "1"}, capture_output=True, text=True)
    assert proc.returncode == -6, (proc.returncode, proc.stderr)  # SIGABRT
    assert "index out of bounds: the len is 3 but the index is 7" in proc.stderr, proc.stderr
