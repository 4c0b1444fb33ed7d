#!/usr/bin/env bash
# Benchmarks `thinlto plan` on synthetic thin-link outputs of 10,000 and
# 100,000 bitcode modules (goal: 100,000 modules in under 1 s wall and
# 300 MB peak RSS).
#
#   tools/bench/plan_bench.sh                     # this tree only
#   BASELINE=b384413 tools/bench/plan_bench.sh    # and that commit's helper, side by side
#
#   environment: RUNS=5  SIZES="10000 100000"  SEED=1  BASELINE=<git revision>
#
# Builds the helper and the fixture generator (examples/synthetic_index.rs)
# in release mode (and, with BASELINE, the helper of that revision, from
# `git archive`), writes each fixture into a temporary directory (removed on
# exit), then per size: one untimed warm-up run, RUNS timed runs of
# `thinlto plan` under /usr/bin/time (alternating with the baseline's), and
# one timed run with --backend-params. Before each timed run it deletes the
# previous run's outputs, as Bazel deletes an action's outputs before running
# it, and reads every file of the fixture once (untimed): `plan` runs right
# after the thin link that wrote these files, so they are in the page cache,
# and on a busy machine they may have been evicted since. Runs in the exec
# root with relative paths, as Bazel does. Prints every command it runs
# (stderr) and a markdown table of medians (stdout).
set -euo pipefail

RUNS=${RUNS:-5}
SIZES=${SIZES:-"10000 100000"}
SEED=${SEED:-1}
BASELINE=${BASELINE:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

say() { printf '+ %s\n' "$*" >&2; }
run() {
    say "$(printf '%q ' "$@")"
    "$@"
}

if [[ ! -x /usr/bin/time ]]; then
    run apt-get install -y time
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run cargo build --manifest-path "$ROOT/Cargo.toml" --locked --release -p thinlto --bin thinlto --example synthetic_index
TARGET=$(cargo metadata --manifest-path "$ROOT/Cargo.toml" --no-deps --format-version 1 | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
GEN=$TARGET/release/examples/synthetic_index
BUILDS=("this tree")
BINS=("$TARGET/release/thinlto")
if [[ -n $BASELINE ]]; then
    rev=$(git -C "$ROOT" rev-parse --short "$BASELINE^{commit}")
    mkdir "$WORK/baseline"
    say "git -C $(printf '%q' "$ROOT") archive $rev | tar -x -C $WORK/baseline"
    git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/baseline"
    # A target directory that outlives this run, so that the next one rebuilds nothing.
    run env CARGO_TARGET_DIR="$TARGET/plan-bench-baseline" cargo build --manifest-path "$WORK/baseline/Cargo.toml" --locked --release -p thinlto --bin thinlto
    BUILDS+=("$rev")
    BINS+=("$TARGET/plan-bench-baseline/release/thinlto")
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(rustc --version)" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ -r /proc/pressure/cpu ]]; then echo "CPU pressure before: $(head -1 /proc/pressure/cpu)" >&2; fi

# reads every file below $1, so that the next run finds them in the page cache
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
# median / min / max of numbers, one per line
stats() { sort -g | awk '{v[NR] = $1} END {printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
thousands() { echo "$1" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta'; }

lto=bazel-out/k8-opt/bin/app.lto
args=(plan --manifest manifest.json --index-list "$lto/index.list" --out "$lto/plan.json")
ROWS=()
for n in $SIZES; do
    dir=$WORK/$n
    run "$GEN" --modules "$n" --out "$dir" --seed "$SEED"
    # As Bazel runs it: in the exec root, every path relative to it.
    cd "$dir"
    say "cd $(printf '%q' "$dir")"
    declare -A walls=() rsss=() cpus=()
    for b in "${!BINS[@]}"; do
        say "warm-up: $(printf '%q ' "${BINS[$b]}" "${args[@]}")"
        "${BINS[$b]}" "${args[@]}"
    done
    for ((r = 1; r <= RUNS; r++)); do
        for b in "${!BINS[@]}"; do
            rm -f "$lto/plan.json"
            warm .
            say "run $r/$RUNS: /usr/bin/time -f '%e %M %U %S' $(printf '%q ' "${BINS[$b]}" "${args[@]}")"
            /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "${BINS[$b]}" "${args[@]}"
            read -r wall rss user sys <"$WORK/time"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
            echo "  $n modules, ${BUILDS[$b]}, run $r: $wall s wall, $cpu s CPU (user $user + sys $sys), $(mb "$rss") MB" >&2
            walls[$b]+="$wall "
            rsss[$b]+="$rss "
            cpus[$b]+="$cpu "
        done
    done
    plan_mb=$(awk -v b="$(stat -c %s "$lto/plan.json")" 'BEGIN {printf "%.1f", b / 1e6}')
    for b in "${!BINS[@]}"; do
        read -r wall_med wall_min wall_max < <(printf '%s\n' ${walls[$b]} | stats)
        read -r rss_med _ _ < <(printf '%s\n' ${rsss[$b]} | stats)
        read -r cpu_med _ _ < <(printf '%s\n' ${cpus[$b]} | stats)

        rm -f "$lto/plan.json"
        find "$lto" -name '*.inputs' -delete
        warm .
        say "once: /usr/bin/time -f '%e %M' $(printf '%q ' "${BINS[$b]}" "${args[@]}") --backend-params"
        /usr/bin/time -f '%e %M' -o "$WORK/time" "${BINS[$b]}" "${args[@]}" --backend-params
        read -r bp_wall bp_rss <"$WORK/time"
        echo "  $n modules, ${BUILDS[$b]}, --backend-params: $bp_wall s, $(mb "$bp_rss") MB, $(find "$lto" -name '*.inputs' | wc -l) .inputs files" >&2

        ROWS+=("| $(thousands "$n") | ${BUILDS[$b]} | $wall_med | $wall_min – $wall_max | $cpu_med | $(mb "$rss_med") | $plan_mb | $bp_wall | $(mb "$bp_rss") |")
    done
    unset walls rsss cpus
    cd "$ROOT"
    rm -rf "$dir"
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [[ -r /proc/pressure/cpu ]]; then echo "CPU pressure after: $(head -1 /proc/pressure/cpu)" >&2; fi
echo
echo "| modules | helper | median wall (s) | min – max wall (s) | median CPU, user + sys (s) | median peak RSS (MB) | plan.json (MB) | with --backend-params, once: wall (s) | peak RSS (MB) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "$RUNS runs per size and helper after one warm-up, alternating; --backend-params once. Seed $SEED."
