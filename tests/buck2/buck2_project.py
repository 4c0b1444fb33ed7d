"""What the Buck2 front end's tests share: finding buck2, the helper, a scratch project.

(Not a conftest.py: tools/test.sh runs tests/e2e, which has one, in the same pytest process.
The test modules import the fixtures they use; `project` is one scratch project, with its
own buck2 daemon, per test module.)

Needs a buck2 binary: $BUCK2, else `buck2` on PATH, else the copy built from facebook/buck2's
source beside the checkout (../shared/tools/buck2/buck2.xz, unpacked into
third_party/offline/buck2/). No package registry reachable here ships one, so without it
every test that runs buck2 is skipped, loudly; the others (lint, the capture script) run
regardless.

Everything runs in a scratch copy of the project (.buckconfig, PACKAGE, buck2/,
examples/mixed/, tests/shapes/, tests/shared/, tests/pgo/, tests/realcode/ with its vendored
crates), so tests never edit tracked files and never share a buck2 daemon or buck-out with
anyone; the daemon is killed when the session ends. The helper is $THINLTO_HELPER, or built
by cargo; it is copied to the scratch project's buck2/toolchains/bin/thinlto, the tracked
form the example toolchain uses.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

# A buck2 built from facebook/buck2's public source, beside the checkout on the machines
# this project is developed and tested on (no package registry ships buck2).
SHARED_BUCK2 = ROOT.parent / "shared/tools/buck2/buck2.xz"
NO_BUCK2 = (
    f"buck2 not found: no registry reachable here ships it; set BUCK2=/path/to/buck2, put buck2 on "
    f"PATH, or provide {SHARED_BUCK2} to run the Buck2 front end's tests"
)
THINLTO = ("-m", "thinlto")
VENDOR = ROOT / "tests/realcode/vendor"


def find_buck2():
    """buck2 from $BUCK2, else PATH, else the shared copy (unpacked into third_party/offline/)."""
    given = os.environ.get("BUCK2")
    if given:
        if not os.access(given, os.X_OK):
            pytest.fail(f"BUCK2={given} is not an executable file")
        return given
    on_path = shutil.which("buck2")
    if on_path:
        return on_path
    if SHARED_BUCK2.is_file():
        dest = ROOT / "third_party/offline/buck2/buck2"
        if not dest.exists() or dest.stat().st_mtime < SHARED_BUCK2.stat().st_mtime:
            print(f"\nsetup: unpacking {SHARED_BUCK2} to {dest}", file=sys.stderr)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_suffix(".tmp")
            with open(tmp, "wb") as out:
                subprocess.run(["xz", "-dc", str(SHARED_BUCK2)], stdout=out, check=True)
            tmp.chmod(0o755)
            tmp.replace(dest)
        return str(dest)
    return None


@pytest.fixture(scope="module")
def buck2_bin():
    b = find_buck2()
    if not b:
        print(f"\n*** SKIPPING the Buck2 tests: {NO_BUCK2} ***", file=sys.stderr)
        pytest.skip(NO_BUCK2)
    return b


_built_helper = []


@pytest.fixture(scope="module")
def helper():
    given = os.environ.get("THINLTO_HELPER")
    if given:
        return given
    if _built_helper:
        return _built_helper[0]
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--bin", "thinlto", "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True,
        timeout=1800,
    )
    _built_helper.append(str(ROOT / "target/release/thinlto"))
    return _built_helper[0]


def walk(value):
    """Every dict inside a JSON value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


class Project:
    """A scratch copy of the Buck2 project and the buck2 commands run in it."""

    def __init__(self, root, buck2):
        self.root, self.buck2 = root, buck2
        # The trace id (Build ID) of the last command that printed one: `buck2 log` reads that
        # command's event log. Without it `buck2 log` takes the newest log file, which after a
        # quick no-op build was at times still the previous command's.
        self.trace_id = None

    def run(self, *args, check=True, timeout=3600):
        proc = subprocess.run(
            [self.buck2, *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"buck2 {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-8000:]}")
        if args and args[0] != "log":
            found = re.search(r"Build ID: ([0-9a-f-]+)", proc.stderr)
            self.trace_id = found.group(1) if found else None
        return proc

    def log(self, *args):
        """`buck2 log ...` of the last command."""
        return self.run("log", *args, *(["--trace-id", self.trace_id] if self.trace_id else [])).stdout

    def build(self, *args):
        """Builds; returns {target as printed: absolute path of its output}."""
        out = self.run("build", *args, "--show-full-output").stdout
        found = {}
        for line in out.strip().splitlines():
            target, path = line.split(" ", 1)
            found[target] = Path(path)
        return found

    def build1(self, target, *args):
        """Builds one target; returns the absolute path of its output."""
        (path,) = self.build(*args, target).values()
        return path

    def fails(self, *args):
        """Runs a build that must fail; returns its stderr."""
        proc = self.run("build", *args, check=False)
        assert proc.returncode != 0, f"buck2 build {' '.join(args)} succeeded"
        return proc.stderr

    def what_ran(self):
        """The actions the last command executed (not those it found up to date)."""
        out = self.log("what-ran", "--format", "json")
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def ran(self, category):
        """{identifier: argv} of the actions of `category` the last command executed."""
        found = {}
        for a in self.what_ran():
            identity = a.get("identity", "")
            if f"({category} " in identity:
                identifier = identity.rsplit(f"({category} ", 1)[1].rstrip(")")
                found[identifier] = a["reproducer"]["details"]["command"]
        return found

    def input_bytes(self, category):
        """{identifier: bytes of declared inputs} of the actions of `category` the last command ran.

        Buck2 reports no action's input list, locally, but it reports the size of its input files
        (`input_files_bytes` of ActionExecution in the event log): what it would upload to
        remote execution, so exactly what the action declares.
        """
        found = {}
        for line in self.log("show").splitlines():
            if category not in line or "input_files_bytes" not in line:
                continue
            for d in walk(json.loads(line)):
                name = d.get("name")
                if isinstance(name, dict) and name.get("category") == category and "input_files_bytes" in d:
                    assert name["identifier"] not in found, name
                    found[name["identifier"]] = int(d["input_files_bytes"])
        return found

    def output_file(self, binary, name):
        """A file the link of `binary` wrote, found below its output directory (e.g. `thinlto/plan.json`)."""
        d = binary.parent.parent if binary.parent.name == "thinlto" else binary.parent
        found = sorted(d.glob(f"**/{name}"))
        assert len(found) == 1, (d, name, found)
        return found[0]

    def plan(self, binary):
        return json.loads(self.output_file(binary, "thinlto/plan.json").read_text())

    def manifest(self, binary):
        return json.loads(self.output_file(binary, "thinlto/manifest.json").read_text())


def manifest_entries(manifest):
    """The manifest's inputs, start_lib groups flattened."""
    return [e for i in manifest["inputs"] for e in i.get("members", [i])]


class edited:
    """Replaces `old` by `new` in a file of the scratch project for the duration of a `with`."""

    def __init__(self, project, path, old, new):
        self.file, self.old, self.new = project.root / path, old, new

    def __enter__(self):
        self.text = self.file.read_text()
        assert self.old in self.text, (self.file, self.old)
        self.file.write_text(self.text.replace(self.old, self.new))
        return self

    def __exit__(self, *exc):
        self.file.write_text(self.text)


def copy_project(dest, helper):
    """The Buck2 project's files, with the helper where the example toolchain looks for it."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in [".buckconfig", "PACKAGE"]:
        shutil.copy(ROOT / f, dest / f)
    (dest / ".buckroot").write_text("")
    ignore = shutil.ignore_patterns("buck-out", "bin", "__pycache__")
    for d in ["buck2", "examples/mixed", "tests/shapes", "tests/shared", "tests/pgo", "tests/buck2/remote"]:
        shutil.copytree(ROOT / d, dest / d, ignore=ignore)
    (dest / "tests/realcode").mkdir(parents=True)
    for f in (ROOT / "tests/realcode").iterdir():
        if f.is_file():
            shutil.copy(f, dest / "tests/realcode" / f.name)
    if VENDOR.is_dir():
        shutil.copytree(VENDOR, dest / "tests/realcode/vendor", symlinks=True)
    install_helper(dest, helper)


def install_helper(root, helper, extra=b""):
    """Puts the helper (with `extra` bytes appended: another file, the same program) where the toolchain tracks it."""
    dest = root / "buck2/toolchains/bin/thinlto"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(Path(helper).read_bytes() + extra)
    tmp.chmod(0o755)
    tmp.replace(dest)
    return dest


@pytest.fixture(scope="module")
def project(buck2_bin, helper, tmp_path_factory):
    root = tmp_path_factory.mktemp("buck2-project")
    copy_project(root, helper)
    p = Project(root, buck2_bin)
    yield p
    p.run("kill", check=False)
