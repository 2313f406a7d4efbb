import CHiredis

/// A Redis reply, copied out of hiredis's (which is freed once its callback returns).
public enum RedisReply: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int64)
    case array([RedisReply])
    case null
    case error(String)

    init(_ reply: UnsafeMutablePointer<redisReply>) {
        let value = reply.pointee
        switch value.type {
        case CHiredis_replyString():
            self = .string(Self.bytes(value.str, value.len))
        case CHiredis_replyStatus():
            self = .status(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case CHiredis_replyError():
            self = .error(String(decoding: Self.bytes(value.str, value.len), as: UTF8.self))
        case CHiredis_replyInteger():
            self = .integer(Int64(value.integer))
        case CHiredis_replyArray():
            var elements: [RedisReply] = []
            elements.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { elements.append(RedisReply(element)) } else { elements.append(.null) }
            }
            self = .array(elements)
        default:
            self = .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard let pointer, count > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    /// The text of a string or status reply.
    public var text: String? {
        switch self {
        case .string(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
