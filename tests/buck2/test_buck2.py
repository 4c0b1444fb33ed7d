"""The Buck2 front end (buck2/): the example builds and runs, inlines across languages,
gives each backend exactly its inputs, and re-runs only the backends a change affects.

Needs a buck2 binary: `buck2` on PATH or BUCK2=/path/to/buck2. No package registry
reachable here ships one, so without it every Buck2 test is skipped, loudly. The Starlark
lint at the end runs regardless.

Everything runs in a scratch copy of the project (the repository's .buckconfig, buck2/
and examples/mixed/), so tests never edit tracked files and never share a buck2 daemon
or buck-out with anyone. The helper is $THINLTO_HELPER, or built by cargo as the Bazel
rules build it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from thinlto_inspect import call_sites, functions, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILDIFIER = ROOT / "third_party/offline/node/node_modules/.bin/buildifier"
TARGET = "//examples/mixed:mixed"
DISTRIBUTED = ("-c", "thinlto.mode=distributed")
EXPECTED = [
    "rust: sums of squares up to 5: [0, 1, 5, 14, 30]",
    "c++: rust_square_plus_one(5) = 26, rust_report(5) = 30, geometry initialized 1 time(s)",
]
# A buck2 built from facebook/buck2's public source, beside the checkout on the machines
# this project is developed and tested on (no package registry ships buck2).
SHARED_BUCK2 = ROOT.parent / "shared/tools/buck2/buck2.xz"
NO_BUCK2 = (
    f"buck2 not found: no registry reachable here ships it; set BUCK2=/path/to/buck2, put buck2 on "
    f"PATH, or provide {SHARED_BUCK2} to run the Buck2 front end's tests"
)


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


@pytest.fixture(scope="session")
def buck2_bin():
    b = find_buck2()
    if not b:
        print(f"\n*** SKIPPING the Buck2 tests: {NO_BUCK2} ***", file=sys.stderr)
        pytest.skip(NO_BUCK2)
    return b


@pytest.fixture(scope="session")
def helper():
    given = os.environ.get("THINLTO_HELPER")
    if given:
        return given
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "--bin", "thinlto", "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True,
        timeout=1800,
    )
    return str(ROOT / "target/release/thinlto")


class Project:
    """A scratch copy of the Buck2 project and the buck2 commands run in it."""

    def __init__(self, root, buck2, helper):
        self.root, self.buck2, self.helper = root, buck2, helper

    def run(self, *args, check=True):
        cmd, rest = args[0], args[1:]
        # Commands that read the configuration get the helper; `log`, `kill` take no -c.
        config = ["-c", f"thinlto.helper={self.helper}"] if cmd in ("build", "run", "aquery", "cquery") else []
        proc = subprocess.run(
            [self.buck2, cmd, *config, *rest],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            timeout=3600,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"buck2 {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-8000:]}")
        return proc

    def build(self, *args):
        """Builds TARGET; returns the absolute path of its output."""
        out = self.run("build", *args, TARGET, "--show-full-output").stdout
        path = out.strip().splitlines()[-1].split(" ", 1)[1]
        return Path(path)

    def what_ran(self):
        """The actions the last command executed (not those it found up to date)."""
        out = self.run("log", "what-ran", "--format", "json").stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def what_ran_commands(self, category):
        """The argv of each action of `category` the last command executed."""
        return [a["reproducer"]["details"]["command"] for a in self.what_ran() if f"({category} " in a.get("identity", "")]

    def lto_file(self, name):
        """A file the thin link's dynamic action wrote, e.g. `thinlto/plan.json`."""
        found = sorted((self.root / "buck-out").glob(f"**/__mixed__/**/{name}"))
        assert len(found) == 1, found
        return found[0]


@pytest.fixture(scope="module")
def project(buck2_bin, helper, tmp_path_factory):
    root = tmp_path_factory.mktemp("buck2-project")
    shutil.copy(ROOT / ".buckconfig", root / ".buckconfig")
    (root / ".buckroot").write_text("")
    shutil.copytree(ROOT / "buck2", root / "buck2")
    shutil.copytree(ROOT / "examples/mixed", root / "examples/mixed", ignore=shutil.ignore_patterns("buck-out"))
    p = Project(root, buck2_bin, helper)
    yield p
    p.run("kill", check=False)


@pytest.fixture(scope="module")
def plain(project, tmp_path_factory):
    out = project.build()
    keep = tmp_path_factory.mktemp("plain") / "mixed"
    shutil.copy(out, keep)
    return keep


@pytest.fixture(scope="module")
def distributed(project, plain):
    # After `plain`: both modes write the same target's outputs.
    return project.build(*DISTRIBUTED)


def test_runs_with_the_prelude_link(plain):
    assert run([str(plain)]).splitlines() == EXPECTED


def test_runs_with_distributed_thinlto(project, distributed):
    assert run([str(distributed)]).splitlines() == EXPECTED
    plan = json.loads(project.lto_file("thinlto/plan.json").read_text())
    assert len(plan["modules"]) >= 4, plan


def test_rust_inlined_into_cpp_and_cpp_into_rust(distributed, plain):
    fns = functions(distributed)
    assert call_sites(fns, "rust_square_plus_one") == [], fns["main"]  # Rust into C++
    assert call_sites(fns, "geometry_initialized") == [], fns["main"]  # C++ into C++ across libraries
    assert call_sites(fns, "cpp_square") == []  # C++ into Rust
    assert call_sites(fns, "sum_of_squares") == []  # Rust into Rust across crates
    assert "rust_report" in fns and "main" in fns

    # The prelude's ordinary link keeps every one of those calls: the assertions above can fail.
    # (rustc itself may inline sum_of_squares across crates: it is small and not generic.)
    base = functions(plain)
    assert call_sites(base, "rust_square_plus_one") == ["main"]
    assert call_sites(base, "geometry_initialized") == ["main"]
    # (an ordinary link calls cpp_square through the GOT: an indirect call)
    assert any("call" in i for i in base["rust_square_plus_one"]), base["rust_square_plus_one"]


def walk(value):
    """Every dict inside a JSON value."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)


def backend_actions(project):
    """The thinlto_backend actions the last command executed: {identifier: bytes of declared inputs}.

    Buck2 reports no action's input list, locally, but it reports the size of its input files
    (`input_files_bytes` of ActionExecution in the event log): what it would upload to
    remote execution, so exactly what the action declares.
    """
    out = project.run("log", "show").stdout
    found = {}
    for line in out.splitlines():
        if "thinlto_backend" not in line or "input_files_bytes" not in line:
            continue
        for d in walk(json.loads(line)):
            name = d.get("name")
            if isinstance(name, dict) and name.get("category") == "thinlto_backend" and "input_files_bytes" in d:
                assert name["identifier"] not in found, name
                found[name["identifier"]] = int(d["input_files_bytes"])
    return found


def module_of(argv):
    return argv[argv.index("--module") + 1]


def test_each_backend_declares_exactly_its_module_index_and_imports(project, distributed):
    plan = json.loads(project.lto_file("thinlto/plan.json").read_text())
    # Re-run every backend (a flag they all get), so that the event log has all of them.
    project.build(*DISTRIBUTED, "-c", "thinlto.backend_flags=-DTHINLTO_TEST_RERUN")
    backends = backend_actions(project)
    # The loaded modules' backends ran, and no other: the final link needs no object of an
    # unloaded module, so Buck2 never runs its backend.
    loaded = [m for m in plan["modules"] if m["loaded"]]
    assert len(backends) == len(loaded)
    commands = {a["identity"].rsplit("(thinlto_backend ", 1)[1].rstrip(")"): a["reproducer"]["details"]["command"]
                for a in project.what_ran() if "(thinlto_backend " in a.get("identity", "")}
    assert sorted(commands) == sorted(backends)

    def size(path):
        return (project.root / path).stat().st_size

    for identifier, argv in commands.items():
        m = next(m for m in loaded if m["module"] == module_of(argv))
        assert argv[argv.index("--index") + 1] == m["index"]
        assert argv[argv.index("--imports") + 1] == m["imports_file"]
        # The imports list file too: the helper reads it to stage the imports.
        files = {m["module"], m["index"], m["imports_file"], *m["imports"]}
        assert backends[identifier] == sum(size(f) for f in files), (m["module"], backends[identifier], {f: size(f) for f in files})
    assert any(m["imports"] for m in plan["modules"]), "no module imports anything: the test would show nothing"


def test_one_leaf_body_reruns_only_affected_backends(project, distributed):
    project.build(*DISTRIBUTED)  # the state to change from, whatever ran before
    plan = json.loads(project.lto_file("thinlto/plan.json").read_text())

    def snapshot():
        files = {m["module"] for m in plan["modules"]} | {m["index"] for m in plan["modules"]}
        return {f: (project.root / f).read_bytes() for f in files}

    before = snapshot()
    geometry = project.root / "examples/mixed/geometry.cc"
    text = geometry.read_text()
    body = 'extern "C" int cpp_square(int x) { return x * x; }'
    assert body in text
    geometry.write_text(
        text.replace(body, 'static volatile int zero = 0;\nextern "C" int cpp_square(int x) { return x * x + zero; }')
    )
    try:
        out = project.build(*DISTRIBUTED)
        ran = project.what_ran_commands("thinlto_backend")
        after = snapshot()
        assert run([str(out)]).splitlines() == EXPECTED
    finally:
        geometry.write_text(text)

    changed = {f for f in before if before[f] != after[f]}
    expected = {m["module"] for m in plan["modules"] if {m["module"], m["index"], *m["imports"]} & changed}
    ran_modules = {module_of(argv) for argv in ran}
    print(f"changed: {sorted(changed)}\nbackends re-run: {sorted(ran_modules)}")
    assert len(ran) == len(ran_modules)
    assert ran_modules == expected
    assert any(m.endswith("geometry.o") or "geometry" in m for m in ran_modules), ran_modules
    assert len(ran_modules) < len(plan["modules"]), "every backend re-ran"


class edited:
    """Replaces `old` by `new` in a file of the scratch project for the duration of a `with`."""

    def __init__(self, project, path, old, new):
        self.file, self.old, self.new = project.root / path, old, new

    def __enter__(self):
        self.text = self.file.read_text()
        assert self.old in self.text, (self.file, self.old)
        self.file.write_text(self.text.replace(self.old, self.new))

    def __exit__(self, *exc):
        self.file.write_text(self.text)


def test_a_module_unloaded_and_loaded_again_is_rebuilt(project, distributed):
    """report's code unit leaves the link (nothing calls it) and comes back, in one daemon.

    Its object is declared either way; it must be the backend's output again afterwards,
    not what the unloaded state left at the same path.
    """
    with edited(project, "examples/mixed/main.cc", "long b = rust_report(n);", "long b = 30;"):
        out = project.build(*DISTRIBUTED)
        assert "rust_report" not in functions(out)
    out = project.build(*DISTRIBUTED)
    assert run([str(out)]).splitlines() == EXPECTED


def test_loose_objects_link_too(project, distributed):
    """A cxx_library giving its objects rather than an archive (use_archive = False)."""
    with edited(project, "examples/mixed/BUCK", 'preferred_linkage = "static",\n)', 'preferred_linkage = "static",\n    use_archive = False,\n)'):
        out = project.build(*DISTRIBUTED)
        assert run([str(out)]).splitlines() == EXPECTED
        manifest = json.loads(project.lto_file("thinlto/manifest.json").read_text())
        members = [e for i in manifest["inputs"] for e in i.get("members", [i])]
        # The library's object joins the thin link where it is, not as an archive member.
        assert any("geometry" in e["path"] and "/thinlto/bc/" not in e["path"] and e["kind"] == "bitcode" for e in members), members
        assert call_sites(functions(out), "geometry_initialized") == []


def test_unknown_mode_fails_naming_the_allowed_ones(project):
    proc = project.run("build", "-c", "thinlto.mode=distribted", TARGET, check=False)
    assert proc.returncode != 0
    assert "is not one of: none, distributed" in proc.stderr, proc.stderr[-4000:]


def test_thinlto_binary_without_distributed_mode_says_what_to_set(project):
    (project.root / "misconfigured").mkdir(exist_ok=True)
    (project.root / "misconfigured/main.cc").write_text("int main() { return 0; }\n")
    (project.root / "misconfigured/BUCK").write_text(
        'load("@thinlto//buck2:defs.bzl", "thinlto_cxx_binary")\n'
        'cxx_library(name = "main", srcs = ["main.cc"], link_whole = True)\n'
        'thinlto_cxx_binary(name = "direct", deps = [":main"])\n'
    )
    proc = project.run("build", "//misconfigured:direct", check=False)
    assert proc.returncode != 0
    assert 'the thinlto toolchain\'s mode is "none"' in proc.stderr, proc.stderr[-4000:]
    assert "[thinlto] mode = distributed" in proc.stderr


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            'rustc_flags = ["-Copt-level=2"] + thinlto_rustc_flags(),',
            'rustc_flags = ["-Copt-level=2"],',
            "was compiled by rustc without -Clinker-plugin-lto",
        ),
        (
            'cxx_flags = _TARGET + ["-O2", "-std=c++17"] + thinlto_cxx_flags(),',
            'cxx_flags = _TARGET + ["-O2", "-std=c++17"],',
            "the C++ toolchain's C++ flags have no -flto=thin",
        ),
    ],
    ids=["rust-without-bitcode", "cxx-without-bitcode"],
)
def test_toolchain_without_bitcode_says_what_to_set(project, old, new, message):
    with edited(project, "buck2/toolchains/BUCK", old, new):
        proc = project.run("build", *DISTRIBUTED, TARGET, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-4000:]
    assert "thinlto_" in proc.stderr and "_flags()" in proc.stderr


def test_starlark_lint():
    if not BUILDIFIER.exists():
        pytest.skip(f"{BUILDIFIER} missing: run tools/setup.sh")
    files = [str(p.relative_to(ROOT)) for p in [*ROOT.glob("buck2/**/*.bzl"), ROOT / "buck2/BUCK", *ROOT.glob("buck2/toolchains/BUCK"), *ROOT.glob("examples/**/BUCK")]]
    proc = subprocess.run([str(BUILDIFIER), "--lint=warn", "--mode=check", *files], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
