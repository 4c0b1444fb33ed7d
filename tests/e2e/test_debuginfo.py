"""Debug info under thin_lto (tests/shapes cpp_chain: C++ -> Rust -> C++ -> Rust): with --copt=-g
and Rust's -Cdebuginfo=2 the binary's DWARF names the source files and lines of C++ and Rust
functions; with split DWARF (--fission=yes and //rules/settings:split_dwarf) each backend
writes its .dwo beside its object and the binary's skeleton units point at them."""

import re
import subprocess

import pytest

from conftest import THINLTO, bazel, bin_dir, run

TARGET = "//tests/shapes:cpp_chain"
DEBUG = (*THINLTO, "--copt=-g", "--//rules/settings:extra_rustc_flags=-Cdebuginfo=2")
SPLIT = (*DEBUG, "--fission=yes", "--//rules/settings:split_dwarf")


def dwarfdump(*args):
    return run(["llvm-dwarfdump-22", *[str(a) for a in args]])


def test_dwarf_names_cpp_and_rust_sources():
    bazel("build", *DEBUG, TARGET)
    binary = bin_dir(*DEBUG) / "tests/shapes/cpp_chain"
    lines = dwarfdump("--debug-line", binary)
    for source in ["cpp_chain.cc", "c1.cc", "c2.cc", "r1.rs", "r2.rs"]:
        assert source in lines, source
    for function, source in [("c2_value", "c2.cc"), ("r2_value", "r2.rs")]:
        entry = dwarfdump(f"--name={function}", binary)
        assert "DW_TAG_subprogram" in entry and source in entry, entry


def test_split_dwarf_beside_each_backend_object(execroot):
    bazel("build", *SPLIT, "--output_groups=+dwo", TARGET)
    binary = bin_dir(*SPLIT) / "tests/shapes/cpp_chain"
    skeletons = re.findall(r'DW_AT_(?:GNU_)?dwo_name\s+\("([^"]+)"\)', dwarfdump("--debug-info", binary))
    assert len(skeletons) >= 5, skeletons
    for dwo in skeletons:
        assert dwo.endswith(".dwo") and "/cpp_chain.lto/" in dwo, dwo
        assert (execroot / dwo).is_file(), dwo
    c2 = next(d for d in skeletons if d.endswith("/c2.dwo"))
    assert "c2_value" in dwarfdump("--debug-info", execroot / c2)
    r2 = next(d for d in skeletons if d.endswith("/r2.dwo"))
    assert "r2_value" in dwarfdump("--debug-info", execroot / r2)
    assert run([str(binary)]) == "cpp_chain(5) = 57\n"
