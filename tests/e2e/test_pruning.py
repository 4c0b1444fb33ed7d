"""What each backend action declares, in both modes of //rules/settings:backend_inputs.

`bundle` (for remote execution): a backend declares its module, its index, its imports list
and its bundle, which must hold exactly the modules its `.imports` names. `all_bitcode` (the
local default): a backend declares all bitcode, and reports all but its imports unused.
"""

import json
from pathlib import Path

import pytest

from conftest import THINLTO, aquery_inputs, bazel, bin_dir

TARGET = "//examples/mixed:mixed"
BUNDLE = (*THINLTO, "--//rules/settings:backend_inputs=bundle")


def plan(flags):
    return json.loads((bin_dir(*flags) / "examples/mixed/mixed.lto/plan.json").read_text())


def arg(argv, flag):
    return argv[argv.index(flag) + 1]


@pytest.fixture(scope="module")
def bundle_build(execroot):
    bazel("build", *BUNDLE, TARGET)
    return execroot


def test_bundle_backends_declare_only_module_index_imports_and_bundle(bundle_build):
    actions = aquery_inputs(*BUNDLE, f'mnemonic("ThinLtoBackend", {TARGET})')
    p = plan(BUNDLE)
    assert len(actions) == len(p["modules"]) >= 5
    for argv, inputs in actions:
        module, index, imports, bundle = (arg(argv, f) for f in ("--module", "--index", "--imports", "--import-root"))
        declared = sorted(i for i in inputs if not i.startswith("external/thinlto_host/"))
        assert declared == sorted([module, index, imports, bundle]), declared


def test_bundles_hold_exactly_the_imports(bundle_build):
    execroot = bundle_build
    pruned = naive = 0
    all_bitcode = sum((execroot / m["module"]).stat().st_size for m in plan(BUNDLE)["modules"])
    for m in plan(BUNDLE)["modules"]:
        bundle = execroot / (m["object"] + ".bundle")
        held = sorted(str(f.relative_to(bundle)) for f in bundle.rglob("*") if f.is_file())
        assert held == sorted(m["imports"]), m["module"]
        listed = (execroot / m["imports_file"]).read_text().splitlines()
        assert sorted(listed) == held
        for f in held:
            assert (bundle / f).read_bytes() == (execroot / f).read_bytes(), f"stale copy of {f} in {bundle}"
        own = (execroot / m["module"]).stat().st_size
        # What Bazel's native input discovery gives a backend: its module and its imports.
        pruned += own + sum((bundle / f).stat().st_size for f in held)
        naive += all_bitcode
    discovered = sum(
        (execroot / m["module"]).stat().st_size + sum((execroot / f).stat().st_size for f in m["imports"])
        for m in plan(BUNDLE)["modules"]
    )
    assert pruned <= 1.1 * discovered
    assert pruned < naive


def test_all_bitcode_backends_report_unused_inputs(execroot):
    bazel("build", *THINLTO, TARGET)
    p = plan(THINLTO)
    every = {m["module"] for m in p["modules"]}
    for m in p["modules"]:
        unused = (execroot / (m["object"] + ".unused")).read_text().splitlines()
        assert sorted(unused) == sorted(every - set(m["imports"]) - {m["module"]}), m["module"]

    # Every backend declares its module, index and imports list and every module it imports.
    # (After a backend executes, aquery may show only what it used; both views hold these.)
    actions = aquery_inputs(*THINLTO, f'mnemonic("ThinLtoBackend", {TARGET})')
    assert len(actions) == len(p["modules"])
    by_module = {m["module"]: m for m in p["modules"]}
    for argv, inputs in actions:
        m = by_module[arg(argv, "--module")]
        assert {m["module"], m["index"], m["imports_file"], *m["imports"]} <= set(inputs), m["module"]
