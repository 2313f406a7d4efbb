import Foundation
import Snowflake
import Testing

@Suite struct SnowflakeCodableTests {
    struct Message: Codable, Equatable {
        var id: Snowflake
    }

    @Test func encodesAsADecimalString() throws {
        let data = try JSONEncoder().encode(Message(id: Snowflake(rawValue: 175_928_847_299_117_063)))
        #expect(String(decoding: data, as: UTF8.self) == #"{"id":"175928847299117063"}"#)
    }

    @Test(arguments: [#"{"id":"175928847299117063"}"#, #"{"id":175928847299117063}"#])
    func decodesFromAStringOrANumber(json: String) throws {
        let message = try JSONDecoder().decode(Message.self, from: Data(json.utf8))
        #expect(message.id.rawValue == 175_928_847_299_117_063)
    }

    @Test(arguments: [#"{"id":-1}"#, #"{"id":1.5}"#, #"{"id":"abc"}"#, #"{"id":true}"#, #"{"id":" 1"}"#, #"{"id":null}"#])
    func rejectsWhatIsNotASnowflake(json: String) {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Message.self, from: Data(json.utf8))
        }
    }
}
