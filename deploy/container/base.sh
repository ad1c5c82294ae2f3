#!/usr/bin/env bash
# The local stand-in for node:20-slim where no image registry is reachable: Debian bookworm from the configured apt
# mirror (mmdebstrap, essential packages + libstdc++6 + passwd) plus this machine's Node 20 binary, imported as
# $AMOC_BASE_IMAGE. Built once: an existing image is reused (podman image rm it to rebuild).
#   deploy/container/base.sh     prints the image name
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$REPO/deploy/container/podman-env.sh"
log() { printf '[base-image] %s\n' "$*" >&2; }
node_bin="$(readlink -f "$(command -v node)")"
major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$major" = 20 ] || { log "node on PATH is $(node -v), the image wants Node 20"; exit 1; }
IMAGE="${AMOC_BASE_IMAGE:-localhost/amoc-base:bookworm-node$major}"
if podman image exists "$IMAGE"; then log "reusing $IMAGE"; echo "$IMAGE"; exit 0; fi
# the first Debian (not security) mirror of the host's apt sources
mirror="$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | grep -m1 debian || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
tar="$AMOC_PODMAN_DIR/base-$$.tar"
trap 'rm -f "$tar"' EXIT
log "mmdebstrap bookworm from $mirror + $node_bin ($(node -v))"
mmdebstrap --quiet --variant=essential --include=libstdc++6,passwd \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="copy-in $node_bin /usr/local/bin" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
  bookworm "$tar" "$mirror"
podman import --quiet --change 'CMD ["node"]' "$tar" "$IMAGE" >/dev/null
log "built $IMAGE"
echo "$IMAGE"
