import Foundation
import Gateway
import Snowflake
import Testing

/// The session protocol without sockets: frames in, actions out.
@Suite struct SessionMachineTests {
    let tokens = TokenAuthority(secret: Data(repeating: 3, count: 32))

    func machine(rateLimit: Int = 120) -> SessionMachine {
        var configuration = SessionMachine.Configuration()
        configuration.rateLimit = rateLimit
        return SessionMachine(configuration: configuration, tokens: tokens, now: 0)
    }

    func frame(_ json: String) -> [UInt8] { Array(json.utf8) }

    func json(_ bytes: [UInt8]) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    @Test func helloCarriesTheHeartbeatInterval() {
        let hello = json(machine().hello)
        #expect(hello["op"] as? Int == 10)
        #expect((hello["d"] as? [String: Any])?["heartbeat_interval"] as? Int == 41_250)
    }

    @Test func identifyWithAGoodTokenAsksForReadyAndThenRequestsFlow() {
        var session = machine()
        let token = tokens.mint(user: id(7))
        #expect(session.receive(frame(#"{"op":2,"d":{"token":"\#(token)"}}"#), now: 1) == [.identify(user: id(7))])
        #expect(session.phase == .identifying(user: id(7)))
        session.ready()
        #expect(session.phase == .ready(user: id(7)))
        let ack = #"{"op":101,"d":{"channel_id":"\#(id(1).rawValue)","message_id":"\#(id(2).rawValue)"}}"#
        #expect(
            session.receive(frame(ack), now: 2)
                == [.request(user: id(7), .ack(channelID: id(1), messageID: id(2), manual: false, mentionCount: 0))]
        )
    }

    @Test func heartbeatsAreAnsweredBeforeAndAfterIdentify() {
        var session = machine()
        let actions = session.receive(frame(#"{"op":1,"d":null}"#), now: 5)
        #expect(actions.count == 1)
        if case .send(let bytes) = actions.first { #expect(json(bytes)["op"] as? Int == 11) } else { Issue.record("no ack") }
        #expect(session.phase == .awaitingIdentify)
    }

    @Test(arguments: [
        (#"{"op":101,"d":{"channel_id":"1","message_id":"2"}}"#, GatewayCloseCode.notAuthenticated),
        (#"not json"#, .decodeError),
        (#"{"op":"2"}"#, .decodeError),
        (#"{"op":2,"d":{"token":5}}"#, .decodeError),
        (#"{"op":2}"#, .decodeError),
        (#"{"op":55,"d":{}}"#, .unknownOpcode),
        (#"{"op":10,"d":{}}"#, .unknownOpcode),
        (#"{"op":2,"d":{"token":"a.b.c"}}"#, .authenticationFailed),
    ])
    func badInputBeforeIdentifyCloses(payload: String, code: GatewayCloseCode) {
        var session = machine()
        #expect(session.receive(frame(payload), now: 1) == [.close(code)])
        #expect(session.phase == .closed)
        #expect(session.receive(frame(#"{"op":1,"d":null}"#), now: 2).isEmpty)
    }

    @Test(arguments: [
        (#"{"op":101,"d":{"channel_id":"x","message_id":"2"}}"#, GatewayCloseCode.decodeError),
        (#"{"op":101,"d":{"channel_id":"-1","message_id":"2"}}"#, .decodeError),
        (#"{"op":101,"d":{"channel_id":"1","message_id":"2","mention_count":70000}}"#, .decodeError),
        (#"{"op":100,"d":{"channel_id":"1","content":""}}"#, .decodeError),
        (#"{"op":102,"d":{"read_states":[\#(Array(repeating: #"{"channel_id":"1","message_id":"2"}"#, count: 101).joined(separator: ","))]}}"#, .decodeError),
    ])
    func badInputAfterIdentifyCloses(payload: String, code: GatewayCloseCode) {
        var session = machine()
        _ = session.receive(frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(7)))"}}"#), now: 1)
        session.ready()
        #expect(session.receive(frame(payload), now: 2) == [.close(code)])
    }

    @Test func aSecondIdentifyCloses() {
        var session = machine()
        let identify = frame(#"{"op":2,"d":{"token":"\#(tokens.mint(user: id(7)))"}}"#)
        _ = session.receive(identify, now: 1)
        session.ready()
        #expect(session.receive(identify, now: 2) == [.close(.alreadyAuthenticated)])
    }

    @Test func aFrameOverTheSizeLimitCloses() {
        var session = machine()
        let huge = #"{"op":1,"d":null,"x":""# + String(repeating: "a", count: ClientPayload.maximumFrameBytes) + #""}"#
        #expect(session.receive(frame(huge), now: 1) == [.close(.decodeError)])
    }

    @Test func floodingPastTheRateLimitCloses() {
        var session = machine(rateLimit: 5)
        for time in 0..<5 { #expect(session.receive(frame(#"{"op":1,"d":null}"#), now: UInt64(time)).count == 1) }
        #expect(session.receive(frame(#"{"op":1,"d":null}"#), now: 10) == [.close(.rateLimited)])
        // A window later the same pace is fine.
        var paced = machine(rateLimit: 5)
        for time in stride(from: 0, to: 200_000, by: 12_000) {
            #expect(paced.receive(frame(#"{"op":1,"d":null}"#), now: UInt64(time)).count == 1)
        }
    }

    @Test func aSilentClientTimesOut() {
        var session = machine()
        #expect(session.tick(now: 60_000).isEmpty)
        _ = session.receive(frame(#"{"op":1,"d":5}"#), now: 60_000)
        #expect(session.tick(now: 120_000).isEmpty)
        #expect(session.tick(now: 122_000) == [.close(.sessionTimedOut)])
    }

    @Test func dispatchFramesCarrySequenceAndType() {
        let bytes = ServerFrame.dispatch("MESSAGE_ACK", sequence: 3, ["channel_id": "1"])
        let object = json(bytes)
        #expect(object["op"] as? Int == 0)
        #expect(object["s"] as? Int == 3)
        #expect(object["t"] as? String == "MESSAGE_ACK")
        #expect(json(ServerFrame.heartbeatAck())["s"] is NSNull)
    }
}
