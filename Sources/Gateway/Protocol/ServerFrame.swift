import Foundation

/// Frames the server sends, as JSON text: `{"op":…, "d":…, "s":…, "t":…}` with `s`
/// and `t` only on dispatches, keys in snake_case, IDs as strings.
public enum ServerFrame {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    public static func hello(heartbeatIntervalMilliseconds: Int) -> [UInt8] {
        encode(Frame(op: .hello, d: Hello(heartbeatInterval: heartbeatIntervalMilliseconds)))
    }

    public static func heartbeatAck() -> [UInt8] {
        encode(Frame<Int?>(op: .heartbeatAck, d: nil))
    }

    public static func reconnect() -> [UInt8] {
        encode(Frame<Int?>(op: .reconnect, d: nil))
    }

    /// `d` says whether the session may be resumed.
    public static func invalidSession(resumable: Bool) -> [UInt8] {
        encode(Frame(op: .invalidSession, d: resumable))
    }

    public static func dispatch(_ type: String, sequence: Int, _ data: some Encodable) -> [UInt8] {
        guard let writable = data as? any JSONWritable else {
            return encode(Frame(op: .dispatch, d: data, s: sequence, t: type))
        }
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("op")
        writer.integer(GatewayOpcode.dispatch.rawValue)
        writer.key("d")
        writable.write(to: &writer)
        writer.key("s")
        writer.integer(sequence)
        writer.key("t")
        writer.string(type)
        writer.endObject()
        return writer.bytes
    }

    private static func encode(_ frame: some Encodable) -> [UInt8] {
        // Our payload types always encode; a failure would be a programming error.
        Array((try? encoder.encode(frame)) ?? Data(#"{"op":0}"#.utf8))
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

    private struct Hello: Encodable { var heartbeatInterval: Int }
}
