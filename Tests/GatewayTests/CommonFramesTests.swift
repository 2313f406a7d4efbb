@testable import Gateway
import Snowflake
import Testing

/// The fast path for the frames clients send most gives exactly what the full decoder
/// gives, and leaves everything else to it.
@Suite struct CommonFramesTests {
    func common(_ frame: [UInt8]) -> ClientPayload? {
        frame.withUnsafeBufferPointer { ClientPayload.decodeCommon($0) }
    }

    func common(_ text: String) -> ClientPayload? { common(Array(text.utf8)) }

    @Test func ourClientsFramesTakeTheFastPathAndDecodeTheSame() throws {
        let payloads: [ClientPayload] = [
            .heartbeat(lastSequence: nil), .heartbeat(lastSequence: 0), .heartbeat(lastSequence: 123_456),
            .ack(channelID: Snowflake(rawValue: 175_928_847_299_117_063), messageID: Snowflake(rawValue: 1), manual: false, mentionCount: 0),
            .ack(channelID: Snowflake(rawValue: 5), messageID: Snowflake(rawValue: .max), manual: true, mentionCount: 65_535),
            .sendMessage(channelID: Snowflake(rawValue: 7), content: "hi <@80351110224678913> \u{1F600} é", nonce: "n1"),
            .sendMessage(channelID: Snowflake(rawValue: 7), content: "x", nonce: nil),
        ]
        for payload in payloads {
            let fast = try #require(common(payload.frame), "\(payload)")
            #expect(fast == payload)
            #expect(try ClientPayload.decodeFully(payload.frame) == payload)
        }
    }

    @Test(arguments: [
        #"{"op": 1, "d": 5}"#,  // whitespace
        #"{"d":5,"op":1}"#,  // another key order
        #"{"op":1,"d":01}"#,  // not JSON
        #"{"op":1,"d":-1}"#,
        #"{"op":1,"d":1.5}"#,
        #"{"op":1,"d":5} "#,
        #"{"op":101,"d":{"channel_id":"5","message_id":"99999999999999999999"}}"#,  // out of range
        #"{"op":101,"d":{"channel_id":"","message_id":"1"}}"#,
        #"{"op":101,"d":{"channel_id":"5","message_id":"1","manual":true,"mention_count":65536}}"#,
        #"{"op":101,"d":{"channel_id":"5","message_id":"1","manual":false,"mention_count":2}}"#,
        #"{"op":100,"d":{"channel_id":"5","content":"with \"escape\""}}"#,
        #"{"op":100,"d":{"channel_id":"5","content":""}}"#,
        #"{"op":100,"d":{"channel_id":"5","content":"x","nonce":"n","extra":1}}"#,
        #"{"op":2,"d":{"token":"t"}}"#,
    ])
    func everythingElseIsLeftToTheFullDecoder(frame: String) {
        #expect(common(frame) == nil, "\(frame)")
    }

    @Test func longContentIsLeftToTheFullDecoderToRefuse() {
        let long = String(repeating: "a", count: ClientPayload.maximumContentCharacters + 1)
        #expect(common(#"{"op":100,"d":{"channel_id":"5","content":"\#(long)"}}"#) == nil)
        #expect(throws: ClientPayload.DecodeError.self) {
            try ClientPayload.decode(Array(#"{"op":100,"d":{"channel_id":"5","content":"\#(long)"}}"#.utf8))
        }
        // Invalid UTF-8 inside a string: not the fast path's to judge.
        #expect(common(Array(#"{"op":100,"d":{"channel_id":"5","content":""#.utf8) + [0xFF] + Array(#""}}"#.utf8)) == nil)
    }
}
