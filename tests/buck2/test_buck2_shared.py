"""Shared libraries on Buck2 (tests/shared/BUCK): `cxx_binary(linkshared = True)` of C++ and Rust
code links a shared library with its own thin link, position-independent, exporting what its
version script names; a program that dlopens it and one linked against it (DT_NEEDED, through
the prelude's `prebuilt_cxx_library(shared_lib = ...)`, found through a RUNPATH to a symlink
tree beside it) run from any directory, with the prelude's ordinary links and with distributed
ThinLTO. tests/e2e/test_shared.py checks the same on Bazel, with the same sources."""

import ctypes
import subprocess

import pytest

from buck2_project import THINLTO, buck2_bin, helper, project  # noqa: F401
from thinlto_inspect import call_sites, functions, run

PKG = "//tests/shared"
NAMES = ["libplugin.so", "host_dlopen", "host_linked"]


@pytest.fixture(scope="module", params=["plain", "thinlto"])
def out(request, project):
    flags = THINLTO if request.param == "thinlto" else ()
    built = project.build(*[f"{PKG}:{n}" for n in NAMES], *flags)
    return request.param, {t.rsplit(":", 1)[1]: p for t, p in built.items()}


def exported(lib):
    nm = subprocess.run(["nm", "-D", "--defined-only", str(lib)], capture_output=True, text=True, check=True)
    return sorted(line.split()[-1] for line in nm.stdout.splitlines() if line.split()[1] in "TDBR")


def dynamic(binary):
    return subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True, check=True).stdout


def test_programs_load_the_library_from_any_directory(out, tmp_path):
    mode, d = out
    assert (d["libplugin.so"].parent.name == "thinlto") == (mode == "thinlto"), d
    assert run([str(d["host_dlopen"]), str(d["libplugin.so"])], cwd=tmp_path) == "dlopen: plugin_compute(5) = 84\n"
    assert run([str(d["host_linked"])], cwd=tmp_path) == "linked: plugin_compute(5) = 84\n"
    linked = dynamic(d["host_linked"])
    assert "Shared library: [libplugin.so]" in linked and "(RUNPATH)" in linked and "$ORIGIN/" in linked, linked
    assert "Library soname: [libplugin.so]" in dynamic(d["libplugin.so"])


def test_the_linked_program_loads_the_library_of_its_own_configuration(out):
    """The ThinLTO program's RUNPATH leads to the ThinLTO library, the plain one's to the plain one."""
    mode, d = out
    ldd = subprocess.run(["ldd", str(d["host_linked"])], capture_output=True, text=True, check=True).stdout
    line = next(line for line in ldd.splitlines() if "libplugin.so" in line)
    resolved = line.split("=>")[1].split("(")[0].strip()
    assert subprocess.run(["readlink", "-f", resolved], capture_output=True, text=True, check=True).stdout.strip() == str(d["libplugin.so"].resolve()), ldd


def test_the_version_script_decides_the_exports(out):
    _, d = out
    assert exported(d["libplugin.so"]) == ["plugin_compute"]


def test_the_library_has_its_own_thin_link_and_rust_is_inlined_into_cpp(project, out):
    mode, d = out
    lib = d["libplugin.so"]
    fns = functions(lib)
    callers = call_sites(fns, "weight") + call_sites(fns, "geom_area")
    if mode == "plain":
        # Without LTO plugin_compute calls into the Rust and C++ modules: what ThinLTO removes.
        assert "plugin_compute" in callers, callers
        assert not list(lib.parent.glob("**/thinlto/plan.json"))
        return
    assert "plugin_compute" in fns and callers == [], callers
    modules = [m["module"] for m in project.plan(lib)["modules"]]
    for name in ["plugin.cc.pic.o", "geom.cc.pic.o", ".rcgu.o"]:
        assert any(m.endswith(name) for m in modules), (name, modules)
    assert any("weights" in m for m in modules), modules
    flags = project.manifest(lib)["linker"]["flags"]
    assert "-shared" in flags and "-Wl,-soname,libplugin.so" in flags, flags
    assert any(f.startswith("-Wl,--version-script=") and f.endswith("plugin.lds") for f in flags), flags
    # The programs have thin links of their own, and the linked one takes the library whole.
    host = project.manifest(d["host_linked"])
    assert [e["path"] for e in host["inputs"] if e["kind"] == "object"] == [str(lib.relative_to(project.root))], host["inputs"]


PIC_BUCK = """
load("@thinlto//buck2:defs.bzl", "cxx_binary")

cxx_binary(
    name = "libcounter.so",
    srcs = ["counter.cc"],
    enable_distributed_thinlto = True,
    linkshared = True,
)
"""

# A lookup table (what a dense switch becomes) in a shared library: code that is not
# position-independent addresses it absolutely, which a shared library cannot relocate
# (lld: "relocation R_X86_64_32S cannot be used against local symbol; recompile with -fPIC").
COUNTER_CC = """
int counter = 0;
extern "C" int bump() { return ++counter; }
extern "C" int pick(int x) {
  switch (x) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 35;
    case 3: return 47;
    case 4: return 59;
    case 5: return 61;
    case 6: return 73;
    default: return -1;
  }
}
"""


def test_backends_of_a_shared_library_compile_pic_whatever_the_toolchain_says(project):
    """A toolchain for static non-PIE executables gives its backends -fno-pic; a shared
    library's backends still compile position-independent code (-fPIC last), or it would not link."""
    (project.root / "pic").mkdir(exist_ok=True)
    (project.root / "pic/BUCK").write_text(PIC_BUCK)
    (project.root / "pic/counter.cc").write_text(COUNTER_CC)
    lib = project.build1("//pic:libcounter.so", *THINLTO, "-c", "thinlto.backend_flags=-fno-pic")
    backends = project.ran("thinlto_backend")
    assert backends, "no backend ran"
    for argv in backends.values():
        compiler = argv[argv.index("--") + 1:]
        assert "-fno-pic" in compiler and compiler[-1] == "-fPIC", compiler
    assert {"bump", "counter", "pick"} <= set(exported(lib)), exported(lib)
    counter = ctypes.CDLL(str(lib))
    assert [counter.bump(), counter.bump(), counter.pick(3), counter.pick(9)] == [1, 2, 47, -1]


def test_a_shared_library_of_non_pic_objects_says_what_to_set(project):
    (project.root / "pic").mkdir(exist_ok=True)
    (project.root / "pic/BUCK").write_text(PIC_BUCK.replace("linkshared = True,", 'link_style = "static",\n    linkshared = True,'))
    (project.root / "pic/counter.cc").write_text(COUNTER_CC)
    err = project.fails("//pic:libcounter.so")
    assert 'linkshared = True links a shared library, of position-independent code: give it link_style = "static_pic"' in err, err[-4000:]
