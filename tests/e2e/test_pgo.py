"""Profile-guided optimization reaches every compile and every ThinLTO backend (tests/pgo).

The test builds the program instrumented (Bazel's --fdo_instrument for C++, rustc's
-Cprofile-generate for Rust), trains it on even inputs only, merges the profile with
llvm-profdata, and builds it with `--fdo_profile` and rules_thinlto's `fdo_profile` setting.
Without a profile ThinLTO imports and inlines both Rust functions into the C++ loop; with it,
the call that training never took stays a call (a cold call site), the output is the same,
the backends read the profile as a declared input, and a changed profile re-runs the
actions that read it: the compiles, the thin link, the backends, the final link.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, THINLTO, aquery_inputs, bazel, bazel_info, bin_dir, call_sites, execution_log, expand_params, functions, run
from fdo_bazel_tools import override_flags  # tools/, on the path conftest sets

PKG = "tests/pgo"
SCRATCH = "tests/e2e/scratch/pgo"
PROFILE = f"{SCRATCH}/app.profdata"
USE = (f"--fdo_profile=//{SCRATCH}:app", f"--//rules/settings:fdo_profile=//{SCRATCH}:app")
LLVM_PROFDATA = "llvm-profdata-22"


def train(step, target=f"//{PKG}:app", profile=PROFILE):
    """Builds `target` instrumented, runs it (for tests/pgo, on [0, 200000) with `step`), and
    writes the merged profile to `profile`."""
    # One directory per program, outside the workspace and the same in every run: it is in
    # the instrumented compiles' command lines, so a new one would rebuild them.
    raw = Path(bazel_info("output_base")) / "thinlto-profraw" / target.split(":")[-1]
    shutil.rmtree(raw, ignore_errors=True)
    flags = ("-c", "opt", "--copt=--target=x86_64-unknown-linux-gnu", f"--fdo_instrument={raw}", f"--//rules/settings:extra_rustc_flags=-Cprofile-generate={raw}")
    bazel("build", *flags, target)
    package, name = target[2:].split(":")
    run([str(bin_dir(*flags) / package / name), *(["200000", str(step)] if package == PKG else [])])
    assert list(raw.glob("*.profraw")), f"the instrumented program wrote no profile into {raw}"
    subprocess.run([LLVM_PROFDATA, "merge", "-o", str(ROOT / profile), str(raw)], check=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    scratch = ROOT / SCRATCH
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    (scratch / "BUILD.bazel").write_text("".join(
        f'fdo_profile(\n    name = "{n}",\n    profile = "{n}.profdata",\n    visibility = ["//visibility:public"],\n)\n'
        for n in ["app", "realcode"]))
    tmp = tmp_path_factory.mktemp("pgo")
    train(step=2)
    tools = override_flags(bazel_info("install_base"), bazel_info("output_base"))
    bazel("build", *THINLTO, f"//{PKG}:app")
    plain = tmp / "app_without_profile"
    shutil.copy(bin_dir(*THINLTO) / PKG / "app", plain)
    bazel("build", *tools, *THINLTO, *USE, f"//{PKG}:app")
    return tmp, tools, plain, bin_dir(*THINLTO) / PKG / "app"


def test_same_output_with_and_without_the_profile(built):
    _, _, plain, pgo = built
    out = run([str(plain), "1000", "1"])
    assert out.startswith("pgo: sum = ") and run([str(pgo), "1000", "1"]) == out


def test_the_profile_keeps_the_cold_call_a_call(built):
    _, _, plain, pgo = built
    without, with_profile = functions(plain), functions(pgo)
    # Without a profile both Rust functions are inlined into the C++ loop.
    assert call_sites(without, "pgo_hot") == [] and call_sites(without, "pgo_cold") == []
    # The profile says pgo_cold never runs: not worth its size there.
    assert call_sites(with_profile, "pgo_hot") == []
    assert call_sites(with_profile, "pgo_cold") == ["main"]


def test_rust_compiles_and_backends_read_the_declared_profile(built):
    _, tools, _, _ = built
    actions = aquery_inputs(*tools, *THINLTO, *USE, f"mnemonic('ThinLtoBackend|RustcCompile|CppCompile', //{PKG}:all)")
    backends = [(a, i) for a, i in actions if "backend" in a]
    assert len(backends) >= 2, actions
    for argv, inputs in actions:
        assert PROFILE in inputs or any(i.endswith("/app.profdata") for i in inputs), argv
        assert any(f in " ".join(argv) for f in ["-fprofile-use=", "-Cprofile-use="]), argv
    for argv, _ in backends:
        assert f"-fprofile-use={PROFILE}" in argv, argv


def test_a_changed_profile_reruns_what_reads_it(built):
    tmp, tools, _, pgo = built
    train(step=1)  # now odd inputs run too: pgo_cold is hot
    log = tmp / "exec.json"
    bazel("build", *tools, *THINLTO, *USE, f"--execution_log_json_file={log}", f"//{PKG}:app")
    ran = {s["mnemonic"] for s in execution_log(log)}
    backends = [s for s in execution_log(log) if s["mnemonic"] == "ThinLtoBackend"]
    assert {"CppCompile", "RustcCompile", "ThinLtoIndex", "ThinLtoBackend", "ThinLtoLink"} <= ran, ran
    execroot = bazel_info("execution_root")
    argvs = [expand_params(s["commandArgs"], execroot) for s in backends]
    assert any(a[a.index("--module") + 1].endswith("main.o") for a in argvs)
    assert call_sites(functions(pgo), "pgo_cold") == [], "with the new profile pgo_cold is hot and inlined"


def test_real_code_trained_and_optimized_with_its_profile(built):
    """tests/realcode (serde_json, zstd's C code, crc32fast, C++ with exceptions): one run of
    the instrumented program profiles C, C++ and Rust functions alike, and the program built
    with that profile prints what it prints without."""
    tmp, tools, _, _ = built
    target, profile = "//tests/realcode:cpp_main", f"{SCRATCH}/realcode.profdata"
    if not (ROOT / "tests/realcode/vendor/serde-1.0.219").is_dir():
        pytest.fail("tests/realcode/vendor is missing its crates: run tools/setup.sh")
    train(1, target, profile)
    shown = subprocess.run([LLVM_PROFDATA, "show", "--all-functions", str(ROOT / profile)], capture_output=True, text=True, check=True).stdout
    counted = [line.strip().rstrip(":") for line in shown.splitlines() if line.startswith("  ") and line.rstrip().endswith(":") and not line.startswith("   ")]
    assert any(f.startswith("ZSTD_") for f in counted), "no zstd C function in the profile"
    assert any("serde_json" in f for f in counted), "no serde_json function in the profile"
    assert "main" in counted
    binary = bin_dir(*THINLTO) / "tests/realcode/cpp_main"
    bazel("build", *THINLTO, target)
    without, without_code = run([str(binary)]), functions(binary)
    use = (f"--fdo_profile=//{SCRATCH}:realcode", f"--//rules/settings:fdo_profile=//{SCRATCH}:realcode")
    bazel("build", *tools, *THINLTO, *use, target)
    assert run([str(binary)]) == without
    # The profile changed code generation in C modules and in Rust modules.
    code = functions(binary)
    changed = [f for f in code if f in without_code and code[f] != without_code[f]]
    assert any(f.startswith("ZSTD_") for f in changed), changed[:20]
    assert any(f.startswith(("_ZN", "_R")) for f in changed), changed[:20]
