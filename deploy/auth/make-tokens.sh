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
chmod 0644 "$dir/tokens" "$dir/service-token" "$dir/admin-token" "$dir/read-token"
echo "tokens in $dir: tokens, service-token, admin-token, read-token"
