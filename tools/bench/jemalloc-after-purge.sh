#!/usr/bin/env bash
# Redis CPU per fresh 4 KiB write before and after MEMORY PURGE, for one set of jemalloc
# options: starts a redis-server of its own (MALLOC_CONF=OPTIONS, --disable-thp no, on a
# free loopback port), then three rounds of fresh-write-cost.js (96,000 writes to pages never
# written; the disk destroyed after), each followed by the server's Rss and AnonHugePages
# (/proc/<pid>/smaps_rollup), MEMORY PURGE, the two figures again, and a 4 s pause. Round 1
# writes into memory the process never had; rounds 2 and 3 into memory it had and purged.
#
#   tools/bench/jemalloc-after-purge.sh 'thp:always,dirty_decay_ms:30000'   (the project's options)
#   tools/bench/jemalloc-after-purge.sh 'thp:always,dirty_decay_ms:30000,retain:false'
#
# Needs `npm run build` and Debian's redis-server (system jemalloc, which reads MALLOC_CONF).
# Used for docs/bench/v2-two-hosts/jemalloc-after-purge.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
conf="${1:?usage: jemalloc-after-purge.sh MALLOC_CONF}"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
MALLOC_CONF="$conf" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --disable-thp no > /dev/null 2>&1 &
redis=$!
trap 'kill "$redis" 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping > /dev/null 2>&1 && break; sleep 0.1; done
memory() { grep -E '^(Rss|AnonHugePages)' "/proc/$redis/smaps_rollup" | tr -s ' ' | tr '\n' ' '; }
cd "$here"
for round in 1 2 3; do
  node tools/bench/fresh-write-cost.js "redis://127.0.0.1:$port" 12 | sed "s/^/[$conf r$round] /"
  echo "  rss/anonhuge: $(memory)"
  redis-cli -p "$port" memory purge > /dev/null
  echo "  after purge: $(memory)"
  sleep 4
done
