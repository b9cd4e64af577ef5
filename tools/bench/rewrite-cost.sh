#!/usr/bin/env bash
# Redis CPU per 4 KiB write on fresh pages against pages already stored: npm start's
# cluster (local placement) on a private Redis, fio's nbd engine, randwrite qd 32 over the
# first 128 MiB of rnullb0, three passes of 8 s. The first pass allocates the pages; the
# others overwrite them (docs/bench/v2-local/README.md, "What bounds writes").
#   tools/bench/rewrite-cost.sh [port]     (needs a build, fio and redis-server)
set -e
TMP=$(mktemp -d)
cd "$(dirname "$0")/../.."
PORT=${1:-6395}
redis-server --port $PORT --save '' --appendonly no --daemonize yes >/dev/null
sleep 0.5
REDIS_URL=redis://127.0.0.1:$PORT DRIVER_PLACEMENT=local node dist/tools/cluster/start-cluster.js > "$TMP/start.log" 2>&1 &
SP=$!
for i in $(seq 1 60); do grep -aq "is ready" "$TMP/start.log" && break; sleep 1; done
NBD=$(grep -ao 'nbd://[^ ]*' "$TMP/start.log" | head -1)
cpu() { redis-cli -p $PORT info cpu | awk -F: '/used_cpu_(sys|user):/{s+=$2} END{printf "%.3f", s}'; }
for pass in fresh rewrite rewrite2; do
  c0=$(cpu)
  fio --name=w --ioengine=nbd --uri=$NBD --rw=randwrite --bs=4k --iodepth=32 --size=128m --time_based --runtime=8 --output-format=json > "$TMP/$pass.json" 2>/dev/null
  c1=$(cpu)
  python3 - "$pass" "$c0" "$c1" "$TMP/$pass.json" <<'PY'
import json, sys
name, c0, c1, f = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
t = open(f).read(); w = json.loads(t[t.index('{'):])['jobs'][0]['write']
print(f"{name}: {w['total_ios']} writes, {w['iops']:.0f} IOPS, Redis CPU {1e6 * (c1 - c0) / w['total_ios']:.1f} us/IO")
PY
done
kill -INT $SP; wait $SP 2>/dev/null || true
redis-cli -p $PORT shutdown nosave >/dev/null 2>&1 || true
