#!/usr/bin/env bash
# Server CPU per event of two builds of the gateway (`serve --threads 1`) measured at
# the same time, each under its own `loadgen` (1,000 sessions, 3,000 events/s, 15 s
# after 3 s of warm-up), so that the VM's changes of speed touch both alike: for
# comparing a change against the build before it. Prints both runs' figures and B/A,
# RUNS times (default 3).
#
#   scripts/frame-cost-ab.sh BUILD_A BUILD_B [RUNS]
#
# BUILD_A and BUILD_B are paths of release builds of readstates (copy
# .build/release/readstates aside before building the other one). THREADS=N serves
# with N service threads (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2
for _ in $(seq "${3:-3}"); do
    data_a=$(mktemp -d) data_b=$(mktemp -d)
    "$a" serve --port 0 --data-dir "$data_a" --rate-limit 0 --threads "${THREADS:-1}" 2>"$data_a/serve.log" &
    server_a=$!
    "$b" serve --port 0 --data-dir "$data_b" --rate-limit 0 --threads "${THREADS:-1}" 2>"$data_b/serve.log" &
    server_b=$!
    port_a="" port_b=""
    for _ in $(seq 100); do
        port_a=$(grep -o '127\.0\.0\.1:[0-9]*' "$data_a/serve.log" 2>/dev/null | head -1 | cut -d: -f2 || true)
        port_b=$(grep -o '127\.0\.0\.1:[0-9]*' "$data_b/serve.log" 2>/dev/null | head -1 | cut -d: -f2 || true)
        [ -n "$port_a" ] && [ -n "$port_b" ] && break
        sleep 0.1
    done
    if [ -z "$port_a" ] || [ -z "$port_b" ]; then
        echo "a server did not start:" >&2
        cat "$data_a/serve.log" "$data_b/serve.log" >&2
        kill -TERM "$server_a" "$server_b" 2>/dev/null || true
        exit 1
    fi
    "$a" loadgen --url "ws://127.0.0.1:$port_a/gateway" --data-dir "$data_a" --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$server_a" >"$data_a/out" 2>&1 &
    load_a=$!
    "$b" loadgen --url "ws://127.0.0.1:$port_b/gateway" --data-dir "$data_b" --sessions 1000 --rate 3000 \
        --seconds 15 --warmup 3 --server-pid "$server_b" >"$data_b/out" 2>&1 &
    load_b=$!
    wait "$load_a" "$load_b" || true
    per_event() { { grep -o '[0-9.]* us per event' "$1" || true; } | cut -d' ' -f1; }
    echo "== $(date -u +%FT%TZ)"
    echo "A: $(grep 'server CPU' "$data_a/out" | sed 's/^ *//')"
    echo "   $(grep 'latency' "$data_a/out" | sed 's/^ *//')"
    echo "B: $(grep 'server CPU' "$data_b/out" | sed 's/^ *//')"
    echo "   $(grep 'latency' "$data_b/out" | sed 's/^ *//')"
    cost_a=$(per_event "$data_a/out") cost_b=$(per_event "$data_b/out")
    if [ -z "$cost_a" ] || [ -z "$cost_b" ]; then
        echo "a load generator failed:" >&2
        cat "$data_a/out" "$data_b/out" >&2
        kill -TERM "$server_a" "$server_b" 2>/dev/null || true
        exit 1
    fi
    echo "B/A per event: $(awk -v a="$cost_a" -v b="$cost_b" 'BEGIN { printf "%.3f", b / a }')"
    kill -TERM "$server_a" "$server_b" 2>/dev/null || true
    wait "$server_a" "$server_b" 2>/dev/null || true
    rm -rf "$data_a" "$data_b"
done
