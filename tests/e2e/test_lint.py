"""Every Starlark file passes buildifier's lint (buildifier from npm @bazel/buildifier)."""

import subprocess

from conftest import ROOT

BUILDIFIER = ROOT / "third_party/offline/node/node_modules/.bin/buildifier"


def starlark_files():
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in tracked if f.endswith((".bzl", ".bazel")) or f.split("/")[-1] in ("BUILD", "WORKSPACE", "BUCK", "PACKAGE")]


def test_buildifier_lint_and_format():
    files = starlark_files()
    assert len(files) > 5
    proc = subprocess.run([str(BUILDIFIER), "--lint=warn", "--warnings=all", "--mode=check", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
