"""The examples build and run with and without distributed ThinLTO, and inline across languages."""

import pytest

from conftest import ROOT, THINLTO, bazel, bin_dir, call_sites, functions, run

EXPECTED = {
    "mixed": (ROOT / "examples/mixed/expected_output.txt").read_text().splitlines(),  # shared with tests/buck2
    "cpp": ["square(7) = 49, cube(7) = 343"],
    "rust": ["hello, THINLTO! (2 vowels)"],
}


@pytest.fixture(scope="module")
def plain():
    bazel("build", "//examples/...")
    return {name: bin_dir() / "examples" / name / name for name in EXPECTED}


@pytest.fixture(scope="module")
def thinlto():
    bazel("build", *THINLTO, "//examples/...")
    return {name: bin_dir(*THINLTO) / "examples" / name / name for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_runs_without_thinlto(plain, name):
    assert run([str(plain[name])]).splitlines() == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_runs_with_thinlto(thinlto, name):
    assert run([str(thinlto[name])]).splitlines() == EXPECTED[name]
    lto = thinlto[name].parent / f"{name}.lto"
    assert (lto / "plan.json").is_file(), f"{name} was not linked through the thin link"


def test_rust_inlined_into_cpp_and_cpp_into_rust(thinlto, plain):
    fns = functions(thinlto["mixed"])
    # Rust into C++: main calls rust_square_plus_one (Rust) and geometry_initialized (C++).
    assert call_sites(fns, "rust_square_plus_one") == [], fns["main"]
    assert call_sites(fns, "geometry_initialized") == [], fns["main"]
    # C++ into Rust: cpp_square's only callers are the Rust crate stats.
    assert call_sites(fns, "cpp_square") == []
    # Rust into Rust across crates: report's loop calls stats::sum_of_squares.
    assert call_sites(fns, "sum_of_squares") == []
    assert "rust_report" in fns and "main" in fns

    # Without ThinLTO every one of those calls is there: the assertions above can fail.
    base = functions(plain["mixed"])
    assert call_sites(base, "rust_square_plus_one") == ["main"]
    # (an ordinary link calls cpp_square through the GOT: an indirect call)
    assert any("call" in i for i in base["rust_square_plus_one"]), base["rust_square_plus_one"]
    assert call_sites(base, "sum_of_squares") != []
