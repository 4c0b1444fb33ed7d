#!/usr/bin/env bash
# Installs what rules_thinlto needs on a fresh Debian 12 machine and prepares the
# offline Bazel dependencies inside this checkout (third_party/offline/).
# Idempotent: prints nothing when there is nothing to do, and names what it installs.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
apt_pkgs=(clang-22 lld-22 llvm-22 libclang-rt-22-dev bazel-bootstrap bazel-platforms bazel-rules-cc bazel-skylib chromium)

say() { printf 'setup: %s\n' "$*" >&2; }
sudo_cmd=(); [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)

# Some machines boot with /dev/null as a regular file: it then keeps whatever was last written
# to it, and every `rustc -` that cargo runs on a "null" stdin compiles that text and fails
# (cargo caches the failure). Put the device back before anything runs.
if [[ ! -c /dev/null ]]; then
  say "WARNING: /dev/null is not a character device; recreating it (mknod c 1 3)"
  # Made beside it and renamed over it: a machine that forbids mknod keeps the file it had.
  "${sudo_cmd[@]}" mknod -m 666 /dev/null.thinlto c 1 3
  "${sudo_cmd[@]}" mv -f /dev/null.thinlto /dev/null
fi

missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing with apt: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

buildifier_version=8.2.1
node_dir="$root/third_party/offline/node"
if [[ ! -x "$node_dir/node_modules/.bin/buildifier" ]]; then
  say "installing with npm: @bazel/buildifier@$buildifier_version"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install --silent --no-audit --no-fund "@bazel/buildifier@$buildifier_version" >/dev/null)
fi

if ! python3 -c "import pytest, websocket" >/dev/null 2>&1; then
  say "installing with pip: pytest websocket-client"
  python3 -m pip install --quiet pytest websocket-client
fi

# The crates.io sources of the real-code test (tests/realcode), as its Cargo.lock pins them.
realcode="$root/tests/realcode"
if ! cmp -s "$realcode/Cargo.lock" "$realcode/vendor/.thinlto-vendored-lock" 2>/dev/null; then
  say "fetching crates.io sources for tests/realcode (cargo vendor --locked)"
  rm -rf "$realcode/vendor.tmp"
  cargo vendor --quiet --locked --versioned-dirs --manifest-path "$realcode/Cargo.toml" "$realcode/vendor.tmp" >/dev/null
  cp "$realcode/Cargo.lock" "$realcode/vendor.tmp/.thinlto-vendored-lock"
  rm -rf "$realcode/vendor"
  mv "$realcode/vendor.tmp" "$realcode/vendor"
fi

"$root/tools/offline_deps.sh"
"$root/tests/remote/install_buildbarn.sh"
