/// Why a text is not a Snowflake.
public struct SnowflakeParseError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case empty, notNumeric, outOfRange
    }

    private let code: Code
    public let input: String

    public var description: String {
        switch code {
        case .empty: "an empty string is not a Snowflake"
        case .notNumeric: "\"\(input)\" is not a Snowflake: it must be a decimal number"
        case .outOfRange: "\"\(input)\" is out of range: a Snowflake is at most \(UInt64.max)"
        }
    }

    static func empty() -> Self { .init(code: .empty, input: "") }
    static func notNumeric(_ input: String) -> Self { .init(code: .notNumeric, input: input) }
    static func outOfRange(_ input: String) -> Self { .init(code: .outOfRange, input: input) }
}

extension Snowflake: LosslessStringConvertible, CustomStringConvertible {
    public var description: String { String(rawValue) }

    /// Strict decimal parsing: ASCII digits only, no sign, no spaces, at most 2^64 - 1.
    public init?(_ description: String) {
        guard let value = try? Self.parse(description) else { return nil }
        self = value
    }

    /// Parses UTF-8 bytes (a JSON token, a path segment) without making a String.
    public init?<Bytes: Collection>(utf8 bytes: Bytes) where Bytes.Element == UInt8 {
        guard let value = Self.parseDigits(bytes) else { return nil }
        self.init(rawValue: value)
    }

    /// Like `init?(_:)`, with an error that says what is wrong.
    public static func parse(_ text: some StringProtocol) throws(SnowflakeParseError) -> Snowflake {
        if text.isEmpty { throw .empty() }
        let utf8 = text.utf8
        guard utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .notNumeric(String(text))
        }
        guard let value = parseDigits(utf8) else { throw .outOfRange(String(text)) }
        return Snowflake(rawValue: value)
    }

    /// Digits to a value; nil for an empty input, a non-digit or an overflow.
    private static func parseDigits<Bytes: Collection>(_ bytes: Bytes) -> UInt64? where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }
}
