#!/usr/bin/env python3
"""Splits `readstates bench cache` outputs (text) into seconds 1-30 and 31-60 (with
--flush-delay 30 nothing is flushed before second 31) and prints, per half: seconds
with p99 over 100 us, the same among seconds with at most 30 ms of steal, median p99,
median p99.9 and the worst max, plus the flusher lines.

    scripts/bench-halves.py docs/bench/controls/cache-*.txt
"""
import re
import statistics
import sys

LINE = re.compile(r"^\s*(\d+)s .*p99\s+([\d.]+) us\s+p99.9\s+([\d.]+) us\s+max\s+([\d.]+) us.*steal\s+(\d+) ms")

for path in sys.argv[1:]:
    rows = [tuple(float(x) for x in m.groups()) for m in map(LINE.search, open(path)) if m]
    for name, part in (("1-30", [r for r in rows if r[0] <= 30]), ("31-60", [r for r in rows if r[0] > 30])):
        if not part:
            continue
        quiet = [r for r in part if r[4] <= 30]
        print(
            f"{path.split('/')[-1]:22} s{name:6}"
            f" p99>100us {sum(r[1] > 100 for r in part):2}/{len(part)}"
            f"  quiet {sum(r[1] > 100 for r in quiet)}/{len(quiet)}"
            f"  median p99 {statistics.median(r[1] for r in part):7.1f} us"
            f"  median p99.9 {statistics.median(r[2] for r in part):8.1f} us"
            f"  worst max {max(r[3] for r in part) / 1000:5.1f} ms"
        )
    for line in open(path):
        if line.startswith("flusher") or "final flush" in line:
            print("   ", line.strip())
