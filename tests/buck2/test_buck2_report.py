"""The report on Buck2 (docs/report.md): the sub-target `[thinlto-report]` of a ThinLTO binary is
`thinlto report`'s HTML page, and `[thinlto] remarks = true` makes every backend write its
inliner's remarks (`<object>.remarks.yaml`, declared outputs of the backend actions) for it.

The page is opened in headless Chromium with the Browser of tests/e2e/test_report.py (imported,
not copied): it lists every module of the plan, and, with remarks, the calls inlined across the
language boundary that the disassembly shows (tests/buck2/test_buck2.py)."""

import sys

import pytest

from buck2_project import ROOT, THINLTO, buck2_bin, helper, project  # noqa: F401
from thinlto_inspect import run

sys.path.insert(0, str(ROOT / "tests/e2e"))
from test_report import browser  # noqa: E402,F401  (headless Chromium, fails without one)

TARGET = "//examples/mixed:mixed"
REPORT = TARGET + "[thinlto-report]"
REMARKS = ("-c", "thinlto.remarks=true")
EXPECTED = (ROOT / "examples/mixed/expected_output.txt").read_text().splitlines()
# What the disassembly shows (test_buck2.py): Rust into C++'s main, C++ into Rust.
CROSS_LANGUAGE_INLINES = [
    ("Rust rust_square_plus_one", "inlined into", "C++ main"),
    ("C++ cpp_square", "inlined into", "Rust rust_square_plus_one"),
    ("C++ cpp_square", "inlined into", "Rust stats::sum_of_squares"),
]


@pytest.fixture(scope="module")
def with_remarks(project):
    out = project.build(TARGET, REPORT, *THINLTO, *REMARKS)
    binary, report = out[f"root{TARGET}"], out[f"root{REPORT}"]
    return {"binary": binary, "report": report, "plan": project.plan(binary), "backends": project.ran("thinlto_backend"),
            "reports": project.ran("thinlto_report")}


def remarks_file(project, module):
    return project.root / (module["object"] + ".remarks.yaml")


def test_the_report_is_an_html_page_naming_the_program(with_remarks):
    report, plan = with_remarks["report"], with_remarks["plan"]
    html = report.read_text()
    assert report.stat().st_size > 20_000, report.stat().st_size
    assert html.startswith("<!DOCTYPE html>"), html[:200]
    assert f"<title>ThinLTO report: {plan['output']}</title>" in html, html[:2000]
    assert run([str(with_remarks["binary"])]).splitlines() == EXPECTED


def test_the_report_lists_every_module_of_the_plan(browser, with_remarks):
    plan = with_remarks["plan"]
    assert len(plan["modules"]) >= 4
    browser.open(with_remarks["report"], "#tab=modules")
    assert sorted(cells[0] for cells in browser.rows()) == sorted(m["module"] for m in plan["modules"])
    assert browser.problems() == []


def test_the_report_shows_the_cross_language_inlines(browser, with_remarks):
    browser.open(with_remarks["report"], "#tab=cross")
    rows = {(r[0], r[1], r[2]) for r in browser.rows()}
    for expected in CROSS_LANGUAGE_INLINES:
        assert expected in rows, f"{expected} not among the cross-language rows: {sorted(rows)}"
    assert browser.problems() == []


def test_each_loaded_backend_wrote_its_declared_remarks(project, with_remarks):
    plan, backends = with_remarks["plan"], with_remarks["backends"]
    loaded = [m for m in plan["modules"] if m["loaded"]]
    assert len(backends) == len(loaded), backends
    for argv in backends.values():
        module = next(m for m in loaded if m["module"] == argv[argv.index("--module") + 1])
        assert argv[argv.index("--remarks") + 1] == module["object"] + ".remarks.yaml", argv
    # Every backend wrote its file (empty where the inliner had nothing to say); main's has
    # the inliner's decisions.
    assert all(remarks_file(project, m).is_file() for m in loaded)
    main = next(m for m in loaded if m["module"].endswith("main.cc.pic.o"))
    text = remarks_file(project, main).read_text()
    assert "--- !Passed" in text and "Pass:            inline" in text and "rust_square_plus_one" in text, text[:2000]
    # The report read the remarks of exactly the backends that ran (an unloaded module has none).
    (argv,) = with_remarks["reports"].values()
    given = [argv[i + 1] for i, a in enumerate(argv) if a == "--remarks"]
    assert sorted(given) == sorted(m["object"] + ".remarks.yaml" for m in loaded), argv
    for m in plan["modules"]:
        if not m["loaded"]:
            assert not remarks_file(project, m).exists(), m


def test_remarks_do_not_change_the_program(project, with_remarks):
    with_them = with_remarks["binary"].read_bytes()
    out = project.build1(TARGET, *THINLTO)
    assert out == with_remarks["binary"]
    assert project.ran("thinlto_backend"), "the backends did not re-run without --remarks"
    assert out.read_bytes() == with_them


def test_without_remarks_the_report_runs_no_backend(browser, project, with_remarks):
    """The report reads the plan, the modules and their indexes: asked for alone, it runs no
    backend (here every backend's command changed, and none ran), and says no remarks were written."""
    report = project.build1(REPORT, *THINLTO, "-c", "thinlto.backend_flags=-DTHINLTO_REPORT_ONLY")
    assert project.ran("thinlto_report")
    assert project.ran("thinlto_backend") == {}
    browser.open(report, "#tab=cross")
    assert browser.rows() == []
    assert "made without optimization remarks" in browser.js("document.querySelector('#view').textContent")
    browser.open(report, "#tab=modules")
    assert sorted(cells[0] for cells in browser.rows()) == sorted(m["module"] for m in with_remarks["plan"]["modules"])
    assert browser.problems() == []


def test_a_rust_main_has_a_report_too(browser, project):
    out = project.build("//tests/shapes:rust_chain", "//tests/shapes:rust_chain[thinlto-report]", *THINLTO, *REMARKS)
    binary, report = out["root//tests/shapes:rust_chain"], out["root//tests/shapes:rust_chain[thinlto-report]"]
    plan = project.plan(binary)
    browser.open(report, "#tab=modules")
    assert sorted(cells[0] for cells in browser.rows()) == sorted(m["module"] for m in plan["modules"])
    browser.open(report, "#tab=cross")
    # Rust -> C++ -> Rust -> C++: the chain's calls are inlined across the boundary.
    assert any(r[1] == "inlined into" for r in browser.rows()), browser.rows()
    assert browser.problems() == []


def test_a_remarks_setting_that_is_not_a_bool_says_so(project):
    err = project.fails(*THINLTO, "-c", "thinlto.remarks=yes", TARGET)
    assert '[thinlto] remarks = "yes" is neither true nor false' in err, err[-4000:]
