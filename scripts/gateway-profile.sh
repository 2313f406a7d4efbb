#!/usr/bin/env bash
# Where the gateway's CPU goes at a paced load: `perf record` of `serve --threads 1`
# for 10 s while `loadgen` runs 1,000 sessions at 3,000 events/s, then perf's own
# summaries: shares by library, and the symbols whose stacks take the most (children
# included). The figures of "What is left in a profile" in BENCHMARKS.md.
#
#   scripts/gateway-profile.sh
#
# Needs a release build (swift build -c release) and `perf` (linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-.build/release/readstates}
# shellcheck source=lib/server-port.sh
source scripts/lib/server-port.sh
data=$(mktemp -d)
"$bin" serve --port 0 --data-dir "$data" --rate-limit 0 --threads 1 2>"$data/serve.log" &
server=$!
port=$(server_port "$data/serve.log")
[ -n "$port" ] || { echo "the server did not start:" >&2; cat "$data/serve.log" >&2; kill "$server"; exit 1; }
"$bin" loadgen --url "ws://127.0.0.1:$port/gateway" --data-dir "$data" --sessions 1000 --rate 3000 --seconds 15 \
    --warmup 3 --server-pid "$server" >"$data/loadgen.out" 2>&1 &
load=$!
sleep 6
perf record -F 1999 -g -p "$server" -o "$data/perf.data" -- sleep 10 2>/dev/null >/dev/null
wait "$load" || true
kill -TERM "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
grep -E "server CPU|latency" "$data/loadgen.out"
echo "-- by library (self)"
perf report -i "$data/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -12
echo "-- by symbol, children included"
perf report -i "$data/perf.data" --children --sort sym --stdio -g none 2>/dev/null | grep '%' | grep -v '\[k\]' \
    | grep -E '__send|__libc_recv|epoll_wait|GatewayCore|SharedSessions|GatewayConnections.perform|lws_write|ReadStates|swift_retain|swift_release' \
    | head -24 | cut -c1-160
rm -rf "$data"
