#!/usr/bin/env bash
# The main job on an embedded default: start a local Prosody, run one_to_one with 200 users (one every 10 ms, 3 chats
# each), print the summary, stop Prosody again (unless it was already running before the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
started=0
if ! bash scripts/servers.sh status prosody >/dev/null 2>&1; then
  bash scripts/servers.sh up prosody
  started=1
fi
stop() { if [ "$started" = 1 ]; then bash scripts/servers.sh down prosody; fi; }
trap stop EXIT
echo "== amoc-ts demo: one_to_one, 200 users against Prosody on 127.0.0.1:5222"
bin/amoc run one_to_one --users 200 --interarrival 10 --repeat 1 --set message_count=3 --set message_interval=200
