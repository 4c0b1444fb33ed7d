"""Remote execution and a remote cache, against a real Buildbarn cluster on 127.0.0.1.

Every compile, index, backend and link action of examples/mixed runs on Buildbarn's
worker, which sees only the inputs the action declares: the build succeeding and the
program running prove that each backend's pruned inputs (its module, index, imports list
and pack: the default `packed` mode) are complete.
tests/remote/ holds the cluster (cluster.py) and how Buildbarn is installed.
"""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, THINLTO, execution_log, run
from test_examples import EXPECTED

sys.path.insert(0, str(ROOT / "tests" / "remote"))
from cluster import INSTALL, binaries_missing, buildbarn_cluster  # noqa: E402

# Each kind of spawn the ThinLTO build of a mixed C++/Rust program has.
MNEMONICS = {"RustcCompile", "CppCompile", "ThinLtoIndex", "ThinLtoBackend", "ThinLtoLink"}
# No bazel-* symlinks into these throwaway output bases.
NO_SYMLINKS = ("--symlink_prefix=/",)

if binaries_missing():
    pytest.fail(f"Buildbarn is not installed ({', '.join(binaries_missing())}): run {INSTALL} "
                "(tools/setup.sh does)", pytrace=False)


class OutputBase:
    """Bazel on its own output base: `clean` must not throw away the other tests' builds."""

    def __init__(self, path):
        self.path = path

    def bazel(self, *args, timeout=900):
        try:
            proc = subprocess.run(
                ["bazel", f"--output_base={self.path}", *args],
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else e.stdout or ""
            raise AssertionError(f"bazel {' '.join(args)} did not finish in {timeout} s:\n{out[-4000:]}") from None
        assert proc.returncode == 0, f"bazel {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}"
        return proc.stdout

    def shutdown(self):
        """Stops this output base's server; kills it if it does not stop within 2 minutes."""
        try:
            subprocess.run(["bazel", f"--output_base={self.path}", "shutdown"], cwd=ROOT,
                           capture_output=True, timeout=120, check=True)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError):
            pid_file = self.path / "server" / "server.pid.txt"
            if pid_file.exists():
                with contextlib.suppress(ValueError, ProcessLookupError):
                    os.kill(int(pid_file.read_text().strip()), signal.SIGKILL)


@pytest.fixture
def output_base(tmp_path):
    ob = OutputBase(tmp_path / "output_base")
    try:
        yield ob
    finally:
        ob.shutdown()


def by_runner(spawns):
    return sorted({(s["mnemonic"], s.get("runner", "")) for s in spawns})


def built_binary(ob, *flags):
    return Path(ob.bazel("info", *flags, "bazel-bin").strip().splitlines()[-1]) / "examples" / "mixed" / "mixed"


def test_every_action_runs_remotely(output_base, tmp_path):
    log = tmp_path / "exec.json"
    # A fresh cluster per test (an empty CAS and action cache). Not a fixture: a failure
    # in the block passes through it, which prints the cluster's logs.
    with buildbarn_cluster(tmp_path / "bb") as cluster:
        flags = (*THINLTO, *NO_SYMLINKS, f"--remote_executor={cluster.endpoint}", "--spawn_strategy=remote")
        output_base.bazel("build", f"--execution_log_json_file={log}", *flags, "//examples/mixed")
        binary = built_binary(output_base, *flags)  # (`info` with these flags asks the cluster too)

    spawns = execution_log(log)
    assert {s["mnemonic"] for s in spawns} >= MNEMONICS, by_runner(spawns)
    not_remote = [(s["mnemonic"], s.get("runner")) for s in spawns if s.get("runner") != "remote"]
    assert not_remote == [], f"not executed remotely: {not_remote}"
    # An empty cache: every spawn really ran on the worker.
    assert not any(s.get("remoteCacheHit") for s in spawns)
    backends = [s for s in spawns if s["mnemonic"] == "ThinLtoBackend"]
    assert len(backends) >= 5

    assert run([str(binary)]).splitlines() == EXPECTED["mixed"]


def test_rebuild_after_clean_comes_from_remote_cache(output_base, tmp_path):
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    with buildbarn_cluster(tmp_path / "bb") as cluster:
        flags = (*THINLTO, *NO_SYMLINKS, f"--remote_cache={cluster.endpoint}")
        output_base.bazel("build", f"--execution_log_json_file={first}", *flags, "//examples/mixed")
        output_base.bazel("clean")
        out = output_base.bazel("build", f"--execution_log_json_file={second}", *flags, "//examples/mixed")
        binary = built_binary(output_base, *flags)

    # The first build executed everything locally (and uploaded it): the cache was empty.
    assert not any(s.get("remoteCacheHit") for s in execution_log(first))
    spawns = execution_log(second)
    assert {s["mnemonic"] for s in spawns} >= MNEMONICS, by_runner(spawns)
    executed = [(s["mnemonic"], s.get("runner")) for s in spawns if not s.get("remoteCacheHit")]
    assert executed == [], f"executed after clean: {executed}"
    assert "remote cache hit" in out

    # The outputs (the packs included) came back from the cache intact.
    assert run([str(binary)]).splitlines() == EXPECTED["mixed"]
