#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine with Swift and runs readstates.
# Extra arguments go to the readstates command line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product readstates
if [ $# -eq 0 ]; then
    # The gateway on its embedded default store (SQLite in ./data).
    exec .build/release/readstates serve
fi
exec .build/release/readstates "$@"
