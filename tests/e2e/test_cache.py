"""With --disk_cache, a rebuild after `bazel clean` executes no backend: all come from the cache."""

import subprocess

from conftest import ROOT, THINLTO, execution_log


def bazel_at(output_base, *args):
    proc = subprocess.run(
        ["bazel", f"--output_base={output_base}", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


def test_rebuild_after_clean_comes_from_disk_cache(tmp_path):
    # A separate output base: `clean` must not throw away the other tests' builds.
    ob, cache, log = tmp_path / "output_base", tmp_path / "disk_cache", tmp_path / "exec.json"
    flags = (*THINLTO, f"--disk_cache={cache}", "//examples/mixed")
    try:
        bazel_at(ob, "build", *flags)
        bazel_at(ob, "clean")
        out = bazel_at(ob, "build", f"--execution_log_json_file={log}", *flags)
    finally:
        subprocess.run(["bazel", f"--output_base={ob}", "shutdown"], cwd=ROOT, capture_output=True)
    spawns = execution_log(log)
    backends = [s for s in spawns if s["mnemonic"] == "ThinLtoBackend"]
    assert len(backends) >= 5
    assert all(s.get("remoteCacheHit") for s in backends), [s["commandArgs"][-1] for s in backends if not s.get("remoteCacheHit")]
    executed = [s["mnemonic"] for s in spawns if not s.get("remoteCacheHit")]
    assert executed == [], f"executed after clean: {executed}"
    assert "remote cache hit" in out
