#!/usr/bin/env bash
# Scale-up on one machine (issue 11): `bin/amoc worker --procs P` (one worker process per core) holding USERS
# concurrent XMPP users against Prosody and ejabberd together (AMOC_XMPP_SERVERS lists both; users are dealt to
# workers and to servers by ID, so with P=2 each worker holds one server's half). Prints per process and per user
# peak RSS and CPU, and the run's summary. "held" here is users started minus crashed, not a measured concurrency
# (the users that did not crash were online together only if none had closed yet: each closes hold_ms after its own
# login). Figures recorded in .run/bench/results.jsonl.
#
#   bash bench/scale-procs.sh            # needs `make servers-up SERVERS="prosody ejabberd nats"`
#
# Env: USERS (38000)  PROCS (2)  INTERARRIVAL ms (2: 500 logins/s in all, 250/s per server)  EXTRA_S (30)
# Accounts user_1..user_USERS must exist on both servers: bash scripts/provision-users.sh prosody|ejabberd USERS.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
USERS="${USERS:-38000}" PROCS="${PROCS:-2}" INTERARRIVAL="${INTERARRIVAL:-2}" EXTRA_S="${EXTRA_S:-30}"
RUN="$REPO/.run/bench/scale-procs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RUN"
export AMOC_CLUSTER_NAME="scale$$" AMOC_LOG_LEVEL=warn AMOC_XMPP_SERVERS="xmpp://127.0.0.1:5222,xmpp://127.0.0.1:5322"
HOLD_MS=$(((USERS * INTERARRIVAL / 1000 + EXTRA_S) * 1000))
echo "load before: $(uptime)"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

AMOC_NODE_NAME=scale setsid "$REPO/bin/amoc" worker --procs "$PROCS" > "$RUN/workers.log" 2>&1 &
PARENT=$!
trap 'kill -TERM -- -$PARENT 2>/dev/null || true' EXIT
# wait until every child joined (each prints a line)
for _ in $(seq 1 120); do [ "$(grep -c 'joined cluster' "$RUN/workers.log" || true)" -ge "$PROCS" ] && break; sleep 0.5; done
CHILDREN="$(pgrep -P "$PARENT" -f 'cli.ts worker' | xargs || true)"
[ -n "$CHILDREN" ] || CHILDREN="$(pgrep -f "node_name=scale-|cli.ts worker" | grep -v "^$PARENT$" | xargs)"
echo "worker processes: $CHILDREN"
# base RSS, then peak RSS and CPU per child, sampled every second
declare -A BASE
for p in $CHILDREN; do BASE[$p]=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status"); done
( while sleep 1; do for p in $CHILDREN; do awk -v p="$p" '/^VmRSS:/ {print p, $2}' "/proc/$p/status" 2>/dev/null; done; done ) > "$RUN/rss.txt" &
SAMPLER=$!

"$REPO/bin/amoc" run bench_chat --dist --workers "$PROCS" --users "$USERS" --interarrival "$INTERARRIVAL" --repeat 1 \
  --set warmup_ms=0 --set chat_count=0 --set chat_interval=0 --set "hold_ms=$HOLD_MS" --json > "$RUN/summary.json" 2> "$RUN/run.err" || true
kill "$SAMPLER" 2>/dev/null || true
TICKS=$(getconf CLK_TCK)
for p in $CHILDREN; do
  peak=$(awk -v p="$p" '$1 == p && $2 > m {m = $2} END {print m + 0}' "$RUN/rss.txt")
  cpu_ticks=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
  echo "process $p: base ${BASE[$p]} KB, peak ${peak} KB, CPU $((cpu_ticks * 1000 / TICKS)) ms"
done
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log("users", JSON.stringify(s.users), "nodes", JSON.stringify(s.nodes));
  console.log("errors", JSON.stringify(s.errors));
  const c = s.metrics["xmpp.connection"]; if (c) console.log("xmpp.connection ms", JSON.stringify(c));
' "$RUN/summary.json"
read -r STARTED CRASHED <<<"$(node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(s.users.started, s.users.crashed);
' "$RUN/summary.json")"
node --import "$REPO/node_modules/tsx/dist/loader.mjs" "$REPO/bench/lib/record.ts" \
  "USERS=$USERS PROCS=$PROCS INTERARRIVAL=$INTERARRIVAL bash bench/scale-procs.sh" "$LOAD_BEFORE" \
  "scale-procs.$USERS.started_minus_crashed=$((STARTED - CRASHED))|users|$PROCS worker processes (worker --procs $PROCS), $USERS users at interarrival $INTERARRIVAL ms against Prosody and ejabberd: started minus crashed (not a measured concurrency)" \
  "scale-procs.$USERS.crashed=$CRASHED|users|same run: users crashed (login timeouts)"
echo "load after: $(uptime)"
echo "run dir: $RUN"
