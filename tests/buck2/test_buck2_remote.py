"""Remote execution of Buck2's distributed ThinLTO on the Buildbarn cluster the Bazel tests use
(tests/remote/cluster.py, on 127.0.0.1): every action of examples/mixed (C++ main) and of
tests/shapes:rust_chain (Rust main) under `-m thinlto` (compiles, archives, rustc with the
captured link, extraction, thin link, every backend, final link) runs on the worker, in a
directory holding only its declared inputs, and the programs run.

The execution platform (tests/buck2/remote) has local execution off, so an action that could
not run remotely fails the build instead of running on the host. buck2 sends actions no PATH,
and the project's toolchains name host tools without a path (clang++-22, rustc, python3): the
worker gives every action this test's PATH (`environmentVariables` in a copy of
tests/remote/buildbarn/worker.jsonnet). The cluster and the project's buck2 daemon are stopped
when the module ends."""

import json
import os
import shutil
import sys

import pytest

from buck2_project import ROOT, THINLTO, Project, copy_project, buck2_bin, helper  # noqa: F401
from thinlto_inspect import run

sys.path.insert(0, str(ROOT / "tests/remote"))
import cluster  # noqa: E402

TARGETS = {
    "//examples/mixed:mixed": [
        "rust: sums of squares up to 5: [0, 1, 5, 14, 30]",
        "c++: rust_square_plus_one(5) = 26, rust_report(5) = 30, geometry initialized 1 time(s)",
    ],
    "//tests/shapes:rust_chain": ["rust_chain(5) = 65"],
}
# Where the worker's runner config is extended with the actions' environment.
WORKER_ANCHOR = "      platform: {},\n"


def worker_configs(dest):
    """tests/remote/buildbarn's configs, the worker's runner giving actions PATH and HOME."""
    dest.mkdir(parents=True)
    for f in cluster.CONFIGS.iterdir():
        if f.suffix in (".jsonnet", ".libsonnet"):
            shutil.copy(f, dest / f.name)
    worker = dest / "worker.jsonnet"
    text = worker.read_text()
    assert WORKER_ANCHOR in text, f"{worker}: no `platform: {{}},` to add environmentVariables after"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")}
    entries = ", ".join(f"{k}: {json.dumps(v)}" for k, v in env.items())
    worker.write_text(text.replace(WORKER_ANCHOR, WORKER_ANCHOR + f"      environmentVariables: {{ {entries} }},\n"))
    return dest


@pytest.fixture(scope="module")
def remote(buck2_bin, helper, tmp_path_factory, monkeypatch_module):
    missing = cluster.binaries_missing()
    if missing:
        pytest.fail(f"Buildbarn is not installed ({', '.join(missing)} missing in {cluster.BIN}): run {cluster.INSTALL}")
    base = tmp_path_factory.mktemp("remote")
    monkeypatch_module.setattr(cluster, "CONFIGS", worker_configs(base / "configs"))
    with cluster.buildbarn_cluster(base / "bb") as c:
        root = base / "project"
        copy_project(root, helper)
        with open(root / ".buckconfig", "a") as f:
            f.write(
                "\n[buck2_re_client]\n"
                f"  engine_address = {c.endpoint}\n"
                f"  cas_address = {c.endpoint}\n"
                f"  action_cache_address = {c.endpoint}\n"
                "  tls = false\n"
                "  instance_name = buck2\n"
                "\n[build]\n"
                "  execution_platforms = root//tests/buck2/remote:platforms\n"
            )
        p = Project(root, buck2_bin)
        try:
            yield p
        finally:
            p.run("kill", check=False)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_every_action_runs_remotely_and_the_programs_run(remote):
    outputs = remote.build(*THINLTO, *TARGETS)
    ran = remote.what_ran()
    executors = {}
    for a in ran:
        executors.setdefault(a["reproducer"]["executor"], []).append(a["identity"])
    assert set(executors) == {"Re"}, {k: v[:5] for k, v in executors.items()}
    categories = {a["identity"].rsplit("(", 1)[1].split(" ")[0] for a in ran}
    for c in ["thinlto_extract", "thinlto_index", "thinlto_backend", "thinlto_link", "rustc"]:
        assert c in categories, (c, categories)
    for target, expected in TARGETS.items():
        binary = next(p for t, p in outputs.items() if t.startswith("root" + target))
        assert run([str(binary)]).splitlines() == expected
        # Every loaded module's backend ran, remotely.
        loaded = [m["module"] for m in remote.plan(binary)["modules"] if m["loaded"]]
        label = "root" + target + " "
        backends = [a for a in ran if a["identity"].startswith(label) and "(thinlto_backend " in a["identity"]]
        assert len(backends) == len(loaded), (target, len(backends), len(loaded))
