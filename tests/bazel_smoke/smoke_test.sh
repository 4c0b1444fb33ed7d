#!/usr/bin/env bash
# Runs the smoke binary and checks its output.
set -euo pipefail
out=$("$1")
if [[ "$out" != "square(7)=49" ]]; then
  echo "unexpected output: $out" >&2
  exit 1
fi
echo "ok: $out"
