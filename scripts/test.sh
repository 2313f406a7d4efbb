#!/usr/bin/env bash
# Sets everything up on a fresh Debian machine with Swift and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build
