#!/usr/bin/env bash
# Server CPU of two servers measured at the same time, each under its own `loadgen`
# (1,000 sessions, 3,000 events/s, 15 s after 3 s of warm-up), so that the VM's
# changes of speed touch both alike. Prints both runs' figures and B/A per event and
# per frame, RUNS times (default 3).
#
#   scripts/frame-cost-ab.sh BUILD_A BUILD_B [RUNS]   two builds of the gateway
#   scripts/frame-cost-ab.sh echo BUILD [RUNS]         the bare transport (A) and the gateway
#
# BUILD_A and BUILD_B are paths of release builds of readstates (copy
# .build/release/readstates aside before building the other one); `echo` runs
# `readstates echo` of BUILD_B. The gateway is `serve --threads 1` (THREADS=N for N
# service threads).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2
# shellcheck source=lib/server-port.sh
source scripts/lib/server-port.sh
for _ in $(seq "${3:-3}"); do
    data_a=$(mktemp -d) data_b=$(mktemp -d)
    if [ "$a" = echo ]; then
        "$b" echo --port 0 2>"$data_a/serve.log" &
        path_a=/ load_a_options=(--echo)
    else
        "$a" serve --port 0 --data-dir "$data_a" --rate-limit 0 --threads "${THREADS:-1}" 2>"$data_a/serve.log" &
        path_a=/gateway load_a_options=(--data-dir "$data_a")
    fi
    server_a=$!
    "$b" serve --port 0 --data-dir "$data_b" --rate-limit 0 --threads "${THREADS:-1}" 2>"$data_b/serve.log" &
    server_b=$!
    port_a=$(server_port "$data_a/serve.log") port_b=$(server_port "$data_b/serve.log")
    if [ -z "$port_a" ] || [ -z "$port_b" ]; then
        echo "a server did not start:" >&2
        cat "$data_a/serve.log" "$data_b/serve.log" >&2
        kill -TERM "$server_a" "$server_b" 2>/dev/null || true
        exit 1
    fi
    "$b" loadgen --url "ws://127.0.0.1:$port_a$path_a" "${load_a_options[@]}" --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$server_a" >"$data_a/out" 2>&1 &
    load_a=$!
    "$b" loadgen --url "ws://127.0.0.1:$port_b/gateway" --data-dir "$data_b" --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$server_b" >"$data_b/out" 2>&1 &
    load_b=$!
    wait "$load_a" "$load_b" || true
    figure() { { grep -o "[0-9.]* us per $2" "$1" || true; } | cut -d' ' -f1; }
    echo "== $(date -u +%FT%TZ)"
    echo "A: $(grep 'server CPU' "$data_a/out" | sed 's/^ *//')"
    echo "   $(grep 'latency' "$data_a/out" | sed 's/^ *//')"
    echo "B: $(grep 'server CPU' "$data_b/out" | sed 's/^ *//')"
    echo "   $(grep 'latency' "$data_b/out" | sed 's/^ *//')"
    event_a=$(figure "$data_a/out" event) event_b=$(figure "$data_b/out" event)
    frame_a=$(figure "$data_a/out" frame) frame_b=$(figure "$data_b/out" frame)
    if [ -z "$event_a" ] || [ -z "$event_b" ]; then
        echo "a load generator failed:" >&2
        cat "$data_a/out" "$data_b/out" >&2
        kill -TERM "$server_a" "$server_b" 2>/dev/null || true
        exit 1
    fi
    awk -v a="$event_a" -v b="$event_b" 'BEGIN { printf "B/A per event: %.3f\n", b / a }'
    awk -v a="$frame_a" -v b="$frame_b" 'BEGIN { printf "B/A per frame: %.3f\n", b / a }'
    kill -TERM "$server_a" "$server_b" 2>/dev/null || true
    wait "$server_a" "$server_b" 2>/dev/null || true
    rm -rf "$data_a" "$data_b"
done
