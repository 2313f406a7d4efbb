import Foundation

/// Frames the server sends, as JSON text: `{"op":…, "d":…, "s":…, "t":…}` with `s`
/// and `t` only on dispatches, keys in snake_case, IDs as strings.
public enum ServerFrame {
    /// Written directly: the encoder took a fifth of a connection's set-up in `perf`.
    public static func hello(heartbeatIntervalMilliseconds: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("op")
        writer.integer(GatewayOpcode.hello.rawValue)
        writer.key("d")
        writer.beginObject()
        writer.key("heartbeat_interval")
        writer.integer(heartbeatIntervalMilliseconds)
        writer.endObject()
        writer.key("s")
        writer.null()
        writer.key("t")
        writer.null()
        writer.endObject()
        return writer.bytes
    }

    /// Frames whose bytes never change, encoded once.
    private static let heartbeatAckFrame = encode(Frame<Int?>(op: .heartbeatAck, d: nil))
    private static let reconnectFrame = encode(Frame<Int?>(op: .reconnect, d: nil))
    private static let invalidSessionFrames = (no: encode(Frame(op: .invalidSession, d: false)), yes: encode(Frame(op: .invalidSession, d: true)))

    public static func heartbeatAck() -> [UInt8] {
        heartbeatAckFrame
    }

    public static func reconnect() -> [UInt8] {
        reconnectFrame
    }

    /// `d` says whether the session may be resumed.
    public static func invalidSession(resumable: Bool) -> [UInt8] {
        resumable ? invalidSessionFrames.yes : invalidSessionFrames.no
    }

    public static func dispatch(_ type: String, sequence: Int, _ data: some Encodable) -> [UInt8] {
        dispatch(type, sequence: sequence, payload: payload(data))
    }

    /// A dispatch's `d` as JSON: encoded once when the same event goes to many
    /// sessions (only `s` differs between their frames).
    public static func payload(_ data: some JSONWritable) -> [UInt8] {
        // Chosen at compile time for our payload types: no dynamic cast per event.
        var writer = JSONWriter(capacity: data.estimatedJSONBytes)
        data.write(to: &writer)
        return writer.bytes
    }

    /// The same for any `Encodable` (through `JSONEncoder` unless it writes itself).
    @_disfavoredOverload
    public static func payload(_ data: some Encodable) -> [UInt8] {
        if let writable = data as? any JSONWritable { return payload(writable) }
        return Array((try? GatewayJSON.encoder.encode(data)) ?? Data("null".utf8))
    }

    /// A dispatch frame around a `payload` from ``payload(_:)``.
    public static func dispatch(_ type: String, sequence: Int, payload: [UInt8]) -> [UInt8] {
        dispatch(type, sequence: sequence, writing: EncodedJSON(payload))
    }

    /// `{"op":0,"d":…,"s":sequence,"t":type}` with `payload` written in place: one
    /// buffer, no copy of `d` (a READY of 1,000 read states is 170 KB).
    public static func dispatch(_ type: String, sequence: Int, writing payload: some JSONWritable) -> [UInt8] {
        var writer = JSONWriter(capacity: payload.estimatedJSONBytes + 64)
        writer.beginObject()
        writer.key("op")
        writer.integer(GatewayOpcode.dispatch.rawValue)
        writer.key("d")
        payload.write(to: &writer)
        writer.key("s")
        writer.integer(sequence)
        writer.key("t")
        writer.string(type)
        writer.endObject()
        return writer.bytes
    }

    /// A dispatch frame's `s`, read back from its end (``dispatch(_:sequence:writing:)``
    /// writes `,"s":N,"t":"TYPE"}` last); nil for frames that are not dispatches.
    public static func sequence(of frame: [UInt8]) -> Int? {
        frame.withUnsafeBufferPointer { bytes -> Int? in
            // `,"s":` searched backwards: event names hold no quotes.
            var index = bytes.count - 6
            while index >= 0 {
                if bytes[index] == UInt8(ascii: ",") && bytes[index + 1] == UInt8(ascii: "\"")
                    && bytes[index + 2] == UInt8(ascii: "s") && bytes[index + 3] == UInt8(ascii: "\"")
                    && bytes[index + 4] == UInt8(ascii: ":")
                {
                    var value = 0
                    var at = index + 5
                    while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9"), value < Int.max / 10 - 9 {
                        value = value * 10 + Int(bytes[at] - UInt8(ascii: "0"))
                        at += 1
                    }
                    return at > index + 5 ? value : nil
                }
                index -= 1
            }
            return nil
        }
    }

    private static func encode(_ frame: some Encodable) -> [UInt8] {
        // Our payload types always encode; a failure would be a programming error.
        Array((try? GatewayJSON.encoder.encode(frame)) ?? Data(#"{"op":0}"#.utf8))
    }

    private struct Frame<Body: Encodable>: Encodable {
        var op: GatewayOpcode
        var d: Body
        var s: Int?
        var t: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(op, forKey: .op)
            try container.encode(d, forKey: .d)
            // Discord sends `s` and `t` as null on non-dispatch frames.
            try container.encode(s, forKey: .s)
            try container.encode(t, forKey: .t)
        }

        enum CodingKeys: String, CodingKey { case op, d, s, t }
    }

}
