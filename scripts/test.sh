#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine with Swift and runs the whole test suite,
# in parallel (Swift Testing's default), bounded in time.
#
# READSTATES_TEST_TIMEOUT (seconds, default 1800) bounds the run: a run that passes it
# is stopped and reported as a failure that names the tests still running, so a hang
# reads as a failing test, not as CI running out of time. Arguments are passed to
# `swift test` (e.g. --filter ServeCommandTests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests

limit=${READSTATES_TEST_TIMEOUT:-1800}
log=$(mktemp /tmp/readstates-test-XXXXXX.log)
trap 'rm -f "$log"' EXIT
set +e
# timeout runs the tests in a process group of their own and, at the limit, signals the
# whole group: the test binary and what the tests started. Ctrl-C (or CI's TERM) is
# passed on to that group too.
timeout --kill-after=20 "$limit" swift test --skip-build "$@" > >(tee "$log") 2>&1 &
runner=$!
trap 'kill -TERM "$runner" 2>/dev/null' INT TERM
wait "$runner"
status=$?
trap - INT TERM
set -e
# 124: the limit passed (137: it passed and the run ignored TERM for 20 s more).
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "test run stopped after ${limit} s (READSTATES_TEST_TIMEOUT); tests still running:" >&2
    # Swift Testing prints "◇ Test NAME started." and "✔/✘ Test NAME passed/failed ...".
    awk '
        / Test .* started\.$/ { name = $0; sub(/^.* Test /, "", name); sub(/ started\.$/, "", name); running[name]++ }
        /^(✔|✘) Test .* (passed|failed) after / { name = $0; sub(/^[^ ]+ Test /, "", name); sub(/ (passed|failed) after .*$/, "", name); running[name]-- }
        END { for (name in running) if (running[name] > 0) print "  still running: " name }
    ' "$log" >&2
    exit 1
fi
exit "$status"
