#!/usr/bin/env bash
# A throwaway streaming replica of the local PostgreSQL, for the replica tests
# (`make test-replica`, tests/test_replicas.py) and for trying read replicas
# by hand (docs/deploy.md, "Read replicas").
#
#   scripts/pg-replica.sh start    copy the primary with pg_basebackup -R, start
#                                  the copy as a hot standby, wait until it
#                                  answers, is in recovery and streams
#   scripts/pg-replica.sh status   say whether it runs and how far behind it is
#                                  (exit 0 if it runs, 3 if not, like pg_ctl)
#   scripts/pg-replica.sh stop     stop it and delete its folder
#
# Run as root or as the cluster's owner (PG_OS_USER): PostgreSQL's programs
# refuse to run as root, so they run as that user. Settings, from the
# environment:
#   PRIMARY_PORT  the primary, on 127.0.0.1 (5432)
#   REPLICA_PORT  where the replica listens, on 127.0.0.1 only (5433)
#   REPLICA_DIR   its folder, deleted by stop (${TMPDIR:-/tmp}/portal-pg-replica-PORT)
#   PG_OS_USER    the operating-system user owning the clusters (postgres)
#   PGUSER        the database role, a superuser (postgres); PGPASSWORD if needed
#
# One change to the primary, only when needed and only once: if the primary
# refuses replication connections from 127.0.0.1 (Debian's pg_hba.conf allows
# replication only over the local socket, or not at all), start appends one
# pg_hba.conf line allowing them for PGUSER, with the same authentication
# method the file already uses for ordinary connections from 127.0.0.1 — no
# weaker — and reloads the primary. It says so when it does; the line stays.
# A primary with wal_level=minimal or max_wal_senders=0 would need a restart,
# which this script refuses to do to a server others use; it says what to set.
#
# No replication slot: a slot left behind by a replica that was never stopped
# would make the primary keep WAL until its disk fills. The replica is
# short-lived and connected, so plain streaming is enough.
set -euo pipefail

PRIMARY_HOST=127.0.0.1
PRIMARY_PORT=${PRIMARY_PORT:-5432}
REPLICA_PORT=${REPLICA_PORT:-5433}
PG_OS_USER=${PG_OS_USER:-postgres}
export PGUSER=${PGUSER:-postgres}
REPLICA_DIR=${REPLICA_DIR:-${TMPDIR:-/tmp}/portal-pg-replica-$REPLICA_PORT}
DATA=$REPLICA_DIR/data
LOG=$REPLICA_DIR/server.log
# Marks a folder this script made, so stop never deletes anything else.
MARKER=$REPLICA_DIR/.portal-pg-replica
HBA_COMMENT="# added by the portal's scripts/pg-replica.sh: streaming replicas from 127.0.0.1"

say() { echo "pg-replica: $*"; }
die() {
  echo "pg-replica: $*" >&2
  exit 1
}

case $REPLICA_DIR in
  /*) ;;
  *) die "REPLICA_DIR must be an absolute path (got $REPLICA_DIR)" ;;
esac
# The cluster's owner may not be allowed into the caller's working folder.
cd /

as_pg() {
  if [ "$(id -un)" = "$PG_OS_USER" ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    die "run this as root or as $PG_OS_USER"
  fi
}

# The server programs of one major version: pg_config's, or Debian's layout.
bindir_for() {
  local major=$1 dir
  for dir in "$(pg_config --bindir 2>/dev/null || true)" "/usr/lib/postgresql/$major/bin"; do
    if [ -x "$dir/postgres" ] && [ "$("$dir/postgres" --version | grep -oE '[0-9]+' | head -n1)" = "$major" ]; then
      echo "$dir"
      return 0
    fi
  done
  die "no PostgreSQL $major server programs found (pg_config --bindir, /usr/lib/postgresql/$major/bin)"
}

any_psql() {
  command -v psql && return 0
  local found
  found=$(find /usr/lib/postgresql -path '*/bin/psql' 2>/dev/null | sort -V | tail -n1)
  [ -n "$found" ] || die "psql not found"
  echo "$found"
}

sql_on() {
  local port=$1
  shift
  as_pg "$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -d postgres -c "$@"
}
primary_sql() { sql_on "$PRIMARY_PORT" "$@"; }
replica_sql() { sql_on "$REPLICA_PORT" "$@"; }

running() {
  [ -f "$DATA/PG_VERSION" ] || return 1
  local bindir
  bindir=$(bindir_for "$(cat "$DATA/PG_VERSION")")
  as_pg "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

can_replicate() {
  as_pg "$PSQL" -X -q -A -t \
    "host=$PRIMARY_HOST port=$PRIMARY_PORT dbname=postgres replication=true" \
    -c "IDENTIFY_SYSTEM" >/dev/null 2>&1
}

allow_replication() {
  can_replicate && return 0
  local hba method line
  hba=$(primary_sql "SHOW hba_file")
  # How the primary already authenticates ordinary TCP connections from here.
  method=$(primary_sql "SELECT auth_method FROM pg_hba_file_rules
    WHERE type LIKE 'host%' AND address = '$PRIMARY_HOST' AND 'all' = ANY(database)
      AND ('all' = ANY(user_name) OR '$PGUSER' = ANY(user_name))
    ORDER BY line_number LIMIT 1")
  method=${method:-scram-sha-256}
  line="host replication $PGUSER $PRIMARY_HOST/32 $method"
  if ! as_pg grep -qxF "$line" "$hba"; then
    say "the primary refuses replication connections from $PRIMARY_HOST; adding to $hba:"
    say "  $line"
    printf '%s\n%s\n' "$HBA_COMMENT" "$line" | as_pg tee -a "$hba" >/dev/null
  fi
  primary_sql "SELECT pg_reload_conf()" >/dev/null
  for _ in $(seq 1 20); do
    can_replicate && return 0
    sleep 0.5
  done
  die "replication connections to $PRIMARY_HOST:$PRIMARY_PORT still fail; an earlier line of $hba may reject them"
}

cmd_start() {
  PSQL=$(any_psql)
  if running; then
    say "already running on 127.0.0.1:$REPLICA_PORT ($DATA)"
    return 0
  fi
  primary_sql "SELECT 1" >/dev/null ||
    die "the primary does not answer on $PRIMARY_HOST:$PRIMARY_PORT"
  local wal_level senders major bindir
  wal_level=$(primary_sql "SHOW wal_level")
  senders=$(primary_sql "SHOW max_wal_senders")
  if [ "$wal_level" = minimal ] || [ "$senders" = 0 ]; then
    die "the primary has wal_level=$wal_level, max_wal_senders=$senders: set wal_level = replica and max_wal_senders = 10 in its postgresql.conf and restart it"
  fi
  major=$(($(primary_sql "SHOW server_version_num") / 10000))
  bindir=$(bindir_for "$major")
  allow_replication

  if [ -e "$REPLICA_DIR" ]; then
    [ -f "$MARKER" ] || die "$REPLICA_DIR exists and was not made by this script; remove it or set REPLICA_DIR"
    say "removing the remains of an earlier replica in $REPLICA_DIR"
    as_pg rm -rf "$REPLICA_DIR"
  fi
  as_pg mkdir -m 700 "$REPLICA_DIR"
  as_pg touch "$MARKER"

  say "copying the primary ($PRIMARY_HOST:$PRIMARY_PORT) to $DATA"
  # -R: standby.signal and primary_conninfo, so the copy starts as a standby.
  # A fast checkpoint starts the copy now instead of at the next scheduled
  # one; no fsync, since the copy is thrown away.
  as_pg "$bindir/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -D "$DATA" \
    -R -X stream --checkpoint=fast --no-sync

  # Debian keeps postgresql.conf and pg_hba.conf outside the data folder, so
  # the copy may have neither: the replica gets the primary's access rules,
  # and its own port, socket folder and log. A standby refuses to start with
  # fewer connections, workers or locks than its primary: copy those too.
  [ -f "$DATA/postgresql.conf" ] || as_pg touch "$DATA/postgresql.conf"
  [ -f "$DATA/pg_hba.conf" ] || as_pg cp "$(primary_sql "SHOW hba_file")" "$DATA/pg_hba.conf"
  [ -f "$DATA/pg_ident.conf" ] || as_pg cp "$(primary_sql "SHOW ident_file")" "$DATA/pg_ident.conf"
  {
    echo "# scripts/pg-replica.sh: this copy is a local hot standby"
    echo "port = $REPLICA_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$REPLICA_DIR'"
    echo "hba_file = '$DATA/pg_hba.conf'"
    echo "ident_file = '$DATA/pg_ident.conf'"
    echo "hot_standby = on"
    echo "logging_collector = off"
    primary_sql "SELECT format('%s = %s', name, setting) FROM pg_settings WHERE name IN
      ('max_connections', 'max_worker_processes', 'max_wal_senders',
       'max_prepared_transactions', 'max_locks_per_transaction')"
  } | as_pg tee -a "$DATA/postgresql.auto.conf" >/dev/null

  as_pg "$bindir/pg_ctl" -D "$DATA" -l "$LOG" -w -t 120 start >/dev/null ||
    die "the replica did not start; see $LOG"
  for _ in $(seq 1 60); do
    if [ "$(replica_sql "SELECT pg_is_in_recovery() AND EXISTS (
          SELECT FROM pg_stat_wal_receiver WHERE status = 'streaming')" 2>/dev/null)" = t ]; then
      say "running on 127.0.0.1:$REPLICA_PORT, in recovery, streaming from $PRIMARY_HOST:$PRIMARY_PORT"
      return 0
    fi
    sleep 1
  done
  die "the replica answers but is not streaming in recovery; see $LOG"
}

cmd_status() {
  PSQL=$(any_psql)
  if ! running; then
    say "not running (port $REPLICA_PORT, $REPLICA_DIR)"
    return 3
  fi
  say "running on 127.0.0.1:$REPLICA_PORT ($DATA)"
  replica_sql "SELECT 'in recovery: ' || pg_is_in_recovery()
    || ', receiver: ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')
    || ', replayed up to ' || coalesce(pg_last_wal_replay_lsn()::text, '-')
    || ', last replayed commit ' || coalesce(pg_last_xact_replay_timestamp()::text, '-')" |
    sed 's/^/pg-replica: /'
}

cmd_stop() {
  if running; then
    as_pg "$(bindir_for "$(cat "$DATA/PG_VERSION")")/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    say "stopped the replica on port $REPLICA_PORT"
  fi
  if [ -f "$MARKER" ]; then
    as_pg rm -rf "$REPLICA_DIR"
    say "removed $REPLICA_DIR"
  elif [ -e "$REPLICA_DIR" ]; then
    die "$REPLICA_DIR was not made by this script; left as it is"
  else
    say "nothing to remove"
  fi
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
