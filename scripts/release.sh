#!/usr/bin/env bash
# Builds the release once on this (control) machine, as amoc's relx release is built: the files that run bin/amoc
# plus node_modules from `npm ci --omit=dev`, built for this machine's platform, in one reproducible tarball.
#   scripts/release.sh OUT_DIR [SOURCE_DIR]   writes OUT_DIR/amoc.tar.gz; prints "<id> <platform>" on stdout
# <id>: 12 hex digits of the sources' and the platform's hash (same sources, same platform: same id).
# <platform>: "node<major> <os>-<arch>-<libc>" (e.g. node20 linux-x64-glibc), also in the release's PLATFORM file:
# the hosts must match it (ansible's amoc_release role checks each one) since node_modules holds native code.
# Env: AMOC_RELEASE_PATHS (default: bin src scenarios config web package.json package-lock.json tsconfig.json);
# AMOC_RELEASE_CACHE: a directory where a built release is kept by id and reused (the tests build the same sources
# four times: three deploys and the image).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: scripts/release.sh OUT_DIR [SOURCE_DIR]}"
SRC="${2:-$REPO}"
PATHS="${AMOC_RELEASE_PATHS:-bin src scenarios config web package.json package-lock.json tsconfig.json}"
log() { printf '[release] %s\n' "$*" >&2; }
platform="$(node -p '`node${process.versions.node.split(".")[0]} ${process.platform}-${process.arch}-${process.report.getReport().header.glibcVersionRuntime ? "glibc" : "musl"}`')"
mkdir -p "$OUT"
stage="$(mktemp -d "$OUT/stage.XXXX")"
trap 'rm -rf "$stage"' EXIT
tarx() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --exclude='*.log' "$@"; }
(cd "$SRC" && tarx -cf - $(ls -d $PATHS 2>/dev/null)) >"$stage/src.tar"
id="$( (cat "$stage/src.tar"; echo "$platform") | sha256sum | cut -c1-12)"
cached="${AMOC_RELEASE_CACHE:+$AMOC_RELEASE_CACHE/$id.tar.gz}"
if [ -n "$cached" ] && [ -f "$cached" ]; then
  cp "$cached" "$OUT/amoc.tar.gz"
  log "release $id for $platform: $OUT/amoc.tar.gz (from the cache $AMOC_RELEASE_CACHE)"
  echo "$id $platform"
  exit 0
fi
mkdir "$stage/r" && tar -C "$stage/r" -xf "$stage/src.tar" && rm "$stage/src.tar"
# better-sqlite3: the native binary this checkout built (same Node ABI) goes where prebuild-install looks first,
# so the release needs neither GitHub nor a compiler
cache="$(npm config get cache)"   # the usual cache (prebuild-install keeps its downloads there too)
built=""
for d in "$SRC" "$REPO"; do [ -d "$d/node_modules/better-sqlite3/build/Release" ] && { built="$d/node_modules/better-sqlite3"; break; }; done
if [ -n "$built" ]; then
  prebuild="$(cd "$built" && npm_config_cache="$cache" node -e '
    const v = require("./package.json").version;
    const url = `https://github.com/WiseLibs/better-sqlite3/releases/download/v${v}/better-sqlite3-v${v}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    console.log(require("prebuild-install/util").cachedPrebuild(url));')"
  mkdir -p "$(dirname "$prebuild")"
  tar -C "$built" -czf "$prebuild" build/Release/better_sqlite3.node
fi
(cd "$stage/r" && npm ci --omit=dev --no-audit --no-fund --prefer-offline --cache "$cache" --logs-dir "$stage/npm-logs" \
  --loglevel=error >/dev/null) || { log "npm ci --omit=dev failed: $(tail -5 "$stage"/npm-logs/*.log 2>/dev/null)"; exit 1; }
rm -rf "$stage/r/node_modules/.cache"
echo "$platform" >"$stage/r/PLATFORM"
(cd "$stage/r" && tarx -cf - .) | gzip -n >"$OUT/amoc.tar.gz"
if [ -n "$cached" ]; then mkdir -p "$AMOC_RELEASE_CACHE" && cp "$OUT/amoc.tar.gz" "$cached.tmp$$" && mv "$cached.tmp$$" "$cached"; fi
log "release $id for $platform: $OUT/amoc.tar.gz ($(du -m "$OUT/amoc.tar.gz" | cut -f1) MB)"
echo "$id $platform"
