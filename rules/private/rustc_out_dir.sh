#!/bin/sh
# rustc with OUT_DIR made absolute, for include!(concat!(env!("OUT_DIR"), ...)), which rustc
# resolves against the including file; the exec root is remapped away again, so that no
# absolute path reaches the output. Usage: rustc_out_dir.sh RUSTC ARGS... (OUT_DIR set).
set -eu
rustc=$1
shift
OUT_DIR="$PWD/$OUT_DIR" exec "$rustc" "$@" "--remap-path-prefix=$PWD=."
