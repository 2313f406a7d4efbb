import ReadStatesModule
import Snowflake

// The frames a client sends most (HEARTBEAT, ACK, SEND_MESSAGE), read straight from the
// bytes when they come exactly in the shape `ClientPayload.frame` writes them: no
// whitespace, keys in that order, strings without escapes. Foundation's `JSONDecoder`
// was 13% of the server's CPU at 3,000 events/s (`perf record`, 2026-12-06). Anything
// else, or anything out of range, is left to the full decoder, which decides and words
// the error: this path only ever returns what the full decoder would (the
// `client-payload` fuzz harness checks that on every input).

extension ClientPayload {
    /// The payload, or nil when the frame is not in one of the common shapes.
    package static func decodeCommon(_ bytes: UnsafeBufferPointer<UInt8>) -> ClientPayload? {
        var reader = CommonFrameReader(bytes)
        guard reader.take(#"{"op":"#) else { return nil }
        if reader.take(#"1,"d":"#) {
            let sequence: Int?
            if reader.take("null") {
                sequence = nil
            } else {
                guard let value = reader.integer() else { return nil }
                sequence = value
            }
            return reader.take("}") && reader.atEnd ? .heartbeat(lastSequence: sequence) : nil
        }
        if reader.take(#"101,"d":{"channel_id":""#) {
            guard let channel = reader.snowflake(), reader.take(#"","message_id":""#), let message = reader.snowflake() else { return nil }
            if reader.take(#""}}"#), reader.atEnd {
                return .ack(channelID: channel, messageID: message, manual: false, mentionCount: 0)
            }
            guard reader.take(#"","manual":true,"mention_count":"#), let count = reader.integer(),
                (0...ReadState.maximumMentionCount).contains(count), reader.take("}}"), reader.atEnd
            else { return nil }
            return .ack(channelID: channel, messageID: message, manual: true, mentionCount: count)
        }
        if reader.take(#"100,"d":{"channel_id":""#) {
            guard let channel = reader.snowflake(), reader.take(#"","content":""#), let content = reader.plainString(),
                !content.isEmpty, content.count <= maximumContentCharacters
            else { return nil }
            if reader.take("}}"), reader.atEnd {
                return .sendMessage(channelID: channel, content: content, nonce: nil)
            }
            guard reader.take(#","nonce":""#), let nonce = reader.plainString(), reader.take("}}"), reader.atEnd else { return nil }
            return .sendMessage(channelID: channel, content: content, nonce: nonce)
        }
        return nil
    }
}

/// A cursor over a frame that only moves forward over what it recognizes.
private struct CommonFrameReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var at = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var atEnd: Bool { at == bytes.count }

    /// Consumes `text` if the frame continues with it.
    mutating func take(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard bytes.count - at >= count else { return false }
        let matches = text.withUTF8Buffer { text in
            for index in 0..<count where bytes[at + index] != text[index] { return false }
            return true
        }
        if matches { at += count }
        return matches
    }

    /// Decimal digits up to the closing quote (not consumed), as a Snowflake.
    mutating func snowflake() -> Snowflake? {
        let start = at
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9") { at += 1 }
        guard at > start, at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { return nil }
        return Snowflake(utf8: UnsafeBufferPointer(rebasing: bytes[start..<at]))
    }

    /// A non-negative integer of at most 15 digits (no sign, no fraction, no exponent).
    mutating func integer() -> Int? {
        let start = at
        var value = 0
        while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9"), at - start < 15 {
            value = value * 10 + Int(bytes[at] - UInt8(ascii: "0"))
            at += 1
        }
        guard at > start, at == bytes.count || !(bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9")) else { return nil }
        // "01" is not JSON: the full decoder refuses it.
        if at - start > 1 && bytes[start] == UInt8(ascii: "0") { return nil }
        return value
    }

    /// The text of a string with no escapes, no control characters and valid UTF-8, up
    /// to and including its closing quote.
    mutating func plainString() -> String? {
        let start = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\"") {
            if bytes[at] < 0x20 || bytes[at] == UInt8(ascii: "\\") { return nil }
            at += 1
        }
        guard at < bytes.count else { return nil }
        let text = UnsafeBufferPointer(rebasing: bytes[start..<at])
        at += 1
        // Invalid UTF-8 is the full decoder's to refuse.
        return String(validating: text, as: UTF8.self)
    }
}
