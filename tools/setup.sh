#!/usr/bin/env bash
# What the tests need besides node_modules, on a fresh Debian or Ubuntu machine: the
# packages below when their command is missing, and a Redis at 127.0.0.1:6379 (started
# here, without persistence, when none answers). `npm run setup` and CI (.ci/run) both run
# it; then `npm ci && npm test`. Runs as root, or as a user with sudo (apt-get only runs
# under sudo). `--dry-run` prints what it would do and changes nothing.
#
#   command          Debian package   used by
#   redis-server     redis-server     every Redis test, npm start's private Redis, the Redis Cluster fixture
#   redis-cli        redis-tools      the Redis Cluster fixture, this script's PING
#   docker-compose   docker-compose   test/compose.e2e-spec.ts (docker-compose config; no engine needed)
#   prometheus       prometheus       test/observability.e2e-spec.ts
#   fio              fio              test/nbd-gateway.e2e-spec.ts, npm run bench
#   nbdinfo          libnbd-bin       test/nbd-gateway.e2e-spec.ts (nbdinfo, nbdcopy), libs/nbd's unit tests
#   qemu-img         qemu-utils       test/nbd-gateway.e2e-spec.ts
#   nbdkit           nbdkit           npm run bench's peer, test/bench.e2e-spec.ts
set -euo pipefail
cd "$(dirname "$0")/.."

dry_run=0
case "${1:-}" in
  --dry-run) dry_run=1 ;;
  '') ;;
  *)
    echo "usage: tools/setup.sh [--dry-run]" >&2
    exit 2
    ;;
esac

# command:package, the table above (the README lists the packages; a test keeps them in step).
requirements=(
  redis-server:redis-server
  redis-cli:redis-tools
  docker-compose:docker-compose
  prometheus:prometheus
  fio:fio
  nbdinfo:libnbd-bin
  qemu-img:qemu-utils
  nbdkit:nbdkit
)

run() {
  echo "setup: $*"
  if ((dry_run == 0)); then "$@"; fi
}

need=()
for r in "${requirements[@]}"; do
  command -v "${r%%:*}" >/dev/null 2>&1 || need+=("${r#*:}")
done

if ((${#need[@]})); then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${need[*]} (Debian package names), and this is not a Debian-like system: install them by hand" >&2
    exit 1
  fi
  as_root=()
  if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup: missing ${need[*]}; installing them needs root, and sudo is not here: run as root: apt-get install ${need[*]}" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  echo "setup: installing ${need[*]}"
  run "${as_root[@]}" apt-get update -qq
  run "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
else
  echo "setup: every package is installed"
fi

# Redis at REDIS_URL when set (then it is yours to start), else at 127.0.0.1:6379, started
# here when none answers: a throwaway one (no RDB, no AOF) in the background.
if [[ -n "${REDIS_URL:-}" && "${REDIS_URL}" != redis://127.0.0.1:6379 ]]; then
  echo "setup: REDIS_URL=${REDIS_URL}: the tests use that Redis"
elif redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "setup: Redis answers at 127.0.0.1:6379"
else
  run redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/rnull-setup-redis.log
  if ((dry_run == 0)); then
    for _ in $(seq 1 50); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p 6379 ping >/dev/null
    echo "setup: Redis answers at 127.0.0.1:6379 (log /tmp/rnull-setup-redis.log; stop it with redis-cli -p 6379 shutdown)"
  fi
fi

# The cluster's default ports that lie in Linux's ephemeral range (32768-60999 unless the
# host changed it): any socket's outgoing connection may take one just as `npm start` binds
# it, and the start fails with EADDRINUSE (seen once in CI, a test's connection on 50052).
# Reserved from ephemeral allocation (net.ipv4.ip_local_reserved_ports, added to what is
# there) when this runs as root, as hosts with fixed service ports do; a bind to them still
# works. The list is DEFAULT_PORTS of libs/service-kit/src/service-env.ts in that range; a
# test keeps the two in step.
ephemeral_default_ports=(50051 50052)
reserved_file=/proc/sys/net/ipv4/ip_local_reserved_ports
if [[ -r "$reserved_file" ]]; then
  reserved="$(<"$reserved_file")"
  missing=()
  # The kernel keeps the list as single ports and ranges (50051-50052).
  reserved_covers() {
    local item items
    IFS=, read -ra items <<<"$reserved"
    for item in "${items[@]}"; do
      if [[ "$item" == *-* ]]; then
        (($1 >= ${item%-*} && $1 <= ${item#*-})) && return 0
      elif [[ -n "$item" ]]; then
        (($1 == item)) && return 0
      fi
    done
    return 1
  }
  for p in "${ephemeral_default_ports[@]}"; do reserved_covers "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    echo "setup: ports ${ephemeral_default_ports[*]} are reserved from ephemeral allocation"
  elif [[ "$(id -u)" == 0 ]]; then
    value="${reserved:+$reserved,}$(IFS=,; echo "${missing[*]}")"
    run bash -c "echo '$value' > $reserved_file" ||
      echo "setup: could not reserve ports ${missing[*]} ($reserved_file is read-only here); npm start may rarely find one taken" >&2
  else
    echo "setup: not root: ports ${missing[*]} stay in the ephemeral range; npm start may rarely find one taken (as root: add them to $reserved_file)" >&2
  fi
fi
