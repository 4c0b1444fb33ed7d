#!/usr/bin/env python3
"""Side-by-side Bazel build benchmarks of distributed ThinLTO on generated programs.

    python3 tools/bench/bazel_bench.py --sizes 1000 --reps 3 [--variants a,b,...] [--json out.json] [--update BENCHMARKS.md]
    python3 tools/bench/bazel_bench.py --from-json a.json,b.json --update BENCHMARKS.md   # several runs, one table

For each size N it generates (tools/gen, seed 1) a C++-only program under bench/gen/cN
(rules_thinlto's `app` and Bazel's own `app_native`, same libraries) and, for the `mixed`
variant, a C++/Rust program under bench/gen/mN. Then, for each variant, interleaved round-robin
so that machine noise spreads over all of them:

  cold          `bazel clean`, then `bazel build` (warm server; analysis included), with
                `--profile`: critical path, LTO phase, index action, backend actions, all
                action time are read from it. No build writes an execution log: it lists
                every input of every action with its digest, and inflated the very times
                being measured (by 25 s, for a design that declared all bitcode per backend).
  leaf edit     one hot function body in a leaf module changes; rebuild; backends re-run
                (counted from that build's profile)
  header edit   the inline function of common/tune.h, which every module uses, changes;
                rebuild; backends re-run. Both edits are undone afterwards.
  runtime       the program's workload, median of 5 runs (first round only)
  inputs        declared bitcode bytes per backend (from the plan) against every backend
                declaring all bitcode (first round only)
  index         rules_thinlto's index action re-run outside Bazel under /usr/bin/time: wall
                time and peak memory, lld included (first round only)
  helper share  the helper's own time (its runs minus the clang/lld they wait for, from
                THINLTO_TIMINGS) over all action time of the cold build: index, final link
                and every 4th backend replayed outside Bazel (first round only)
  in-process    for `mixed`: the same bitcode linked by lld's in-process ThinLTO from the
                manifest (median of 3), its runtime, and functions that differ from ours

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
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from thinlto_inspect import functions, inprocess_link_argv  # noqa: E402  (shared with the tests)


@dataclass
class Variant:
    program: str  # "c": C++-only, "m": mixed C++/Rust
    target: str  # `app` is rules_thinlto's cc_binary, `app_native` Bazel's
    flags: list
    ours: bool = field(default=False)
    lto_cache: bool = field(default=False)  # lld's ThinLTO cache (LTO_CACHE), emptied before each cold build


LTO_CACHE = os.path.join(tempfile.gettempdir(), "thinlto-bench-lto-cache")
VARIANTS = {
    "nolto": Variant("c", "app_native", ["-c", "opt"]),
    "inprocess": Variant("c", "app_native", ["-c", "opt", "--copt=-flto=thin", "--linkopt=-flto=thin",
                                             "--linkopt=-fuse-ld=lld", "--linkopt=-Wl,--thinlto-jobs=2"]),
    # The same, with lld's ThinLTO cache: after an edit only changed modules are recompiled.
    "inprocess_cache": Variant("c", "app_native", ["-c", "opt", "--copt=-flto=thin", "--linkopt=-flto=thin",
                                                   "--linkopt=-fuse-ld=lld", "--linkopt=-Wl,--thinlto-jobs=2",
                                                   "--linkopt=-Wl,--thinlto-cache-dir=" + LTO_CACHE,
                                                   "--sandbox_writable_path=" + LTO_CACHE], lto_cache=True),
    "native": Variant("c", "app_native", ["--config=thinlto", "--linkopt=-fuse-ld=lld"]),
    "packed": Variant("c", "app", ["--config=thinlto"], ours=True),
    # The same, its backends in persistent workers (the shipped default locally: they compile
    # through a clang fork server); with --policy local, everything else runs local too.
    "worker": Variant("c", "app", ["--config=thinlto", "--strategy=ThinLtoBackend=worker"], ours=True),
    "mixed": Variant("m", "app", ["--config=thinlto"], ours=True),
}
# Sandbox policies, the same for every variant of a table (--policy): `sandboxed`, every action
# in Bazel's sandbox, rules_thinlto's ThinLTO actions too (they are tagged no-sandbox, and the
# backends supports-workers); `local`, every action unsandboxed, in plain processes unless a
# variant names a strategy; `shipped`, each as it ships (ours unsandboxed, backends in
# workers, everything else sandboxed: not like for like).
POLICIES = {
    "sandboxed": ["--modify_execution_info=ThinLto.*=-no-sandbox", "--spawn_strategy=sandboxed"],
    "local": ["--spawn_strategy=local"],
    "shipped": [],
}
# Progress messages of the actions, as the profile names them.
INDEX_ACTIONS = ("ThinLTO thin link", "LTO indexing")
BACKEND_ACTIONS = ("ThinLTO backend", "LTO Backend Compile")
LINK_ACTIONS = ("ThinLTO final link", "Linking")


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
        if args[0] in ("build", "info", "aquery"):
            args = (args[0], f"--repo_env=THINLTO_HELPER={self.helper}", *args[1:])
        proc = subprocess.run(["bazel", f"--output_base={self.output_base}", *args], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and proc.returncode != 0:
            sys.exit(f"bazel {' '.join(args)} failed:\n{proc.stdout[-5000:]}")
        return proc.stdout

    def timed_build(self, *args):
        start = time.monotonic()
        self("build", *args)
        return time.monotonic() - start


def profile_stats(path):
    """Action times from a Bazel JSON trace profile (`--noslim_profile`)."""
    data = json.loads(Path(path).read_text())
    events = [e for e in (data["traceEvents"] if isinstance(data, dict) else data) if e.get("ph") == "X"]
    actions = [e for e in events if e.get("cat") == "action processing"]

    def of(prefixes):
        return [e for e in actions if e["name"].startswith(prefixes)]

    backend_events = of(BACKEND_ACTIONS)
    backends = sorted(e["dur"] / 1e6 for e in backend_events)
    slowest = max(backend_events, key=lambda e: e["dur"], default=None)
    index = of(INDEX_ACTIONS)
    link = of(LINK_ACTIONS)
    lto_phase = None
    if index and link:
        lto_phase = (max(e["ts"] + e["dur"] for e in link) - min(e["ts"] for e in index)) / 1e6
    return {
        "critical_path": sum(e["dur"] for e in events if e.get("cat") == "critical path component") / 1e6,
        "action_time": sum(e["dur"] for e in actions) / 1e6,
        "index_action": sum(e["dur"] for e in index) / 1e6 if index else None,
        "backend_count": len(backends),
        "backend_sum": sum(backends),
        "backend_median": statistics.median(backends) if backends else None,
        "backend_max": backends[-1] if backends else None,
        "lto_phase": lto_phase,
        # The LTO phase's own chain, which bounds it given enough machines: the thin link, the
        # slowest backend (named: its module), the final link (the last link action).
        "slowest_backend": slowest["name"].split(" ")[-1] if slowest else None,
        "final_link": max(link, key=lambda e: e["ts"])["dur"] / 1e6 if link else None,
    }


def generate(n, cpp_only):
    pkg = f"bench/gen/{'c' if cpp_only else 'm'}{n}"
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "thinlto-gen", "--", "--modules", str(n),
           "--rust-crates", str(max(2, n // 50)), "--seed", "1", "--out", pkg]
    subprocess.run(cmd + (["--cpp-only"] if cpp_only else []), cwd=ROOT, check=True)
    return pkg


def edit(path, pattern, delta):
    """Adds `delta` to the one integer constant `pattern` (a regex with the constant as group 2) finds."""
    text = path.read_text()
    new, count = re.subn(pattern, lambda m: f"{m.group(1)}{int(m.group(2)) + delta}u", text)
    assert count == 1, f"{pattern} matched {count} times in {path}"
    path.write_text(new)


# The first hot function of the first module of the lowest library, and the shared inline function.
LEAF = ("lib000/m0000.cc", r"(uint32_t m0000_h0\(uint32_t x\) \{ return [^\n]*?)(\d+)u")
HEADER = ("common/tune.h", r"(\{ return a \^ )(\d+)u")


def plan_bytes(bin_dir, pkg, execroot):
    """Bitcode bytes each backend declares: its module and its pack (the imports plus a header
    line each)."""
    plan = json.loads((bin_dir / pkg / "app.lto" / "plan.json").read_text())
    size = {m["module"]: (execroot / m["module"]).stat().st_size for m in plan["modules"]}

    def declared(m):
        return size[m["module"]] + (execroot / (m["object"] + ".pack")).stat().st_size

    per_backend = sorted(declared(m) for m in plan["modules"])
    most = max(plan["modules"], key=lambda m: len(m["imports"]))
    return {
        "imports": {m["module"]: len(m["imports"]) for m in plan["modules"]},
        "most_imports": (most["module"], len(most["imports"])),
        "backends": len(per_backend),
        "median_bytes": statistics.median(per_backend),
        "p99_bytes": per_backend[min(len(per_backend) - 1, int(0.99 * len(per_backend)))],
        "total_bytes": sum(per_backend),
        "naive_bytes": sum(size.values()) * len(per_backend),
    }


def runtime(binary):
    times = []
    for _ in range(5):
        start = time.monotonic()
        subprocess.run([str(binary)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def index_rerun(bazel, flags, target, execroot, scratch):
    """The index action again (its command line from aquery), outside Bazel: wall time and peak
    RSS (lld included), and the helper's own part of it (THINLTO_TIMINGS).

    It rewrites the per-module files in place with the same bytes, so it runs last in a round."""
    out = bazel("aquery", *flags, "--include_artifacts=false", "--output=jsonproto", f'mnemonic("ThinLtoIndex", {target})')
    argv = json.JSONDecoder().raw_decode(out, out.index("{"))[0]["actions"][0]["arguments"]
    argv = [str(bazel.helper), *argv[1:]]
    # Paths the helper takes are exec-root relative: a directory of the bench's own there.
    rerun = "bazel-out/bench-index-rerun"
    (execroot / rerun).mkdir(parents=True, exist_ok=True)
    for opt, dest in (("--plan", "plan.json"), ("--final-link-params", "final.params")):
        argv[argv.index(opt) + 1] = f"{rerun}/{dest}"
    timings = Path(scratch) / "index-timings.jsonl"
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *argv],
                         cwd=execroot, check=True, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "THINLTO_TIMINGS": str(timings)}).stderr
    wall, rss_kb = out.strip().splitlines()[-1].split()
    t = json.loads(timings.read_text())
    return {"wall": float(wall), "peak_mb": int(rss_kb) / 1024, "own_s": t["total_s"] - t["tools_s"]}


def inprocess_link(execroot, lto_dir, out):
    """lld's in-process ThinLTO over the inputs of the manifest (as tests/e2e/test_same_code.py)."""
    manifest = json.loads((lto_dir / "manifest.json").read_text())
    argv = inprocess_link_argv(manifest, out, [f"-Wl,--thinlto-jobs={os.cpu_count()}"])
    start = time.monotonic()
    subprocess.run(argv, cwd=execroot, check=True)
    return time.monotonic() - start


def helper_share(bazel, flags, target, execroot, index_own, cold_action_time, scratch):
    """The helper's own time (its runs minus the clang/lld they wait for) over all action time.

    Bazel passes no --action_env to rules_thinlto's actions (they do not use the shell's
    environment), so the runs are replayed outside Bazel with THINLTO_TIMINGS: the final link
    and every 4th backend (with `main`'s, the largest), outputs redirected to a scratch
    directory; the index run is index_rerun's. Backends are extrapolated to all of them."""
    out = bazel("aquery", *flags, "--include_artifacts=false", "--output=jsonproto",
                f'mnemonic("ThinLto(Backend|Link)", {target})')
    actions = json.JSONDecoder().raw_decode(out, out.index("{"))[0]["actions"]  # Bazel's messages follow
    backends = [a["arguments"] for a in actions if a["mnemonic"] == "ThinLtoBackend"]
    links = [a["arguments"] for a in actions if a["mnemonic"] == "ThinLtoLink"]
    sample = backends[::4]
    sample += [b for b in backends if b not in sample and b[b.index("--module") + 1].endswith("/main.o")]
    timings = Path(scratch) / "timings.jsonl"
    env = {**os.environ, "THINLTO_TIMINGS": str(timings)}
    replay = execroot / "bench-replay"
    for k, argv in enumerate(sample):
        argv = list(argv)
        for opt in ("--out", "--unused-inputs-list"):
            if opt in argv:
                argv[argv.index(opt) + 1] = f"bench-replay/{k}{opt.replace('-', '_')}"
        argv[0] = str(bazel.helper)
        subprocess.run(argv, cwd=execroot, env=env, check=True, stdout=subprocess.DEVNULL)
    backend_own = [json.loads(line) for line in timings.read_text().splitlines()]
    timings.unlink()
    for argv in links:
        subprocess.run([str(bazel.helper), *argv[1:]], cwd=execroot, env=env, check=True, stdout=subprocess.DEVNULL)
    link_own = [json.loads(line) for line in timings.read_text().splitlines()]
    shutil.rmtree(replay, ignore_errors=True)

    def own(lines):
        return sum(x["total_s"] - x["tools_s"] for x in lines)

    per_backend = own(backend_own) / len(backend_own)
    total = index_own + own(link_own) + per_backend * len(backends)
    return {"helper_runs_timed": len(backend_own) + len(link_own) + 1, "per_backend_ms": 1000 * per_backend,
            "helper_own_s": total, "share": total / cold_action_time}


def one_round(bazel, n, v, variant, pkg, rep, r, scratch, header_edit, share):
    target = f"//{pkg}:{variant.target}"
    flags = variant.flags
    bazel("clean")
    if variant.lto_cache:
        shutil.rmtree(LTO_CACHE, ignore_errors=True)
        os.makedirs(LTO_CACHE)
    r["cold"].append(bazel.timed_build(*flags, f"--profile={scratch}/cold.json", "--noslim_profile", target))
    r["profile"].append(profile_stats(f"{scratch}/cold.json"))
    bin_dir = Path(bazel("info", *flags, "bazel-bin").strip().splitlines()[-1])
    execroot = Path(bazel("info", "execution_root").strip().splitlines()[-1])
    if rep == 0:
        r["runtime"] = runtime(bin_dir / pkg / variant.target)
        if variant.ours:
            r["inputs"] = plan_bytes(bin_dir, pkg, execroot)
        if v.split("/")[0] == "mixed":
            lto_dir = bin_dir / pkg / "app.lto"
            ref = Path(scratch) / "app_inprocess"
            r["inprocess_link"] = statistics.median(inprocess_link(execroot, lto_dir, ref) for _ in range(3))
            r["inprocess_runtime"] = runtime(ref)
            ours, theirs = functions(bin_dir / pkg / "app"), functions(ref)
            r["functions"] = len(ours)
            r["functions_differing"] = sum(1 for f in set(ours) | set(theirs) if ours.get(f) != theirs.get(f))

    for name, (file, pattern) in {"leaf": LEAF, "header": HEADER}.items():
        if name == "header" and not header_edit:
            continue
        path = ROOT / pkg / file
        edit(path, pattern, +1)
        try:
            prof = f"{scratch}/{name}.json"
            r[name].append(bazel.timed_build(*flags, f"--profile={prof}", "--noslim_profile", target))
        finally:
            edit(path, pattern, -1)
        stats = profile_stats(prof)
        r[f"{name}_backends"].append(stats["backend_count"])
        r.setdefault(f"{name}_profile", []).append(stats)

    if rep == 0 and variant.ours:
        bazel("build", *flags, target)  # back to the unedited program
        r["index"] = index_rerun(bazel, flags, target, execroot, scratch)
        if share:
            r["helper"] = helper_share(bazel, flags, target, execroot, r["index"]["own_s"],
                                       r["profile"][0]["action_time"], scratch)
    print(f"N={n} {v} round {rep + 1}: cold {r['cold'][-1]:.1f} s, leaf {r['leaf'][-1]:.1f} s "
          f"({r['leaf_backends'][-1]} backends)"
          + (f", header {r['header'][-1]:.1f} s ({r['header_backends'][-1]} backends)" if header_edit else ""),
          file=sys.stderr, flush=True)


def med(xs, fmt="{:.1f} s"):
    xs = [x for x in xs if x is not None]
    return fmt.format(statistics.median(xs)) if xs else "–"


def ordered(results):
    """Rows by size, then policy, then in the order of VARIANTS."""
    order, policies = list(VARIANTS), list(POLICIES)

    def key(kv):
        n, v = kv[0]
        name, _, policy = v.partition("/")
        return (n, policies.index(policy) if policy else -1, order.index(name) if name in order else len(order))
    return sorted(results.items(), key=key)


def markdown(results):
    rows = ordered(results)
    out = ["Each cell is the median of the row's rounds; variants ran interleaved, round by round.", "",
           "| N | variant | rounds | cold | critical path | LTO phase | leaf edit (backends re-run) | "
           "header edit (backends re-run) | runtime |",
           "|---|---|---|---|---|---|---|---|---|"]
    for (n, v), r in rows:
        p = r["profile"]
        header = f"{med(r['header'])} ({med(r['header_backends'], '{:.0f}')})" if r["header"] else "–"
        out.append(f"| {n:,} | {v} | {len(r['cold'])} | {med(r['cold'])} | {med([x['critical_path'] for x in p])} | "
                   f"{med([x['lto_phase'] for x in p])} | {med(r['leaf'])} ({med(r['leaf_backends'], '{:.0f}')}) | "
                   f"{header} | {r['runtime']:.2f} s |")
    phased = [(k, r) for k, r in rows if r.get("leaf_profile") and r["profile"][0]["lto_phase"] is not None]
    if phased:
        # The compile phase is the same work in every variant and varies with the machine;
        # the LTO phase is where the designs differ.
        out += ["", "| N | variant | LTO phase (thin link start to final link end): cold / leaf edit / header edit |",
                "|---|---|---|"]
        for (n, v), r in phased:
            lto = [med([x["lto_phase"] for x in r.get(k) or []]) for k in ("profile", "leaf_profile", "header_profile")]
            out.append(f"| {n:,} | {v} | {' / '.join(lto)} |")
    out += ["", "| N | variant | index action | backend actions: count / sum / median / max | all action time | "
                "index re-run: wall / peak RSS | helper's own time (share of all action time) |",
            "|---|---|---|---|---|---|---|"]
    for (n, v), r in rows:
        p = r["profile"]
        idx = r.get("index")
        helper = r.get("helper")
        out.append(
            f"| {n:,} | {v} | {med([x['index_action'] for x in p])} | "
            f"{med([x['backend_count'] for x in p], '{:.0f}')} / {med([x['backend_sum'] for x in p])} / "
            f"{med([x['backend_median'] for x in p], '{:.3f} s')} / "
            f"{med([x['backend_max'] for x in p])} | {med([x['action_time'] for x in p])} | "
            + (f"{idx['wall']:.2f} s / {idx['peak_mb']:.0f} MB | " if idx else "– | ")
            + (f"{helper['helper_own_s']:.2f} s ({100 * helper['share']:.2f}%; "
               f"{helper['per_backend_ms']:.1f} ms per backend) |" if helper else "– |"))
    ours = [(k, r) for k, r in rows if "inputs" in r]
    if ours:
        out += ["", "| N | variant | backend bitcode bytes: median / p99 / total | naive (all bitcode each) | share |",
                "|---|---|---|---|---|"]
        for (n, v), r in ours:
            i = r["inputs"]
            out.append(f"| {n:,} | {v} | {i['median_bytes'] / 1e3:.1f} KB / {i['p99_bytes'] / 1e3:.1f} KB / "
                       f"{i['total_bytes'] / 1e6:.1f} MB | {i['naive_bytes'] / 1e6:,.0f} MB | "
                       f"{100 * i['total_bytes'] / i['naive_bytes']:.2f}% |")
    chained = [(k, r) for k, r in rows if r["profile"][0].get("final_link") and r["profile"][0]["index_action"]]
    if chained:
        out += ["", "| N | variant | LTO chain (cold): thin link + slowest backend + final link | slowest backend (its imports) "
                    "| module importing the most |", "|---|---|---|---|---|"]
        for (n, v), r in chained:
            p = r["profile"]
            slow = [x["backend_max"] for x in p]
            chain = [x["index_action"] + x["backend_max"] + x["final_link"] for x in p]
            imports = r.get("inputs", {}).get("imports", {})
            names = sorted({x["slowest_backend"] for x in p})
            counts = {nm: next((c for m, c in imports.items() if m.endswith(nm)), None) for nm in names}
            named = ", ".join(nm.rsplit("/", 1)[-1] + (f" ({c})" if c is not None else "") for nm, c in counts.items())
            most = r.get("inputs", {}).get("most_imports")
            out.append(f"| {n:,} | {v} | {med([x['index_action'] for x in p])} + {med(slow)} + "
                       f"{med([x['final_link'] for x in p])} = {med(chain)} | {named} | "
                       + (f"{most[0].rsplit('/', 1)[-1]} ({most[1]}) |" if most else "– |"))
    mixed = [(k, r) for k, r in rows if "inprocess_link" in r]
    if mixed:
        out += ["", "| N | mixed C++/Rust: LTO phase (ours) | in-process link alone (same bitcode) | "
                    "runtime ours / in-process | functions differing |", "|---|---|---|---|---|"]
        for (n, v), r in mixed:
            out.append(f"| {n:,} | {med([x['lto_phase'] for x in r['profile']])} | {r['inprocess_link']:.1f} s | "
                       f"{r['runtime']:.2f} / {r['inprocess_runtime']:.2f} s | "
                       f"{r['functions_differing']} of {r['functions']} |")
    return "\n".join(out) + "\n"


def tool_version(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "not found"


def bazel_version():
    version = tool_version(["bazel", "--version"])
    if "no_version" in version:  # Debian's bazel-bootstrap does not know its version; its package does
        package = tool_version(["dpkg-query", "-W", "-f", "${Version}", "bazel-bootstrap"])
        version = f"bazel {package.split('+')[0]} (Debian bazel-bootstrap)"
    return version


def machine():
    """What the numbers were measured on: `machine` of the JSON."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    return {
        "cpus": os.cpu_count(), "cpu": cpu, "memory_gib": round(mem, 1), "kernel": os.uname().release,
        "load_before": Path("/proc/loadavg").read_text().split()[:3],
        "bazel": bazel_version(), "clang": tool_version(["clang-22", "--version"]),
        "rustc": tool_version(["rustc", "--version"]),
    }


def machine_line(m):
    return (f"Machine: {m['cpus']} × {m['cpu']}, {m['memory_gib']} GiB, Linux {m['kernel']}; {m['bazel']}, "
            f"{m['clang']}, {m['rustc']}.")


BEGIN, END = "<!-- bazel_bench: begin -->", "<!-- bazel_bench: end -->"


def update(doc, results, runs):
    """Replaces the part of `doc` between the bazel_bench markers with the tables."""
    text = Path(doc).read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{doc} has no {BEGIN} ... {END} section to replace")
    loads = "; ".join(" ".join(r["machine"]["load_before"]) for r in runs)
    block = ["", *(f"    {r['command']}" for r in runs), "", *sorted({machine_line(r["machine"]) for r in runs}),
             f"Load average (1, 5, 15 min) before each command: {loads}.", "", markdown(results)]
    head, rest = text.split(BEGIN, 1)
    Path(doc).write_text(head + BEGIN + "\n".join(block) + rest[rest.index(END):])


def load(paths):
    """Results and run records from earlier --json files."""
    results, runs = {}, []
    for path in paths:
        data = json.loads(Path(path).read_text())
        if "run" not in data:
            sys.exit(f"{path}: no run record (written by an older bazel_bench.py)")
        runs.append(data["run"])
        for key, r in data["results"].items():
            n, v = key.split("/", 1)
            if (int(n), v) in results:
                # The same variant in another command: its rounds join this one's; the
                # once-per-command measurements (runtime, inputs, index re-run) stay the first's.
                old = results[(int(n), v)]
                for name, value in r.items():
                    if isinstance(value, list) and isinstance(old.get(name, []), list):
                        old[name] = old.get(name, []) + value
            else:
                results[(int(n), v)] = r
    return results, runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--policy", default="shipped",
                    help="comma-separated sandbox policies (" + ", ".join(POLICIES) + "); with more than one, "
                    "each variant runs under each, named variant/policy")
    ap.add_argument("--no-header-edit", action="store_true", help="skip the inline-header edit (a near-full rebuild)")
    ap.add_argument("--no-helper-share", action="store_true", help="skip replaying helper runs to time the helper")
    ap.add_argument("--output-base", default=os.path.join(tempfile.gettempdir(), "thinlto-bench-output-base"))
    ap.add_argument("--json", default=None, help="write raw results here")
    ap.add_argument("--markdown", default=None, help="write the tables here (they are printed too)")
    ap.add_argument("--update", metavar="DOC", default=None,
                    help="replace the bazel_bench section of DOC (e.g. BENCHMARKS.md) with the tables")
    ap.add_argument("--from-json", metavar="FILES", default=None,
                    help="measure nothing: render comma-separated --json files of earlier runs, together")
    args = ap.parse_args()
    if args.from_json:
        results, runs = load(args.from_json.split(","))
        print(markdown(results))
        if args.update:
            update(args.update, results, runs)
        return
    kept, skip = [], False
    for a in sys.argv[1:]:  # the measuring command, without where it wrote its results
        if skip or a.startswith(("--json", "--markdown", "--update")):
            skip = not skip and "=" not in a
            continue
        kept.append(a)
    command = "python3 tools/bench/bazel_bench.py " + " ".join(kept)
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        sys.exit(f"unknown variants {sorted(unknown)}; known: {', '.join(VARIANTS)}")
    policies = args.policy.split(",")
    if set(policies) - set(POLICIES):
        sys.exit(f"unknown policies {sorted(set(policies) - set(POLICIES))}; known: {', '.join(POLICIES)}")
    if policies != ["shipped"]:
        for v in list(variants):
            base = VARIANTS[v]
            for policy in policies:
                VARIANTS[f"{v}/{policy}"] = Variant(base.program, base.target, base.flags + POLICIES[policy], base.ours, base.lto_cache)
        variants = [f"{v}/{policy}" for policy in policies for v in variants]
    workdir = tempfile.mkdtemp(prefix="thinlto-bench-")
    bazel = Bazel(args.output_base, build_helper(workdir))
    run = {"command": command, "machine": machine()}
    results = {}
    for n in [int(s) for s in args.sizes.split(",")]:
        pkgs = {p: generate(n, cpp_only=(p == "c")) for p in sorted({VARIANTS[v].program for v in variants})}
        for v in variants:
            results[(n, v)] = {k: [] for k in ("cold", "profile", "leaf", "leaf_backends", "header", "header_backends")}
        for rep in range(args.reps):
            for v in variants:
                with tempfile.TemporaryDirectory() as scratch:
                    one_round(bazel, n, v, VARIANTS[v], pkgs[VARIANTS[v].program], rep, results[(n, v)], scratch,
                              not args.no_header_edit, not args.no_helper_share)
    bazel("shutdown")
    shutil.rmtree(workdir, ignore_errors=True)
    table = markdown(results)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"run": run, "results": {f"{n}/{v}": r for (n, v), r in results.items()}}, indent=1))
    if args.update:
        update(args.update, results, [run])


if __name__ == "__main__":
    main()
