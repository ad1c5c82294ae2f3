#!/usr/bin/env bash
# Builds the amoc-ts OCI image (deploy/container/Containerfile) with rootful podman (deploy/container/podman-env.sh).
#   scripts/build-image.sh [TAG]        default TAG localhost/amoc-ts:latest
# Env: AMOC_IMAGE_BASE  the base image (default: the local Debian + Node 20 one from deploy/container/base.sh;
#                       users with a registry pass docker.io/library/node:20-slim)
# The release is Ansible's (scripts/release.sh: the files + `npm ci --omit=dev`, built on this machine for its
# platform: the base must match, which the check below enforces), so the build itself needs no npm and no network.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$REPO/deploy/container/podman-env.sh"
log() { printf '[build-image] %s\n' "$*" >&2; }
TAG="${1:-localhost/amoc-ts:latest}"
BASE="${AMOC_IMAGE_BASE:-$(bash "$REPO/deploy/container/base.sh")}"
CTX="$AMOC_PODMAN_DIR/context"
rm -rf "$CTX"; mkdir -p "$CTX/release"
trap 'rm -rf "$CTX"' EXIT
bash "$REPO/scripts/release.sh" "$CTX" >/dev/null
tar -C "$CTX/release" -xzf "$CTX/amoc.tar.gz" && rm "$CTX/amoc.tar.gz"
# what the release was built for; the base must run the same
want="$(cat "$CTX/release/PLATFORM")"
have="$(podman run --rm --network none "$BASE" node -p '`node${process.versions.node.split(".")[0]} ${process.platform}-${process.arch}-${process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"}`')" \
  || { log "the base $BASE cannot run node"; exit 1; }
[ "$have" = "$want" ] || { log "the base $BASE runs Node ABI/platform '$have', the release was built for '$want'"; exit 1; }
log "podman build $TAG from $BASE"
podman build --quiet --format docker --layers=false --build-arg "BASE=$BASE" -f "$REPO/deploy/container/Containerfile" -t "$TAG" "$CTX" >/dev/null
log "built $TAG ($(podman image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1/1e6}'))"
