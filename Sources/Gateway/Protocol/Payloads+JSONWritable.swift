import Snowflake

// The hand-written JSON of the dispatch payloads: the same keys and values as their
// `Encodable` conformance (nil optionals left out), checked against it in the tests.

extension ReadStateList: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("version")
        writer.integer(Int(version))
        writer.key("partial")
        writer.bool(partial)
        writer.key("entries")
        writer.beginArray()
        for entry in entries {
            // 47 bytes of text, up to 20 digits for each ID and for the count: 107.
            writer.fragment(upTo: 107) { fragment in
                fragment.text(#"{"id":""#)
                fragment.digits(entry.id.rawValue)
                fragment.text(#"","last_message_id":""#)
                fragment.digits(entry.lastMessageId.rawValue)
                fragment.text(#"","mention_count":"#)
                fragment.digits(UInt64(max(0, entry.mentionCount)))
                fragment.text("}")
            }
        }
        writer.endArray()
        writer.endObject()
    }
}

extension ReadyPayload: JSONWritable {
    /// A channel or a read state takes 60-90 bytes.
    public var estimatedJSONBytes: Int { 256 + channels.count * 96 + readState.entries.count * 96 }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("v")
        writer.integer(v)
        writer.key("session_id")
        writer.string(sessionId)
        writer.key("resume_gateway_url")
        writer.string(resumeGatewayUrl)
        writer.key("user")
        writer.idObject(user.id)
        writer.key("channels")
        writer.beginArray()
        for channel in channels {
            // 16 bytes of text and up to 20 digits.
            writer.fragment(upTo: 36, endsWithKey: true) { fragment in
                fragment.text(#"{"id":""#)
                fragment.digits(channel.id.rawValue)
                fragment.text(#"","name":"#)
            }
            writer.string(channel.name)
            if let last = channel.lastMessageId {
                writer.fragment(upTo: 40) { fragment in
                    fragment.text(#""last_message_id":""#)
                    fragment.digits(last.rawValue)
                    fragment.text("\"")
                }
            }
            writer.endObject()
        }
        writer.endArray()
        writer.key("read_state")
        readState.write(to: &writer)
        writer.endObject()
    }
}

extension MessageAck: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("channel_id")
        writer.snowflake(channelId)
        writer.key("message_id")
        writer.snowflake(messageId)
        writer.key("mention_count")
        writer.integer(mentionCount)
        writer.key("version")
        writer.integer(Int(version))
        writer.key("manual")
        writer.bool(manual)
        writer.key("changed")
        writer.bool(changed)
        writer.endObject()
    }
}

extension MessageCreate: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.snowflake(id)
        writer.key("channel_id")
        writer.snowflake(channelId)
        writer.key("author")
        writer.idObject(author.id)
        writer.key("content")
        writer.string(content)
        writer.key("mentions")
        writer.beginArray()
        for mention in mentions { writer.idObject(mention.id) }
        writer.endArray()
        writer.key("mention_everyone")
        writer.bool(mentionEveryone)
        if let nonce {
            writer.key("nonce")
            writer.string(nonce)
        }
        writer.endObject()
    }
}

extension RequestError: JSONWritable {
    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("op")
        writer.integer(op)
        writer.key("code")
        writer.integer(code)
        writer.key("message")
        writer.string(message)
        if let nonce {
            writer.key("nonce")
            writer.string(nonce)
        }
        writer.endObject()
    }
}
