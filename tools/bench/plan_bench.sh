#!/usr/bin/env bash
# Benchmarks building the plan (what `thinlto index` does after lld returns: read the
# manifest, check every module's index and imports list, write plan.json) on synthetic
# thin-link outputs of 10,000 and 100,000 bitcode modules (goal: 100,000 modules in
# under 1 s wall and 300 MB peak RSS).
#
#   tools/bench/plan_bench.sh                     # this tree only
#   BASELINE=<rev> tools/bench/plan_bench.sh      # and that revision's, side by side
#
#   environment: RUNS=5  SIZES="10000 100000"  SEED=1  BASELINE=<git revision>
#
# Builds the example tools/thinlto/examples/plan_bench.rs in release mode (and, with
# BASELINE, that revision's, from `git archive`; it must have the same example), writes
# each fixture into a temporary directory (removed on exit), then per size: one untimed
# warm-up run, RUNS timed runs under /usr/bin/time (alternating with the baseline's).
# Before each timed run it deletes the previous plan.json, as Bazel deletes an action's
# outputs before running it, and reads every file of the fixture once (untimed): the plan
# is built right after the thin link wrote these files, so they are in the page cache. Runs
# in the exec root with relative paths, as Bazel does. Prints every command it runs
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

run cargo build --manifest-path "$ROOT/Cargo.toml" --locked --release -p thinlto --example plan_bench
TARGET=$(cargo metadata --manifest-path "$ROOT/Cargo.toml" --no-deps --format-version 1 | sed -E 's/.*"target_directory":"([^"]*)".*/\1/')
BUILDS=("this tree")
BINS=("$TARGET/release/examples/plan_bench")
if [[ -n $BASELINE ]]; then
    rev=$(git -C "$ROOT" rev-parse --short "$BASELINE^{commit}")
    mkdir "$WORK/baseline"
    say "git -C $(printf '%q' "$ROOT") archive $rev | tar -x -C $WORK/baseline"
    git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/baseline"
    # A target directory that outlives this run, so that the next one rebuilds nothing.
    run env CARGO_TARGET_DIR="$TARGET/plan-bench-baseline" cargo build --manifest-path "$WORK/baseline/Cargo.toml" --locked --release -p thinlto --example plan_bench
    BUILDS+=("$rev")
    BINS+=("$TARGET/plan-bench-baseline/release/examples/plan_bench")
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(rustc --version)" >&2
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# reads every file below $1, so that the next run finds them in the page cache
warm() { find "$1" -type f -print0 | xargs -0 cat >/dev/null; }
# median / min / max of numbers, one per line
stats() { sort -g | awk '{v[NR] = $1} END {printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
thousands() { echo "$1" | sed -E ':a; s/([0-9])([0-9]{3})($|,)/\1,\2\3/; ta'; }

plan=bazel-out/k8-opt/bin/app.lto/plan.json
ROWS=()
for n in $SIZES; do
    dir=$WORK/$n
    run "${BINS[0]}" write --modules "$n" --out "$dir" --seed "$SEED"
    declare -A walls=() rsss=() cpus=()
    for b in "${!BINS[@]}"; do
        say "warm-up: $(printf '%q ' "${BINS[$b]}") plan --exec-root $dir"
        "${BINS[$b]}" plan --exec-root "$dir"
    done
    for ((r = 1; r <= RUNS; r++)); do
        for b in "${!BINS[@]}"; do
            rm -f "$dir/$plan"
            warm "$dir"
            say "run $r/$RUNS: /usr/bin/time -f '%e %M %U %S' $(printf '%q ' "${BINS[$b]}") plan --exec-root $dir"
            /usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "${BINS[$b]}" plan --exec-root "$dir"
            read -r wall rss user sys <"$WORK/time"
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
            echo "  $n modules, ${BUILDS[$b]}, run $r: $wall s wall, $cpu s CPU (user $user + sys $sys), $(mb "$rss") MB" >&2
            walls[$b]+="$wall "
            rsss[$b]+="$rss "
            cpus[$b]+="$cpu "
        done
    done
    plan_mb=$(awk -v b="$(stat -c %s "$dir/$plan")" 'BEGIN {printf "%.1f", b / 1e6}')
    for b in "${!BINS[@]}"; do
        read -r wall_med wall_min wall_max < <(printf '%s\n' ${walls[$b]} | stats)
        read -r rss_med _ _ < <(printf '%s\n' ${rsss[$b]} | stats)
        read -r cpu_med _ _ < <(printf '%s\n' ${cpus[$b]} | stats)
        ROWS+=("| $(thousands "$n") | ${BUILDS[$b]} | $wall_med | $wall_min – $wall_max | $cpu_med | $(mb "$rss_med") | $plan_mb |")
    done
    unset walls rsss cpus
    rm -rf "$dir"
done

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo
echo "| modules | build | median wall (s) | min – max wall (s) | median CPU, user + sys (s) | median peak RSS (MB) | plan.json (MB) |"
echo "|---:|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${ROWS[@]}"
echo
echo "$RUNS runs per size and build after one warm-up, alternating. Seed $SEED."
