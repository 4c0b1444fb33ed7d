"""A Buildbarn remote-execution cluster on 127.0.0.1, for tests and by hand.

    with buildbarn_cluster(tmp_dir) as cluster:
        bazel build --remote_executor=cluster.endpoint ...

starts bb_storage (CAS, AC, and the Execution frontend), bb_scheduler, bb_runner and
bb_worker (native build directory) from third_party/offline/buildbarn/bin
(tests/remote/install_buildbarn.sh builds them), each in its own process group, with the
configs of tests/remote/buildbarn/ copied into `tmp_dir/config`. Ports are picked free at
start. It returns once the frontend accepts connections and the scheduler lists the
worker's threads (bounded by `timeout`), and on exit always stops every process group
(SIGTERM, then SIGKILL), also when the body raised. Logs stay in `tmp_dir/*.log` and are
printed when starting or the body fails.

By hand: `python3 tests/remote/cluster.py [DIR]` runs a cluster until Ctrl-C.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "third_party" / "offline" / "buildbarn" / "bin"
CONFIGS = Path(__file__).resolve().parent / "buildbarn"
INSTALL = "tests/remote/install_buildbarn.sh"

# In start order; each reads CONFIGS/<config>.jsonnet.
PROCESSES = (
    ("bb_storage", "storage"),
    ("bb_scheduler", "scheduler"),
    ("bb_runner", "runner"),
    ("bb_worker", "worker"),
)

# The scheduler's admin page links the number of all workers of a platform queue as
# <a href="workers?filter=...%22all%22...">N</a> (bb-remote-execution's templates).
_ALL_WORKERS = re.compile(r'href="workers\?filter=[^"]*%22all%22[^"]*">\s*(\d+)\s*<')


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    root: Path
    endpoint: str  # grpc://127.0.0.1:PORT: for --remote_executor and --remote_cache
    admin_url: str  # the scheduler's HTTP page (queues, workers, operations)
    concurrency: int
    logs: dict = field(default_factory=dict)  # process name -> log file

    def workers(self, timeout=5.0):
        """The number of worker threads the scheduler knows (all platform queues)."""
        with urllib.request.urlopen(self.admin_url, timeout=timeout) as r:
            page = r.read().decode("utf-8", "replace")
        return sum(int(n) for n in _ALL_WORKERS.findall(page))

    def log_tails(self, lines=40):
        out = []
        for name, path in self.logs.items():
            try:
                text = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError as e:
                text = [f"(cannot read: {e})"]
            out.append(f"--- {name} ({path}), last {lines} lines:\n" + "\n".join(text))
        return "\n".join(out)


def binaries_missing():
    """The Buildbarn programs that are not installed (empty when all are)."""
    return [name for name, _ in PROCESSES if not os.access(BIN / name, os.X_OK)]


def _free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _accepts(port, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _stop(procs, grace=3.0):
    """SIGTERM to each process group in reverse start order, then SIGKILL to what is left.

    Reverse order: bb_worker exits on SIGTERM at once while its scheduler is up, but
    keeps retrying to reach a scheduler that is gone. Every wait is bounded.
    """
    for p in reversed(procs):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=grace)
    for p in procs:
        # Also when the leader has exited: its children may still be in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5.0)


@contextlib.contextmanager
def buildbarn_cluster(root, concurrency=2, timeout=60.0, out=sys.stderr):
    """Runs the cluster in `root` (created if needed) for the duration of the block."""
    missing = binaries_missing()
    if missing:
        raise ClusterError(f"Buildbarn is not installed ({', '.join(missing)} missing in {BIN}): run {INSTALL}")
    root = Path(root).resolve()
    runner_socket = root / "runner.sock"
    if len(os.fsencode(runner_socket)) >= 100:  # sun_path holds 108 bytes
        raise ClusterError(f"{root} is too long a path for the runner's Unix socket")
    for d in ("config", "storage", "worker/build", "worker/cache"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for f in CONFIGS.iterdir():
        if f.suffix in (".jsonnet", ".libsonnet"):
            shutil.copy2(f, root / "config" / f.name)

    storage, sched_client, sched_worker, sched_admin = _free_ports(4)
    env = dict(
        os.environ,
        BB_ROOT=str(root),
        BB_STORAGE_PORT=str(storage),
        BB_SCHEDULER_CLIENT_PORT=str(sched_client),
        BB_SCHEDULER_WORKER_PORT=str(sched_worker),
        BB_SCHEDULER_ADMIN_PORT=str(sched_admin),
        BB_WORKER_CONCURRENCY=str(concurrency),
    )
    cluster = Cluster(
        root=root,
        endpoint=f"grpc://127.0.0.1:{storage}",
        admin_url=f"http://127.0.0.1:{sched_admin}/",
        concurrency=concurrency,
    )
    procs = []
    try:
        for name, config in PROCESSES:
            log = root / f"{name}.log"
            cluster.logs[name] = log
            with open(log, "wb") as f:
                procs.append(subprocess.Popen(
                    [str(BIN / name), str(root / "config" / f"{config}.jsonnet")],
                    cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, killed as a whole
                ))

        deadline = time.monotonic() + timeout
        while True:
            for (name, _), p in zip(PROCESSES, procs):
                if p.poll() is not None:
                    raise ClusterError(f"{name} exited with {p.returncode} while starting")
            if _accepts(storage):
                with contextlib.suppress(OSError):
                    if cluster.workers() >= concurrency:
                        break
            if time.monotonic() > deadline:
                raise ClusterError(f"the cluster was not ready after {timeout:.0f} s "
                                   f"(frontend on 127.0.0.1:{storage}, {concurrency} worker threads at {cluster.admin_url})")
            time.sleep(0.2)

        yield cluster
    except BaseException as e:
        if not isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            print(f"Buildbarn cluster in {root}: {type(e).__name__}: {e}\n{cluster.log_tails()}", file=out)
        raise
    finally:
        _stop(procs)


def main(argv):
    root = Path(argv[1]) if len(argv) > 1 else Path(tempfile.mkdtemp(prefix="buildbarn-"))
    with buildbarn_cluster(root) as c:
        print(f"Buildbarn is running in {c.root} (logs: *.log there); Ctrl-C stops it.\n"
              f"  bazel build --remote_executor={c.endpoint} --spawn_strategy=remote ...\n"
              f"  bazel build --remote_cache={c.endpoint} ...\n"
              f"  scheduler: {c.admin_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main(sys.argv)
