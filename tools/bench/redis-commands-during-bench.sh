#!/usr/bin/env bash
# What the bench's Redis does per write, every 2 s of a bench run: runs the bench with the
# given arguments and reads its private redis-server's INFO commandstats and INFO cpu every
# 2 s; for each interval with page writes in it, prints the RENAMEs a second (one per page
# moved into place: a write's page, moveStagedPages-2.lua), the MSET, EVALSHA and SADD calls
# and their µs per page, and Redis's user and system CPU per page.
#
#   tools/bench/redis-commands-during-bench.sh OUT -- --paths b --rw randwrite --bs 4k \
#     --qd 32 --irqmode 1 --memory-backed 1 --sections matrix --seconds 12 --precondition fill
#
# Needs `npm run build`. The bench writes its report to OUT/bench (not docs/bench); the
# intervals go to stdout and OUT/commands.txt. Used for
# docs/bench/v2-stream-window/redis-overwrite-commands.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=row-window.sh
. "$here/tools/bench/row-window.sh"
out="${1:?usage: redis-commands-during-bench.sh OUT -- BENCH ARGS}"
shift
[ "${1:-}" = "--" ] && shift
mkdir -p "$out/samples"
out="$(cd "$out" && pwd)" # the bench runs from the repository root
cd "$here"
node dist/tools/bench/src/main.js "$@" --out "$out/bench" > "$out/bench.txt" 2>&1 &
bench=$!
# Leaving early (no Redis found, Ctrl-C) stops the bench too.
trap 'kill "$bench" 2>/dev/null || true' EXIT
port="$(bench_redis_port "$out/bench.txt" "$bench")"
i=0
while kill -0 "$bench" 2>/dev/null; do
  { redis-cli -p "$port" info commandstats; redis-cli -p "$port" info cpu; } > "$out/samples/$i" 2>/dev/null || true
  i=$((i + 1))
  sleep 2
done
status=0
wait "$bench" || status=$?
trap - EXIT
python3 - "$out/samples" "$i" <<'PY' | tee "$out/commands.txt"
import re, sys
d, n = sys.argv[1], int(sys.argv[2])
def read(f):
    r = {}
    for line in open(f):
        m = re.match(r'cmdstat_(\S+):calls=(\d+),usec=(\d+)', line)
        if m: r[m.group(1)] = (int(m.group(2)), int(m.group(3)))
        m = re.match(r'used_cpu_(sys|user):([\d.]+)', line)
        if m: r[m.group(1)] = float(m.group(2))
    return r
s = [read(f'{d}/{k}') for k in range(n)]
for a, b in zip(s, s[1:]):
    if 'user' not in a or 'user' not in b: continue
    pages = b.get('rename', (0, 0))[0] - a.get('rename', (0, 0))[0]
    if pages < 100: continue
    line = [f'pages/s {pages / 2:7.0f}']
    for k in ('mset', 'evalsha', 'sadd'):
        calls = b.get(k, (0, 0))[0] - a.get(k, (0, 0))[0]
        usec = b.get(k, (0, 0))[1] - a.get(k, (0, 0))[1]
        line.append(f'{k} {calls:5d} calls {usec / pages:5.2f} µs/page')
    line.append(f"user {(b['user'] - a['user']) / pages * 1e6:5.1f} sys {(b['sys'] - a['sys']) / pages * 1e6:5.1f} µs/page")
    print('  '.join(line))
PY
grep -E '^(randwrite|randread|write|read) ' "$out/bench/report.txt" || true
[ "$status" -eq 0 ] || { echo "the bench failed (exit $status); see $out/bench.txt" >&2; exit "$status"; }
