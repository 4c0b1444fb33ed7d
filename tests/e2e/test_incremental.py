"""After one leaf function body changes, only the backends whose inputs changed re-run.

The test works on a scratch copy of examples/mixed, so it never edits tracked files.
Which backends must re-run is computed from what changed on disk (a module's bitcode, its
index, or a module it imports); which did re-run is read from Bazel's execution log.
"""

import shutil

import pytest

from conftest import ROOT, THINLTO, bazel, bin_dir, execution_log, expand_params, run

SCRATCH = "tests/e2e/scratch/incremental"


@pytest.fixture
def scratch():
    dest = ROOT / SCRATCH
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(ROOT / "examples/mixed", dest)
    for f in dest.iterdir():
        f.write_text(f.read_text().replace("examples/mixed/", SCRATCH + "/").replace("EXAMPLES_MIXED_", "SCRATCH_"))
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


def snapshot(execroot, plan):
    files = {m["module"] for m in plan["modules"]} | {m["index"] for m in plan["modules"]}
    return {f: (execroot / f).read_bytes() for f in files}


def test_one_leaf_body_reruns_only_affected_backends(scratch, execroot, tmp_path):
    import json

    target = "//" + SCRATCH + ":mixed"
    bazel("build", *THINLTO, target)
    lto = bin_dir(*THINLTO) / SCRATCH / "mixed.lto"
    plan = json.loads((lto / "plan.json").read_text())
    before = snapshot(execroot, plan)

    geometry = scratch / "geometry.cc"
    body = "extern \"C\" int cpp_square(int x) { return x * x; }"
    assert body in geometry.read_text()
    geometry.write_text(geometry.read_text().replace(body, "static volatile int zero = 0;\nextern \"C\" int cpp_square(int x) { return x * x + zero; }"))
    log = tmp_path / "exec.json"
    bazel("build", *THINLTO, f"--execution_log_json_file={log}", target)
    after = snapshot(execroot, plan)

    changed = {f for f in before if before[f] != after[f]}
    expected = {
        m["module"]
        for m in plan["modules"]
        if {m["module"], m["index"], *m["imports"]} & changed
    }
    ran = [s for s in execution_log(log) if s["mnemonic"] == "ThinLtoBackend"]
    argvs = [expand_params(s["commandArgs"], execroot) for s in ran]
    ran_modules = {a[a.index("--module") + 1] for a in argvs}
    assert len(ran) == len(ran_modules)
    assert ran_modules == expected
    geometry_module = next(m["module"] for m in plan["modules"] if m["module"].endswith("geometry.o"))
    assert geometry_module in ran_modules
    assert len(ran_modules) < len(plan["modules"]), "every backend re-ran"
    out = run([str(bin_dir(*THINLTO) / SCRATCH / "mixed")])
    assert "rust_report(5) = 30" in out
