"""Profile-guided optimization on Buck2 (tests/pgo/BUCK, the example toolchains' `[thinlto]
profile_generate` and `profile`): the test builds the program instrumented (C++ with
-fprofile-generate, Rust with -Cprofile-generate), trains it on even inputs only, merges the
profile with llvm-profdata, and builds it with distributed ThinLTO and the profile
(thinlto_cxx_toolchain(profile = ...): C and C++ compiles and every backend;
thinlto_rustc_flags(profile = ...): rustc). Without a profile ThinLTO inlines both Rust
functions into the C++ loop; with it, the call that training never took stays a call, the
output is the same, every backend declares the profile as an input, and a changed profile
re-runs the actions that read it. tests/e2e/test_pgo.py checks the same on Bazel."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from buck2_project import THINLTO, buck2_bin, helper, project  # noqa: F401
from thinlto_inspect import call_sites, functions, run

TARGET = "//tests/pgo:app"
LLVM_PROFDATA = "llvm-profdata-22"
# The profile, as a target of the scratch project (an export_file the test writes).
PROFILE_PKG = "tests/pgo/profile"
USE = ("-c", f"thinlto.profile=root//{PROFILE_PKG}:app.profdata")


def train(project, raw, step):
    """Builds the program instrumented, runs it on [0, 200000) with `step`, and merges its profile
    into the scratch project's tests/pgo/profile/app.profdata."""
    shutil.rmtree(raw, ignore_errors=True)
    instrumented = project.build1(TARGET, "-c", f"thinlto.profile_generate={raw}")
    run([str(instrumented), "200000", str(step)])
    assert list(raw.glob("*.profraw")), f"the instrumented program wrote no profile into {raw}"
    profile = project.root / PROFILE_PKG / "app.profdata"
    profile.parent.mkdir(parents=True, exist_ok=True)
    (profile.parent / "BUCK").write_text('export_file(\n    name = "app.profdata",\n    visibility = ["PUBLIC"],\n)\n')
    subprocess.run([LLVM_PROFDATA, "merge", "-o", str(profile), str(raw)], check=True)
    return profile


@pytest.fixture(scope="module")
def built(project, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pgo")
    raw = tmp / "raw"
    profile = train(project, raw, step=2)
    # The same output path with and without the profile (-c does not change the configuration).
    without = tmp / "app_without_profile"
    shutil.copy(project.build1(TARGET, *THINLTO), without)
    with_profile = project.build1(TARGET, *THINLTO, *USE)
    ran = {category: project.ran(category) for category in ["cxx_compile", "rustc", "thinlto_backend"]}
    inputs = project.input_bytes("thinlto_backend")
    return {"tmp": tmp, "raw": raw, "profile": profile, "without": without, "with": with_profile, "ran": ran, "inputs": inputs}


def test_same_output_with_and_without_the_profile(built):
    out = run([str(built["without"]), "1000", "1"])
    assert out.startswith("pgo: sum = ") and run([str(built["with"]), "1000", "1"]) == out


def test_the_profile_keeps_the_cold_call_a_call(built):
    without, with_profile = functions(built["without"]), functions(built["with"])
    # Without a profile both Rust functions are inlined into the C++ loop.
    assert call_sites(without, "pgo_hot") == [] and call_sites(without, "pgo_cold") == []
    # The profile says pgo_cold never runs: not worth its size there.
    assert call_sites(with_profile, "pgo_hot") == []
    assert call_sites(with_profile, "pgo_cold") == ["main"]


def test_rustc_and_every_backend_name_the_profile(project, built):
    data = built["profile"].read_bytes()
    # rustc's flags are in an argsfile (`@...args`) of the prelude's rustc wrapper; the path is
    # the export_file's copy in buck-out.
    rustc = built["ran"]["rustc"]
    assert rustc, "no rustc action re-ran for the profile"
    for argv in rustc.values():
        args = [line.strip("'\"") for a in argv if a.startswith("@") for line in (project.root / a[1:]).read_text().splitlines()]
        (flag,) = [a for a in args if a.startswith("-Cprofile-use=")]
        assert (project.root / flag.split("=", 1)[1]).read_bytes() == data, flag
    # A backend's clang runs in a private directory beside its object (tools/thinlto/src/backend.rs):
    # its flag names the profile from there.
    plan = project.plan(built["with"])
    backends = built["ran"]["thinlto_backend"]
    assert len(backends) >= 2, backends
    for argv in backends.values():
        m = next(m for m in plan["modules"] if m["module"] == argv[argv.index("--module") + 1])
        (flag,) = [a for a in argv if a.startswith("-fprofile-use=")]
        work_dir = (project.root / m["object"]).parent / ".thinlto-backend"
        assert Path(os.path.normpath(work_dir / flag.split("=", 1)[1])).read_bytes() == data, flag
    # The C++ compiles ran again for the profile (their flags are in an argsfile).
    assert built["ran"]["cxx_compile"], "no C++ compile re-ran for the profile"


def test_every_backend_declares_the_profile(project, built):
    """Each backend's declared inputs are the helper, its module, index, imports list, imported
    modules, and the profile (their byte count, as Buck2 reports it)."""
    plan = project.plan(built["with"])
    helper_bytes = (project.root / "buck2/toolchains/bin/thinlto").stat().st_size
    profile_bytes = built["profile"].stat().st_size
    backends = built["ran"]["thinlto_backend"]
    assert sorted(built["inputs"]) == sorted(backends)
    for identifier, argv in backends.items():
        m = next(m for m in plan["modules"] if m["module"] == argv[argv.index("--module") + 1])
        files = {m["module"], m["index"], m["imports_file"], *m["imports"]}
        expected = helper_bytes + sum((project.root / f).stat().st_size for f in files) + profile_bytes
        assert built["inputs"][identifier] == expected, (m["module"], built["inputs"][identifier], expected)


def test_a_changed_profile_reruns_what_reads_it(project, built):
    train(project, built["raw"], step=1)  # now odd inputs run too: pgo_cold is hot
    out = project.build1(TARGET, *THINLTO, *USE)
    # The same commands as before, only the profile's bytes changed: it is an input of each.
    for category in ["cxx_compile", "rustc", "thinlto_index", "thinlto_backend", "thinlto_link"]:
        assert project.ran(category), category
    assert call_sites(functions(out), "pgo_cold") == [], "with the new profile pgo_cold is hot and inlined"
    assert run([str(out), "1000", "1"]) == run([str(built["without"]), "1000", "1"])


def test_a_profile_of_another_kind_says_what_it_takes(project, built):
    bad = project.root / PROFILE_PKG / "app.profraw"
    shutil.copy(next(built["raw"].glob("*.profraw")), bad)
    (bad.parent / "BUCK").write_text((bad.parent / "BUCK").read_text() + 'export_file(\n    name = "app.profraw",\n    visibility = ["PUBLIC"],\n)\n')
    err = project.fails(TARGET, *THINLTO, "-c", f"thinlto.profile=root//{PROFILE_PKG}:app.profraw")
    assert "is neither an indexed instrumentation profile (.profdata; merge .profraw files with llvm-profdata merge)" in err, err[-4000:]
