"""Fixtures for the end-to-end tests: real Bazel 4.2.3, real clang-22, lld-22 and rustc.

Every test runs Bazel in the repository's own workspace (the examples live there) with
`--config=thinlto` or without it, and reads what Bazel produced: binaries, the helper's
plan and manifest, and Bazel's execution log.
"""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OBJDUMP = os.environ.get("THINLTO_OBJDUMP", "llvm-objdump-22")
CLANG = os.environ.get("THINLTO_CLANG", "clang-22")


def bazel(*args, check=True):
    """Runs bazel in the workspace; returns the completed process (stdout+stderr in .stdout)."""
    proc = subprocess.run(
        ["bazel", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=1800,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"bazel {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}")
    return proc


def bazel_info(key, *flags):
    return bazel("info", *flags, key).stdout.strip().splitlines()[-1]


def run(argv, **kwargs):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def execution_log(path):
    """The spawns Bazel executed (or took from a cache), from --execution_log_json_file."""
    text = Path(path).read_text()
    decoder = json.JSONDecoder()
    spawns, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return spawns
        obj, i = decoder.raw_decode(text, i)
        spawns.append(obj)


_COMMENT = re.compile(r"\s+# .*$")
_HEX = re.compile(r"-?0x[0-9a-f]+|\b[0-9a-f]{4,}\b")


def functions(binary):
    """Every function of a binary: name -> its disassembly with layout-dependent parts removed.

    Local symbols can share a name (a Rust generic instantiated both in a crate and in
    libstd), so a name maps to the sorted list of its bodies, joined; link order decides
    which comes first in the binary, not the code.

    Addresses, RIP-relative offsets and objdump's nearest-symbol comments depend on where
    things landed, not on the code, so they are blanked; padding (int3, nop) is dropped.
    """
    out = run([OBJDUMP, "-d", "--no-show-raw-insn", "--no-leading-addr", str(binary)])
    bodies, name, body = {}, None, []
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]* ?<(.+)>:$", line.strip())
        if m:
            if name is not None:
                bodies.setdefault(name, []).append(body)
            name, body = m.group(1), []
            continue
        line = line.strip()
        if name is None or not line or line.startswith("Disassembly of section"):
            continue
        insn = _HEX.sub("#", _COMMENT.sub("", line))
        if insn.startswith(("int3", "nop")):
            continue
        body.append(insn)
    if name is not None:
        bodies.setdefault(name, []).append(body)
    return {n: [i for b in sorted(bs) for i in b + ["--"]][:-1] for n, bs in bodies.items()}


def calls(body):
    """Calls and tail calls to other functions (branches inside a function, `<f+#>`, are not)."""
    return [i for i in body if (i.startswith(("call", "addr32", "jmp"))) and "<" in i and "+#>" not in i]


def bin_dir(*flags):
    """The output directory of the configuration `flags` select (bazel-bin follows the last build)."""
    return Path(bazel_info("bazel-bin", *flags))


THINLTO = ("--config=thinlto",)


@pytest.fixture(scope="session")
def execroot():
    return Path(bazel_info("execution_root"))


def aquery_inputs(*args):
    """For each action `bazel aquery` selects: (its arguments, the exec paths of its inputs)."""
    d = json.loads(_aquery_json(args))
    fragments = {f["id"]: f for f in d.get("pathFragments", [])}

    def path(fid):
        parts = []
        while fid:
            f = fragments[fid]
            parts.append(f["label"])
            fid = f.get("parentId", 0)
        return "/".join(reversed(parts))

    artifacts = {a["id"]: path(a["pathFragmentId"]) for a in d.get("artifacts", [])}
    depsets = {s["id"]: s for s in d.get("depSetOfFiles", [])}

    def expand(ids, seen):
        out = []
        for i in ids:
            if i in seen:
                continue
            seen.add(i)
            s = depsets[i]
            out += [artifacts[a] for a in s.get("directArtifactIds", [])]
            out += expand(s.get("transitiveDepSetIds", []), seen)
        return out

    return [(a["arguments"], expand(a.get("inputDepSetIds", []), set())) for a in d.get("actions", [])]


def _aquery_json(args):
    out = subprocess.run(["bazel", "aquery", "--output=jsonproto", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise AssertionError(f"bazel aquery failed:\n{out.stderr[-4000:]}")
    return out.stdout
