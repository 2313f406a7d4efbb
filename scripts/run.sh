#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine with Swift and runs readstates.
# Extra arguments go to the readstates command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product readstates
if [ $# -eq 0 ]; then
    # The gateway (`serve`) is not built yet: mint an ID and explain it, as a first run.
    id=$(.build/release/readstates snowflake --new)
    exec .build/release/readstates snowflake "$id"
fi
exec .build/release/readstates "$@"
