#!/usr/bin/env bash
# Runs every benchmark docs/performance.md quotes, each with the command the document prints,
# and prints a summary of their results. `make bench` calls it once everything is built.
#
#   ci/bench.sh            every benchmark
#   ci/bench.sh NAME...    only these: boot guestclock observe runner fullrun timeline mainjob rpi3 userland bootbare loopback
#
# Environment (make bench passes the first two): GPIOHIL_BIN, the gpiohil binary (default
# bin/gpiohil); GPIOHIL_BIN_ARM64, the arm64 one for the emulated Pi (default
# bin/gpiohil-arm64); GO, the go command (default go).
# Each benchmark's whole output goes to build/bench/NAME.txt. A benchmark that fails does not
# stop the others; the script then ends with status 1 and names it.
#
# The benchmarks that time sub-millisecond work inside the VM (observe, loopback) refuse to
# report when the VM's kernel counts time in jiffies (4 ms steps), which happens when it could
# not calibrate the TSC at boot, about one boot in ten on a busy two-core host. Such a
# benchmark is run again, up to twice, in a fresh VM; the summary says so.
#
# The commands are checked against docs/performance.md before anything runs: a command the
# document does not print word for word is an error, so the two cannot drift apart.
set -euo pipefail

cd "$(dirname "$0")/.."
export GPIOHIL_BIN="${GPIOHIL_BIN:-$PWD/bin/gpiohil}"
export GPIOHIL_BIN_ARM64="${GPIOHIL_BIN_ARM64:-$PWD/bin/gpiohil-arm64}"
go() { command "${GO:-go}" "$@"; }
doc=docs/performance.md
logs=build/bench

# name | command, exactly as docs/performance.md prints it
benches=(
  "boot|go test -run '^\$' -bench Boot -benchtime 9x ./harness/vm/"
  "guestclock|go test -run '^\$' -bench GuestClock -benchtime 9x ./harness/vm/"
  "observe|go test -run '^\$' -bench Observe -benchtime 500x ./harness/bench/"
  "runner|go test -run '^\$' -bench RunnerOverhead -benchtime 500x ./harness/runner/"
  "fullrun|go test -run '^\$' -bench FullRun -benchtime 3x -timeout 30m ./suites/launch/"
  "timeline|go test -run '^\$' -bench TimelineOverhead -benchtime 5x -timeout 30m ./suites/launch/"
  "mainjob|go test -run '^\$' -bench MainJob -benchtime 3x -timeout 30m ./suites/launch/"
  "rpi3|go test -run '^\$' -bench Boot -benchtime 5x ./harness/vm/rpi3/"
  "userland|go test -run '^\$' -bench Userland -benchtime 6x ./harness/vm/rpi3/"
  "bootbare|go test -run '^\$' -bench BootBare -benchtime 5x ./harness/vm/rpi3/"
  "loopback|go test -run '^\$' -bench . -benchtime 20x -count 5 ./loopback/"
)

die() { echo "ci/bench.sh: $*" >&2; exit 1; }

selected=()
for b in "${benches[@]}"; do
  name=${b%%|*}
  if [ $# -eq 0 ] || [[ " $* " == *" $name "* ]]; then selected+=("$b"); fi
done
for want in "$@"; do
  printf '%s\n' "${benches[@]}" | grep -q "^$want|" || die "no benchmark named $want (see the list in $0)"
done
for b in "${selected[@]}"; do
  cmd=${b#*|}
  grep -qF -- "$cmd" "$doc" || die "$doc does not print the command of ${b%%|*}: $cmd"
done
for f in "$GPIOHIL_BIN" "$GPIOHIL_BIN_ARM64"; do
  [ -x "$f" ] || die "no $f: run make build build-arm64 first"
done

# summarize LOG prints each benchmark's metrics: the median over its -count runs, and every
# run when there are several. ns/op is shown as ms/op and left out when a benchmark reports 0.
summarize() {
  awk '
    /^pkg: / { pkg = $2; sub(/^github.com\/gpiohil\/gpiohil\//, "", pkg) }
    /^Benchmark[^ \t]*[ \t]+[0-9]+[ \t]/ {
      name = $1; sub(/-[0-9]+$/, "", name); key = name " (" pkg ")"
      if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      for (i = 3; i < NF; i += 2) {
        v = $i; u = $(i + 1)
        if (u == "ns/op") { if (v + 0 == 0) continue; v = v / 1e6; u = "ms/op" }
        mk = key SUBSEP u
        if (!(mk in cnt)) { units[key] = units[key] " " u }
        vals[mk, ++cnt[mk]] = v
      }
    }
    function median(mk, c,   i, j, t, a) {
      for (i = 1; i <= c; i++) a[i] = vals[mk, i] + 0
      for (i = 2; i <= c; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
    }
    END {
      for (k = 1; k <= n; k++) {
        key = order[k]; print "  " key
        m = split(substr(units[key], 2), us, " ")
        for (j = 1; j <= m; j++) {
          mk = key SUBSEP us[j]; c = cnt[mk]
          line = "    " us[j] ": " median(mk, c)
          if (c > 1) {
            all = ""; for (i = 1; i <= c; i++) all = all (i > 1 ? ", " : "") vals[mk, i]
            line = line sprintf("  (median of %d: %s)", c, all)
          }
          print line
        }
      }
    }' "$1"
}

mkdir -p "$logs"
started=$SECONDS
failed=()
summary=""
echo "ci/bench.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(qemu-system-x86_64 --version | head -1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  GPIOHIL_BIN=$GPIOHIL_BIN GPIOHIL_BIN_ARM64=$GPIOHIL_BIN_ARM64"
for b in "${selected[@]}"; do
  name=${b%%|*} cmd=${b#*|}
  echo
  echo "== $name: $cmd"
  t0=$SECONDS load0=$(cut -d' ' -f1 /proc/loadavg) note=""
  rm -f "$logs/$name".try*.txt
  for try in 1 2 3; do
    if (eval "$cmd") >"$logs/$name.txt" 2>&1; then break; fi
    if [ $try -lt 3 ] && grep -q "clocksource is [a-z-]*jiffies" "$logs/$name.txt"; then
      mv "$logs/$name.txt" "$logs/$name.try$try.txt"
      note+=", run again: the VM's clock was in jiffies (see $logs/$name.try$try.txt)"
      echo "   the VM's clock was in jiffies; again in a fresh VM"
      continue
    fi
    failed+=("$name")
    tail -30 "$logs/$name.txt"
    break
  done
  grep -E '^(Benchmark|---|    [a-z_]+\.go:|ok |FAIL)' "$logs/$name.txt" || true
  summary+="$name: $cmd  [$((SECONDS - t0)) s, load average $load0 to $(cut -d' ' -f1 /proc/loadavg)$note]"$'\n'
  result=$(summarize "$logs/$name.txt")
  summary+="${result:-    no result}"$'\n'
done

echo
echo "== summary ($(date -u '+%Y-%m-%d'), medians; whole output in $logs/)"
printf '%s' "$summary"
echo "total: $((SECONDS - started)) s"
[ ${#failed[@]} -eq 0 ] || die "failed: ${failed[*]} (see $logs/)"
