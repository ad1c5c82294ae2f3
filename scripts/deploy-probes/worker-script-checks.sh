# shellcheck shell=bash
# Sourced by scripts/test-deploy.sh (uses its REPO, TMP, ID, root, log and die).
# The root-run worker script on host h2 after the deploys. Sets t_guard.

# ---- the root-run worker script: a pid it did not start is never signalled, a log symlink is never followed ----
t=$SECONDS
ctl="$root/h2/etc/amoc/amoc-workers" d="$root/h2/var/lib/amoc/h2-1" pf="$root/h2/run/amoc/h2-1.pid"
as_amoc() { setpriv --reuid="$ID" --regid="$ID" --init-groups -- "$@"; }
[ "$(stat -c %U "$root/h2/var/lib/amoc")" = root ] || die "the data root is not root's"
[ "$(stat -c %U "$d")" = "$ID" ] || die "the worker's data dir is not the amoc user's"
worker="$(cat "$pf")"
echo -1 >"$pf"   # a corrupt pid file: the worker is found by its owner and environment, nothing else is signalled
[ "$(ip netns exec "$ID-h2" "$ctl" status 1)" = "running h2-1 $worker" ] || die "status with a corrupt pid file: $(ip netns exec "$ID-h2" "$ctl" status 1)"
ip netns exec "$ID-h2" sleep 600 & bystander=$!
echo "$bystander" >"$pf"   # a root process's pid: stop must stop the worker and spare it
echo secret >"$TMP/victim"; chmod 0644 "$TMP/victim"
as_amoc ln -sf "$TMP/victim" "$d/worker.log.1"
as_amoc rm -f "$d/worker.log"; as_amoc ln -s "$TMP/victim" "$d/worker.log"
ip netns exec "$ID-h2" "$ctl" restart 1 >/dev/null || die "amoc-workers restart 1 failed"
kill -0 "$bystander" 2>/dev/null || die "amoc-workers stop signalled a pid it did not start"
kill "$bystander"; wait "$bystander" 2>/dev/null || true
[ "$(cat "$TMP/victim")" = secret ] || die "root followed the amoc user's symlink: $TMP/victim was written"
[ -f "$d/worker.log" ] && [ ! -L "$d/worker.log" ] && [ "$(stat -c %U "$d/worker.log")" = "$ID" ] || die "the new worker.log is not the amoc user's own file"
st="$(ps -o stat= -p "$worker" 2>/dev/null || true)"   # a zombie is gone (PID 1 here may never reap it)
[ -z "$st" ] || [[ "$st" == Z* ]] || die "the old worker $worker still runs"
t_guard=$((SECONDS - t))
log "worker script: corrupt and foreign pids left alone, log symlink not followed (${t_guard}s)"
