#!/usr/bin/env bash
# Builds the amoc-ts OCI image (deploy/container/Containerfile) with rootful podman (deploy/container/podman-env.sh).
#   scripts/build-image.sh [TAG]        default TAG localhost/amoc-ts:latest
# Env: AMOC_IMAGE_BASE  the base image (default: the local Debian + Node 20 one from deploy/container/base.sh;
#                       users with a registry pass docker.io/library/node:20-slim)
# The release is staged on this machine (the files Ansible ships + `npm ci --omit=dev`, for linux-x64-glibc Node 20:
# the base must match, which its check below enforces), so the build itself needs no npm and no network.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$REPO/deploy/container/podman-env.sh"
log() { printf '[build-image] %s\n' "$*" >&2; }
TAG="${1:-localhost/amoc-ts:latest}"
BASE="${AMOC_IMAGE_BASE:-$(bash "$REPO/deploy/container/base.sh")}"
CTX="$AMOC_PODMAN_DIR/context"
rm -rf "$CTX"; mkdir -p "$CTX/release"
trap 'rm -rf "$CTX"' EXIT
(cd "$REPO" && tar -cf - $(ls -d bin src scenarios config web package.json package-lock.json tsconfig.json 2>/dev/null)) | tar -C "$CTX/release" -xf -
# better-sqlite3's native binary: the one this checkout built goes where prebuild-install looks first, so the
# release gets the same build without GitHub or a compiler (both are the same Node ABI: checked below)
cache="$AMOC_PODMAN_DIR/npm-cache"
if [ -d "$REPO/node_modules/better-sqlite3/build/Release" ]; then
  prebuild="$(cd "$REPO/node_modules/better-sqlite3" && npm_config_cache="$cache" node -e '
    const v = require("./package.json").version;
    const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${v}/better-sqlite3-v${v}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    console.log(require("prebuild-install/util").cachedPrebuild(url));')"
  mkdir -p "$(dirname "$prebuild")"
  tar -C "$REPO/node_modules/better-sqlite3" -czf "$prebuild" build/Release/better_sqlite3.node
fi
log "npm ci --omit=dev in the staged release"
(cd "$CTX/release" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --cache "$cache" --logs-dir "$cache/_logs" \
  --loglevel=error >/dev/null) || { log "npm ci --omit=dev failed (see $cache/_logs)"; exit 1; }
rm -rf "$CTX/release/node_modules/.cache"
# what the release was built for; the base must run the same
want="$(node -p '`${process.versions.modules} ${process.platform}-${process.arch} ${process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"}`')"
echo "$want" >"$CTX/release/PLATFORM"
have="$(podman run --rm --network none "$BASE" node -p '`${process.versions.modules} ${process.platform}-${process.arch} ${process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"}`')" \
  || { log "the base $BASE cannot run node"; exit 1; }
[ "$have" = "$want" ] || { log "the base $BASE runs Node ABI/platform '$have', the release was built for '$want'"; exit 1; }
log "podman build $TAG from $BASE"
podman build --quiet --format docker --layers=false --build-arg "BASE=$BASE" -f "$REPO/deploy/container/Containerfile" -t "$TAG" "$CTX" >/dev/null
log "built $TAG ($(podman image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%d MB", $1/1e6}'))"
