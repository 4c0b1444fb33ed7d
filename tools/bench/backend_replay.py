#!/usr/bin/env python3
"""One ThinLTO backend of a Bazel build, replayed outside Bazel in the shapes that matter for
its cost, runs alternating; prints the median of each.

    python3 tools/bench/backend_replay.py --target //bench/gen/c1000:app --module lib050/_objs/lib050/m0500.o [--runs 25]

Build the target with --config=thinlto first. The backend's command line comes from
`bazel aquery`; it then runs:

  in place        the helper in the exec root, which holds every import (a local action)
  unpacked        the helper in a root holding only its four declared inputs (as symlinks,
                  as a sandbox has them): it writes the pack's modules out before clang runs
  clang alone     clang on the module and index in the exec root (no helper)
  sandboxed       the helper with its four inputs, inside Bazel's own linux-sandbox binary
  sandboxed clang clang alone inside linux-sandbox, in a root holding the module, its index
                  and every module its .imports names (what Bazel's native backend declares)
  worker          one request to the helper's persistent worker in the exec root (Bazel's
                  protocol, as its worker strategy sends it), compiling through the clang server
  worker, no server  the same worker started with --no-clang-server: clang as a process

The two sandboxed rows use the linux-sandbox of this Bazel's install base with a network
namespace and `localhost` as host name, as Bazel runs it; Bazel's own work around a
sandboxed action (making the sandbox directory, moving outputs, deleting it) is not in them.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bazel(*args):
    proc = subprocess.run(["bazel", *args], cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        sys.exit(f"bazel {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def backend_argv(target, module):
    """The ThinLtoBackend command line of `target` whose --module ends with `module`."""
    aq = json.loads(bazel("aquery", "--config=thinlto", f'mnemonic("ThinLtoBackend", {target})', "--output=jsonproto"))
    for action in aq["actions"]:
        argv = action["arguments"]
        if argv[argv.index("--module") + 1].endswith("/" + module):
            return argv
    sys.exit(f"{target} has no backend of a module ending in {module}")


def flag(argv, name):
    return argv[argv.index(name) + 1]


class Worker:
    """The helper as Bazel runs a persistent worker: length-delimited WorkRequest and
    WorkResponse protos on its stdin and stdout (tools/thinlto/src/worker.rs)."""

    def __init__(self, cwd, argv):
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    @staticmethod
    def varint(n):
        out = bytearray()
        while n >= 0x80:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        return bytes(out + bytes([n]))

    def read_varint(self):
        """A varint from the worker's stdout (a message's length)."""
        raw = b""
        while not raw or raw[-1] >= 0x80:
            b = self.proc.stdout.read(1)
            if not b:
                sys.exit("the worker exited")
            raw += b
        return self.decode_varint(raw, 0)[0]

    def run(self, arguments):
        """Sends one request; returns (exit code, output). Fields: WorkRequest.arguments = 1;
        WorkResponse.exit_code = 1, output = 2."""
        msg = b"".join(b"\x0a" + self.varint(len(a.encode())) + a.encode() for a in arguments)
        self.proc.stdin.write(self.varint(len(msg)) + msg)
        self.proc.stdin.flush()
        body = self.proc.stdout.read(self.read_varint())
        fields, i = {}, 0
        while i < len(body):
            key, i = self.decode_varint(body, i)
            value, i = self.decode_varint(body, i)
            if key & 7 == 2:
                value, i = body[i:i + value], i + value
            fields[key >> 3] = value
        code = fields.get(1, 0)
        code = code - (1 << 64) if code >= 1 << 63 else code
        return code, fields.get(2, b"").decode(errors="replace")

    @staticmethod
    def decode_varint(buf, i):
        n, shift = 0, 0
        while True:
            n |= (buf[i] & 0x7F) << shift
            shift += 7
            i += 1
            if buf[i - 1] < 0x80:
                return n, i

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def link_tree(exec_root, files):
    """A directory holding `files` (exec-root paths) as symlinks to their exec-root copies."""
    root = Path(tempfile.mkdtemp(prefix="backend-replay-"))
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        if not (root / f).exists():
            (root / f).symlink_to(os.path.realpath(exec_root / f))
    (root / "bazel-out/replay").mkdir(parents=True, exist_ok=True)
    return root


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", required=True)
    ap.add_argument("--module", required=True, help="the end of the module's path, e.g. lib050/_objs/lib050/m0500.o")
    ap.add_argument("--runs", type=int, default=25)
    args = ap.parse_args()

    exec_root = Path(bazel("info", "--config=thinlto", "execution_root").strip())
    sandbox = Path(bazel("info", "install_base").strip()) / "linux-sandbox"
    argv = backend_argv(args.target, args.module)
    argv[argv.index("--out") + 1] = "bazel-out/replay/backend.o"
    module, index, imports = flag(argv, "--module"), flag(argv, "--index"), flag(argv, "--imports")
    compiler = argv[argv.index("--") + 1:]
    clang = [*compiler, "-ffunction-sections", "-fdata-sections", "-c", "-x", "ir", module,
             f"-fthinlto-index={index}", "-o", "bazel-out/replay/clang.o"]

    declared = link_tree(exec_root, [argv[0], module, index, imports, flag(argv, "--import-pack")])
    natives = link_tree(exec_root, [module, index, *(exec_root / imports).read_text().split()])
    (exec_root / "bazel-out/replay").mkdir(exist_ok=True)

    def in_sandbox(root, command):
        return [str(sandbox), "-W", str(root), "-w", str(root), "-N", "-H", "--", *command]

    shapes = {
        "in place": (exec_root, argv),
        "unpacked": (declared, argv),
        "clang alone": (exec_root, clang),
        "sandboxed": (declared, in_sandbox(declared, argv)),
        "sandboxed clang": (natives, in_sandbox(natives, clang)),
    }
    workers = {
        "worker": Worker(exec_root, [argv[0], "backend", "--persistent_worker"]),
        "worker, no server": Worker(exec_root, [argv[0], "backend", "--persistent_worker", "--no-clang-server"]),
    }
    times = {name: [] for name in [*shapes, *workers]}
    for _ in range(args.runs):
        for name, (cwd, command) in shapes.items():
            start = time.monotonic()
            proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
            times[name].append(time.monotonic() - start)
            if proc.returncode != 0:
                sys.exit(f"{name}: {' '.join(command)} failed:\n{proc.stderr[-3000:]}")
        for name, worker in workers.items():
            start = time.monotonic()
            code, output = worker.run(argv[2:])
            times[name].append(time.monotonic() - start)
            if code != 0:
                sys.exit(f"{name}: the request failed ({code}):\n{output[-3000:]}")
    for worker in workers.values():
        worker.close()
    print(f"{args.target}, module {module}, {args.runs} runs each, alternating\n")
    print("| shape | median |")
    print("|---|---:|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
