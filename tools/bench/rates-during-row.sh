#!/usr/bin/env bash
# What one service does per second during one bench row, beside the row's own figures:
# runs the bench with the given arguments (one matrix row, at least window + 3 s long),
# and once the row is measuring reads, over `window` seconds, the service's minor page
# faults and user and system CPU (/proc/<pid>/stat), and the guest's free page reporting
# (/sys/module/page_reporting/parameters: KiB handed back to the host, reporting passes).
#
#   tools/bench/rates-during-row.sh OUT [--window S] [--service NAME] -- --paths b --rw randwrite \
#     --bs 4k --qd 32 --irqmode 1 --memory-backed 1 --sections matrix --seconds 12
#
# Needs `npm run build`. The bench writes its report to OUT/bench (not docs/bench); the
# rates go to stdout and OUT/rates.txt. Used for docs/bench/v2-two-hosts/same-row-runs.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=row-window.sh
. "$here/tools/bench/row-window.sh"
out="${1:?usage: rates-during-row.sh OUT [--window S] [--service NAME] -- BENCH ARGS}"
shift
window=6
service=dispatch
while [ $# -gt 0 ]; do
  case "$1" in
    --window) window="$2"; shift 2 ;;
    --service) service="$2"; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
cd "$here"
node dist/tools/bench/src/main.js "$@" --out "$out/bench" > "$out/bench.txt" 2>&1 &
bench=$!

wait_for_row "$out/bench.txt" "$bench"
pid="$(pgrep -f "services/${service}/src/main.js" | head -1)"
[ -n "$pid" ] || { echo "no ${service} process found" >&2; exit 1; }
reporting=/sys/module/page_reporting/parameters
# minflt, utime, stime (fields 10, 14, 15 of /proc/<pid>/stat; the command has no spaces here).
stat() { awk '{ print $10, $14, $15 }' "/proc/$pid/stat"; }
reported() { if [ -r "$reporting/reported_kib" ]; then echo "$(cat "$reporting/reported_kib") $(cat "$reporting/passes")"; else echo "- -"; fi; }
read -r f0 u0 s0 < <(stat)
read -r r0 p0 < <(reported)
sleep "$window"
read -r f1 u1 s1 < <(stat)
read -r r1 p1 < <(reported)
wait "$bench"
tck="$(getconf CLK_TCK)"
{
  echo "${service} over ${window} s of the row: $(((f1 - f0) / window)) minor faults/s, $(((u1 - u0) * 1000 / tck / window)) ms/s user, $(((s1 - s0) * 1000 / tck / window)) ms/s system"
  if [ "$r0" != - ]; then
    echo "page reporting over the same ${window} s: $(((r1 - r0) / window)) KiB/s handed back, $((p1 - p0)) passes; now $(for f in page_reporting_order min_free_ms; do printf '%s=%s ' "$f" "$(cat "$reporting/$f")"; done)"
  fi
  grep -E '^config|^(randread|randwrite|read|write|randrw) ' "$out/bench/report.txt" || true
} | tee "$out/rates.txt"
