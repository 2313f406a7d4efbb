#!/usr/bin/env bash
# Server CPU per frame of the gateway (`serve --threads 1`) and of the bare transport
# (`echo`) measured at the same time, each under its own `loadgen` (1,000 sessions,
# 3,000 events/s, 15 s after 3 s of warm-up), so that the VM's changes of speed
# touch both alike: `frame-cost-ab.sh echo BUILD` (A is the echo, B the gateway, so
# "B/A per frame" is the gateway's cost against the transport's), RUNS times (default 3).
#
#   scripts/frame-cost-concurrent.sh [RUNS]
#
# BIN=path runs another build. Needs a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/frame-cost-ab.sh echo "${BIN:-.build/release/readstates}" "${1:-3}"
