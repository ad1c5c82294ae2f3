#!/usr/bin/env bash
# Runs the benchmarks (each records its figures in .run/bench/results.jsonl through bench/lib/results.ts), then
# regenerates docs/benchmarks.md from the latest figures (scripts/bench-doc.ts). A failed benchmark is reported and
# the others still run; the page keeps that benchmark's previous figures.
# Starts the servers a benchmark needs when they are down, and stops exactly those afterwards.
# The XMPP comparison with tsung is separate (make bench-xmpp): it takes minutes and installs tsung; so is the
# 38,000-user hold (make bench-hold).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVERS="$ROOT/scripts/servers.sh"
TSX=(node --import "$ROOT/node_modules/tsx/dist/loader.mjs")

started=()
cleanup() { if [ ${#started[@]} -gt 0 ]; then bash "$SERVERS" down "${started[@]}" || true; fi; }
trap cleanup EXIT
need() {   # need UNIT: start it unless it is already up
  if ! bash "$SERVERS" status "$1" >/dev/null 2>&1; then
    bash "$SERVERS" up "$1"
    started+=("$1")
  fi
}
echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

failed=()
run() { if ! timeout "$@"; then echo "# FAILED: ${*:2}" >&2; failed+=("${*:2}"); fi; }

# local mode: idle users at interarrival 0 (RSS per user, start rate), then start-time error at 5 ms
run 300 "${TSX[@]}" --expose-gc bench/idle-users.ts 100000
run 600 "${TSX[@]}" --expose-gc bench/idle-users.ts 1000000
run 120 "${TSX[@]}" bench/start-accuracy.ts 2000 5

# distributed mode: 4 workers, 1M users dealt, status round trip, start error at 1000/s, re-deal after kill -9
need nats
run 600 "${TSX[@]}" bench/cluster.ts 1000000

# metrics at 10,000 stanzas/s for 30 s through the bridge and StatsD; CPU share and packet loss at the daemon
need graphite
run 300 "${TSX[@]}" bench/metrics-load.ts 10000 30
run 120 "${TSX[@]}" bench/metrics-load.ts 50000 10

# REST status over 4 workers x 250,000 idle users (its own nats-server); the cluster throttle and load shapes
run 600 "${TSX[@]}" bench/rest-status.ts 250000 200
run 300 "${TSX[@]}" bench/throttle-precision.ts 60 1000 4
run 300 "${TSX[@]}" bench/throttle-ramp.ts 20 4000 400 4
# the dashboard's live stream over 3 workers x 30,000 users; a Prometheus scrape of a node holding 30,000 users
run 600 "${TSX[@]}" bench/dashboard-stream.ts 30000 30 5000
run 300 "${TSX[@]}" bench/prometheus-scrape.ts 30000 30 5000
# the results time series while 10,000 users record a chat message's measurements each second
run 300 "${TSX[@]}" bench/results-series.ts 10000 30 1000

echo "# load: $(cut -d' ' -f1-3 /proc/loadavg) after"
"${TSX[@]}" scripts/bench-doc.ts
if [ ${#failed[@]} -gt 0 ]; then echo "# failed: ${failed[*]}" >&2; exit 1; fi
