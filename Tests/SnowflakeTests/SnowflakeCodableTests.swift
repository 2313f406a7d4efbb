import Foundation
import Testing
@testable import Snowflake

@Suite struct SnowflakeCodableTests {
    struct Message: Codable, Equatable {
        var id: Snowflake
    }

    @Test func encodesAsADecimalStringInsideAnObject() throws {
        let data = try JSONEncoder().encode(Message(id: Snowflake(rawValue: 175_928_847_299_117_063)))
        #expect(String(decoding: data, as: UTF8.self) == #"{"id":"175928847299117063"}"#)
    }

    @Test func theLargestIDSurvivesARoundTrip() throws {
        let message = Message(id: Snowflake(rawValue: .max))
        let data = try JSONEncoder().encode(message)
        #expect(try JSONDecoder().decode(Message.self, from: data) == message)
    }

    /// The number form is above 2^53: it must come through exactly, not via a Double.
    @Test(arguments: [#"{"id":"175928847299117063"}"#, #"{"id":175928847299117063}"#])
    func decodesFromAStringOrANumber(json: String) throws {
        let message = try JSONDecoder().decode(Message.self, from: Data(json.utf8))
        #expect(message.id.rawValue == 175_928_847_299_117_063)
    }

    @Test(arguments: [
        #"{"id":-1}"#, #"{"id":1.5}"#, #"{"id":"abc"}"#, #"{"id":true}"#, #"{"id":" 1"}"#,
        #"{"id":"-1"}"#, #"{"id":"18446744073709551616"}"#, #"{"id":{}}"#,
    ])
    func rejectsWhatIsNotASnowflakeAsCorruptData(json: String) throws {
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Message.self, from: Data(json.utf8))
        }
        guard case .dataCorrupted(let context) = try #require(error) else {
            Issue.record("expected dataCorrupted, got \(String(describing: error))")
            return
        }
        #expect(context.debugDescription.contains("Snowflake"))
        #expect(context.codingPath.map(\.stringValue) == ["id"])
    }

    @Test func theMessageForABadStringIsTheParseError() throws {
        let error = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Message.self, from: Data(#"{"id":"abc"}"#.utf8))
        }
        guard case .dataCorrupted(let context) = try #require(error) else {
            Issue.record("expected dataCorrupted")
            return
        }
        #expect(context.debugDescription == #""abc" is not a Snowflake: it must be a decimal number"#)
    }
}
