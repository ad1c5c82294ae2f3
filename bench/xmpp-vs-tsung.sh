#!/usr/bin/env bash
# XMPP generator benchmark, side by side with a peer: tsung (Debian package) and amoc-ts, one after the other,
# against the same lean Prosody on 127.0.0.1 (its own instance, PROSODY_PROFILE=bench: no MAM archive, no PEP), the
# same session for every user (login + presence + 3 chats 2 s apart to a random online user + 60 s hold + close),
# Poisson arrivals at the same rate for both. Each generator process is sampled from /proc every second
# (bench/lib/proc-sample.sh); bench/lib/xmpp-figures.ts checks the run's validity (both >= 99 % logged in, Prosody's
# peak < 0.8 core), prints RSS, kernel socket memory and CPU per user, the ratios only when valid, a JSON line, and
# records the figures (.run/bench/results.jsonl). See bench/README-xmpp.md.
#
#   bash bench/xmpp-vs-tsung.sh            (make bench-xmpp)
#
# Env: BENCH_USERS (10000)  BENCH_RATE users/s (100: the lean Prosody spends ~4.5 ms of its one thread per user,
#      so 200/s would saturate it)  BENCH_HOLD_S (60, or 1.2 x the ramp + 10 s when longer)  BENCH_CHATS (3)  BENCH_CHAT_S (2)
#      BENCH_ONLY (tsung|amoc; default both)  AMOC_NODE_OPTIONS (node flags for amoc-ts, experiments only)
#      AMOC_RUN_DIR + PROSODY_C2S_PORT/PROSODY_TLS_PORT/PROSODY_HTTP_PORT: another Prosody (default: the bench's own,
#      .run/bench/server on 15222/15223/15280)  PROSODY_PROFILE (bench; empty: the shared config with MAM and PEP)
#      AMOC_PROVISION_USERS (20000): accounts a Prosody started here gets (>= 2 x BENCH_USERS keeps the two apart)
# Users: tsung logs in user_1..user_N, amoc-ts user_N+1..user_2N (Prosody is provisioned with 20,000), so a session
# tsung left behind can never collide with amoc-ts. Prosody is started only if it is not up, and then stopped;
# when this script started it, it is also restarted between the two generators so each meets a fresh server.
# Run dir: .run/bench/xmpp-vs-tsung/<time>/ (tsung's HOME, its logs, the samples, amoc's summary).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="$REPO/.run/bench/xmpp-vs-tsung/$(date +%Y%m%d-%H%M%S)"
# shellcheck source=bench/lib/xmpp-bench-common.sh
source "$REPO/bench/lib/xmpp-bench-common.sh"

USERS="${BENCH_USERS:-10000}"
RATE="${BENCH_RATE:-100}"
HOLD_S="${BENCH_HOLD_S:-}"
CHATS="${BENCH_CHATS:-3}"
CHAT_S="${BENCH_CHAT_S:-2}"
ONLY="${BENCH_ONLY:-}"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
PORT="$PROSODY_PORT"
[[ "$USERS" =~ ^[0-9]+$ && "$RATE" =~ ^[0-9]+$ && "$RATE" -ge 1 && "$RATE" -le 1000 ]] || die "BENCH_USERS and BENCH_RATE (1..1000) must be integers"
[[ "$HOLD_S" =~ ^[0-9]*$ && "$CHATS" =~ ^[0-9]+$ && "$CHAT_S" =~ ^[0-9]+$ ]] || die "BENCH_HOLD_S, BENCH_CHATS and BENCH_CHAT_S must be integers"
[ "$USERS" -le 19000 ] || die "BENCH_USERS must be <= 19000 (20,000 open files per process here)"
ARRIVAL_S=$(((USERS + RATE - 1) / RATE))
# the hold: 60 s, or longer than the ramp (tsung's Poisson phase runs ~10 % slow), so every user is online together
# at its end and the peak holds all users
[ -n "$HOLD_S" ] || HOLD_S=$((ARRIVAL_S * 6 / 5 + 10 > 60 ? ARRIVAL_S * 6 / 5 + 10 : 60))
SESSION_S=$((CHAT_S * (CHATS + 1) + HOLD_S))
# a generous cap per generator: the ramp (tsung's Poisson arrivals run ~10 % late), the session, start and close
GEN_TIMEOUT_S=$((ARRIVAL_S * 3 / 2 + SESSION_S + 120))
AMOC_FROM=1
if [ $((2 * USERS)) -le "$PROVISIONED" ]; then AMOC_FROM=$((USERS + 1)); fi
mkdir -p "$RUN"

# tsung starts an `epmd -daemon` when none runs and leaves it behind. Stop it only if it is that one: started by
# tsung's erl (`-daemon`; servers.sh starts its own as `epmd -address`), not there before tsung ran, and no
# Erlang node registered with it meanwhile (ejabberd started during the run would be using it).
TSUNG_STARTED=0
EPMD_BEFORE=""
kill_new_epmd() {
  local p names
  [ "$TSUNG_STARTED" = 1 ] || return 0
  for p in $(pgrep -x epmd || true); do
    case " $EPMD_BEFORE " in *" $p "*) continue ;; esac
    grep -qa -- '-daemon' "/proc/$p/cmdline" 2>/dev/null || continue
    names="$(ERL_EPMD_ADDRESS=127.0.0.1 timeout 5 epmd -names 2>/dev/null | grep '^name ' || true)"
    if [ -n "$names" ]; then log "leaving the epmd tsung started (pid $p): in use by $(echo "$names" | awk '{print $2}' | xargs)"; continue; fi
    log "stopping the epmd tsung left behind (pid $p)"
    kill "$p" 2>/dev/null || true
  done
  TSUNG_STARTED=0
}
CLEANUP_HOOKS+=(kill_new_epmd)

run_tsung() {
  local dir="$RUN/tsung" tpid beam spid rc=0
  mkdir -p "$dir/log"
  sed -e "s/@USERS@/$USERS/g; s/@RATE@/$RATE/g; s/@PORT@/$PORT/g; s/@CHATS@/$CHATS/g; s/@CHAT_S@/$CHAT_S/g; s/@HOLD_S@/$HOLD_S/g" \
    -e "s/@ARRIVAL_S@/$((ARRIVAL_S * 3 / 2 + 5))/g; s/@DURATION_S@/$((GEN_TIMEOUT_S - 30))/g" \
    "$REPO/bench/tsung/xmpp-chat.xml.tpl" > "$dir/xmpp-chat.xml"
  EPMD_BEFORE="$(pgrep -x epmd | tr '\n' ' ' || true)"
  TSUNG_STARTED=1
  log "tsung: $USERS users (user_1..user_$USERS), Poisson arrivals at $RATE/s"
  # -n: no web GUI; -I: node tsung_controller@127.0.0.1; -w 3: three idle seconds before the first user (the base)
  (cd "$dir" && HOME="$dir" ERL_EPMD_ADDRESS=127.0.0.1 exec timeout "$GEN_TIMEOUT_S" \
    tsung -n -w 3 -I 127.0.0.1 -f "$dir/xmpp-chat.xml" -l "$dir/log" start > "$dir/stdout.log" 2>&1) &
  tpid=$!
  BG_PIDS+=("$tpid")
  beam="$(wait_for_descendant "$tpid" "tsung_controller" 30)" || die "tsung's VM did not start; see $dir/stdout.log"
  log "tsung controller VM pid $beam"
  bash "$REPO/bench/lib/proc-sample.sh" "$beam" "$dir/samples.txt" 1 "$dir/ss.txt" &
  spid=$!
  BG_PIDS+=("$spid")
  sample_server "$dir/server-samples.txt"
  wait "$tpid" || rc=$?
  wait "$spid" || true
  stop_server_sampler
  kill_new_epmd
  [ "$rc" = 0 ] || log "tsung exited with $rc (see $dir/stdout.log)"
  # tsung makes one log/<YYYYMMDD-HHMM>/ per run; this run dir holds only ours
  TSUNG_LOG="$(find "$dir/log" -mindepth 2 -maxdepth 2 -name tsung.log | head -1)"
  [ -s "$TSUNG_LOG" ] || die "no tsung.log in $dir/log"
}

log "load before: $(uptime)"
bash "$REPO/scripts/install-deps.sh" xmpp tsung
ensure_prosody
log "run dir $RUN; $USERS users per generator at $RATE/s, session ${SESSION_S} s"

args=()
if [ "$ONLY" != amoc ]; then
  run_tsung
  args+=("tsung=tsung:$RUN/tsung/samples.txt:$TSUNG_LOG:$RUN/tsung/server-samples.txt")
fi
if [ "$ONLY" != tsung ]; then
  if [ "$ONLY" != amoc ]; then fresh_prosody; fi
  # Poisson arrivals at RATE/s, as tsung's: exactly USERS arrivals over USERS/RATE s (a 1 ms step up to the rate and
  # down again), then a stage of rate 0 as long as a session, so the shape's end does not remove anyone still online
  ARRIVALS="[{\"duration\":1,\"target\":$RATE},{\"duration\":$((USERS * 1000 / RATE)),\"target\":$RATE},{\"duration\":1,\"target\":0},{\"duration\":$(((SESSION_S + 30) * 1000)),\"target\":0}]"
  log "amoc-ts: $USERS users (user_$AMOC_FROM..user_$((AMOC_FROM + USERS - 1))), Poisson arrivals at $RATE/s"
  # warmup_ms: three idle seconds before the first user, as tsung -w 3; peer=online: chats to a random online
  # user, as tsung's destination="online"
  run_amoc "$RUN/amoc" "$GEN_TIMEOUT_S" bench_chat --from "$AMOC_FROM" --arrival-rate "$ARRIVALS" --poisson \
    --repeat 1 --set warmup_ms=3000 --set peer=online --set "chat_count=$CHATS" --set "chat_interval=$((CHAT_S * 1000))" \
    --set "hold_ms=$((HOLD_S * 1000))"
  args+=("amoc-ts=amoc:$RUN/amoc/samples.txt:$RUN/amoc/summary.json:$RUN/amoc/server-samples.txt")
fi
log "load after: $(uptime)"
BENCH_COMMAND="BENCH_USERS=$USERS make bench-xmpp" BENCH_LOAD_BEFORE="$LOAD_BEFORE" BENCH_KEY="xmpp-vs-tsung.$USERS" BENCH_USERS_EXPECTED="$USERS" \
  figures "${args[@]}"
