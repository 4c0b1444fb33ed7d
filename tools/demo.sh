#!/usr/bin/env bash
# The main job: builds examples/mixed (C++ main and library, two Rust crates) with
# distributed ThinLTO under Bazel, runs it, and shows what happened: the actions Bazel
# ran, what each backend imported, and the calls ThinLTO inlined across languages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tools/setup.sh

log=$(mktemp -d)/exec.json
trap 'rm -rf "$(dirname "$log")"' EXIT
echo "== bazel build --config=thinlto //examples/mixed"
bazel build --config=thinlto --execution_log_json_file="$log" //examples/mixed 2>&1 | grep -E '^(INFO: [0-9]+ process|ERROR|INFO: Build)' || true
bin=$(bazel info --config=thinlto bazel-bin 2>/dev/null)
helper=$(bazel info --config=thinlto output_base 2>/dev/null)/external/thinlto_host/bin/thinlto

echo
echo "== actions run, by mnemonic"
python3 - "$log" <<'PY'
import collections, json, sys
text, dec, i, seen = open(sys.argv[1]).read(), json.JSONDecoder(), 0, collections.Counter()
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text):
        spawn, i = dec.raw_decode(text, i)
        seen[spawn["mnemonic"] + (" (cached)" if spawn.get("remoteCacheHit") else "")] += 1
for mnemonic, n in sorted(seen.items()):
    print(f"  {n:3d}  {mnemonic}")
if not seen:
    print("  (nothing: everything was up to date; edit a source under examples/mixed and run again)")
PY

echo
echo "== the program"
"$bin/examples/mixed/mixed"

echo
echo "== what the thin link planned (thinlto explain)"
"$helper" explain --plan "$bin/examples/mixed/mixed.lto/plan.json"

echo
echo "== what main's backend declared: its module, index, imports list and pack (the bitcode it imports)"
python3 - "$bin/examples/mixed/mixed.lto" <<'PY'
import pathlib, sys
lto = pathlib.Path(sys.argv[1])
pack = next(lto.rglob("main.o.pack"))
header = pack.read_bytes().split(b"\n\n", 1)[0].decode().splitlines()
print(f"  {pack.relative_to(lto)}: {pack.stat().st_size} bytes, {header[0]!r}")
for line in header[1:]:
    size, path = line.split(" ", 1)
    print(f"    {int(size):7d}  {path}")
PY

echo
echo "== calls left in main (none to rust_square_plus_one, geometry_initialized or cpp_square: inlined)"
llvm-objdump-22 -d --no-show-raw-insn --disassemble-symbols=main "$bin/examples/mixed/mixed" | grep -E 'call' || true
