#!/usr/bin/env bash
# Runs every test of rules_thinlto on this machine: the Rust helper's lint, unit and
# integration tests (real clang-22, lld-22, rustc), buildifier, and the end-to-end tests
# with real Bazel 4.2.3. Installs what is missing first (tools/setup.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# setup first: it also repairs a /dev/null that is not a device (see there).
tools/setup.sh
# Nothing here reads a terminal. cargo probes rustc with `rustc -`, which reads stdin (also
# when a repository rule runs cargo), and caches a failed probe: give everything an empty one.
exec </dev/null

echo "== cargo fmt / clippy"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo test (unit and integration)"
cargo test --workspace --quiet

echo "== end-to-end: Bazel (tests/e2e), Buck2 (tests/buck2, skipped without a buck2)"
python3 -m pytest -q -rs tests/e2e tests/buck2
