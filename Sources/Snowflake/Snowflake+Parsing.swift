/// Why a text is not a Snowflake. The message quotes the input, because the input
/// usually came from a client and the message goes back to it or into a log.
public struct SnowflakeParseError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case empty, notNumeric, outOfRange
    }

    private let code: Code
    /// The text that failed to parse.
    public let input: String

    public var description: String {
        switch code {
        case .empty: "\"\" is not a Snowflake: it is empty"
        case .notNumeric: "\"\(input)\" is not a Snowflake: it must be a decimal number"
        case .outOfRange: "\"\(input)\" is out of range: a Snowflake is at most \(UInt64.max)"
        }
    }

    static let empty = SnowflakeParseError(code: .empty, input: "")
    static func notNumeric(_ input: some StringProtocol) -> Self { .init(code: .notNumeric, input: String(input)) }
    static func outOfRange(_ input: some StringProtocol) -> Self { .init(code: .outOfRange, input: String(input)) }
}

extension Snowflake: LosslessStringConvertible, CustomStringConvertible {
    /// The decimal form, as IDs appear in JSON, URLs and logs.
    public var description: String { String(rawValue) }

    /// Strict decimal parsing: 1 to 20 ASCII digits, at most 2^64 - 1. No sign, spaces,
    /// or other numerals: an ID from a client either is canonical-ish or is rejected,
    /// never guessed at.
    public init?(_ description: String) {
        self.init(utf8: description.utf8)
    }

    /// The strict parser over UTF-8 bytes (a JSON token, a URL path segment, a C buffer),
    /// so hot paths need not build a String first.
    ///
    /// Inlinable so that it is specialized for the caller's collection: called across
    /// the module boundary unspecialized, every byte went through the iterator's
    /// witness table, and the gateway spent 1-2% of its CPU decoding the IDs of client
    /// frames (`perf record --call-graph dwarf`, 1,000 sessions at 3,000 events/s).
    @inlinable
    public init?<Bytes: Collection>(utf8 bytes: Bytes) where Bytes.Element == UInt8 {
        guard case .success(let value) = Self.parseDigits(bytes) else { return nil }
        self.init(rawValue: value)
    }

    /// Like `init?(_:)`, with an error that says what is wrong.
    public static func parse(_ text: some StringProtocol) throws(SnowflakeParseError) -> Snowflake {
        switch parseDigits(text.utf8) {
        case .success(let value): Snowflake(rawValue: value)
        case .empty: throw .empty
        case .notNumeric: throw .notNumeric(text)
        case .outOfRange: throw .outOfRange(text)
        }
    }

    @usableFromInline
    enum DigitsResult {
        case success(UInt64)
        case empty, notNumeric, outOfRange
    }

    /// The one digit loop behind every parser. A non-digit anywhere wins over length, so
    /// "12345678901234567890x" is reported as not numeric rather than out of range.
    @inlinable
    static func parseDigits<Bytes: Collection>(_ bytes: Bytes) -> DigitsResult
    where Bytes.Element == UInt8 {
        var value: UInt64 = 0
        var count = 0
        var overflowed = false
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return .notNumeric }
            count += 1
            // 20 digits hold UInt64.max; a 21st is out of range even after leading zeros.
            if count > 20 { overflowed = true }
            if overflowed { continue }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            overflowed = overflow1 || overflow2
            value = sum
        }
        if count == 0 { return .empty }
        return overflowed ? .outOfRange : .success(value)
    }
}
