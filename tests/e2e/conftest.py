"""Fixtures for the end-to-end tests: real Bazel 4.2.3, real clang-22, lld-22 and rustc.

Every test runs Bazel in the repository's own workspace (the examples live there) with
`--config=thinlto` or without it, and reads what Bazel produced: binaries, the helper's
plan and manifest, and Bazel's execution log.
"""

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from thinlto_inspect import call_sites, calls, execution_log, expand_params, functions, read_pack, run  # noqa: E402,F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[2]
CLANG = os.environ.get("THINLTO_CLANG", "clang-22")


@functools.cache
def prebuilt_helper():
    """The `thinlto` helper for tests that hand Bazel one (--repo_env=THINLTO_HELPER): the one
    $THINLTO_HELPER names, else built here by cargo (a clean checkout has none yet)."""
    given = os.environ.get("THINLTO_HELPER")
    if given:
        return Path(given)
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--quiet", "--bin", "thinlto", "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True,
        stdin=subprocess.DEVNULL,
        timeout=1800,
    )
    return ROOT / "target/release/thinlto"


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
