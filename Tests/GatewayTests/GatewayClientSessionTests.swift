import LWSTransport
import Foundation
@testable import Gateway
import ReadStatesModule
import Snowflake
import Testing

/// The client's side of the protocol, without sockets: frames and clock readings in,
/// actions out.
struct GatewayClientSessionTests {
    let url = "ws://127.0.0.1:8080/gateway"

    /// The payloads the session sends; a frame the server could not decode fails the test.
    func frames(_ actions: [GatewayClientSession.Action], sourceLocation: SourceLocation = #_sourceLocation) -> [ClientPayload] {
        actions.compactMap {
            guard case .send(let frame) = $0 else { return nil }
            do {
                return try ClientPayload.decode(frame)
            } catch {
                Issue.record(
                    "the session sent a frame the server cannot decode: \(String(decoding: frame, as: UTF8.self)): \(error)",
                    sourceLocation: sourceLocation
                )
                return nil
            }
        }
    }

    func reconnect(_ actions: [GatewayClientSession.Action]) -> (UInt64, String)? {
        for case .reconnect(let delay, let url) in actions { return (delay, url) }
        return nil
    }

    func failure(_ actions: [GatewayClientSession.Action]) -> String? {
        for case .fail(let message) in actions { return message }
        return nil
    }

    func ready(session: String = "s1", sequence: Int = 1) -> ServerMessage {
        let frame = ServerFrame.dispatch(
            "READY", sequence: sequence,
            ReadyPayload(
                v: 10, sessionId: session, resumeGatewayUrl: "ws://127.0.0.1:9000/gateway", user: .init(id: id(1)),
                channels: [], readState: ReadStateList([], versions: .init(generation: 1))
            )
        )
        return try! ServerMessage.decode(frame)
    }

    /// A session through HELLO and READY.
    func readySession() -> GatewayClientSession {
        var session = GatewayClientSession(token: "t", url: url, firstHeartbeatFraction: 0.5)
        session.connected()
        _ = session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 0)
        _ = session.received(ready(), now: 10)
        return session
    }

    @Test func aClientThatKeepsItsStatesIdentifiesAgainWithTheHighestVersionItSaw() throws {
        var session = GatewayClientSession(token: "t", url: url, keepsReadStates: true, firstHeartbeatFraction: 0.5)
        session.connected()
        #expect(frames(session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 0)) == [.identify(token: "t")])
        _ = session.received(ready(), now: 10)
        let generation = UInt64(1) << 32
        #expect(session.readStateVersion == generation)
        let ack = { (version: UInt64) in
            var ack = MessageAck(.updated(ReadState(channelID: id(5), lastMessageID: id(6), mentionCount: 0, version: 1)), manual: false, versions: .init(generation: 1))
            ack.version = version
            return ServerMessage.dispatch(sequence: 2, .messageAck(ack))
        }
        _ = session.received(ack(generation | 9), now: 11)
        _ = session.received(ack(generation | 4), now: 12)
        // Another generation's version is not comparable: ignored.
        _ = session.received(ack(UInt64(2) << 32 | 1), now: 13)
        #expect(session.readStateVersion == generation | 9)
        // The session cannot be resumed: IDENTIFY again, with the version.
        let again = frames(session.received(.invalidSession(resumable: false), now: 20))
        #expect(again == [.identify(token: "t", readStateVersion: generation | 9)])
    }

    @Test func identifiesAfterHelloAndIsReadyAfterREADY() {
        var session = GatewayClientSession(token: "tok", url: url, firstHeartbeatFraction: 0.5)
        session.connected()
        #expect(frames(session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 0)) == [.identify(token: "tok")])
        #expect(session.phase == .identifying)
        let actions = session.received(ready(session: "abc", sequence: 1), now: 5)
        #expect(session.phase == .ready)
        #expect(session.sessionID == "abc")
        #expect(session.sequence == 1)
        guard case .event(.ready(let payload))? = actions.last else {
            Issue.record("READY was not handed to the application")
            return
        }
        #expect(payload.sessionId == "abc")
    }

    @Test func heartbeatsOnScheduleAndReconnectsWhenTheServerStopsAnswering() {
        var session = readySession()
        // First beat at half the interval, then every interval.
        #expect(frames(session.tick(now: 499)).isEmpty)
        #expect(frames(session.tick(now: 500)) == [.heartbeat(lastSequence: 1)])
        _ = session.received(.heartbeatAck, now: 510)
        #expect(frames(session.tick(now: 1499)).isEmpty)
        #expect(frames(session.tick(now: 1500)) == [.heartbeat(lastSequence: 1)])
        // No ACK before the next beat: a zombie connection, resumed at once.
        let actions = session.tick(now: 2500)
        #expect(reconnect(actions)?.0 == 0)
        #expect(reconnect(actions)?.1 == "ws://127.0.0.1:9000/gateway")
        #expect(session.phase == .disconnected)
        #expect(session.sessionID == "s1")
    }

    @Test func resumesWithTheLastSequenceAfterADrop() {
        var session = readySession()
        _ = session.received(try! ServerMessage.decode(ServerFrame.dispatch("CHANNEL_UPDATE", sequence: 7, ["x": 1])), now: 20)
        #expect(session.sequence == 7)
        #expect(reconnect(session.closed(.dropped)) != nil)
        session.connected()
        #expect(frames(session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 100)) == [.resume(token: "t", sessionID: "s1", sequence: 7)])
        #expect(session.phase == .resuming)
        let actions = session.received(try! ServerMessage.decode(ServerFrame.dispatch("RESUMED", sequence: 8, Optional<Int>.none)), now: 110)
        #expect(session.phase == .ready)
        #expect(actions.contains { if case .notice("resumed") = $0 { true } else { false } })
    }

    @Test func invalidSessionIdentifiesAgain() {
        var session = readySession()
        _ = session.closed(.dropped)
        session.connected()
        _ = session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 100)
        #expect(frames(session.received(.invalidSession(resumable: false), now: 110)) == [.identify(token: "t")])
        #expect(session.sessionID == nil)
        #expect(session.phase == .identifying)
    }

    @Test func aResumableInvalidSessionResumes() {
        var session = readySession()
        _ = session.closed(.dropped)
        session.connecting()
        session.connected()
        _ = session.received(.hello(heartbeatIntervalMilliseconds: 1000), now: 100)
        #expect(frames(session.received(.invalidSession(resumable: true), now: 110)) == [.resume(token: "t", sessionID: "s1", sequence: 1)])
        #expect(session.phase == .resuming)
    }

    @Test func reconnectOpcodeResumesAtOnce() {
        var session = readySession()
        let actions = session.received(.reconnect, now: 50)
        #expect(reconnect(actions)?.0 == 0)
        #expect(session.sessionID == "s1")
    }

    @Test func closeCodesTheClientCausedEndTheSessionWithAMessage() {
        for code: UInt16 in [4001, 4002, 4003, 4004, 4005] {
            var session = readySession()
            let message = failure(session.closed(.peer(code: code, reason: "x")))
            #expect(message?.contains("[close \(code): x]") == true)
            #expect(session.phase == .failed)
        }
        var session = readySession()
        #expect(failure(session.closed(.peer(code: 4004, reason: "")))?.contains("token was refused") == true)
    }

    @Test func rateLimitAndTimeoutStartANewSessionAndOtherClosesResume() {
        var limited = readySession()
        let actions = limited.closed(.peer(code: 4008, reason: "rate limited"))
        #expect(reconnect(actions) != nil)
        #expect(limited.sessionID == nil)
        #expect(actions.contains { if case .notice(let text) = $0 { text.contains("rate limited") } else { false } })

        var timedOut = readySession()
        #expect(reconnect(timedOut.closed(.peer(code: 4009, reason: ""))) != nil)
        #expect(timedOut.sessionID == nil)

        var goingAway = readySession()
        #expect(reconnect(goingAway.closed(.peer(code: 1001, reason: "")))?.0 == 0)
        #expect(goingAway.sessionID == "s1")
    }

    @Test func aFirstConnectThatFailsIsFatalButLaterOnesAreRetriedWithBackOff() {
        var fresh = GatewayClientSession(token: "t", url: url)
        #expect(failure(fresh.closed(.connectFailed("refused")))?.contains("could not connect to \(url)") == true)

        var session = readySession()
        var delays: [UInt64] = []
        _ = session.closed(.dropped)
        // Each new attempt fails before it opens (the server is down).
        for _ in 0..<8 {
            session.connecting()
            guard let (delay, _) = reconnect(session.closed(.connectFailed("refused"))) else { break }
            delays.append(delay)
        }
        #expect(delays.count == 8)
        #expect(delays == delays.sorted())
        #expect(delays.first == 500)
        #expect(delays.last == 10_000)
        // A late close of a connection the session already gave up on changes nothing.
        #expect(session.closed(.dropped).isEmpty)
    }

    @Test func aLocalCloseIsQuiet() {
        var session = readySession()
        #expect(session.closed(.local).isEmpty)
        #expect(session.phase == .disconnected)
    }
}

/// The client's frames, and the server's frames as the client reads them.
struct ClientWireTests {
    @Test func everyClientPayloadRoundTripsThroughTheServersDecoder() throws {
        let payloads: [ClientPayload] = [
            .heartbeat(lastSequence: nil),
            .heartbeat(lastSequence: 42),
            .identify(token: "a.b.c"),
            .resume(token: "a.b.c", sessionID: "0123abcd", sequence: 9),
            .sendMessage(channelID: id(10), content: "hi \"there\" <@2>\n\u{1F600}", nonce: "n1"),
            .sendMessage(channelID: id(10), content: "no nonce", nonce: nil),
            .ack(channelID: id(10), messageID: id(99), manual: false, mentionCount: 0),
            .ack(channelID: id(10), messageID: id(99), manual: true, mentionCount: 3),
            .bulkAck([.init(channelId: id(10), messageId: id(11)), .init(channelId: id(12), messageId: id(13))]),
        ]
        for payload in payloads {
            #expect(try ClientPayload.decode(payload.frame) == payload)
        }
    }

    @Test func serverFramesDecodeOnTheClient() throws {
        guard case .hello(let interval) = try ServerMessage.decode(ServerFrame.hello(heartbeatIntervalMilliseconds: 41_250)) else {
            Issue.record("HELLO")
            return
        }
        #expect(interval == 41_250)
        guard case .heartbeatAck = try ServerMessage.decode(ServerFrame.heartbeatAck()) else { Issue.record("ACK"); return }
        guard case .reconnect = try ServerMessage.decode(ServerFrame.reconnect()) else { Issue.record("RECONNECT"); return }
        guard case .invalidSession(true) = try ServerMessage.decode(ServerFrame.invalidSession(resumable: true)) else {
            Issue.record("INVALID_SESSION"); return
        }
        let created = MessageCreate(
            id: id(50), channelId: id(10), author: .init(id: id(1)), content: "hi <@2>", mentions: [.init(id: id(2))],
            mentionEveryone: false, nonce: "n7"
        )
        guard case .dispatch(3, .messageCreate(let message)) = try ServerMessage.decode(ServerFrame.dispatch("MESSAGE_CREATE", sequence: 3, created)) else {
            Issue.record("MESSAGE_CREATE"); return
        }
        #expect(message.id == id(50))
        #expect(message.mentions.map(\.id) == [id(2)])
        #expect(message.nonce == "n7")
        let error = RequestError(op: 101, code: 50001, message: "not a member", nonce: nil)
        guard case .dispatch(4, .requestError(error)) = try ServerMessage.decode(ServerFrame.dispatch("REQUEST_ERROR", sequence: 4, error)) else {
            Issue.record("REQUEST_ERROR"); return
        }
        guard case .dispatch(5, .other("TYPING_START")) = try ServerMessage.decode(ServerFrame.dispatch("TYPING_START", sequence: 5, ["a": 1])) else {
            Issue.record("an unknown event"); return
        }
        #expect(throws: ServerMessage.DecodeError.self) { try ServerMessage.decode(Array("not json".utf8)) }
        #expect(throws: ServerMessage.DecodeError.self) { try ServerMessage.decode(Array(#"{"op":55}"#.utf8)) }
    }

    @Test func endpointsParseFromURLs() throws {
        let plain = try WebSocketEndpoint(url: "ws://127.0.0.1:8080/gateway")
        #expect(plain == WebSocketEndpoint(host: "127.0.0.1", port: 8080, path: "/gateway", tls: false))
        #expect(plain.description == "ws://127.0.0.1:8080/gateway")
        let secure = try WebSocketEndpoint(url: "wss://chat.example.com/gateway?v=10")
        #expect(secure.port == 443)
        #expect(secure.tls)
        #expect(secure.path == "/gateway?v=10")
        let six = try WebSocketEndpoint(url: "ws://[::1]:9000")
        #expect(six.host == "::1")
        #expect(six.port == 9000)
        #expect(six.path == "/")
        #expect(six.description == "ws://[::1]:9000/")
        for bad in ["http://x/", "127.0.0.1:8080", "ws://", "ws://:80/", "ws://h:0/", "ws://h:70000/", "ws://h:x/"] {
            #expect(throws: TransportError.self) { try WebSocketEndpoint(url: bad) }
        }
    }
}
