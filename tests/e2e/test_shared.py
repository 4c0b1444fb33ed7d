"""A shared library (`cc_binary(linkshared = True)`) of C++ and Rust code gets its own thin
link (tests/shared): its Rust and C++ modules are inlined into its one exported function, its
version script still decides what it exports, and both a program that dlopens it and one linked
against it (DT_NEEDED, found through the RUNPATH Bazel's own link would give) run from any
directory, without and with thin_lto."""

import json
import subprocess

import pytest

from conftest import THINLTO, bazel, bin_dir, call_sites, functions, run

PKG = "tests/shared"


@pytest.fixture(scope="module", params=["plain", "thinlto"])
def out(request):
    flags = THINLTO if request.param == "thinlto" else ()
    bazel("build", *flags, f"//{PKG}:all")
    return request.param, bin_dir(*flags) / PKG


def exported(lib):
    nm = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True)
    return sorted(line.split()[-1] for line in nm.stdout.splitlines() if line.split()[1] in "TDBR")


def test_programs_load_the_library_from_any_directory(out, tmp_path):
    _, d = out
    lib = d / "libplugin.so"
    assert run([str(d / "host_dlopen"), str(lib)], cwd=tmp_path) == "dlopen: plugin_compute(5) = 84\n"
    assert run([str(d / "host_linked")], cwd=tmp_path) == "linked: plugin_compute(5) = 84\n"
    dynamic = subprocess.run(["readelf", "-d", str(d / "host_linked")], capture_output=True, text=True, check=True).stdout
    assert "[libplugin.so]" in dynamic and "$ORIGIN/" in dynamic, dynamic


def test_the_version_script_decides_the_exports(out):
    _, d = out
    assert exported(d / "libplugin.so") == ["plugin_compute"]


def test_the_library_has_its_own_thin_link_and_rust_is_inlined_into_cpp(out):
    mode, d = out
    fns = functions(d / "libplugin.so")
    callers = call_sites(fns, "weight") + call_sites(fns, "geom_area")
    if mode == "plain":
        # Without LTO plugin_compute calls into the Rust and C++ modules: what ThinLTO removes.
        assert "plugin_compute" in callers, callers
        assert not (d / "libplugin.so.lto").exists()
        return
    assert "plugin_compute" in fns and callers == [], callers
    plan = json.loads((d / "libplugin.so.lto/plan.json").read_text())
    modules = [m["module"] for m in plan["modules"]]
    for name in ["plugin.pic.o", "geom.pic.o", "weights.o"]:
        assert any(m.endswith(name) for m in modules), (name, modules)
    # Backends of a shared library compile position-independent code.
    manifest = json.loads((d / "libplugin.so.lto/manifest.json").read_text())
    assert "-shared" in manifest["linker"]["flags"], manifest["linker"]["flags"]
