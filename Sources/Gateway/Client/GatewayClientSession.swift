public import LWSTransport

/// The client's side of a gateway session, without sockets: what to send after
/// HELLO, when to heartbeat, and what to do when the connection ends. The chat
/// client runs one per connection attempt chain; tests drive it directly.
///
/// Rules (Discord's client guidance): IDENTIFY after HELLO, or RESUME when a session
/// and a sequence are known; heartbeat every interval (the first after a random
/// fraction of it); a heartbeat not acknowledged before the next one is due means the
/// connection is a zombie, so reconnect and resume; op 7 RECONNECT: reconnect and
/// resume; op 9 INVALID_SESSION: IDENTIFY again. Close codes the client caused
/// (4001-4005) or cannot recover from end the session with a message; the others
/// reconnect.
public struct GatewayClientSession: Sendable {
    public enum Phase: Sendable, Equatable {
        /// A connection is being opened (``connecting()``).
        case connecting
        /// Connected, waiting for HELLO.
        case awaitingHello
        case identifying
        case resuming
        case ready
        /// Disconnected; ``Action/reconnect(afterMilliseconds:url:)`` said when to try again.
        case disconnected
        /// Given up: ``Action/fail(_:)`` said why.
        case failed
    }

    public enum Action: Sendable {
        case send([UInt8])
        /// A dispatch for the application.
        case event(ServerMessage.DispatchEvent)
        /// Something a person watching should know (reconnecting, resumed, ...).
        case notice(String)
        /// Close the current connection (if still open) and connect to `url` after the
        /// delay; the next HELLO resumes when it can.
        case reconnect(afterMilliseconds: UInt64, url: String)
        /// The session cannot go on (bad token, a client bug, ...).
        case fail(String)
    }

    public let token: String
    public private(set) var phase = Phase.awaitingHello
    public private(set) var sessionID: String?
    /// The last dispatch's `s`: what RESUME asks to continue after.
    public private(set) var sequence: Int?
    /// The highest read-state version seen (READY's `read_state.version`, then
    /// MESSAGE_ACKs of the same generation), sent in IDENTIFY when
    /// ``keepsReadStates`` so that READY brings only what changed.
    public private(set) var readStateVersion: UInt64?
    /// The application keeps the read states it has across connections and applies a
    /// partial READY on top of them (VERSIONED_READ_STATES).
    public let keepsReadStates: Bool
    private let url: String
    private var resumeURL: String?
    private var heartbeatInterval: UInt64 = 0
    private var nextHeartbeatAt: UInt64 = 0
    private var awaitingHeartbeatAck = false
    private var firstHeartbeatFraction: Double
    /// Reconnects since the last READY or RESUMED, for back-off.
    private var attempts = 0
    private var everReady = false

    /// - Parameters:
    ///   - url: the gateway URL first connected to (reconnects use READY's
    ///     `resume_gateway_url` once known).
    ///   - firstHeartbeatFraction: how far into the first interval the first heartbeat
    ///     goes (random by default, so thousands of clients do not beat in step).
    public init(token: String, url: String, keepsReadStates: Bool = false, firstHeartbeatFraction: Double = .random(in: 0..<1)) {
        self.token = token
        self.keepsReadStates = keepsReadStates
        self.url = url
        self.firstHeartbeatFraction = firstHeartbeatFraction
    }

    /// The transport starts opening a connection (the first, or after
    /// ``Action/reconnect(afterMilliseconds:url:)``): its failure is this session's to
    /// handle.
    public mutating func connecting() {
        phase = .connecting
    }

    /// A (new) connection is open: wait for HELLO.
    public mutating func connected() {
        phase = .awaitingHello
        awaitingHeartbeatAck = false
    }

    public mutating func received(_ message: ServerMessage, now: UInt64) -> [Action] {
        switch message {
        case .hello(let interval):
            heartbeatInterval = UInt64(max(interval, 1))
            nextHeartbeatAt = now + UInt64(Double(heartbeatInterval) * firstHeartbeatFraction)
            if let sessionID, let sequence {
                phase = .resuming
                return [.send(ClientPayload.resume(token: token, sessionID: sessionID, sequence: sequence).frame)]
            }
            phase = .identifying
            return [.send(identify.frame)]
        case .heartbeatAck:
            awaitingHeartbeatAck = false
            return []
        case .reconnect:
            return disconnect(resume: true, notice: "the server asked to reconnect; resuming", immediately: true)
        case .invalidSession(let resumable):
            if resumable, let sessionID, let sequence {
                phase = .resuming
                return [.send(ClientPayload.resume(token: token, sessionID: sessionID, sequence: sequence).frame)]
            }
            sessionID = nil
            sequence = nil
            phase = .identifying
            return [
                .notice("the session could not be resumed; identifying again"),
                .send(identify.frame),
            ]
        case .dispatch(let sequence, let event):
            self.sequence = sequence
            var actions: [Action] = []
            switch event {
            case .ready(let ready):
                sessionID = ready.sessionId
                resumeURL = ready.resumeGatewayUrl
                phase = .ready
                attempts = 0
                everReady = true
                readStateVersion = ready.readState.version
            case .messageAck(let ack):
                // Versions of another generation (a restarted server that lost state)
                // are not comparable; READY will set the new one.
                if let known = readStateVersion, known >> 32 == ack.version >> 32, ack.version > known {
                    readStateVersion = ack.version
                }
            case .resumed:
                phase = .ready
                attempts = 0
                actions.append(.notice("resumed"))
            default:
                break
            }
            actions.append(.event(event))
            return actions
        }
    }

    /// READY's `resume_gateway_url` carries no query: the first URL's options
    /// (`?compress=zlib-stream`, …) go on it, as Discord's clients do.
    private func withOurQuery(_ resumeURL: String) -> String {
        guard !resumeURL.contains("?"), let start = url.firstIndex(of: "?") else { return resumeURL }
        return resumeURL + url[start...]
    }

    /// IDENTIFY, with the read-state version when the application keeps its states.
    private var identify: ClientPayload {
        .identify(token: token, readStateVersion: keepsReadStates ? readStateVersion : nil)
    }

    /// Heartbeats and zombie detection; call it at least a few times a second.
    public mutating func tick(now: UInt64) -> [Action] {
        guard heartbeatInterval > 0, [.identifying, .resuming, .ready].contains(phase), now >= nextHeartbeatAt else {
            return []
        }
        if awaitingHeartbeatAck {
            return disconnect(resume: true, notice: "no heartbeat ACK from the server; reconnecting", immediately: true)
        }
        awaitingHeartbeatAck = true
        nextHeartbeatAt = now + heartbeatInterval
        return [.send(ClientPayload.heartbeat(lastSequence: sequence).frame)]
    }

    /// The connection ended: reconnect, or give up with a message. A close after the
    /// session gave that connection up (it asked to reconnect, or failed) changes nothing.
    public mutating func closed(_ reason: ClientCloseReason) -> [Action] {
        guard phase != .failed, phase != .disconnected else { return [] }
        switch reason {
        case .local:
            phase = .disconnected
            return []
        case .dropped:
            return disconnect(resume: true, notice: "the connection dropped; reconnecting", immediately: false)
        case .connectFailed(let why):
            guard everReady else { return fail("could not connect to \(url): \(why)") }
            return disconnect(resume: true, notice: "could not connect (\(why)); retrying", immediately: false)
        case .peer(let code, let text):
            let description = Self.describe(closeCode: code, reason: text)
            switch code {
            case 4001, 4002, 4003, 4004, 4005:
                return fail(description)
            case 4007, 4009:
                return disconnect(resume: false, notice: "\(description); identifying again", immediately: true)
            case 4008:
                return disconnect(resume: false, notice: "\(description); reconnecting in a moment", immediately: false)
            default:
                return disconnect(resume: true, notice: "\(description); reconnecting", immediately: code == 1001)
            }
        }
    }

    /// What a close code means, for a person.
    public static func describe(closeCode code: UInt16, reason: String) -> String {
        let meaning: String =
            switch code {
            case 1000: "closed normally"
            case 1001: "the server is going away"
            case 4000: "the server closed the session (unknown error, or this client was not reading)"
            case 4001: "the server did not know an opcode this client sent"
            case 4002: "the server could not decode a payload this client sent"
            case 4003: "a payload was sent before IDENTIFY"
            case 4004: "authentication failed: the token was refused (make a new one with `readstates token`)"
            case 4005: "this client identified twice"
            case 4007: "the session's sequence was invalid"
            case 4008: "rate limited: too many payloads in a minute"
            case 4009: "the session timed out (no heartbeat in time)"
            default: "the connection closed"
            }
        return "\(meaning) [close \(code)\(reason.isEmpty ? "" : ": \(reason)")]"
    }

    private mutating func fail(_ message: String) -> [Action] {
        phase = .failed
        return [.fail(message)]
    }

    private mutating func disconnect(resume: Bool, notice: String, immediately: Bool) -> [Action] {
        if !resume {
            sessionID = nil
            sequence = nil
        }
        phase = .disconnected
        awaitingHeartbeatAck = false
        let delay: UInt64 = immediately && attempts == 0 ? 0 : min(250 << UInt64(min(attempts, 6)), 10_000)
        attempts += 1
        return [.notice(notice), .reconnect(afterMilliseconds: delay, url: resumeURL.map(withOurQuery) ?? url)]
    }
}
