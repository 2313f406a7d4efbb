public import Snowflake

/// One gateway session's protocol state, without sockets: frames and clock readings
/// in, actions out. The transport runs it on the service thread and performs the
/// actions; tests drive it directly.
///
/// Rules (Discord's): HELLO first; only HEARTBEAT and IDENTIFY/RESUME before
/// authentication (anything else closes with 4003); a second IDENTIFY closes with
/// 4005; a bad token 4004; a malformed payload 4002; an unknown opcode 4001; more than
/// `rateLimit` payloads in `rateWindow` 4008; no heartbeat within 1.5 intervals 4009.
public struct SessionMachine: Sendable {
    public struct Configuration: Sendable {
        public var heartbeatIntervalMilliseconds = 41_250
        /// Payloads allowed per `rateWindowMilliseconds`; 0 turns the limit off.
        public var rateLimit = 120
        public var rateWindowMilliseconds: UInt64 = 60_000
        /// Unsent bytes queued for one connection past which its client counts as not
        /// reading: the connection is closed (4000) rather than buffered without bound.
        public var sendBacklogLimitBytes = 4 << 20
        /// How long a dropped session can be resumed.
        public var resumeWindowMilliseconds: UInt64 = 120_000
        /// What the resume history keeps, per session and in all (bytes of dispatches).
        public var resumeHistory = SessionRegistry.HistoryLimits()

        public init() {}
    }

    public enum Phase: Sendable, Equatable {
        case awaitingIdentify
        /// Authenticated; READY is being built.
        case identifying(user: Snowflake)
        case ready(user: Snowflake)
        case closed
    }

    public enum Action: Sendable, Equatable {
        case send([UInt8])
        case close(GatewayCloseCode)
        /// Build and send READY for this user (then call ``ready()``); partial after
        /// `readStateVersion` when the client sent one.
        case identify(user: Snowflake, readStateVersion: UInt64? = nil)
        case resume(user: Snowflake, sessionID: String, sequence: Int)
        case request(user: Snowflake, ClientPayload)
    }

    public let configuration: Configuration
    private let tokens: TokenAuthority
    public private(set) var phase = Phase.awaitingIdentify
    private var lastHeartbeat: UInt64
    /// Arrival times of the last `rateLimit` payloads, as a ring.
    private var arrivals: [UInt64] = []
    private var oldest = 0

    /// - Parameter now: milliseconds on a monotonic clock.
    public init(configuration: Configuration = .init(), tokens: TokenAuthority, now: UInt64) {
        self.configuration = configuration
        self.tokens = tokens
        lastHeartbeat = now
    }

    /// The first frame, sent on connect.
    public var hello: [UInt8] {
        ServerFrame.hello(heartbeatIntervalMilliseconds: configuration.heartbeatIntervalMilliseconds)
    }

    public var user: Snowflake? {
        switch phase {
        case .identifying(let user), .ready(let user): user
        case .awaitingIdentify, .closed: nil
        }
    }

    /// One complete text frame from the client.
    public mutating func receive(_ frame: some Collection<UInt8>, now: UInt64) -> [Action] {
        guard phase != .closed else { return [] }
        guard admit(now: now) else { return close(.rateLimited) }
        let payload: ClientPayload
        do {
            payload = try ClientPayload.decode(frame)
        } catch .unknownOpcode {
            return close(.unknownOpcode)
        } catch {
            return close(.decodeError)
        }
        switch (payload, phase) {
        case (.heartbeat, _):
            lastHeartbeat = now
            return [.send(ServerFrame.heartbeatAck())]
        case (.identify(let token, let readStateVersion), .awaitingIdentify):
            guard let user = try? tokens.verify(token) else { return close(.authenticationFailed) }
            phase = .identifying(user: user)
            return [.identify(user: user, readStateVersion: readStateVersion)]
        case (.resume(let token, let sessionID, let sequence), .awaitingIdentify):
            guard let user = try? tokens.verify(token) else { return close(.authenticationFailed) }
            phase = .identifying(user: user)
            return [.resume(user: user, sessionID: sessionID, sequence: sequence)]
        case (.identify, _), (.resume, _):
            return close(.alreadyAuthenticated)
        case (_, .awaitingIdentify):
            return close(.notAuthenticated)
        case (_, .identifying(let user)), (_, .ready(let user)):
            return [.request(user: user, payload)]
        case (_, .closed):
            return []
        }
    }

    /// READY (or RESUMED) went out: the session is live.
    public mutating func ready() {
        if case .identifying(let user) = phase { phase = .ready(user: user) }
    }

    /// RESUME named an unknown session: the client may IDENTIFY on this connection.
    public mutating func invalidated() {
        if case .identifying = phase { phase = .awaitingIdentify }
    }

    /// Called periodically: closes a session whose client stopped heartbeating.
    public mutating func tick(now: UInt64) -> [Action] {
        guard phase != .closed else { return [] }
        let allowed = UInt64(configuration.heartbeatIntervalMilliseconds) * 3 / 2
        return now > lastHeartbeat + allowed ? close(.sessionTimedOut) : []
    }

    /// The server closes the session (shutdown, slow reader, …).
    public mutating func close(_ code: GatewayCloseCode) -> [Action] {
        phase = .closed
        return [.close(code)]
    }

    /// Sliding window over the last `rateLimit` arrivals.
    private mutating func admit(now: UInt64) -> Bool {
        let limit = configuration.rateLimit
        guard limit > 0 else { return true }
        if arrivals.count < limit {
            arrivals.append(now)
            return true
        }
        guard now - arrivals[oldest] >= configuration.rateWindowMilliseconds else { return false }
        arrivals[oldest] = now
        oldest = (oldest + 1) % limit
        return true
    }
}
