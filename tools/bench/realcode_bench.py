#!/usr/bin/env python3
"""Build time and runtime of the real-code program (tests/realcode: serde, serde_json, crc32fast,
zstd's C; a C++ main and a Rust main), without and with distributed ThinLTO, under each panic
strategy, measured side by side: the variants alternate round by round.

    python3 tools/bench/realcode_bench.py [--rounds 2] [--runs 21]

Each variant builds in its own output base (so no variant's cache serves another): a cold
build after `bazel clean` (warm server, analysis included); after the last round each
variant's bench_main runs --runs times, the variants alternating; medians are reported.
Prints a markdown table.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGETS = ["//tests/realcode:cpp_main", "//tests/realcode:rust_main", "//tests/realcode:bench_main"]
# The two mains print and exit: their runtime is process start-up. bench_main is the workload
# (serialize, parse, compress, checksum 2,000 records per round), timed on 50 rounds.
TIMED = "//tests/realcode:bench_main"
ROUNDS = "50"
VARIANTS = {
    "no LTO, -c opt": ["-c", "opt", "--copt=--target=x86_64-unknown-linux-gnu"],
    "ThinLTO, panic=unwind": ["--config=thinlto"],
    "ThinLTO, panic=abort": ["--config=thinlto", "--//rules/settings:panic=abort"],
    "no LTO, panic=abort": ["-c", "opt", "--copt=--target=x86_64-unknown-linux-gnu", "--//rules/settings:panic=abort"],
}


def bazel(base, *args):
    cmd = ["bazel", f"--output_base={base}", *args]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}")
    return proc.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="realcode-bench-"))
    bases = {v: work / f"ob{i}" for i, v in enumerate(VARIANTS)}
    builds = {v: [] for v in VARIANTS}
    runtimes = {v: [] for v in VARIANTS}
    binaries = {}
    try:
        for r in range(args.rounds):
            for v, flags in VARIANTS.items():
                bazel(bases[v], "build", "--nobuild", *flags, *TARGETS)  # fetch, analysis, server start: untimed
                bazel(bases[v], "clean")
                t = time.monotonic()
                bazel(bases[v], "build", *flags, *TARGETS)
                builds[v].append(time.monotonic() - t)
                bin_dir = Path(bazel(bases[v], "info", *flags, "bazel-bin").strip().splitlines()[-1])
                binaries[v] = work / f"bench_main-{bases[v].name}"
                shutil.copy2(bin_dir / TIMED.split("//", 1)[1].replace(":", "/"), binaries[v])
                print(f"round {r + 1}, {v}: build {builds[v][-1]:.1f} s", file=sys.stderr)
        # The last round's binaries, run after every build and alternately, so that no
        # variant runs in the wake of its own build.
        for _ in range(args.runs):
            for v in VARIANTS:
                t = time.monotonic()
                subprocess.run([str(binaries[v]), ROUNDS], check=True, stdout=subprocess.DEVNULL)
                runtimes[v].append(time.monotonic() - t)
    finally:
        for base in bases.values():
            subprocess.run(["bazel", f"--output_base={base}", "shutdown"], cwd=ROOT, capture_output=True)
    print(f"machine: {os.cpu_count()} cores; {args.rounds} rounds, variants interleaved; runtimes: median of {args.runs} runs each, alternating\n")
    print(f"| variant | cold build (median) | builds | bench_main {ROUNDS} runtime |")
    print("|---|---:|---|---:|")
    for v in VARIANTS:
        print(f"| {v} | {statistics.median(builds[v]):.1f} s | {', '.join(f'{b:.1f}' for b in builds[v])} | {statistics.median(runtimes[v]) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
