public import Snowflake

/// Appends JSON to a byte buffer, for the payloads the gateway sends most (READY,
/// MESSAGE_ACK, MESSAGE_CREATE).
///
/// Foundation's `JSONEncoder` took ~18 ms for a READY of 1,000 read states and 1,000
/// channels on the service thread (BENCHMARKS.md, "Gateway: first figures"); this writes
/// the same JSON directly. Bytes go through an unsafe pointer into a buffer sized ahead
/// (`buffer.count` is its capacity, `count` what is written): `Array.append` checked
/// uniqueness and capacity per call, and those checks were a third of a READY's build
/// time in `perf` (BENCHMARKS.md, "READY build").
public struct JSONWriter {
    /// Written bytes, then room: only `buffer[..<count]` is JSON.
    private var buffer: [UInt8]
    /// Bytes written so far.
    public private(set) var count = 0
    /// Whether the next value in the current object or array needs a comma first.
    private var needsComma = false

    public init(capacity: Int = 256) {
        buffer = Self.room(max(capacity, 16))
    }

    /// A buffer of `count` bytes left as they are: every byte is written before it is
    /// read (`bytes` returns only those), and zero-filling a READY's 170 KB was 3% of it.
    private static func room(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
    }

    /// The JSON written (the buffer's room is dropped; writing more afterwards works).
    public var bytes: [UInt8] {
        mutating get {
            if buffer.count != count { buffer.removeSubrange(count...) }
            return buffer
        }
    }

    /// Runs `body` with room for `maximum` bytes at the end of what is written; `body`
    /// returns how many it wrote.
    @inline(__always)
    private mutating func write(upTo maximum: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maximum > buffer.count { grow(toHold: count + maximum) }
        let start = count
        count += buffer.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    private mutating func grow(toHold needed: Int) {
        var larger = Self.room(max(needed, buffer.count * 2))
        larger.withUnsafeMutableBufferPointer { target in
            buffer.withUnsafeBufferPointer { source in
                target.baseAddress!.update(from: source.baseAddress!, count: count)
            }
        }
        buffer = larger
    }

    /// One element of the current object or array (a value, a key, an opening
    /// bracket), written through `body` after a comma when one is due. `opens`: what
    /// follows it takes no comma (after `{`, `[` or a key).
    @inline(__always)
    private mutating func element(upTo maximum: Int, opens: Bool = false, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let comma = needsComma
        needsComma = !opens
        write(upTo: maximum + 1) { out in
            guard comma else { return body(out) }
            out[0] = UInt8(ascii: ",")
            return 1 + body(out + 1)
        }
    }

    /// A closing bracket: a value of the enclosing object or array ends.
    @inline(__always)
    private mutating func close(_ byte: UInt8) {
        write(upTo: 1) { out in
            out[0] = byte
            return 1
        }
        needsComma = true
    }

    public mutating func beginObject() {
        element(upTo: 1, opens: true) { out in
            out[0] = UInt8(ascii: "{")
            return 1
        }
    }

    public mutating func endObject() {
        close(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        element(upTo: 1, opens: true) { out in
            out[0] = UInt8(ascii: "[")
            return 1
        }
    }

    public mutating func endArray() {
        close(UInt8(ascii: "]"))
    }

    /// A key in an object (`,"name":`); the value follows.
    public mutating func key(_ name: StaticString) {
        name.withUTF8Buffer { name in
            element(upTo: name.count + 3, opens: true) { out in
                out[0] = UInt8(ascii: "\"")
                (out + 1).update(from: name.baseAddress!, count: name.count)
                out[name.count + 1] = UInt8(ascii: "\"")
                out[name.count + 2] = UInt8(ascii: ":")
                return name.count + 3
            }
        }
    }

    public mutating func string(_ value: String) {
        var value = value
        // Swift's native strings are contiguous UTF-8: scanned and copied in place.
        value.withUTF8 { utf8 in string(utf8) }
    }

    private mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        var plain = true
        for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            plain = false
            break
        }
        if plain {
            element(upTo: utf8.count + 2) { out in
                out[0] = UInt8(ascii: "\"")
                if let base = utf8.baseAddress { (out + 1).update(from: base, count: utf8.count) }
                out[utf8.count + 1] = UInt8(ascii: "\"")
                return utf8.count + 2
            }
            return
        }
        // At most 6 bytes per input byte (\u00XX).
        element(upTo: utf8.count * 6 + 2) { out in
            out[0] = UInt8(ascii: "\"")
            var at = 1
            Self.hexDigits.withUTF8Buffer { hex in
                for byte in utf8 {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                        out[at] = UInt8(ascii: "\\")
                        out[at + 1] = byte
                        at += 2
                    case UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                        out[at] = UInt8(ascii: "\\")
                        out[at + 1] = byte == UInt8(ascii: "\n") ? UInt8(ascii: "n") : byte == UInt8(ascii: "\r") ? UInt8(ascii: "r") : UInt8(ascii: "t")
                        at += 2
                    case 0..<0x20:
                        out[at] = UInt8(ascii: "\\")
                        out[at + 1] = UInt8(ascii: "u")
                        out[at + 2] = UInt8(ascii: "0")
                        out[at + 3] = UInt8(ascii: "0")
                        out[at + 4] = hex[Int(byte >> 4)]
                        out[at + 5] = hex[Int(byte & 0xF)]
                        at += 6
                    default:
                        out[at] = byte
                        at += 1
                    }
                }
            }
            out[at] = UInt8(ascii: "\"")
            return at + 1
        }
    }

    /// A Snowflake as a JSON string, as the protocol sends IDs.
    public mutating func snowflake(_ value: Snowflake) {
        element(upTo: 22) { out in
            out[0] = UInt8(ascii: "\"")
            let end = 1 + Self.writeDigits(value.rawValue, to: out + 1)
            out[end] = UInt8(ascii: "\"")
            return end + 1
        }
    }

    /// `{"id": "…"}`, the protocol's reference to a user.
    public mutating func idObject(_ id: Snowflake) {
        beginObject()
        key("id")
        snowflake(id)
        endObject()
    }

    public mutating func integer(_ value: Int) {
        element(upTo: 21) { out in
            guard value < 0 else { return Self.writeDigits(value.magnitude.toUInt64, to: out) }
            out[0] = UInt8(ascii: "-")
            return 1 + Self.writeDigits(value.magnitude.toUInt64, to: out + 1)
        }
    }

    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    public mutating func null() {
        literal("null")
    }

    /// A JSON literal, from static text (no array built per call).
    private mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { raw($0) }
    }

    /// Raw JSON already encoded (a nested payload).
    public mutating func raw(_ json: [UInt8]) {
        json.withUnsafeBufferPointer { raw($0) }
    }

    private mutating func raw(_ json: UnsafeBufferPointer<UInt8>) {
        element(upTo: json.count) { out in
            if let base = json.baseAddress { out.update(from: base, count: json.count) }
            return json.count
        }
    }

    /// Bytes written in one go through ``fragment(upTo:_:)``: static text and numbers,
    /// no separators of its own (the fragment's text has them).
    public struct Fragment: ~Copyable {
        fileprivate let out: UnsafeMutablePointer<UInt8>
        fileprivate var count = 0

        /// JSON text as is (keys with their quotes, colons and commas).
        @inline(__always)
        public mutating func text(_ text: StaticString) {
            text.withUTF8Buffer { text in
                (out + count).update(from: text.baseAddress!, count: text.count)
                count &+= text.count
            }
        }

        /// A number's digits (no quotes: inside a string after `text("\"")` for an ID).
        @inline(__always)
        public mutating func digits(_ value: UInt64) {
            count &+= JSONWriter.writeDigits(value, to: out + count)
        }
    }

    /// Writes up to `maximum` bytes through `body` in one step: for the parts written
    /// thousands of times per READY (an entry, a channel), where the per-call checks of
    /// ``key(_:)`` and friends add up. The fragment is a value in an array or object:
    /// a comma goes first when one is due.
    /// - Parameter endsWithKey: the fragment ends with a key (`"name":`): the value that
    ///   follows takes no comma.
    @inline(__always)
    public mutating func fragment(upTo maximum: Int, endsWithKey: Bool = false, _ body: (inout Fragment) -> Void) {
        element(upTo: maximum, opens: endsWithKey) { out in
            var fragment = Fragment(out: out)
            body(&fragment)
            // Written past its room: the maximum given is wrong (debug builds stop here).
            assert(fragment.count <= maximum, "a JSON fragment of \(fragment.count) bytes, over its \(maximum)")
            return fragment.count
        }
    }

    /// Writes `value`'s decimal digits at `out`. - Returns: how many.
    ///
    /// Snowflakes have 17 to 20 digits and a READY of 1,000 read states writes 4,000 of
    /// them: split into 8-digit parts with two 64-bit divisions, each part written two
    /// digits at a time from a table with 32-bit arithmetic (a 64-bit division per pair
    /// was a third of the build time in `perf`).
    @inline(__always)
    static func writeDigits(_ value: UInt64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        if value < 100_000_000 { return writeShort(UInt32(truncatingIfNeeded: value), to: out) }
        let low = UInt32(truncatingIfNeeded: value % 100_000_000)
        let rest = value / 100_000_000
        var length: Int
        if rest < 100_000_000 {
            length = writeShort(UInt32(truncatingIfNeeded: rest), to: out)
        } else {
            length = writeShort(UInt32(truncatingIfNeeded: rest / 100_000_000), to: out)
            writeEight(UInt32(truncatingIfNeeded: rest % 100_000_000), to: out + length)
            length &+= 8
        }
        writeEight(low, to: out + length)
        return length &+ 8
    }

    /// Exactly 8 digits (leading zeros kept) of `value` < 10^8.
    @inline(__always)
    private static func writeEight(_ value: UInt32, to out: UnsafeMutablePointer<UInt8>) {
        let high = value / 10_000, low = value % 10_000
        twoDigits.withUTF8Buffer { table in
            let pairs = (Int(high / 100) &* 2, Int(high % 100) &* 2, Int(low / 100) &* 2, Int(low % 100) &* 2)
            out[0] = table[pairs.0]
            out[1] = table[pairs.0 &+ 1]
            out[2] = table[pairs.1]
            out[3] = table[pairs.1 &+ 1]
            out[4] = table[pairs.2]
            out[5] = table[pairs.2 &+ 1]
            out[6] = table[pairs.3]
            out[7] = table[pairs.3 &+ 1]
        }
    }

    /// The digits of `value` < 10^8, without leading zeros. - Returns: how many.
    @inline(__always)
    private static func writeShort(_ value: UInt32, to out: UnsafeMutablePointer<UInt8>) -> Int {
        if value < 10 {
            out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: value)
            return 1
        }
        var length = 2
        var threshold: UInt32 = 100
        while length < 8 && value >= threshold {
            length &+= 1
            threshold &*= 10
        }
        var rest = value
        var end = length
        twoDigits.withUTF8Buffer { table in
            while rest >= 100 {
                let pair = Int(rest % 100) &* 2
                rest /= 100
                end &-= 2
                out[end] = table[pair]
                out[end &+ 1] = table[pair &+ 1]
            }
            if rest >= 10 {
                let pair = Int(rest) &* 2
                out[0] = table[pair]
                out[1] = table[pair &+ 1]
            } else {
                out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
            }
        }
        return length
    }

    /// "00", "01", … "99", back to back.
    private static let twoDigits: StaticString = """
        00010203040506070809101112131415161718192021222324252627282930313233343536373839\
        40414243444546474849505152535455565758596061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899
        """

    private static let hexDigits: StaticString = "0123456789abcdef"
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
