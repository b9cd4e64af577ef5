#!/bin/sh
# Makes the bearer tokens docker compose turns on (README "Security"), once: random tokens
# from openssl, never printed. Run from the repository root: sh deploy/auth/make-tokens.sh
#
#   deploy/auth/service-token  the services' own token (admin): dispatch's and rnull's
#                              bad-block clears, the NBD gateway, the rnullb0 one-shot
#   deploy/auth/admin-token    yours: RNULL_TOKEN=$(cat deploy/auth/admin-token) npx rnullctl …
#   deploy/auth/read-token     a read-only one (list, show, read IO), e.g. for dashboards
#   deploy/auth/tokens         RNULL_AUTH_TOKENS_FILE: all three as token:role lines; add
#                              your own lines (token:read|write|admin) and restart
#   deploy/auth/redis-<service>-password
#                              REDIS_PASSWORD_FILE of gendisk, dispatch, rnull, completion:
#                              each service is its own Redis ACL user (REDIS_USERNAME)
#   deploy/auth/redis-users.acl
#                              Redis's --aclfile: those users with the SHA-256 of their
#                              passwords (written again on every run, from the password files)
#   deploy/auth/nbd-psk        NBD_TLS_PSK_FILE of dispatch and the NBD gateway, nbdkit's
#                              username:hexkey format: `rnull` (NBD_AUTH_IDENTITIES role
#                              write) and `reader` (read); a client names its user and this
#                              file: nbdinfo "nbds://rnull@localhost/rnullb0?tls-psk-file=deploy/auth/nbd-psk"
#
# Every service user gets REDIS_SERVICE_RULES below (DESIGN I20): every key and channel
# (the services share the disks' slots, and KEY_PREFIX is chosen at `up`), every command
# but the @dangerous ones (FLUSHALL, CONFIG, KEYS, DEBUG, ACL, SHUTDOWN, MONITOR, …; INFO,
# which ioredis and BullMQ ask at connect, put back) and no FUNCTION or SCRIPT FLUSH/KILL.
# The default user may only PING (compose's health check) and is otherwise refused.
#
# The directory is 0700 (other users of this host cannot read the files); the files are
# 0644 because compose mounts them as secrets into containers that run as uid 1000.
# Nothing is overwritten: delete a file to make it again. Never commit them (.gitignore).
set -eu
dir=$(dirname "$0")
chmod 0700 "$dir"
umask 0022
for name in service admin read; do
  [ -s "$dir/$name-token" ] || openssl rand -hex 32 >"$dir/$name-token"
done
if [ ! -s "$dir/tokens" ]; then
  {
    echo "# token:role, one a line (README \"Security\")"
    printf '%s:admin\n' "$(cat "$dir/service-token")"
    printf '%s:admin\n' "$(cat "$dir/admin-token")"
    printf '%s:read\n' "$(cat "$dir/read-token")"
  } >"$dir/tokens"
fi
REDIS_SERVICES="gendisk dispatch rnull completion"
REDIS_SERVICE_RULES="resetchannels resetkeys ~* &* +@all -@dangerous +info -function -script|flush -script|kill"
for svc in $REDIS_SERVICES; do
  [ -s "$dir/redis-$svc-password" ] || openssl rand -hex 32 >"$dir/redis-$svc-password"
done
{
  echo "user default on nopass resetchannels resetkeys -@all +ping"
  for svc in $REDIS_SERVICES; do
    hash=$(head -n 1 "$dir/redis-$svc-password" | tr -d '\r\n' | openssl dgst -sha256 -r | cut -d' ' -f1)
    echo "user $svc on #$hash $REDIS_SERVICE_RULES"
  done
} >"$dir/redis-users.acl"
if [ ! -s "$dir/nbd-psk" ]; then
  {
    printf 'rnull:%s\n' "$(openssl rand -hex 32)"
    printf 'reader:%s\n' "$(openssl rand -hex 32)"
  } >"$dir/nbd-psk"
fi
chmod 0644 "$dir/tokens" "$dir/service-token" "$dir/admin-token" "$dir/read-token" "$dir/redis-users.acl" "$dir/nbd-psk"
for svc in $REDIS_SERVICES; do chmod 0644 "$dir/redis-$svc-password"; done
echo "tokens in $dir: tokens, service-token, admin-token, read-token; Redis: redis-users.acl, redis-<service>-password; NBD: nbd-psk"
