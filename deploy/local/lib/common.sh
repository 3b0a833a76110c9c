# shellcheck shell=bash
# Shared helpers for deploy/local/stack.sh. Sourced, never executed.
# Conventions: every message goes to stderr, prefixed with the component name;
# functions return non-zero instead of exiting, except die().

# ---------------------------------------------------------------- messages
log() { printf '%s\n' "$*" >&2; }
# die COMPONENT MESSAGE [LOGFILES]: LOGFILES is one path or several separated
# by newlines; each is named and the non-empty ones get their last lines shown.
die() {
  local comp=$1 msg=$2 logs=${3:-} logf
  printf '%s: ERROR: %s\n' "$comp" "$msg" >&2
  if [[ -n $logs ]]; then
    while IFS= read -r logf; do
      [[ -n $logf ]] || continue
      printf '%s: log file: %s\n' "$comp" "$logf" >&2
      if [[ -s $logf ]]; then
        printf '%s: last lines of %s:\n' "$comp" "${logf##*/}" >&2
        tail -n 12 "$logf" | sed 's/^/    /' >&2
      fi
    done <<<"$logs"
  fi
  exit 1
}

# ---------------------------------------------------------------- time
now_ms() { local t=${EPOCHREALTIME/./}; printf '%s' "$((t / 1000))"; }
# secs_since START_MS -> "2.3"
secs_since() {
  local d=$(( $(now_ms) - $1 ))
  printf '%d.%d' "$((d / 1000))" "$(((d % 1000) / 100))"
}

# ---------------------------------------------------------------- defaults
# load_defaults FILE: KEY=value lines (dotenv style; '#' comments; optional
# surrounding quotes). A variable already set in the environment wins.
load_defaults() {
  local file=$1 line key val
  [[ -r $file ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key=${BASH_REMATCH[2]} val=${BASH_REMATCH[3]}
    if [[ $val =~ ^\"(.*)\"$ || $val =~ ^\'(.*)\'$ ]]; then val=${BASH_REMATCH[1]}; fi
    [[ -n ${!key+x} ]] || export "$key=$val"
  done <"$file"
}

# ---------------------------------------------------------------- processes
# All process handling goes through /proc (procps is not guaranteed on CI).

# read_pid FILE -> pid on stdout, or nothing
read_pid() {
  local f=$1 p=""
  if [[ -r $f ]]; then read -r p _ 2>/dev/null <"$f" || true; fi
  [[ $p =~ ^[0-9]+$ ]] && printf '%s' "$p"
  return 0
}

# pid_alive PID [CMDLINE_SUBSTRING]: process exists, is not a zombie and (if
# given) its command line contains the substring (guards against pid reuse).
pid_alive() {
  local pid=$1 want=${2:-} stat cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} == Z || ${stat:0:1} == X ]] && return 1
  if [[ -n $want ]]; then
    local -a argv=()
    mapfile -d '' argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
    cmd="${argv[*]}"
    [[ $cmd == *"$want"* ]] || return 1
  fi
  return 0
}

# Shell snippet for daemon wrappers: close every inherited fd above 2, so a
# daemon never holds stack.sh's lock (take_lock) or a caller's pipe open.
# shellcheck disable=SC2016
CLOSE_FDS='for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done'

# spawn_detached PIDFILE LOGFILE CMD...: start CMD in its own session (it
# survives the calling shell), stdin from /dev/null, stdout+stderr appended to
# LOGFILE; PIDFILE receives the pid of CMD itself (the wrapper shell execs it).
spawn_detached() {
  local pidf=$1 logf=$2 i; shift 2
  rm -f "$pidf"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c "$CLOSE_FDS"'; echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidf" "$@" </dev/null >>"$logf" 2>&1 &
  for ((i = 0; i < 100; i++)); do [[ -s $pidf ]] && return 0; sleep 0.05; done
  return 1
}

# descendants PID: all transitive children (pids), one per line
descendants() {
  local root=$1 f stat pid ppid
  local -A kids=()
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    pid=${f#/proc/}; pid=${pid%/stat}
    stat=${stat##*) }
    read -r _ ppid _ <<<"$stat"
    kids[$ppid]+="$pid "
  done
  local queue=("$root") cur c
  while ((${#queue[@]})); do
    cur=${queue[0]}; queue=("${queue[@]:1}")
    for c in ${kids[$cur]:-}; do printf '%s\n' "$c"; queue+=("$c"); done
  done
}

# stop_pid COMP NAME PID SIGNAL TIMEOUT_S [CMDLINE_SUBSTRING]
# Sends SIGNAL to PID, waits for it (and the children it had) to exit, then
# SIGKILLs what is left. Only ever signals PID and its own descendants.
stop_pid() {
  local comp=$1 name=$2 pid=$3 sig=$4 timeout=$5 want=${6:-}
  pid_alive "$pid" "$want" || return 0
  local kids start d
  kids=$(descendants "$pid")
  start=$(now_ms)
  kill "-$sig" "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do
    if (( $(now_ms) - start > timeout * 1000 )); then
      log "$comp: $name (pid $pid) did not exit within ${timeout}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  # children that outlived their parent (normally none)
  local deadline=$(( $(now_ms) + 5000 ))
  for d in $kids; do
    while pid_alive "$d" && (( $(now_ms) < deadline )); do sleep 0.1; done
    if pid_alive "$d"; then
      log "$comp: child $d of $name still alive, sending SIGKILL"
      kill -KILL "$d" 2>/dev/null || true
    fi
  done
  while pid_alive "$pid"; do sleep 0.05; done
  log "$comp: stopped $name (pid $pid) in $(secs_since "$start") s"
}

# ---------------------------------------------------------------- network
# port_open PORT [HOST]: something accepts TCP connections there
port_open() {
  local port=$1 host=${2:-127.0.0.1}
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# ensure_port_free COMP PORT: fail when a foreign process already listens there
ensure_port_free() {
  local comp=$1 port=$2
  if port_open "$port"; then
    die "$comp" "port $port on 127.0.0.1 is already in use by another process (not ours: no live pid file). Stop it or choose another port (see deploy/local/stack.defaults)."
  fi
}

# ---------------------------------------------------------------- waiting
# wait_until COMP WHAT TIMEOUT_S LOGFILE PIDCHECK_FN CHECK_FN...
# Polls CHECK_FN until it succeeds; fails early when PIDCHECK_FN says the
# daemon died; fails with a clear message after TIMEOUT_S.
wait_until() {
  local comp=$1 what=$2 timeout=$3 logf=$4 pidcheck=$5; shift 5
  local start; start=$(now_ms)
  while :; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [[ -n $pidcheck ]] && ! "$pidcheck"; then
      die "$comp" "the daemon exited while waiting for: $what" "$logf"
    fi
    if (( $(now_ms) - start > timeout * 1000 )); then
      die "$comp" "timed out after ${timeout}s waiting for: $what" "$logf"
    fi
    sleep 0.2
  done
}

# ---------------------------------------------------------------- packages
pkg_installed() {
  local st
  st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
  [[ $st == "install ok installed" ]]
}

# ensure_packages PKG...: apt-get update once, install what is missing,
# never start services (a temporary policy-rc.d when the host has none).
ensure_packages() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  [[ $(id -u) == 0 ]] || die stack "missing Debian packages (${missing[*]}) and not root: install them with apt-get first"
  log "installing apt packages: ${missing[*]}"
  local start own_policy=""; start=$(now_ms)
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  local aptlog="${MW_DATA_DIR}/apt.log" rc=0
  {
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  } >"$aptlog" 2>&1 || rc=$?
  [[ -n $own_policy ]] && rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die stack "apt-get install ${missing[*]} failed (rc=$rc)" "$aptlog"
  log "installed apt packages in $(secs_since "$start") s"
}

# ---------------------------------------------------------------- misc
# ldap_urlencode PATH -> %2F-encoded path for ldapi:// URLs
ldap_urlencode() { local s=$1; s=${s//%/%25}; s=${s//\//%2F}; s=${s//,/%2C}; printf '%s' "${s// /%20}"; }

# urlenc STRING: percent-encode for URL userinfo/path parts
urlenc() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in [A-Za-z0-9._~-]) out+=$c ;; *) printf -v c '%%%02X' "'$c"; out+=$c ;; esac
  done
  printf '%s' "$out"
}

# shq VALUE: shell-quote for `export NAME=VALUE` lines, readable (bare when safe)
shq() {
  local s=$1
  if [[ $s =~ ^[A-Za-z0-9_./:@%+=,-]*$ ]]; then printf '%s' "$s"; else printf "'%s'" "${s//\'/\'\\\'\'}"; fi
}

json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

sys_python() {
  if [[ -x /usr/bin/python3 ]]; then printf '/usr/bin/python3'; else command -v python3; fi
}
