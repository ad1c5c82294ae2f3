#!/usr/bin/env bash
# Runs the benchmarks and prints their figures (one JSON object per line); docs/benchmarks.md records them.
# Starts the servers a benchmark needs when they are down, and stops exactly those afterwards.
# The XMPP comparison with tsung is separate (make bench-xmpp): it takes minutes and installs tsung.
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

# local mode: idle users at interarrival 0 (RSS per user, start rate), then start-time error at 5 ms
timeout 300 "${TSX[@]}" --expose-gc bench/idle-users.ts 100000
timeout 600 "${TSX[@]}" --expose-gc bench/idle-users.ts 1000000
timeout 120 "${TSX[@]}" bench/start-accuracy.ts 2000 5

# distributed mode: 4 workers, 1M users dealt, status round trip, start error at 1000/s, re-deal after kill -9
need nats
timeout 600 "${TSX[@]}" bench/cluster.ts 1000000

# metrics at 10,000 stanzas/s for 30 s through the bridge and StatsD; CPU share and packet loss at the daemon
need graphite
timeout 300 "${TSX[@]}" bench/metrics-load.ts 10000 30
