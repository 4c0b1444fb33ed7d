"""What docs/bazel-versions.md promises that Bazel 4.2.3 can show: the rules_thinlto toolchain is
optional for ordinary C++ links, the helper is fetched only under thin_lto, and the tools'
recorded versions are part of every action key.

Each test runs Bazel in a scratch copy of the workspace whose WORKSPACE registers a different
set of toolchains, with an output base of its own (shut down at the end).
"""

import shutil
import subprocess

import pytest
from conftest import ROOT, THINLTO, execution_log, prebuilt_helper, run


def _workspace(tmp_path, register):
    """A copy of the workspace whose WORKSPACE ends with `register` instead of thinlto_register_toolchains()."""
    ws = tmp_path / "ws"
    shutil.copytree(ROOT, ws, symlinks=True, ignore=shutil.ignore_patterns("bazel-*", "target", "node", "buck-out", ".git", "vendor"))
    text = (ws / "WORKSPACE").read_text()
    old = 'load("//rules:repositories.bzl", "thinlto_register_toolchains")\n\nthinlto_register_toolchains()\n'
    assert old in text
    (ws / "WORKSPACE").write_text(text.replace(old, register))
    return ws


class Bazel:
    def __init__(self, ws, output_base):
        self.ws, self.ob = ws, output_base

    def __call__(self, command, *args, check=True):
        argv = ["bazel", f"--output_base={self.ob}", command, f"--repo_env=THINLTO_HELPER={prebuilt_helper()}", *args]
        proc = subprocess.run(argv, cwd=self.ws, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
        if check:
            assert proc.returncode == 0, proc.stdout[-4000:]
        return proc

    def fetched(self, repo):
        return (self.ob / "external" / f"@{repo}.marker").exists()

    def shutdown(self):
        subprocess.run(["bazel", f"--output_base={self.ob}", "shutdown"], cwd=self.ws, capture_output=True)


@pytest.fixture
def bazel_in(tmp_path):
    made = []

    def make(register):
        b = Bazel(_workspace(tmp_path, register), tmp_path / "output_base")
        made.append(b)
        return b

    yield make
    for b in made:
        b.shutdown()


def test_plain_cpp_build_without_any_thinlto_toolchain(bazel_in):
    bazel = bazel_in('load("//rules:repositories.bzl", "thinlto_dependencies")\n\nthinlto_dependencies()\n')
    bazel("build", "//examples/cpp:cpp")
    assert run([str(bazel.ws / "bazel-bin/examples/cpp/cpp")])
    assert not bazel.fetched("thinlto_host"), "no host toolchain is declared"
    rust = bazel("build", "//examples/rust:rust", check=False)
    assert rust.returncode != 0 and "a Rust crate needs a rules_thinlto toolchain, and no rules_thinlto toolchain is registered" in rust.stdout, rust.stdout[-3000:]
    lto = bazel("build", *THINLTO, "//examples/cpp:cpp", check=False)
    assert lto.returncode != 0 and "--features=thin_lto needs a rules_thinlto toolchain" in lto.stdout, lto.stdout[-3000:]


def test_helper_fetched_only_under_thin_lto(bazel_in):
    bazel = bazel_in('load("//rules:repositories.bzl", "thinlto_register_toolchains")\n\nthinlto_register_toolchains()\n')
    bazel("build", "//examples/...")
    assert bazel.fetched("thinlto_host") and not bazel.fetched("thinlto_host_helper")
    bazel("build", *THINLTO, "//examples/cpp:cpp")
    assert bazel.fetched("thinlto_host_helper")


def test_host_without_clang_still_builds_plain_cpp(bazel_in):
    bazel = bazel_in('load("//rules:repositories.bzl", "thinlto_register_toolchains")\n\nthinlto_register_toolchains(clang = "clang-does-not-exist")\n')
    bazel("build", "//examples/cpp:cpp")
    rust = bazel("build", "//examples/rust:rust", check=False)
    assert rust.returncode != 0 and "cannot find clang 'clang-does-not-exist' on PATH" in rust.stdout, rust.stdout[-3000:]


def test_recorded_clang_version_is_in_every_backend_key(bazel_in, tmp_path):
    bazel = bazel_in('load("//rules:repositories.bzl", "thinlto_register_toolchains")\n\nthinlto_register_toolchains()\n')
    executed = {}
    for step, version in enumerate(["v1", "v2", "v2"]):
        log = tmp_path / f"exec{step}.json"
        bazel("build", *THINLTO, f"--extra_toolchains=//tests/versions:{version}_toolchain", f"--execution_log_json_file={log}", "//examples/cpp:cpp")
        executed[step] = [s["mnemonic"] for s in execution_log(log)]
    assert executed[0].count("ThinLtoBackend") >= 2, executed[0]
    assert executed[1].count("ThinLtoBackend") == executed[0].count("ThinLtoBackend"), "a new recorded version re-runs every backend"
    assert "ThinLtoIndex" in executed[1] and "ThinLtoLink" in executed[1]
    assert executed[2] == [], f"the same version again runs nothing: {executed[2]}"


def test_missing_helper_is_named(bazel_in, tmp_path):
    bazel = bazel_in('load("//rules:repositories.bzl", "thinlto_register_toolchains")\n\nthinlto_register_toolchains()\n')
    missing = tmp_path / "no-such-helper"
    lto = bazel("build", *THINLTO, f"--repo_env=THINLTO_HELPER={missing}", "//examples/cpp:cpp", check=False)
    assert lto.returncode != 0 and f"the helper '{missing}' ($THINLTO_HELPER) does not exist" in lto.stdout, lto.stdout[-3000:]
