#!/usr/bin/env bash
# The container cluster test (issue 24): rootful podman (deploy/container/podman-env.sh) runs nats-server (the
# Debian binary the other tests use, in a container of the local base), 3 worker containers and a master container
# on a podman network; `amoc run dummy --dist --workers 3` in the master deals to all three; one worker container
# killed mid-run has its users re-dealt (the summary says where). Everything it made goes away on exit, pass or
# fail: containers, network, image, volumes (the base image stays cached for the next run: deploy/container/base.sh).
# Needs root and scripts/install-deps.sh container nats. Prints its timings.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[test-containers %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (rootful podman)"
for c in podman mmdebstrap iptables nats-server node; do command -v "$c" >/dev/null || die "$c is missing: bash scripts/install-deps.sh container nats"; done
. "$REPO/deploy/container/podman-env.sh"

ID="amct$$"
IMAGE="localhost/amoc-ts:$ID"
NET="$ID"
WORKERS=(w1 w2 w3)
TMP="$(mktemp -d "/tmp/$ID.XXXX")"
cleanup() {
  local rc=$? left
  set +e
  log "cleanup (exit $rc)"
  podman rm --force --time 0 $(podman ps -a --format '{{.Names}}' | grep "^$ID-") >/dev/null 2>&1
  podman volume rm --force $(podman volume ls --format '{{.Name}}' | grep "^$ID-") >/dev/null 2>&1
  podman network rm --force "$NET" >/dev/null 2>&1
  podman image rm --force "$IMAGE" >/dev/null 2>&1
  rm -rf "$TMP"
  left="$(podman ps -a --format '{{.Names}}' | grep "^$ID-"; podman volume ls --format '{{.Name}}' | grep "^$ID-";
    podman network ls --format '{{.Name}}' | grep "^$NET\$"; podman images --format '{{.Repository}}:{{.Tag}}' | grep ":$ID\$")"
  [ -z "$left" ] || { log "LEAK: $left"; rc=1; }
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_all=$SECONDS
t=$SECONDS; BASE="$(bash "$REPO/deploy/container/base.sh")"; t_base=$((SECONDS - t))
t=$SECONDS; AMOC_IMAGE_BASE="$BASE" bash "$REPO/scripts/build-image.sh" "$IMAGE"; t_image=$((SECONDS - t))
out="$(podman run --rm --no-healthcheck --network none "$IMAGE" help)" || die "podman run $IMAGE help failed"
[[ "$out" == *"usage: amoc <command>"* && "$out" == *AMOC_NATS_URL* ]] || die "help printed: $out"
[ "$(podman run --rm --no-healthcheck --network none --entrypoint id "$IMAGE" -u)" != 0 ] || die "the image runs as root"

t=$SECONDS
podman network create "$NET" >/dev/null
podman run -d --name "$ID-nats" --network "$NET" -v "$(readlink -f "$(command -v nats-server)"):/usr/local/bin/nats-server:ro" \
  "$BASE" nats-server -js -sd /tmp/js -a 0.0.0.0 -p 4222 >/dev/null
# --no-healthcheck: podman runs healthchecks from systemd timers, and there is no systemd here
common=(--no-healthcheck --network "$NET" -e "AMOC_NATS_URL=nats://$ID-nats:4222" -e "AMOC_CLUSTER_NAME=$ID")
for w in "${WORKERS[@]}"; do
  podman volume create "$ID-$w" >/dev/null
  podman run -d --name "$ID-$w" "${common[@]}" -e "AMOC_NODE_NAME=$w" -e "AMOC_NODE_LABELS=zone=$w" \
    -v "$ID-$w:/var/lib/amoc" "$IMAGE" worker >/dev/null
done
for w in "${WORKERS[@]}"; do
  for _ in $(seq 300); do podman logs "$ID-$w" 2>&1 | grep -q 'joined cluster' && break; sleep 0.2; done
  podman logs "$ID-$w" 2>&1 | grep -q 'joined cluster' || die "$w did not join: $(podman logs "$ID-$w" 2>&1 | tail -5)"
done
t_up=$((SECONDS - t))
log "nats + 3 workers up in ${t_up}s"

# 30 users, each runs start() 600 times 100 ms apart (~60 s): w3 is killed once its users run
t=$SECONDS
podman volume create "$ID-master" >/dev/null
podman run --name "$ID-master" "${common[@]}" -e AMOC_NODE_NAME=master -v "$ID-master:/var/lib/amoc" "$IMAGE" \
  run dummy --dist --workers 3 --users 30 --interarrival 0 --repeat 600 --repeat-interval 100 --json \
  >"$TMP/run.json" 2>"$TMP/run.err" &
master=$!
# the master's progress line says when all 30 run; dealt round-robin over the 3 workers, 10 of them are w3's (the
# summary checked below says w3 started users). Read from the master's stderr on this host: a `podman exec` poll
# can take longer than the users run on a loaded machine
deadline=$((SECONDS + 60))
until grep -q 'running 30  started 30/30' "$TMP/run.err" 2>/dev/null; do
  [ "$SECONDS" -lt "$deadline" ] || die "the 30 users were not all running within 60 s: $(cat "$TMP/run.err")"
  sleep 0.2
done
podman kill --signal KILL "$ID-w3" >/dev/null
log "w3 killed after $((SECONDS - t))s"
rc=0; wait "$master" || rc=$?
t_run=$((SECONDS - t))
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const bad = [];
  for (const w of ["w1", "w2", "w3"]) if (!(s.nodes[w]?.started > 0)) bad.push(`${w} started nothing: ${JSON.stringify(s.nodes[w])}`);
  if (!s.nodes.w3?.lost) bad.push(`w3 not lost: ${JSON.stringify(s.nodes.w3)}`);
  const to = Object.keys(s.nodes.w3?.redealt_to ?? {});
  if (!to.length || !to.every((n) => n === "w1" || n === "w2")) bad.push(`w3 re-dealt to ${JSON.stringify(s.nodes.w3?.redealt_to)}`);
  if (s.users.started < 30) bad.push(`users ${JSON.stringify(s.users)}`);
  if (bad.length) { console.error("run summary wrong:", bad.join("; ")); process.exit(1); }
  console.error(`run: ${s.users.started} users over w1, w2, w3; w3 lost, re-dealt to ${JSON.stringify(s.nodes.w3.redealt_to)}`);
' "$TMP/run.json" || die "run (exit $rc): $(cat "$TMP/run.err") $(cat "$TMP/run.json")"
log "PASS (run exit $rc)"
printf 'test-containers timings (s): base image %d, amoc image %d, cluster up %d, run %d, total %d\n' \
  "$t_base" "$t_image" "$t_up" "$t_run" "$((SECONDS - t_all))"
