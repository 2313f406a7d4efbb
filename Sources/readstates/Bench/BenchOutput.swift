import Foundation
import Histogram
import ReadStatesModule

/// One second of a benchmark run.
struct SecondLine {
    var second: Int
    var operations: Int
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64
    /// How late a 1 ms sleep on an idle thread woke up, at worst, in this second.
    var machineStallNanoseconds: UInt64
    /// CPU time the hypervisor took away from this machine during the second.
    var stolenMilliseconds: UInt64

    init(
        second: Int,
        operations: Int,
        histogram: Histogram<UInt64>,
        machineStallNanoseconds: UInt64,
        stolenMilliseconds: UInt64
    ) {
        self.second = second
        self.operations = operations
        p50 = histogram.valueAtPercentile(50)
        p99 = histogram.valueAtPercentile(99)
        p999 = histogram.valueAtPercentile(99.9)
        max = histogram.max
        self.machineStallNanoseconds = machineStallNanoseconds
        self.stolenMilliseconds = stolenMilliseconds
    }
}

/// The whole run, folded second by second.
struct BenchSummary {
    var seconds = 0
    var operations = 0
    var histogram = Histogram<UInt64>(highestTrackableValue: 100_000_000_000)
    var worstMax: UInt64 = 0
    var secondsOver1ms = 0
    var secondsOver10ms = 0
    /// Seconds over 1 ms in which the idle thread also woke over 1 ms late: the
    /// machine stalled, not the engine.
    var secondsOver1msWithMachineStall = 0
    var secondsWithP99Over100us = 0
    /// Seconds in which the hypervisor took at most ``quietStealMilliseconds`` of CPU
    /// (`/proc/stat` steal), and how many of them still had p99 over 100 us: the
    /// engine's own tail, with the VM's biggest pauses set aside.
    var quietSeconds = 0
    var quietSecondsWithP99Over100us = 0
    static let quietStealMilliseconds: UInt64 = 30

    mutating func add(_ line: SecondLine, histogram: Histogram<UInt64>) {
        seconds += 1
        operations += line.operations
        self.histogram.add(histogram)
        worstMax = Swift.max(worstMax, line.max)
        if line.max > 1_000_000 {
            secondsOver1ms += 1
            if line.machineStallNanoseconds > 1_000_000 { secondsOver1msWithMachineStall += 1 }
        }
        if line.max > 10_000_000 { secondsOver10ms += 1 }
        if line.p99 > 100_000 { secondsWithP99Over100us += 1 }
        if line.stolenMilliseconds <= Self.quietStealMilliseconds {
            quietSeconds += 1
            if line.p99 > 100_000 { quietSecondsWithP99Over100us += 1 }
        }
    }
}

/// Prints benchmark figures for people (aligned columns) or machines (`--json`, one
/// object per line).
struct BenchOutput {
    let json: Bool

    func emit(_ object: [String: Any], _ text: String) {
        var line: String
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        } else {
            line = text
        }
        line += "\n"
        // Unbuffered, so each second shows up as it completes even through a pipe.
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    private func micros(_ nanoseconds: UInt64) -> String {
        String(format: "%.1f", Double(nanoseconds) / 1000)
    }

    func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
        let text = value.description
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }

    /// A line of context (text) or `{"event": "note", "text": …}` (JSON).
    func note(_ text: String) {
        emit(["event": "note", "text": text], text)
    }

    func fill(readStates: Int, users: Int, seconds: Double, residentBytes: Int, bytesPerReadState: Double) {
        emit(
            [
                "event": "fill", "read_states": readStates, "users": users, "seconds": seconds,
                "rss_bytes": residentBytes, "bytes_per_read_state": bytesPerReadState,
            ],
            "fill: \(readStates) read states of \(users) users in \(String(format: "%.2f", seconds)) s, "
                + "RSS \(mebibytes(residentBytes)), \(String(format: "%.1f", bytesPerReadState)) bytes per read state"
        )
    }

    func second(_ line: SecondLine) {
        emit(
            [
                "event": "second", "second": line.second, "ops": line.operations,
                "p50_us": Double(line.p50) / 1000, "p99_us": Double(line.p99) / 1000,
                "p999_us": Double(line.p999) / 1000, "max_us": Double(line.max) / 1000,
                "machine_stall_us": Double(line.machineStallNanoseconds) / 1000,
                "steal_ms": line.stolenMilliseconds,
            ],
            "\(pad(line.second, 4))s \(pad(line.operations, 9)) ops  p50 \(pad(micros(line.p50), 7)) us"
                + "  p99 \(pad(micros(line.p99), 7)) us  p99.9 \(pad(micros(line.p999), 7)) us"
                + "  max \(pad(micros(line.max), 9)) us  machine stall \(pad(micros(line.machineStallNanoseconds), 8)) us"
                + "  steal \(pad(line.stolenMilliseconds, 3)) ms"
        )
    }

    /// What the write-behind flusher did during the mix, and the shutdown flush.
    func flusher(during: WriteBehind.Counters, after: WriteBehind.Counters, finalFlushSeconds: Double, seconds: Int) {
        emit(
            [
                "event": "flusher", "rows_written": during.rowsWritten, "batches": during.batchesWritten,
                "rows_per_second": Double(during.rowsWritten) / Double(max(seconds, 1)),
                "failed_writes": during.failedWrites, "pending": during.pendingStates,
                "final_flush_rows": after.rowsWritten - during.rowsWritten, "final_flush_seconds": finalFlushSeconds,
                "pending_after_final_flush": after.pendingStates,
            ],
            """
            flusher: \(during.rowsWritten) rows in \(during.batchesWritten) batches during the run (\(during.rowsWritten / max(seconds, 1)) rows/s), \(during.failedWrites) failed writes, \(during.pendingStates) pending at the end
              final flush: \(after.rowsWritten - during.rowsWritten) rows in \(String(format: "%.2f", finalFlushSeconds)) s, \(after.pendingStates) left pending
            """
        )
    }

    func summary(_ summary: BenchSummary, residentBytes: Int, statistics: ShardStatistics) {
        let rate = Double(summary.operations) / Double(max(summary.seconds, 1))
        emit(
            [
                "event": "summary", "seconds": summary.seconds, "ops": summary.operations, "ops_per_second": rate,
                "p50_us": Double(summary.histogram.valueAtPercentile(50)) / 1000,
                "p99_us": Double(summary.histogram.valueAtPercentile(99)) / 1000,
                "p999_us": Double(summary.histogram.valueAtPercentile(99.9)) / 1000,
                "worst_max_us": Double(summary.worstMax) / 1000,
                "seconds_max_over_1ms": summary.secondsOver1ms,
                "seconds_max_over_1ms_machine_stalled": summary.secondsOver1msWithMachineStall,
                "seconds_max_over_10ms": summary.secondsOver10ms,
                "seconds_p99_over_100us": summary.secondsWithP99Over100us,
                "quiet_seconds": summary.quietSeconds,
                "quiet_seconds_p99_over_100us": summary.quietSecondsWithP99Over100us,
                "rss_bytes": residentBytes, "read_states": statistics.readStates, "hits": statistics.hits,
                "misses": statistics.misses, "evicted_users": statistics.evictedUsers,
            ],
            """
            summary: \(summary.operations) ops in \(summary.seconds) s = \(String(format: "%.0f", rate)) ops/s
              latency: p50 \(micros(summary.histogram.valueAtPercentile(50))) us, p99 \(micros(summary.histogram.valueAtPercentile(99))) us, p99.9 \(micros(summary.histogram.valueAtPercentile(99.9))) us, worst max \(micros(summary.worstMax)) us
              seconds with max > 1 ms: \(summary.secondsOver1ms) (of which the machine itself stalled > 1 ms: \(summary.secondsOver1msWithMachineStall)); > 10 ms: \(summary.secondsOver10ms)
              seconds with p99 > 100 us: \(summary.secondsWithP99Over100us); of the \(summary.quietSeconds) seconds with steal <= \(BenchSummary.quietStealMilliseconds) ms: \(summary.quietSecondsWithP99Over100us)
              cache: \(statistics.readStates) read states, \(statistics.users) users, \(statistics.hits) hits, \(statistics.misses) misses, \(statistics.evictedUsers) users evicted
              RSS \(mebibytes(residentBytes))
            """
        )
    }
}
