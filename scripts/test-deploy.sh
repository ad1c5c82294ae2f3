#!/usr/bin/env bash
# The Ansible deploy test (issue 11): three hosts made as network namespaces on a private bridge, one sshd each;
# prepare.yml and deploy.yml over SSH; from the master a 4000-user run dealt over 4 worker processes on 2 hosts;
# a second deploy with one changed group_vars setting (the workers' labels) rewrites it, restarts the workers and changes
# nothing else.
# NATS runs with the credentials deploy makes up (in the test's inventory dir): a client or a route without them is
# refused. The root-run worker script follows no path and signals no pid the amoc user can plant.
#   h1 = master + NATS, h2 and h3 = 2 workers each + NATS (one NATS cluster of 3 with JetStream)
# Needs root (ip netns) and scripts/install-deps.sh ansible. Everything it makes carries a unique prefix and goes
# away on exit, pass or fail: namespaces, bridge, veths, processes (every pid in the namespaces), the test user,
# files (one temp dir). Prints its timings for docs/benchmarks.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf '[test-deploy %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (ip netns, sshd)"
for c in ip ansible-playbook /usr/sbin/sshd ssh-keygen node; do command -v "$c" >/dev/null || die "$c is missing: bash scripts/install-deps.sh ansible"; done

ID="amt$$"                                    # names: bridge amtNNN, namespaces amtNNN-h1.., user amtNNN
HOSTS=(h1 h2 h3)
BR="$ID"

# a free private /24: 10.<a>.<b>.0 that no route covers yet
pick_subnet() {
  local a b
  for _ in $(seq 50); do
    a=$((RANDOM % 50 + 200)); b=$((RANDOM % 250 + 1))
    if ! ip route show | grep -q "^10\.$a\.$b\."; then echo "10.$a.$b"; return; fi
  done
  die "no free 10.x.y.0/24 found"
}
NET="$(pick_subnet)"
# the real install paths must stay untouched (the test's paths are per host under $TMP)
REAL_PATHS=(/opt/amoc /etc/amoc /var/lib/amoc /run/amoc /etc/security/limits.d/amoc.conf /etc/sysctl.d/60-amoc.conf /var/lib/nats-server/jetstream)
declare -A EXISTED=()
for p in "${REAL_PATHS[@]}"; do [ -e "$p" ] && EXISTED[$p]=1; done
NATS_CONF_SUM="$(md5sum /etc/nats-server.conf 2>/dev/null || true)"
# the release is built in a private mktemp dir on the control host, removed after the copy
builds_before="$(ls -d /tmp/amoc-release.* 2>/dev/null | sort || true)"
# generated credentials go to the test's inventory dir, never into the checkout
untracked_before="$(git -C "$REPO" status --porcelain --ignored -- ansible 2>/dev/null || true)"

TMP="$(mktemp -d "/tmp/$ID.XXXX")"
cleanup() {
  local rc=$? ns pids
  set +e
  log "cleanup (exit $rc)"
  if [ "$rc" != 0 ] && [ -n "${TEST_DEPLOY_HOLD:-}" ]; then  # debugging: the hosts stay up until the file is gone
    touch "$TMP/hold"; log "holding: ip netns exec $ID-h1 bash; rm $TMP/hold to clean up"
    while [ -e "$TMP/hold" ]; do sleep 1; done
  fi
  # ansible's ControlPersist ssh masters run outside the namespaces: ask each to exit through its socket
  for s in "$TMP"/cp/*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit amoc-test >/dev/null 2>&1; done
  for h in "${HOSTS[@]}"; do
    ns="$ID-$h"
    ip netns list | grep -q "^$ns\b" || continue
    pids="$(ip netns pids "$ns")"
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
  done
  for _ in $(seq 50); do
    pids=""; for h in "${HOSTS[@]}"; do pids+="$(ip netns pids "$ID-$h" 2>/dev/null)"; done
    [ -z "$pids" ] && break; sleep 0.1
  done
  for h in "${HOSTS[@]}"; do pids="$(ip netns pids "$ID-$h" 2>/dev/null)"; [ -n "$pids" ] && kill -KILL $pids 2>/dev/null; done
  for h in "${HOSTS[@]}"; do ip link del "$ID-$h" 2>/dev/null; ip netns del "$ID-$h" 2>/dev/null; done
  ip link del "$BR" 2>/dev/null
  id "$ID" >/dev/null 2>&1 && userdel "$ID"
  getent group "$ID" >/dev/null && groupdel "$ID"
  rm -rf "$TMP"
  # what must be gone
  ip netns list | grep -q "^$ID-" && log "LEAK: namespace left"
  ip link show "$BR" >/dev/null 2>&1 && log "LEAK: bridge left"
  [ -e "$TMP" ] && log "LEAK: $TMP left"
  for p in "${REAL_PATHS[@]}"; do [ -e "$p" ] && [ -z "${EXISTED[$p]:-}" ] && { log "LEAK: $p was written"; rc=1; }; done
  [ "$(md5sum /etc/nats-server.conf 2>/dev/null || true)" = "$NATS_CONF_SUM" ] || { log "LEAK: /etc/nats-server.conf changed"; rc=1; }
  [ "$(ls -d /tmp/amoc-release.* 2>/dev/null | sort || true)" = "$builds_before" ] || { log "LEAK: a build dir /tmp/amoc-release.* left"; rc=1; }
  [ "$(git -C "$REPO" status --porcelain --ignored -- ansible 2>/dev/null || true)" = "$untracked_before" ] \
    || { log "LEAK: new files in the checkout's ansible/: $(git -C "$REPO" status --porcelain --ignored -- ansible)"; rc=1; }
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t_all=$SECONDS
# shellcheck source=scripts/deploy-probes/local-checks.sh
source "$REPO/scripts/deploy-probes/local-checks.sh"   # sets t_lint

# ---- hosts: bridge, namespaces, sshd per namespace ----
t_start=$SECONDS
ip link add "$BR" type bridge
ip addr add "$NET.1/24" dev "$BR"
ip link set "$BR" up
mkdir -p "$TMP/ssh" "$TMP/cp" /run/sshd
chmod 0755 "$TMP"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/ssh/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/ssh/clientkey"
cp "$TMP/ssh/clientkey.pub" "$TMP/ssh/authorized_keys"; chmod 600 "$TMP/ssh/authorized_keys"
cat >"$TMP/ssh/sshd_config" <<CONF
HostKey $TMP/ssh/hostkey
AuthorizedKeysFile $TMP/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
CONF
: >"$TMP/ssh/known_hosts"
printf '#!/bin/sh\necho "npm: not installed on this host (the offline deploy test)" >&2\nexit 127\n' >"$TMP/no-npm"; chmod 0755 "$TMP/no-npm"
for i in 1 2 3; do
  ns="$ID-h$i" addr="$NET.1$i"
  ip netns add "$ns"
  ip link add "$ID-h$i" type veth peer name eth0 netns "$ns"
  ip link set "$ID-h$i" master "$BR" up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  # no npm on the hosts: in the mount namespace of `ip netns exec` (which sshd and every SSH session keep), npm and
  # npx are a script that fails; the release must arrive with its node_modules
  ip netns exec "$ns" sh -c "mount --bind '$TMP/no-npm' '$(readlink -f "$(command -v npm)")' && mount --bind '$TMP/no-npm' '$(readlink -f "$(command -v npx)")' &&
    exec /usr/sbin/sshd -f '$TMP/ssh/sshd_config' -o 'ListenAddress=$addr' -o 'PidFile=$TMP/ssh/sshd-h$i.pid'"
  echo "$addr $(cut -d' ' -f1,2 "$TMP/ssh/hostkey.pub")" >>"$TMP/ssh/known_hosts"
done

# ---- inventory: per-host install paths (the namespaces share one filesystem), 2 workers per worker host ----
mkdir -p "$TMP/inv/group_vars"
{
  echo "[amoc_master]"
  echo "h1 ansible_host=$NET.11"
  echo "[amoc_workers]"
  echo "h2 ansible_host=$NET.12"
  echo "h3 ansible_host=$NET.13"
  echo "[nats]"
  echo "h1"; echo "h2"; echo "h3"
  echo "[all:vars]"
  echo "ansible_user=root"
  echo "ansible_ssh_private_key_file=$TMP/ssh/clientkey"
  echo "ansible_ssh_common_args='-o UserKnownHostsFile=$TMP/ssh/known_hosts -o StrictHostKeyChecking=yes'"
  echo "ansible_python_interpreter=/usr/bin/python3"
  echo "ansible_become=false"
} >"$TMP/inv/hosts.ini"
root="$TMP/hosts"
# extra vars: they outrank ansible/group_vars/all.yml (inventory group_vars/all.yml would not)
cat >"$TMP/inv/paths.yml" <<YAML
# test only: every path per host under $root
amoc_user: $ID
amoc_group: $ID
amoc_root: "$root/{{ inventory_hostname }}/opt/amoc"
amoc_etc_dir: "$root/{{ inventory_hostname }}/etc/amoc"
amoc_data_root: "$root/{{ inventory_hostname }}/var/lib/amoc"
amoc_run_dir: "$root/{{ inventory_hostname }}/run/amoc"
amoc_limits_file: "$root/{{ inventory_hostname }}/etc/limits.d/amoc.conf"
amoc_sysctl_file: "$root/{{ inventory_hostname }}/etc/sysctl.d/60-amoc.conf"
amoc_systemd_dir: "$root/{{ inventory_hostname }}/etc/systemd/system"
nats_config_file: "$root/{{ inventory_hostname }}/etc/nats-server.conf"
nats_store_dir: "$root/{{ inventory_hostname }}/var/lib/nats/jetstream"
nats_pid_file: "$root/{{ inventory_hostname }}/run/nats/nats-server.pid"
nats_log_file: "$root/{{ inventory_hostname }}/var/log/nats/nats-server.log"
amoc_source_dir: "$TMP/src"
amoc_account_throttle: 1
YAML
# a snapshot of the checkout: the release must not change between two deploys while someone edits the tree
mkdir -p "$TMP/src"
(cd "$REPO" && tar -cf - $(ls -d bin src scenarios config web package.json package-lock.json tsconfig.json 2>/dev/null)) | tar -C "$TMP/src" -xf -
# the usual skeleton of each host (0755, as on a real host: the amoc user must traverse var/lib to its data dir)
for h in "${HOSTS[@]}"; do for d in etc opt run var/lib var/log; do mkdir -p "$root/$h/$d"; done; done
# inventory group_vars/<group> outrank the playbooks' group_vars/all.yml: the setting the test changes lives here
cat >"$TMP/inv/group_vars/amoc_workers.yml" <<YAML
amoc_workers_per_host: 2
amoc_node_labels: {zone: "{{ inventory_hostname }}", deploy: first}
amoc_settings_extra: {cluster_name: $ID}
YAML
cp "$TMP/inv/group_vars/amoc_workers.yml" "$TMP/inv/group_vars/amoc_master.yml"
# the hosts are offline and have no npm (the deploy must work so, with no setting)
for i in 1 2 3; do
  ip netns exec "$ID-h$i" ip route get 1.1.1.1 >/dev/null 2>&1 && die "h$i has a route out"
  ssh -i "$TMP/ssh/clientkey" -o UserKnownHostsFile="$TMP/ssh/known_hosts" -o StrictHostKeyChecking=yes "root@$NET.1$i" \
    'npm --version' >/dev/null 2>&1 && die "h$i has a working npm"
done
t_hosts=$((SECONDS - t_start))
log "hosts up in ${t_hosts}s: $NET.11-13 on bridge $BR, no route out, no npm"

export ANSIBLE_CONFIG="$REPO/ansible/ansible.cfg" ANSIBLE_SSH_CONTROL_PATH_DIR="$TMP/cp" ANSIBLE_LOCAL_TEMP="$TMP/ansible-local" \
  ANSIBLE_REMOTE_TEMP="$TMP/ansible-remote" ANSIBLE_NOCOLOR=1 \
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks
play() {  # play NAME PLAYBOOK: runs it, keeps the output, returns the recap's changed= sum in $CHANGED
  local name="$1" pb="$2" out="$TMP/$1.out"
  log "$name: ansible-playbook $pb"
  if ! ansible-playbook -i "$TMP/inv/hosts.ini" -e "@$TMP/inv/paths.yml" "$REPO/ansible/$pb" >"$out" 2>&1; then
    grep -B2 -A2 '^fatal:' "$out" >&2; sed -n '/PLAY RECAP/,$p' "$out" >&2; die "$name: ansible-playbook $pb failed"
  fi
  sed -n '/PLAY RECAP/,$p' "$out" >&2
  CHANGED="$(sed -n '/PLAY RECAP/,$p' "$out" | grep -o 'changed=[0-9]*' | awk -F= '{ n += $2 } END { print n + 0 }')"
}

t=$SECONDS; play prepare prepare.yml; t_prepare=$((SECONDS - t))
t=$SECONDS; play deploy1 deploy.yml; t_deploy1=$((SECONDS - t))
[ "$CHANGED" -gt 0 ] || die "the first deploy changed nothing"

# ---- NATS: deploy made up credentials (0600, in the inventory dir), every server and node uses them ----
t=$SECONDS
creds="$TMP/inv/group_vars/all/nats_credentials.yml"
[ -f "$creds" ] || die "deploy made no $creds"
[ "$(stat -c %a "$creds")" = 600 ] || die "$creds has mode $(stat -c %a "$creds"), not 600"
nats_pw="$(sed -n 's/^nats_auth_password: *//p' "$creds")"
route_pw="$(sed -n 's/^nats_cluster_password: *//p' "$creds")"
[[ "$nats_pw" =~ ^[0-9a-f]{32}$ && "$route_pw" =~ ^[0-9a-f]{32}$ && "$nats_pw" != "$route_pw" ]] || die "the made-up passwords are not two 32-hex-digit ones"
for h in "${HOSTS[@]}"; do
  f="$root/$h/etc/nats-server.conf"
  [ "$(stat -c '%a %U' "$f")" = "600 root" ] || die "$f is $(stat -c '%a %U' "$f"), not 600 root"
  grep -q "password: \"$nats_pw\"" "$f" && grep -q "nats-route://amoc-route:$route_pw@" "$f" || die "$f lacks the credentials"
  grep -q 'max_memory_store' "$f" && grep -q 'max_file_store' "$f" || die "$f sets no JetStream limits"
  f="$root/$h/etc/amoc/amoc.env"
  [ "$(stat -c '%a %U' "$f")" = "600 root" ] || die "$f is $(stat -c '%a %U' "$f"), not 600 root"
  grep -qx "AMOC_NATS_PASSWORD=\"$nats_pw\"" "$f" && grep -qx 'AMOC_NATS_USER="amoc"' "$f" || die "$f lacks the NATS credentials"
done
# a plain TCP client from the master host: INFO must ask for auth; CONNECT without or with a wrong password is
# refused, with the right one answered; a route without the cluster's credentials is refused too
probe() { ip netns exec "$ID-h1" node "$REPO/scripts/deploy-probes/nats-probe.cjs" "$@"; }
for i in 1 2 3; do
  a="$NET.1$i"
  out="$(probe "$a" 4222 '{"verbose":false,"pedantic":false}')"
  [[ "$out" == *'"auth_required":true'* && "$out" == *"Authorization Violation"* ]] || die "NATS $a:4222 without credentials: $out"
  out="$(probe "$a" 4222 '{"verbose":false,"user":"amoc","pass":"wrong-password"}')"
  [[ "$out" == *"Authorization Violation"* ]] || die "NATS $a:4222 with a wrong password: $out"
  out="$(probe "$a" 4222 "{\"verbose\":false,\"user\":\"amoc\",\"pass\":\"$nats_pw\"}")"
  [[ "$out" == *PONG* ]] || die "NATS $a:4222 with the credentials: $out"
  out="$(probe "$a" 6222 '{"verbose":false,"name":"intruder"}')"
  [[ "$out" == *'"auth_required":true'* && "$out" == *"Authorization Violation"* ]] || die "NATS route $a:6222 without credentials: $out"
done
t_auth=$((SECONDS - t))
log "NATS: generated credentials in use; clients and routes without them refused on all 3 servers (${t_auth}s)"

# ---- the run: from the master host, 4000 users dealt over the 4 worker processes ----
t=$SECONDS
ip netns exec "$ID-h1" "$root/h1/opt/amoc/bin/amoc" run dummy --dist --workers 4 --users 4000 --interarrival 0 --repeat 1 --json \
  >"$TMP/run.json" 2>"$TMP/run.err" || { cat "$TMP/run.err" >&2; die "the distributed run failed"; }
t_run=$((SECONDS - t))
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const want = ["h2-1", "h2-2", "h3-1", "h3-2"];
  const names = Object.keys(s.nodes).sort();
  const bad = [];
  if (JSON.stringify(names) !== JSON.stringify(want)) bad.push(`nodes ${names}`);
  for (const n of want) if (s.nodes[n]?.started !== 1000 || s.nodes[n]?.finished !== 1000) bad.push(`${n}: ${JSON.stringify(s.nodes[n])}`);
  if (s.users.started !== 4000 || s.users.crashed !== 0) bad.push(`users ${JSON.stringify(s.users)}`);
  if (bad.length) { console.error("run summary wrong:", bad.join("; ")); process.exit(1); }
  console.error(`run: 4000 users, 1000 on each of ${names.join(", ")}, ${s.duration_ms} ms`);
' "$TMP/run.json" || die "run summary: $(cat "$TMP/run.json")"

# ---- the run state's bucket is replicated on the 3 NATS servers (no fallback to 1 replica) ----
out="$(ip netns exec "$ID-h1" node "$REPO/scripts/deploy-probes/js-probe.cjs" "$NET.11" 4222 "{\"verbose\":false,\"user\":\"amoc\",\"pass\":\"$nats_pw\"}" "KV_${ID}_state")"
node -e '
  const j = JSON.parse(process.argv[1]);
  if (j.error || j.config?.num_replicas !== 3 || !(j.config?.max_bytes > 0)) { console.error(`bucket ${process.argv[2]}: ${process.argv[1]}`); process.exit(1); }
  console.error(`bucket ${process.argv[2]}: ${j.config.num_replicas} replicas, max ${j.config.max_bytes} bytes`);
' "$out" "KV_${ID}_state" || die "the run state bucket is not replicated 3 times with a size limit"

# ---- a second deploy with one changed group_vars setting (the workers' labels): it rewrites that setting's file and
# restarts the workers (deploy.yml's check waits for the new labels), and changes nothing else, so every other task
# is shown idempotent in the same deploy ----
pids_before="$(cat "$root"/h2/run/amoc/h2-*.pid)"
sed -i 's/deploy: first/deploy: second/' "$TMP/inv/group_vars/amoc_workers.yml"
t=$SECONDS; play deploy2 deploy.yml; t_deploy2=$((SECONDS - t))
grep -q 'AMOC_NODE_LABELS="deploy=second,zone=h2"' "$root/h2/etc/amoc/amoc.env" || die "amoc.env of h2 lacks the new labels"
[ "$(cat "$root"/h2/run/amoc/h2-*.pid)" != "$pids_before" ] || die "the workers of h2 were not restarted"
changed_tasks="$(awk '/^(TASK|RUNNING HANDLER) \[/ { task = $0 } /^changed:/ { print task }' "$TMP/deploy2.out" | sort -u)"
expected_change=(-e "Write the settings of this host's nodes" -e "Start the workers, restarting them after a change")
unexpected="$(printf '%s\n' "$changed_tasks" | grep -v "${expected_change[@]}" | grep . || true)"
[ -z "$unexpected" ] || die "the deploy after a settings change also changed: $unexpected"
[ "$(printf '%s\n' "$changed_tasks" | grep -c "${expected_change[@]}")" = 2 ] || die "expected the settings and the restart to change, got: $changed_tasks"

# shellcheck source=scripts/deploy-probes/worker-script-checks.sh
source "$REPO/scripts/deploy-probes/worker-script-checks.sh"   # sets t_guard
log "PASS"
printf 'test-deploy timings (s): lint %d, hosts %d, prepare %d, first deploy %d, run %d, second deploy (a settings change) %d, total %d\n' \
  "$t_lint" "$t_hosts" "$t_prepare" "$t_deploy1" "$t_run" "$t_deploy2" "$((SECONDS - t_all))"
printf 'test-deploy timings (s): NATS auth checks %d, worker-script checks %d\n' "$t_auth" "$t_guard"
