import Foundation
public import Snowflake
import ReadStatesModule

/// IDENTIFY's `capabilities` bits that this gateway acts on (Discord's numbering).
public struct GatewayCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The client sends `client_state.read_state_version`; READY may be partial.
    public static let versionedReadStates = GatewayCapabilities(rawValue: 1 << 2)
}

/// What a client may send, decoded and checked (IDs are Snowflakes, sizes bounded).
public enum ClientPayload: Sendable, Equatable {
    case heartbeat(lastSequence: Int?)
    /// `readStateVersion`: the client announced VERSIONED_READ_STATES and the highest
    /// read-state version it holds (`client_state.read_state_version`).
    case identify(token: String, readStateVersion: UInt64? = nil)
    case resume(token: String, sessionID: String, sequence: Int)
    case sendMessage(channelID: Snowflake, content: String, nonce: String?)
    case ack(channelID: Snowflake, messageID: Snowflake, manual: Bool, mentionCount: Int)
    case bulkAck([BulkAckItem])

    public struct BulkAckItem: Sendable, Equatable, Decodable {
        public var channelId: Snowflake
        public var messageId: Snowflake

        enum CodingKeys: String, CodingKey { case channelId = "channel_id", messageId = "message_id" }

        public init(channelId: Snowflake, messageId: Snowflake) {
            self.channelId = channelId
            self.messageId = messageId
        }
    }

    /// Largest text frame accepted (a message's content is at most 2,000 characters).
    public static let maximumFrameBytes = 16 * 1024
    public static let maximumContentCharacters = 2_000
    public static let maximumBulkAcks = 100

    public enum DecodeError: Error, Equatable {
        /// Not JSON, wrong types, bad IDs, too large: close 4002.
        case malformed(String)
        /// Well-formed, but an opcode a client may not send: close 4001.
        case unknownOpcode(Int)
    }

    /// One shared decoder: keys are spelled out in each shape (`CodingKeys`), which is
    /// cheaper than a key conversion strategy on every frame.
    private static let decoder = JSONDecoder()

    /// Decodes one complete text frame, in one pass over the JSON.
    public static func decode(_ frame: some Collection<UInt8>) throws(DecodeError) -> ClientPayload {
        guard frame.count <= maximumFrameBytes else { throw .malformed("frame over \(maximumFrameBytes) bytes") }
        if let common = frame.withContiguousStorageIfAvailable({ decodeCommon($0) }) ?? nil { return common }
        return try decodeFully(frame)
    }

    /// Every shape, every error, through Foundation's `JSONDecoder`.
    package static func decodeFully(_ frame: some Collection<UInt8>) throws(DecodeError) -> ClientPayload {
        do {
            return try decoder.decode(Wire.self, from: Data(frame)).payload
        } catch let error as DecodeError {
            throw error
        } catch let error as BodyError {
            if case DecodingError.dataCorrupted(let context) = error.underlying { throw .malformed(context.debugDescription) }
            throw .malformed("payload for op \(error.op) does not match its shape: \(Self.describe(error.underlying))")
        } catch {
            throw .malformed("a payload is a JSON object with an integer \"op\"")
        }
    }

    /// A `d` that does not fit its opcode's shape.
    private struct BodyError: Error {
        var op: Int
        var underlying: any Error
    }

    /// `{"op": …, "d": …}`: `op` first, then `d` in the shape that opcode has.
    private struct Wire: Decodable {
        var payload: ClientPayload

        enum CodingKeys: String, CodingKey { case op, d }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let opcode = try container.decode(Int.self, forKey: .op)
            guard let known = GatewayOpcode(rawValue: opcode) else { throw DecodeError.unknownOpcode(opcode) }
            do {
                payload = try Self.body(of: known, opcode, in: container)
            } catch let error as DecodeError {
                throw error
            } catch {
                throw BodyError(op: opcode, underlying: error)
            }
        }

        private static func body(of op: GatewayOpcode, _ opcode: Int, in container: KeyedDecodingContainer<CodingKeys>) throws -> ClientPayload {
            func required<Body: Decodable>(_ type: Body.Type) throws -> Body {
                guard let body = try container.decodeIfPresent(Body.self, forKey: .d) else {
                    throw DecodeError.malformed("missing \"d\"")
                }
                return body
            }
            switch op {
            case .heartbeat:
                return .heartbeat(lastSequence: try container.decodeIfPresent(Int.self, forKey: .d))
            case .identify:
                let body = try required(Identify.self)
                return .identify(token: body.token, readStateVersion: try body.readStateVersion())
            case .resume:
                let body = try required(Resume.self)
                return .resume(token: body.token, sessionID: body.sessionId, sequence: body.seq)
            case .sendMessage:
                let body = try required(SendMessage.self)
                guard !body.content.isEmpty, body.content.count <= maximumContentCharacters else {
                    throw DecodeError.malformed("content must be 1 to \(maximumContentCharacters) characters")
                }
                return .sendMessage(channelID: body.channelId, content: body.content, nonce: body.nonce)
            case .ack:
                let body = try required(Ack.self)
                let count = body.mentionCount ?? 0
                guard (0...Int(ReadState.maximumMentionCount)).contains(count) else {
                    throw DecodeError.malformed("mention_count must be 0 to \(ReadState.maximumMentionCount)")
                }
                return .ack(channelID: body.channelId, messageID: body.messageId, manual: body.manual ?? false, mentionCount: count)
            case .bulkAck:
                let body = try required(BulkAck.self)
                guard body.readStates.count <= maximumBulkAcks else {
                    throw DecodeError.malformed("at most \(maximumBulkAcks) read states per BULK_ACK")
                }
                return .bulkAck(body.readStates)
            case .dispatch, .reconnect, .invalidSession, .hello, .heartbeatAck:
                throw DecodeError.unknownOpcode(opcode)
            }
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "\(error)"
        }
    }

    private struct Identify: Decodable {
        var token: String
        var capabilities: Int?
        var clientState: ClientState?
        enum CodingKeys: String, CodingKey { case token, capabilities, clientState = "client_state" }

        /// Discord's clients send other `client_state` fields too: ignored.
        struct ClientState: Decodable {
            var readStateVersion: Int64?
            enum CodingKeys: String, CodingKey { case readStateVersion = "read_state_version" }
        }

        /// The version, when the client announced the capability and sent one. A
        /// negative version (Discord's clients send -1 for "none") asks for everything.
        func readStateVersion() throws(DecodeError) -> UInt64? {
            let capabilities = GatewayCapabilities(rawValue: capabilities ?? 0)
            guard capabilities.contains(.versionedReadStates), let version = clientState?.readStateVersion, version >= 0 else {
                return nil
            }
            guard version < Int64(1) << 53 else { throw .malformed("read_state_version must be below 2^53") }
            return UInt64(version)
        }
    }
    private struct Resume: Decodable {
        var token: String
        var sessionId: String
        var seq: Int
        enum CodingKeys: String, CodingKey { case token, sessionId = "session_id", seq }
    }
    private struct SendMessage: Decodable {
        var channelId: Snowflake
        var content: String
        var nonce: String?
        enum CodingKeys: String, CodingKey { case channelId = "channel_id", content, nonce }
    }
    private struct Ack: Decodable {
        var channelId: Snowflake
        var messageId: Snowflake
        var manual: Bool?
        var mentionCount: Int?
        enum CodingKeys: String, CodingKey {
            case channelId = "channel_id", messageId = "message_id", manual, mentionCount = "mention_count"
        }
    }
    private struct BulkAck: Decodable {
        var readStates: [BulkAckItem]
        enum CodingKeys: String, CodingKey { case readStates = "read_states" }
    }
}
