import Foundation
@testable import Gateway
import ReadStatesModule
import Snowflake
import Testing

/// The gateway's core without sockets: events in (connections, frames, a clock
/// reading), actions out. The clock is the `now` each call is given.
@Suite struct GatewayCoreTests {
    let tokens = TokenAuthority(secret: Data(repeating: 12, count: 32))
    let engine = ReadStates(configuration: .init(capacity: 1000, shards: 2), persistence: InMemoryReadStatesPersistence())
    let general = id(10)
    let solo = id(11)

    /// The store's generation the cores here serve with.
    let versions = ReadStateVersions(generation: 77)

    func makeCore(
        channels extra: [ChatChannel] = [],
        _ configure: (inout SessionMachine.Configuration) -> Void = { _ in }
    ) -> GatewayCore {
        var configuration = SessionMachine.Configuration()
        configure(&configuration)
        var core = GatewayCore(
            engine: engine,
            directory: ChannelDirectory(
                [
                    ChatChannel(id: general, name: "general", members: [id(1), id(2)]),
                    ChatChannel(id: solo, name: "solo", members: [id(1)]),
                ] + extra
            ),
            tokens: tokens,
            messageIDs: SnowflakeGenerator(worker: 1, process: 1),
            metrics: GatewayMetrics(),
            configuration: configuration,
            versions: versions
        )
        var next = 0
        core.newSessionID = {
            next += 1
            return "session-\(next)"
        }
        return core
    }

    /// The payloads sent to each connection, decoded.
    func sent(_ actions: [GatewayCore.Action]) -> [Int: [[String: Any]]] {
        var byConnection: [Int: [[String: Any]]] = [:]
        for action in actions {
            let connection: Int, frame: [UInt8]
            switch action {
            case .send(let id, let bytes): (connection, frame) = (id, bytes)
            case .dispatch(let id, let dispatch): (connection, frame) = (id, dispatch.bytes)
            default: continue
            }
            byConnection[connection, default: []].append((try? JSONSerialization.jsonObject(with: Data(frame))) as? [String: Any] ?? [:])
        }
        return byConnection
    }

    func events(_ actions: [GatewayCore.Action], to connection: Int) -> [String] {
        (sent(actions)[connection] ?? []).map { $0["t"] as? String ?? "op \($0["op"] ?? "?")" }
    }

    func closes(_ actions: [GatewayCore.Action]) -> [Int: GatewayCloseCode] {
        var closes: [Int: GatewayCloseCode] = [:]
        for action in actions {
            switch action {
            case .close(let connection, let code), .closeTakenOver(let connection, let code): closes[connection] = code
            default: break
            }
        }
        return closes
    }

    func frame(_ json: String) -> [UInt8] { Array(json.utf8) }

    /// Connects and identifies `user` on connection `id`: READY.
    @discardableResult
    func ready(_ core: inout GatewayCore, _ connection: Int, user: UInt64, now: UInt64 = 0) -> [GatewayCore.Action] {
        _ = core.connected(connection, now: now)
        let identify = frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(user)))"}}"#)
        var actions = core.received(connection, frame: identify, now: now)
        if actions.contains(.loadForReady(connection: connection, user: id(user))) {
            // What the transport does: load the user into the cache, then hand READY's states over.
            try? engine.insertLoaded(user: id(user), states: [])
            actions = core.readyLoaded(connection, user: id(user), states: engine.readStatesIfCached(of: id(user)) ?? [])
        }
        return actions
    }

    /// READY's `read_state` on `connection` after IDENTIFY with `identifyBody` (`d`).
    func readState(_ core: inout GatewayCore, _ connection: Int, identifyBody: String) throws -> (version: UInt64, partial: Bool, channels: Set<UInt64>) {
        _ = core.connected(connection, now: 0)
        let actions = core.received(connection, frame: frame(#"{"op":2,"d":\#(identifyBody)}"#), now: 0)
        let ready = try #require(sent(actions)[connection]?.first { $0["t"] as? String == "READY" })
        let list = try #require((ready["d"] as? [String: Any])?["read_state"] as? [String: Any])
        let entries = try #require(list["entries"] as? [[String: Any]])
        return (
            try #require((list["version"] as? NSNumber)?.uint64Value),
            try #require(list["partial"] as? Bool),
            Set(entries.compactMap { ($0["id"] as? String).flatMap(UInt64.init) })
        )
    }

    @Test func aVersionedIdentifyGetsExactlyTheStatesChangedSinceItsVersion() throws {
        let channels = (20...25).map { ChatChannel(id: id(UInt64($0)), name: "c\($0)", members: [id(1), id(2)]) }
        var core = makeCore(channels: channels)
        let token = tokens.mint(user: id(1))
        // Every channel has a state, so that a full READY lists all of them.
        try engine.insertLoaded(user: id(1), states: channels.enumerated().map { index, channel in
            ReadState(channelID: channel.id, lastMessageID: id(5), mentionCount: 0, version: UInt32(index + 1))
        })
        ready(&core, 2, user: 2)
        let first = try readState(&core, 1, identifyBody: #"{"token":"\#(token)"}"#)
        #expect(!first.partial && first.channels.count == 6)
        #expect(first.version == UInt64(77) << 32 | 6, "the generation in the high bits, the user's highest version in the low")

        // Two acks and a mention, from this session and from another user.
        for channel in [20, 22] {
            _ = core.received(1, frame: frame(#"{"op":101,"d":{"channel_id":"\#(id(UInt64(channel)).rawValue)","message_id":"\#(id(60).rawValue)"}}"#), now: 1)
        }
        _ = core.sendMessage("hi <@\(id(1).rawValue)>", nonce: nil, to: id(23), from: id(2), connection: 2)

        let versioned = #"{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(first.version)}}"#
        let partial = try readState(&core, 3, identifyBody: versioned)
        #expect(partial.partial)
        #expect(partial.channels == [id(20).rawValue, id(22).rawValue, id(23).rawValue])
        #expect(partial.version == first.version + 3)

        // Up to date: nothing to send.
        let upToDate = try readState(&core, 4, identifyBody: #"{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(partial.version)}}"#)
        #expect(upToDate.partial && upToDate.channels.isEmpty)
        // Ahead of the server (it lost state), another generation (a restart that lost
        // changes, another deployment), no capability, or -1: the full set.
        for (index, body) in [
            #"{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(partial.version + 1)}}"#,
            #"{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(UInt64(78) << 32 | 2)}}"#,
            #"{"token":"\#(token)","capabilities":3,"client_state":{"read_state_version":\#(first.version)}}"#,
            #"{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":-1}}"#,
        ].enumerated() {
            let full = try readState(&core, 10 + index, identifyBody: body)
            #expect(!full.partial && full.channels.count == 6, "\(body)")
        }
        // A version no JavaScript client could hold is a malformed payload.
        _ = core.connected(99, now: 0)
        let tooLarge = core.received(99, frame: frame(#"{"op":2,"d":{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":9007199254740992}}}"#), now: 0)
        #expect(closes(tooLarge)[99] == .decodeError)
    }

    @Test func aPartialREADYIsRightAfterTheUserWasEvictedAndReloaded() async throws {
        // One shard with room for 4 states: a second user with 4 states evicts the first.
        let persistence = InMemoryReadStatesPersistence()
        let small = ReadStates(configuration: .init(capacity: 4, maximumUsers: 10, shards: 1), persistence: persistence)
        let channels = (20...23).map { ChatChannel(id: id(UInt64($0)), name: "c\($0)", members: [id(1)]) }
        var core = GatewayCore(
            engine: small, directory: ChannelDirectory(channels), tokens: tokens,
            messageIDs: SnowflakeGenerator(worker: 1, process: 1), metrics: GatewayMetrics(),
            configuration: .init(), versions: versions
        )
        for channel in channels { _ = try await small.ack(user: id(1), channel: channel.id, messageID: id(5)) }
        let token = tokens.mint(user: id(1))
        let seen = try readState(&core, 1, identifyBody: #"{"token":"\#(token)"}"#).version
        for channel in [21, 23] {
            _ = core.received(1, frame: frame(#"{"op":101,"d":{"channel_id":"\#(id(UInt64(channel)).rawValue)","message_id":"\#(id(9).rawValue)"}}"#), now: 1)
        }
        for channel in 30...33 { _ = try await small.ack(user: id(2), channel: id(UInt64(channel)), messageID: id(5)) }
        #expect(small.readStatesIfCached(of: id(1)) == nil, "user 1 was evicted (its dirty states went to the store)")

        // IDENTIFY with the version: the transport loads the user, then READY.
        _ = core.connected(2, now: 0)
        let identify = core.received(
            2, frame: frame(#"{"op":2,"d":{"token":"\#(token)","capabilities":4,"client_state":{"read_state_version":\#(seen)}}}"#), now: 2
        )
        #expect(identify == [.loadForReady(connection: 2, user: id(1))])
        let loaded = try await small.readStates(of: id(1))
        let ready = try #require(sent(core.readyLoaded(2, user: id(1), states: loaded))[2]?.first)
        let list = try #require((ready["d"] as? [String: Any])?["read_state"] as? [String: Any])
        #expect(list["partial"] as? Bool == true)
        let entries = try #require(list["entries"] as? [[String: Any]])
        #expect(Set(entries.compactMap { $0["id"] as? String }) == [String(id(21).rawValue), String(id(23).rawValue)])
        #expect((list["version"] as? NSNumber)?.uint64Value == seen + 2)
    }

    @Test func twoThreadsCoresShareSessionsDeliverAcrossAndResumeAcross() throws {
        // Two cores, as two service threads: connection IDs carry their thread in the
        // low 8 bits (thread 0: 1 << 8, …; thread 1: 1 << 8 | 1, …).
        let shared = SharedSessions(shards: 4)
        func core(_ thread: Int) -> GatewayCore {
            var core = GatewayCore(
                engine: engine,
                directory: ChannelDirectory([ChatChannel(id: general, name: "general", members: [id(1), id(2)])]),
                tokens: tokens, messageIDs: SnowflakeGenerator(worker: 1, process: 1), metrics: GatewayMetrics(),
                configuration: .init(), versions: versions, sessions: shared, thread: thread, threadCount: 2
            )
            var next = 0
            core.newSessionID = {
                next += 1
                return "t\(thread)-\(next)"
            }
            return core
        }
        var first = core(0), second = core(1)
        let onFirst = 1 << 8, onSecond = 1 << 8 | 1
        ready(&first, onFirst, user: 1)
        ready(&second, onSecond, user: 1)
        #expect(first.sessionCount == 2 && second.sessionCount == 2, "one registry")
        // An ack on the first thread reaches the session on the second: an action for
        // its connection, which the transport hands to that thread.
        let ack = first.received(onFirst, frame: frame(#"{"op":101,"d":{"channel_id":"\#(general.rawValue)","message_id":"\#(id(70).rawValue)"}}"#), now: 5)
        #expect(events(ack, to: onFirst) == ["MESSAGE_ACK"])
        #expect(events(ack, to: onSecond) == ["MESSAGE_ACK"])
        #expect(sent(ack)[onSecond]?.first?["s"] as? Int == 2)
        // RESUME on the second thread of the session still attached on the first: the
        // old connection is closed there (an action for its thread), replay and RESUMED here.
        let onSecondAgain = 2 << 8 | 1
        _ = second.connected(onSecondAgain, now: 6)
        let resume = second.received(
            onSecondAgain, frame: frame(#"{"op":6,"d":{"token":"\#(tokens.mint(user: id(1)))","session_id":"t0-1","seq":1}}"#), now: 7
        )
        #expect(closes(resume)[onFirst] == .unknownError)
        #expect(events(resume, to: onSecondAgain) == ["MESSAGE_ACK", "RESUMED"])
        // The first thread's core, told of it, closes the connection without ending the session.
        #expect(closes(first.closeTakenOver(onFirst, .unknownError))[onFirst] == .unknownError)
        first.disconnected(onFirst, now: 8)
        #expect(shared.connection(of: "t0-1", user: id(1)) == onSecondAgain)
    }

    @Test func identifyLoadsAnUncachedUserThenSendsREADY() throws {
        var core = makeCore()
        #expect(events(core.connected(1, now: 0), to: 1) == ["op 10"])
        let identify = core.received(1, frame: frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(1)))"}}"#), now: 5)
        #expect(identify == [.loadForReady(connection: 1, user: id(1))])
        let ready = core.readyLoaded(1, user: id(1), states: [])
        let payload = try #require(sent(ready)[1]?.first)
        #expect(payload["t"] as? String == "READY")
        #expect((payload["d"] as? [String: Any])?["session_id"] as? String == "session-1")
        #expect(core.sessionCount == 1)
        // A cached user gets READY at once.
        try engine.insertLoaded(user: id(2), states: [])
        _ = core.connected(2, now: 0)
        let second = core.received(2, frame: frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(2)))"}}"#), now: 5)
        #expect(events(second, to: 2) == ["READY"])
    }

    @Test func anAckFansOutToEverySessionOfTheUserAndAStaleOneToNone() throws {
        var core = makeCore()
        ready(&core, 1, user: 1)
        ready(&core, 2, user: 1)
        ready(&core, 3, user: 2)
        let ack = core.received(1, frame: frame(#"{"op":101,"d":{"channel_id":"\#(general.rawValue)","message_id":"\#(id(50).rawValue)"}}"#), now: 10)
        #expect(events(ack, to: 1) == ["MESSAGE_ACK"])
        #expect(events(ack, to: 2) == ["MESSAGE_ACK"])
        #expect(sent(ack)[3] == nil, "another user's session hears nothing")
        // Sequence numbers are each session's own.
        #expect(sent(ack)[1]?.first?["s"] as? Int == 2)
        let stale = core.received(2, frame: frame(#"{"op":101,"d":{"channel_id":"\#(general.rawValue)","message_id":"\#(id(40).rawValue)"}}"#), now: 11)
        #expect(stale.isEmpty)
        #expect(engine.readStatesIfCached(of: id(1))?.map(\.lastMessageID) == [id(50)])
    }

    @Test func anAckOutsideTheUsersChannelsIsARequestErrorToThatSessionOnly() throws {
        var core = makeCore()
        ready(&core, 1, user: 2)
        ready(&core, 2, user: 2)
        let refused = core.received(1, frame: frame(#"{"op":101,"d":{"channel_id":"\#(solo.rawValue)","message_id":"5"}}"#), now: 1)
        let error = try #require(sent(refused)[1]?.first)
        #expect(error["t"] as? String == "REQUEST_ERROR")
        #expect((error["d"] as? [String: Any])?["code"] as? Int == RequestErrorCode.missingAccess.rawValue)
        #expect(sent(refused)[2] == nil)
        #expect(engine.readStatesIfCached(of: id(2)) == [])
    }

    @Test func aMessageReachesEveryMemberAndCountsMentions() throws {
        var core = makeCore()
        ready(&core, 1, user: 1)
        ready(&core, 2, user: 2)
        let (result, actions) = core.sendMessage("hi <@\(id(1).rawValue)>", nonce: "n", to: general, from: id(2), connection: 2)
        let created = try result.get()
        #expect(created.mentions.map(\.id) == [id(1)])
        #expect(events(actions, to: 1) == ["MESSAGE_CREATE"])
        // The author's own read state moves to the message: MESSAGE_ACK to its sessions.
        #expect(events(actions, to: 2) == ["MESSAGE_CREATE", "MESSAGE_ACK"])
        #expect(engine.readStatesIfCached(of: id(1))?.first { $0.channelID == general }?.mentionCount == 1)
        // An uncached mentioned user is counted off the thread.
        let (_, others) = core.sendMessage("@everyone", nonce: nil, to: general, from: id(1), connection: 1)
        #expect(!others.contains { if case .mentionUncached = $0 { true } else { false } }, "user 2 is cached")
        let (_, unknown) = core.sendMessage("x", nonce: nil, to: id(99), from: id(1), connection: 1)
        #expect(unknown.isEmpty)
        if case .failure(let error) = core.sendMessage("x", nonce: nil, to: id(99), from: id(1), connection: 1).0 {
            #expect(error.code == RequestErrorCode.unknownChannel.rawValue)
        } else {
            Issue.record("a message to an unknown channel was sent")
        }
    }

    @Test func aMentionOfAnUncachedUserIsLeftToTheTransport() throws {
        var core = makeCore()
        ready(&core, 2, user: 2)
        let (_, actions) = core.sendMessage("<@\(id(1).rawValue)>", nonce: nil, to: general, from: id(2), connection: 2)
        let created = try #require(actions.compactMap { if case .mentionUncached(let users, _, let message) = $0 { (users, message) } else { nil } }.first)
        #expect(created.0 == [id(1)])
    }

    @Test func resumeOnANewConnectionTakesOverAndReplaysWhatWasMissed() throws {
        var core = makeCore()
        ready(&core, 1, user: 1)
        core.disconnected(1, now: 100)
        ready(&core, 2, user: 2)
        // While user 1 is away, a message for them is numbered and kept.
        _ = core.sendMessage("while away", nonce: nil, to: general, from: id(2), connection: 2)
        _ = core.connected(3, now: 200)
        let token = tokens.mint(user: id(1))
        let resumed = core.received(3, frame: frame(#"{"op":6,"d":{"token":"\#(token)","session_id":"session-1","seq":1}}"#), now: 200)
        #expect(events(resumed, to: 3) == ["MESSAGE_CREATE", "RESUMED"])
        // A second connection resuming the same session: the first gives way (4000).
        _ = core.connected(4, now: 300)
        let takeover = core.received(4, frame: frame(#"{"op":6,"d":{"token":"\#(token)","session_id":"session-1","seq":3}}"#), now: 300)
        #expect(closes(takeover) == [3: .unknownError])
        #expect(events(takeover, to: 4) == ["RESUMED"])
        // Another user's token, or a sequence ahead of the session.
        _ = core.connected(5, now: 300)
        let foreign = core.received(5, frame: frame(#"{"op":6,"d":{"token":"\#(tokens.mint(user: id(2)))","session_id":"session-1","seq":1}}"#), now: 300)
        #expect(events(foreign, to: 5) == ["op 9"])
        core.disconnected(4, now: 400)
        _ = core.connected(6, now: 400)
        let ahead = core.received(6, frame: frame(#"{"op":6,"d":{"token":"\#(token)","session_id":"session-1","seq":99}}"#), now: 400)
        #expect(closes(ahead) == [6: .invalidSequence])
    }

    @Test(arguments: [
        (#"{"op":101,"d":{"channel_id":"1","message_id":"2"}}"#, GatewayCloseCode.notAuthenticated),
        (#"{"op":2,"d":{"token":"forged"}}"#, .authenticationFailed),
        (#"{"op":55,"d":{}}"#, .unknownOpcode),
        ("not json", .decodeError),
    ])
    func badFramesBeforeIdentifyClose(json: String, code: GatewayCloseCode) {
        var core = makeCore()
        _ = core.connected(1, now: 0)
        #expect(closes(core.received(1, frame: frame(json), now: 1)) == [1: code])
        // Closed once: later frames and closes do nothing.
        #expect(core.received(1, frame: frame(#"{"op":1,"d":null}"#), now: 2).isEmpty)
        #expect(core.backlogExceeded(1).isEmpty)
    }

    @Test func floodsAndSilenceCloseAndEndTheSession() {
        var core = makeCore {
            $0.rateLimit = 3
            $0.heartbeatIntervalMilliseconds = 1000
        }
        ready(&core, 1, user: 1)
        var actions: [GatewayCore.Action] = []
        for step in 0..<3 { actions += core.received(1, frame: frame(#"{"op":1,"d":null}"#), now: UInt64(step)) }
        #expect(closes(actions) == [1: .rateLimited])
        core.disconnected(1, now: 10)
        #expect(core.sessionCount == 0, "a session closed for cause cannot be resumed")

        ready(&core, 2, user: 1, now: 1000)
        #expect(core.tick(now: 2500).isEmpty)
        #expect(closes(core.tick(now: 2501)) == [2: .sessionTimedOut])
    }

    @Test func aClientThatDoesNotReadIsClosedAndItsSessionEnds() {
        var core = makeCore()
        ready(&core, 1, user: 1)
        #expect(closes(core.backlogExceeded(1)) == [1: .unknownError])
        // Nothing more is sent to a closing connection.
        let later = core.dispatch("MESSAGE_ACK", payload: ServerFrame.payload(["x": 1]), toUser: id(1))
        #expect(later.isEmpty)
        core.disconnected(1, now: 5)
        #expect(core.sessionCount == 0)
    }

    @Test func goingAwaySendsReconnectThenClosesAndTheSessionsStayResumable() {
        var core = makeCore()
        ready(&core, 1, user: 1)
        ready(&core, 2, user: 2)
        let actions = core.goAway()
        #expect(events(actions, to: 1) == ["op 7"])
        #expect(closes(actions) == [1: .goingAway, 2: .goingAway])
        #expect(core.goAway().isEmpty, "once")
        core.disconnected(1, now: 5)
        core.disconnected(2, now: 5)
        #expect(core.sessionCount == 2)
        #expect(core.isEmpty)
    }

    @Test func deliveringToAUserReachesConnectedSessionsAndKeepsForDetachedOnes() {
        var core = makeCore()
        ready(&core, 1, user: 1)
        ready(&core, 2, user: 1)
        core.disconnected(2, now: 5)
        let actions = core.dispatch("CHANNEL_UPDATE", payload: ServerFrame.payload(["n": 1]), toUser: id(1))
        #expect(events(actions, to: 1) == ["CHANNEL_UPDATE"])
        #expect(sent(actions)[2] == nil)
        _ = core.connected(3, now: 6)
        let token = tokens.mint(user: id(1))
        let resumed = core.received(3, frame: frame(#"{"op":6,"d":{"token":"\#(token)","session_id":"session-2","seq":1}}"#), now: 6)
        #expect(events(resumed, to: 3) == ["CHANNEL_UPDATE", "RESUMED"])
    }

    @Test func aFailedLoadAtIdentifyClosesWithoutASession() {
        var core = makeCore()
        _ = core.connected(1, now: 0)
        _ = core.received(1, frame: frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(1)))"}}"#), now: 1)
        #expect(closes(core.readyFailed(1)) == [1: .unknownError])
        // A READY that arrives after the close is not sent.
        #expect(core.readyLoaded(1, user: id(1), states: []).isEmpty)
        #expect(core.sessionCount == 0)
    }
}
