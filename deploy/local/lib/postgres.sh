# shellcheck shell=bash
# PostgreSQL 15: a private initdb cluster (not the Debian 15/main cluster),
# run as the postgres OS user, listening on 127.0.0.1:$MW_PG_PORT only.

PG_PACKAGES=(postgresql-15)
PG_BIN=${MW_PG_BIN:-/usr/lib/postgresql/15/bin}

# The postgres OS user must be able to traverse every directory above its data
# dir. When it cannot reach $MW_DATA_DIR (e.g. a repo under /root), the cluster
# lives in postgres' home instead; the choice is remembered in postgres.path.
pg_paths() {
  local rec="$MW_DATA_DIR/postgres.path" base=""
  [[ -r $rec ]] && read -r base <"$rec"
  if [[ -z $base ]]; then
    if id postgres >/dev/null 2>&1 && ! setpriv --reuid=postgres --regid=postgres --init-groups -- test -x "$MW_DATA_DIR" 2>/dev/null \
        && [[ -d $MW_DATA_DIR ]]; then
      local h; h=$(printf '%s' "$MW_DATA_DIR" | sha256sum | cut -c1-12)
      base="$(getent passwd postgres | cut -d: -f6)/metaweave-$h"
    else
      base="$MW_DATA_DIR/postgres"
    fi
  fi
  PG_BASE=$base
  PG_DATA="$PG_BASE/data"
  PG_RUN="$PG_BASE/run"
  PG_LOGDIR="$PG_BASE/log"
  PG_LOG="$PG_LOGDIR/postgres.log"
  PG_PIDFILE="$PG_RUN/postmaster.launch.pid"
}

pg_as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }

pg_pid() {
  local p; p=$(read_pid "$PG_DATA/postmaster.pid")
  [[ -n $p ]] || p=$(read_pid "$PG_PIDFILE")
  printf '%s' "$p"
}
pg_alive() { local p; p=$(pg_pid); [[ -n $p ]] && pid_alive "$p" postgres; }

pg_admin_psql() {
  PGPASSWORD=$MW_PG_ADMIN_PASSWORD PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$MW_PG_PORT" -U "$MW_PG_ADMIN_USER" -d "$MW_PG_DATABASE" "$@"
}
pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$MW_PG_PORT" -t 2; }
pg_health() { pg_alive && [[ $(pg_admin_psql -tAc 'select 1' 2>/dev/null) == 1 ]]; }

pg_install() { ensure_packages "${PG_PACKAGES[@]}"; }

pg_init_cluster() {
  [[ -x $PG_BIN/initdb ]] || die postgres "$PG_BIN/initdb not found (is postgresql-15 installed?)"
  id postgres >/dev/null 2>&1 || die postgres "the postgres OS user does not exist"
  if [[ $PG_BASE != "$MW_DATA_DIR/postgres" ]]; then
    log "postgres: the postgres OS user cannot traverse $MW_DATA_DIR; cluster goes to $PG_BASE"
  fi
  printf '%s\n' "$PG_BASE" >"$MW_DATA_DIR/postgres.path"
  rm -rf "$PG_DATA"
  mkdir -p "$PG_BASE" "$PG_RUN" "$PG_LOGDIR"
  chown -R postgres:postgres "$PG_BASE"
  chmod 700 "$PG_BASE"
  log "postgres: initdb $PG_DATA"
  (cd "$PG_BASE" && pg_as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 -N) >"$PG_LOGDIR/initdb.log" 2>&1 \
    || die postgres "initdb failed" "$PG_LOGDIR/initdb.log"
  cat >>"$PG_DATA/postgresql.conf" <<'EOF'

# ---- metaweave local dev/test settings (deploy/local/stack.sh) ----
# not crash-safe on purpose: this cluster holds throw-away dev/test data
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 128MB
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_timezone = 'UTC'
timezone = 'UTC'
# port, listen address and socket dir, rewritten at every start
include_if_exists = 'metaweave-runtime.conf'
EOF
  touch "$PG_BASE/.initdb-done"
}

pg_launch() {
  pg_paths
  [[ -f $PG_BASE/.initdb-done && -f $PG_DATA/PG_VERSION ]] || pg_init_cluster
  ensure_port_free postgres "$MW_PG_PORT"
  cat >"$PG_DATA/metaweave-runtime.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $MW_PG_PORT
unix_socket_directories = '$PG_RUN'
EOF
  chown postgres:postgres "$PG_DATA/metaweave-runtime.conf" "$PG_RUN"
  # a stale postmaster.pid of a dead server is removed by postgres itself
  log "postgres: starting"
  (cd "$PG_BASE" && spawn_detached "$PG_PIDFILE" "$PG_LOG" \
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$PG_BIN/postgres" -D "$PG_DATA") \
    || die postgres "could not launch postgres" "$PG_LOG"
}

pg_launched_alive() { local p; p=$(read_pid "$PG_PIDFILE"); [[ -n $p ]] && pid_alive "$p" postgres; }

# SQL literal quoting
pg_lit() { local s=${1//\'/\'\'}; printf "'%s'" "$s"; }
pg_ident_ok() { [[ $1 =~ ^[a-z_][a-z0-9_]*$ ]]; }

pg_provision_sql() {
  local db=$MW_PG_DATABASE admin=$MW_PG_ADMIN_USER svc role pwvar
  pg_ident_ok "$db" || die postgres "bad database name '$db'"
  pg_ident_ok "$admin" || die postgres "bad admin role name '$admin'"
  cat <<EOF
SELECT 'CREATE ROLE $admin LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$admin') \gexec
ALTER ROLE $admin WITH LOGIN SUPERUSER PASSWORD $(pg_lit "$MW_PG_ADMIN_PASSWORD");
EOF
  for svc in $MW_PG_SERVICES; do
    role="mw_$svc"
    pg_ident_ok "$svc" || die postgres "bad service name '$svc' in MW_PG_SERVICES"
    pwvar="MW_PG_PASSWORD_${svc^^}"
    [[ -n ${!pwvar:-} ]] || die postgres "no password for service $svc: set $pwvar (deploy/local/stack.defaults)"
    cat <<EOF
SELECT 'CREATE ROLE $role LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') \gexec
ALTER ROLE $role WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD $(pg_lit "${!pwvar}");
EOF
  done
  # CREATE DATABASE cannot run inside a transaction block: \gexec sends it as
  # its own statement (psql runs in autocommit mode; never use -1 here).
  cat <<EOF
SELECT 'CREATE DATABASE $db OWNER $admin ENCODING ''UTF8'' TEMPLATE template0' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \gexec
\connect $db
REVOKE ALL ON DATABASE $db FROM PUBLIC;
EOF
  for svc in $MW_PG_SERVICES; do
    role="mw_$svc"
    cat <<EOF
GRANT CONNECT, TEMPORARY ON DATABASE $db TO $role;
CREATE SCHEMA IF NOT EXISTS $svc AUTHORIZATION $role;
ALTER SCHEMA $svc OWNER TO $role;
ALTER ROLE $role IN DATABASE $db SET search_path = $svc;
EOF
  done
}

pg_provision() {
  local sql sum stamp="$PG_BASE/.provisioned.sha256" old=""
  sql=$(pg_provision_sql)
  sum=$(printf '%s' "$sql" | sha256sum | cut -d' ' -f1)
  [[ -r $stamp ]] && read -r old <"$stamp"
  [[ $old == "$sum" ]] && return 0
  log "postgres: provisioning database $MW_PG_DATABASE, roles and schemas"
  printf '%s\n' "$sql" | (cd "$PG_BASE" && pg_as_postgres "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$PG_RUN" -p "$MW_PG_PORT" -U postgres -d postgres -f -) >"$PG_LOGDIR/provision.log" 2>&1 \
    || die postgres "provisioning failed" "$PG_LOGDIR/provision.log"
  printf '%s\n' "$sum" >"$stamp"
}

pg_wait() {
  local start=$1
  wait_until postgres "accepting connections on 127.0.0.1:$MW_PG_PORT" "${MW_PG_START_TIMEOUT:-60}" "$PG_LOG" \
    pg_launched_alive pg_ready
  pg_provision
  wait_until postgres "login as $MW_PG_ADMIN_USER to $MW_PG_DATABASE" 20 "$PG_LOG" pg_launched_alive pg_health
  log "postgres: up on 127.0.0.1:$MW_PG_PORT (pid $(pg_pid), $(secs_since "$start") s)"
}

# returns 0 when already healthy (nothing to do), 1 when it must be launched
pg_check_up() {
  pg_paths
  if pg_alive; then
    if pg_health; then pg_provision; return 0; fi
    # alive but not answering: maybe still starting
    local deadline=$(( $(now_ms) + 10000 ))
    while (( $(now_ms) < deadline )); do
      pg_health && { pg_provision; return 0; }
      pg_alive || break
      sleep 0.2
    done
    if pg_alive; then log "postgres: running but not healthy, restarting"; pg_stop; fi
  fi
  return 1
}

pg_stop() {
  pg_paths
  local p; p=$(pg_pid)
  if [[ -n $p ]] && pid_alive "$p" postgres; then
    # SIGINT = fast shutdown
    stop_pid postgres postgres "$p" INT 60 postgres
  else
    log "postgres: not running"
  fi
  rm -f "$PG_PIDFILE"
}

pg_status_fields() {
  # prints: up pid port log
  pg_paths
  local up=false p; p=$(pg_pid)
  pg_health && up=true
  pid_alive "${p:-x}" postgres || p=""
  printf '%s %s %s %s\n' "$up" "${p:-null}" "$MW_PG_PORT" "$PG_LOG"
}

pg_logs() { pg_paths; printf '%s\n' "$PG_LOG" "$PG_LOGDIR/initdb.log" "$PG_LOGDIR/provision.log"; }

pg_env() {
  local svc up role pwvar
  cat <<EOF
export PGHOST=127.0.0.1
export PGPORT=$MW_PG_PORT
export PGDATABASE=$MW_PG_DATABASE
export PGUSER=$(shq "$MW_PG_ADMIN_USER")
export PGPASSWORD=$(shq "$MW_PG_ADMIN_PASSWORD")
export MW_PG_ADMIN_URL=$(shq "postgresql://$MW_PG_ADMIN_USER:$(urlenc "$MW_PG_ADMIN_PASSWORD")@127.0.0.1:$MW_PG_PORT/$MW_PG_DATABASE")
EOF
  for svc in $MW_PG_SERVICES; do
    up=${svc^^}; role="mw_$svc"; pwvar="MW_PG_PASSWORD_$up"
    printf 'export MW_PG_URL_%s=%s\n' "$up" "postgresql://$role:$(urlenc "${!pwvar:-}")@127.0.0.1:$MW_PG_PORT/$MW_PG_DATABASE"
  done
}

pg_reset_extra() {
  # the cluster may live outside the data folder (see pg_paths)
  pg_paths
  if [[ $PG_BASE != "$MW_DATA_DIR/postgres" && $PG_BASE == */metaweave-* && -d $PG_BASE ]]; then
    rm -rf "$PG_BASE"
    log "postgres: removed $PG_BASE"
  fi
}

# Prove the provisioning: every service role logs in over TCP with its password,
# lands in its own schema, can create a table there and not in another schema.
pg_smoke() {
  pg_paths
  pg_health || die postgres "not up (run: stack.sh up postgres)"
  local svc role pwvar out other="" fail=0
  for svc in $MW_PG_SERVICES; do
    role="mw_$svc"; pwvar="MW_PG_PASSWORD_${svc^^}"
    out=$(PGPASSWORD=${!pwvar} "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MW_PG_PORT" -U "$role" \
      -d "$MW_PG_DATABASE" -tA -c 'create table mw_smoke(x int)' -c 'drop table mw_smoke' \
      -c "select current_user || '|' || current_schema()" 2>&1) || { log "postgres: smoke: $role: $out"; fail=1; continue; }
    [[ $out == "$role|$svc" ]] || { log "postgres: smoke: $role: expected '$role|$svc', got '$out'"; fail=1; }
    if [[ -n $other ]]; then
      if PGPASSWORD=${!pwvar} "$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$MW_PG_PORT" -U "$role" -d "$MW_PG_DATABASE" \
          -c "create table $other.mw_smoke(x int)" >/dev/null 2>&1; then
        log "postgres: smoke: $role could create a table in schema $other"; fail=1
      fi
    fi
    other=$svc
  done
  out=$(pg_admin_psql -tA -c 'create schema mw_smoke_tmp' -c 'drop schema mw_smoke_tmp' -c 'select 1' 2>&1) \
    || { log "postgres: smoke: admin: $out"; fail=1; }
  ((fail == 0)) || die postgres "smoke test failed"
  log "postgres: smoke OK (roles mw_{${MW_PG_SERVICES// /,}} each own their schema; $MW_PG_ADMIN_USER creates schemas)"
}
