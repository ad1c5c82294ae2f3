#!/usr/bin/env bash
# Users held at once on one machine: HOLD_USERS (38,000) XMPP users online at the same moment, from one amoc-ts
# cluster node per core (`bin/amoc worker --procs 2`, a distributed run on a private nats-server) against several
# ejabberd instances (scripts/servers.sh with EJABBERD_INSTANCES: each its own node, Mnesia spool and ports), all
# on 127.0.0.1. One server process holds at most its open-files limit of sessions (20,000 here, which no process may
# raise) and one Prosody stopped completing logins near 13,000, hence several ejabberd instances, each holding its
# share (users are dealt to servers by ID).
#
# Concurrency is measured, not inferred: the peak of amoc-ts's `users.running` gauge (summed over the worker
# processes, per results interval) and, at the same moments, each ejabberd node's own session count
# (ejabberd_sm:connected_users_number, sampled once a second by bench/lib/ejabberd-sessions.sh; plus one
# `ejabberdctl connected_users_number` per instance while everybody is online). Each user logs in, sends presence,
# stays online for the whole ramp plus HOLD_EXTRA_S, then closes (hold_ms after its own login). The run fails
# unless 0 users crashed and both peaks reach HOLD_USERS. Figures go to .run/bench/results.jsonl.
#
#   bash bench/hold-38k.sh        (make bench-hold)
#
# Env: HOLD_USERS (38000)  HOLD_PROCS (2)  HOLD_EJABBERD instances (3)  HOLD_INTERARRIVAL ms (4: 250 logins/s)
#      HOLD_EXTRA_S (30)  HOLD_PORT_BASE (17300: ejabberd c2s BASE+22, +10 per instance; nats BASE+122, monitor +182)
# The servers run in .run/bench/hold-servers (accounts user_1..user_N are provisioned once and kept); this script
# starts them and stops them at its end, and stops the workers it started.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USERS="${HOLD_USERS:-38000}" PROCS="${HOLD_PROCS:-2}" INSTANCES="${HOLD_EJABBERD:-3}"
INTERARRIVAL="${HOLD_INTERARRIVAL:-4}" EXTRA_S="${HOLD_EXTRA_S:-30}" BASE="${HOLD_PORT_BASE:-17300}"
log() { printf '[bench-hold] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for v in USERS PROCS INSTANCES INTERARRIVAL EXTRA_S BASE; do [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v='${!v}' must be an integer"; done
[ "$INSTANCES" -ge 1 ] && [ "$INSTANCES" -le 9 ] || die "HOLD_EJABBERD must be 1..9"
[ "$PROCS" -ge 1 ] || die "HOLD_PROCS must be >= 1"

# --- limits: open files per process (each worker and each ejabberd holds its share of sockets), then the kernel's
ulimit -n "$(ulimit -Hn)" 2> /dev/null || true
NOFILE="$(ulimit -n)"
PER_WORKER=$(((USERS + PROCS - 1) / PROCS)) PER_SERVER=$(((USERS + INSTANCES - 1) / INSTANCES))
[ $((PER_WORKER + 200)) -le "$NOFILE" ] || die "each worker would hold $PER_WORKER sockets, over its open-files limit $NOFILE: raise HOLD_PROCS"
[ $((PER_SERVER + 500)) -le "$NOFILE" ] || die "each ejabberd would hold $PER_SERVER sessions, over its open-files limit $NOFILE: raise HOLD_EJABBERD"
read -r LO HI < /proc/sys/net/ipv4/ip_local_port_range
# one ephemeral port per connection to the same server address and port: each server's share must fit the range
[ "$PER_SERVER" -lt $((HI - LO)) ] || die "$PER_SERVER connections to one server port exceed the ephemeral port range $LO-$HI: raise HOLD_EJABBERD"
FILE_MAX="$(cat /proc/sys/fs/file-max)"
[ "$FILE_MAX" -gt $((4 * USERS)) ] || die "fs.file-max $FILE_MAX is below 4 x $USERS (both ends of every socket)"
CONNTRACK="$(cat /proc/sys/net/netfilter/nf_conntrack_max 2> /dev/null || echo none)"
[ "$CONNTRACK" = none ] || [ "$CONNTRACK" -gt $((2 * USERS)) ] || die "net.netfilter.nf_conntrack_max $CONNTRACK is below 2 x $USERS"
log "limits: open files $NOFILE per process ($PER_WORKER sockets per worker, $PER_SERVER per ejabberd), ports $LO-$HI, file-max $FILE_MAX, nf_conntrack_max $CONNTRACK, somaxconn $(cat /proc/sys/net/core/somaxconn)"

RUN="$REPO/.run/bench/hold/$(date +%Y%m%d-%H%M%S)"
SERVERS_RUN="$REPO/.run/bench/hold-servers"
NODE_BASE="amoc_hold@localhost"
NATS_PORT=$((BASE + 122))
mkdir -p "$RUN"
servers() {
  AMOC_RUN_DIR="$SERVERS_RUN" EJABBERD_INSTANCES="$INSTANCES" EJABBERD_NODE="$NODE_BASE" \
    EJABBERD_C2S_PORT=$((BASE + 22)) EJABBERD_TLS_PORT=$((BASE + 23)) EJABBERD_HTTP_PORT=$((BASE + 80)) \
    NATS_PORT="$NATS_PORT" NATS_MONITOR_PORT=$((BASE + 182)) AMOC_PROVISION_USERS="$USERS" \
    AMOC_SERVERS_TIMEOUT=120 bash "$REPO/scripts/servers.sh" "$@"
}
NODES=() URLS=() PORTS=()
for ((i = 1; i <= INSTANCES; i++)); do
  p=$((BASE + 22 + 10 * (i - 1)))
  PORTS+=("$p") URLS+=("xmpp://127.0.0.1:$p")
  if [ "$i" = 1 ]; then NODES+=("$NODE_BASE"); else NODES+=("amoc_hold_$i@localhost"); fi
done

WORKERS="" SAMPLER="" CHECKER=""
cleanup() {
  [ -z "$SAMPLER" ] || kill "$SAMPLER" 2> /dev/null || true
  [ -z "$CHECKER" ] || kill "$CHECKER" 2> /dev/null || true
  if [ -n "$WORKERS" ]; then kill -TERM -- "-$WORKERS" 2> /dev/null || true; wait "$WORKERS" 2> /dev/null || true; fi
  servers down ejabberd nats || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load before: $(uptime)"
log "run dir $RUN; $USERS users, $PROCS worker processes, $INSTANCES ejabberd instances on ports ${PORTS[*]}"
servers up ejabberd nats

RAMP_S=$((USERS * INTERARRIVAL / 1000))
HOLD_MS=$(((RAMP_S + EXTRA_S) * 1000))
export AMOC_NATS_URL="nats://127.0.0.1:$NATS_PORT" AMOC_CLUSTER_NAME="hold$$" AMOC_LOG_LEVEL=warn
AMOC_XMPP_SERVERS="$(IFS=,; echo "${URLS[*]}")"
export AMOC_XMPP_SERVERS
AMOC_NODE_NAME=hold setsid "$REPO/bin/amoc" worker --procs "$PROCS" > "$RUN/workers.log" 2>&1 &
WORKERS=$!
for _ in $(seq 1 240); do [ "$(grep -c 'joined cluster' "$RUN/workers.log" || true)" -ge "$PROCS" ] && break; sleep 0.5; done
[ "$(grep -c 'joined cluster' "$RUN/workers.log" || true)" -ge "$PROCS" ] || die "the workers did not join; see $RUN/workers.log"

bash "$REPO/bench/lib/ejabberd-sessions.sh" "${NODES[@]}" > "$RUN/sessions.txt" 2> "$RUN/sessions.err" &
SAMPLER=$!
# while everybody is online (ramp done, EXTRA_S not over): each instance's own count through ejabberdctl (all at once:
# each boots an Erlang VM, seconds on a loaded machine), and the RSS of every worker and server process at that moment
ctl_count() { # ctl_count I -> "ejabberdctl NODE COUNT"
  local d="$SERVERS_RUN/ejabberd" node="${NODES[$(($1 - 1))]}"
  [ "$1" = 1 ] || d="$SERVERS_RUN/ejabberd-$1/ejabberd"
  echo "ejabberdctl $node $(cd /tmp && setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=/var/lib/ejabberd \
    EJABBERD_NODE="$node" timeout 30 ejabberdctl --config-dir "$d/conf" connected_users_number 2>&1 | tail -n 1)"
}
(
  sleep $((RAMP_S + EXTRA_S / 3 + 3))
  for ((i = 1; i <= INSTANCES; i++)); do ctl_count "$i" > "$RUN/ctl-$i.txt" & done
  wait
  cat "$RUN"/ctl-*.txt
  for p in $(pgrep -P "$WORKERS" || true) $(pgrep -x beam.smp || true); do
    what="$(tr '\0' ' ' < "/proc/$p/cmdline" 2> /dev/null | grep -o 'sname amoc_hold[^ ]*\|cli.ts worker' | head -n 1 || true)"
    [ -z "$what" ] || echo "rss $p $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status") ${what/cli.ts /}"
  done
) > "$RUN/at-peak.txt" 2>&1 &
CHECKER=$!

log "ramp ${RAMP_S} s at --interarrival $INTERARRIVAL, each user online $((HOLD_MS / 1000)) s"
rc=0
timeout $((RAMP_S + HOLD_MS / 1000 + 300)) "$REPO/bin/amoc" run bench_chat --dist --workers "$PROCS" --users "$USERS" \
  --interarrival "$INTERARRIVAL" --repeat 1 --allow-crashes --set warmup_ms=0 --set chat_count=0 --set chat_interval=0 \
  --set "hold_ms=$HOLD_MS" --json > "$RUN/summary.json" 2> "$RUN/run.err" || rc=$?
[ "$rc" = 0 ] || log "amoc-ts exited with $rc (see $RUN/run.err)"
wait "$CHECKER" 2> /dev/null || true
CHECKER=""
kill "$SAMPLER" 2> /dev/null || true
SAMPLER=""
log "load after: $(uptime)"
[ -s "$RUN/summary.json" ] || die "amoc-ts wrote no summary; see $RUN/run.err"
node --import "$REPO/node_modules/tsx/dist/loader.mjs" "$REPO/bench/lib/hold-figures.ts" "$RUN" "$USERS" "$LOAD_BEFORE" \
  "HOLD_USERS=$USERS HOLD_PROCS=$PROCS HOLD_EJABBERD=$INSTANCES HOLD_INTERARRIVAL=$INTERARRIVAL bash bench/hold-38k.sh" \
  "$PROCS" "${NODES[*]}" "${PORTS[*]}"
