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
        var writer = ClusterWriter(capacity: 10 + senderBytes.count + body.count)
        writer.byte(kind.rawValue)
        writer.byte(UInt8(senderBytes.count))
        writer.raw(senderBytes)
        writer.integer(requestID)
        writer.raw(body)
        return writer.output
    }

    /// nil for bytes that are not an envelope (another program on the channel).
    init?(decoding bytes: [UInt8]) {
        var reader = ClusterReader(bytes)
        guard let raw = reader.byte(), let kind = Kind(rawValue: raw), let senderLength = reader.byte(),
            let sender = reader.raw(count: Int(senderLength)), let requestID = reader.integer(), let body = reader.rest()
        else { return nil }
        self.kind = kind
        self.sender = String(decoding: sender, as: UTF8.self)
        self.requestID = requestID
        self.body = body
    }

    init(kind: Kind, sender: String, requestID: UInt64 = 0, body: [UInt8]) {
        self.kind = kind
        self.sender = sender
        self.requestID = requestID
        self.body = body
    }
}
