#!/usr/bin/env bash
# Builds the libFuzzer harnesses (Tests/Fuzz/Harness, one executable; the harness is
# chosen by READSTATES_FUZZ_TARGET) with Swift's -sanitize=fuzzer,address and runs each
# for SECONDS (default 60) on a working copy of its seed corpus (Tests/Fuzz/corpus/NAME).
# Prints, per harness, the inputs tried, the coverage and the result; a finding (crash,
# timeout, ASan report, out of memory) is kept under .build-fuzz/runs/NAME/artifacts
# and makes the script exit 1. Replay one without the sanitizers:
#   swift build --product readstates-fuzz && .build/debug/readstates-fuzz NAME FILE
#
# Usage: scripts/fuzz.sh [SECONDS]      FUZZ_TARGETS="rest token" to run some only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
targets="${FUZZ_TARGETS:-client-payload server-message zlib-stream rest token snowflake url}"
scripts/install-deps.sh
export PATH="/opt/swift/usr/bin:$PATH"
# A build path of its own: every module is instrumented, which a normal build is not.
# Linked with lld: Debian's gold stops with an internal error on the sanitized objects.
swift build -c release --build-path .build-fuzz --product readstates-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld >&2
binary=.build-fuzz/release/readstates-fuzz
runs=.build-fuzz/runs
failed=0
printf '%-15s %10s %8s %8s %8s  %s\n' harness inputs seconds cov corpus result
for target in $targets; do
    work="$runs/$target"
    rm -rf "$work"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp Tests/Fuzz/corpus/"$target"/* "$work/corpus/"
    status=0
    # SWIFT_BACKTRACE=enable=no: Swift's backtracer would keep the crashed process's
    # pipe open after libFuzzer has reported.
    SWIFT_BACKTRACE=enable=no READSTATES_FUZZ_TARGET="$target" "$binary" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" \
        >"$work/log" 2>&1 || status=$?
    inputs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo "?")
    elapsed=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$work/log" | grep -o 'in [0-9]*' | grep -o '[0-9]*' || echo "?")
    coverage=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | grep -o '[0-9]*' || echo "?")
    corpus=$(find "$work/corpus" -type f | wc -l)
    if [ "$status" -eq 0 ]; then
        result="no finding"
    else
        failed=1
        finding=$(ls "$work/artifacts" | head -1)
        result="FINDING (exit $status): $work/artifacts/$finding; see $work/log"
    fi
    printf '%-15s %10s %8s %8s %8s  %s\n' "$target" "$inputs" "$elapsed" "$coverage" "$corpus" "$result"
done
exit "$failed"
