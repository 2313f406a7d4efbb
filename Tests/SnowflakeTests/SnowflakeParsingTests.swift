import Foundation
import Testing
@testable import Snowflake

@Suite struct SnowflakeParsingTests {
    @Test(arguments: ["0", "7", "175928847299117063", "18446744073709551615", "00000000000000000042"])
    func decimalStringsParse(text: String) throws {
        let id = try #require(Snowflake(text))
        #expect(id.rawValue == UInt64(text))
        #expect(try Snowflake.parse(text) == id)
        #expect(try Snowflake.parse(Substring(text)) == id)
        #expect(Snowflake(utf8: Array(text.utf8)) == id)
        #expect(Snowflake(utf8: text.utf8) == id)
    }

    @Test(arguments: [UInt64(0), 7, 175_928_847_299_117_063, .max])
    func descriptionRoundTrips(value: UInt64) {
        let id = Snowflake(rawValue: value)
        #expect(id.description == String(value))
        #expect(Snowflake(id.description) == id)
    }

    @Test(arguments: [
        "", " 1", "1 ", "+1", "-1", "1.0", "abc", "0x10", "1e5", "1_000", "١٢", "１２",
        "18446744073709551616", "99999999999999999999", "100000000000000000000",
        "000000000000000000001", "123456789012345678901",
    ])
    func badStringsAreRejected(text: String) {
        #expect(Snowflake(text) == nil)
        #expect(Snowflake(utf8: Array(text.utf8)) == nil)
        #expect(throws: SnowflakeParseError.self) { try Snowflake.parse(text) }
    }

    @Test func errorsQuoteTheInputAndSayWhatIsWrong() {
        let notNumeric = #expect(throws: SnowflakeParseError.self) { try Snowflake.parse("abc") }
        #expect(notNumeric?.description == #""abc" is not a Snowflake: it must be a decimal number"#)
        #expect(notNumeric?.input == "abc")

        let tooLarge = #expect(throws: SnowflakeParseError.self) { try Snowflake.parse("99999999999999999999999") }
        #expect(
            tooLarge?.description
                == #""99999999999999999999999" is out of range: a Snowflake is at most 18446744073709551615"#
        )

        let empty = #expect(throws: SnowflakeParseError.self) { try Snowflake.parse("") }
        #expect(empty?.description.contains("empty") == true)
    }

    @Test func aNonDigitIsReportedAsSuchEvenInALongInput() {
        #expect(throws: SnowflakeParseError.notNumeric("123456789012345678901x")) {
            try Snowflake.parse("123456789012345678901x")
        }
        #expect(throws: SnowflakeParseError.outOfRange("18446744073709551616")) {
            try Snowflake.parse("18446744073709551616")
        }
        #expect(throws: SnowflakeParseError.empty) { try Snowflake.parse("") }
    }
}
