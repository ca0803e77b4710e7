#!/usr/bin/env bash
# Runs the VM lane again and again with CPU hogs beside it, and compares every spec's verdict
# and observed state across the runs: a verdict that depends on how fast the machine is
# shows up as a difference. Not a test: a measurement, recorded in docs/reliability.md.
#
#   ci/soak.sh [RUNS] [HOGS]     default 20 runs, 1 hog (a busy loop per hog, each on a core)
#
# Needs make build. Each run's JUnit, log and matrix go to ${SOAK_DIR:-build/soak}/; the
# matrix of each run (gpiohil report --md: a cell per spec, its verdict mark and the state
# observed) is compared with the first run's. Exit status 1 when any run differs.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-20}
hogs=${2:-1}
out=${SOAK_DIR:-build/soak}
bin=${GPIOHIL:-bin/gpiohil}
[ -x "$bin" ] || { echo "soak: $bin not found; run make build first" >&2; exit 2; }
rm -rf "$out" && mkdir -p "$out"

pids=()
stop_hogs() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  ( while :; do :; done ) &
  pids+=($!)
done

# The matrix without its first lines (legend, platforms): the rows only.
rows() { sed -n '/^## /,$p' "$1"; }

differ=0
start=$(date +%s)
for i in $(seq "$runs"); do
  t0=$(date +%s.%N)
  "$bin" run --bench vm --junit "$out/run-$i.xml" >"$out/run-$i.log" 2>&1 || true
  "$bin" report --md "$out/run-$i.md" "$out/run-$i.xml" 2>>"$out/run-$i.log" || true
  summary=$(grep -h '^gpiohil run:' "$out/run-$i.log" | tail -1)
  t1=$(date +%s.%N)
  if [ "$i" -gt 1 ] && ! diff <(rows "$out/run-1.md") <(rows "$out/run-$i.md") >"$out/diff-$i.txt"; then
    differ=$((differ + 1))
    echo "run $i/$runs ($(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s): DIFFERS from run 1: $(grep -c '^>' "$out/diff-$i.txt") rows; $summary"
  else
    rm -f "$out/diff-$i.txt"
    echo "run $i/$runs ($(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s): same as run 1; $summary"
  fi
done
echo
echo "soak: $runs runs of gpiohil run --bench vm with $hogs CPU hog(s) in $(( $(date +%s) - start )) s: $differ differed from the first"
if [ "$differ" -gt 0 ]; then
  echo "rows that differed (count, row):"
  cat "$out"/diff-*.txt | grep '^[<>]' | sort | uniq -c | sort -rn | head -40
  exit 1
fi
