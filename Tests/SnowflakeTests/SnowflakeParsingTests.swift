import Snowflake
import Testing

@Suite struct SnowflakeParsingTests {
    @Test(arguments: ["0", "7", "175928847299117063", "18446744073709551615"])
    func decimalStringsRoundTrip(text: String) throws {
        let id = try #require(Snowflake(text))
        #expect(id.description == text)
        #expect(try Snowflake.parse(text) == id)
        #expect(Snowflake(utf8: Array(text.utf8)) == id)
    }

    @Test(arguments: ["", " 1", "1 ", "+1", "-1", "1.0", "abc", "0x10", "1e5", "١٢", "18446744073709551616", "100000000000000000000"])
    func badStringsAreRejected(text: String) {
        #expect(Snowflake(text) == nil)
        #expect(Snowflake(utf8: Array(text.utf8)) == nil)
        #expect(throws: SnowflakeParseError.self) { try Snowflake.parse(text) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(throws: SnowflakeParseError.self) { try Snowflake.parse("abc") }
        do {
            _ = try Snowflake.parse("abc")
        } catch {
            #expect(error.description == "\"abc\" is not a Snowflake: it must be a decimal number")
        }
        do {
            _ = try Snowflake.parse("99999999999999999999999")
        } catch {
            #expect(error.description.contains("out of range"))
        }
        do {
            _ = try Snowflake.parse("")
        } catch {
            #expect(error.description.contains("empty"))
        }
    }
}
