#!/usr/bin/env bash
# Runs the benchmarks and prints their figures (one JSON object per line); docs/benchmarks.md records them.
# Starts the servers a benchmark needs when they are down, and stops exactly those afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SERVERS="$ROOT/scripts/servers.sh"

started=()
cleanup() { if [ ${#started[@]} -gt 0 ]; then bash "$SERVERS" down "${started[@]}" || true; fi; }
trap cleanup EXIT
need() {   # need UNIT: start it unless it is already up
  if ! bash "$SERVERS" status "$1" >/dev/null 2>&1; then
    bash "$SERVERS" up "$1"
    started+=("$1")
  fi
}

# metrics at 10,000 stanzas/s for 30 s through the bridge and StatsD; CPU share and packet loss at the daemon
need graphite
node --import tsx bench/metrics-load.ts 10000 30
