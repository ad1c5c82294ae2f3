# shellcheck shell=bash
# Shared by bench/xmpp-vs-tsung.sh and bench/xmpp-hold.sh (sourced, not run): Prosody up/down, the background
# processes to clean up, the /proc samplers, and one amoc-ts run sampled from outside.
# Expects REPO and RUN set, and `set -euo pipefail` in the caller.

log() { printf '[bench-xmpp] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# user_1..user_N / password_N, what scripts/servers.sh provisions when it starts Prosody (a smaller N starts faster)
PROVISIONED="${AMOC_PROVISION_USERS:-20000}"
# The benchmarks' own Prosody: the lean config (PROSODY_PROFILE=bench, config/servers/prosody-bench.cfg.lua.tmpl:
# no MAM archive, no PEP), in its own run dir on its own ports, so what is measured is the generators, not the
# shared Prosody's modules nor other work on it. AMOC_RUN_DIR, PROSODY_C2S_PORT (with PROSODY_TLS_PORT and
# PROSODY_HTTP_PORT) and PROSODY_PROFILE (empty: the shared config) choose another one.
SERVERS_RUN="${AMOC_RUN_DIR:-$REPO/.run/bench/server}"
PROSODY_PORT="${PROSODY_C2S_PORT:-15222}"
BENCH_PROSODY_PROFILE="${PROSODY_PROFILE-bench}"
servers() {
  AMOC_RUN_DIR="$SERVERS_RUN" PROSODY_PROFILE="$BENCH_PROSODY_PROFILE" PROSODY_C2S_PORT="$PROSODY_PORT" \
    PROSODY_TLS_PORT="${PROSODY_TLS_PORT:-15223}" PROSODY_HTTP_PORT="${PROSODY_HTTP_PORT:-15280}" \
    AMOC_PROVISION_USERS="$PROVISIONED" bash "$REPO/scripts/servers.sh" "$@"
}
STARTED_PROSODY=0
BG_PIDS=()
CLEANUP_HOOKS=()

# cleanup: only what this script started, by PID; then the caller's hooks; Prosody only if we started it
bench_cleanup() {
  local p h
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for h in "${CLEANUP_HOOKS[@]}"; do "$h" || true; done
  if [ "$STARTED_PROSODY" = 1 ]; then servers down prosody || true; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Prosody on 127.0.0.1:$PROSODY_PORT: used as it is when up (left running), else started and stopped at exit.
ensure_prosody() {
  if servers status prosody > /dev/null 2>&1; then
    local pid rss
    pid="$(awk '{print $1}' "$SERVERS_RUN/pids/prosody.pid" 2>/dev/null || true)"
    rss="$(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null || echo 0)"
    log "prosody already up on port $PROSODY_PORT (pid $pid, RSS ${rss} MB): using it"
    # Prosody keeps the memory of past sessions and gets slower with it: logins then queue up for seconds
    if [ "${rss:-0}" -gt 250 ]; then log "WARNING: this Prosody has served many sessions; stop it (scripts/servers.sh down prosody) for comparable figures"; fi
  else
    servers up prosody
    STARTED_PROSODY=1
  fi
}

# Between two generators: a Prosody this script started is restarted, so each generator meets a fresh server
# (Prosody keeps the memory of past sessions and gets slower with it). One it did not start is left alone.
fresh_prosody() {
  [ "$STARTED_PROSODY" = 1 ] || { log "prosody is not ours: the next generator meets it as the last one left it"; return 0; }
  servers down prosody
  servers up prosody
}

# descendants of PID whose command line matches PATTERN (erlang's VM under tsung's script, node under timeout)
find_descendant() {
  local root="$1" pattern="$2"
  ps -e -o pid=,ppid=,args= | awk -v r="$root" -v pat="$pattern" '
    { pid[NR] = $1; pp[NR] = $2; $1 = ""; $2 = ""; cmd[NR] = $0 }
    END { mine[r] = 1
      do { added = 0; for (i = 1; i <= NR; i++) if (!(pid[i] in mine) && (pp[i] in mine)) { mine[pid[i]] = 1; added = 1 } } while (added)
      for (i = 1; i <= NR; i++) if ((pid[i] in mine) && cmd[i] ~ pat) { print pid[i]; exit } }'
}

wait_for_descendant() { # wait_for_descendant ROOT PATTERN TIMEOUT_S -> pid
  local t=$((SECONDS + $3)) p
  while [ $SECONDS -lt $t ]; do
    p="$(find_descendant "$1" "$2")"
    if [ -n "$p" ]; then echo "$p"; return 0; fi
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Prosody is sampled too while a generator runs: its CPU per user shows whether the server kept up.
SERVER_SAMPLER=""
sample_server() {
  local pid
  pid="$(awk '{print $1}' "$SERVERS_RUN/pids/prosody.pid" 2>/dev/null || true)"
  if [ -z "$pid" ] || [ ! -r "/proc/$pid/stat" ]; then log "prosody pid unknown: server not sampled"; return 0; fi
  bash "$REPO/bench/lib/proc-sample.sh" "$pid" "$1" 1 &
  SERVER_SAMPLER=$!
  BG_PIDS+=("$SERVER_SAMPLER")
}
stop_server_sampler() {
  if [ -n "$SERVER_SAMPLER" ]; then kill "$SERVER_SAMPLER" 2>/dev/null || true; wait "$SERVER_SAMPLER" 2>/dev/null || true; fi
  SERVER_SAMPLER=""
}

# BENCH_HEAP_SNAPSHOT=1: once the users are held (the sampler's ss snapshot, DIR/ss.txt, is written: every socket is
# open) and BENCH_HEAP_SNAPSHOT_DELAY_S (25: longer than the 20 s login timeout, so no login is still under way)
# later, SIGUSR2 makes the node (started with --heapsnapshot-signal, see run_amoc) write a heap snapshot into DIR.
# Writing it stops the node for seconds and costs memory: such a run's RSS figures are not recorded, and the users
# must stay online past it (HOLD_EXTRA_S). Analyse it with bench/lib/heap-breakdown.ts.
heap_snapshot_when_held() {
  local node="$1" dir="$2" delay="${BENCH_HEAP_SNAPSHOT_DELAY_S:-25}"
  (
    while [ ! -s "$dir/ss.txt" ]; do kill -0 "$node" 2> /dev/null || exit 0; sleep 1; done
    sleep "$delay"
    log "users held: heap snapshot of pid $node into $dir"
    kill -USR2 "$node" 2> /dev/null || true
  ) &
  BG_PIDS+=("$!")
}

# run_amoc DIR TIMEOUT_S ARGS... : `bin/amoc run ARGS --json` against Prosody's plain port, its node process
# sampled every second into DIR/samples.txt (Prosody into DIR/server-samples.txt); summary in DIR/summary.json.
# AMOC_NODE_OPTIONS adds node flags (NODE_OPTIONS) for experiments; the recorded figures use none.
run_amoc() {
  local dir="$1" limit="$2" tpid node spid rc=0
  shift 2
  mkdir -p "$dir"
  local nopts="${AMOC_NODE_OPTIONS:-}"
  if [ "${BENCH_HEAP_SNAPSHOT:-0}" = 1 ]; then nopts="$nopts --heapsnapshot-signal=SIGUSR2 --diagnostic-dir=$dir"; fi
  AMOC_XMPP_SERVERS="xmpp://127.0.0.1:$PROSODY_PORT" AMOC_LOG_LEVEL=warn NODE_OPTIONS="$nopts" \
    timeout "$limit" "$REPO/bin/amoc" run "$@" --allow-crashes --json > "$dir/summary.json" 2> "$dir/stderr.log" &
  tpid=$!
  BG_PIDS+=("$tpid")
  node="$(wait_for_descendant "$tpid" "src/cli.ts" 30)" || die "amoc-ts did not start; see $dir/stderr.log"
  bash "$REPO/bench/lib/proc-sample.sh" "$node" "$dir/samples.txt" 1 "$dir/ss.txt" &
  spid=$!
  BG_PIDS+=("$spid")
  if [ "${BENCH_HEAP_SNAPSHOT:-0}" = 1 ]; then heap_snapshot_when_held "$node" "$dir"; fi
  sample_server "$dir/server-samples.txt"
  wait "$tpid" || rc=$?
  wait "$spid" || true
  stop_server_sampler
  [ "$rc" = 0 ] || log "amoc-ts exited with $rc (see $dir/stderr.log)"
  [ -s "$dir/summary.json" ] || die "amoc-ts wrote no summary; see $dir/stderr.log"
}

# figures ARGS... : bench/lib/xmpp-figures.ts, table and JSON into $RUN/figures.txt and figures.json; the figures
# are recorded (bench/lib/results.ts) with BENCH_COMMAND as their command and BENCH_LOAD_BEFORE as the load before.
figures() {
  BENCH_SERVER_CONFIG="${BENCH_PROSODY_PROFILE:-shared}" timeout 60 node --import "$REPO/node_modules/tsx/dist/loader.mjs" "$REPO/bench/lib/xmpp-figures.ts" "$@" | tee "$RUN/figures.txt"
  tail -n 1 "$RUN/figures.txt" > "$RUN/figures.json"
  log "figures in $RUN/figures.txt and figures.json"
}
