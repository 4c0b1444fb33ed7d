"""Prebuilt static libraries whose members are LLVM bitcode (tests/prebuilt): an rlib as
rules_rust makes one under lto=thin (a stand-in, rules_rust itself cannot be fetched here)
and an archive of C++ ThinLTO objects, both through cc_import. Under thin_lto each bitcode
member joins the thin link as a module of its own (lazily; an alwayslink archive whole), its
code is inlined into its callers, and the program prints what the ordinary build prints."""

import json

import pytest

from conftest import THINLTO, bazel, bin_dir, call_sites, functions, run

TARGET = "//tests/prebuilt:prebuilt"
EXPECTED = "registered.cc: constructor ran\nstandin_weight(42) = 745, standin_sum(100) = 3228793, scale_by_three(42) = 126\n"


@pytest.fixture(scope="module")
def built():
    bazel("build", TARGET)
    plain = bin_dir() / "tests/prebuilt"
    bazel("build", *THINLTO, TARGET)
    return plain, bin_dir(*THINLTO) / "tests/prebuilt"


def test_runs_the_same(built):
    plain, thinlto = built
    assert run([str(plain / "prebuilt")]) == EXPECTED
    assert run([str(thinlto / "prebuilt")]) == EXPECTED


def test_bitcode_members_are_modules_of_the_thin_link(built, execroot):
    _, thinlto = built
    lto = thinlto / "prebuilt.lto"
    manifest = json.loads((lto / "manifest.json").read_text())
    extracted = {e["archive"].rsplit("/", 1)[1]: e for e in manifest["inputs"] if e["kind"] == "extracted"}
    assert sorted(extracted) == ["liblto_archive_src.a", "libstandin.a"], sorted(extracted)
    assert extracted["liblto_archive_src.a"]["whole"] and not extracted["libstandin.a"]["whole"]
    plan = json.loads((lto / "plan.json").read_text())
    rlib_members = [m for m in plan["modules"] if m["module"].endswith(".rcgu.o")]
    # Every code unit of the rlib (rustc makes up to codegen_units of them) is a module with
    # its own index and object.
    fragment = json.loads((execroot / extracted["libstandin.a"]["fragment"]).read_text())
    assert fragment["skipped"] == ["lib.rmeta"]
    assert len(rlib_members) == len(fragment["members"]) >= 1, fragment
    assert all(m["bitcode"] for m in fragment["members"]), fragment
    for m in rlib_members:
        assert (execroot / m["index"]).is_file()
        if m["loaded"]:
            assert (execroot / m["object"]).stat().st_size > 0
    cpp_members = [m for m in plan["modules"] if m["module"].endswith(("scale.pic.o", "registered.pic.o", "scale.o", "registered.o"))]
    assert len(cpp_members) == 2 and all(m["loaded"] for m in cpp_members), cpp_members


def test_member_code_is_inlined(built):
    _, thinlto = built
    fns = functions(thinlto / "prebuilt")
    for callee in ["standin_weight", "standin_sum", "scale_by_three"]:
        assert call_sites(fns, callee) == [], (callee, fns["main"])
