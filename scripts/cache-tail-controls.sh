#!/usr/bin/env bash
# The engine's tail at 200,000 ops/s three ways, back to back, so they share the VM's
# conditions: alone; beside a do-nothing CPU spinner at nice 19 on the other core (the
# control: what any busy second core costs on this machine); and over the SQLite store
# with the write-behind flusher running (delay 30 s, so it flushes from second 31 on).
#
#   scripts/cache-tail-controls.sh [SECONDS] [OUTPUT_DIRECTORY]
#
# Writes cache-alone.txt, cache-spinner.txt and cache-sqlite.txt (every per-second
# line and the summary) to OUTPUT_DIRECTORY (default: docs/bench/controls).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=${2:-docs/bench/controls}
mkdir -p "$out"
swift build -c release --product readstates >/dev/null
bin=.build/release/readstates

echo "alone..." >&2
"$bin" bench cache --seconds "$seconds" >"$out/cache-alone.txt"

echo "beside a spinner at nice 19..." >&2
nice -n 19 sh -c 'while :; do :; done' &
spinner=$!
trap 'kill $spinner 2>/dev/null || true' EXIT
"$bin" bench cache --seconds "$seconds" >"$out/cache-spinner.txt"
kill "$spinner"
trap - EXIT

echo "over SQLite, flushing..." >&2
"$bin" bench cache --seconds "$seconds" --store sqlite >"$out/cache-sqlite.txt"

for run in alone spinner sqlite; do
    echo "== $run"
    grep -A3 '^summary' "$out/cache-$run.txt" | sed -n '2p;4p'
done
