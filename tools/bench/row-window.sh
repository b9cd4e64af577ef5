# Sourced by the scripts that read a process during one bench row (profile-during-bench.sh,
# rates-during-row.sh, redis-commands-during-bench.sh).

# Waits until the bench writing its progress to LOG (process BENCH_PID) measures its row: it
# has printed the row's first whole second. Exits 1 when the bench ends before that.
wait_for_row() {
  local log="$1" bench_pid="$2"
  for _ in $(seq 600); do
    grep -qE '\] .* 1 s$' "$log" 2>/dev/null && return 0
    kill -0 "$bench_pid" 2>/dev/null || { echo "the bench ended before its row measured; see $log" >&2; exit 1; }
    sleep 0.5
  done
  echo "the bench's row did not start measuring within 300 s; see $log" >&2
  exit 1
}

# Prints the port of the private redis-server the bench writing its progress to LOG
# (process BENCH_PID) started, once the bench has named it ("cluster up: redis
# redis://127.0.0.1:PORT"). Exits 1 when the bench ends first or names none within 30 s
# (a bench given --redis-url or --redis-cluster starts none).
bench_redis_port() {
  local log="$1" bench_pid="$2" port=""
  for _ in $(seq 60); do
    port="$(sed -n 's/.*cluster up: redis redis:\/\/127\.0\.0\.1:\([0-9]*\) (private).*/\1/p' "$log" 2>/dev/null | head -1)"
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$bench_pid" 2>/dev/null || { echo "the bench ended before its Redis was up; see $log" >&2; exit 1; }
    sleep 0.5
  done
  echo "no private Redis named in $log within 30 s" >&2
  exit 1
}
