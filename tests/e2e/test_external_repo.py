"""A cc_binary in another repository (a local_repository) links through the thin link: its
per-module files land under that repository's output directory, where it declared them."""

import json

from conftest import THINLTO, bazel, bin_dir, call_sites, functions, run

TARGET = "@thinlto_external_test//:app"


def test_binary_in_an_external_repository():
    bazel("build", *THINLTO, TARGET)
    out = bin_dir(*THINLTO) / "external/thinlto_external_test"
    assert run([str(out / "app")]) == "offset_scaled(2) = 7\n"
    plan = json.loads((out / "app.lto/plan.json").read_text())
    assert plan["modules"], plan
    for m in plan["modules"]:
        assert "/external/thinlto_external_test/app.lto/" in m["index"], m
    # Rust into C++, and C++ into Rust, across the language boundary.
    fns = functions(out / "app")
    assert call_sites(fns, "offset_scaled") == [] and call_sites(fns, "scale") == [], fns["main"]
