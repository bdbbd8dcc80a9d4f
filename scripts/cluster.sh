#!/usr/bin/env bash
# The production topology (docs/deploy.md) on one machine, for trying it and for
# the fault test (scripts/fault_test.py, `make fault-test`):
#
#   nginx (deploy/nginx/, rendered as an operator would) on 127.0.0.1:8080 and :8443
#     -> two gunicorn instances on 127.0.0.1:8101 and :8102
#          -> PostgreSQL primary on :5442 and a streaming replica of it on :5443
#             (scripts/pg-replica.sh), Redis on :6390
#
#   scripts/cluster.sh start     build it all (a generated directory imported), wait
#                                until https://127.0.0.1:8443/ answers
#   scripts/cluster.sh status    what runs (exit 0 if all of it, 3 if not)
#   scripts/cluster.sh stop      stop what start started and delete its folder
#   scripts/cluster.sh env       the settings the app runs with (sourceable)
#   scripts/cluster.sh up|down PART   start or stop one part: app:PORT, redis,
#                                replica, primary (for the fault test)
#
# Everything lives in one folder, CLUSTER_DIR (${TMPDIR:-/tmp}/portal-cluster-
# <https port>): the databases, logs, pid files, the TLS pair (self-signed,
# made here, never committed), the code the instances run (a copy of this
# checkout, so the fault test's deploy can change it) and its static files.
# Every process is found again through a pid file there and checked to be the
# one started, so stop stops exactly those, and a start after an unclean end
# clears what is left first. Nothing is written anywhere else.
#
# As root, PostgreSQL runs as PG_OS_USER (postgres), nginx's workers as nobody;
# as another user, everything runs as that user. Needs nginx, redis-server,
# PostgreSQL's server programs, openssl and envsubst (Debian: nginx redis-server
# postgresql openssl gettext-base) and the project's virtualenv (make install).
#
# Settings, from the environment:
#   CLUSTER_HTTP_PORT, CLUSTER_HTTPS_PORT   nginx (8080, 8443)
#   CLUSTER_APP_PORTS                       gunicorn instances ("8101 8102")
#   CLUSTER_WORKERS                         workers per instance (2)
#   CLUSTER_PG_PORT, CLUSTER_REPLICA_PORT   PostgreSQL (5442, 5443)
#   CLUSTER_REDIS_PORT                      Redis (6390)
#   CLUSTER_AGENCIES                        generated agencies to import (20000)
#   CLUSTER_MICROCACHE                      seconds of nginx's microcache, 0 for none (0)
#   CLUSTER_DIR                             the folder (see above)
#   CLUSTER_KEEP                            1: a failed start leaves everything for a look
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HTTP_PORT=${CLUSTER_HTTP_PORT:-8080}
HTTPS_PORT=${CLUSTER_HTTPS_PORT:-8443}
APP_PORTS=${CLUSTER_APP_PORTS:-8101 8102}
WORKERS=${CLUSTER_WORKERS:-2}
PG_PORT=${CLUSTER_PG_PORT:-5442}
REPLICA_PORT=${CLUSTER_REPLICA_PORT:-5443}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6390}
AGENCIES=${CLUSTER_AGENCIES:-20000}
MICROCACHE=${CLUSTER_MICROCACHE:-0}
DIR=${CLUSTER_DIR:-${TMPDIR:-/tmp}/portal-cluster-$HTTPS_PORT}
PY=${VENV:-$ROOT/.venv}/bin/python
DB=portal
MARKER=$DIR/.portal-cluster

if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=${PG_OS_USER:-postgres}
else
  PG_OS_USER=$(id -un)
fi
export PG_OS_USER PGUSER=postgres

say() { echo "cluster: [${SECONDS}s] $*"; }
die() {
  echo "cluster: $*" >&2
  exit 1
}

case $DIR in
  /*) ;;
  *) die "CLUSTER_DIR must be an absolute path (got $DIR)" ;;
esac

as_pg() {
  if [ "$(id -un)" = "$PG_OS_USER" ]; then
    "$@"
  else
    runuser -u "$PG_OS_USER" -- "$@"
  fi
}

pg_bindir() {
  local dir
  for dir in "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -Vr); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && {
      echo "$dir"
      return 0
    }
  done
  die "PostgreSQL's server programs (initdb, pg_ctl) not found: apt-get install postgresql"
}

# --- Processes, by pid file ---------------------------------------------------------------

# The pid in FILE if that process runs and its command line contains WHAT.
pid_of() {
  local file=$1 what=$2 pid
  [ -f "$file" ] || return 1
  pid=$(head -n1 "$file" 2>/dev/null | tr -dc 0-9)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$what" || return 1
  echo "$pid"
}

# Wait up to SECONDS for PID to end.
wait_gone() {
  local pid=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

wait_http() {
  local url=$1 seconds=$2
  for _ in $(seq 1 $((seconds * 5))); do
    if [ "$(curl -ks -o /dev/null -w '%{http_code}' -H 'X-Forwarded-Proto: https' --max-time 2 "$url")" = 200 ]; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# --- PostgreSQL ---------------------------------------------------------------------------

PG_HOME=$DIR/pg
PRIMARY_DATA=$PG_HOME/primary
REPLICA_DIR=$PG_HOME/replica

primary_start() {
  local bindir
  bindir=$(pg_bindir)
  if [ ! -f "$PRIMARY_DATA/PG_VERSION" ]; then
    as_pg "$bindir/initdb" -D "$PRIMARY_DATA" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >/dev/null
    # A throwaway server: no fsync. wal_level and max_wal_senders are already
    # what streaming needs (replica, 10); initdb's pg_hba.conf trusts
    # 127.0.0.1, replication connections included.
    {
      echo "# scripts/cluster.sh"
      echo "port = $PG_PORT"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$PG_HOME'"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "max_connections = 100"
      echo "shared_buffers = 256MB"
      echo "logging_collector = off"
    } | as_pg tee -a "$PRIMARY_DATA/postgresql.conf" >/dev/null
  fi
  as_pg "$bindir/pg_ctl" -D "$PRIMARY_DATA" -l "$PG_HOME/primary.log" -w -t 60 start >/dev/null ||
    die "PostgreSQL did not start; see $PG_HOME/primary.log"
}

primary_stop() {
  [ -f "$PRIMARY_DATA/PG_VERSION" ] || return 0
  as_pg "$(pg_bindir)/pg_ctl" -D "$PRIMARY_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

primary_running() {
  [ -f "$PRIMARY_DATA/PG_VERSION" ] && as_pg "$(pg_bindir)/pg_ctl" -D "$PRIMARY_DATA" status >/dev/null 2>&1
}

replica_env() {
  PRIMARY_PORT=$PG_PORT REPLICA_PORT=$REPLICA_PORT REPLICA_DIR=$REPLICA_DIR "$@"
}

# The replica's own server, started and stopped in place (scripts/pg-replica.sh
# makes it and removes it; in between, the fault test stops it for a while).
replica_start_again() {
  as_pg "$(pg_bindir)/pg_ctl" -D "$REPLICA_DIR/data" -l "$REPLICA_DIR/server.log" -w -t 60 start >/dev/null
}
replica_stop_only() {
  as_pg "$(pg_bindir)/pg_ctl" -D "$REPLICA_DIR/data" -m fast -w -t 60 stop >/dev/null
}

# --- Redis --------------------------------------------------------------------------------

redis_start() {
  mkdir -p "$DIR/redis"
  # Nothing kept on disk: it is a cache.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$DIR/redis" --daemonize yes --pidfile "$DIR/redis.pid" \
    --logfile "$DIR/redis.log" --maxmemory 256mb --maxmemory-policy allkeys-lru \
    </dev/null >/dev/null 2>&1
  for _ in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "Redis did not answer on port $REDIS_PORT; see $DIR/redis.log"
}

redis_stop() {
  local pid
  pid=$(pid_of "$DIR/redis.pid" "redis-server") || return 0
  kill -TERM "$pid"
  wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
}

# --- gunicorn -----------------------------------------------------------------------------

app_env() {
  # Production's settings file (deploy/portal.env.example), for this machine.
  cat <<EOF
DJANGO_ENV_FILE=
DJANGO_SECRET_KEY=$(cat "$DIR/secret")
DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$DB
DATABASE_REPLICA_URLS=postgres://postgres@127.0.0.1:$REPLICA_PORT/$DB
REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
PORTAL_TRUSTED_PROXIES=1
GUNICORN_FORWARDED_ALLOW_IPS=127.0.0.1
DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
DJANGO_STATIC_ROOT=$DIR/static
GUNICORN_WORKERS=$WORKERS
GUNICORN_ACCESS_LOG=/dev/null
PORTAL_CONTACT_EMAIL=cluster@example.org
PORTAL_BASE_URL=https://127.0.0.1:$HTTPS_PORT
DJANGO_LOG_LEVEL=WARNING
PORTAL_RATE_LIMITS=false
EOF
  # The app's per-client limits are off: the load of the fault test comes from
  # one address, which nginx exempts too (deploy/nginx/portal.conf.template).
}

with_app_env() {
  (
    set -a
    . "$DIR/portal.env"
    set +a
    exec "$@"
  )
}

app_start() {
  local port=$1
  if pid_of "$DIR/gunicorn-$port.pid" "gunicorn" >/dev/null; then
    return 0
  fi
  # Its own session (process group), so one instance can be killed outright;
  # nothing of this script's left holding on to it or to the caller's output.
  (
    cd "$DIR/app"
    set -a
    . "$DIR/portal.env"
    set +a
    export GUNICORN_BIND=127.0.0.1:$port
    exec setsid "$ROOT/.venv/bin/gunicorn" -c portal/gunicorn.conf.py \
      --pid "$DIR/gunicorn-$port.pid" portal.wsgi >>"$DIR/gunicorn-$port.log" 2>&1 </dev/null
  ) &
  wait_http "http://127.0.0.1:$port/healthz" 60 ||
    die "gunicorn on port $port did not answer; see $DIR/gunicorn-$port.log"
}

app_stop() {
  local port=$1 pid
  pid=$(pid_of "$DIR/gunicorn-$port.pid" "gunicorn") || return 0
  # TERM: gunicorn's graceful stop (its workers finish their requests).
  kill -TERM "$pid"
  if ! wait_gone "$pid" 40; then
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/gunicorn-$port.pid"
}

# --- nginx --------------------------------------------------------------------------------

NGINX_DIR=$DIR/nginx

nginx_render() {
  mkdir -p "$NGINX_DIR"/{logs,cache,temp,sites,snippets}
  local vars
  vars=$(grep -o '[$]{PORTAL_[A-Z0-9_]*}' "$ROOT/deploy/nginx/portal.conf.template" | sort -u | tr -d '\n')
  local app_ports=($APP_PORTS)
  # The site exactly as docs/deploy.md renders it, with this machine's values.
  PORTAL_SERVER_NAME="127.0.0.1 localhost" PORTAL_LISTEN=127.0.0.1 PORTAL_LISTEN6=[::1] \
    PORTAL_HTTP_PORT=$HTTP_PORT PORTAL_HTTPS_PORT=$HTTPS_PORT \
    PORTAL_TLS_CERT=$DIR/tls/cert.pem PORTAL_TLS_KEY=$DIR/tls/key.pem \
    PORTAL_STATIC_ROOT=$DIR/static PORTAL_CACHE_DIR=$NGINX_DIR/cache \
    PORTAL_LOG_DIR=$NGINX_DIR/logs PORTAL_APP_1=127.0.0.1:${app_ports[0]} \
    PORTAL_APP_2=127.0.0.1:${app_ports[1]} \
    PORTAL_MICROCACHE=$([ "$MICROCACHE" -gt 0 ] && echo portal_micro || echo off) \
    PORTAL_MICROCACHE_SECONDS=$((MICROCACHE > 0 ? MICROCACHE : 1)) \
    envsubst "$vars" <"$ROOT/deploy/nginx/portal.conf.template" >"$NGINX_DIR/sites/portal.conf"
  # Further instances (CLUSTER_APP_PORTS with more than two ports): one more
  # server line each, as the template's comment says.
  local port
  for port in "${app_ports[@]:2}"; do
    sed -i "s|^\(    server 127.0.0.1:${app_ports[1]} .*\)$|\1\n    server 127.0.0.1:$port max_fails=3 fail_timeout=2s;|" \
      "$NGINX_DIR/sites/portal.conf"
  done
  cp "$ROOT/deploy/nginx/portal-proxy.conf" "$NGINX_DIR/snippets/"
  # What Debian's /etc/nginx/nginx.conf gives the site, with this folder's
  # paths: its own pid file, logs and temporary files.
  local user=""
  if [ "$(id -u)" -eq 0 ]; then
    user="user nobody nogroup;"
    chown -R nobody:nogroup "$NGINX_DIR/cache" "$NGINX_DIR/temp"
  fi
  cat >"$NGINX_DIR/nginx.conf" <<EOF
# Written by scripts/cluster.sh; the site is sites/portal.conf.
$user
# One worker: this machine's two cores are shared with everything else.
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;
events {
    worker_connections 1024;
}
http {
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $NGINX_DIR/temp/body;
    proxy_temp_path $NGINX_DIR/temp/proxy;
    fastcgi_temp_path $NGINX_DIR/temp/fastcgi;
    uwsgi_temp_path $NGINX_DIR/temp/uwsgi;
    scgi_temp_path $NGINX_DIR/temp/scgi;
    include $NGINX_DIR/sites/portal.conf;
}
EOF
}

nginx_cmd() {
  nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/logs/error.log" "$@"
}

nginx_start() {
  nginx_cmd -t -q || die "nginx refused its configuration ($NGINX_DIR)"
  # Detached from this script's output, which a caller may be reading to its end.
  nginx_cmd </dev/null >>"$NGINX_DIR/logs/error.log" 2>&1
  wait_http "https://127.0.0.1:$HTTPS_PORT/healthz" 20 || die "nginx did not answer; see $NGINX_DIR/logs"
}

nginx_stop() {
  local pid
  pid=$(pid_of "$NGINX_DIR/nginx.pid" "nginx: master") || return 0
  kill -QUIT "$pid"
  wait_gone "$pid" 20 || kill -TERM "$pid" 2>/dev/null || true
}

# --- The data -----------------------------------------------------------------------------

copy_app() {
  # The code the instances run: this checkout's, without what is not served.
  # A copy, so a deploy (the fault test's) can change it while this checkout
  # stays as it is.
  mkdir -p "$DIR/app"
  tar -C "$ROOT" -cf - --exclude=.git --exclude=.venv --exclude=bench --exclude=tests \
    --exclude=docs --exclude=staticfiles --exclude='db.sqlite3*' --exclude=.env \
    --exclude=__pycache__ --exclude=.pytest_cache --exclude=.ruff_cache --exclude=test-results . |
    tar -C "$DIR/app" -xf -
}

load_data() {
  local run="with_app_env $PY manage.py"
  as_pg "$(pg_bindir)/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -c "CREATE DATABASE $DB" >/dev/null
  (
    cd "$DIR/app"
    $run migrate --noinput -v0
    say "importing $AGENCIES generated agencies (bench/run.py's generator)"
    "$PY" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from bench.run import generate
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for record in generate(int(sys.argv[3])):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
' "$ROOT" "$DIR/agencies.jsonl" "$AGENCIES"
    $run import_agencies "$DIR/agencies.jsonl" >"$DIR/import.log" 2>&1 ||
      die "the import failed; see $DIR/import.log"
    $run sync_articles >/dev/null
    $run collectstatic --noinput -v0
    # Fresh statistics, as after any big import (docs/import-format.md).
    as_pg "$(pg_bindir)/psql" -X -q -h 127.0.0.1 -p "$PG_PORT" -d "$DB" -c "ANALYZE" >/dev/null
  )
}

# --- Commands -----------------------------------------------------------------------------

need() {
  local missing=()
  command -v nginx >/dev/null || missing+=(nginx)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v envsubst >/dev/null || missing+=(gettext-base)
  command -v curl >/dev/null || missing+=(curl)
  pg_bindir >/dev/null 2>&1 || missing+=(postgresql)
  [ ${#missing[@]} -eq 0 ] || die "missing programs; install them with: apt-get install ${missing[*]}"
  [ -x "$PY" ] || die "no virtualenv at $ROOT/.venv: run make install"
  local port
  for port in $HTTP_PORT $HTTPS_PORT $APP_PORTS $PG_PORT $REPLICA_PORT $REDIS_PORT; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "127.0.0.1:$port is already in use; set the CLUSTER_*_PORT variables (see the top of $0)"
    fi
  done
}

cmd_start() {
  if cmd_status >/dev/null 2>&1; then
    say "already running ($DIR); scripts/cluster.sh stop first to start afresh"
    return 0
  fi
  if [ -e "$DIR" ]; then
    say "clearing what an earlier run left in $DIR"
    cmd_stop >/dev/null
  fi
  need
  local started=$SECONDS
  mkdir -m 755 -p "$DIR"
  touch "$MARKER"
  # Whatever fails from here on, nothing is left running.
  # (CLUSTER_KEEP=1 leaves it all for a look at the logs; stop clears it.)
  [ -n "${CLUSTER_KEEP:-}" ] ||
    trap 'say "start failed; stopping what was started"; cmd_stop >/dev/null 2>&1 || true' EXIT
  "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' >"$DIR/secret"
  chmod 600 "$DIR/secret"
  mkdir -p "$PG_HOME"
  chown "$PG_OS_USER" "$PG_HOME"
  chmod 700 "$PG_HOME"

  say "PostgreSQL primary on 127.0.0.1:$PG_PORT"
  primary_start
  say "Redis on 127.0.0.1:$REDIS_PORT"
  redis_start
  say "copying the code to $DIR/app"
  copy_app
  app_env >"$DIR/portal.env"
  chmod 600 "$DIR/portal.env"
  load_data
  say "streaming replica on 127.0.0.1:$REPLICA_PORT (scripts/pg-replica.sh)"
  replica_env "$ROOT/scripts/pg-replica.sh" start | sed 's/^/  /'
  local port
  for port in $APP_PORTS; do
    say "gunicorn on 127.0.0.1:$port ($WORKERS workers)"
    app_start "$port"
  done
  say "self-signed TLS pair for 127.0.0.1 and localhost"
  mkdir -p "$DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$DIR/tls/key.pem" -out "$DIR/tls/cert.pem" 2>/dev/null
  chmod 600 "$DIR/tls/key.pem"
  say "nginx on 127.0.0.1:$HTTP_PORT (redirects) and https://127.0.0.1:$HTTPS_PORT/"
  nginx_render
  nginx_start
  trap - EXIT
  say "up in $((SECONDS - started)) s: https://127.0.0.1:$HTTPS_PORT/ (self-signed; curl -k)"
  say "logs and state in $DIR; scripts/cluster.sh stop removes them"
}

cmd_stop() {
  if [ ! -e "$DIR" ]; then
    say "nothing to stop ($DIR does not exist)"
    return 0
  fi
  [ -f "$MARKER" ] || die "$DIR was not made by this script; left as it is"
  nginx_stop
  local port
  for port in $APP_PORTS; do
    app_stop "$port"
  done
  # Instances started with other ports by an earlier run with other settings.
  for file in "$DIR"/gunicorn-*.pid; do
    [ -f "$file" ] || continue
    port=${file##*/gunicorn-}
    app_stop "${port%.pid}"
  done
  redis_stop
  if [ -d "$REPLICA_DIR" ]; then
    replica_env "$ROOT/scripts/pg-replica.sh" stop >/dev/null
  fi
  primary_stop
  rm -rf "$DIR"
  say "stopped; removed $DIR"
}

cmd_status() {
  [ -f "$MARKER" ] || {
    say "not running ($DIR)"
    return 3
  }
  local down=0 port
  report() {
    if "${@:2}" >/dev/null 2>&1; then say "  up    $1"; else
      say "  down  $1"
      down=1
    fi
  }
  report "nginx https://127.0.0.1:$HTTPS_PORT/" pid_of "$NGINX_DIR/nginx.pid" "nginx: master"
  for port in $APP_PORTS; do
    report "gunicorn 127.0.0.1:$port" pid_of "$DIR/gunicorn-$port.pid" gunicorn
  done
  report "PostgreSQL primary 127.0.0.1:$PG_PORT" primary_running
  report "PostgreSQL replica 127.0.0.1:$REPLICA_PORT" replica_env "$ROOT/scripts/pg-replica.sh" status
  report "Redis 127.0.0.1:$REDIS_PORT" pid_of "$DIR/redis.pid" redis-server
  return $((down ? 3 : 0))
}

cmd_part() {
  local action=$1 part=${2:-}
  case $action:$part in
    up:app:*) app_start "${part#app:}" ;;
    down:app:*) app_stop "${part#app:}" ;;
    up:redis) redis_start ;;
    down:redis) redis_stop ;;
    up:replica) replica_start_again ;;
    down:replica) replica_stop_only ;;
    up:primary) primary_start ;;
    down:primary) primary_stop ;;
    *) die "usage: $0 up|down app:PORT|redis|replica|primary" ;;
  esac
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cat "$DIR/portal.env" ;;
  up | down) cmd_part "$1" "${2:-}" ;;
  *)
    echo "usage: $0 start|stop|status|env|up PART|down PART" >&2
    exit 2
    ;;
esac
