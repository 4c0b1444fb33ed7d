"""Debian's bazel-bootstrap (Bazel 4.2.3) ships @bazel_tools without tools/zip:unzip_fdo, on
which every cc_toolchain depends once --fdo_profile is set (upstream Bazel has it). This makes a
copy of that Bazel's own @bazel_tools with the target added, for tests and benchmarks that
use profiles: `--override_repository=bazel_tools=<copy>`."""

import shutil
from pathlib import Path


def override_flags(install_base, output_base):
    """The flags that give the Bazel of `install_base` an @bazel_tools with unzip_fdo (none if
    it has one). The copy lives in `output_base`, outside any workspace."""
    embedded = Path(install_base) / "embedded_tools"
    if "unzip_fdo" in (embedded / "tools/zip/BUILD").read_text():
        return ()
    print("PATCHING: this Bazel's @bazel_tools lacks tools/zip:unzip_fdo (Debian packaging); using a copy with it")
    copy = Path(output_base) / "thinlto_bazel_tools"
    script = copy / "tools/zip/unzip_fdo.sh"
    if not script.exists():
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(embedded, copy, symlinks=False)
        script.write_text("#!/bin/sh\necho 'unzip_fdo: zipped profiles are not supported here' >&2\nexit 1\n")
        script.chmod(0o755)
        with open(copy / "tools/zip/BUILD", "a") as f:
            f.write('\nfilegroup(name = "unzip_fdo", srcs = ["unzip_fdo.sh"])\n')
    return (f"--override_repository=bazel_tools={copy}",)
