# shellcheck shell=bash
# Sourced by scripts/servers.sh: the XMPP server units (Prosody; ejabberd and its extra instances), each as
# prep_X, start_X, health_X, logs_X, post_X, stop_X, url_X.
# --- prosody
prep_prosody() {
  need prosody xmpp || return 1; ensure_cert || return 1
  ports_free prosody "$PROSODY_C2S_PORT" "$PROSODY_TLS_PORT" "$PROSODY_HTTP_PORT" || return 1
  mkdir -p "$RUN/prosody/data" "$RUN/prosody/plugins"
  # PROSODY_PROFILE=bench: the lean config of the generator benchmarks (config/servers/prosody-bench.cfg.lua.tmpl)
  render "$CONF/prosody${PROSODY_PROFILE:+-$PROSODY_PROFILE}.cfg.lua.tmpl" "$RUN/prosody/prosody.cfg.lua" || return 1
  # process_* metrics on mod_http_openmetrics (AMOC_SUT_METRICS_URL): Prosody's memory beside its sessions
  cp "$CONF"/prosody-plugins/*.lua "$RUN/prosody/plugins/" || return 1
  rm -f "$RUN/prosody/prosody.pid"
}
start_prosody() {
  # -F: stay in the foreground (we background it ourselves and keep its pid).
  launch prosody "$RUN/prosody/stdout.log" prosody --config "$RUN/prosody/prosody.cfg.lua" -F
}
health_prosody() { tcp_listening "$PROSODY_C2S_PORT" && tcp_listening "$PROSODY_TLS_PORT" && tcp_listening "$PROSODY_HTTP_PORT"; }
logs_prosody() { echo "$RUN/prosody/stdout.log $RUN/prosody/prosody.err $RUN/prosody/prosody.log"; }
# Accounts are plain files that prosody reads at each login (written once it is up: one provisioning line per start);
# provision-users.sh is a no-op when done.
post_prosody() { [ "$PROVISION_USERS" -gt 0 ] || return 0; "$REPO/scripts/provision-users.sh" prosody "$PROVISION_USERS"; }
stop_prosody() { stop_unit prosody; }
url_prosody() { echo "xmpp://127.0.0.1:$PROSODY_C2S_PORT xmpps://127.0.0.1:$PROSODY_TLS_PORT ws://127.0.0.1:$PROSODY_HTTP_PORT/xmpp-websocket muc=muc.localhost metrics=http://127.0.0.1:$PROSODY_HTTP_PORT/metrics"; }

# --- ejabberd (+ epmd)
EJ_D() { echo "$RUN/ejabberd"; }
prep_ejabberd() {
  need ejabberdctl xmpp || return 1; need setpriv base || return 1; ensure_cert || return 1
  ports_free ejabberd "$EJABBERD_C2S_PORT" "$EJABBERD_TLS_PORT" "$EJABBERD_HTTP_PORT" || return 1
  local D; D="$(EJ_D)"
  mkdir -p "$D/conf" "$D/db" "$D/logs"
  render "$CONF/ejabberd.yml.tmpl" "$D/conf/ejabberd.yml" || return 1
  cp "$CONF/ejabberdctl.cfg" "$D/conf/ejabberdctl.cfg" || return 1
  cp /etc/ejabberd/inetrc "$D/conf/inetrc" || return 1
  cat "$RUN/certs/localhost.crt" "$RUN/certs/localhost.key" > "$D/conf/localhost.pem" || return 1
  chmod 600 "$D/conf/localhost.pem"
  rm -f "$D/ejabberd.pid"
  # ejabberd runs as user ejabberd: it must own its dirs and reach them through the run dir's parents.
  chown -R ejabberd:ejabberd "$D" || return 1
  # the ejabberd user must traverse every parent (e.g. a `mktemp -d` checkout, mode 0700). Not `[ -x ]`: as root it is
  # always true; the others' execute bit is what the ejabberd user needs
  local p="$D"; while [ "$p" != / ]; do p="$(dirname "$p")"; [ -n "$(find "$p" -maxdepth 0 -perm -o+x)" ] || chmod o+x "$p" 2>/dev/null || true; done
  # The node is reached through epmd on 127.0.0.1:4369. Start our own (so `down` can stop it by pid)
  # unless one already runs (then it is someone else's, e.g. tsung's, and we leave it alone).
  if ! unit_running ejabberd-epmd && ! tcp_listening "$EPMD_PORT"; then
    launch ejabberd-epmd "$D/logs/epmd.log" \
      setpriv --reuid=ejabberd --regid=ejabberd --init-groups env ERL_EPMD_ADDRESS=127.0.0.1 epmd -address 127.0.0.1
    local t=$((SECONDS + 5))
    until tcp_listening "$EPMD_PORT"; do
      [ $SECONDS -lt $t ] || { tail_logs "$D/logs/epmd.log"; log "ejabberd: epmd did not start"; return 1; }
      sleep 0.1
    done
  fi
}
start_ejabberd() {
  local D; D="$(EJ_D)"
  # setpriv, not su: ejabberdctl run as root switches user with `su`, whose PAM stack (pam_limits)
  # drops the soft open-files limit to 1024; setpriv keeps the 20000 limit. HOME holds the Erlang cookie.
  launch "${EJ_UNIT:-ejabberd}" "$D/stdout.log" \
    setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
    env HOME=/var/lib/ejabberd EJABBERD_PID_PATH="$D/ejabberd.pid" \
    ejabberdctl --config-dir "$D/conf" --logs "$D/logs" --spool "$D/db" foreground
}
health_ejabberd() { tcp_listening "$EJABBERD_C2S_PORT" && tcp_listening "$EJABBERD_TLS_PORT" && tcp_listening "$EJABBERD_HTTP_PORT"; }
logs_ejabberd() { local D; D="$(EJ_D)"; echo "$D/stdout.log $D/logs/error.log $D/logs/ejabberd.log"; }
ejabberd_beam_pid() { # the BEAM of our ejabberd session (it does the graceful shutdown on SIGTERM)
  local sid p; sid="$(unit_sid "${EJ_UNIT:-ejabberd}")"; [ -n "$sid" ] || return 0
  for p in $(session_pids "$sid"); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = beam.smp ] && { echo "$p"; return 0; }; done
}
post_ejabberd() {
  local beam lim
  beam="$(ejabberd_beam_pid)"
  if [ -n "$beam" ]; then
    lim="$(awk '/Max open files/ {print $4}' "/proc/$beam/limits" 2>/dev/null)"
    [ "${lim:-0}" -ge 4096 ] || log "ejabberd: WARNING soft open-files limit is $lim"
  fi
  [ "$PROVISION_USERS" -gt 0 ] || return 0
  "$REPO/scripts/provision-users.sh" ejabberd "$PROVISION_USERS"
}
stop_ejabberd() {
  # SIGTERM to the BEAM = init:stop() (graceful since OTP 20). Not to the whole session: killing
  # erl_child_setup first makes the VM abort with a crash dump.
  local beam; beam="$(ejabberd_beam_pid)"
  stop_unit "${EJ_UNIT:-ejabberd}" "$beam"
  # Stop our epmd only if no other Erlang node still uses it (e.g. a tsung started meanwhile).
  if unit_running ejabberd-epmd; then
    local names; names="$(ERL_EPMD_ADDRESS=127.0.0.1 timeout 5 epmd -names 2>/dev/null | grep '^name ' || true)"
    if [ -z "$names" ]; then stop_unit ejabberd-epmd; else log "ejabberd-epmd: left running, still used by: $(echo "$names" | awk '{print $2}' | xargs)"; fi
  fi
}
url_ejabberd() { echo "xmpp://127.0.0.1:$EJABBERD_C2S_PORT xmpps://127.0.0.1:$EJABBERD_TLS_PORT ws://127.0.0.1:$EJABBERD_HTTP_PORT/ws http://127.0.0.1:$EJABBERD_HTTP_PORT/api muc=muc.localhost"; }

# --- ejabberd instances 2..EJABBERD_INSTANCES (units ejabberd-2..N; bench/hold-38k.sh): instance i is a node of
# its own (EJABBERD_NODE with suffix _i: ejabberd_2@localhost), with its own run dir $RUN/ejabberd-i (config, Mnesia
# spool, logs, accounts) and ports +10*(i-1) (c2s 5332, tls 5333, http 5390 for i=2). One BEAM per instance, so each
# holds its own share of the sessions under its own open-files limit. Each runs the functions above in a subshell.
EJABBERD_INSTANCES="${EJABBERD_INSTANCES:-1}"
[[ "$EJABBERD_INSTANCES" =~ ^[1-9]$ ]] || die "EJABBERD_INSTANCES='$EJABBERD_INSTANCES' must be 1..9"
ej_instance() { # ej_instance I: points the ejabberd functions at instance I (call in a subshell)
  local i="$1" base="${EJABBERD_NODE:-ejabberd@localhost}"
  export EJABBERD_NODE="${base%@*}_$i@${base#*@}" AMOC_RUN_DIR="$RUN/ejabberd-$i"
  RUN="$AMOC_RUN_DIR" EJ_UNIT="ejabberd-$i"
  EJABBERD_C2S_PORT=$((EJABBERD_C2S_PORT + 10 * (i - 1))) EJABBERD_TLS_PORT=$((EJABBERD_TLS_PORT + 10 * (i - 1)))
  EJABBERD_HTTP_PORT=$((EJABBERD_HTTP_PORT + 10 * (i - 1)))
}
ej_extra_units() { local i; for ((i = 2; i <= EJABBERD_INSTANCES; i++)); do printf ' ejabberd-%d' "$i"; done; }
for ((_i = 2; _i <= EJABBERD_INSTANCES; _i++)); do
  for _f in prep start health logs post stop url; do eval "${_f}_ejabberd-$_i() { ( ej_instance $_i; ${_f}_ejabberd ); }"; done
done
