#!/usr/bin/env bash
# Metaweave local infrastructure stack: PostgreSQL 15, Kafka (KRaft), OpenLDAP
# slapd (Exchange 5.5 stand-in) and Samba (NT4 classic PDC) on one machine,
# no containers, loopback only, all state under one data folder.
# See deploy/local/README.md.
set -euo pipefail

MW_DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
MW_REPO_ROOT=$(cd "$MW_DEPLOY_DIR/../.." && pwd -P)
export MW_DEPLOY_DIR MW_REPO_ROOT

# shellcheck source=lib/common.sh
. "$MW_DEPLOY_DIR/lib/common.sh"
load_defaults "$MW_DEPLOY_DIR/stack.defaults"

MW_DATA_DIR=$(realpath -m "${MW_DATA_DIR:-$MW_REPO_ROOT/.mw}")
MW_CACHE_DIR=$(realpath -m "${MW_CACHE_DIR:-${HOME:-/root}/.cache/metaweave}")
export MW_DATA_DIR MW_CACHE_DIR

# shellcheck source=lib/postgres.sh
. "$MW_DEPLOY_DIR/lib/postgres.sh"
# shellcheck source=lib/kafka.sh
. "$MW_DEPLOY_DIR/lib/kafka.sh"
# shellcheck source=lib/slapd.sh
. "$MW_DEPLOY_DIR/lib/slapd.sh"
# shellcheck source=lib/samba.sh
. "$MW_DEPLOY_DIR/lib/samba.sh"

pg_paths; kafka_paths; slapd_paths; samba_paths

ALL_COMPONENTS=(postgres kafka slapd samba)
DATA_MARKER=".metaweave-data"

# component -> function prefix
prefix_of() {
  case $1 in
    postgres) echo pg ;; kafka) echo kafka ;; slapd) echo slapd ;; samba) echo samba ;;
    *) return 1 ;;
  esac
}

usage() {
  cat >&2 <<EOF
usage: deploy/local/stack.sh COMMAND [args]
  up [component...]        install what is missing and start (default: ${ALL_COMPONENTS[*]})
  down [component...]      stop by pid, wait, SIGKILL after a timeout; data stays
  status [--json] [component...]
                           up/down, pid, port per component; exit 0 if all up, 3 otherwise
  logs [component] [-f]    list log files; with a component tail its main log (-f: follow)
  env                      print shell exports: eval "\$(deploy/local/stack.sh env)"
  smoke [component...]     prove each component end to end (LDAP schema samples, python SAMR,
                           per-service PostgreSQL roles, Kafka metadata)
  reset                    down + delete the data folder ($MW_DATA_DIR)
components: ${ALL_COMPONENTS[*]}
EOF
}

# parse_components ARGS... -> COMPONENTS array (validated, in canonical order)
parse_components() {
  COMPONENTS=()
  local c want=" $* "
  if (($# == 0)); then COMPONENTS=("${ALL_COMPONENTS[@]}"); return 0; fi
  for c in "$@"; do prefix_of "$c" >/dev/null || { log "unknown component '$c' (known: ${ALL_COMPONENTS[*]})"; exit 2; }; done
  for c in "${ALL_COMPONENTS[@]}"; do [[ $want == *" $c "* ]] && COMPONENTS+=("$c"); done
  return 0
}

ensure_data_dir() {
  if [[ ! -d $MW_DATA_DIR ]]; then
    mkdir -p "$MW_DATA_DIR"
  fi
  [[ -e $MW_DATA_DIR/$DATA_MARKER ]] || printf 'metaweave local stack data folder (deploy/local/stack.sh); safe to delete with stack.sh reset\n' >"$MW_DATA_DIR/$DATA_MARKER"
  # the postgres OS user must be able to traverse the data folder (see lib/postgres.sh)
  chmod 755 "$MW_DATA_DIR" 2>/dev/null || true
}

# one stack.sh at a time per data folder (up/down/reset); status/env/logs do not lock.
# The lock is fd 8: daemon launches close inherited fds (CLOSE_FDS), or a daemon would hold it.
LOCKED=""
take_lock() {
  [[ -z $LOCKED ]] || return 0
  local key lockf
  key=$(printf '%s' "$MW_DATA_DIR" | sha256sum | cut -c1-16)
  lockf="${TMPDIR:-/tmp}/metaweave-stack-$key.lck"
  exec 8>>"$lockf"
  if ! flock -n 8; then
    log "stack: another stack.sh is running on $MW_DATA_DIR, waiting for it (up to 600 s)"
    flock -w 600 8 || die stack "could not get the lock $lockf"
  fi
  LOCKED=1
}

cmd_up() {
  parse_components "$@"
  local t0; t0=$(now_ms)
  ensure_data_dir
  take_lock
  local c p todo=() pkgs=()
  for c in "${COMPONENTS[@]}"; do
    p=$(prefix_of "$c")
    if "${p}_check_up"; then
      case $c in
        postgres) log "postgres: already up on 127.0.0.1:$MW_PG_PORT (pid $(pg_pid))" ;;
        kafka) log "kafka: already up on 127.0.0.1:$MW_KAFKA_PORT (pid $(kafka_pid))" ;;
        slapd) log "slapd: already up on $SLAPD_URL (pid $(slapd_pid))" ;;
        samba) log "samba: already up on 127.0.0.1:$MW_SAMBA_PORT+$MW_SAMBA_ALT_PORT (smbd pid $(samba_smbd_pid))" ;;
      esac
    else
      todo+=("$c")
    fi
  done
  if ((${#todo[@]} == 0)); then
    log "stack: all up (${COMPONENTS[*]}) in $(secs_since "$t0") s"
    return 0
  fi
  # packages of everything to start, one apt-get run
  for c in "${todo[@]}"; do
    case $c in
      postgres) pkgs+=("${PG_PACKAGES[@]}") ;;
      slapd) pkgs+=("${SLAPD_PACKAGES[@]}") ;;
      samba) pkgs+=("${SAMBA_PACKAGES[@]}") ;;
    esac
  done
  ((${#pkgs[@]} == 0)) || ensure_packages "${pkgs[@]}"
  [[ " ${todo[*]} " == *" kafka "* ]] && kafka_install
  # launch everything first (the Kafka JVM boots while the others set up), then wait
  local -A started=()
  for c in kafka postgres slapd samba; do
    [[ " ${todo[*]} " == *" $c "* ]] || continue
    started[$c]=$(now_ms)
    "$(prefix_of "$c")_launch"
  done
  for c in postgres slapd samba kafka; do
    [[ -n ${started[$c]:-} ]] || continue
    "$(prefix_of "$c")_wait" "${started[$c]}"
  done
  log "stack: all up (${COMPONENTS[*]}) in $(secs_since "$t0") s"
}

# daemons of ours that outlived their parent: only known daemon binaries whose
# command line names our data folder
leftover_pids() {
  local f pid comm cmd
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    [[ $pid == "$$" ]] && continue
    read -r comm 2>/dev/null <"/proc/$pid/comm" || continue
    case $comm in slapd | smbd | samba-dcerpcd | rpcd_* | java | postgres) ;; *) continue ;; esac
    local -a argv=()
    mapfile -d '' argv 2>/dev/null <"$f" || continue
    cmd="${argv[*]}"
    [[ $cmd == *"$MW_DATA_DIR/"* ]] && printf '%s %s\n' "$pid" "$comm"
  done
  return 0
}

cmd_down() {
  parse_components "$@"
  take_lock
  local c t0; t0=$(now_ms)
  for c in kafka samba slapd postgres; do
    [[ " ${COMPONENTS[*]} " == *" $c "* ]] || continue
    "$(prefix_of "$c")_stop"
  done
  if ((${#COMPONENTS[@]} == ${#ALL_COMPONENTS[@]})); then
    local left pid comm
    left=$(leftover_pids)
    if [[ -n $left ]]; then
      while read -r pid comm; do
        log "stack: leftover $comm (pid $pid) uses $MW_DATA_DIR, stopping it"
        stop_pid stack "$comm" "$pid" TERM 10
      done <<<"$left"
    fi
  fi
  log "stack: down (${COMPONENTS[*]}) in $(secs_since "$t0") s"
}

cmd_status() {
  local json="" args=()
  for a in "$@"; do
    if [[ $a == --json ]]; then json=1; else args+=("$a"); fi
  done
  parse_components "${args[@]+"${args[@]}"}"
  local c p up pid port logf all=0 extra sep="" out=""
  if [[ -z $json ]]; then printf '%-9s %-5s %-8s %-11s %s\n' COMPONENT STATE PID PORT LOG; fi
  for c in "${COMPONENTS[@]}"; do
    p=$(prefix_of "$c")
    read -r up pid port logf < <("${p}_status_fields")
    [[ $up == true ]] || all=3
    case $c in
      postgres) extra=",\"database\":$(json_str "$MW_PG_DATABASE"),\"data\":$(json_str "$PG_DATA")" ;;
      kafka) extra=",\"controller_port\":$MW_KAFKA_CONTROLLER_PORT,\"version\":$(json_str "$MW_KAFKA_VERSION"),\"bootstrap\":$(json_str "127.0.0.1:$MW_KAFKA_PORT")" ;;
      slapd) extra=",\"url\":$(json_str "$SLAPD_URL"),\"base_dn\":$(json_str "$MW_LDAP_BASE_DN")" ;;
      samba)
        local dp; dp=$(samba_dcerpcd_pid); pid_alive "${dp:-x}" samba-dcerpcd || dp=null
        extra=",\"alt_port\":$MW_SAMBA_ALT_PORT,\"dcerpcd_pid\":${dp:-null},\"domain\":$(json_str "$MW_SAMBA_DOMAIN"),\"domain_sid\":$(json_str "$MW_SAMBA_DOMAIN_SID")"
        ;;
    esac
    if [[ -n $json ]]; then
      out+="$sep$(json_str "$c"):{\"up\":$up,\"pid\":$pid,\"port\":$port,\"log\":$(json_str "$logf")$extra}"
      sep=","
    else
      local shown_port=$port
      [[ $c == kafka ]] && shown_port="$port+$MW_KAFKA_CONTROLLER_PORT"
      [[ $c == samba ]] && shown_port="$port+$MW_SAMBA_ALT_PORT"
      printf '%-9s %-5s %-8s %-11s %s\n' "$c" "$([[ $up == true ]] && echo up || echo down)" \
        "$([[ $pid == null ]] && echo - || echo "$pid")" "$shown_port" "$logf"
    fi
  done
  if [[ -n $json ]]; then
    printf '{"components":{%s},"data_dir":%s}\n' "$out" "$(json_str "$MW_DATA_DIR")"
  fi
  return "$all"
}

cmd_logs() {
  local follow="" comp="" a
  for a in "$@"; do
    case $a in -f | --follow) follow=1 ;; *) comp=$a ;; esac
  done
  if [[ -z $comp ]]; then
    local c
    for c in "${ALL_COMPONENTS[@]}"; do "$(prefix_of "$c")_logs" | sed "s|^|$c\t|"; done
    return 0
  fi
  local p main
  p=$(prefix_of "$comp") || { log "unknown component '$comp'"; exit 2; }
  "${p}_logs"
  main=$("${p}_logs" | head -n1)
  [[ -e $main ]] || { log "$comp: no log yet ($main)"; return 0; }
  printf -- '---- %s\n' "$main" >&2
  if [[ -n $follow ]]; then exec tail -n 50 -F "$main"; else tail -n 50 "$main"; fi
}

cmd_env() {
  printf 'export MW_DATA_DIR=%s\n' "$(shq "$MW_DATA_DIR")"
  printf 'export MW_CACHE_DIR=%s\n' "$(shq "$MW_CACHE_DIR")"
  pg_env
  kafka_env
  slapd_env
  samba_env
}

cmd_smoke() {
  parse_components "$@"
  local c
  for c in "${COMPONENTS[@]}"; do
    case $c in
      postgres) pg_smoke ;;
      kafka)
        kafka_paths
        local out; out=$(kafka_probe) || die kafka "smoke: metadata probe failed: $out" "$KAFKA_LOGDIR/server.log"
        log "kafka: smoke OK: $out"
        ;;
      slapd) slapd_smoke ;;
      samba) samba_smoke ;;
    esac
  done
}

cmd_reset() {
  (($# == 0)) || { log "reset takes no arguments"; exit 2; }
  take_lock
  cmd_down
  pg_reset_extra
  if [[ -d $MW_DATA_DIR ]]; then
    if [[ ! -e $MW_DATA_DIR/$DATA_MARKER && -n $(ls -A "$MW_DATA_DIR") ]]; then
      die stack "$MW_DATA_DIR has no $DATA_MARKER marker; refusing to delete it"
    fi
    [[ $MW_DATA_DIR != / && $MW_DATA_DIR != "$HOME" && $MW_DATA_DIR != "$MW_REPO_ROOT" ]] || die stack "refusing to delete $MW_DATA_DIR"
    rm -rf "$MW_DATA_DIR"
    log "stack: deleted $MW_DATA_DIR"
  fi
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    env) cmd_env ;;
    smoke) cmd_smoke "$@" ;;
    reset) cmd_reset "$@" ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
