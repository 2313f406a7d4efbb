import Foundation
public import Snowflake

/// What a client may send, decoded and checked (IDs are Snowflakes, sizes bounded).
public enum ClientPayload: Sendable, Equatable {
    case heartbeat(lastSequence: Int?)
    case identify(token: String)
    case resume(token: String, sessionID: String, sequence: Int)
    case sendMessage(channelID: Snowflake, content: String, nonce: String?)
    case ack(channelID: Snowflake, messageID: Snowflake, manual: Bool, mentionCount: Int)
    case bulkAck([BulkAckItem])

    public struct BulkAckItem: Sendable, Equatable, Decodable {
        public var channelId: Snowflake
        public var messageId: Snowflake

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

    /// Decodes one complete text frame.
    public static func decode(_ frame: some Collection<UInt8>) throws(DecodeError) -> ClientPayload {
        guard frame.count <= maximumFrameBytes else { throw .malformed("frame over \(maximumFrameBytes) bytes") }
        let data = Data(frame)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let opcode: Int
        do {
            opcode = try decoder.decode(OpcodeOnly.self, from: data).op
        } catch {
            throw .malformed("a payload is a JSON object with an integer \"op\"")
        }
        do {
            switch GatewayOpcode(rawValue: opcode) {
            case .heartbeat:
                return .heartbeat(lastSequence: try decoder.decode(Envelope<Int?>.self, from: data).d ?? nil)
            case .identify:
                let body = try decoder.decode(Envelope<Identify>.self, from: data).required()
                return .identify(token: body.token)
            case .resume:
                let body = try decoder.decode(Envelope<Resume>.self, from: data).required()
                return .resume(token: body.token, sessionID: body.sessionId, sequence: body.seq)
            case .sendMessage:
                let body = try decoder.decode(Envelope<SendMessage>.self, from: data).required()
                guard !body.content.isEmpty, body.content.count <= maximumContentCharacters else {
                    throw DecodeError.malformed("content must be 1 to \(maximumContentCharacters) characters")
                }
                return .sendMessage(channelID: body.channelId, content: body.content, nonce: body.nonce)
            case .ack:
                let body = try decoder.decode(Envelope<Ack>.self, from: data).required()
                let count = body.mentionCount ?? 0
                guard (0...65_535).contains(count) else { throw DecodeError.malformed("mention_count must be 0 to 65535") }
                return .ack(channelID: body.channelId, messageID: body.messageId, manual: body.manual ?? false, mentionCount: count)
            case .bulkAck:
                let body = try decoder.decode(Envelope<BulkAck>.self, from: data).required()
                guard body.readStates.count <= maximumBulkAcks else {
                    throw DecodeError.malformed("at most \(maximumBulkAcks) read states per BULK_ACK")
                }
                return .bulkAck(body.readStates)
            default:
                throw DecodeError.unknownOpcode(opcode)
            }
        } catch let error as DecodeError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed(context.debugDescription)
        } catch {
            throw .malformed("payload for op \(opcode) does not match its shape: \(Self.describe(error))")
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

    private struct OpcodeOnly: Decodable { var op: Int }

    private struct Envelope<Body: Decodable>: Decodable {
        var d: Body?
        func required() throws -> Body {
            guard let d else { throw DecodeError.malformed("missing \"d\"") }
            return d
        }
    }

    private struct Identify: Decodable { var token: String }
    private struct Resume: Decodable {
        var token: String
        var sessionId: String
        var seq: Int
    }
    private struct SendMessage: Decodable {
        var channelId: Snowflake
        var content: String
        var nonce: String?
    }
    private struct Ack: Decodable {
        var channelId: Snowflake
        var messageId: Snowflake
        var manual: Bool?
        var mentionCount: Int?
    }
    private struct BulkAck: Decodable { var readStates: [BulkAckItem] }
}
