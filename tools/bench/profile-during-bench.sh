#!/usr/bin/env bash
# Where Redis and dispatch spend their CPU during one bench row: runs `npm run bench` with
# the given arguments (one matrix row, at least 10 s long), and once the row is measuring
# records both processes with `perf record -g` and Redis's per-command time (INFO
# commandstats, reset at the start of the window) over the same window.
#
#   tools/bench/profile-during-bench.sh OUT [--window S] [--keep] -- --paths b --rw randwrite --bs 4k \
#     --qd 32 --irqmode 1 --memory-backed 1 --sections matrix --seconds 14
#
# Writes to OUT: bench.txt (the bench's output), commandstats.txt, redis-symbols.txt and
# dispatch-symbols.txt (self time by symbol), redis-page-faults.txt (what the page faults
# were called from), dispatch-dso.txt (self time by binary: kernel, node, JIT code, libc),
# dispatch-js-inclusive.txt (each JavaScript function with what it calls).
# --keep leaves the recordings (redis.perf, dispatch.perf) for perf report. Needs perf. Dispatch runs with --perf-basic-prof, so JIT frames have names. The bench
# overwrites docs/bench/{report.txt,results.*,iops.svg}, as any bench run does.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=row-window.sh
. "$here/tools/bench/row-window.sh"
out="${1:?usage: profile-during-bench.sh OUT [--window S] -- BENCH ARGS}"
shift
window=6
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --window) window="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v perf >/dev/null || { echo "perf is not installed" >&2; exit 2; }
mkdir -p "$out"
cd "$here"
SERVICE_NODE_ARGS="--perf-basic-prof" npm run bench -- "$@" > "$out/bench.txt" 2>&1 &
bench=$!

wait_for_row "$out/bench.txt" "$bench"
redis_port="$(bench_redis_port "$out/bench.txt" "$bench")"
redis_pid="$(pgrep -f "redis-server 127.0.0.1:${redis_port}" | head -1)"
dispatch_pid="$(pgrep -f 'services/dispatch/src/main.js' | head -1)"
[ -n "$redis_pid" ] && [ -n "$dispatch_pid" ] || { echo "no bench redis-server or dispatch found" >&2; exit 1; }

redis-cli -p "$redis_port" config resetstat >/dev/null
perf record -q -g -p "$redis_pid" -o "$out/redis.perf" -- sleep "$window" &
redis_perf=$!
perf record -q -g -p "$dispatch_pid" -o "$out/dispatch.perf" -- sleep "$window"
wait "$redis_perf"
redis-cli -p "$redis_port" info commandstats > "$out/commandstats.txt"
wait "$bench"

# (|| true: a report may have no line to keep, e.g. no page faults on a read row.)
report() { perf report -i "$1" --no-children --percent-limit 0.3 "${@:2}" 2>/dev/null | grep -E '^ +[0-9]' | sed 's/  */ /g' | cut -c1-160 || true; }
report "$out/redis.perf" --sort symbol -g none > "$out/redis-symbols.txt"
perf report -i "$out/redis.perf" --children --sort symbol -g caller,0.5,callee,function,percent -S clear_page_erms 2>/dev/null |
  grep -v '^#' | grep -v '^$' | sed 's/  */ /g' | cut -c1-160 | head -40 > "$out/redis-page-faults.txt" || true
report "$out/dispatch.perf" --sort symbol -g none > "$out/dispatch-symbols.txt"
report "$out/dispatch.perf" --sort dso -g none > "$out/dispatch-dso.txt"
# Each JavaScript function with what it calls: the share of dispatch's samples with the
# function anywhere on the stack (counted once per sample), from the JIT frame names.
perf script -i "$out/dispatch.perf" 2>/dev/null | awk 'BEGIN { RS = "" }
  { total++; delete seen; n = split($0, line, "\n")
    for (i = 2; i <= n; i++) if (line[i] ~ / JS:/) {
      f = line[i]; sub(/^[ \t]*[0-9a-f]+ JS:[*^~]?/, "", f); sub(/\+0x[0-9a-f]+ .*/, "", f); sub(/[^ ]*\/dist\//, "", f)
      if (!(f in seen)) { seen[f] = 1; count[f]++ } } }
  END { for (f in count) printf "%5.1f%% %s\n", count[f] * 100 / total, f }' | sort -rn | head -60 > "$out/dispatch-js-inclusive.txt" || true
[ "$keep" = 1 ] || rm -f "$out/redis.perf" "$out/dispatch.perf"
echo "wrote $out"
