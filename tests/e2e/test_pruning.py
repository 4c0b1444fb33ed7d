"""What each backend action declares: its module, its index, its imports list and its import
pack, which must hold exactly the modules its `.imports` names (nothing that grows with the
program, and only the bitcode it reads)."""

import json

import pytest

from conftest import THINLTO, aquery_inputs, bazel, bin_dir, read_pack

TARGET = "//examples/mixed:mixed"
TOOLCHAIN = ("external/thinlto_host/", "external/thinlto_host_helper/")


def plan():
    return json.loads((bin_dir(*THINLTO) / "examples/mixed/mixed.lto/plan.json").read_text())


def arg(argv, flag):
    return argv[argv.index(flag) + 1]


def discovered_bytes(execroot, modules):
    """What Bazel's native input discovery gives the backends: each its module and its imports."""
    return sum(
        (execroot / m["module"]).stat().st_size + sum((execroot / f).stat().st_size for f in m["imports"])
        for m in modules
    )


@pytest.fixture(scope="module")
def built(execroot):
    bazel("build", *THINLTO, TARGET)
    return execroot


def test_backends_declare_only_module_index_imports_and_pack(built):
    actions = aquery_inputs(*THINLTO, f'mnemonic("ThinLtoBackend", {TARGET})')
    assert len(actions) == len(plan()["modules"]) >= 5
    for argv, inputs in actions:
        expected = [arg(argv, f) for f in ("--module", "--index", "--imports", "--import-pack")]
        declared = sorted(i for i in inputs if not i.startswith(TOOLCHAIN))
        assert declared == sorted(expected), declared


def test_packs_hold_exactly_the_imports_within_the_byte_bound(built):
    execroot = built
    modules = plan()["modules"]
    all_bitcode = sum((execroot / m["module"]).stat().st_size for m in modules)
    declared = naive = 0
    for m in modules:
        pack_file = execroot / (m["object"] + ".pack")
        members = read_pack(pack_file)
        assert list(members) == sorted(members), f"{pack_file}: members not sorted"
        assert sorted(members) == sorted(set(m["imports"]) - {m["module"]}), m["module"]
        listed = (execroot / m["imports_file"]).read_text().splitlines()
        assert sorted(set(listed) - {m["module"]}) == sorted(members)
        for name, data in members.items():
            assert data == (execroot / name).read_bytes(), f"stale copy of {name} in {pack_file}"
        # Bytes a remote input root holds for this backend: its module and its pack.
        declared += (execroot / m["module"]).stat().st_size + pack_file.stat().st_size
        naive += all_bitcode
    assert declared <= 1.1 * discovered_bytes(execroot, modules)
    assert declared < naive
