#!/usr/bin/env bash
# Install the real servers used by `make servers-up`, `make demo` and the integration tests.
#
#   scripts/install-deps.sh [GROUP ...]
#
# Groups:  base      netcat-openbsd iproute2 procps curl openssl (always added)
#          xmpp      prosody lua-unbound ejabberd
#          nats      nats-server
#          graphite  graphite-carbon python3-whisper graphite-web + etsy statsd 0.9.0 (npm, into .run/tools)
#          tsung     tsung            (not in the default set)
#          ansible   ansible ansible-lint openssh-server openssh-sftp-server (not in the default set; the deploy test)
#          container podman buildah mmdebstrap runc netavark aardvark-dns iptables (the image and container test)
#          browser   chromium         (the HTML report's browser test, driven by playwright-core)
#          prometheus prometheus (2.42, with promtool; the /metrics test starts its own on a free port)
#          all       xmpp nats graphite tsung ansible browser prometheus
# Default (no argument): xmpp nats graphite prometheus.
#
# Idempotent and fast: when dpkg-query says every wanted package is installed, apt-get is not run at
# all (<1 s), and statsd is only npm-installed when .run/tools/node_modules/statsd is missing.
# Env: AMOC_RUN_DIR (default <repo>/.run) decides where .run/tools lives, as for scripts/servers.sh.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${AMOC_RUN_DIR:-$REPO/.run}"
TOOLS="$RUN/tools"
STATSD_VERSION="0.9.0"

log() { printf '[install-deps] %s\n' "$*" >&2; }

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(xmpp nats graphite prometheus)

pkgs=(netcat-openbsd iproute2 procps curl openssl)
want_statsd=0
want_prometheus_stop=0
for g in "${groups[@]}"; do
  case "$g" in
    base) ;;
    xmpp) pkgs+=(prosody lua-unbound ejabberd) ;;   # lua-unbound: prosody 0.12's async DNS lib (else a warning per start)
    nats) pkgs+=(nats-server) ;;
    graphite) pkgs+=(graphite-carbon python3-whisper graphite-web); want_statsd=1 ;;
    tsung) pkgs+=(tsung) ;;
    ansible) pkgs+=(ansible ansible-lint openssh-server openssh-sftp-server) ;;
    browser) pkgs+=(chromium) ;;
    prometheus) pkgs+=(prometheus); want_prometheus_stop=1 ;;
    container) pkgs+=(podman buildah mmdebstrap runc netavark aardvark-dns iptables) ;;   # runc: crun refuses hybrid cgroups
    all) pkgs+=(prosody lua-unbound ejabberd nats-server graphite-carbon python3-whisper graphite-web tsung ansible chromium)
         pkgs+=(prometheus); want_statsd=1; want_prometheus_stop=1 ;;
    *) log "unknown group '$g' (known: base xmpp nats graphite tsung ansible browser container prometheus all)"; exit 2 ;;
  esac
done

# Which packages are not installed yet? dpkg-query prints "install ok installed" for installed ones; a
# package it does not know at all makes it exit non-zero, hence the `|| true`.
missing=()
for p in "${pkgs[@]}"; do
  st="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
# de-duplicate (a group may be named twice)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing packages: ${missing[*]}; need root to apt-get install them"; exit 1
  fi
  log "apt-get install: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian images ship /usr/sbin/policy-rc.d exiting 101, so the packages' own services (prosody,
  # ejabberd, carbon-cache, nats...) are not started by the install; we start our own copies on loopback.
  # `update` is needed on a fresh machine (empty or stale lists); bounded so a dead mirror cannot hang CI.
  timeout 300 apt-get update -qq
  timeout 900 apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  log "all apt packages present (${#pkgs[@]})"
fi
# Debian's prometheus package may start its daemon (systemd or init where policy-rc.d allows): the tests start
# their own on free ports, so none is left running or holding 9090.
if [ "$want_prometheus_stop" = 1 ] && [ "$(id -u)" -eq 0 ]; then
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  [ -x /etc/init.d/prometheus ] && /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi

if [ "$want_statsd" = 1 ]; then
  if [ -f "$TOOLS/node_modules/statsd/stats.js" ]; then
    log "statsd present in $TOOLS"
  else
    log "npm install statsd@$STATSD_VERSION into $TOOLS"
    mkdir -p "$TOOLS"
    # A package.json of its own keeps npm from walking up to the repo's package.json/lockfile.
    [ -f "$TOOLS/package.json" ] || printf '{ "name": "amoc-run-tools", "private": true }\n' > "$TOOLS/package.json"
    # statsd's optional dep modern-syslog may fail to build: harmless (we log to a file), so no --foreground-scripts noise.
    timeout 300 npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$TOOLS" "statsd@$STATSD_VERSION"
    [ -f "$TOOLS/node_modules/statsd/stats.js" ] || { log "statsd install failed"; exit 1; }
  fi
fi
