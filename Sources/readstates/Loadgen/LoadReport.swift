import LWSTransport
import Foundation
import Gateway
import Histogram
import Synchronization

/// The load generator's figures: setup times, one line per second, the summary.
/// Written on the client's service thread, read by the main thread at the end.
final class LoadReport: Sendable {
    /// One second of the run, as the service thread gathered it.
    struct Second: Sendable {
        var second = 0
        var sent = 0
        var received = 0
        var errors = 0
        var lost = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)

        mutating func record(_ nanoseconds: UInt64) {
            latency.record(nanoseconds)
        }
    }

    /// A second's line as printed and plotted (milliseconds).
    struct SecondLine: Sendable {
        var second: Int
        var sent: Int
        var received: Int
        var completed: Int
        var p50: Double
        var p99: Double
        var p999: Double
        var max: Double
        var errors: Int
    }

    private struct State: ~Copyable {
        var connect = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)
        var ready = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)
        var sessionReady = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)
        var lines: [SecondLine] = []
        var total = Histogram<UInt64>(highestTrackableValue: 600_000_000_000)
        var sent = 0
        var received = 0
        var errors = 0
        var lost = 0
        var closes: [String: Int] = [:]
        var measuredSent: Int?
        /// The server's CPU over the run (warm-up included) and the frames it handled.
        var serverCPU: (seconds: Double, framesIn: Int, framesOut: Int, events: Int)?
        /// READY payloads (inflated, when compressed): count and bytes, full and partial.
        var readyBytes = (full: (count: 0, bytes: 0), partial: (count: 0, bytes: 0))
        /// What arrived during the run, as it came off the socket (compressed or not).
        var wire: (bytes: Int, frames: Int, compressed: Bool)?
    }

    private let state = Mutex(State())
    private let output: BenchOutput
    let echo: Bool

    init(json: Bool, echo: Bool) {
        output = BenchOutput(json: json)
        self.echo = echo
    }

    func recordConnect(nanoseconds: UInt64) {
        state.withLock { _ = $0.connect.record(nanoseconds) }
    }

    func recordReady(nanoseconds: UInt64) {
        state.withLock { _ = $0.ready.record(nanoseconds) }
    }

    func recordReadyBytes(_ bytes: Int, partial: Bool) {
        state.withLock { state in
            if partial {
                state.readyBytes.partial.count += 1
                state.readyBytes.partial.bytes += bytes
            } else {
                state.readyBytes.full.count += 1
                state.readyBytes.full.bytes += bytes
            }
        }
    }

    func recordBytesReceived(_ bytes: Int, frames: Int, compressed: Bool) {
        state.withLock { $0.wire = (bytes, frames, compressed) }
    }

    /// "N full READY of B bytes on average, M partial of …"
    private static func readyBytesText(_ figures: (full: (count: Int, bytes: Int), partial: (count: Int, bytes: Int))) -> (String, [String: Any]) {
        let average = { (part: (count: Int, bytes: Int)) in part.count == 0 ? 0 : Double(part.bytes) / Double(part.count) }
        let text = String(
            format: "READY payloads: %d full (%.0f bytes on average), %d partial (%.0f bytes on average)",
            figures.full.count, average(figures.full), figures.partial.count, average(figures.partial)
        )
        return (text, [
            "ready_full": figures.full.count, "ready_full_bytes_mean": average(figures.full),
            "ready_partial": figures.partial.count, "ready_partial_bytes_mean": average(figures.partial),
        ])
    }

    /// `--reidentify`: every session connected again and identified with its version.
    func reidentifyFinished(sessions: Int, ready: Int, nanoseconds: UInt64) {
        let (bytesText, bytesObject) = state.withLock { Self.readyBytesText($0.readyBytes) }
        let seconds = Double(nanoseconds) / 1e9
        var object: [String: Any] = ["event": "reidentify", "sessions": sessions, "ready": ready, "seconds": seconds]
        object.merge(bytesObject) { first, _ in first }
        output.emit(
            object,
            "re-identify: \(ready) of \(sessions) sessions READY again in \(String(format: "%.2f", seconds)) s with their versions\n  \(bytesText) (setup and re-identify together)"
        )
    }

    func recordSessionReady(nanoseconds: UInt64) {
        state.withLock { _ = $0.sessionReady.record(nanoseconds) }
    }

    func recordClose(_ reason: ClientCloseReason) {
        let key: String =
            switch reason {
            case .peer(let code, _): "close \(code)"
            case .dropped: "dropped"
            case .local: "local"
            case .connectFailed: "connect failed"
            }
        state.withLock { $0.closes[key, default: 0] += 1 }
    }

    var lines: [SecondLine] { state.withLock { $0.lines } }

    // MARK: Printing

    func setupFinished(
        sessions: Int, ready: Int, failed: Int, nanoseconds: UInt64, cpu: (server: Double?, client: Double?)
    ) {
        let (connect, identify, whole, readyBytes) = state.withLock { state in
            (Self.percentiles(state.connect), Self.percentiles(state.ready), Self.percentiles(state.sessionReady), state.readyBytes)
        }
        let seconds = Double(nanoseconds) / 1e9
        let what = echo ? "connected" : "connected and READY"
        let (bytesText, bytesObject) = Self.readyBytesText(readyBytes)
        var object: [String: Any] = [
            "event": "setup", "sessions": sessions, "ready": ready, "failed": failed, "seconds": seconds,
            "connect_ms": connect.json, "ready_ms": identify.json, "session_ready_ms": whole.json,
        ]
        if !echo { object.merge(bytesObject) { first, _ in first } }
        object["server_cpu_seconds"] = cpu.server
        object["loadgen_cpu_seconds"] = cpu.client
        // Which side was short of CPU: against the wall time, on the cores both share.
        let cpuText = "  CPU during setup: server " + (cpu.server.map { String(format: "%.2f s", $0) } ?? "unknown (no --server-pid)")
            + ", load generator " + (cpu.client.map { String(format: "%.2f s", $0) } ?? "unknown")
            + String(format: " (%.2f s wall)", seconds)
        output.emit(
            object,
            "setup: \(ready) of \(sessions) sessions \(what) in \(String(format: "%.2f", seconds)) s (\(failed) failed)\n"
                + "  connect (TCP + WebSocket handshake): \(connect.text)\n"
                + (echo ? "" : "  IDENTIFY to READY: \(identify.text)\n  \(bytesText)\n")
                + "  connect start to ready: \(whole.text)\n"
                + cpuText
        )
    }

    func second(_ figures: Second) {
        let line = SecondLine(
            second: figures.second,
            sent: figures.sent,
            received: figures.received,
            completed: Int(figures.latency.totalCount),
            p50: Self.milliseconds(figures.latency.valueAtPercentile(50)),
            p99: Self.milliseconds(figures.latency.valueAtPercentile(99)),
            p999: Self.milliseconds(figures.latency.valueAtPercentile(99.9)),
            max: Self.milliseconds(figures.latency.max),
            errors: figures.errors + figures.lost
        )
        let warmup = figures.second <= 0
        if !warmup {
            state.withLock { state in
                state.lines.append(line)
                state.total.add(figures.latency)
                state.sent += figures.sent
                state.received += figures.received
                state.errors += figures.errors
                state.lost += figures.lost
            }
        }
        let output = output
        let f = { (value: Double) in output.pad(String(format: "%.2f", value), 8) }
        output.emit(
            [
                "event": "second", "second": line.second, "sent": line.sent, "received": line.received,
                "completed": line.completed, "p50_ms": line.p50, "p99_ms": line.p99, "p999_ms": line.p999,
                "max_ms": line.max, "errors": line.errors, "warmup": warmup,
            ],
            "\(output.pad(line.second, 4))s  sent \(output.pad(line.sent, 7))  recv \(output.pad(line.received, 8))"
                + "  p50 \(f(line.p50))  p99 \(f(line.p99))  p99.9 \(f(line.p999))  max \(f(line.max)) ms"
                + "  errors \(line.errors)" + (warmup ? "  (warm-up)" : "")
        )
    }

    /// - Parameters:
    ///   - sent: events sent after the warm-up (the lines count by second sent, so an
    ///     event due just after the warm-up may sit in its last line).
    ///   - lost: events still unanswered at the end.
    func runFinished(sent: Int, lost: Int) {
        state.withLock { state in
            state.measuredSent = sent
            state.lost += lost
        }
    }

    /// - Parameter events: the events sent over the same span (warm-up included).
    func recordServerCPU(seconds: Double, framesIn: Int, framesOut: Int, events: Int) {
        state.withLock { $0.serverCPU = (seconds, framesIn, framesOut, events) }
    }

    /// The closing summary.
    func summary(rate: Double, sessions: Int, residentBytesNote: String?) {
        let (text, object) = state.withLock { state -> (String, [String: Any]) in
            let seconds = max(1, state.lines.filter { $0.sent > 0 }.count)
            let sent = state.measuredSent ?? state.sent
            let completed = Int(state.total.totalCount)
            let total = Self.percentiles(state.total)
            let closes = state.closes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            let text = """
                summary: \(sent) events sent in \(seconds) s (\(String(format: "%.0f", Double(sent) / Double(seconds)))/s of \(String(format: "%.0f", rate)) planned), \(completed) completed, \(state.received) frames received
                  latency (due time to matching dispatch): \(total.text)
                  errors: \(state.errors), lost (no answer in 10 s): \(state.lost)\(closes.isEmpty ? "" : ", closes: \(closes)")
                """
            var object: [String: Any] = [
                "event": "summary", "sessions": sessions, "rate": rate, "sent": sent, "completed": completed,
                "received": state.received, "events_per_second": Double(sent) / Double(seconds),
                "latency_ms": total.json, "errors": state.errors, "lost": state.lost, "closes": state.closes,
            ]
            var cpuText = ""
            if let cpu = state.serverCPU, cpu.framesIn + cpu.framesOut > 0 {
                // The method of BENCHMARKS.md: utime + stime over the run, divided by
                // the frames the server received and sent.
                let perFrame = cpu.seconds * 1e6 / Double(cpu.framesIn + cpu.framesOut)
                object["server_cpu_seconds"] = cpu.seconds
                object["server_frames_in"] = cpu.framesIn
                object["server_frames_out"] = cpu.framesOut
                object["server_cpu_us_per_frame"] = perFrame
                let perEvent = cpu.events > 0 ? cpu.seconds * 1e6 / Double(cpu.events) : 0
                object["server_cpu_us_per_event"] = perEvent
                cpuText = String(
                    format: "\n  server CPU: %.2f s for %d frames in + %d out: %.1f us per frame, %.1f us per event",
                    cpu.seconds, cpu.framesIn, cpu.framesOut, perFrame, perEvent
                )
            }
            if let received = state.wire, received.frames > 0 {
                object["bytes_received"] = received.bytes
                object["bytes_received_per_frame"] = Double(received.bytes) / Double(received.frames)
                cpuText += String(
                    format: "\n  received: %d bytes in %d frames: %.1f bytes per frame%@",
                    received.bytes, received.frames, Double(received.bytes) / Double(received.frames),
                    received.compressed ? " (as they came: compressed with zlib-stream)" : ""
                )
            }
            let hint = state.closes["close 4008"] == nil
                ? "" : "\n  the server rate-limited sessions (close 4008): start it with --rate-limit 0"
            return (text + cpuText + hint, object)
        }
        output.emit(object, text + (residentBytesNote.map { "\n  \($0)" } ?? ""))
    }

    private struct Percentiles {
        var p50: Double, p99: Double, p999: Double, max: Double

        var text: String {
            String(format: "p50 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms", p50, p99, p999, max)
        }

        var json: [String: Double] { ["p50": p50, "p99": p99, "p999": p999, "max": max] }
    }

    private static func percentiles(_ histogram: Histogram<UInt64>) -> Percentiles {
        guard histogram.totalCount > 0 else { return Percentiles(p50: 0, p99: 0, p999: 0, max: 0) }
        return Percentiles(
            p50: milliseconds(histogram.valueAtPercentile(50)),
            p99: milliseconds(histogram.valueAtPercentile(99)),
            p999: milliseconds(histogram.valueAtPercentile(99.9)),
            max: milliseconds(histogram.max)
        )
    }

    private static func milliseconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e6
    }
}
