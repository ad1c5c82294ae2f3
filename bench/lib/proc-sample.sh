#!/usr/bin/env bash
# Samples one process from /proc until it exits, the same way for every generator the XMPP benchmarks compare:
#   bench/lib/proc-sample.sh PID OUT [INTERVAL_S] [SS_OUT]
# One line per sample: epoch_ms vmrss_kb vmhwm_kb cpu_ms fds user_ms sys_ms tcp_mem_pages
# (cpu_ms = utime+stime of all the process's threads; fds = open descriptors, i.e. roughly base + connected users;
# tcp_mem_pages = the kernel's TCP buffer memory of the network namespace, /proc/net/sockstat).
# With SS_OUT: once the descriptor count has stayed put for 3 samples above 100 new descriptors (the users are held),
# one `ss -tmnpO` snapshot of the process's own TCP sockets is summed into SS_OUT as
# "epoch_ms sockets skmem_bytes" (skmem = receive + send + forward-allocated + queued + option + backlog bytes).
# Reads only /proc and ss; bounded by the life of PID (and a zombie counts as gone).
set -euo pipefail
pid="$1" out="$2" interval="${3:-1}" ss_out="${4:-}"
tck="$(getconf CLK_TCK)"
: > "$out"
first_fds="" prev_fds="" still=0 snapped=0
while [ -r "/proc/$pid/stat" ]; do
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || break
  rest="${stat##*) }"                       # comm may hold spaces: fields after ") " start at field 3 (state)
  read -r state _ _ _ _ _ _ _ _ _ _ utime stime _ <<< "$rest"
  if [ "$state" = Z ] || [ "$state" = X ]; then break; fi
  rss="$(awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$pid/status" 2>/dev/null)" || break
  fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) || fds=0
  tcpmem="$(awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat 2>/dev/null || echo 0)"
  now="$(date +%s%3N)"
  echo "$now $rss $(( (utime + stime) * 1000 / tck )) $fds $(( utime * 1000 / tck )) $(( stime * 1000 / tck )) ${tcpmem:-0}" >> "$out"
  if [ -n "$ss_out" ] && [ "$snapped" = 0 ]; then
    first_fds="${first_fds:-$fds}"
    if [ "$fds" = "$prev_fds" ] && [ $((fds - first_fds)) -gt 100 ]; then still=$((still + 1)); else still=0; fi
    if [ "$still" -ge 3 ]; then
      ss -tmnpOH 2>/dev/null | awk -v p="pid=$pid," -v now="$now" '
        index($0, p) { n++; if (match($0, /skmem:\([^)]*\)/)) { s = substr($0, RSTART + 7, RLENGTH - 8); k = split(s, f, ",")
          for (i = 1; i <= k; i++) if (f[i] ~ /^(r|t|f|w|o|bl)[0-9]+$/) { sub(/^[a-z]+/, "", f[i]); b += f[i] } } }
        END { print now, n + 0, b + 0 }' > "$ss_out" || true
      snapped=1
    fi
    prev_fds="$fds"
  fi
  sleep "$interval"
done
