#!/usr/bin/env bash
# Samples one process from /proc until it exits, the same way for every generator the XMPP benchmarks compare:
#   bench/lib/proc-sample.sh PID OUT [INTERVAL_S]
# One line per sample: epoch_ms vmrss_kb vmhwm_kb cpu_ms fds user_ms sys_ms   (cpu_ms = utime+stime of all the
# process's threads; fds = open descriptors, i.e. roughly base + connected users). Reads only /proc; bounded by the life of PID (and a zombie counts as gone).
set -euo pipefail
pid="$1" out="$2" interval="${3:-1}"
tck="$(getconf CLK_TCK)"
: > "$out"
while [ -r "/proc/$pid/stat" ]; do
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || break
  rest="${stat##*) }"                       # comm may hold spaces: fields after ") " start at field 3 (state)
  read -r state _ _ _ _ _ _ _ _ _ _ utime stime _ <<< "$rest"
  if [ "$state" = Z ] || [ "$state" = X ]; then break; fi
  rss="$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$pid/status" 2>/dev/null)" || break
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) || fds=0
  now="$(date +%s%3N)"
  echo "$now $rss $(( (utime + stime) * 1000 / tck )) $fds $(( utime * 1000 / tck )) $(( stime * 1000 / tck ))" >> "$out"
  sleep "$interval"
done
