"""Link flags keep the order and repetition Bazel's own link gives them (tests/linkflags):
`-Xlinker --defsym=...` pairs from a library, the same `-lm` from two libraries, the binary's
linkopts, --linkopt. Before, a second `-Xlinker` vanished and the thin link failed."""

import json

from conftest import THINLTO, bazel, bin_dir, run

PKG = "tests/linkflags"
USER_FLAGS = ("-Xlinker", "--defsym=", "-l", "-fuse-ld=lld")


def user_flags(flags):
    return [f for f in flags if f.startswith(USER_FLAGS)]


def test_link_flags_as_bazels_own_link_orders_them():
    bazel("build", *THINLTO, f"//{PKG}:all")
    out = bin_dir(*THINLTO) / PKG
    assert run([str(out / "flags")]) == run([str(out / "flags_native")]) == "101 101 101 101 4.0\n"
    ours = json.loads((out / "flags.lto/manifest.json").read_text())["linker"]["post_flags"]
    native = (out / "flags_native-2.params").read_text().split("\n")
    # Bazel's own link: the binary's linkopts, its libraries' (each as given), --linkopt, then
    # the toolchain's own libraries (which our link takes before the inputs).
    expected = user_flags(native)[:user_flags(native).index("-fuse-ld=lld") + 1]
    assert user_flags(ours)[:len(expected)] == expected, (ours, native)
    assert ours.count("-Xlinker") == 4 and ours.count("-lm") == 2, ours
