import Foundation
import ReadStatesModule
import Snowflake
import Testing

@testable import Gateway

/// The hand-written payload JSON must mean exactly what `JSONEncoder` makes of the
/// same value.
@Suite struct JSONWriterTests {
    func sameJSON(_ value: some Encodable & JSONWritable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let expected = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
        var writer = JSONWriter()
        value.write(to: &writer)
        let written = try JSONDecoder().decode(JSONValue.self, from: Data(writer.bytes))
        #expect(written == expected, "\(String(decoding: writer.bytes, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func aPayloadWrittenInPlaceMakesTheSameFrame() {
        let states = (0..<300).map {
            ReadState(channelID: Snowflake(rawValue: UInt64($0) << 22 | 1), lastMessageID: Snowflake(rawValue: UInt64($0) * 977), mentionCount: $0 % 5, version: UInt32($0))
        }
        let list = ReadStateList(states, versions: .init(generation: ServingGeneration.limit - 1))
        #expect(ServerFrame.dispatch("READY", sequence: 7, writing: list) == ServerFrame.dispatch("READY", sequence: 7, payload: ServerFrame.payload(list)))
    }

    @Test func helloIsDiscordsFrame() {
        #expect(String(decoding: ServerFrame.hello(heartbeatIntervalMilliseconds: 41_250), as: UTF8.self)
            == #"{"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null}"#)
    }

    @Test func numbersAndSnowflakesAreWrittenDigitForDigit() {
        var values: [UInt64] = [0, 1, 9, 10, 11, 19, 99, 100, 101, 109, 999, 1000, 1001, 12345, 99999, 100_000,
                                175_928_847_299_117_063, UInt64(Int64.max), UInt64.max - 1, UInt64.max]
        // Every power of ten and its neighbours: the writer splits numbers at 10^8 and 10^16.
        var power: UInt64 = 10
        while true {
            values += [power - 1, power, power + 1, power / 10 * 9 + 7]
            guard power <= UInt64.max / 10 else { break }
            power *= 10
        }
        for value in values {
            var writer = JSONWriter()
            writer.snowflake(Snowflake(rawValue: value))
            #expect(String(decoding: writer.bytes, as: UTF8.self) == "\"\(value)\"")
            if value <= UInt64(Int64.max) {
                var number = JSONWriter()
                number.integer(Int(value))
                #expect(String(decoding: number.bytes, as: UTF8.self) == "\(value)")
            }
        }
        var negative = JSONWriter()
        negative.integer(-1005)
        #expect(String(decoding: negative.bytes, as: UTF8.self) == "-1005")
    }

    /// The comparison itself tells a boolean from a number and a string from a number
    /// (NSDictionary's equality took `true` for `1`).
    @Test func theComparisonKeepsTypesApart() throws {
        func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
        #expect(try parse(#"{"a": true}"#) != parse(#"{"a": 1}"#))
        #expect(try parse(#"{"a": false}"#) != parse(#"{"a": 0}"#))
        #expect(try parse(#"{"a": "1"}"#) != parse(#"{"a": 1}"#))
        #expect(try parse(#"{"a": null}"#) != parse(#"{}"#))
        #expect(try parse(#"{"a": [1, 2]}"#) != parse(#"{"a": [2, 1]}"#))
        #expect(try parse(#"{"a": 18446744073709551615}"#) == parse(#"{"a":18446744073709551615}"#))
        #expect(try parse(#"{"b": 1, "a": [true]}"#) == parse(#"{"a": [true], "b": 1}"#))
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
                readState: ReadStateList(states, versions: .init(generation: ServingGeneration.limit - 1))
            )
        )
        try sameJSON(ReadStateList([], versions: .init(generation: 1)))
    }

    /// 20-digit IDs and the largest count everywhere: each hand-sized fragment must
    /// hold them (`JSONWriter.fragment` asserts it in debug builds).
    @Test func theWidestValuesFitTheirFragments() throws {
        let widest = Snowflake(rawValue: .max)
        let states = (0..<20).map { _ in ReadState(channelID: widest, lastMessageID: widest, mentionCount: Int(UInt16.max), version: .max) }
        try sameJSON(
            ReadyPayload(
                v: 10, sessionId: "s", resumeGatewayUrl: "ws://h:1/gateway", user: .init(id: widest),
                channels: (0..<20).map { _ in .init(id: widest, name: "n", lastMessageId: widest) },
                readState: ReadStateList(states, versions: .init(generation: ServingGeneration.limit - 1))
            )
        )
    }

    @Test func eventsMatchTheEncoder() throws {
        let state = ReadState(channelID: Snowflake(rawValue: 5), lastMessageID: Snowflake(rawValue: 6), mentionCount: 65_535, version: .max)
        try sameJSON(MessageAck(.updated(state), manual: true, versions: .init(generation: ServingGeneration.limit - 1)))
        try sameJSON(MessageAck(.unchanged(state), manual: false, versions: .init(generation: 1)))
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

/// A parsed JSON value whose equality is JSON's: a boolean is not a number, a string
/// is not a number, `null` is not a missing key, and numbers compare by value.
indirect enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var values: [String: JSONValue] = [:]
            for key in object.allKeys { values[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(values)
        } else if var array = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !array.isAtEnd { values.append(try array.decode(JSONValue.self)) }
            self = .array(values)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let bool = try? value.decode(Bool.self) {
                self = .bool(bool)
            } else if let integer = try? value.decode(Int64.self) {
                self = .integer(integer)
            } else if let unsigned = try? value.decode(UInt64.self) {
                self = .unsigned(unsigned)
            } else if let number = try? value.decode(Double.self) {
                self = .number(number)
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }
}
