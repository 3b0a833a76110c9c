# shellcheck shell=bash
# OpenLDAP slapd as the Exchange 5.5 directory stand-in: a private cn=config
# instance (never the Debian one in /etc/ldap), back-mdb for o=Contoso and
# cn=accesslog, syncprov + accesslog overlays, Exchange 5.5 schema.

SLAPD_PACKAGES=(slapd ldap-utils)

slapd_paths() {
  SLAPD_BASE="$MW_DATA_DIR/slapd"
  SLAPD_CONFDIR="$SLAPD_BASE/slapd.d"
  SLAPD_DB="$SLAPD_BASE/db"
  SLAPD_RUN="$SLAPD_BASE/run"
  SLAPD_LOGDIR="$SLAPD_BASE/log"
  SLAPD_LOG="$SLAPD_LOGDIR/slapd.log"
  SLAPD_PIDFILE="$SLAPD_RUN/slapd.pid"
  SLAPD_URL="ldap://127.0.0.1:$MW_LDAP_PORT"
  SLAPD_LDAPI_PATH="$SLAPD_RUN/ldapi"
  SLAPD_LDAPI_URL="ldapi://$(ldap_urlencode "$SLAPD_LDAPI_PATH")"
}

slapd_pid() { read_pid "$SLAPD_PIDFILE"; }
slapd_alive() { local p; p=$(slapd_pid); [[ -n $p ]] && pid_alive "$p" slapd; }
# real check: the suffix entry can be read over TCP
slapd_probe() {
  local out
  out=$(ldapsearch -x -LLL -o nettimeout=3 -l 3 -H "$SLAPD_URL" -s base -b "$MW_LDAP_BASE_DN" dn 2>/dev/null) || return 1
  [[ $out == "dn: $MW_LDAP_BASE_DN"* ]]
}
slapd_health() { slapd_alive && slapd_probe; }

slapd_install() { ensure_packages "${SLAPD_PACKAGES[@]}"; }

slapd_config_ldif() {
  local hash=$1
  cat <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $SLAPD_PIDFILE
olcArgsFile: $SLAPD_RUN/slapd.args
olcLogLevel: none
olcSizeLimit: 500

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov
olcModuleLoad: accesslog

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif
include: file://$SLAPD_BASE/exchange55.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcRootDN: cn=admin,cn=config
olcRootPW: $hash
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * break

# the accesslog DB must come before the DB whose overlay writes into it
dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: cn=accesslog
olcDbDirectory: $SLAPD_DB/accesslog
olcDbMaxSize: 2147483648
olcDbNoSync: TRUE
olcRootDN: $MW_LDAP_BIND_DN
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqType,reqDN
olcLimits: dn.exact="$MW_LDAP_BIND_DN" size=unlimited time=unlimited
olcAccess: {0}to * by dn.exact="$MW_LDAP_BIND_DN" read by * none

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpNoPresent: TRUE
olcSpReloadHint: TRUE

dn: olcDatabase={2}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {2}mdb
olcSuffix: $MW_LDAP_BASE_DN
olcDbDirectory: $SLAPD_DB/contoso
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcRootDN: $MW_LDAP_BIND_DN
olcRootPW: $hash
olcDbIndex: objectClass eq
olcDbIndex: cn,uid,mail,rdn eq,sub
olcDbIndex: entryCSN,entryUUID,modifyTimestamp eq
olcDbIndex: member eq
olcDbIndex: Assoc-NT-Account eq
olcDbIndex: USN-Changed,USN-Created eq
olcLimits: {0}dn.exact="$MW_LDAP_BIND_DN" size=unlimited time=unlimited
olcLimits: {1}* size.soft=500 size.hard=unlimited size.prtotal=unlimited
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by * read

dn: olcOverlay={0}syncprov,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 10
olcSpSessionlogSource: cn=accesslog

dn: olcOverlay={1}accesslog,olcDatabase={2}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {1}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00
olcAccessLogOld: (objectClass=*)
olcAccessLogOldAttr: objectClass rdn uid mail entryUUID

EOF
}

# first setup: cn=config via slapadd -n0, base entries offline via slapadd -q -w
slapd_setup() {
  [[ -f $SLAPD_BASE/.setup-done ]] && return 0
  local start; start=$(now_ms)
  log "slapd: creating the instance in $SLAPD_BASE ($MW_LDAP_BASE_DN, Exchange 5.5 schema)"
  rm -rf "$SLAPD_CONFDIR" "$SLAPD_DB"
  mkdir -p "$SLAPD_CONFDIR" "$SLAPD_DB/contoso" "$SLAPD_DB/accesslog" "$SLAPD_RUN" "$SLAPD_LOGDIR"
  cp "$MW_DEPLOY_DIR/slapd/exchange55.ldif" "$SLAPD_BASE/exchange55.ldif"
  local hash
  hash=$(slappasswd -h '{SSHA}' -s "$MW_LDAP_BIND_PASSWORD") || die slapd "slappasswd failed"
  slapd_config_ldif "$hash" >"$SLAPD_BASE/config.ldif"
  slapadd -n0 -F "$SLAPD_CONFDIR" -l "$SLAPD_BASE/config.ldif" >"$SLAPD_LOGDIR/setup.log" 2>&1 \
    || die slapd "slapadd -n0 (cn=config incl. schema) failed" "$SLAPD_LOGDIR/setup.log"
  slapadd -q -w -F "$SLAPD_CONFDIR" -b "$MW_LDAP_BASE_DN" -l "$MW_DEPLOY_DIR/slapd/base.ldif" >>"$SLAPD_LOGDIR/setup.log" 2>&1 \
    || die slapd "slapadd of the base entries failed" "$SLAPD_LOGDIR/setup.log"
  touch "$SLAPD_BASE/.setup-done"
  log "slapd: instance created in $(secs_since "$start") s"
}

slapd_launch() {
  slapd_paths
  ensure_port_free slapd "$MW_LDAP_PORT"
  slapd_setup
  rm -f "$SLAPD_PIDFILE" "$SLAPD_LDAPI_PATH"
  local urls="$SLAPD_URL/"
  # sun_path is limited to 107 bytes: skip ldapi when the data folder is deep
  if ((${#SLAPD_LDAPI_PATH} < 100)); then urls+=" $SLAPD_LDAPI_URL/"; fi
  log "slapd: starting"
  # -d keeps slapd in the foreground so its messages land in our log file;
  # MW_SLAPD_DEBUG=stats logs every operation
  spawn_detached "$SLAPD_RUN/slapd.launch.pid" "$SLAPD_LOG" \
    /usr/sbin/slapd -d "${MW_SLAPD_DEBUG:-0}" -F "$SLAPD_CONFDIR" -h "$urls" \
    || die slapd "could not launch slapd" "$SLAPD_LOG"
}

slapd_launched_alive() { local p; p=$(read_pid "$SLAPD_RUN/slapd.launch.pid"); [[ -n $p ]] && pid_alive "$p" slapd; }

slapd_wait() {
  local start=$1
  wait_until slapd "$MW_LDAP_BASE_DN readable on $SLAPD_URL" "${MW_SLAPD_START_TIMEOUT:-60}" "$SLAPD_LOG" \
    slapd_launched_alive slapd_health
  log "slapd: up on $SLAPD_URL (pid $(slapd_pid), $(secs_since "$start") s)"
}

slapd_check_up() {
  slapd_paths
  if slapd_alive; then
    slapd_health && return 0
    local deadline=$(( $(now_ms) + 10000 ))
    while (( $(now_ms) < deadline )); do
      slapd_health && return 0
      slapd_alive || break
      sleep 0.2
    done
    if slapd_alive; then log "slapd: running but not answering, restarting"; slapd_stop; fi
  fi
  return 1
}

slapd_stop() {
  slapd_paths
  local p; p=$(slapd_pid)
  [[ -n $p ]] || p=$(read_pid "$SLAPD_RUN/slapd.launch.pid")
  if [[ -n $p ]] && pid_alive "$p" slapd; then
    stop_pid slapd slapd "$p" TERM 30 slapd
  else
    log "slapd: not running"
  fi
  rm -f "$SLAPD_PIDFILE" "$SLAPD_RUN/slapd.launch.pid"
}

slapd_status_fields() {
  slapd_paths
  local up=false p; p=$(slapd_pid)
  slapd_health && up=true
  pid_alive "${p:-x}" slapd || p=""
  printf '%s %s %s %s\n' "$up" "${p:-null}" "$MW_LDAP_PORT" "$SLAPD_LOG"
}

slapd_logs() { slapd_paths; printf '%s\n' "$SLAPD_LOG" "$SLAPD_LOGDIR/setup.log"; }

slapd_env() {
  slapd_paths
  cat <<EOF
export MW_LDAP_URL=$(shq "$SLAPD_URL")
export MW_LDAP_BASE_DN=$(shq "$MW_LDAP_BASE_DN")
export MW_LDAP_BIND_DN=$(shq "$MW_LDAP_BIND_DN")
export MW_LDAP_BIND_PASSWORD=$(shq "$MW_LDAP_BIND_PASSWORD")
export MW_LDAPI_URL=$(shq "$SLAPD_LDAPI_URL")
EOF
}

# Prove the schema: add the sample recipients, read them back, delete them.
slapd_smoke() {
  slapd_paths
  slapd_health || die slapd "not up (run: stack.sh up slapd)"
  local A=(-x -H "$SLAPD_URL" -D "$MW_LDAP_BIND_DN" -w "$MW_LDAP_BIND_PASSWORD")
  local site="cn=Recipients,ou=SiteB,$MW_LDAP_BASE_DN" out dn
  local dns=("cn=mw-smoke-empty-dl,$site" "cn=mw-smoke-all-it,$site" "cn=mw-smoke-jdoe-ext,$site" "cn=mw-smoke-jsmith,$site")
  for dn in "${dns[@]}"; do ldapdelete "${A[@]}" "$dn" >/dev/null 2>&1 || true; done
  ldapadd "${A[@]}" -f "$MW_DEPLOY_DIR/slapd/samples.ldif" >/dev/null || die slapd "smoke: ldapadd of slapd/samples.ldif failed"
  out=$(ldapsearch "${A[@]}" -LLL -o ldif-wrap=no -b "$site" '(cn=mw-smoke-*)' '*' 'userCertificate;binary')
  local -a checks=(
    "dn: cn=mw-smoke-jsmith,$site"
    "Assoc-NT-Account:: AQUAAAAAAAUVAAAAESIzRFVmd4iZuqvM6QMAAA=="
    "userCertificate;binary:: MII"
    "Extension-Attribute-1: EMP0001"
    "Extension-Attribute-10: NTDSNoMatch"
    "Extension-Attribute-15: last-one"
    "Home-MDB: cn=Microsoft Private MDB,cn=EXCH01,cn=Servers,cn=Configuration,ou=SiteB,$MW_LDAP_BASE_DN"
    "otherMailbox: x400\$c=US;a= ;p=Contoso;o=SiteB;s=Smith;g=John;"
    "mailPreferenceOption: 0"
    "rdn: mw-smoke-jsmith"
    "Target-Address: SMTP:jdoe@example.net"
    "Hide-DL-Membership: TRUE"
    "dn: cn=mw-smoke-empty-dl,$site"
  )
  local c fail=0
  for c in "${checks[@]}"; do
    if [[ $out != *"$c"* ]]; then log "slapd: smoke: missing in read-back: $c"; fail=1; fi
  done
  local n; n=$(grep -c '^userCertificate;binary::' <<<"$out" || true)
  [[ $n == 2 ]] || { log "slapd: smoke: expected 2 certificates, got $n"; fail=1; }
  # filters by either spelling
  out=$(ldapsearch "${A[@]}" -LLL -b "$site" '(&(extensionAttribute1=EMP0001)(objectClass=ex55Mailbox))' dn)
  [[ $out == *mw-smoke-jsmith* ]] || { log "slapd: smoke: filter by alias extensionAttribute1 failed"; fail=1; }
  out=$(ldapsearch "${A[@]}" -LLL -b "$site" '(objectClass=Remote-Address)' dn)
  [[ $out == *mw-smoke-jdoe-ext* ]] || { log "slapd: smoke: filter objectClass=Remote-Address failed"; fail=1; }
  for dn in "${dns[@]}"; do ldapdelete "${A[@]}" "$dn" || fail=1; done
  ((fail == 0)) || die slapd "smoke test failed"
  log "slapd: smoke OK (mailbox with binary SID + certificate, custom recipient, DL, empty DL: added, read back, deleted)"
}
