#!/usr/bin/env bash
# Prepares the repositories that WORKSPACE overrides so that Bazel 4.2.3 (Debian's
# bazel-bootstrap) builds offline. Everything goes to third_party/offline/ (git-ignored):
#   rules_cc/               copy of /usr/share/bazel/rules/cc (bazel-rules-cc 0.0.4) with 2 seds:
#                           0.0.4 loads `use_cpp_toolchain` from @bazel_tools, which 4.2.3 lacks;
#                           plus cc/common/{cc_common,cc_info}.bzl as modern rules_cc has them.
#   rules_java/             stub: toolchain resolution loads @rules_java//java even for C++ only.
#   remote_coverage_tools/  stub: every *_test depends on it (`bazel coverage` will not work).
# Idempotent: quiet when there is nothing to do, one `setup: ...` line on stderr per thing created.
# Run by tools/setup.sh; can be run on its own.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
offline="$root/third_party/offline"
rules_cc_src=/usr/share/bazel/rules/cc

say() { printf 'setup: %s\n' "$*" >&2; }

# Writes $2 to file $1 only if the content differs (keeps mtimes stable, stays quiet).
write_file() {
  local path=$1 content=$2
  if [[ ! -f "$path" ]] || [[ "$(cat "$path")" != "$content" ]]; then
    mkdir -p "$(dirname "$path")"
    printf '%s\n' "$content" >"$path"
    return 0
  fi
  return 1
}

# --- rules_cc: patched copy ------------------------------------------------------------
# The stamp records the source it was copied from, so a changed bazel-rules-cc package
# (or a changed patch) triggers a fresh copy.
rules_cc_patch_version=2
rules_cc_dst="$offline/rules_cc"
rules_cc_stamp="$rules_cc_dst/.offline_deps_stamp"
if [[ ! -d "$rules_cc_src" ]]; then
  echo "offline_deps.sh: $rules_cc_src is missing (apt-get install bazel-rules-cc)" >&2
  exit 1
fi
rules_cc_want="patch=$rules_cc_patch_version src=$(dpkg-query -W -f='${Version}' bazel-rules-cc 2>/dev/null || echo unknown)"
if [[ ! -f "$rules_cc_stamp" ]] || [[ "$(cat "$rules_cc_stamp")" != "$rules_cc_want" ]]; then
  say "creating $rules_cc_dst (patched copy of $rules_cc_src for Bazel 4.2.3)"
  tmp="$rules_cc_dst.tmp.$$"
  rm -rf "$tmp"
  cp -r "$rules_cc_src" "$tmp"
  chmod -R u+w "$tmp"
  # 4.2.3's @bazel_tools//tools/cpp:toolchain_utils.bzl has no `use_cpp_toolchain`.
  sed -i \
    -e 's/, "use_cpp_toolchain")/)/' \
    -e 's/toolchains = use_cpp_toolchain(),/toolchains = ["@bazel_tools\/\/tools\/cpp:toolchain_type"],/' \
    "$tmp/cc/private/rules_impl/compiler_flag.bzl" \
    "$tmp/cc/private/rules_impl/cc_flags_supplier.bzl"
  if grep -rq 'use_cpp_toolchain' "$tmp/cc/private/rules_impl/compiler_flag.bzl" \
    "$tmp/cc/private/rules_impl/cc_flags_supplier.bzl"; then
    echo "offline_deps.sh: patching rules_cc failed (use_cpp_toolchain still referenced)" >&2
    rm -rf "$tmp"
    exit 1
  fi
  # Modern rules_cc has cc/common/{cc_common,cc_info}.bzl (Bazel 9 drops the globals);
  # 0.0.4 has not. Add them as re-exports of 4.2.3's globals, so rules load them one way.
  mkdir -p "$tmp/cc/common"
  printf '%s\n' '# Added by tools/offline_deps.sh: the cc/common files of modern rules_cc.' >"$tmp/cc/common/BUILD"
  printf '%s\n' '"""Bazel 4.2.3 globals, captured under other names (tools/offline_deps.sh)."""' '' \
    'builtin_cc_common = cc_common' 'builtin_cc_info = CcInfo' >"$tmp/cc/common/builtins.bzl"
  printf '%s\n' '"""cc_common, as modern rules_cc exports it (tools/offline_deps.sh)."""' '' \
    'load(":builtins.bzl", "builtin_cc_common")' '' 'cc_common = builtin_cc_common' >"$tmp/cc/common/cc_common.bzl"
  printf '%s\n' '"""CcInfo, as modern rules_cc exports it (tools/offline_deps.sh)."""' '' \
    'load(":builtins.bzl", "builtin_cc_info")' '' 'CcInfo = builtin_cc_info' >"$tmp/cc/common/cc_info.bzl"
  printf '%s\n' "$rules_cc_want" >"$tmp/.offline_deps_stamp"
  rm -rf "$rules_cc_dst"
  mv "$tmp" "$rules_cc_dst"
fi

# --- rules_java: stub -------------------------------------------------------------------
java_defs=""
for r in java_binary java_import java_library java_test java_plugin java_runtime \
  java_toolchain java_package_configuration; do
  java_defs+="def $r(**kwargs):"$'\n'"    native.$r(**kwargs)"$'\n\n'
done
created=()
write_file "$offline/rules_java/WORKSPACE" 'workspace(name = "rules_java")' && created+=(WORKSPACE)
write_file "$offline/rules_java/BUILD" '# Offline stub of rules_java (see tools/offline_deps.sh).' && created+=(BUILD)
write_file "$offline/rules_java/java/BUILD" '# Offline stub of rules_java (see tools/offline_deps.sh).' && created+=(java/BUILD)
write_file "$offline/rules_java/java/defs.bzl" \
  "\"\"\"Offline stub of rules_java: forwards to the native rules of Bazel 4.2.3.\"\"\"

${java_defs%$'\n\n'}" && created+=(java/defs.bzl)
((${#created[@]})) && say "created $offline/rules_java stub (${created[*]})"

# --- remote_coverage_tools: stub ---------------------------------------------------------
created=()
write_file "$offline/remote_coverage_tools/WORKSPACE" 'workspace(name = "remote_coverage_tools")' &&
  created+=(WORKSPACE)
write_file "$offline/remote_coverage_tools/stub.sh" '#!/bin/sh
echo "remote_coverage_tools is an offline stub (tools/offline_deps.sh): bazel coverage is unsupported" >&2
exit 1' && created+=(stub.sh)
chmod +x "$offline/remote_coverage_tools/stub.sh"
write_file "$offline/remote_coverage_tools/BUILD" '# Offline stub (see tools/offline_deps.sh): every *_test depends on these targets.
package(default_visibility = ["//visibility:public"])

sh_binary(
    name = "coverage_report_generator",
    srcs = ["stub.sh"],
)

sh_binary(
    name = "lcov_merger",
    srcs = ["stub.sh"],
)' && created+=(BUILD)
((${#created[@]})) && say "created $offline/remote_coverage_tools stub (${created[*]})"

exit 0
