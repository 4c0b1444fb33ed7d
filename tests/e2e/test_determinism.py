"""Two checkouts in different directories, with different output bases, build byte-identical
ThinLTO outputs: indexes, imports lists, plans, param files, backend objects and the binary.
No absolute path of either checkout or output base leaks into any of them.

Both checkouts use the same prebuilt helper (THINLTO_HELPER) so that the second does not
rebuild it with cargo; everything else is built from scratch in each.
"""

import shutil
import subprocess
from pathlib import Path

from conftest import ROOT, THINLTO, prebuilt_helper

TARGET = "//examples/mixed:mixed"


def checkout(dest):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        if (ROOT / f).is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, dest / f)
    for repo in ("rules_cc", "rules_java", "remote_coverage_tools"):
        shutil.copytree(ROOT / "third_party/offline" / repo, dest / "third_party/offline" / repo, symlinks=True)
    return dest


def build(workspace, output_base, helper):
    def bazel(*args):
        proc = subprocess.run(["bazel", f"--output_base={output_base}", *args], cwd=workspace,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
        assert proc.returncode == 0, proc.stdout[-4000:]
        return proc.stdout

    try:
        bazel("build", *THINLTO, f"--repo_env=THINLTO_HELPER={helper}", TARGET)
        return Path(bazel("info", *THINLTO, f"--repo_env=THINLTO_HELPER={helper}", "bazel-bin").strip().splitlines()[-1])
    finally:
        subprocess.run(["bazel", f"--output_base={output_base}", "shutdown"], cwd=workspace, capture_output=True, timeout=300)


def outputs(bin_dir):
    mixed = bin_dir / "examples/mixed"
    files = [p for p in (mixed / "mixed.lto").rglob("*") if p.is_file()] + [mixed / "mixed"]
    files += [p for p in mixed.rglob("*.o") if "mixed.lto" not in p.parts]
    return {str(p.relative_to(bin_dir)): p.read_bytes() for p in files}


def test_two_checkouts_build_identical_bytes(tmp_path):
    helper = tmp_path / "thinlto"
    shutil.copy2(prebuilt_helper(), helper)
    a_ws, b_ws = checkout(tmp_path / "checkout_a"), checkout(tmp_path / "another_place/checkout_b")
    a = outputs(build(a_ws, tmp_path / "ob_a", helper))
    b = outputs(build(b_ws, tmp_path / "ob_elsewhere_b", helper))

    assert sorted(a) == sorted(b)
    assert len([f for f in a if f.endswith(".thinlto.bc")]) >= 5
    differing = sorted(f for f in a if a[f] != b[f])
    assert differing == [], f"outputs differ between checkouts: {differing}"

    leaks = [str(tmp_path).encode(), str(ROOT).encode(), b"checkout_a", b"checkout_b", b"ob_elsewhere_b"]
    leaked = sorted(f for f, data in a.items() if any(s in data for s in leaks))
    assert leaked == [], f"absolute paths of the checkout or output base in: {leaked}"
