#!/usr/bin/env bash
# The test phase of `make test` (after setup, typecheck and lint). The wall-clock checks (vitest project `timing`) run
# first, alone on the machine. Then the Ansible deploy test and the container test, which spend most of their time
# waiting on SSH, package unpacking and podman, run one after the other in the background while vitest runs the unit
# and integration projects in the foreground: run in sequence the three took ~20 minutes on 2 cores, overlapped
# they leave the CPU far less idle. The background's output is kept in .run/test-logs/ and printed once it ends.
# Exit status: non-zero when any part failed; every part runs to its end (each cleans up after itself).
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
LOGS="$REPO/.run/test-logs"
mkdir -p "$LOGS"
log() { printf '[test-all %s] %s\n' "$(date +%T)" "$*" >&2; }

t0=$SECONDS
npx vitest run --project timing
timing_rc=$?
log "timing project: exit $timing_rc ($((SECONDS - t0)) s)"

bash scripts/install-deps.sh ansible container nats || { log "FAIL: scripts/install-deps.sh ansible container nats"; exit 1; }

background() {
  local t rc_deploy rc_containers
  t=$SECONDS
  bash scripts/test-deploy.sh >"$LOGS/test-deploy.log" 2>&1
  rc_deploy=$?
  echo "test-deploy: exit $rc_deploy ($((SECONDS - t)) s)" >"$LOGS/background.status"
  t=$SECONDS
  bash scripts/test-containers.sh >"$LOGS/test-containers.log" 2>&1
  rc_containers=$?
  echo "test-containers: exit $rc_containers ($((SECONDS - t)) s)" >>"$LOGS/background.status"
  [ "$rc_deploy" = 0 ] && [ "$rc_containers" = 0 ]
}
rm -f "$LOGS/background.status"
# one release build for the deploys and the image (same sources, same id)
AMOC_RELEASE_CACHE="$(mktemp -d /tmp/amoc-release-cache.XXXX)"
export AMOC_RELEASE_CACHE
background &
bg=$!
# a stopped make stops the background tests too: each one's own trap removes what it made
trap 'kill -TERM $bg 2>/dev/null; pkill -TERM -P $bg 2>/dev/null; wait $bg; rm -rf "$AMOC_RELEASE_CACHE"; exit 130' INT TERM

t0=$SECONDS
npx vitest run --project unit --project integration
vitest_rc=$?
log "unit and integration projects: exit $vitest_rc ($((SECONDS - t0)) s)"

log "waiting for the deploy and container tests (logs in $LOGS)"
wait "$bg"
bg_rc=$?
for f in test-deploy test-containers; do
  [ -f "$LOGS/$f.log" ] || continue
  echo "----- $f (.run/test-logs/$f.log) -----"
  cat "$LOGS/$f.log"
done
cat "$LOGS/background.status" 2>/dev/null
rm -rf "$AMOC_RELEASE_CACHE"
log "total $((SECONDS)) s: timing $timing_rc, vitest $vitest_rc, deploy and containers $bg_rc"
[ "$timing_rc" = 0 ] && [ "$vitest_rc" = 0 ] && [ "$bg_rc" = 0 ]
