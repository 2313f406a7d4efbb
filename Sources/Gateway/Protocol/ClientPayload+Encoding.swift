// The client's side of ``ClientPayload``: the JSON text frame a client sends, in the
// shape `ClientPayload.decode` accepts (the tests round-trip every case).

extension ClientPayload {
    /// The payload as a gateway text frame: `{"op":…,"d":…}`.
    public var frame: [UInt8] {
        var writer = JSONWriter(capacity: 160)
        writer.beginObject()
        writer.key("op")
        writer.integer(opcode.rawValue)
        writer.key("d")
        switch self {
        case .heartbeat(let sequence):
            if let sequence { writer.integer(sequence) } else { writer.null() }
        case .identify(let token, let readStateVersion):
            writer.beginObject()
            writer.key("token")
            writer.string(token)
            if let readStateVersion {
                writer.key("capabilities")
                writer.integer(GatewayCapabilities.versionedReadStates.rawValue)
                writer.key("client_state")
                writer.beginObject()
                writer.key("read_state_version")
                writer.integer(Int(readStateVersion))
                writer.endObject()
            }
            writer.endObject()
        case .resume(let token, let sessionID, let sequence):
            writer.beginObject()
            writer.key("token")
            writer.string(token)
            writer.key("session_id")
            writer.string(sessionID)
            writer.key("seq")
            writer.integer(sequence)
            writer.endObject()
        case .sendMessage(let channel, let content, let nonce):
            writer.beginObject()
            writer.key("channel_id")
            writer.snowflake(channel)
            writer.key("content")
            writer.string(content)
            if let nonce {
                writer.key("nonce")
                writer.string(nonce)
            }
            writer.endObject()
        case .ack(let channel, let message, let manual, let mentionCount):
            writer.beginObject()
            writer.key("channel_id")
            writer.snowflake(channel)
            writer.key("message_id")
            writer.snowflake(message)
            if manual {
                writer.key("manual")
                writer.bool(true)
                writer.key("mention_count")
                writer.integer(mentionCount)
            }
            writer.endObject()
        case .bulkAck(let items):
            writer.beginObject()
            writer.key("read_states")
            writer.beginArray()
            for item in items {
                writer.beginObject()
                writer.key("channel_id")
                writer.snowflake(item.channelId)
                writer.key("message_id")
                writer.snowflake(item.messageId)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// The opcode a client sends this payload with.
    public var opcode: GatewayOpcode {
        switch self {
        case .heartbeat: .heartbeat
        case .identify: .identify
        case .resume: .resume
        case .sendMessage: .sendMessage
        case .ack: .ack
        case .bulkAck: .bulkAck
        }
    }
}
