/// How a node's bytes travel on a Redis channel: who sent them, and whether they are a
/// message, a request (answered by a reply with its ID) or a reply.
///
/// `kind (1) | sender length (1) | sender | request ID (8, big-endian) | body`.
struct ClusterEnvelope: Equatable {
    enum Kind: UInt8 {
        case message = 0
        case request = 1
        case reply = 2
        /// A reply saying the request could not be served (the body is the reason).
        case failure = 3
    }

    var kind: Kind
    var sender: String
    var requestID: UInt64
    var body: [UInt8]

    var encoded: [UInt8] {
        let senderBytes = Array(sender.utf8.prefix(255))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10 + senderBytes.count + body.count)
        bytes.append(kind.rawValue)
        bytes.append(UInt8(senderBytes.count))
        bytes += senderBytes
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: requestID >> UInt64(shift))) }
        bytes += body
        return bytes
    }

    /// nil for bytes that are not an envelope (another program on the channel).
    init?(decoding bytes: [UInt8]) {
        guard bytes.count >= 10, let kind = Kind(rawValue: bytes[0]) else { return nil }
        let senderLength = Int(bytes[1])
        guard bytes.count >= 10 + senderLength else { return nil }
        self.kind = kind
        sender = String(decoding: bytes[2..<(2 + senderLength)], as: UTF8.self)
        var id: UInt64 = 0
        for byte in bytes[(2 + senderLength)..<(10 + senderLength)] { id = id << 8 | UInt64(byte) }
        requestID = id
        body = Array(bytes[(10 + senderLength)...])
    }

    init(kind: Kind, sender: String, requestID: UInt64 = 0, body: [UInt8]) {
        self.kind = kind
        self.sender = sender
        self.requestID = requestID
        self.body = body
    }
}
