#!/usr/bin/env python3
"""Buck2 builds of a generated program (tools/gen), as BENCHMARKS.md measures the Bazel ones.

    python3 tests/buck2/buck2_bench.py --modules 1000 --reps 2 [--json out.json]

Generates the mixed C++/Rust program (tools/gen, seed 1: N C++ modules in N/10 libraries,
N/50 Rust crates, `app` with a C++ main) outside the repository, writes a BUCK file beside
each BUILD.bazel (the prelude's cxx_library and rust_library; `app` is
@thinlto//buck2:defs.bzl's cxx_binary with enable_distributed_thinlto = True), and builds it
in a scratch Buck2 project with this repository's rules, toolchains and root PACKAGE. The
variants run interleaved, round by round:

  plain       no modifier: the prelude's compiles and link, no LTO
  distributed -m thinlto: distributed ThinLTO (rules_thinlto)
  inprocess   -m thinlto, app[prelude-link]: the prelude's own link of the same bitcode,
              lld's in-process ThinLTO (--thinlto-jobs: lld's default, every core)

For each: cold (`buck2 clean`, then build; the daemon restarts), leaf edit (a constant of
one hot function of lib000/m0000.cc), header edit (common/tune.h's inline function, which
every module uses); for distributed, the backends each edit re-ran (`buck2 log what-ran`);
the workload's runtime (median of 3) and its checksum, checked against the generator's.

Needs buck2 ($BUCK2, PATH, or the shared copy, as tests/buck2 finds it) and the helper
($THINLTO_HELPER, else target/release/thinlto built by cargo).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from buck2_project import ROOT, find_buck2, install_helper  # noqa: E402

PKG = "bench/gen/m{n}"
LEAF = ("lib000/m0000.cc", r"(uint32_t m0000_h0\(uint32_t x\) \{ return [^0-9\n]*)(\d+)u")
HEADER = ("common/tune.h", r"(\{ return a \^ )(\d+)u")
VARIANTS = ["plain", "distributed", "inprocess"]


def generate(n, dest):
    """tools/gen's mixed program at dest/bench/gen/mN; returns its expected output line."""
    subprocess.run(["cargo", "build", "--quiet", "--release", "-p", "thinlto-gen"], cwd=ROOT, check=True)
    out = subprocess.run(
        [str(ROOT / "target/release/thinlto-gen"), "--modules", str(n), "--rust-crates", str(max(2, n // 50)),
         "--seed", "1", "--out", str(dest / PKG.format(n=n)), "--package-prefix", PKG.format(n=n), "--expect"],
        check=True, capture_output=True, text=True).stdout
    return next(line for line in out.splitlines() if line.startswith("checksum:"))


class _Build:
    """Reads a generated BUILD.bazel: its rules' keyword arguments, in order."""

    def __init__(self):
        self.rules = []

    def namespace(self):
        ns = {"load": lambda *a, **k: None}
        for kind in ["cc_library", "rust_library", "cc_binary"]:
            ns[kind] = lambda _kind=kind, **kw: self.rules.append((_kind, kw))
        return ns


def _label(label):
    return label  # //bench/gen/mN/libX:libX: the same label in the Buck2 project's root cell


def _fmt(value):
    return json.dumps(value, indent=4).replace("\n", "\n    ")


def buck_file(pkg, build_bazel):
    """The BUCK file of one generated package."""
    b = _Build()
    exec(compile(build_bazel.read_text(), str(build_bazel), "exec"), b.namespace())
    out = ['# Generated from BUILD.bazel by tests/buck2/buck2_bench.py.',
           'load("@thinlto//buck2:defs.bzl", "cxx_binary")', ""]
    for kind, kw in b.rules:
        deps = [_label(d) for d in kw.get("deps", [])]
        if kind == "cc_library":
            headers = {f"{pkg}/{h}": h for h in kw.get("hdrs", [])}
            out.append(f'cxx_library(\n    name = "{kw["name"]}",\n    srcs = {_fmt(kw.get("srcs", []))},\n'
                       f'    exported_headers = {_fmt(headers)},\n    header_namespace = "",\n'
                       f'    preferred_linkage = "static",\n    visibility = ["PUBLIC"],\n    deps = {_fmt(deps)},\n)\n')
        elif kind == "rust_library":
            out.append(f'rust_library(\n    name = "{kw["name"]}",\n    srcs = {_fmt(kw["srcs"])},\n'
                       f'    crate_root = "{kw["srcs"][0]}",\n    visibility = ["PUBLIC"],\n    deps = {_fmt(deps)},\n)\n')
        elif kind == "cc_binary":
            out.append(f'cxx_binary(\n    name = "{kw["name"]}",\n    srcs = {_fmt(kw["srcs"])},\n'
                       f'    enable_distributed_thinlto = True,\n    deps = {_fmt(deps)},\n)\n')
    return "\n".join(out)


def write_buck_files(root, n):
    base = root / PKG.format(n=n)
    count = 0
    for build in base.rglob("BUILD.bazel"):
        pkg = str(build.parent.relative_to(root))
        (build.parent / "BUCK").write_text(buck_file(pkg, build))
        count += 1
    return count


def project(dest, helper):
    for f in [".buckconfig", "PACKAGE"]:
        shutil.copy(ROOT / f, dest / f)
    (dest / ".buckroot").write_text("")
    shutil.copytree(ROOT / "buck2", dest / "buck2", ignore=shutil.ignore_patterns("bin", "__pycache__"))
    install_helper(dest, helper)
    # The generated tree lives under bench/, which the repository's .buckconfig ignores.
    text = (dest / ".buckconfig").read_text()
    (dest / ".buckconfig").write_text(re.sub(r"(ignore = [^\n]*), bench\n", r"\1\n", text))


class Buck2:
    def __init__(self, buck2, root):
        self.buck2, self.root = buck2, root

    def __call__(self, *args, check=True):
        proc = subprocess.run([self.buck2, *args], cwd=self.root, capture_output=True, text=True)
        if check and proc.returncode != 0:
            sys.exit(f"buck2 {' '.join(args)} failed:\n{proc.stderr[-6000:]}")
        return proc

    def build(self, target, flags):
        start = time.monotonic()
        out = self("build", *flags, target, "--show-full-output").stdout
        return time.monotonic() - start, Path(out.strip().splitlines()[-1].split(" ", 1)[1])

    def backends(self):
        out = self("log", "what-ran", "--format", "json").stdout
        return sum(1 for line in out.splitlines() if "(thinlto_backend " in line)


def edit(path, pattern, delta):
    text = path.read_text()
    new, count = re.subn(pattern, lambda m: f"{m.group(1)}{int(m.group(2)) + delta}u", text)
    assert count == 1, f"{pattern} matched {count} times in {path}"
    path.write_text(new)


def runtime(binary, expected):
    times = []
    for _ in range(3):
        start = time.monotonic()
        out = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout
        times.append(time.monotonic() - start)
        assert expected in out, (binary, out, expected)
    return statistics.median(times)


def one_round(b, n, variant, root, expected, delta):
    target = f"//{PKG.format(n=n)}:app"
    flags = [] if variant == "plain" else ["-m", "thinlto"]
    if variant == "inprocess":
        target += "[prelude-link]"
    r = {}
    b("clean")
    r["cold"], binary = b.build(target, flags)
    r["runtime"] = runtime(binary, expected)
    if variant == "distributed":
        r["cold_backends"] = b.backends()
    base = root / PKG.format(n=n)
    for name, (file, pattern) in {"leaf": LEAF, "header": HEADER}.items():
        edit(base / file, pattern, delta)
        r[name], binary = b.build(target, flags)
        if variant == "distributed":
            r[f"{name}_backends"] = b.backends()
        edit(base / file, pattern, -delta)
        # (the program's checksum changes with the edit; it is checked on the cold build)
    b.build(target, flags)  # back to the unedited state, untimed
    print(f"N={n} {variant}: " + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()),
          flush=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--keep", help="build in this directory (kept) instead of a temporary one")
    args = ap.parse_args()
    variants = args.variants.split(",")
    buck2 = find_buck2()
    if not buck2:
        sys.exit("buck2 not found: set BUCK2")
    helper = os.environ.get("THINLTO_HELPER")
    if not helper:
        subprocess.run(["cargo", "build", "--release", "--bin", "thinlto"], cwd=ROOT, check=True)
        helper = str(ROOT / "target/release/thinlto")
    root = Path(args.keep or tempfile.mkdtemp(prefix="buck2-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    project(root, helper)
    expected = generate(args.modules, root)
    print(f"{write_buck_files(root, args.modules)} BUCK files in {root}; {expected}", flush=True)
    b = Buck2(buck2, root)
    results = {v: [] for v in variants}
    loads = []
    try:
        for rep in range(args.reps):
            for v in variants:
                loads.append(os.getloadavg())
                results[v].append(one_round(b, args.modules, v, root, expected, delta=rep + 1))
    finally:
        b("kill", check=False)
    summary = {v: {k: statistics.median([r[k] for r in rs]) for k in rs[0]} for v, rs in results.items()}
    print(json.dumps({"summary": summary, "load_averages": loads}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "summary": summary, "loads": loads}, indent=1))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
