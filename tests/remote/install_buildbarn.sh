#!/usr/bin/env bash
# Builds the Buildbarn programs the remote-execution tests run (bb_storage, bb_scheduler,
# bb_worker, bb_runner) from the Go module proxy into third_party/offline/buildbarn/bin.
#
# The versions are pinned in one place, tests/remote/buildbarn/gomod/go.mod, and every
# module's hash in its go.sum. `go install pkg@version` cannot build them (see
# tests/remote/README.md): this builds that module's commands with `go install` after
# two source fixes that Buildbarn's own Bazel build makes too (go-fuse patches, the
# bytestream registration). Idempotent: prints nothing when the binaries are up to date.
# Run by tools/setup.sh.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mod="$root/tests/remote/buildbarn/gomod"
out="$root/third_party/offline/buildbarn"
bin="$out/bin"
cmds=(
  github.com/buildbarn/bb-storage/cmd/bb_storage
  github.com/buildbarn/bb-remote-execution/cmd/bb_scheduler
  github.com/buildbarn/bb-remote-execution/cmd/bb_worker
  github.com/buildbarn/bb-remote-execution/cmd/bb_runner
)
# Only when no Go >= 1.21 is installed: this Go toolchain, as a module from the proxy.
go_fallback=go1.24.5
go_fallback_sha256=b10ba2160d4c5132f25709331d80d35b6ccc31136eeda584dd7ff5fc40514f2f

say() { printf 'install_buildbarn: %s\n' "$*" >&3; }
exec 3>&2

# The binaries record what they were built from: go.mod, go.sum and this script.
want=$(cat "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)
up_to_date() {
  [[ -f "$bin/.built-from" && $(cat "$bin/.built-from") == "$want" ]] || return 1
  local c
  for c in "${cmds[@]}"; do [[ -x "$bin/${c##*/}" ]] || return 1; done
}
up_to_date && exit 0

apt_install() {
  local sudo_cmd=()
  [[ $(id -u) == 0 ]] || sudo_cmd=(sudo)
  say "installing with apt: $*"
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A go command that can build go.mod's `go 1.24.5`: Go 1.21 and later fetch the
# toolchain a module asks for by themselves (GOTOOLCHAIN=auto).
find_go() {
  local g v
  for g in "${GO:-}" "$(command -v go || true)" /usr/local/go/bin/go "$out/go/bin/go"; do
    [[ -n $g && -x $g ]] || continue
    v=$("$g" env GOVERSION 2>/dev/null || true)
    if [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
      echo "$g"
      return 0
    fi
  done
  return 1
}
if ! go=$(find_go); then
  # Debian 12 has Go 1.19 only. The Go toolchain is itself a module on the proxy.
  proxy=${GOPROXY:-https://proxy.golang.org}
  proxy=${proxy%%[,|]*}
  url="$proxy/golang.org/toolchain/@v/v0.0.1-$go_fallback.linux-amd64.zip"
  say "no Go >= 1.21 found; downloading $go_fallback from $proxy"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -sSfL --max-time 600 -o "$tmp/go.zip" "$url"
  echo "$go_fallback_sha256  $tmp/go.zip" | sha256sum --check --quiet
  rm -rf "$out/go"
  python3 - "$tmp/go.zip" "$out/go" <<'EOF'
import os, sys, zipfile
zip_path, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path) as z:
    for info in z.infolist():
        parts = info.filename.split("/", 2)  # golang.org/toolchain@v0.0.1-goX.Y.Z.linux-amd64/...
        name = parts[2] if len(parts) == 3 else ""
        if not name or info.is_dir():
            continue
        path = os.path.join(dest, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with z.open(info) as src, open(path, "wb") as dst:
            dst.write(src.read())
        # Module zips hold no modes; the go command marks these executable itself.
        if name.startswith("bin/") or name.startswith("pkg/tool/"):
            os.chmod(path, 0o755)
EOF
  rm -rf "$tmp"
  trap - EXIT
  go=$(find_go) || { say "the downloaded Go does not run"; exit 1; }
fi
command -v patch >/dev/null || apt_install patch

say "building ${cmds[*]##*/} (pinned in ${mod#"$root"/}/go.mod) with $("$go" env GOVERSION); log: ${out#"$root"/}/install.log"
# The go command's progress goes to the log, shown only if something fails.
mkdir -p "$out"
log="$out/install.log"
exec 2>"$log"
trap 'rc=$?; if ((rc)); then say "failed ($rc); the end of $log:"; tail -n 40 "$log" >&3; fi' EXIT
# go.sum pins these modules' hashes; sum.golang.org (through the proxy) has no record of them.
export GONOSUMDB='github.com/buildbarn/*,github.com/bazelbuild/remote-apis'
# The build directory lies inside this checkout's git tree: no VCS stamping.
export GOFLAGS='-mod=readonly -buildvcs=false'

# A copy of the module to build in, with two modules replaced by patched copies.
src="$out/src"
[[ -d $src ]] && chmod -R u+w "$src"
rm -rf "$src" "$bin.new"
mkdir -p "$src/patched" "$bin.new"
cp "$mod/go.mod" "$mod/go.sum" "$mod/tools.go" "$src/"
cd "$src"
module_dir() {
  local json
  json=$("$go" mod download -json "$1") || { echo "$json" >&2; return 1; }
  sed -n 's/^\t"Dir": "\(.*\)",$/\1/p' <<<"$json"
}
copy_module() {
  local from
  from=$(module_dir "$1")
  [[ -d $from ]] || { say "cannot download $1"; exit 1; }
  cp -r "$from" "$src/patched/$2"
  chmod -R u+w "$src/patched/$2"
}

# 1. go-fuse: bb-remote-execution's own patches (its MODULE.bazel applies them in this
#    order); without them pkg/filesystem/virtual/fuse does not compile
#    (undefined: fuse.ReadDirEntryList, fuse.ServerCallbacks).
patches="$(module_dir github.com/buildbarn/bb-remote-execution)/patches/com_github_hanwen_go_fuse_v2"
copy_module github.com/hanwen/go-fuse/v2 go-fuse
for p in direntrylist-offsets-and-testability writeback-cache notify-testability; do
  patch -p0 --batch --forward --quiet -d "$src/patched/go-fuse" <"$patches/$p.diff"
done

# 2. bytestream: bb_storage registers its ByteStream server on a grpc.ServiceRegistrar, as
#    code generated by today's protoc-gen-go-grpc (what Buildbarn's Bazel build uses)
#    allows; genproto's checked-in code still takes *grpc.Server.
copy_module google.golang.org/genproto/googleapis/bytestream bytestream
sed -i 's/^func RegisterByteStreamServer(s \*grpc\.Server, /func RegisterByteStreamServer(s grpc.ServiceRegistrar, /' \
  "$src/patched/bytestream/bytestream.pb.go"
grep -q '^func RegisterByteStreamServer(s grpc.ServiceRegistrar, ' "$src/patched/bytestream/bytestream.pb.go" ||
  { say "bytestream.pb.go: RegisterByteStreamServer not found"; exit 1; }

"$go" mod edit \
  -replace github.com/hanwen/go-fuse/v2=./patched/go-fuse \
  -replace google.golang.org/genproto/googleapis/bytestream=./patched/bytestream
GOBIN="$bin.new" "$go" install -trimpath -ldflags='-s -w' "${cmds[@]}"

rm -rf "$bin"
mv "$bin.new" "$bin"
echo "$want" >"$bin/.built-from"
cd "$root"
rm -rf "$src"
up_to_date
say "installed into ${bin#"$root"/}"
