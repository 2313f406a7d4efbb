public import Snowflake

/// Appends JSON to a byte buffer, for the payloads the gateway sends most (READY,
/// MESSAGE_ACK, MESSAGE_CREATE).
///
/// Foundation's `JSONEncoder` took ~18 ms for a READY of 1,000 read states and 1,000
/// channels on the service thread (BENCHMARKS.md, "Gateway: first figures"), delaying
/// every other session; this writes the same JSON directly.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current object or array needs a comma first.
    private var needsComma = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A key in an object; the value follows.
    public mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: copied in one go.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            needsComma = true
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// A Snowflake as a JSON string, as the protocol sends IDs.
    public mutating func snowflake(_ value: Snowflake) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendDigits(value.rawValue)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// `{"id": "…"}`, the protocol's reference to a user.
    public mutating func idObject(_ id: Snowflake) {
        beginObject()
        key("id")
        snowflake(id)
        endObject()
    }

    public mutating func integer(_ value: Int) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude.toUInt64)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    public mutating func null() {
        literal("null")
    }

    /// A JSON literal, from static text (no array built per call).
    private mutating func literal(_ text: StaticString) {
        separate()
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        needsComma = true
    }

    /// Raw JSON already encoded (a nested payload).
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Two digits per division, from a table, then one bulk append (READY writes
    /// thousands of Snowflakes; one digit at a time was a visible share of it).
    private mutating func appendDigits(_ value: UInt64) {
        if value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        withUnsafeMutableBytes(of: &digits) { buffer in
            var rest = value
            var start = buffer.count
            // A StaticString: no lazy global to check on every call (swift_once).
            Self.twoDigits.withUTF8Buffer { table in
                while rest >= 100 {
                    let pair = Int(rest % 100) &* 2
                    rest /= 100
                    start &-= 2
                    buffer[start] = table[pair]
                    buffer[start &+ 1] = table[pair &+ 1]
                }
                if rest >= 10 {
                    let pair = Int(rest) &* 2
                    start &-= 2
                    buffer[start] = table[pair]
                    buffer[start &+ 1] = table[pair &+ 1]
                } else {
                    start &-= 1
                    buffer[start] = UInt8(ascii: "0") &+ UInt8(rest)
                }
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// "00", "01", … "99", back to back.
    private static let twoDigits: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """
}

private extension UInt {
    var toUInt64: UInt64 { UInt64(self) }
}

/// A payload that writes its own JSON (the fast path in ``ServerFrame``).
public protocol JSONWritable {
    func write(to writer: inout JSONWriter)
    /// About how many bytes it writes: the buffer is reserved once, not grown by doubling.
    var estimatedJSONBytes: Int { get }
}

extension JSONWritable {
    public var estimatedJSONBytes: Int { 448 }
}

/// JSON already encoded (a dispatch's `d` encoded once for many sessions), written as is.
public struct EncodedJSON: JSONWritable, Sendable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public func write(to writer: inout JSONWriter) {
        writer.raw(bytes)
    }

    public var estimatedJSONBytes: Int { bytes.count }
}
