#!/usr/bin/env bash
# Per-user memory and CPU of the xmpp.js entry (amoc-ts/xmppjs, scenario xmppjs_chat) beside the lean client
# (amoc-ts/xmpp, scenario one_to_one) on the same workload: pairs meet by presence, 3 chats each 100 ms apart, then
# everyone stays online HOLD_MS; STARTTLS on both (xmpp.js always upgrades when the server offers it).
# Per user = (peak RSS / CPU of a run with N users - the same with N0 users) / (N - N0), from /usr/bin/time.
#   bench/xmppjs-vs-lean.sh            # SERVER=xmpp://127.0.0.1:5222 N=300 N0=20 HOLD_MS=5000 INTERARRIVAL=20
# Figures recorded in .run/bench/results.jsonl (bench/lib/record.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
figs=()
SERVER="${SERVER:-xmpp://127.0.0.1:5222}" N="${N:-300}" N0="${N0:-20}" HOLD_MS="${HOLD_MS:-5000}"
export AMOC_XMPP_SERVERS="$SERVER" AMOC_XMPP_TLS_VERIFY=0 AMOC_XMPP_STARTTLS=1 AMOC_LOG_LEVEL=warn
export AMOC_DATA_DIR="${AMOC_DATA_DIR:-$(mktemp -d)}"
measure() { # scenario users hold-variable -> "maxrss_kb cpu_s crashed"
  local out
  out="$( { /usr/bin/time -f 'TIME %M %U %S' bin/amoc run "$1" --users "$2" --interarrival "${INTERARRIVAL:-20}" --repeat 1 --json \
      --set message_count=3 --set message_interval=100 --set "$3=$HOLD_MS" 2>&1 >/tmp/xmppjs-vs-lean.$$.json; } | grep '^TIME')"
  local crashed; crashed="$(grep -o '"crashed":[0-9]*' /tmp/xmppjs-vs-lean.$$.json | head -1 | cut -d: -f2)"
  echo "$out" | awk -v c="${crashed:--1}" '{ printf "%d %.2f %d\n", $2, $3 + $4, c }'
}
printf '%-12s %6s %14s %14s %8s\n' client users "RSS KB/user" "CPU ms/user" crashed
for row in "lean one_to_one linger_ms" "xmpp.js xmppjs_chat hold_ms"; do
  set -- $row
  read -r m0 c0 _ <<<"$(measure "$2" "$N0" "$3")"
  read -r m1 c1 k1 <<<"$(measure "$2" "$N" "$3")"
  line="$(awk -v name="$1" -v n="$N" -v n0="$N0" -v m0="$m0" -v m1="$m1" -v c0="$c0" -v c1="$c1" -v k="$k1" \
    'BEGIN { printf "%-12s %6d %14.1f %14.2f %8d\n", name, n, (m1 - m0) / (n - n0), (c1 - c0) * 1000 / (n - n0), k }')"
  echo "$line"
  read -r _ _ rss cpu crashed <<<"$line"
  what="client $1 ($2), $N users against $N0 over STARTTLS on $SERVER: (peak RSS or CPU of N - of N0) / (N - N0), /usr/bin/time"
  figs+=("xmppjs-vs-lean.${2}.rss_per_user=$rss|KB|RSS per user, $what" "xmppjs-vs-lean.${2}.cpu_per_user=$cpu|ms|CPU per user, $what"
    "xmppjs-vs-lean.${2}.crashed=$crashed|users|users crashed in the $N-user run, $1")
done
node --import tsx bench/lib/record.ts "SERVER=$SERVER N=$N N0=$N0 HOLD_MS=$HOLD_MS INTERARRIVAL=${INTERARRIVAL:-20} bash bench/xmppjs-vs-lean.sh" \
  "$LOAD_BEFORE" "${figs[@]}"
rm -f /tmp/xmppjs-vs-lean.$$.json
