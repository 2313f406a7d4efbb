import LWSTransport
import Foundation
import Gateway
import ReadStatesModule
import Snowflake
import Synchronization
import Testing

func id(_ value: UInt64) -> Snowflake {
    Snowflake(rawValue: value << 22)
}

/// The HTTP routes, called directly: no sockets.
@Suite struct RESTAPITests {
    let tokens = TokenAuthority(secret: Data(repeating: 1, count: 32))
    let engine = ReadStates(configuration: .init(capacity: 1000, shards: 2), persistence: InMemoryReadStatesPersistence())
    let directory = ChannelDirectory([ChatChannel(id: id(10), name: "general", members: [id(1), id(2)])])
    let channelStore = InMemoryReadStatesPersistence()

    func api(serving: Bool = true) -> RESTAPI {
        RESTAPI(engine: engine, tokens: tokens, directory: directory, channelStore: channelStore, serving: { serving })
    }

    func call(_ method: String, _ path: String, user: UInt64? = 1, body: String = "") async -> (Int, [String: Any]) {
        let request = HTTPRequest(
            method: method,
            path: path,
            authorization: user.map { tokens.mint(user: id($0)) },
            body: Array(body.utf8)
        )
        let response = await api().respond(to: request)
        #expect(response.contentType == "application/json")
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json)
    }

    func bulk(_ entries: [(UInt64, UInt64)]) -> String {
        let items = entries.map { #"{"channel_id":"\#(id($0.0).rawValue)","message_id":"\#(id($0.1).rawValue)"}"# }
        return #"{"read_states":[\#(items.joined(separator: ","))]}"#
    }

    @Test func aBulkAckAppliesEveryEntryAndAnswersEachState() async throws {
        let (status, body) = await call("POST", "/api/read-states/ack-bulk", body: bulk([(10, 5), (10, 3)]))
        #expect(status == 200, "\(body)")
        let answers = try #require(body["read_states"] as? [[String: Any]])
        #expect(answers.map { $0["changed"] as? Bool } == [true, false])
        #expect(answers.map { $0["message_id"] as? String } == ["\(id(5).rawValue)", "\(id(5).rawValue)"])
        #expect(engine.readStatesIfCached(of: id(1))?.map(\.lastMessageID) == [id(5)])
    }

    @Test(arguments: [
        (#"{"read_states":[]}"#, 400), (#"{"read_states":"x"}"#, 400), ("not json", 400),
        (#"{"read_states":[{"channel_id":"abc","message_id":"1"}]}"#, 400),
    ])
    func aBadBulkAckIsRefusedAndChangesNothing(body: String, expected: Int) async {
        let (status, _) = await call("POST", "/api/read-states/ack-bulk", body: body)
        #expect(status == expected)
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
    }

    @Test func aBulkAckOfMoreThan100OrOfAnotherUsersChannelIsRefusedWhole() async {
        let tooMany = bulk(Array(repeating: (10, 5), count: 101))
        #expect(await call("POST", "/api/read-states/ack-bulk", body: tooMany).0 == 400)
        // Channel 11 is not user 1's: 403, and the valid entry before it is not applied.
        #expect(await call("POST", "/api/read-states/ack-bulk", body: bulk([(10, 5), (11, 5)])).0 == 403)
        #expect(engine.readStatesIfCached(of: id(1)) == nil)
        #expect(await call("POST", "/api/read-states/ack-bulk", user: nil, body: bulk([(10, 5)])).0 == 401)
        #expect(await call("GET", "/api/read-states/ack-bulk").0 == 405)
    }

    @Test func healthIsUnavailableUntilServing() async throws {
        let starting = await api(serving: false).respond(to: HTTPRequest(method: "GET", path: "/health"))
        #expect(starting.status == 503)
        let (status, body) = await call("GET", "/health", user: nil)
        #expect(status == 200)
        #expect(body["status"] as? String == "ok")
    }

    @Test func anAckIsAppliedAndAnOlderOneChangesNothing() async throws {
        let path = "/api/channels/\(id(10).rawValue)/messages/\(id(9).rawValue)/ack"
        let (status, ack) = await call("POST", path)
        #expect(status == 200)
        #expect(ack["channel_id"] as? String == "\(id(10).rawValue)")
        #expect(ack["message_id"] as? String == "\(id(9).rawValue)")
        #expect(ack["changed"] as? Bool == true)
        let (_, older) = await call("POST", "/api/channels/\(id(10).rawValue)/messages/\(id(4).rawValue)/ack")
        #expect(older["changed"] as? Bool == false)
        #expect(older["message_id"] as? String == "\(id(9).rawValue)")
        // A manual ack moves it back and sets the count.
        let (_, manual) = await call(
            "POST", "/api/channels/\(id(10).rawValue)/messages/\(id(4).rawValue)/ack", body: #"{"manual": true, "mention_count": 3}"#
        )
        #expect(manual["message_id"] as? String == "\(id(4).rawValue)")
        #expect(manual["mention_count"] as? Int == 3)
        #expect(manual["manual"] as? Bool == true)

        let (_, list) = await call("GET", "/api/users/@me/read-states")
        let entries = try #require(list["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["id"] as? String == "\(id(10).rawValue)")
        #expect(entries.first?["last_message_id"] as? String == "\(id(4).rawValue)")
        #expect(entries.first?["mention_count"] as? Int == 3)
        #expect(list["partial"] as? Bool == false)
    }

    @Test func eachUserSeesOnlyTheirOwnReadStates() async throws {
        _ = await call("POST", "/api/channels/\(id(10).rawValue)/messages/\(id(9).rawValue)/ack", user: 1)
        let (_, other) = await call("GET", "/api/users/@me/read-states", user: 2)
        #expect((other["entries"] as? [Any])?.isEmpty == true)
        #expect(try await engine.readStates(of: id(2)).isEmpty)
        #expect(try await engine.readStates(of: id(1)).count == 1)
    }

    @Test(arguments: [
        ("POST", "/api/channels/abc/messages/1/ack", "", 400),
        ("POST", "/api/channels/1/messages/-1/ack", "", 400),
        ("POST", "/api/channels/1/messages/99999999999999999999/ack", "", 400),
        ("POST", "/api/channels/1/messages/2/ack", "{not json", 400),
        ("POST", "/api/channels/1/messages/2/ack", #"{"mention_count": 70000}"#, 400),
        ("POST", "/api/channels/1/messages/2/ack", #"{"manual": "yes"}"#, 400),
        ("GET", "/api/channels/1/messages/2/ack", "", 404),
        ("GET", "/nowhere", "", 404),
        ("DELETE", "/health", "", 405),
    ])
    func badRequestsGetAClearStatusAndChangeNothing(method: String, path: String, body: String, expected: Int) async {
        let (status, error) = await call(method, path, body: body)
        #expect(status == expected)
        #expect(error["code"] as? Int == expected)
        #expect(!(error["message"] as? String ?? "").isEmpty)
        #expect(engine.statistics.readStates == 0)
    }

    @Test func anAckOfAChannelTheUserIsNotInIsForbidden() async throws {
        let (status, error) = await call("POST", "/api/channels/\(id(11).rawValue)/messages/\(id(9).rawValue)/ack")
        #expect(status == 403)
        #expect((error["message"] as? String)?.contains("not a member") == true)
        let (other, _) = await call("POST", "/api/channels/\(id(10).rawValue)/messages/\(id(9).rawValue)/ack", user: 3)
        #expect(other == 403)
        #expect(engine.statistics.readStates == 0)
    }

    @Test func anAdminCreatesAChannelAndItsMembersMayAckThere() async throws {
        let body = #"{"name": " ops ", "members": ["\#(id(3).rawValue)", "\#(id(4).rawValue)"]}"#
        let created = await api().respond(
            to: HTTPRequest(method: "POST", path: "/api/channels", authorization: tokens.adminToken, body: Array(body.utf8))
        )
        #expect(created.status == 201)
        let channel = try #require((try JSONSerialization.jsonObject(with: Data(created.body))) as? [String: Any])
        #expect(channel["name"] as? String == "ops")
        let channelID = try #require(channel["id"] as? String)
        #expect(try await channelStore.loadChannels().map { String($0.id.rawValue) } == [channelID])
        let (status, _) = await call("POST", "/api/channels/\(channelID)/messages/\(id(9).rawValue)/ack", user: 3)
        #expect(status == 200)

        // A user's token is not the admin token; a bad body is refused.
        let (forbidden, _) = await call("POST", "/api/channels", body: body)
        #expect(forbidden == 401)
        let bad = await api().respond(
            to: HTTPRequest(method: "POST", path: "/api/channels", authorization: tokens.adminToken, body: Array(#"{"name":""}"#.utf8))
        )
        #expect(bad.status == 400)
        #expect(!tokens.isAdmin(tokens.mint(user: id(1))))
        #expect(!TokenAuthority(secret: Data(repeating: 9, count: 32)).isAdmin(tokens.adminToken))
    }

    @Test func theAPIWantsAValidToken() async {
        let missing = await api().respond(to: HTTPRequest(method: "GET", path: "/api/users/@me/read-states"))
        #expect(missing.status == 401)
        let forged = await api().respond(
            to: HTTPRequest(method: "GET", path: "/api/users/@me/read-states", authorization: "MQ.MQ.AAAA")
        )
        #expect(forged.status == 401)
    }
}

/// REQUEST_ERROR's codes and the HTTP statuses of the same refusals, in one place.
@Suite struct RequestErrorCodeTests {
    @Test func eachCodeHasItsDiscordNumberAndStatus() {
        #expect(RequestErrorCode.allCases.map(\.rawValue) == [0, 10003, 50001])
        #expect(RequestErrorCode.allCases.map(\.httpStatus) == [503, 404, 403])
        #expect(RequestError(op: 100, code: 10003, message: "", nonce: nil).httpStatus == 404)
        // A code this server does not know is treated as "try again".
        #expect(RequestError(op: 100, code: 12345, message: "", nonce: nil).httpStatus == 503)
    }
}
