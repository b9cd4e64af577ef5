#!/usr/bin/env bash
# What fresh memory costs a memory-backed NBD server on this machine, with no rnull code
# involved: nbdkit's memory plugin (1 GiB), fio randwrite 4 KiB qd 32 for 8 s on fresh
# pages, then the export written end to end once, then the same randwrite on stored pages.
# Prints IOPS and nbdkit's CPU per IO (utime+stime from /proc) for both
# (docs/bench/v2-staged/README.md, "What bounds writes now").
#   tools/bench/nbdkit-fresh-vs-filled.sh [port]     (needs nbdkit and fio)
set -euo pipefail
PORT=${1:-10899}
TMP=$(mktemp -d)
nbdkit --foreground --exit-with-parent --port "$PORT" --ipaddr 127.0.0.1 memory 1G &
NB=$!
trap 'kill $NB 2>/dev/null || true; rm -rf "$TMP"' EXIT
sleep 1
URI="nbd://127.0.0.1:$PORT/"
ticks() { awk '{print $14 + $15}' "/proc/$NB/stat"; }
HZ=$(getconf CLK_TCK)
measure() {
  local t0 t1
  t0=$(ticks)
  fio --name=w --ioengine=nbd --uri="$URI" --rw=randwrite --bs=4k --iodepth=32 --size=1024m --time_based --runtime=8 \
    --randrepeat=0 --output-format=json > "$TMP/$1.json" 2>/dev/null
  t1=$(ticks)
  python3 - "$1" "$t0" "$t1" "$HZ" "$TMP/$1.json" <<'PY'
import json, sys
name, t0, t1, hz, f = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
t = open(f).read(); w = json.loads(t[t.index('{'):])['jobs'][0]['write']
print(f"{name}: {w['total_ios']} writes, {w['iops']:.0f} IOPS, nbdkit CPU {1e6 * (t1 - t0) / hz / w['total_ios']:.1f} us/IO")
PY
}
measure fresh
fio --name=fill --ioengine=nbd --uri="$URI" --rw=write --bs=1M --iodepth=8 --size=1024m > /dev/null 2>&1
measure filled
