#!/usr/bin/env python3
"""rustc's linker (`-Clinker=`) for a Rust main under distributed ThinLTO: records the link.

rustc compiles the binary's crate as always (the prelude's own compile), then calls its
linker with everything it would link: the crate's code units and its allocator shim
(bitcode under -Clinker-plugin-lto), symbols.o, the dependencies' rlibs, std's rlibs, the
system libraries and its flags. This script runs in its place and keeps all of that for the
thin link instead of linking:

- rustc's objects are copied to OUT/obj/ (they live in rustc's temporary directory), each
  classified as bitcode or native by its magic number;
- std's rlibs (outside the build's working directory: the sysroot) are copied to
  OUT/sysroot/, so that later actions, also remote ones, declare them as inputs;
- the dependencies' rlibs (inside the working directory) are named by file name: the rule
  knows them as artifacts;
- rustc's flags are kept in order; those naming its own linker setup (-fuse-ld, -B, the
  linker plugin's -plugin-opt, -L search paths, -o) are dropped;
- `@file` arguments (the prelude's `-Clink-arg=@...linker_args.txt`, the C++ deps) are
  recorded and left to the rule, which links the same deps itself.

The record (JSON, version 1) lists them in rustc's order; an empty file stands for the
binary rustc expects.

    capture_rustc_link.py --out-dir OUT --record RECORD.json LINKER-ARGS...
"""

import json
import os
import shutil
import sys

VERSION = 1
BITCODE_MAGIC = (b"BC\xc0\xde", b"\xde\xc0\x17\x0b")

# Flags about rustc's own linker setup: the thin link and the final link bring their own.
DROPPED_PREFIXES = ("-fuse-ld=", "-B", "-Wl,-plugin-opt", "-flavor")

# Flags that only mean something next to one input: the manifest cannot keep them there.
POSITIONAL = ("-Wl,--whole-archive", "-Wl,--no-whole-archive", "-Wl,--start-group", "-Wl,--end-group")


def fail(message):
    print(f"capture_rustc_link: {message}", file=sys.stderr)
    sys.exit(1)


def is_bitcode(path):
    with open(path, "rb") as f:
        return f.read(4) in BITCODE_MAGIC


def inside(path, root):
    real = os.path.realpath(path)
    return real == root or real.startswith(root + os.sep)


def copy(src, out_dir, sub, taken):
    name = os.path.basename(src)
    if name in taken[sub]:
        fail(f"two link inputs named {name}: {taken[sub][name]} and {src}")
    taken[sub][name] = src
    shutil.copyfile(src, os.path.join(out_dir, sub, name))
    return name


def capture(args, out_dir):
    cwd = os.path.realpath(os.getcwd())
    os.makedirs(os.path.join(out_dir, "obj"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "sysroot"), exist_ok=True)
    taken = {"obj": {}, "sysroot": {}}
    entries, output = [], None
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg in ("-o", "-L"):
            if i >= len(args):
                fail(f"{arg} without a value")
            if arg == "-o":
                output = args[i]
            i += 1
        elif arg.startswith("-o"):
            output = arg[2:]
        elif arg.startswith("-L") or arg.startswith(DROPPED_PREFIXES):
            pass
        elif arg.startswith(POSITIONAL):
            fail(f"rustc passed {arg}, which applies to the inputs next to it; distributed ThinLTO keeps flags before or after all inputs")
        elif arg.startswith("-Wl,--version-script") or arg.startswith("-Wl,--dynamic-list"):
            fail(f"rustc passed {arg}: a binary exporting symbols is not supported")
        elif arg.startswith("-"):
            entries.append({"kind": "flag", "value": arg})
        elif arg.startswith("@"):
            if os.path.basename(arg) == "linker-arguments":
                fail("rustc passed its link arguments in a file (the command line was too long); not supported")
            entries.append({"kind": "linker_args_file", "path": arg[1:]})
        elif arg.endswith(".o"):
            name = copy(arg, out_dir, "obj", taken)
            entries.append({"kind": "object", "name": name, "bitcode": is_bitcode(arg)})
        elif arg.endswith(".rlib") or arg.endswith(".a"):
            if inside(arg, cwd):
                if not arg.endswith(".rlib"):
                    fail(f"rustc linked the archive {arg} of the build; only rlibs of dependencies are expected there")
                entries.append({"kind": "rlib", "name": os.path.basename(os.path.realpath(arg))})
            else:
                entries.append({"kind": "sysroot", "name": copy(arg, out_dir, "sysroot", taken)})
        else:
            fail(f"unexpected link input {arg}")
    if output is None:
        fail("rustc gave no -o")
    return entries, output


def main(argv):
    if len(argv) < 5 or argv[1] != "--out-dir" or argv[3] != "--record":
        fail("usage: capture_rustc_link.py --out-dir OUT --record RECORD.json LINKER-ARGS...")
    out_dir, record, args = argv[2], argv[4], argv[5:]
    entries, output = capture(args, out_dir)
    with open(record, "w") as f:
        json.dump({"version": VERSION, "args": entries}, f, indent=1)
        f.write("\n")
    # What rustc moves to --emit=link: not the program (the thin link makes that).
    with open(output, "w"):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
