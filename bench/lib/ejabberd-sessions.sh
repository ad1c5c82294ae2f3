#!/usr/bin/env bash
# Prints each ejabberd node's own session count once a second, one line per sample: "<epoch ms> <count node 1> ...",
# -1 when a node did not answer. One hidden Erlang node makes rpc calls to ejabberd_sm:connected_users_number/0 (what
# `ejabberdctl connected_users_number` runs) on every node, so sampling costs one VM, not one VM boot per call.
# Runs until killed.
#
#   bash bench/lib/ejabberd-sessions.sh NODE@localhost [NODE@localhost ...] > sessions.txt
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 NODE@localhost ..." >&2; exit 2; }
COOKIE_FILE=/var/lib/ejabberd/.erlang.cookie
[ -r "$COOKIE_FILE" ] || { echo "no Erlang cookie at $COOKIE_FILE: is ejabberd running?" >&2; exit 1; }
exec env ERL_EPMD_ADDRESS=127.0.0.1 erl -noshell -hidden -sname "amoc_sessions_$$@localhost" \
  -setcookie "$(cat "$COOKIE_FILE")" -kernel inet_dist_use_interface '{127,0,0,1}' \
  -eval '
    Nodes = [list_to_atom(N) || N <- init:get_plain_arguments()],
    Count = fun(N) -> case rpc:call(N, ejabberd_sm, connected_users_number, [], 5000) of
                        C when is_integer(C) -> C;
                        _ -> -1
                      end end,
    Loop = fun L() ->
             T = erlang:system_time(millisecond),
             io:format("~b~s~n", [T, [[" ", integer_to_list(Count(N))] || N <- Nodes]]),
             timer:sleep(1000),
             L()
           end,
    Loop().' -extra "$@"
