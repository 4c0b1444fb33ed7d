"""The capture of rustc's link (buck2/private/capture_rustc_link.py), without buck2: it keeps
what rustc hands its linker, classified, and fails on what the thin link could not keep."""

import json
import os
import subprocess
import sys

import pytest

from buck2_project import ROOT

CAPTURE = ROOT / "buck2/private/capture_rustc_link.py"


def capture(tmp_path, args):
    work = tmp_path / "work"
    out = tmp_path / "out"
    record = tmp_path / "record.json"
    proc = subprocess.run([sys.executable, str(CAPTURE), "--out-dir", str(out), "--record", str(record), *args],
                          cwd=work, capture_output=True, text=True)
    return proc, out, record


@pytest.fixture
def inputs(tmp_path):
    """What rustc hands its linker: its objects in a temporary directory, an rlib of the build, std's rlib."""
    work = tmp_path / "work"
    (work / "buck-out/deps").mkdir(parents=True)
    tmp = tmp_path / "rustc-tmp"
    tmp.mkdir()
    sysroot = tmp_path / "sysroot/lib"
    sysroot.mkdir(parents=True)
    (tmp / "symbols.o").write_bytes(b"\x7fELF" + b"\0" * 60)
    (work / "main.main.1-cgu.0.rcgu.o").write_bytes(b"BC\xc0\xde" + b"\0" * 60)
    (work / "buck-out/deps/libdep-1.rlib").write_bytes(b"!<arch>\n")
    (sysroot / "libstd-2.rlib").write_bytes(b"!<arch>\nstd")
    return [
        "-m64", str(tmp / "symbols.o"), "main.main.1-cgu.0.rcgu.o", "-Wl,--as-needed", "-Wl,-Bstatic",
        "buck-out/deps/libdep-1.rlib", str(sysroot / "libstd-2.rlib"), "-Wl,-Bdynamic", "-lc",
        "-B/x/gcc-ld", "-fuse-ld=lld", "-Wl,-plugin-opt=O2,-plugin-opt=mcpu=x86-64", "-L", str(sysroot),
        "-L/x/raw-dylibs", "-o", "out/main-tmp", "-Wl,--gc-sections", "-pie", "-nodefaultlibs", "@buck-out/args.txt",
    ]


def test_capture_keeps_what_rustc_links(tmp_path, inputs):
    (tmp_path / "work/out").mkdir()
    proc, out, record = capture(tmp_path, inputs)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(record.read_text())
    assert r["version"] == 1
    assert r["args"] == [
        {"kind": "flag", "value": "-m64"},
        {"kind": "object", "name": "symbols.o", "bitcode": False},
        {"kind": "object", "name": "main.main.1-cgu.0.rcgu.o", "bitcode": True},
        {"kind": "flag", "value": "-Wl,--as-needed"},
        {"kind": "flag", "value": "-Wl,-Bstatic"},
        {"kind": "rlib", "name": "libdep-1.rlib"},
        {"kind": "sysroot", "name": "libstd-2.rlib"},
        {"kind": "flag", "value": "-Wl,-Bdynamic"},
        {"kind": "flag", "value": "-lc"},
        {"kind": "flag", "value": "-Wl,--gc-sections"},
        {"kind": "flag", "value": "-pie"},
        {"kind": "flag", "value": "-nodefaultlibs"},
        {"kind": "linker_args_file", "path": "buck-out/args.txt"},
    ]
    assert sorted(os.listdir(out / "obj")) == ["main.main.1-cgu.0.rcgu.o", "symbols.o"]
    assert (out / "sysroot/libstd-2.rlib").read_bytes() == b"!<arch>\nstd"
    assert (tmp_path / "work/out/main-tmp").read_bytes() == b""


@pytest.mark.parametrize("extra, message", [
    (["-Wl,--whole-archive"], "applies to the inputs next to it"),
    (["stray.txt"], "unexpected link input stray.txt"),
    (["@/tmp/rustcXYZ/linker-arguments"], "in a file"),
    (["buck-out/deps/libnative.a"], "only rlibs of dependencies"),
])
def test_capture_fails_on_what_it_cannot_keep(tmp_path, inputs, extra, message):
    (tmp_path / "work/out").mkdir()
    (tmp_path / "work/buck-out/deps/libnative.a").write_bytes(b"!<arch>\n")
    proc, _, _ = capture(tmp_path, inputs + extra)
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr
