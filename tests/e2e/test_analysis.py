"""The analysis tests (tests/analysis, skylib's analysistest): the actions and providers the
rules create, and their error messages, checked without running any action."""

from conftest import bazel


def test_analysis_tests_pass():
    out = bazel("test", "//tests/analysis/...").stdout
    assert "PASSED" in out and "FAILED" not in out, out[-4000:]
