# shellcheck shell=bash
# Sourced by scripts/servers.sh (its settings are in scope): the generic helpers every unit uses.
# ---------------------------------------------------------------------------------------------------
# generic helpers

render() {   # render TEMPLATE OUT
  local tmpl="$1" out="$2" script="" v val
  for v in "${RENDER_VARS[@]}"; do
    val="${!v}"
    val="${val//\\/\\\\}"; val="${val//&/\\&}"; val="${val//|/\\|}"
    script+="s|\\\${$v}|$val|g;"
  done
  sed -e "$script" "$tmpl" > "$out.tmp" || return 1
  # shellcheck disable=SC2016  # a literal ${NAME} left over is what we look for
  if grep -n '\${[A-Za-z_]*}' "$out.tmp" >&2; then rm -f "$out.tmp"; log "unrendered variable in $tmpl"; return 1; fi
  mv "$out.tmp" "$out" || return 1
}

proc_state() { # proc_state PID -> one-letter state, empty if gone. Field 3 of /proc/PID/stat (comm may hold spaces).
  local s
  s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  s="${s##*) }"; echo "${s%% *}"
}
proc_alive() { local s; s="$(proc_state "$1")"; [ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]; }
proc_starttime() { local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0; s="${s##*) }"; echo "$s" | awk '{print $20}'; }

session_pids() { # live (non-zombie) processes of session $1 AND all their descendants: some helpers
  # call setsid themselves (erl_child_setup and its ports under ejabberd) but are still ours.
  ps -e -o pid=,ppid=,sid=,stat= | awk -v s="$1" '
    { pid[NR] = $1; pp[NR] = $2; st[NR] = $4; if ($3 == s) mine[$1] = 1 }
    END {
      do { added = 0
        for (i = 1; i <= NR; i++) if (!(pid[i] in mine) && (pp[i] in mine)) { mine[pid[i]] = 1; added = 1 }
      } while (added)
      for (i = 1; i <= NR; i++) if ((pid[i] in mine) && st[i] !~ /^[ZX]/) print pid[i]
    }'
}

unit_sid() { # unit_sid UNIT -> session id of a running unit, or nothing (also cleans a stale pid file)
  local f="$PIDS/$1.pid" pid st
  [ -f "$f" ] || return 0
  read -r pid st < "$f" || true
  [[ "$pid" =~ ^[0-9]+$ ]] || { rm -f "$f"; return 0; }
  # Leader alive with the recorded start time, or leader gone but members of its session left
  # (a session id cannot be reused while any member of the session exists).
  if { proc_alive "$pid" && [ "$(proc_starttime "$pid")" = "$st" ]; } || [ -n "$(session_pids "$pid")" ]; then
    echo "$pid"
  else
    rm -f "$f"
  fi
}
unit_running() { [ -n "$(unit_sid "$1")" ]; }

launch() { # launch UNIT LOGFILE CMD... : start CMD in a new session, in the background, record its pid
  local unit="$1" logf="$2"; shift 2
  mkdir -p "$PIDS" "$(dirname "$logf")"
  (
    # Do not leak the caller's extra fds (a test runner's pipes) into a long-lived daemon, or the
    # caller may wait forever for EOF.
    for fd in "/proc/$BASHPID/fd/"*; do fd="${fd##*/}"; [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"; done
    cd "$RUN"
    # No job control here, so this subshell is not a process group leader and setsid does not fork:
    # $! below is the server's own pid (after exec) and its session id.
    exec setsid "$@" < /dev/null >> "$logf" 2>&1
  ) &
  local pid=$!
  echo "$pid $(proc_starttime "$pid")" > "$PIDS/$unit.pid"
}

tcp_listening() { [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; }
udp_listening() { [ -n "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]; }
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; }
http_get() { curl -fsS --max-time 2 "$1" 2>/dev/null; }

stop_unit() { # stop_unit UNIT [PID_TO_TERM]: SIGTERM (to PID_TO_TERM or the whole session), wait, SIGKILL
  local unit="$1" sid pids target t
  sid="$(unit_sid "$unit")"
  if [ -z "$sid" ]; then log "$unit: not running"; rm -f "$PIDS/$unit.pid"; return 0; fi
  pids="$(session_pids "$sid")"
  target="${2:-$pids}"
  # shellcheck disable=SC2086
  if [ -n "$target" ]; then kill -TERM $target 2>/dev/null || true; fi
  t=$((SECONDS + STOP_TIMEOUT))
  while [ -n "$(session_pids "$sid")" ] && [ $SECONDS -lt $t ]; do sleep 0.2; done
  pids="$(session_pids "$sid")"
  if [ -n "$pids" ]; then
    log "$unit: still alive after ${STOP_TIMEOUT}s, SIGKILL ${pids//$'\n'/ }"
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    t=$((SECONDS + 5))
    while [ -n "$(session_pids "$sid")" ] && [ $SECONDS -lt $t ]; do sleep 0.2; done
    [ -z "$(session_pids "$sid")" ] || { log "$unit: could not kill session $sid"; return 1; }
  fi
  rm -f "$PIDS/$unit.pid"
  log "$unit: stopped"
}

tail_logs() { # tail_logs FILE...
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    printf -- '----- %s (last 25 lines) -----\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
}

ensure_cert() { # self-signed cert for both XMPP servers: CN=localhost, SAN localhost + 127.0.0.1
  local d="$RUN/certs"
  [ -s "$d/localhost.crt" ] && [ -s "$d/localhost.key" ] && return 0
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,DNS:muc.localhost,IP:127.0.0.1" \
    -keyout "$d/localhost.key" -out "$d/localhost.crt" > "$d/openssl.log" 2>&1 \
    || { cat "$d/openssl.log" >&2; log "openssl failed"; return 1; }
  chmod 644 "$d/localhost.crt"; chmod 600 "$d/localhost.key"
}

need() { command -v "$1" > /dev/null 2>&1 || { log "$1 not found: run scripts/install-deps.sh $2"; return 1; }; }

# ports_free UNIT PORT... (tcp) : refuse to start over a port someone else holds. Needed also because
# carbon sets SO_REUSEPORT: a second carbon on 2003 would NOT fail, it would silently share the port.
ports_free() {
  local unit="$1" p; shift
  for p in "$@"; do
    if tcp_listening "$p"; then log "$unit: tcp port $p is already in use by a process this script did not start"; return 1; fi
  done
}
