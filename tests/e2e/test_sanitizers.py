"""Sanitizers under thin_lto (tests/sanitizers): a mixed C++/Rust program with a real heap
overflow and a real signed overflow in C++, built with AddressSanitizer or
UndefinedBehaviorSanitizer through --copt/--linkopt. Under thin_lto the bugs are caught at run
time exactly as in the ordinary build, and the backends compile with the sanitizer flags of
their modules' compiles (clang 22 already instruments the bitcode when it compiles it)."""

import shutil
import subprocess

import pytest

from conftest import THINLTO, aquery_inputs, bazel, bin_dir

TARGET = "//tests/sanitizers:sanitized"
SANITIZERS = {
    "address": (["--copt=-fsanitize=address", "--linkopt=-fsanitize=address"], "heap", "AddressSanitizer: heap-buffer-overflow"),
    "undefined": (["--copt=-fsanitize=undefined", "--copt=-fno-sanitize-recover=all", "--linkopt=-fsanitize=undefined"],
                  "overflow", "runtime error: signed integer overflow"),
}


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    out = {}
    tmp = tmp_path_factory.mktemp("sanitizers")
    for name, (flags, _, _) in SANITIZERS.items():
        for mode, extra in [("plain", ()), ("thinlto", THINLTO)]:
            bazel("build", *extra, *flags, TARGET)
            dest = tmp / f"{name}-{mode}"
            shutil.copy(bin_dir(*extra, *flags) / "tests/sanitizers/sanitized", dest)
            if mode == "thinlto":
                argv = {a[a.index("--module") + 1].rsplit("/", 1)[1]: a
                        for a, _ in aquery_inputs(*extra, *flags, f'mnemonic("ThinLtoBackend", {TARGET})')}
                out[f"{name}-backend"] = argv["buggy.o"]
            out[f"{name}-{mode}"] = dest
    return out


@pytest.mark.parametrize("sanitizer", sorted(SANITIZERS))
@pytest.mark.parametrize("mode", ["plain", "thinlto"])
def test_a_real_bug_is_caught(binaries, sanitizer, mode):
    _, bug, report = SANITIZERS[sanitizer]
    binary = str(binaries[f"{sanitizer}-{mode}"])
    clean = subprocess.run([binary], capture_output=True, text=True)
    assert clean.returncode == 0 and clean.stdout == "read 16\nsum 2147483638\n", clean
    caught = subprocess.run([binary], env={"SANITIZED_BUG": bug}, capture_output=True, text=True)
    assert caught.returncode != 0, caught
    assert report in caught.stderr, caught.stderr[-2000:]


@pytest.mark.parametrize("sanitizer", sorted(SANITIZERS))
def test_backends_compile_with_the_sanitizer_flags(binaries, sanitizer):
    assert f"-fsanitize={sanitizer}" in binaries[f"{sanitizer}-backend"]
