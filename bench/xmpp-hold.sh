#!/usr/bin/env bash
# One amoc-ts node holding 10,000 concurrent XMPP users on Prosody (127.0.0.1): login + presence + hold + close
# (scenario bench_chat with no chats). The node process is sampled from /proc every second; prints base RSS, RSS
# per connected user ((peak - base) / connected), CPU ms per user (the whole run / users), time to connect all,
# errors, and a JSON line. At most 19,500: one process may open 20,000 files here (Prosody too); one Prosody
# stopped completing logins near 13,000 (bench/hold-38k.sh holds more on several ejabberd). See
# bench/README-xmpp.md.
#
#   bash bench/xmpp-hold.sh
#
# Env: HOLD_USERS (10000)  HOLD_INTERARRIVAL ms (6, i.e. 167 logins/s: Prosody's one core stays below 0.8 of it)
#      HOLD_EXTRA_S (30: how long everybody stays online together)  AMOC_NODE_OPTIONS (experiments only)
#      BENCH_HEAP_SNAPSHOT=1: a heap snapshot of the node once the users are held, into the run dir (figures not
#      recorded; analyse it with `node --import tsx bench/lib/heap-breakdown.ts FILE USERS`, see docs/memory.md)
# Users user_1..user_N. The bench's own lean Prosody (see bench/lib/xmpp-bench-common.sh) is started only if it is
# not up, and then stopped. Run dir .run/bench/xmpp-hold/<time>/. Figures recorded in .run/bench/results.jsonl.
# Each user closes hold_ms after its own login: the sessions end one by one, as they started, not at once.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$REPO/.run/bench/xmpp-hold/$(date +%Y%m%d-%H%M%S)"
# shellcheck source=bench/lib/xmpp-bench-common.sh
source "$REPO/bench/lib/xmpp-bench-common.sh"

USERS="${HOLD_USERS:-10000}"
INTERARRIVAL="${HOLD_INTERARRIVAL:-6}"
EXTRA_S="${HOLD_EXTRA_S:-30}"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
[[ "$USERS" =~ ^[0-9]+$ && "$INTERARRIVAL" =~ ^[0-9]+$ && "$EXTRA_S" =~ ^[0-9]+$ ]] || die "HOLD_USERS, HOLD_INTERARRIVAL and HOLD_EXTRA_S must be integers"
[ "$USERS" -le 19500 ] || die "HOLD_USERS must be <= 19500 (20,000 open files per process, for amoc-ts and for Prosody)"
RAMP_S=$((USERS * INTERARRIVAL / 1000))
# every user stays online for the whole ramp plus EXTRA_S, so the last one to arrive still finds all the others
HOLD_MS=$(((RAMP_S + EXTRA_S) * 1000))
mkdir -p "$RUN"

log "load before: $(uptime)"
bash "$REPO/scripts/install-deps.sh" xmpp
ensure_prosody
log "run dir $RUN; $USERS users, --interarrival $INTERARRIVAL (ramp ${RAMP_S} s), each online for $((HOLD_MS / 1000)) s"
run_amoc "$RUN/amoc" $((RAMP_S + HOLD_MS / 1000 + 180)) bench_chat --users "$USERS" --from 1 --interarrival "$INTERARRIVAL" \
  --repeat 1 --set warmup_ms=3000 --set chat_count=0 --set chat_interval=0 --set "hold_ms=$HOLD_MS"
log "load after: $(uptime)"
# a heap snapshot costs the node memory, and node flags are experiments: such runs' figures are printed, not recorded
KEY="xmpp-hold.$USERS"
if [ "${BENCH_HEAP_SNAPSHOT:-0}" = 1 ] || [ -n "${AMOC_NODE_OPTIONS:-}" ]; then KEY=""; fi
BENCH_COMMAND="HOLD_USERS=$USERS HOLD_INTERARRIVAL=$INTERARRIVAL HOLD_EXTRA_S=$EXTRA_S bash bench/xmpp-hold.sh" BENCH_LOAD_BEFORE="$LOAD_BEFORE" \
  BENCH_KEY="$KEY" BENCH_USERS_EXPECTED="$USERS" figures "amoc-ts hold=amoc:$RUN/amoc/samples.txt:$RUN/amoc/summary.json:$RUN/amoc/server-samples.txt"
