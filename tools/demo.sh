#!/usr/bin/env bash
# The main job: builds examples/mixed (C++ main and library, two Rust crates) with
# distributed ThinLTO under Bazel, runs it, and shows what happened: the actions Bazel
# ran, what each backend imported, and the calls ThinLTO inlined across languages.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# setup first: it also repairs a /dev/null that is not a device (see there).
tools/setup.sh
# Nothing here reads a terminal. cargo probes rustc with `rustc -`, which reads stdin (also
# when a repository rule runs cargo), and caches a failed probe: give everything an empty one.
exec </dev/null

log=$(mktemp -d)/exec.json
trap 'rm -rf "$(dirname "$log")"' EXIT
echo "== bazel build --config=thinlto //examples/mixed"
bazel build --config=thinlto --execution_log_json_file="$log" //examples/mixed 2>&1 | grep -E '^(INFO: [0-9]+ process|ERROR|INFO: Build)' || true
bin=$(bazel info --config=thinlto bazel-bin 2>/dev/null)
helper=$(bazel info --config=thinlto output_base 2>/dev/null)/external/thinlto_host_helper/thinlto

echo
echo "== actions run, by mnemonic"
python3 tools/thinlto_inspect.py actions "$log"

echo
echo "== the program"
"$bin/examples/mixed/mixed"

echo
echo "== what the thin link planned (thinlto explain)"
"$helper" explain --plan "$bin/examples/mixed/mixed.lto/plan.json"

echo
echo "== what main's backend declared: its module, index, imports list and pack (the bitcode it imports)"
python3 tools/thinlto_inspect.py pack "$(find "$bin/examples/mixed/mixed.lto" -name main.o.pack)"

echo
echo "== calls left in main (none to rust_square_plus_one, geometry_initialized or cpp_square: inlined)"
llvm-objdump-22 -d --no-show-raw-insn --disassemble-symbols=main "$bin/examples/mixed/mixed" | grep -E 'call' || true

echo
echo "== the HTML report of the same build, with the backends' inlining remarks (docs/report.md)"
bazel build --config=thinlto_report //examples/mixed 2>&1 | grep -E '^(ERROR|INFO: Build)' || true
echo "open $(bazel info --config=thinlto_report bazel-bin 2>/dev/null)/examples/mixed/mixed.lto/report.html"
