# Sourced by the scripts that read a process during one bench row (profile-during-bench.sh,
# rates-during-row.sh).

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
