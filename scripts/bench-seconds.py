#!/usr/bin/env python3
"""Counts the seconds of `readstates bench cache` outputs (text) with p99 over 100 us,
over the whole run and by the hypervisor's steal in that second (at most 10 ms, at most
30 ms, more); with --halves, also for seconds 1-30 and 31-60 apart (with
--flush-delay 30 nothing is flushed before second 31), with median p99, median p99.9
and the worst max, plus the flusher lines.

    scripts/bench-seconds.py docs/bench/cache-300s*.txt
    scripts/bench-seconds.py --halves docs/bench/controls/cache-*.txt
"""
import re
import statistics
import sys

LINE = re.compile(r"^\s*(\d+)s .*p99\s+([\d.]+) us\s+p99.9\s+([\d.]+) us\s+max\s+([\d.]+) us.*steal\s+(\d+) ms")


def over(rows):
    return f"{sum(r[1] > 100 for r in rows)}/{len(rows)}"


halves = "--halves" in sys.argv[1:]
for path in (a for a in sys.argv[1:] if a != "--halves"):
    rows = [tuple(float(x) for x in m.groups()) for m in map(LINE.search, open(path)) if m]
    name = path.split("/")[-1]
    print(
        f"{name}: p99>100us {over(rows)} seconds;"
        f" steal<=10ms {over([r for r in rows if r[4] <= 10])},"
        f" steal<=30ms {over([r for r in rows if r[4] <= 30])},"
        f" steal>30ms {over([r for r in rows if r[4] > 30])}"
    )
    if not halves:
        continue
    for label, part in (("1-30", [r for r in rows if r[0] <= 30]), ("31-60", [r for r in rows if r[0] > 30])):
        if not part:
            continue
        print(
            f"  s{label:6} p99>100us {over(part)}  quiet (steal<=30ms) {over([r for r in part if r[4] <= 30])}"
            f"  median p99 {statistics.median(r[1] for r in part):7.1f} us"
            f"  median p99.9 {statistics.median(r[2] for r in part):8.1f} us"
            f"  worst max {max(r[3] for r in part) / 1000:5.1f} ms"
        )
    for line in open(path):
        if line.startswith("flusher") or "final flush" in line:
            print("   ", line.strip())
