# shellcheck shell=bash
# Sourced by scripts/servers.sh: the NATS units (single, 3-node cluster) and Graphite (carbon, statsd,
# graphite-web), each as prep_X, start_X, health_X, logs_X, post_X, stop_X, url_X.
# --- nats (single)
prep_nats() {
  need nats-server nats || return 1
  ports_free nats "$NATS_PORT" "$NATS_MONITOR_PORT" || return 1
  mkdir -p "$RUN/nats/single-js"
  render "$CONF/nats-single.conf.tmpl" "$RUN/nats/single.conf" || return 1
}
start_nats() { launch nats "$RUN/nats/single.stdout.log" nats-server -c "$RUN/nats/single.conf"; }
health_nats() { http_ok "http://127.0.0.1:$NATS_MONITOR_PORT/healthz"; }   # 2.9: also waits for JetStream
logs_nats() { echo "$RUN/nats/single.stdout.log $RUN/nats/single.log"; }
post_nats() { :; }
stop_nats() { stop_unit nats; }
url_nats() { echo "nats://127.0.0.1:$NATS_PORT http://127.0.0.1:$NATS_MONITOR_PORT (jetstream)"; }

# --- nats-cluster (3 units nats-n1..n3, handled together)
nats_node_vars() { # nats_node_vars I -> sets NATS_NODE* for node I (read by render via RENDER_VARS)
  local i="$1" j
  # shellcheck disable=SC2034
  NATS_NODE="n$i"
  NATS_NODE_PORT=$((NATS_CLUSTER_PORT_BASE + i))
  NATS_NODE_HTTP_PORT=$((NATS_CLUSTER_HTTP_PORT_BASE + i))
  NATS_NODE_CLUSTER_PORT=$((NATS_CLUSTER_ROUTE_PORT_BASE + i))
  NATS_ROUTES=""
  for j in 1 2 3; do NATS_ROUTES+="${NATS_ROUTES:+, }nats-route://127.0.0.1:$((NATS_CLUSTER_ROUTE_PORT_BASE + j))"; done
}
prep_nats_node() {
  need nats-server nats || return 1
  nats_node_vars "$1"
  ports_free "nats-n$1" "$NATS_NODE_PORT" "$NATS_NODE_HTTP_PORT" "$NATS_NODE_CLUSTER_PORT" || return 1
  mkdir -p "$RUN/nats/n$1-js"
  render "$CONF/nats-cluster.conf.tmpl" "$RUN/nats/n$1.conf" || return 1
}
start_nats_node() { launch "nats-n$1" "$RUN/nats/n$1.stdout.log" nats-server -c "$RUN/nats/n$1.conf"; }
health_nats_node() {
  # healthy = /healthz ok, routes to both peers, and a JetStream meta leader elected (Raft over 3 nodes)
  local h=$((NATS_CLUSTER_HTTP_PORT_BASE + $1)) body
  http_ok "http://127.0.0.1:$h/healthz" || return 1
  body="$(http_get "http://127.0.0.1:$h/routez")" || return 1
  [ "$(echo "$body" | grep -o '"num_routes": *[0-9]*' | grep -o '[0-9]*$')" -ge 2 ] 2>/dev/null || return 1
  body="$(http_get "http://127.0.0.1:$h/jsz")" || return 1
  echo "$body" | grep -q '"leader": *"[^"]'
}
logs_nats_node() { echo "$RUN/nats/n$1.stdout.log $RUN/nats/n$1.log"; }
for _i in 1 2 3; do
  eval "prep_nats-n$_i() { prep_nats_node $_i; }; start_nats-n$_i() { start_nats_node $_i; }
        health_nats-n$_i() { health_nats_node $_i; }; logs_nats-n$_i() { logs_nats_node $_i; }
        post_nats-n$_i() { :; }; stop_nats-n$_i() { stop_unit nats-n$_i; }
        url_nats-n$_i() { echo nats://127.0.0.1:\$((NATS_CLUSTER_PORT_BASE + $_i)) http://127.0.0.1:\$((NATS_CLUSTER_HTTP_PORT_BASE + $_i)) route 127.0.0.1:\$((NATS_CLUSTER_ROUTE_PORT_BASE + $_i)); }"
done

# --- graphite: carbon, statsd, graphite-web
G_D() { echo "$RUN/graphite"; }
prep_carbon() {
  need carbon-cache graphite || return 1
  ports_free carbon "$CARBON_PORT" "$CARBON_QUERY_PORT" || return 1
  local G; G="$(G_D)"
  mkdir -p "$G/conf" "$G/storage/whisper" "$G/storage/lists" "$G/log" "$G/run"
  render "$CONF/carbon.conf.tmpl" "$G/conf/carbon.conf" || return 1
  cp "$CONF/storage-schemas.conf" "$CONF/storage-aggregation.conf" "$G/conf/" || return 1
  # carbon refuses to start when its pid file names a live process; ours is not running, so any
  # carbon-cache-a.pid left here is stale (a pid that may since have been reused).
  rm -f "$G/run/carbon-cache-a.pid"
}
start_carbon() {
  # /usr/bin/python3 explicitly: `python3` in PATH may be a pyenv without Debian's dist-packages.
  local G; G="$(G_D)"
  launch carbon "$G/log/carbon.stdout.log" env -u PYTHONHOME -u PYTHONPATH \
    /usr/bin/python3 /usr/bin/carbon-cache --config="$G/conf/carbon.conf" --nodaemon start
}
health_carbon() { tcp_listening "$CARBON_PORT" && tcp_listening "$CARBON_QUERY_PORT"; }
logs_carbon() { local G; G="$(G_D)"; echo "$G/log/carbon.stdout.log $G/log/carbon-cache-a/console.log"; }
post_carbon() { :; }
stop_carbon() { stop_unit carbon; }
url_carbon() { echo "tcp://127.0.0.1:$CARBON_PORT (plaintext) cache-query 127.0.0.1:$CARBON_QUERY_PORT"; }

prep_statsd() {
  need node graphite || return 1
  [ -f "$TOOLS/node_modules/statsd/stats.js" ] || { log "statsd missing in $TOOLS: run scripts/install-deps.sh graphite"; return 1; }
  ports_free statsd "$STATSD_MGMT_PORT" || return 1
  if udp_listening "$STATSD_PORT"; then log "statsd: udp port $STATSD_PORT is already in use"; return 1; fi
  mkdir -p "$RUN/statsd"
  render "$CONF/statsd.config.js.tmpl" "$RUN/statsd/config.js" || return 1
}
start_statsd() {
  # statsd 0.9 needs Node <= 22 (util.log was removed in Node 23).
  launch statsd "$RUN/statsd/statsd.log" node "$TOOLS/node_modules/statsd/stats.js" "$RUN/statsd/config.js"
}
health_statsd() { udp_listening "$STATSD_PORT" && tcp_listening "$STATSD_MGMT_PORT"; }
logs_statsd() { echo "$RUN/statsd/statsd.log"; }
post_statsd() { :; }
stop_statsd() { stop_unit statsd; }
url_statsd() { echo "udp://127.0.0.1:$STATSD_PORT mgmt tcp://127.0.0.1:$STATSD_MGMT_PORT (flush 1 s -> carbon)"; }

# graphite-web reads its settings from module gw_local (GRAPHITE_SETTINGS_MODULE) found via PYTHONPATH.
gw_env() { GW_ENV=(env -u PYTHONHOME PYTHONPATH="$(G_D)/web" GRAPHITE_SETTINGS_MODULE=gw_local); }
prep_graphite-web() {
  need graphite-manage graphite || return 1
  ports_free graphite-web "$GRAPHITE_WEB_PORT" || return 1
  local G; G="$(G_D)"
  mkdir -p "$G/web" "$G/log/web" "$G/storage/whisper"
  render "$CONF/gw_local.py.tmpl" "$G/web/gw_local.py" || return 1
  # Create the sqlite DB (events, tags, ...) once; migrate takes ~1 s, so skip it when already done.
  if [ ! -f "$G/web/.migrated" ] || [ ! -s "$G/web/graphite.db" ]; then
    gw_env
    (cd "$G/web" && "${GW_ENV[@]}" timeout 120 /usr/bin/python3 /usr/bin/graphite-manage migrate --run-syncdb \
      > "$G/log/web/migrate.log" 2>&1) || { tail_logs "$G/log/web/migrate.log"; log "graphite-web: migrate failed"; return 1; }
    touch "$G/web/.migrated"
  fi
}
start_graphite-web() {
  local G; G="$(G_D)"
  # Django's dev server, single process (--noreload: no autoreloader child), threaded: enough for the
  # render API and /events/ on loopback.
  gw_env
  launch graphite-web "$G/log/web/runserver.log" "${GW_ENV[@]}" \
    /usr/bin/python3 /usr/bin/graphite-manage runserver "127.0.0.1:$GRAPHITE_WEB_PORT" --noreload
}
health_graphite-web() { http_ok "http://127.0.0.1:$GRAPHITE_WEB_PORT/version/"; }
logs_graphite-web() { local G; G="$(G_D)"; echo "$G/log/web/runserver.log $G/log/web/exception.log $G/log/web/info.log"; }
post_graphite-web() { :; }
stop_graphite-web() { stop_unit graphite-web; }
url_graphite-web() { echo "http://127.0.0.1:$GRAPHITE_WEB_PORT (render, /events/)"; }
