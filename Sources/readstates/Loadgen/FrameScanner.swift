import Glibc

/// Pulls the few fields the load generator needs out of a gateway frame without a
/// JSON decoder. The generator receives several frames per event it sends (a
/// MESSAGE_CREATE goes to every member of the channel) and shares two cores with
/// the server: `JSONDecoder` cost ~10 us per frame here, this a fraction of a
/// microsecond. Frames it cannot read this way go through ``ServerMessage``.
struct FrameScanner {
    let bytes: [UInt8]

    /// `"op":N` at the start of the frame, as every server frame has it.
    var opcode: Int? {
        integer(after: #""op":"#)
    }

    /// The dispatch's event name (`"t":"NAME"`).
    var eventName: Substring? {
        string(after: #""t":""#)
    }

    /// The decimal digits of a string or number value after `key` (`"nonce":"` etc.),
    /// parsed. `"n123"` style values skip their leading letters.
    func integer(after key: StaticString) -> Int? {
        guard let start = find(key) else { return nil }
        var index = start
        while index < bytes.count, bytes[index] == UInt8(ascii: "n") || bytes[index] == UInt8(ascii: "\"") { index += 1 }
        var value = 0
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, digits < 19 {
            value = value * 10 + Int(bytes[index] - 48)
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    /// A Snowflake (decimal string) after `key`.
    func snowflake(after key: StaticString) -> UInt64? {
        guard let start = find(key) else { return nil }
        var value: UInt64 = 0
        var index = start
        var digits = 0
        while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57, digits < 20 {
            value = value &* 10 &+ UInt64(bytes[index] - 48)
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }

    private func string(after key: StaticString) -> Substring? {
        guard let start = find(key) else { return nil }
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
        return Substring(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The index just past the first occurrence of `key` (memchr for the first byte,
    /// memcmp for the rest; glibc's memmem is not visible to Swift without _GNU_SOURCE).
    func contains(_ text: StaticString) -> Bool {
        find(text) != nil
    }

    private func find(_ key: StaticString) -> Int? {
        bytes.withUnsafeBytes { haystack in
            key.withUTF8Buffer { needle in
                guard let base = haystack.baseAddress, needle.count > 0, haystack.count >= needle.count else { return nil }
                var offset = 0
                let last = haystack.count - needle.count
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(needle[0]), last - offset + 1) else { return nil }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, needle.baseAddress!, needle.count) == 0 { return position + needle.count }
                    offset = position + 1
                }
                return nil
            }
        }
    }
}
