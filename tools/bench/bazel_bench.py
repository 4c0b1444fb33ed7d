#!/usr/bin/env python3
"""Side-by-side Bazel build benchmarks of distributed ThinLTO designs on generated programs.

    python3 tools/bench/bazel_bench.py --sizes 1000 --reps 3 [--variants a,b,...] [--markdown out.md]

For each size N it generates (tools/gen, seed 1) a C++-only program with N modules under
bench/gen/cN (rules_thinlto's `app` and Bazel's own `app_native`, same deps), then for each
variant, interleaved round-robin so that machine noise spreads over all of them:

  cold         `bazel clean` then `bazel build` (warm server; includes analysis)
  incremental  one hot function body in a leaf module changes; rebuild; count backends re-run
  runtime      the program's workload, median of 5 runs
  inputs       declared bitcode bytes of all backends (from the plan), against every backend
               declaring all bitcode

Everything runs in its own Bazel output base (default under /tmp), so it disturbs no other build.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# name -> (target suffix, extra bazel flags). `app` is rules_thinlto's cc_binary, `app_native` Bazel's.
VARIANTS = {
    "nolto": ("app_native", ["-c", "opt"]),
    "inprocess": ("app_native", ["-c", "opt", "--copt=-flto=thin", "--linkopt=-flto=thin", "--linkopt=-fuse-ld=lld", "--linkopt=-Wl,--thinlto-jobs=2"]),
    "native": ("app_native", ["--config=thinlto", "--linkopt=-fuse-ld=lld"]),
    "all_bitcode": ("app", ["--config=thinlto"]),
    "bundle": ("app", ["--config=thinlto", "--//rules/settings:backend_inputs=bundle"]),
}
BACKEND_MNEMONICS = ("ThinLtoBackend", "CcLtoBackendCompile")


def build_helper(dest):
    """The helper built from HEAD in a worktree of its own: edits in progress cannot change it."""
    tree = Path(dest) / "head"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), "HEAD"], cwd=ROOT, check=True)
    try:
        subprocess.run(["cargo", "build", "--quiet", "--release", "--bin", "thinlto"], cwd=tree, check=True,
                       env={**os.environ, "CARGO_TARGET_DIR": str(Path(dest) / "target")})
        shutil.copy2(Path(dest) / "target/release/thinlto", Path(dest) / "thinlto")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    return Path(dest) / "thinlto"


class Bazel:
    def __init__(self, output_base, helper):
        self.output_base = output_base
        self.helper = helper

    def __call__(self, *args, check=True):
        if args[0] in ("build", "info"):
            args = (args[0], f"--repo_env=THINLTO_HELPER={self.helper}", *args[1:])
        proc = subprocess.run(["bazel", f"--output_base={self.output_base}", *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and proc.returncode != 0:
            sys.exit(f"bazel {' '.join(args)} failed:\n{proc.stdout[-5000:]}")
        return proc.stdout

    def timed_build(self, flags, target, log):
        start = time.monotonic()
        self("build", *flags, f"--execution_log_json_file={log}", target)
        return time.monotonic() - start


def spawns(log):
    text, dec, i, out = Path(log).read_text(), json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def generate(n):
    pkg = f"bench/gen/c{n}"
    subprocess.run(["cargo", "run", "--quiet", "--release", "-p", "thinlto-gen", "--", "--modules", str(n),
                    "--rust-crates", str(max(2, n // 50)), "--seed", "1", "--cpp-only", "--out", pkg],
                   cwd=ROOT, check=True)
    return pkg


LEAF_EDIT = re.compile(r"(uint32_t m0000_h0\(uint32_t x\) \{ return [^0-9\n]*)(\d+)u")


def edit_leaf(pkg, delta):
    """Changes the constant in the first hot function of the first module of the lowest library."""
    path = ROOT / pkg / "lib000" / "m0000.cc"
    text = path.read_text()
    new, count = LEAF_EDIT.subn(lambda m: f"{m.group(1)}{int(m.group(2)) + delta}u", text)
    assert count == 1, f"no hot function to edit in {path}"
    path.write_text(new)


def plan_bytes(bin_dir, pkg, execroot):
    plan = json.loads((bin_dir / pkg / "app.lto" / "plan.json").read_text())
    size = {m["module"]: (execroot / m["module"]).stat().st_size for m in plan["modules"]}
    total = sum(size.values())
    per_backend = sorted(size[m["module"]] + sum(size[i] for i in m["imports"]) for m in plan["modules"])
    return {
        "backends": len(per_backend),
        "median_bytes": statistics.median(per_backend),
        "p99_bytes": per_backend[min(len(per_backend) - 1, int(0.99 * len(per_backend)))],
        "total_bytes": sum(per_backend),
        "naive_bytes": total * len(per_backend),
    }


def runtime(binary):
    times = []
    for _ in range(5):
        start = time.monotonic()
        subprocess.run([str(binary)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--output-base", default=os.path.join(tempfile.gettempdir(), "thinlto-bench-output-base"))
    ap.add_argument("--json", default=None, help="write raw results here")
    args = ap.parse_args()
    variants = args.variants.split(",")
    workdir = tempfile.mkdtemp(prefix="thinlto-bench-")
    bazel = Bazel(args.output_base, build_helper(workdir))
    results = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        pkg = generate(n)
        execroot = Path(bazel("info", "execution_root").strip().splitlines()[-1])
        for v in variants:
            results[(n, v)] = {"cold": [], "incremental": [], "backends_rerun": []}
        for rep in range(args.reps):
            for v in variants:
                target_name, flags = VARIANTS[v]
                target = f"//{pkg}:{target_name}"
                r = results[(n, v)]
                with tempfile.TemporaryDirectory() as tmp:
                    bazel("clean")
                    r["cold"].append(bazel.timed_build(flags, target, f"{tmp}/cold.json"))
                    edit_leaf(pkg, +1)
                    try:
                        r["incremental"].append(bazel.timed_build(flags, target, f"{tmp}/inc.json"))
                    finally:
                        edit_leaf(pkg, -1)
                    r["backends_rerun"].append(sum(1 for s in spawns(f"{tmp}/inc.json") if s["mnemonic"] in BACKEND_MNEMONICS))
                    bazel("build", *flags, target)  # back to the unedited program
                    bin_dir = Path(bazel("info", *flags, "bazel-bin").strip().splitlines()[-1])
                    if rep == 0:
                        r["runtime"] = runtime(bin_dir / pkg / target_name)
                        if target_name == "app":
                            r["inputs"] = plan_bytes(bin_dir, pkg, execroot)
                print(f"N={n} {v} rep {rep}: cold {r['cold'][-1]:.1f} s, incremental {r['incremental'][-1]:.1f} s "
                      f"({r['backends_rerun'][-1]} backends)", file=sys.stderr, flush=True)
    bazel("shutdown")
    shutil.rmtree(workdir, ignore_errors=True)

    print(f"| N | variant | cold (median of {args.reps}) | incremental, one leaf body | backends re-run | runtime | backend input bytes (total / naive) |")
    print("|---|---|---|---|---|---|---|")
    for (n, v), r in results.items():
        inputs = r.get("inputs")
        share = f"{inputs['total_bytes'] / 1e6:.1f} MB / {inputs['naive_bytes'] / 1e6:.0f} MB ({100 * inputs['total_bytes'] / inputs['naive_bytes']:.1f}%)" if inputs else "–"
        print(f"| {n} | {v} | {statistics.median(r['cold']):.1f} s | {statistics.median(r['incremental']):.1f} s | "
              f"{statistics.median(r['backends_rerun']):.0f} | {r['runtime']:.2f} s | {share} |")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{n}/{v}": r for (n, v), r in results.items()}, indent=1))


if __name__ == "__main__":
    main()
