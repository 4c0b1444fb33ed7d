"""Reading what a rules_thinlto build did: a binary's functions and whom they call, the
actions Bazel ran, what an import pack holds.

A module for the tests (tests/e2e, tests/buck2, the helper's Rust tests), the benchmarks and
tools/demo.sh, and a command line:

    python3 tools/thinlto_inspect.py functions BINARY     # JSON: name -> normalized disassembly
    python3 tools/thinlto_inspect.py actions EXEC_LOG      # actions by mnemonic, from --execution_log_json_file
    python3 tools/thinlto_inspect.py pack PACK             # the members of an import pack and their sizes
"""

import collections
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

OBJDUMP = os.environ.get("THINLTO_OBJDUMP", "llvm-objdump-22")


def run(argv, **kwargs):
    """Runs a program; returns its stdout, or fails the test with what it printed."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{argv} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


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


def call_sites(fns, callee):
    """Functions of the binary that still call (or tail-call) `callee`; mangled names contain it too."""
    return sorted(f for f, body in fns.items() if any(callee in c for c in calls(body)))


def inprocess_link_argv(manifest, out, extra=()):
    """lld's in-process ThinLTO over the inputs of a rules_thinlto manifest (parsed JSON), as one command line."""
    argv = [manifest["linker"]["driver"], *manifest["linker"]["flags"], "-flto=thin", "-O2", *extra]
    for i in manifest["inputs"]:
        if i["kind"] == "start_lib":
            argv += ["-Wl,--start-lib", *[m["path"] for m in i["members"]], "-Wl,--end-lib"]
        elif i["kind"] == "library":
            argv.append(i["flag"])
        else:
            argv.append(i["path"])
    return argv + manifest["linker"]["post_flags"] + ["-o", str(out)]


def execution_log(path):
    """The spawns Bazel executed (or took from a cache), from --execution_log_json_file
    (a stream of JSON objects, not one document)."""
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


def expand_params(argv, execroot):
    """A spawn's command line (an execution log's `commandArgs`) with its `@FILE` arguments
    replaced by the lines of FILE: Bazel runs each backend as `thinlto backend @PARAMS` (so that
    a persistent worker can run it), and the param file stays in the exec root."""
    out = []
    for i, a in enumerate(argv):
        if i > 0 and a.startswith("@") and not a.startswith("@@"):
            out += (Path(execroot) / a[1:]).read_text().splitlines()
        else:
            out.append(a)
    return out


def read_pack(path):
    """The members of an import pack (tools/thinlto/src/pack.rs), as {exec path: bytes}, in
    order; format 2's digests are checked."""
    data = Path(path).read_bytes()
    header, sep, body = data.partition(b"\n\n")
    assert sep, f"{path}: no end of header"
    lines = header.decode().split("\n")
    version = {"thinlto-pack 1": 1, "thinlto-pack 2": 2}.get(lines[0])
    assert version, f"{path}: {lines[0]!r}"
    members, offset = {}, 0
    for line in lines[1 + (version == 2):]:  # format 2: then "<sha256> <module>"
        if version == 2:
            size, digest, name = line.split(" ", 2)
        else:
            (size, name), digest = line.split(" ", 1), None
        members[name] = body[offset:offset + int(size)]
        assert digest is None or hashlib.sha256(members[name]).hexdigest() == digest, f"{path}: {name} does not match its digest"
        offset += int(size)
    assert offset == len(body), f"{path}: {len(body) - offset} bytes unaccounted for"
    return members


def _main(argv):
    what, path = argv
    if what == "functions":
        json.dump(functions(path), sys.stdout)
    elif what == "actions":
        seen = collections.Counter(
            s["mnemonic"] + (" (cached)" if s.get("remoteCacheHit") else "") for s in execution_log(path))
        for mnemonic, n in sorted(seen.items()):
            print(f"  {n:3d}  {mnemonic}")
        if not seen:
            print("  (nothing: everything was up to date)")
    elif what == "pack":
        members = read_pack(path)
        print(f"  {path}: {Path(path).stat().st_size} bytes, {len(members)} member(s)")
        for name, data in members.items():
            print(f"    {len(data):7d}  {name}")
    else:
        raise SystemExit(f"unknown command {what!r}: functions, actions or pack")


if __name__ == "__main__":
    _main(sys.argv[1:])
