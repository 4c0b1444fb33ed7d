"""What each backend action declares, in every mode of //rules/settings:backend_inputs.

`packed` (the default, locally and for remote execution): a backend declares its module, its
index, its imports list and its pack, which must hold exactly the modules its `.imports`
names. `bundle`: the same with a directory of the imports in place of the pack.
`all_bitcode`: a backend declares all bitcode, and reports all but its imports unused.
"""

import json
from pathlib import Path

import pytest

from conftest import THINLTO, aquery_inputs, bazel, bin_dir

TARGET = "//examples/mixed:mixed"
BUNDLE = (*THINLTO, "--//rules/settings:backend_inputs=bundle")
ALL_BITCODE = (*THINLTO, "--//rules/settings:backend_inputs=all_bitcode")
TOOLCHAIN = "external/thinlto_host/"


def plan(flags):
    return json.loads((bin_dir(*flags) / "examples/mixed/mixed.lto/plan.json").read_text())


def arg(argv, flag):
    return argv[argv.index(flag) + 1]


def read_pack(path):
    """The members of an import pack (tools/thinlto/src/pack.rs), as {exec path: bytes}."""
    data = path.read_bytes()
    header, sep, body = data.partition(b"\n\n")
    assert sep, f"{path}: no end of header"
    lines = header.decode().split("\n")
    assert lines[0] == "thinlto-pack 1", f"{path}: {lines[0]!r}"
    members, offset = {}, 0
    for line in lines[1:]:
        size, name = line.split(" ", 1)
        members[name] = body[offset:offset + int(size)]
        offset += int(size)
    assert offset == len(body), f"{path}: {len(body) - offset} bytes unaccounted for"
    assert list(members) == sorted(members), f"{path}: members not sorted"
    return members


def discovered_bytes(execroot, modules):
    """What Bazel's native input discovery gives the backends: each its module and its imports."""
    return sum(
        (execroot / m["module"]).stat().st_size + sum((execroot / f).stat().st_size for f in m["imports"])
        for m in modules
    )


@pytest.fixture(scope="module")
def packed_build(execroot):
    bazel("build", *THINLTO, TARGET)
    return execroot


def assert_backends_declare_only(flags, imports_flag):
    """Every backend declares (besides the toolchain) its module, index, imports list and the
    one file or directory `imports_flag` names: nothing that grows with the program."""
    actions = aquery_inputs(*flags, f'mnemonic("ThinLtoBackend", {TARGET})')
    assert len(actions) == len(plan(flags)["modules"]) >= 5
    for argv, inputs in actions:
        expected = [arg(argv, f) for f in ("--module", "--index", "--imports", imports_flag)]
        declared = sorted(i for i in inputs if not i.startswith(TOOLCHAIN))
        assert declared == sorted(expected), declared


def test_backends_declare_only_module_index_imports_and_pack(packed_build):
    assert_backends_declare_only(THINLTO, "--import-pack")


def test_packs_hold_exactly_the_imports_within_the_byte_bound(packed_build):
    execroot = packed_build
    modules = plan(THINLTO)["modules"]
    all_bitcode = sum((execroot / m["module"]).stat().st_size for m in modules)
    declared = naive = 0
    for m in modules:
        pack_file = execroot / (m["object"] + ".pack")
        members = read_pack(pack_file)
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


@pytest.fixture(scope="module")
def bundle_build(execroot):
    bazel("build", *BUNDLE, TARGET)
    return execroot


def test_bundle_backends_declare_only_module_index_imports_and_bundle(bundle_build):
    assert_backends_declare_only(BUNDLE, "--import-root")


def test_bundles_hold_exactly_the_imports(bundle_build):
    execroot = bundle_build
    modules = plan(BUNDLE)["modules"]
    declared = 0
    for m in modules:
        bundle = execroot / (m["object"] + ".bundle")
        held = sorted(str(f.relative_to(bundle)) for f in bundle.rglob("*") if f.is_file())
        assert held == sorted(m["imports"]), m["module"]
        listed = (execroot / m["imports_file"]).read_text().splitlines()
        assert sorted(listed) == held
        for f in held:
            assert (bundle / f).read_bytes() == (execroot / f).read_bytes(), f"stale copy of {f} in {bundle}"
        declared += (execroot / m["module"]).stat().st_size + sum((bundle / f).stat().st_size for f in held)
    assert declared <= 1.1 * discovered_bytes(execroot, modules)


def test_all_bitcode_backends_report_unused_inputs(execroot):
    bazel("build", *ALL_BITCODE, TARGET)
    p = plan(ALL_BITCODE)
    every = {m["module"] for m in p["modules"]}
    for m in p["modules"]:
        unused = (execroot / (m["object"] + ".unused")).read_text().splitlines()
        assert sorted(unused) == sorted(every - set(m["imports"]) - {m["module"]}), m["module"]

    # Every backend declares its module, index and imports list and every module it imports.
    # (After a backend executes, aquery may show only what it used; both views hold these.)
    actions = aquery_inputs(*ALL_BITCODE, f'mnemonic("ThinLtoBackend", {TARGET})')
    assert len(actions) == len(p["modules"])
    by_module = {m["module"]: m for m in p["modules"]}
    for argv, inputs in actions:
        m = by_module[arg(argv, "--module")]
        assert {m["module"], m["index"], m["imports_file"], *m["imports"]} <= set(inputs), m["module"]
