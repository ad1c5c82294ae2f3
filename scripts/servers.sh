#!/usr/bin/env bash
# Start / stop / inspect the REAL servers that amoc-ts is tested against, all on 127.0.0.1.
#
#   scripts/servers.sh up|down|status [prosody|ejabberd|nats|nats-cluster|graphite|all ...]   (default: all)
#   scripts/servers.sh logs SERVER        # tail of that server's logs
#
# Servers (units):
#   prosody       Prosody 0.12: xmpp 5222 (STARTTLS optional), xmpps 5223, ws 5280/xmpp-websocket, MUC muc.localhost
#   ejabberd      ejabberd 23.01: xmpp 5322 (STARTTLS optional), xmpps 5323, http 5380 (/ws /xmpp-websocket /api /admin),
#                 MUC muc.localhost; plus its own epmd on 127.0.0.1:4369 when none runs yet
#   nats          nats-server 2.9 + JetStream: 4222, monitor 8222
#   nats-cluster  3 nodes n1..n3 + clustered JetStream: clients 4223-4225, routes 6223-6225, monitor 8223-8225
#   graphite      carbon-cache 2003 (cache query 7002) + etsy statsd udp 8125 (mgmt 8126, 1 s flush)
#                 + graphite-web 8080 (render API, /events/)
#
# Env (all optional):
#   AMOC_RUN_DIR            run directory (default <repo>/.run): configs, data, pid files, logs
#   AMOC_PROVISION_USERS    user_1..user_N/password_N created on prosody and ejabberd (default 20000, 0 = none)
#   AMOC_SERVERS_TIMEOUT    seconds each server may take to become healthy (default 30)
#   AMOC_STOP_TIMEOUT       seconds to wait after SIGTERM before SIGKILL (default 10)
#   PROSODY_PROFILE         bench: Prosody with the lean config of the generator benchmarks (no MAM, PEP, BOSH...)
#   EJABBERD_INSTANCES      N (1..9): ejabberd also as units ejabberd-2..N, each its own node, run dir, ports +10*(i-1)
#   PROSODY_C2S_PORT PROSODY_TLS_PORT PROSODY_HTTP_PORT EJABBERD_C2S_PORT EJABBERD_TLS_PORT EJABBERD_HTTP_PORT
#   NATS_PORT NATS_MONITOR_PORT NATS_CLUSTER_PORT_BASE NATS_CLUSTER_ROUTE_PORT_BASE NATS_CLUSTER_HTTP_PORT_BASE
#   STATSD_PORT STATSD_MGMT_PORT CARBON_PORT CARBON_QUERY_PORT GRAPHITE_WEB_PORT
#
# Process model: every server is started with setsid, so it leads a session of its own; its pid file
# ($RUN/pids/<unit>.pid) holds "<pid> <start time>" to survive pid reuse. `down` signals only the
# processes of that session (never anything found by name), waits, then SIGKILLs after AMOC_STOP_TIMEOUT.
# PID 1 on these machines does not reap orphans, so dead servers may linger as <defunct> zombies:
# they hold no port or memory and are treated as dead.
#
# Exit codes: up/down: 0 ok, 1 a server failed; status: 0 all requested up, 3 otherwise.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${AMOC_RUN_DIR:-$REPO/.run}"
case "$RUN" in /*) ;; *) RUN="$PWD/$RUN" ;; esac    # configs need absolute paths
CONF="$REPO/config/servers"
TOOLS="$RUN/tools"
PIDS="$RUN/pids"

PROSODY_C2S_PORT="${PROSODY_C2S_PORT:-5222}"
PROSODY_TLS_PORT="${PROSODY_TLS_PORT:-5223}"
PROSODY_HTTP_PORT="${PROSODY_HTTP_PORT:-5280}"
EJABBERD_C2S_PORT="${EJABBERD_C2S_PORT:-5322}"
EJABBERD_TLS_PORT="${EJABBERD_TLS_PORT:-5323}"
EJABBERD_HTTP_PORT="${EJABBERD_HTTP_PORT:-5380}"
EPMD_PORT=4369          # fixed: ejabberdctl and erl find the node through the default epmd port
NATS_PORT="${NATS_PORT:-4222}"
NATS_MONITOR_PORT="${NATS_MONITOR_PORT:-8222}"
NATS_CLUSTER_PORT_BASE="${NATS_CLUSTER_PORT_BASE:-4222}"              # node i: base+i -> 4223..4225
NATS_CLUSTER_ROUTE_PORT_BASE="${NATS_CLUSTER_ROUTE_PORT_BASE:-6222}"  # 6223..6225
NATS_CLUSTER_HTTP_PORT_BASE="${NATS_CLUSTER_HTTP_PORT_BASE:-8222}"    # 8223..8225
STATSD_PORT="${STATSD_PORT:-8125}"
STATSD_MGMT_PORT="${STATSD_MGMT_PORT:-8126}"
CARBON_PORT="${CARBON_PORT:-2003}"
CARBON_QUERY_PORT="${CARBON_QUERY_PORT:-7002}"
GRAPHITE_WEB_PORT="${GRAPHITE_WEB_PORT:-8080}"

PROVISION_USERS="${AMOC_PROVISION_USERS:-20000}"
HEALTH_TIMEOUT="${AMOC_SERVERS_TIMEOUT:-30}"
STOP_TIMEOUT="${AMOC_STOP_TIMEOUT:-10}"

# Variables substituted in config/servers/*.tmpl (${NAME} syntax, like envsubst but only these names,
# so a stray ${...} in a template is an error instead of an empty string).
RENDER_VARS=(RUN PROSODY_C2S_PORT PROSODY_TLS_PORT PROSODY_HTTP_PORT EJABBERD_C2S_PORT EJABBERD_TLS_PORT
  EJABBERD_HTTP_PORT NATS_PORT NATS_MONITOR_PORT STATSD_PORT STATSD_MGMT_PORT CARBON_PORT CARBON_QUERY_PORT
  GRAPHITE_WEB_PORT NATS_NODE NATS_NODE_PORT NATS_NODE_HTTP_PORT NATS_NODE_CLUSTER_PORT NATS_ROUTES)
NATS_NODE="" NATS_NODE_PORT="" NATS_NODE_HTTP_PORT="" NATS_NODE_CLUSTER_PORT="" NATS_ROUTES=""

log() { printf '[servers] %s\n' "$*" >&2; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }   # elapsed T0 -> seconds
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------
# generic helpers

render() {   # render TEMPLATE OUT
  local tmpl="$1" out="$2" script="" v val
  for v in "${RENDER_VARS[@]}"; do
    val="${!v}"
    val="${val//\\/\\\\}"; val="${val//&/\\&}"; val="${val//|/\\|}"
    script+="s|\\\${$v}|$val|g;"
  done
  sed -e "$script" "$tmpl" > "$out.tmp" || return 1
  # shellcheck disable=SC2016  # a literal ${NAME} left over is what we look for
  if grep -n '\${[A-Za-z_]*}' "$out.tmp" >&2; then rm -f "$out.tmp"; log "unrendered variable in $tmpl"; return 1; fi
  mv "$out.tmp" "$out" || return 1
}

proc_state() { # proc_state PID -> one-letter state, empty if gone. Field 3 of /proc/PID/stat (comm may hold spaces).
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  s="${s##*) }"; echo "${s%% *}"
}
proc_alive() { local s; s="$(proc_state "$1")"; [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }
proc_starttime() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0; s="${s##*) }"; echo "$s" | awk '{print $20}'; }

session_pids() { # live (non-zombie) processes of session $1 AND all their descendants: some helpers
  # call setsid themselves (erl_child_setup and its ports under ejabberd) but are still ours.
  ps -e -o pid=,ppid=,sid=,stat= | awk -v s="$1" '
    { pid[NR] = $1; pp[NR] = $2; st[NR] = $4; if ($3 == s) mine[$1] = 1 }
    END {
      do { added = 0
        for (i = 1; i <= NR; i++) if (!(pid[i] in mine) && (pp[i] in mine)) { mine[pid[i]] = 1; added = 1 }
      } while (added)
      for (i = 1; i <= NR; i++) if ((pid[i] in mine) && st[i] !~ /^[ZX]/) print pid[i]
    }'
}

unit_sid() { # unit_sid UNIT -> session id of a running unit, or nothing (also cleans a stale pid file)
  local f="$PIDS/$1.pid" pid st
  [ -f "$f" ] || return 0
  read -r pid st < "$f" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || { rm -f "$f"; return 0; }
  # Leader alive with the recorded start time, or leader gone but members of its session left
  # (a session id cannot be reused while any member of the session exists).
  if { proc_alive "$pid" && [ "$(proc_starttime "$pid")" = "$st" ]; } || [ -n "$(session_pids "$pid")" ]; then
    echo "$pid"
  else
    rm -f "$f"
  fi
}
unit_running() { [ -n "$(unit_sid "$1")" ]; }

launch() { # launch UNIT LOGFILE CMD... : start CMD in a new session, in the background, record its pid
  local unit="$1" logf="$2"; shift 2
  mkdir -p "$PIDS" "$(dirname "$logf")"
  (
    # Do not leak the caller's extra fds (a test runner's pipes) into a long-lived daemon, or the
    # caller may wait forever for EOF.
    for fd in "/proc/$BASHPID/fd/"*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"; done
    cd "$RUN"
    # No job control here, so this subshell is not a process group leader and setsid does not fork:
    # $! below is the server's own pid (after exec) and its session id.
    exec setsid "$@" < /dev/null >> "$logf" 2>&1
  ) &
  local pid=$!
  echo "$pid $(proc_starttime "$pid")" > "$PIDS/$unit.pid"
}

tcp_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
udp_listening() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
http_get() { curl -fsS --max-time 2 "$1" 2>/dev/null; }

stop_unit() { # stop_unit UNIT [PID_TO_TERM]: SIGTERM (to PID_TO_TERM or the whole session), wait, SIGKILL
  local unit="$1" sid pids target t
  sid="$(unit_sid "$unit")"
  if [ -z "$sid" ]; then log "$unit: not running"; rm -f "$PIDS/$unit.pid"; return 0; fi
  pids="$(session_pids "$sid")"
  target="${2:-$pids}"
  # shellcheck disable=SC2086
  if [ -n "$target" ]; then kill -TERM $target 2>/dev/null || true; fi
  t=$((SECONDS + STOP_TIMEOUT))
  while [ -n "$(session_pids "$sid")" ] && [ $SECONDS -lt $t ]; do sleep 0.2; done
  pids="$(session_pids "$sid")"
  if [ -n "$pids" ]; then
    log "$unit: still alive after ${STOP_TIMEOUT}s, SIGKILL ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    t=$((SECONDS + 5))
    while [ -n "$(session_pids "$sid")" ] && [ $SECONDS -lt $t ]; do sleep 0.2; done
    [ -z "$(session_pids "$sid")" ] || { log "$unit: could not kill session $sid"; return 1; }
  fi
  rm -f "$PIDS/$unit.pid"
  log "$unit: stopped"
}

tail_logs() { # tail_logs FILE...
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '----- %s (last 25 lines) -----\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}

ensure_cert() { # self-signed cert for both XMPP servers: CN=localhost, SAN localhost + 127.0.0.1
  local d="$RUN/certs"
  [ -s "$d/localhost.crt" ] && [ -s "$d/localhost.key" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,DNS:muc.localhost,IP:127.0.0.1" \
    -keyout "$d/localhost.key" -out "$d/localhost.crt" > "$d/openssl.log" 2>&1 \
    || { cat "$d/openssl.log" >&2; log "openssl failed"; return 1; }
  chmod 644 "$d/localhost.crt"; chmod 600 "$d/localhost.key"
}

need() { command -v "$1" > /dev/null 2>&1 || { log "$1 not found: run scripts/install-deps.sh $2"; return 1; }; }

# ports_free UNIT PORT... (tcp) : refuse to start over a port someone else holds. Needed also because
# carbon sets SO_REUSEPORT: a second carbon on 2003 would NOT fail, it would silently share the port.
ports_free() {
  local unit="$1" p; shift
  for p in "$@"; do
    if tcp_listening "$p"; then log "$unit: tcp port $p is already in use by a process this script did not start"; return 1; fi
  done
}

# ---------------------------------------------------------------------------------------------------
# units: for each, prep_X (write configs; may fail), start_X (launch), health_X (0 = healthy),
# logs_X (files to show on failure), post_X (after healthy), stop_X, url_X (status line)

# --- prosody
prep_prosody() {
  need prosody xmpp || return 1; ensure_cert || return 1
  ports_free prosody "$PROSODY_C2S_PORT" "$PROSODY_TLS_PORT" "$PROSODY_HTTP_PORT" || return 1
  mkdir -p "$RUN/prosody/data" "$RUN/prosody/plugins"
  # PROSODY_PROFILE=bench: the lean config of the generator benchmarks (config/servers/prosody-bench.cfg.lua.tmpl)
  render "$CONF/prosody${PROSODY_PROFILE:+-$PROSODY_PROFILE}.cfg.lua.tmpl" "$RUN/prosody/prosody.cfg.lua" || return 1
  # process_* metrics on mod_http_openmetrics (AMOC_SUT_METRICS_URL): Prosody's memory beside its sessions
  cp "$CONF"/prosody-plugins/*.lua "$RUN/prosody/plugins/" || return 1
  rm -f "$RUN/prosody/prosody.pid"
}
start_prosody() {
  # -F: stay in the foreground (we background it ourselves and keep its pid).
  launch prosody "$RUN/prosody/stdout.log" prosody --config "$RUN/prosody/prosody.cfg.lua" -F
}
health_prosody() { tcp_listening "$PROSODY_C2S_PORT" && tcp_listening "$PROSODY_TLS_PORT" && tcp_listening "$PROSODY_HTTP_PORT"; }
logs_prosody() { echo "$RUN/prosody/stdout.log $RUN/prosody/prosody.err $RUN/prosody/prosody.log"; }
# Accounts are plain files that prosody reads at each login (written once it is up: one provisioning line per start);
# provision-users.sh is a no-op when done.
post_prosody() { [ "$PROVISION_USERS" -gt 0 ] || return 0; "$REPO/scripts/provision-users.sh" prosody "$PROVISION_USERS"; }
stop_prosody() { stop_unit prosody; }
url_prosody() { echo "xmpp://127.0.0.1:$PROSODY_C2S_PORT xmpps://127.0.0.1:$PROSODY_TLS_PORT ws://127.0.0.1:$PROSODY_HTTP_PORT/xmpp-websocket muc=muc.localhost metrics=http://127.0.0.1:$PROSODY_HTTP_PORT/metrics"; }

# --- ejabberd (+ epmd)
EJ_D() { echo "$RUN/ejabberd"; }
prep_ejabberd() {
  need ejabberdctl xmpp || return 1; need setpriv base || return 1; ensure_cert || return 1
  ports_free ejabberd "$EJABBERD_C2S_PORT" "$EJABBERD_TLS_PORT" "$EJABBERD_HTTP_PORT" || return 1
  local D; D="$(EJ_D)"
  mkdir -p "$D/conf" "$D/db" "$D/logs"
  render "$CONF/ejabberd.yml.tmpl" "$D/conf/ejabberd.yml" || return 1
  cp "$CONF/ejabberdctl.cfg" "$D/conf/ejabberdctl.cfg" || return 1
  cp /etc/ejabberd/inetrc "$D/conf/inetrc" || return 1
  cat "$RUN/certs/localhost.crt" "$RUN/certs/localhost.key" > "$D/conf/localhost.pem" || return 1
  chmod 600 "$D/conf/localhost.pem"
  rm -f "$D/ejabberd.pid"
  # ejabberd runs as user ejabberd: it must own its dirs and reach them through the run dir's parents.
  chown -R ejabberd:ejabberd "$D" || return 1
  # the ejabberd user must traverse every parent (e.g. a `mktemp -d` checkout, mode 0700). Not `[ -x ]`: as root it is
  # always true; the others' execute bit is what the ejabberd user needs
  local p="$D"; while [ "$p" != / ]; do p="$(dirname "$p")"; [ -n "$(find "$p" -maxdepth 0 -perm -o+x)" ] || chmod o+x "$p" 2>/dev/null || true; done
  # The node is reached through epmd on 127.0.0.1:4369. Start our own (so `down` can stop it by pid)
  # unless one already runs (then it is someone else's, e.g. tsung's, and we leave it alone).
  if ! unit_running ejabberd-epmd && ! tcp_listening "$EPMD_PORT"; then
    launch ejabberd-epmd "$D/logs/epmd.log" \
      setpriv --reuid=ejabberd --regid=ejabberd --init-groups env ERL_EPMD_ADDRESS=127.0.0.1 epmd -address 127.0.0.1
    local t=$((SECONDS + 5))
    until tcp_listening "$EPMD_PORT"; do
      [ $SECONDS -lt $t ] || { tail_logs "$D/logs/epmd.log"; log "ejabberd: epmd did not start"; return 1; }
      sleep 0.1
    done
  fi
}
start_ejabberd() {
  local D; D="$(EJ_D)"
  # setpriv, not su: ejabberdctl run as root switches user with `su`, whose PAM stack (pam_limits)
  # drops the soft open-files limit to 1024; setpriv keeps the 20000 limit. HOME holds the Erlang cookie.
  launch "${EJ_UNIT:-ejabberd}" "$D/stdout.log" \
    setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
    env HOME=/var/lib/ejabberd EJABBERD_PID_PATH="$D/ejabberd.pid" \
    ejabberdctl --config-dir "$D/conf" --logs "$D/logs" --spool "$D/db" foreground
}
health_ejabberd() { tcp_listening "$EJABBERD_C2S_PORT" && tcp_listening "$EJABBERD_TLS_PORT" && tcp_listening "$EJABBERD_HTTP_PORT"; }
logs_ejabberd() { local D; D="$(EJ_D)"; echo "$D/stdout.log $D/logs/error.log $D/logs/ejabberd.log"; }
ejabberd_beam_pid() { # the BEAM of our ejabberd session (it does the graceful shutdown on SIGTERM)
  local sid p; sid="$(unit_sid "${EJ_UNIT:-ejabberd}")"; [ -n "$sid" ] || return 0
  for p in $(session_pids "$sid"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = beam.smp ] && { echo "$p"; return 0; }; done
}
post_ejabberd() {
  local beam lim
  beam="$(ejabberd_beam_pid)"
  if [ -n "$beam" ]; then
    lim="$(awk '/Max open files/ {print $4}' "/proc/$beam/limits" 2>/dev/null)"
    [ "${lim:-0}" -ge 4096 ] || log "ejabberd: WARNING soft open-files limit is $lim"
  fi
  [ "$PROVISION_USERS" -gt 0 ] || return 0
  "$REPO/scripts/provision-users.sh" ejabberd "$PROVISION_USERS"
}
stop_ejabberd() {
  # SIGTERM to the BEAM = init:stop() (graceful since OTP 20). Not to the whole session: killing
  # erl_child_setup first makes the VM abort with a crash dump.
  local beam; beam="$(ejabberd_beam_pid)"
  stop_unit "${EJ_UNIT:-ejabberd}" "$beam"
  # Stop our epmd only if no other Erlang node still uses it (e.g. a tsung started meanwhile).
  if unit_running ejabberd-epmd; then
    local names; names="$(ERL_EPMD_ADDRESS=127.0.0.1 timeout 5 epmd -names 2>/dev/null | grep '^name ' || true)"
    if [ -z "$names" ]; then stop_unit ejabberd-epmd; else log "ejabberd-epmd: left running, still used by: $(echo "$names" | awk '{print $2}' | xargs)"; fi
  fi
}
url_ejabberd() { echo "xmpp://127.0.0.1:$EJABBERD_C2S_PORT xmpps://127.0.0.1:$EJABBERD_TLS_PORT ws://127.0.0.1:$EJABBERD_HTTP_PORT/ws http://127.0.0.1:$EJABBERD_HTTP_PORT/api muc=muc.localhost"; }

# --- ejabberd instances 2..EJABBERD_INSTANCES (units ejabberd-2..N; bench/hold-38k.sh): instance i is a node of
# its own (EJABBERD_NODE with suffix _i: ejabberd_2@localhost), with its own run dir $RUN/ejabberd-i (config, Mnesia
# spool, logs, accounts) and ports +10*(i-1) (c2s 5332, tls 5333, http 5390 for i=2). One BEAM per instance, so each
# holds its own share of the sessions under its own open-files limit. Each runs the functions above in a subshell.
EJABBERD_INSTANCES="${EJABBERD_INSTANCES:-1}"
[[ "$EJABBERD_INSTANCES" =~ ^[1-9]$ ]] || die "EJABBERD_INSTANCES='$EJABBERD_INSTANCES' must be 1..9"
ej_instance() { # ej_instance I: points the ejabberd functions at instance I (call in a subshell)
  local i="$1" base="${EJABBERD_NODE:-ejabberd@localhost}"
  export EJABBERD_NODE="${base%@*}_$i@${base#*@}" AMOC_RUN_DIR="$RUN/ejabberd-$i"
  RUN="$AMOC_RUN_DIR" EJ_UNIT="ejabberd-$i"
  EJABBERD_C2S_PORT=$((EJABBERD_C2S_PORT + 10 * (i - 1))) EJABBERD_TLS_PORT=$((EJABBERD_TLS_PORT + 10 * (i - 1)))
  EJABBERD_HTTP_PORT=$((EJABBERD_HTTP_PORT + 10 * (i - 1)))
}
ej_extra_units() { local i; for ((i = 2; i <= EJABBERD_INSTANCES; i++)); do printf ' ejabberd-%d' "$i"; done; }
for ((_i = 2; _i <= EJABBERD_INSTANCES; _i++)); do
  for _f in prep start health logs post stop url; do eval "${_f}_ejabberd-$_i() { ( ej_instance $_i; ${_f}_ejabberd ); }"; done
done

# --- nats (single)
prep_nats() {
  need nats-server nats || return 1
  ports_free nats "$NATS_PORT" "$NATS_MONITOR_PORT" || return 1
  mkdir -p "$RUN/nats/single-js"
  render "$CONF/nats-single.conf.tmpl" "$RUN/nats/single.conf" || return 1
}
start_nats() { launch nats "$RUN/nats/single.stdout.log" nats-server -c "$RUN/nats/single.conf"; }
health_nats() { http_ok "http://127.0.0.1:$NATS_MONITOR_PORT/healthz"; }   # 2.9: also waits for JetStream
logs_nats() { echo "$RUN/nats/single.stdout.log $RUN/nats/single.log"; }
post_nats() { :; }
stop_nats() { stop_unit nats; }
url_nats() { echo "nats://127.0.0.1:$NATS_PORT http://127.0.0.1:$NATS_MONITOR_PORT (jetstream)"; }

# --- nats-cluster (3 units nats-n1..n3, handled together)
nats_node_vars() { # nats_node_vars I -> sets NATS_NODE* for node I (read by render via RENDER_VARS)
  local i="$1" j
  # shellcheck disable=SC2034
  NATS_NODE="n$i"
  NATS_NODE_PORT=$((NATS_CLUSTER_PORT_BASE + i))
  NATS_NODE_HTTP_PORT=$((NATS_CLUSTER_HTTP_PORT_BASE + i))
  NATS_NODE_CLUSTER_PORT=$((NATS_CLUSTER_ROUTE_PORT_BASE + i))
  NATS_ROUTES=""
  for j in 1 2 3; do NATS_ROUTES+="${NATS_ROUTES:+, }nats-route://127.0.0.1:$((NATS_CLUSTER_ROUTE_PORT_BASE + j))"; done
}
prep_nats_node() {
  need nats-server nats || return 1
  nats_node_vars "$1"
  ports_free "nats-n$1" "$NATS_NODE_PORT" "$NATS_NODE_HTTP_PORT" "$NATS_NODE_CLUSTER_PORT" || return 1
  mkdir -p "$RUN/nats/n$1-js"
  render "$CONF/nats-cluster.conf.tmpl" "$RUN/nats/n$1.conf" || return 1
}
start_nats_node() { launch "nats-n$1" "$RUN/nats/n$1.stdout.log" nats-server -c "$RUN/nats/n$1.conf"; }
health_nats_node() {
  # healthy = /healthz ok, routes to both peers, and a JetStream meta leader elected (Raft over 3 nodes)
  local h=$((NATS_CLUSTER_HTTP_PORT_BASE + $1)) body
  http_ok "http://127.0.0.1:$h/healthz" || return 1
  body="$(http_get "http://127.0.0.1:$h/routez")" || return 1
  [ "$(echo "$body" | grep -o '"num_routes": *[0-9]*' | grep -o '[0-9]*$')" -ge 2 ] 2>/dev/null || return 1
  body="$(http_get "http://127.0.0.1:$h/jsz")" || return 1
  echo "$body" | grep -q '"leader": *"[^"]'
}
logs_nats_node() { echo "$RUN/nats/n$1.stdout.log $RUN/nats/n$1.log"; }
for _i in 1 2 3; do
  eval "prep_nats-n$_i() { prep_nats_node $_i; }; start_nats-n$_i() { start_nats_node $_i; }
        health_nats-n$_i() { health_nats_node $_i; }; logs_nats-n$_i() { logs_nats_node $_i; }
        post_nats-n$_i() { :; }; stop_nats-n$_i() { stop_unit nats-n$_i; }
        url_nats-n$_i() { echo nats://127.0.0.1:\$((NATS_CLUSTER_PORT_BASE + $_i)) http://127.0.0.1:\$((NATS_CLUSTER_HTTP_PORT_BASE + $_i)) route 127.0.0.1:\$((NATS_CLUSTER_ROUTE_PORT_BASE + $_i)); }"
done

# --- graphite: carbon, statsd, graphite-web
G_D() { echo "$RUN/graphite"; }
prep_carbon() {
  need carbon-cache graphite || return 1
  ports_free carbon "$CARBON_PORT" "$CARBON_QUERY_PORT" || return 1
  local G; G="$(G_D)"
  mkdir -p "$G/conf" "$G/storage/whisper" "$G/storage/lists" "$G/log" "$G/run"
  render "$CONF/carbon.conf.tmpl" "$G/conf/carbon.conf" || return 1
  cp "$CONF/storage-schemas.conf" "$CONF/storage-aggregation.conf" "$G/conf/" || return 1
  # carbon refuses to start when its pid file names a live process; ours is not running, so any
  # carbon-cache-a.pid left here is stale (a pid that may since have been reused).
  rm -f "$G/run/carbon-cache-a.pid"
}
start_carbon() {
  # /usr/bin/python3 explicitly: `python3` in PATH may be a pyenv without Debian's dist-packages.
  local G; G="$(G_D)"
  launch carbon "$G/log/carbon.stdout.log" env -u PYTHONHOME -u PYTHONPATH \
    /usr/bin/python3 /usr/bin/carbon-cache --config="$G/conf/carbon.conf" --nodaemon start
}
health_carbon() { tcp_listening "$CARBON_PORT" && tcp_listening "$CARBON_QUERY_PORT"; }
logs_carbon() { local G; G="$(G_D)"; echo "$G/log/carbon.stdout.log $G/log/carbon-cache-a/console.log"; }
post_carbon() { :; }
stop_carbon() { stop_unit carbon; }
url_carbon() { echo "tcp://127.0.0.1:$CARBON_PORT (plaintext) cache-query 127.0.0.1:$CARBON_QUERY_PORT"; }

prep_statsd() {
  need node graphite || return 1
  [ -f "$TOOLS/node_modules/statsd/stats.js" ] || { log "statsd missing in $TOOLS: run scripts/install-deps.sh graphite"; return 1; }
  ports_free statsd "$STATSD_MGMT_PORT" || return 1
  if udp_listening "$STATSD_PORT"; then log "statsd: udp port $STATSD_PORT is already in use"; return 1; fi
  mkdir -p "$RUN/statsd"
  render "$CONF/statsd.config.js.tmpl" "$RUN/statsd/config.js" || return 1
}
start_statsd() {
  # statsd 0.9 needs Node <= 22 (util.log was removed in Node 23).
  launch statsd "$RUN/statsd/statsd.log" node "$TOOLS/node_modules/statsd/stats.js" "$RUN/statsd/config.js"
}
health_statsd() { udp_listening "$STATSD_PORT" && tcp_listening "$STATSD_MGMT_PORT"; }
logs_statsd() { echo "$RUN/statsd/statsd.log"; }
post_statsd() { :; }
stop_statsd() { stop_unit statsd; }
url_statsd() { echo "udp://127.0.0.1:$STATSD_PORT mgmt tcp://127.0.0.1:$STATSD_MGMT_PORT (flush 1 s -> carbon)"; }

# graphite-web reads its settings from module gw_local (GRAPHITE_SETTINGS_MODULE) found via PYTHONPATH.
gw_env() { GW_ENV=(env -u PYTHONHOME PYTHONPATH="$(G_D)/web" GRAPHITE_SETTINGS_MODULE=gw_local); }
prep_graphite-web() {
  need graphite-manage graphite || return 1
  ports_free graphite-web "$GRAPHITE_WEB_PORT" || return 1
  local G; G="$(G_D)"
  mkdir -p "$G/web" "$G/log/web" "$G/storage/whisper"
  render "$CONF/gw_local.py.tmpl" "$G/web/gw_local.py" || return 1
  # Create the sqlite DB (events, tags, ...) once; migrate takes ~1 s, so skip it when already done.
  if [ ! -f "$G/web/.migrated" ] || [ ! -s "$G/web/graphite.db" ]; then
    gw_env
    (cd "$G/web" && "${GW_ENV[@]}" timeout 120 /usr/bin/python3 /usr/bin/graphite-manage migrate --run-syncdb \
      > "$G/log/web/migrate.log" 2>&1) || { tail_logs "$G/log/web/migrate.log"; log "graphite-web: migrate failed"; return 1; }
    touch "$G/web/.migrated"
  fi
}
start_graphite-web() {
  local G; G="$(G_D)"
  # Django's dev server, single process (--noreload: no autoreloader child), threaded: enough for the
  # render API and /events/ on loopback.
  gw_env
  launch graphite-web "$G/log/web/runserver.log" "${GW_ENV[@]}" \
    /usr/bin/python3 /usr/bin/graphite-manage runserver "127.0.0.1:$GRAPHITE_WEB_PORT" --noreload
}
health_graphite-web() { http_ok "http://127.0.0.1:$GRAPHITE_WEB_PORT/version/"; }
logs_graphite-web() { local G; G="$(G_D)"; echo "$G/log/web/runserver.log $G/log/web/exception.log $G/log/web/info.log"; }
post_graphite-web() { :; }
stop_graphite-web() { stop_unit graphite-web; }
url_graphite-web() { echo "http://127.0.0.1:$GRAPHITE_WEB_PORT (render, /events/)"; }

# ---------------------------------------------------------------------------------------------------
# server names -> units (in start order)

units_of() {
  case "$1" in
    prosody) echo prosody ;;
    ejabberd) echo ejabberd "$(ej_extra_units)" ;;
    nats) echo nats ;;
    nats-cluster) echo nats-n1 nats-n2 nats-n3 ;;
    graphite) echo carbon statsd graphite-web ;;
    all) echo prosody ejabberd nats nats-n1 nats-n2 nats-n3 carbon statsd graphite-web ;;
    *) die "unknown server '$1' (prosody ejabberd nats nats-cluster graphite all)" ;;
  esac
}
expand_units() { # expand_units NAME... -> unique units in order
  local n u out=()
  for n in "$@"; do for u in $(units_of "$n"); do [[ " ${out[*]} " == *" $u "* ]] || out+=("$u"); done; done
  echo "${out[@]}"
}

cmd_up() {
  local units u failed=() t_start=$EPOCHREALTIME
  read -r -a units <<< "$(expand_units "$@")"
  mkdir -p "$RUN" "$PIDS"
  declare -A deadline=()
  # Phase 1: prepare and launch everything that is not running yet (servers start in parallel).
  for u in "${units[@]}"; do
    if unit_running "$u"; then log "$u: already running"; deadline[$u]=$((SECONDS + HEALTH_TIMEOUT)); continue; fi
    if ! "prep_$u"; then failed+=("$u"); "stop_$u" > /dev/null 2>&1 || true; continue; fi
    "start_$u"
    deadline[$u]=$((SECONDS + HEALTH_TIMEOUT))
  done
  # Phase 2: wait for each to be healthy (bounded), then its post step (user provisioning).
  for u in "${units[@]}"; do
    [[ " ${failed[*]-} " == *" $u "* ]] && continue
    local ok=0
    while :; do
      if "health_$u"; then ok=1; break; fi
      if ! unit_running "$u"; then log "$u: exited during start-up"; break; fi
      [ $SECONDS -lt "${deadline[$u]}" ] || { log "$u: not healthy after ${HEALTH_TIMEOUT}s"; break; }
      sleep 0.2
    done
    if [ $ok = 1 ] && "post_$u"; then
      log "$u: up ($(elapsed "$t_start") s)  $("url_$u")"
    else
      # shellcheck disable=SC2046
      tail_logs $("logs_$u")
      failed+=("$u")
      "stop_$u" || true      # leave nothing half-started behind
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then log "FAILED: ${failed[*]} (run dir $RUN)"; return 1; fi
  log "all up in $(elapsed "$t_start") s (run dir $RUN)"
}

cmd_down() {
  local units i rc=0
  read -r -a units <<< "$(expand_units "$@")"
  # reverse order: statsd before carbon (last flush), cluster nodes after clients...
  for ((i=${#units[@]}-1; i>=0; i--)); do "stop_${units[$i]}" || rc=1; done
  # epmd of a previous ejabberd (e.g. ejabberd crashed) is also ours to stop when ejabberd is down
  if [[ " ${units[*]} " == *" ejabberd "* ]] && ! unit_running ejabberd && unit_running ejabberd-epmd; then stop_ejabberd || rc=1; fi
  return $rc
}

cmd_status() {
  local units u sid st rc=0
  read -r -a units <<< "$(expand_units "$@")"
  for u in "${units[@]}"; do
    sid="$(unit_sid "$u")"
    if [ -z "$sid" ]; then st=down; rc=3
    elif "health_$u"; then st=up
    else st=unhealthy; rc=3; fi
    printf '%-13s %-9s %-12s %s\n' "$u" "$st" "${sid:+pid $sid}" "$("url_$u")"
  done
  return $rc
}

cmd_logs() {
  local u
  for u in $(expand_units "$@"); do
    # shellcheck disable=SC2046
    tail_logs $("logs_$u")
  done
}

for _v in PROSODY_C2S_PORT PROSODY_TLS_PORT PROSODY_HTTP_PORT EJABBERD_C2S_PORT EJABBERD_TLS_PORT EJABBERD_HTTP_PORT \
  NATS_PORT NATS_MONITOR_PORT NATS_CLUSTER_PORT_BASE NATS_CLUSTER_ROUTE_PORT_BASE NATS_CLUSTER_HTTP_PORT_BASE \
  STATSD_PORT STATSD_MGMT_PORT CARBON_PORT CARBON_QUERY_PORT GRAPHITE_WEB_PORT; do
  if ! [[ "${!_v}" =~ ^[0-9]+$ ]] || [ "${!_v}" -lt 1 ] || [ "${!_v}" -gt 65530 ]; then die "$_v='${!_v}' is not a port number"; fi
done
for _v in PROVISION_USERS HEALTH_TIMEOUT STOP_TIMEOUT; do [[ "${!_v}" =~ ^[0-9]+$ ]] || die "$_v='${!_v}' is not a number"; done

# One up/down at a time per run dir (parallel test files may all call `up`). Launched servers do not
# inherit this fd (launch closes fds > 2), so the lock is released when this script exits.
with_lock() {
  mkdir -p "$RUN"
  exec 9> "$RUN/.servers.lock"
  flock -w 180 9 || die "another servers.sh holds $RUN/.servers.lock for more than 180 s"
  "$@"
}

[ $# -ge 1 ] || { sed -n '2,30p' "$0"; exit 2; }
action="$1"; shift
[ $# -gt 0 ] || set -- all
for _n in "$@"; do units_of "$_n" > /dev/null; done     # unknown name: die here, not in a $(...) subshell
case "$action" in
  up) with_lock cmd_up "$@" ;;
  down) with_lock cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  logs) cmd_logs "$@" ;;
  *) echo "usage: $0 up|down|status|logs [prosody|ejabberd|nats|nats-cluster|graphite|all ...]" >&2; exit 2 ;;
esac
