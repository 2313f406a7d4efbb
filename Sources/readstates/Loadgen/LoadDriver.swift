import LWSTransport
import Gateway
import Histogram
import Snowflake

/// The load generator on the client's service thread: opens and identifies every
/// session, then sends the event mix at the planned rate and matches each event to
/// the dispatch that completes it.
///
/// Paced open loop: event k is due at `start + k / rate` whether or not earlier ones
/// were answered, and its latency counts from that due time, not from when it was
/// actually written. A stalled server (or generator) therefore shows up as latency
/// instead of as a lower send rate (no coordinated omission).
final class LoadDriver: WebSocketClientDelegate {
    private enum Phase { case connecting, running, draining, reidentifying, done }

    private struct Session {
        var connection: Int?
        var ready = false
        var connectStarted: UInt64 = 0
        var identifySent: UInt64 = 0
        var heartbeatInterval: UInt64 = 0
        var nextHeartbeat: UInt64 = .max
        var sequence = 0
        /// Newest message seen in the session's channel, and how far it has read.
        var newestSeen: UInt64 = 0
        var readUpTo: UInt64 = 0
        /// Own messages sent and not yet seen back: an ack now could be older than
        /// the server's auto-ack of them and change nothing.
        var ownInFlight = 0
        /// The highest read-state version seen (READY, then MESSAGE_ACKs).
        var readStateVersion: Int?
    }

    private struct PendingMessage {
        var due: UInt64
        /// The event's number: those below `warmupEvents` belong to the warm-up.
        var event: Int
        /// The session whose MESSAGE_CREATE completes the event (the mentioned user;
        /// the sender itself in echo mode).
        var target: Int
    }

    private struct PendingAck {
        var due: UInt64
        var event: Int
    }

    private struct AckKey: Hashable {
        var session: Int
        var message: UInt64
    }

    private let plan: LoadPlan
    private let report: LoadReport
    private var phase = Phase.connecting
    private var sessions: [Session]
    private var sessionOf: [Int: Int] = [:]
    private var nextToConnect = 0
    private var settingUp = 0
    private var readyCount = 0
    private var setupFailures = 0
    private var setupStarted: UInt64 = 0
    /// CPU seconds of the server (with `--server-pid`) and of this process when the
    /// setup began: which side a connect storm was short of.
    private var setupStartCPU: (server: Double?, client: Double?) = (nil, nil)
    private var runStart: UInt64 = 0
    private var sent = 0
    private var totalEvents: Int
    private var nextSecond = 1
    private var pendingMessages: [Int: PendingMessage] = [:]
    private var pendingAcks: [AckKey: PendingAck] = [:]
    /// Events 0 ..< warmupEvents are the warm-up's: sent and answered, not counted.
    private let warmupEvents: Int
    private var measuredSent = 0
    private var random = SystemRandomNumberGenerator()
    private var heartbeatCursor = 0
    private var secondFigures = LoadReport.Second()
    /// Every frame this generator sent and received (heartbeats and setup included).
    private var framesSent = 0
    private var framesReceived = 0
    /// The server's CPU seconds and the frame counts when the run began.
    private var runStartMark: (cpu: Double, sent: Int, received: Int)?
    private var padding: String
    /// Bytes received (compressed ones as they came) when the run began.
    private var runStartBytes = 0
    private var runStartFramesReceived = 0

    init(plan: LoadPlan, report: LoadReport) {
        self.plan = plan
        self.report = report
        sessions = [Session](repeating: Session(), count: plan.sessions)
        totalEvents = Int(plan.rate * Double(plan.warmupSeconds + plan.seconds))
        warmupEvents = Int(plan.rate * Double(plan.warmupSeconds))
        // Echo frames about the size of a gateway event (~150 bytes).
        padding = String(repeating: "x", count: 100)
    }

    // MARK: WebSocketClientDelegate

    func opened(_ connection: Int, client: ClientConnections) {
        guard let index = sessionOf[connection] else { return }
        let now = Self.now()
        report.recordConnect(nanoseconds: now - sessions[index].connectStarted)
        if plan.echo { becomeReady(index, now: now) }
    }

    func received(_ message: [UInt8], on connection: Int, client: ClientConnections) {
        guard let index = sessionOf[connection] else { return }
        let now = Self.now()
        secondFigures.received += 1
        framesReceived += 1
        let frame = FrameScanner(bytes: message)
        if plan.echo {
            if let k = frame.integer(after: #""d":"#) { complete(messageEvent: k, at: index, now: now) }
            return
        }
        switch frame.opcode {
        case 0:
            if let sequence = frame.integer(after: #""s":"#) { sessions[index].sequence = sequence }
            switch frame.eventName {
            case "MESSAGE_CREATE": messageCreated(frame, at: index, now: now)
            case "MESSAGE_ACK": messageAcked(frame, at: index, now: now)
            case "READY":
                report.recordReady(nanoseconds: now - sessions[index].identifySent)
                report.recordReadyBytes(message.count, partial: frame.contains(#""partial":true"#))
                sessions[index].readStateVersion = frame.integer(after: #""version":"#)
                becomeReady(index, now: now)
            case "REQUEST_ERROR": secondFigures.errors += 1
            default: break
            }
        case 10:
            guard case .hello(let interval)? = try? ServerMessage.decode(message) else { return }
            sessions[index].heartbeatInterval = UInt64(interval) * 1_000_000
            sessions[index].nextHeartbeat = now + UInt64.random(in: 0..<sessions[index].heartbeatInterval, using: &random)
            sessions[index].identifySent = now
            let version = phase == .reidentifying ? sessions[index].readStateVersion.map(UInt64.init) : nil
            send(ClientPayload.identify(token: plan.tokens[index], readStateVersion: version).frame, on: connection, client)
        case 11:
            break
        default:
            // RECONNECT or INVALID_SESSION: this run has no use for the session any more.
            secondFigures.errors += 1
        }
    }

    func closed(_ connection: Int, _ reason: ClientCloseReason, client: ClientConnections) {
        guard let index = sessionOf.removeValue(forKey: connection) else { return }
        sessions[index].connection = nil
        if reason != .local { report.recordClose(reason) }
        if !sessions[index].ready {
            settingUp -= 1
            setupFailures += 1
        } else {
            sessions[index].ready = false
            readyCount -= 1
            if phase == .running || phase == .draining { secondFigures.errors += 1 }
        }
    }

    func tick(client: ClientConnections) {
        let now = Self.now()
        switch phase {
        case .connecting, .reidentifying: connectMore(client, now: now)
        case .running, .draining: run(client, now: now)
        case .done: return
        }
        heartbeat(client, now: now)
    }

    // MARK: Setup

    private func connectMore(_ client: ClientConnections, now: UInt64) {
        if setupStarted == 0 {
            setupStarted = now
            setupStartCPU = (plan.serverPid.flatMap(BenchClock.cpuSeconds(of:)), BenchClock.cpuSeconds(of: nil))
        }
        while settingUp < plan.connectConcurrency, nextToConnect < plan.sessions {
            let index = nextToConnect
            nextToConnect += 1
            settingUp += 1
            sessions[index].connectStarted = Self.now()
            let connection = client.connect(toGateway: plan.endpoints?[index] ?? plan.endpoint)
            sessions[index].connection = connection
            sessionOf[connection] = index
        }
        let settled = nextToConnect == plan.sessions && settingUp == 0
        let stuck = now - setupStarted > 300_000_000_000
        guard settled || stuck else { return }
        if phase == .reidentifying {
            report.reidentifyFinished(sessions: plan.sessions, ready: readyCount, nanoseconds: now - setupStarted)
            phase = .done
            client.finish()
            return
        }
        report.setupFinished(
            sessions: plan.sessions, ready: readyCount, failed: setupFailures + settingUp,
            nanoseconds: now - setupStarted, cpu: setupCPU()
        )
        guard readyCount > 0 else {
            phase = .done
            client.finish()
            return
        }
        phase = .running
        runStart = Self.now()
        runStartBytes = client.bytesReceived
        runStartFramesReceived = framesReceived
        if let pid = plan.serverPid, let cpu = BenchClock.cpuSeconds(of: pid) {
            runStartMark = (cpu, framesSent, framesReceived)
        }
    }

    /// CPU seconds the server and this process spent since the setup began.
    private func setupCPU() -> (server: Double?, client: Double?) {
        func since(_ start: Double?, _ end: Double?) -> Double? {
            guard let start, let end else { return nil }
            return end - start
        }
        return (
            since(setupStartCPU.server, plan.serverPid.flatMap(BenchClock.cpuSeconds(of:))),
            since(setupStartCPU.client, BenchClock.cpuSeconds(of: nil))
        )
    }

    private func becomeReady(_ index: Int, now: UInt64) {
        guard !sessions[index].ready else { return }
        sessions[index].ready = true
        readyCount += 1
        settingUp -= 1
        report.recordSessionReady(nanoseconds: now - sessions[index].connectStarted)
    }

    /// Heartbeats that are due, looking at a slice of the sessions per tick so that
    /// every session is looked at about once a second (one pass over 10,000 sessions
    /// at once held the thread for 2 ms).
    private func heartbeat(_ client: ClientConnections, now: UInt64) {
        guard !plan.echo, !sessions.isEmpty else { return }
        let slice = max(1, sessions.count / Int(1_000_000_000 / Self.tickNanoseconds))
        for _ in 0..<slice {
            let index = heartbeatCursor
            heartbeatCursor = (heartbeatCursor + 1) % sessions.count
            guard sessions[index].nextHeartbeat <= now, let connection = sessions[index].connection else { continue }
            sessions[index].nextHeartbeat = now + sessions[index].heartbeatInterval
            send(ClientPayload.heartbeat(lastSequence: sessions[index].sequence).frame, on: connection, client)
        }
    }

    /// Every frame goes out here, so the run can count them.
    private func send(_ frame: [UInt8], on connection: Int, _ client: ClientConnections) {
        framesSent += 1
        client.send(frame, on: connection)
    }

    // MARK: The run

    private func run(_ client: ClientConnections, now: UInt64) {
        let elapsed = now - runStart
        if phase == .running {
            // Event k is due at k / rate: events 0 through elapsed * rate are due now.
            let due = min(totalEvents, Int(Double(elapsed) * plan.rate / 1e9) + 1)
            while sent < due {
                // Events go out in batches, one per tick: each is due at its batch's
                // scheduled time (its ideal time rounded up to the tick), so the tick's
                // granularity does not count as latency but a late tick does.
                // (Never later than now: a tick that fires a little early must not
                // make an event due after it went out.)
                let ideal = UInt64(Double(sent) * 1e9 / plan.rate)
                let dueAt = min(now, runStart + (ideal + Self.tickNanoseconds - 1) / Self.tickNanoseconds * Self.tickNanoseconds)
                send(event: sent, dueAt: dueAt, client)
                sent += 1
            }
            if sent == totalEvents { phase = .draining }
        }
        while elapsed >= UInt64(nextSecond) * 1_000_000_000 {
            finishSecond(now: now)
        }
        if phase == .draining {
            let drained = pendingMessages.isEmpty && pendingAcks.isEmpty
            let overdue = elapsed > UInt64(plan.warmupSeconds + plan.seconds + 10) * 1_000_000_000
            if drained || overdue || readyCount == 0 {
                finishSecond(now: now)
                phase = .done
                let unanswered = pendingMessages.values.filter { $0.event >= warmupEvents }.count
                    + pendingAcks.values.filter { $0.event >= warmupEvents }.count
                report.runFinished(sent: measuredSent, lost: unanswered)
                if let mark = runStartMark, let pid = plan.serverPid, let cpu = BenchClock.cpuSeconds(of: pid) {
                    report.recordServerCPU(
                        seconds: cpu - mark.cpu, framesIn: framesSent - mark.sent, framesOut: framesReceived - mark.received, events: sent
                    )
                }
                report.recordBytesReceived(
                    client.bytesReceived - runStartBytes, frames: framesReceived - runStartFramesReceived,
                    compressed: plan.endpoint.compression == .zlibStream
                )
                if plan.reidentify {
                    reconnectAll(client)
                } else {
                    client.finish()
                }
            }
        }
    }

    private func send(event k: Int, dueAt: UInt64, _ client: ClientConnections) {
        guard readyCount > 0 else { return }
        // A random ready session (a few tries: sessions closed mid-run are skipped).
        var index = Int.random(in: 0..<plan.sessions, using: &random)
        var tries = 0
        while !sessions[index].ready, tries < 16 {
            index = Int.random(in: 0..<plan.sessions, using: &random)
            tries += 1
        }
        guard sessions[index].ready, let connection = sessions[index].connection else {
            secondFigures.errors += 1
            return
        }
        secondFigures.sent += 1
        if k >= warmupEvents { measuredSent += 1 }
        if plan.echo {
            pendingMessages[k] = PendingMessage(due: dueAt, event: k, target: index)
            send(Array(#"{"op":1,"d":\#(k),"pad":"\#(padding)"}"#.utf8), on: connection, client)
            return
        }
        let session = sessions[index]
        let channel = plan.channelOf[index]
        if Double.random(in: 0..<1, using: &random) < plan.ackShare, session.ownInFlight == 0, session.newestSeen > session.readUpTo {
            sessions[index].readUpTo = session.newestSeen
            pendingAcks[AckKey(session: index, message: session.newestSeen)] = PendingAck(due: dueAt, event: k)
            let ack = ClientPayload.ack(
                channelID: plan.channels[channel], messageID: Snowflake(rawValue: session.newestSeen), manual: false, mentionCount: 0
            )
            send(ack.frame, on: connection, client)
            return
        }
        let members = plan.members[channel]
        var target = members[Int.random(in: 0..<members.count, using: &random)]
        if members.count > 1 {
            while target == index { target = members[Int.random(in: 0..<members.count, using: &random)] }
        }
        pendingMessages[k] = PendingMessage(due: dueAt, event: k, target: target)
        sessions[index].ownInFlight += 1
        let message = ClientPayload.sendMessage(
            channelID: plan.channels[channel], content: "load \(k) <@\(plan.users[target])>", nonce: "n\(k)"
        )
        send(message.frame, on: connection, client)
    }

    private func messageCreated(_ frame: FrameScanner, at index: Int, now: UInt64) {
        guard let id = frame.snowflake(after: #""id":""#) else { return }
        sessions[index].newestSeen = max(sessions[index].newestSeen, id)
        if let author = frame.snowflake(after: #""author":{"id":""#), author == plan.users[index].rawValue {
            sessions[index].ownInFlight -= 1
            sessions[index].readUpTo = max(sessions[index].readUpTo, id)
        }
        if let k = frame.integer(after: #""nonce":""#) { complete(messageEvent: k, at: index, now: now) }
    }

    /// `--reidentify`: every session closes and connects again; IDENTIFY then carries
    /// the version it has seen (see the HELLO case of ``received(_:on:client:)``).
    private func reconnectAll(_ client: ClientConnections) {
        phase = .reidentifying
        // Forgotten first: their close callbacks must not touch the new connections.
        let old = sessionOf.keys
        sessionOf.removeAll()
        for connection in old { client.close(connection) }
        for index in sessions.indices {
            sessions[index].connection = nil
            sessions[index].ready = false
            sessions[index].nextHeartbeat = .max
        }
        readyCount = 0
        settingUp = 0
        setupFailures = 0
        nextToConnect = 0
        setupStarted = 0
    }

    private func messageAcked(_ frame: FrameScanner, at index: Int, now: UInt64) {
        if let version = frame.integer(after: #""version":"#), let known = sessions[index].readStateVersion,
            version >> 32 == known >> 32, version > known
        {
            sessions[index].readStateVersion = version
        }
        guard let message = frame.snowflake(after: #""message_id":""#),
            let pending = pendingAcks.removeValue(forKey: AckKey(session: index, message: message))
        else { return }
        record(now: now, due: pending.due, event: pending.event)
    }

    private func complete(messageEvent k: Int, at index: Int, now: UInt64) {
        guard let pending = pendingMessages[k], pending.target == index else { return }
        pendingMessages[k] = nil
        record(now: now, due: pending.due, event: k)
    }

    /// One completed event: counted unless it belongs to the warm-up.
    private func record(now: UInt64, due: UInt64, event: Int) {
        guard event >= warmupEvents else { return }
        secondFigures.record(now > due ? now - due : 0)
    }

    private func finishSecond(now: UInt64) {
        // Events unanswered for 10 s count as lost, in the second they are given up.
        let cutoff = now > 10_000_000_000 ? now - 10_000_000_000 : 0
        let lostMessages = pendingMessages.filter { $0.value.due < cutoff }
        let lostAcks = pendingAcks.filter { $0.value.due < cutoff }
        for key in lostMessages.keys { pendingMessages[key] = nil }
        for key in lostAcks.keys { pendingAcks[key] = nil }
        secondFigures.lost = lostMessages.values.filter { $0.event >= warmupEvents }.count
            + lostAcks.values.filter { $0.event >= warmupEvents }.count
        // Warm-up seconds are numbered from -warmup + 1 to 0.
        secondFigures.second = nextSecond - plan.warmupSeconds
        let idle = secondFigures.sent == 0 && secondFigures.received == 0 && secondFigures.errors == 0 && secondFigures.lost == 0
        if !idle { report.second(secondFigures) }
        secondFigures = LoadReport.Second()
        nextSecond += 1
    }

    /// How often the client calls ``tick(client:)``.
    static let tickNanoseconds: UInt64 = 1_000_000

    static func now() -> UInt64 {
        BenchClock.nanoseconds()
    }
}
