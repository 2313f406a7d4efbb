#!/bin/bash
# Runs everything and writes /tmp/zbench/results.txt. One swift build at a time.
set -euo pipefail
cd /tmp/zbench
export PATH=/opt/swift/usr/bin:$PATH
R=/tmp/zbench/results.txt
: > $R
log() { echo "$@" | tee -a $R; }
run() { log "\$ $*"; "$@" 2>&1 | tee -a $R; }
log "# zbench results $(date -u +%FT%TZ) on $(uname -srm), $(nproc) cores, $(swift --version 2>&1 | head -1)"
log "# zlib: $(dpkg-query -W -f='${Package} ${Version}' zlib1g-dev); compress-nio + swift-nio versions:"
grep -E '"identity"|"version"' Package.resolved | paste - - | sed 's/[ ",]\+/ /g' | tee -a $R
log ""
log "## Clean release build times (checkouts removed too: rm -rf .build)"
rm -rf .build
run bash -c 'time swift package resolve >/dev/null'
run bash -c 'time swift build -c release --product zbench-direct 2>&1 | tail -1'
rm -rf .build/x86_64-unknown-linux-gnu .build/release
run bash -c 'time swift build -c release --product zbench 2>&1 | tail -1'
run bash -c 'time swift build -c release 2>&1 | tail -1'
log ""
log "## Correctness"
rm -rf verify && mkdir verify
run .build/release/zbench verify verify
run python3 verify.py verify
log ""
log "## compress-nio API probes"
run .build/release/zbench api
log ""
log "## Memory per stream (RSS growth from /proc/self/statm, 1000 live streams, fresh process each)"
for s in "1 15 8" "6 15 8" "1 12 5" "6 12 5"; do
  for m in direct-zlib compress-nio-alloc compress-nio-reuse; do
    run .build/release/zbench mem $m $s 1000
  done
done
log ""
log "## Throughput"
run .build/release/zbench bench 200000 3
log "# done $(date -u +%FT%TZ)"
