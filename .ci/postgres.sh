#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on loopback for the store, index and ledger tests; print its database URL.
# Installs the Debian package when missing (as root); runs the server as a non-root user (Debian's `postgres`).
# Data under $GOVAUDIT_PG_DIR (default /tmp/govaudit-pg), port $GOVAUDIT_PG_PORT (default 55432), trust auth on
# 127.0.0.1 only. Stop it with: pg_ctl -D /tmp/govaudit-pg stop
set -euo pipefail
QUIET=$(mktemp)  # not /dev/null: some sandboxes make it unwritable
trap 'rm -f "$QUIET"' EXIT
DIR=${GOVAUDIT_PG_DIR:-/tmp/govaudit-pg}
PORT=${GOVAUDIT_PG_PORT:-55432}
bindir() { ls -d /usr/lib/postgresql/*/bin 2>"$QUIET" | sort -V | tail -1; }
if [ -z "$(bindir)" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >"$QUIET" 2>&1; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >"$QUIET"
  else
    echo "PostgreSQL is not installed and cannot be installed here (needs root and apt-get)" >&2
    exit 1
  fi
fi
BIN=$(bindir)
if [ "$(id -u)" = 0 ]; then
  id postgres >"$QUIET" 2>&1 || useradd --system --no-create-home postgres
  if [ -c /dev/null ]; then
    as_user() { runuser -u postgres -- "$@"; }
  else  # sandboxes where /dev/null is a root-only file: give the server a real one in its own mount namespace
    NULLDEV=/tmp/govaudit-devnull
    [ -c "$NULLDEV" ] || mknod -m 666 "$NULLDEV" c 1 3
    as_user() { unshare -m sh -c 'mount --bind "$0" /dev/null && exec runuser -u postgres -- "$@"' "$NULLDEV" "$@"; }
  fi
  mkdir -p "$DIR" && chown postgres "$DIR" && chmod 700 "$DIR"
else
  as_user() { "$@"; }
  mkdir -p "$DIR" && chmod 700 "$DIR"
fi
if [ ! -s "$DIR/PG_VERSION" ]; then
  as_user "$BIN/initdb" -D "$DIR" -A trust -U govaudit --no-sync -E UTF8 >"$QUIET"
fi
if ! as_user "$BIN/pg_ctl" -D "$DIR" status >"$QUIET" 2>&1; then
  as_user "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -o \
    "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c max_connections=200" start >"$QUIET"
fi
echo "postgresql+psycopg://govaudit@127.0.0.1:$PORT/postgres"
