"""cc_test and rust_test link through the same pipeline as binaries, and the cc_binary macro
takes rules_cc cc_binary's attributes, each on the target it belongs to (tests/shapes): env and
args reach the test, additional_linker_inputs and $(location) in linkopts the link, malloc is
linked, local_defines the compile; unsupported ones fail naming what to do."""

import json
import shutil

import pytest

from conftest import ROOT, THINLTO, bazel, bin_dir, run

PKG = "tests/shapes"


@pytest.mark.parametrize("flags", [(), THINLTO], ids=["plain", "thinlto"])
def test_tests_pass(flags):
    out = bazel("test", *flags, f"//{PKG}:chain_test", f"//{PKG}:r3_test").stdout
    assert "2 tests pass" in out, out[-3000:]
    log = (ROOT / "bazel-testlogs" / PKG / "r3_test/test.log").read_text()
    assert "test result: ok. 2 passed" in log, log
    if flags:
        plan = json.loads((bin_dir(*flags) / PKG / "r3_test.lto/plan.json").read_text())
        assert any("/r3_test.crate/" in m["module"] for m in plan["modules"]), plan["modules"]
        assert (bin_dir(*flags) / PKG / "chain_test.lto/plan.json").is_file()


@pytest.mark.parametrize("flags", [(), THINLTO], ids=["plain", "thinlto"])
def test_link_attributes_reach_the_link(flags):
    bazel("build", *flags, f"//{PKG}:link_attrs")
    # malloc linked (its constructor ran), the defsym of a response file given with
    # $(location) in linkopts, local_defines in the compile.
    assert run([str(bin_dir(*flags) / PKG / "link_attrs")]) == "announcing_malloc linked\nlink attributes 42: 11 11\n"


def test_unsupported_attributes_fail_naming_the_target():
    scratch = ROOT / "tests/e2e/scratch/linkstatic"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / "BUILD.bazel").write_text(
        'load("//rules:defs.bzl", "cc_binary")\n'
        'cc_binary(name = "dynamic", srcs = ["m.cc"], linkstatic = False)\n'
    )
    (scratch / "m.cc").write_text("int main() { return 0; }\n")
    try:
        proc = bazel("build", "//tests/e2e/scratch/linkstatic:dynamic", check=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert proc.returncode != 0
    assert "cc_binary dynamic: linkstatic = False is not supported" in proc.stdout, proc.stdout[-3000:]
