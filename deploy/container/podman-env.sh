# Sourced by the project's container scripts: rootful podman with the project's own configuration and storage under
# .run/podman (nothing in /etc). Settings this sandbox needs, kept for CI machines like it:
#   runtime runc       crun refuses hybrid cgroups ("cgroups in hybrid mode not supported")
#   cgroupfs, file     no systemd here: no cgroup manager or journald to talk to
#   default ulimits    podman raises RLIMIT_NOFILE/NPROC past our hard limits without CAP_SYS_RESOURCE ("setrlimit: Operation not permitted")
#   netavark           needs iptables (scripts/install-deps.sh container)
AMOC_PODMAN_DIR="${AMOC_RUN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.run}/podman"
mkdir -p "$AMOC_PODMAN_DIR"
nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] && nofile=1048576
cat >"$AMOC_PODMAN_DIR/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$AMOC_PODMAN_DIR/storage"
runroot = "$AMOC_PODMAN_DIR/run"
CONF
cat >"$AMOC_PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=4096:4096"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$AMOC_PODMAN_DIR/events.log"
[network]
network_backend = "netavark"
CONF
export CONTAINERS_CONF="$AMOC_PODMAN_DIR/containers.conf" CONTAINERS_STORAGE_CONF="$AMOC_PODMAN_DIR/storage.conf"
