#!/usr/bin/env bash
# Server CPU per frame of the gateway (`serve --threads 1`) and of the bare transport
# (`echo`) measured at the same time, each under its own `loadgen` (1,000 sessions,
# 3,000 events/s, 15 s after 3 s of warm-up), so that the VM's changes of speed
# touch both alike. Prints both figures and their ratio, RUNS times (default 3).
#
#   scripts/frame-cost-concurrent.sh [RUNS]
#
# BIN=path runs another build. Needs a release build (swift build -c release).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-.build/release/readstates}
for _ in $(seq "${1:-3}"); do
    data=$(mktemp -d)
    "$bin" serve --port 0 --data-dir "$data" --rate-limit 0 --threads 1 2>"$data/serve.log" &
    gateway=$!
    "$bin" echo --port 0 2>"$data/echo.log" &
    echo_server=$!
    gateway_port="" echo_port=""
    for _ in $(seq 100); do
        gateway_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$data/serve.log" 2>/dev/null | head -1 | cut -d: -f2 || true)
        echo_port=$(grep -o '127\.0\.0\.1:[0-9]*' "$data/echo.log" 2>/dev/null | head -1 | cut -d: -f2 || true)
        [ -n "$gateway_port" ] && [ -n "$echo_port" ] && break
        sleep 0.1
    done
    if [ -z "$gateway_port" ] || [ -z "$echo_port" ]; then
        echo "a server did not start:" >&2
        cat "$data/serve.log" "$data/echo.log" >&2
        kill -TERM "$gateway" "$echo_server" 2>/dev/null || true
        exit 1
    fi
    "$bin" loadgen --url "ws://127.0.0.1:$gateway_port/gateway" --data-dir "$data" --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$gateway" >"$data/gateway.out" 2>&1 &
    first=$!
    "$bin" loadgen --url "ws://127.0.0.1:$echo_port/" --echo --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$echo_server" >"$data/echo.out" 2>&1 &
    second=$!
    wait "$first" "$second" || true
    per_frame() { { grep "server CPU" "$1" || true; } | sed 's/.*: \([0-9.]*\) us per frame.*/\1/'; }
    echo "== $(date -u +%FT%TZ)"
    echo "gateway: $(grep 'server CPU' "$data/gateway.out" | sed 's/^ *//')"
    echo "   p99: $(grep 'latency' "$data/gateway.out" | sed 's/^ *//')"
    echo "echo:    $(grep 'server CPU' "$data/echo.out" | sed 's/^ *//')"
    gateway_cost=$(per_frame "$data/gateway.out") echo_cost=$(per_frame "$data/echo.out")
    if [ -z "$gateway_cost" ] || [ -z "$echo_cost" ]; then
        echo "a load generator failed:" >&2
        cat "$data/gateway.out" "$data/echo.out" >&2
        kill -TERM "$gateway" "$echo_server" 2>/dev/null || true
        exit 1
    fi
    echo "ratio: $(python3 -c "print(round($gateway_cost / $echo_cost, 2))")"
    kill -TERM "$gateway" "$echo_server" 2>/dev/null || true
    wait "$gateway" "$echo_server" 2>/dev/null || true
    rm -rf "$data"
done
