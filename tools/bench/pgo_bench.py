#!/usr/bin/env python3
"""Runtime of a real-code program with ThinLTO alone and with ThinLTO plus PGO, side by side.

    python3 tools/bench/pgo_bench.py [--runs 15] [--rounds 200]

The program is tests/realcode:bench_main (serde_json, zstd's C code, crc32fast: each round
serializes, parses, compresses, decompresses and checksums 2,000 records). The profile comes
from one run of the instrumented program (-c opt, Bazel's --fdo_instrument and rustc's
-Cprofile-generate) on 20 rounds; the ThinLTO+PGO build reads it through --fdo_profile and
rules_thinlto's fdo_profile setting. The binaries run alternately, --runs times each, on
--rounds rounds; medians and their ratio are printed as a markdown table.
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
sys.path.insert(0, str(ROOT / "tools"))
from fdo_bazel_tools import override_flags  # noqa: E402

TARGET = "//tests/realcode:bench_main"
PACKAGE = "bench/pgo"  # git-ignored, like bench/gen
OPT = ("-c", "opt", "--copt=--target=x86_64-unknown-linux-gnu")


def bazel(*args):
    proc = subprocess.run(["bazel", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        sys.exit(f"bazel {' '.join(args)} failed:\n{proc.stdout[-3000:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def built(work, name, *flags):
    bazel("build", *flags, TARGET)
    out = work / name
    shutil.copy(Path(bazel("info", *flags, "bazel-bin")) / "tests/realcode/bench_main", out)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pgo-bench-"))
    raw = work / "profraw"

    instrumented = built(work, "instrumented", *OPT, f"--fdo_instrument={raw}", f"--//rules/settings:extra_rustc_flags=-Cprofile-generate={raw}")
    subprocess.run([str(instrumented), "20"], check=True, stdout=subprocess.DEVNULL)
    pkg = ROOT / PACKAGE
    pkg.mkdir(parents=True, exist_ok=True)
    subprocess.run(["llvm-profdata-22", "merge", "-o", str(pkg / "bench.profdata"), str(raw)], check=True)
    (pkg / "BUILD.bazel").write_text('fdo_profile(\n    name = "bench",\n    profile = "bench.profdata",\n)\n')

    tools = override_flags(bazel("info", "install_base"), bazel("info", "output_base"))
    use = (f"--fdo_profile=//{PACKAGE}:bench", f"--//rules/settings:fdo_profile=//{PACKAGE}:bench")
    binaries = {
        "no LTO (-c opt)": built(work, "plain", *OPT),
        "ThinLTO": built(work, "thinlto", "--config=thinlto"),
        "ThinLTO + PGO": built(work, "thinlto_pgo", *tools, "--config=thinlto", *use),
    }
    outputs = {v: subprocess.run([str(b), "5"], check=True, capture_output=True, text=True).stdout for v, b in binaries.items()}
    assert len(set(outputs.values())) == 1, outputs

    times = {v: [] for v in binaries}
    for _ in range(args.runs):
        for v, b in binaries.items():
            t = time.monotonic()
            subprocess.run([str(b), str(args.rounds)], check=True, stdout=subprocess.DEVNULL)
            times[v].append(time.monotonic() - t)
    base = statistics.median(times["ThinLTO"])
    print(f"machine: {os.cpu_count()} cores; {args.runs} runs each, alternating; bench_main {args.rounds} (rounds)\n")
    print("| build | runtime, median | min-max | vs ThinLTO |")
    print("|---|---:|---|---:|")
    for v, ts in times.items():
        m = statistics.median(ts)
        print(f"| {v} | {m:.3f} s | {min(ts):.3f}-{max(ts):.3f} | {m / base:.3f}x |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
