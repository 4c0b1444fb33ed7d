"""The persistent worker: locally, Bazel runs every ThinLtoBackend action in `thinlto backend
--persistent_worker` (its worker strategy; the action says `supports-workers`), which compiles
through a clang fork server. Its objects must be byte for byte those of plain processes, and the
action keys the same: a cache the worker filled serves a build with plain processes."""

import subprocess

from conftest import ROOT, THINLTO, execution_log, prebuilt_helper, run

TARGET = "//examples/mixed:mixed"
STRATEGIES = {
    "local": ["--strategy=ThinLtoBackend=local"],
    "worker": [],
    "worker without server": ["--worker_extra_flag=ThinLtoBackend=--no-clang-server"],
}


def bazel_at(output_base, command, *args):
    # The helper built once for the suite: a new output base would otherwise build its own with cargo.
    helper = [f"--repo_env=THINLTO_HELPER={prebuilt_helper()}"] if command == "build" else []
    proc = subprocess.run(
        ["bazel", f"--output_base={output_base}", command, *helper, *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


def backends(log):
    return [s for s in execution_log(log) if s["mnemonic"] == "ThinLtoBackend"]


def test_worker_objects_and_keys_equal_plain_processes(tmp_path):
    # A separate output base: `clean` must not throw away the other tests' builds.
    ob, cache = tmp_path / "output_base", tmp_path / "disk_cache"
    execroot = ob / "execroot" / "rules_thinlto"
    objects = {}
    try:
        for name, flags in STRATEGIES.items():
            bazel_at(ob, "clean")
            log = tmp_path / f"{name}.json"
            # Every backend executes (nothing from the cache); only the worker's results go into it.
            upload = [] if name == "worker" else ["--noremote_upload_local_results"]
            bazel_at(ob, "build", *THINLTO, *flags, f"--disk_cache={cache}", "--noremote_accept_cached", *upload,
                     f"--execution_log_json_file={log}", TARGET)
            ran = backends(log)
            assert len(ran) >= 5
            runners = {s["runner"] for s in ran}
            assert runners == ({"local"} if name == "local" else {"worker"}), (name, runners)
            objects[name] = {o["path"]: (execroot / o["path"]).read_bytes() for s in ran for o in s["actualOutputs"]}
            assert "rust_report(5) = 30" in run([str(execroot / "bazel-out/k8-opt/bin/examples/mixed/mixed")])
        assert objects["worker"] == objects["local"]
        assert objects["worker without server"] == objects["local"]
        logs = {p.name: p.read_text() for p in (ob / "bazel-workers").glob("*ThinLtoBackend*.log")}
        assert logs and not any("no clang server" in t or "failed" in t for t in logs.values()), logs

        # The worker's results under the plain action's keys: a local build takes every backend from the cache.
        bazel_at(ob, "clean")
        log = tmp_path / "cached.json"
        bazel_at(ob, "build", *THINLTO, *STRATEGIES["local"], f"--disk_cache={cache}", f"--execution_log_json_file={log}", TARGET)
        assert all(s.get("remoteCacheHit") for s in backends(log)), [s["commandArgs"][-1] for s in backends(log) if not s.get("remoteCacheHit")]
    finally:
        subprocess.run(["bazel", f"--output_base={ob}", "shutdown"], cwd=ROOT, capture_output=True)
