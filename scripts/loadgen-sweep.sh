#!/usr/bin/env bash
# Runs `readstates loadgen` against a fresh `readstates serve` (or `readstates echo`)
# once per rate and prints each run's summary: the figures in BENCHMARKS.md.
#
#   scripts/loadgen-sweep.sh SESSIONS SECONDS RATE...        the gateway
#   ECHO=1 scripts/loadgen-sweep.sh SESSIONS SECONDS RATE... the bare echo server
#
# Extra serve options go in SERVE_OPTIONS (e.g. "--threads 1");
# extra loadgen options go in LOADGEN_OPTIONS (e.g. "--channel-members 2 --plot run.svg");
# SHOW_SECONDS=1 keeps the per-second lines.
# BIN=path runs another build of readstates (an older commit's, to compare) for both
# the server and the load generator.
# Needs a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-.build/release/readstates}
# shellcheck source=lib/server-port.sh
source scripts/lib/server-port.sh
sessions=$1 seconds=$2
shift 2
for rate in "$@"; do
    data=$(mktemp -d)
    # Port 0: the server picks a free one and names it in its "serving" log line.
    if [ -n "${ECHO:-}" ]; then
        "$bin" echo --port 0 2>"$data/server.log" &
        path=/
        extra=(--echo)
    else
        # shellcheck disable=SC2086
        "$bin" serve --port 0 --data-dir "$data" --rate-limit 0 ${SERVE_OPTIONS:-} 2>"$data/server.log" &
        path=/gateway
        extra=(--data-dir "$data")
    fi
    server=$!
    port=$(server_port "$data/server.log")
    echo "== $sessions sessions, $rate events/s, $seconds s ($(date -u +%FT%TZ)) ${SERVE_OPTIONS:-}"
    if [ -z "$port" ]; then
        echo "the server did not start:" && cat "$data/server.log"
    else
        # shellcheck disable=SC2086
        "$bin" loadgen --url "ws://127.0.0.1:$port$path" --sessions "$sessions" --rate "$rate" --seconds "$seconds" \
            --server-pid "$server" "${extra[@]}" ${LOADGEN_OPTIONS:-} \
            | { if [ -n "${SHOW_SECONDS:-}" ]; then cat; else grep -v "^ *[0-9]*s  sent"; fi; } || true
    fi
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" || true
    rm -rf "$data"
done
