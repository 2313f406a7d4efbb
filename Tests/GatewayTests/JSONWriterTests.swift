import Foundation
import ReadStatesModule
import Snowflake
import Testing

@testable import Gateway

/// The hand-written payload JSON must mean exactly what `JSONEncoder` makes of the
/// same value.
@Suite struct JSONWriterTests {
    func sameJSON(_ value: some Encodable & JSONWritable) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let expected = try JSONSerialization.jsonObject(with: encoder.encode(value)) as? NSDictionary
        var writer = JSONWriter()
        value.write(to: &writer)
        let written = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? NSDictionary
        #expect(written != nil)
        #expect(written == expected)
    }

    let awkward = "quote \" backslash \\ newline \n tab \t bell \u{07} nul \u{00} é 😀 </script>"

    @Test func readyMatchesTheEncoder() throws {
        let states = (0..<50).map {
            ReadState(channelID: Snowflake(rawValue: UInt64($0) << 22 | 7), lastMessageID: Snowflake(rawValue: .max - UInt64($0)), mentionCount: $0 * 1000, version: UInt32($0))
        }
        try sameJSON(
            ReadyPayload(
                v: 10,
                sessionId: "abc",
                resumeGatewayUrl: "ws://127.0.0.1:1/gateway",
                user: .init(id: Snowflake(rawValue: 0)),
                channels: [
                    .init(id: Snowflake(rawValue: 1), name: awkward, lastMessageId: nil),
                    .init(id: Snowflake(rawValue: 2), name: "", lastMessageId: Snowflake(rawValue: 99)),
                ],
                readState: ReadStateList(states)
            )
        )
        try sameJSON(ReadStateList([]))
    }

    @Test func eventsMatchTheEncoder() throws {
        let state = ReadState(channelID: Snowflake(rawValue: 5), lastMessageID: Snowflake(rawValue: 6), mentionCount: 65_535, version: .max)
        try sameJSON(MessageAck(.updated(state), manual: true))
        try sameJSON(MessageAck(.unchanged(state), manual: false))
        for nonce in [nil, awkward] {
            try sameJSON(
                MessageCreate(
                    id: Snowflake(rawValue: 10), channelId: Snowflake(rawValue: 11), author: .init(id: Snowflake(rawValue: 12)),
                    content: awkward, mentions: [.init(id: Snowflake(rawValue: 13))], mentionEveryone: true, nonce: nonce
                )
            )
            try sameJSON(RequestError(op: 101, code: -5, message: awkward, nonce: nonce))
        }
    }

    @Test func dispatchFramesUseTheWriter() throws {
        let frame = ServerFrame.dispatch("REQUEST_ERROR", sequence: 12, RequestError(op: 100, code: 50001, message: "x", nonce: nil))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
        #expect(object["op"] as? Int == 0)
        #expect(object["s"] as? Int == 12)
        #expect(object["t"] as? String == "REQUEST_ERROR")
        #expect((object["d"] as? [String: Any])?["code"] as? Int == 50001)
    }
}
