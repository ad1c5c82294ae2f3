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

# generic helpers (process sessions, ports, templates, certificates)
. "$REPO/scripts/servers/lib.sh"

# ---------------------------------------------------------------------------------------------------
# units: for each, prep_X (write configs; may fail), start_X (launch), health_X (0 = healthy),
# logs_X (files to show on failure), post_X (after healthy), stop_X, url_X (status line)

. "$REPO/scripts/servers/xmpp-units.sh"
. "$REPO/scripts/servers/infra-units.sh"

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
