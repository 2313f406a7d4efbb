import LWSTransport
import Foundation
import Gateway
import Synchronization
import TestSupport
import Testing

/// SIGTERM at every moment of `serve`'s start-up, as an operator's supervisor sends it:
/// every run must end in an orderly exit (status 0), and the next `serve` on the same
/// data directory must hold every read state acknowledged before the signal.
@Suite(.timeLimit(.minutes(10))) struct ServeSignalTests {
    static let channel = "175928847299117063"
    static let user = "80351110224678912"
    /// Above every message ID the demo data could hold.
    static let firstMessage: UInt64 = 175_928_847_299_200_000

    /// When the signal goes, counted from the process's launch.
    enum Moment: String, CaseIterable {
        /// As soon as /proc/PID/status shows SIGTERM caught, ignored or blocked.
        case signalHandled
        /// At a random offset (up to the time start-up takes) after that.
        case randomOffset
        /// The instant the port accepts a connection.
        case portAccepts
        /// The instant the "serving" line is in the log.
        case servingLogged
        /// Once a random number (1 to 20) of acks got their 200 in this run.
        case afterAcks
    }

    @Test func sigtermAtAnyMomentOfStartUpExitsZeroAndKeepsEveryAcknowledgedState() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-signal-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = try await CommandRun.readstates("token", "--user", Self.user, "--data-dir", directory.path)
        try #require(token.status == 0, "\(token.standardError)")
        let acker = Acker(token: token.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines))
        let arguments = ["--data-dir", directory.path, "--demo", "--flush-delay", "30s"]

        // A run to the "serving" line without a signal: how long start-up takes here.
        let launched = ContinuousClock.now
        let first = try await ServeProcess.start(arguments)
        let startUp = ContinuousClock.now - launched
        #expect(try await first.stop() == 0)

        var failures: [String] = []
        for run in 0..<40 {
            let moment = Moment.allCases[run % Moment.allCases.count]
            let port = try #require(LoopbackPort.free())
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("readstates-signal-\(UUID()).log")
            defer { try? FileManager.default.removeItem(at: log) }
            let process = try Subprocess.spawn(
                CommandRun.executable.path, ["serve", "--port", String(port)] + arguments, stderr: log
            )
            let acking = acker.start(port: port)
            var offset = Duration.zero
            switch moment {
            case .signalHandled:
                try await eventually("SIGTERM handled by pid \(process.pid)", every: .milliseconds(1)) {
                    Self.handles(SIGTERM, pid: process.pid)
                }
            case .randomOffset:
                try await eventually("SIGTERM handled by pid \(process.pid)", every: .milliseconds(1)) {
                    Self.handles(SIGTERM, pid: process.pid)
                }
                offset = .microseconds(Int64.random(in: 0...max(1, Int64(startUp / .microseconds(1)))))
                try await Task.sleep(for: offset)
            case .portAccepts:
                try await eventually("port \(port) to accept", every: .milliseconds(1)) {
                    guard let fd = LoopbackSocket.connect(port: port) else { return false }
                    close(fd)
                    return true
                }
            case .servingLogged:
                try await eventually("the serving line", every: .milliseconds(1)) {
                    ((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("serving")
                }
            case .afterAcks:
                let count = Int.random(in: 1...20)
                try await eventually("\(count) acks acknowledged", every: .milliseconds(1)) {
                    acking.acknowledged.load(ordering: .acquiring) >= count
                }
            }
            process.send(SIGTERM)
            let status = try await process.exit(within: 60)
            let checked = try await acking.finish()
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if status != 0 {
                failures.append("run \(run) (\(moment.rawValue), offset \(offset)): exit \(status): \(text)")
            } else if !text.contains("stopped") {
                failures.append("run \(run) (\(moment.rawValue)): no \"stopped\" line: \(text)")
            }
            if let mismatch = checked {
                failures.append("run \(run) (\(moment.rawValue)) found on start: \(mismatch)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")

        // Every acknowledged state is there after the last signal too.
        let last = try await ServeProcess.start(arguments)
        let held = try await Acker.stored(port: last.port, token: acker.token)
        #expect(try await last.stop() == 0)
        let range = acker.acknowledged
        #expect(range.acknowledged > Self.firstMessage, "some acks must have been acknowledged across the runs")
        #expect(held.map { Acker.isPossible($0, range: range) } == true, "stored \(String(describing: held)), acked \(range)")
    }

    /// Whether /proc shows `signal` caught, ignored or blocked by `pid`.
    static func handles(_ signal: Int32, pid: pid_t) -> Bool {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let bit = UInt64(1) << UInt64(signal - 1)
        for line in status.split(separator: "\n") where line.hasPrefix("SigCgt:") || line.hasPrefix("SigIgn:") || line.hasPrefix("SigBlk:") {
            if let mask = UInt64(line.split(separator: "\t").last ?? "", radix: 16), mask & bit != 0 { return true }
        }
        return false
    }
}

/// Acks the demo channel over HTTP, as fast as it can, while a run starts and stops,
/// each ack with a newer message ID; before its first ack of a run it reads back what
/// the server holds, which must be at least every ack acknowledged (HTTP 200) so far.
final class Acker: Sendable {
    struct Acknowledged: CustomStringConvertible {
        /// The newest message ID acknowledged with a 200.
        var acknowledged: UInt64
        /// The newest message ID ever sent (a request the server applied may have lost
        /// its answer to the signal).
        var sent: UInt64
        var description: String { "acknowledged up to \(acknowledged), sent up to \(sent)" }
    }

    let token: String
    private let state = Mutex(Acknowledged(acknowledged: ServeSignalTests.firstMessage, sent: ServeSignalTests.firstMessage))

    init(token: String) {
        self.token = token
    }

    var acknowledged: Acknowledged { state.withLock { $0 } }

    /// A stored state is possible when it is at or past the newest acknowledged ack, was
    /// sent, and carries the mention count that ack set.
    static func isPossible(_ stored: (message: UInt64, mentions: Int), range: Acknowledged) -> Bool {
        return stored.message >= range.acknowledged && stored.message <= range.sent && stored.mentions == mentions(for: stored.message)
    }

    static func mentions(for message: UInt64) -> Int { Int(message % 5) }

    /// What the server holds for the demo channel: nil when nothing yet.
    static func stored(port: Int32, token: String) async throws -> (message: UInt64, mentions: Int)? {
        let response = try await RawHTTP.request(port: port, "GET", "/api/users/@me/read-states", headers: ["Authorization": token])
        guard response.status == 200 else { throw TestServerError("read-states: \(response.status) \(response.body)") }
        return parse(response.body)
    }

    private static func parse(_ body: String) -> (message: UInt64, mentions: Int)? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        let entries = object?["entries"] as? [[String: Any]] ?? []
        guard let entry = entries.first(where: { $0["id"] as? String == ServeSignalTests.channel }),
            let message = UInt64(entry["last_message_id"] as? String ?? ""), let mentions = entry["mention_count"] as? Int
        else { return nil }
        return (message, mentions)
    }

    /// One run's acking, on a thread of its own (it blocks on sockets).
    final class Run: Sendable {
        let stopping = Atomic<Bool>(false)
        /// What the first read of the run found wrong, if anything.
        let mismatch = Mutex<String?>(nil)
        let finished = Atomic<Bool>(false)
        /// Acks of this run answered 200.
        let acknowledged = Atomic<Int>(0)

        /// Stops acking and returns what the run's first read found wrong, if anything.
        func finish() async throws -> String? {
            stopping.store(true, ordering: .releasing)
            try await eventually("the acking thread to end", within: 30) { finished.load(ordering: .acquiring) }
            return mismatch.withLock { $0 }
        }
    }

    func start(port: Int32) -> Run {
        let run = Run()
        let thread = Thread { [self] in
            defer { run.finished.store(true, ordering: .releasing) }
            var checked = false
            while !run.stopping.load(ordering: .acquiring) {
                if !checked {
                    // Read back first: what earlier runs acknowledged must be there.
                    guard let response = try? BlockingHTTP.request(
                        port: port, "GET", "/api/users/@me/read-states", headers: ["Authorization": token], timeoutSeconds: 10
                    ), response.status == 200 else {
                        usleep(500)
                        continue
                    }
                    let range = acknowledged
                    if let stored = Self.parse(response.body) {
                        if !Self.isPossible(stored, range: range) {
                            run.mismatch.withLock { $0 = "stored \(stored), \(range)" }
                        }
                    } else if range.acknowledged != ServeSignalTests.firstMessage {
                        run.mismatch.withLock { $0 = "nothing stored, \(range)" }
                    }
                    checked = true
                }
                let message = state.withLock { state -> UInt64 in
                    state.sent += 1
                    return state.sent
                }
                let body = #"{"manual": true, "mention_count": \#(Self.mentions(for: message))}"#
                guard let response = try? BlockingHTTP.request(
                    port: port, "POST", "/api/channels/\(ServeSignalTests.channel)/messages/\(message)/ack",
                    headers: ["Authorization": token], body: body, timeoutSeconds: 10
                ) else { break }
                if response.status == 200 {
                    state.withLock { $0.acknowledged = max($0.acknowledged, message) }
                    run.acknowledged.add(1, ordering: .releasing)
                } else if response.status != 503 {
                    run.mismatch.withLock { $0 = $0 ?? "ack answered \(response.status): \(response.body)" }
                }
            }
        }
        thread.start()
        return run
    }
}
