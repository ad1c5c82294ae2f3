#!/usr/bin/env bash
# The main job on an embedded default: a short run of the dummy scenario, then its summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bin/amoc run dummy --users 200 --interarrival 10 --repeat 3 --repeat-interval 100 --set dummy_sleep_ms=50
