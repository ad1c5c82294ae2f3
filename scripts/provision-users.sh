#!/usr/bin/env bash
# Provision user_1..user_N (password password_I) on the local XMPP server, amoc's naming scheme.
#
#   scripts/provision-users.sh prosody N     # writes prosody account files; server may be up or down
#   scripts/provision-users.sh ejabberd N    # one Erlang RPC into the running ejabberd node
#
# Idempotent: a marker file records the highest N done; a call with N <= marker is a no-op, a larger N
# only adds user_{marker+1}..user_N. Env: AMOC_RUN_DIR (default <repo>/.run), AMOC_XMPP_DOMAIN (localhost),
# AMOC_PROVISION_FORCE=1 ignores the marker.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${AMOC_RUN_DIR:-$REPO/.run}"
case "$RUN" in /*) ;; *) RUN="$PWD/$RUN" ;; esac
DOMAIN="${AMOC_XMPP_DOMAIN:-localhost}"

log() { printf '[provision] %s\n' "$*" >&2; }
# since T0 -> seconds elapsed since T0 (an $EPOCHREALTIME), with two decimals: 20k accounts take well under a second
since() { awk -v a="$1" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.2f", b - a }'; }
die() { log "ERROR: $*"; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 prosody|ejabberd N" >&2; exit 2; }
server="$1"; N="$2"
[[ "$N" =~ ^[0-9]+$ ]] || die "N must be a non-negative integer, got '$N'"

# marker_get FILE -> highest N already provisioned (0 if none)
marker_get() { local m=0; [ -f "$1" ] && m="$(tr -dc 0-9 < "$1")"; echo "${m:-0}"; }

provision_prosody() {
  # Prosody's internal storage: data/<host>/accounts/<user>.dat, a Lua table. Names are %-escaped
  # (non-alphanumerics), so user_1 -> user%5f1.dat and host a.b -> a%2eb. Prosody reads the files on each
  # login (no cache), so this works with the server running. ~0.3 s for 20k users with awk, vs ~30/s
  # with `prosodyctl register` and ~300/s with in-band registration.
  local host_dir acc marker done_n
  host_dir="$(printf '%s' "$DOMAIN" | sed 's/\./%2e/g; s/-/%2d/g; s/_/%5f/g')"
  acc="$RUN/prosody/data/$host_dir/accounts"
  marker="$RUN/prosody/data/$host_dir/.amoc_provisioned"
  done_n="$(marker_get "$marker")"
  [ "${AMOC_PROVISION_FORCE:-0}" = 1 ] && done_n=0
  if [ "$N" -le "$done_n" ]; then log "prosody: user_1..user_$done_n already provisioned"; return 0; fi
  mkdir -p "$acc"
  local t0=${EPOCHREALTIME/,/.}
  awk -v A="$((done_n + 1))" -v B="$N" -v D="$acc" 'BEGIN {
    for (i = A; i <= B; i++) {
      f = D "/user%5f" i ".dat"
      printf("return {\n\t[\"password\"] = \"password_%d\";\n};\n", i) > f
      close(f)                                   # else awk runs out of file descriptors
    }
  }'
  echo "$N" > "$marker"
  log "prosody: provisioned user_$((done_n + 1))..user_$N on $DOMAIN in $(since "$t0") s"
}

provision_ejabberd() {
  # One Erlang node makes ONE rpc:call into the ejabberd node ($EJABBERD_NODE, default ejabberd@localhost) that loops ejabberd_auth:try_register/3:
  # ~3,400 users/s, vs 2.5/s for `ejabberdctl register` (which boots a VM per user).
  local D="$RUN/ejabberd" marker done_n cookie_file=/var/lib/ejabberd/.erlang.cookie
  marker="$D/db/.amoc_provisioned"     # inside the Mnesia dir: wiping the db wipes the marker too
  done_n="$(marker_get "$marker")"
  [ "${AMOC_PROVISION_FORCE:-0}" = 1 ] && done_n=0
  if [ "$N" -le "$done_n" ]; then log "ejabberd: user_1..user_$done_n already provisioned"; return 0; fi
  [ -r "$cookie_file" ] || die "ejabberd: no Erlang cookie at $cookie_file (is ejabberd running? scripts/servers.sh up ejabberd)"
  local cookie out t0=${EPOCHREALTIME/,/.}
  cookie="$(cat "$cookie_file")"
  # -hidden: do not join the ejabberd cluster view; dist on loopback only; random name so two
  # concurrent calls cannot clash. Timeout bounds a hung node (20k users take ~6 s).
  out="$(ERL_EPMD_ADDRESS=127.0.0.1 timeout 300 erl -noshell -hidden \
      -sname "amoc_prov_$$@localhost" -setcookie "$cookie" \
      -kernel inet_dist_use_interface '{127,0,0,1}' \
      -eval '
        [A, B, H] = [list_to_integer(lists:nth(1, init:get_plain_arguments())),
                     list_to_integer(lists:nth(2, init:get_plain_arguments())),
                     list_to_binary(lists:nth(3, init:get_plain_arguments()))],
        F = fun(I, {Ok, Ex, Err}) ->
              S = integer_to_binary(I),
              case ejabberd_auth:try_register(<<"user_", S/binary>>, H, <<"password_", S/binary>>) of
                ok -> {Ok + 1, Ex, Err};
                {error, exists} -> {Ok, Ex + 1, Err};
                _ -> {Ok, Ex, Err + 1}
              end
            end,
        case rpc:call(list_to_atom(lists:nth(4, init:get_plain_arguments())), lists, foldl, [F, {0, 0, 0}, lists:seq(A, B)], 280000) of
          {Ok, Ex, Err} when is_integer(Ok) -> io:format("registered=~p exists=~p errors=~p~n", [Ok, Ex, Err]),
                                               halt(case Err of 0 -> 0; _ -> 3 end);
          Other -> io:format("rpc failed: ~p~n", [Other]), halt(4)
        end.' \
      -extra "$((done_n + 1))" "$N" "$DOMAIN" "${EJABBERD_NODE:-ejabberd@localhost}" 2>&1)" || die "ejabberd: provisioning failed: $out"
  echo "$N" > "$marker"
  log "ejabberd: user_$((done_n + 1))..user_$N on $DOMAIN: $out ($(since "$t0") s)"
}

case "$server" in
  prosody) provision_prosody ;;
  ejabberd) provision_ejabberd ;;
  *) echo "usage: $0 prosody|ejabberd N" >&2; exit 2 ;;
esac
