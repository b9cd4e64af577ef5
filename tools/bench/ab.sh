#!/usr/bin/env bash
# Interleaved A/B of two trees: A, B, A, B, ... of the same `npm run bench` arguments, then
# IOPS and CPU µs/IO of every run side by side with the ratio B/A (tools/bench/src/ab-compare.ts).
#
#   tools/bench/ab.sh --a /work/main --b /work/wt-bench [--rounds 3] [--out /tmp/ab] [--no-build] [--harness own|b] \
#     -- --paths a,b --rw randread --bs 4k --qd 32 --irqmode 1 --memory-backed 1 --sections matrix --seconds 4
#
# Both trees are built first (npm run build) unless --no-build; the comparison itself runs
# from this tree's dist/.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
args=() a="" b="" build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --a) a="$2"; args+=("$1" "$2"); shift 2 ;;
    --b) b="$2"; args+=("$1" "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --) args+=("$@"); break ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ -z "$a" ] || [ -z "$b" ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
if [ "$build" = 1 ]; then
  for t in "$here" "$a" "$b"; do
    echo "building $t" >&2
    (cd "$t" && npm run build --silent)
  done
fi
exec node "$here/dist/tools/bench/src/ab-compare.js" "${args[@]}"
